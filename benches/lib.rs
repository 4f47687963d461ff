//! Side-by-side benchmarks of `transparent-future` against its peers, and what the bench
//! files share: criterion's settings, the pools' size, the peers' pools, and the one bulk
//! measurement that two files report.

use std::hint::black_box;

use criterion::Criterion;
use transparent_future::{Lazy, ThreadPool};

/// Criterion as every bench file runs it: no plots, since drawing them takes longer than
/// the measurements on a small machine.
pub fn config() -> Criterion {
    Criterion::default().without_plots()
}

/// Every pool gets two threads, the number of cores of the machine the goals were set on.
pub const THREADS: usize = 2;

/// How many trivial tasks the bulk comparisons spawn.
pub const TASKS: u64 = 100_000;

/// A rayon pool of [`THREADS`] threads.
pub fn rayon_pool() -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(THREADS)
        .build()
        .unwrap()
}

/// [`TASKS`] trivial tasks spawned on `pool`, then every result read: the sum.
pub fn spawn_all_then_read(pool: &ThreadPool) -> u64 {
    let futures: Vec<Lazy<u64>> = (0..TASKS)
        .map(|i| pool.spawn_lazy(move || black_box(i)))
        .collect();
    futures.iter().map(|x| **x).sum()
}
