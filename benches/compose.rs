//! Benchmarks of composition against the same work written without it: `Lazy::map` and
//! `Lazy::all` against std threads and channels, and `.await` against
//! `tokio::task::spawn_blocking`.
//!
//! `cargo bench -p transparent-future-benches --bench compose`; one group:
//! `... --bench compose -- '^map_two_stages/'`.

use std::hint::black_box;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use transparent_future::{Lazy, ThreadPool, spawn_lazy};

/// A two-stage job: compute, then transform. `Lazy::map` runs the second stage on the
/// thread that finished the first; the std version hands the value to a second thread
/// through a channel, as a pipeline of threads would.
fn map(c: &mut Criterion) {
    let pool = ThreadPool::new(2);
    let mut g = c.benchmark_group("map_two_stages");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));

    g.bench_function("lazy_map_thread_per_task", |b| {
        b.iter(|| *Lazy::map(spawn_lazy(|| black_box(20u64)), |v| v + 1))
    });
    g.bench_function("lazy_map_pool", |b| {
        b.iter(|| *Lazy::map(pool.spawn_lazy(|| black_box(20u64)), |v| v + 1))
    });
    g.bench_function("std_threads_channels", |b| {
        b.iter(|| {
            let (tx1, rx1) = mpsc::channel();
            let (tx2, rx2) = mpsc::channel();
            thread::spawn(move || tx1.send(black_box(20u64)).unwrap());
            thread::spawn(move || tx2.send(rx1.recv().unwrap() + 1).unwrap());
            rx2.recv().unwrap()
        })
    });
    g.finish();
}

const PARTS: u64 = 16;

/// Sixteen tasks gathered in order: `Lazy::all` against sixteen std threads sending
/// `(index, value)` over one channel to a collector that puts them in order.
fn all(c: &mut Criterion) {
    let pool = ThreadPool::new(2);
    let mut g = c.benchmark_group("all_16");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));

    g.bench_function("lazy_all_thread_per_task", |b| {
        b.iter(|| {
            let all = Lazy::all((0..PARTS).map(|i| spawn_lazy(move || black_box(i))));
            all.iter().sum::<u64>()
        })
    });
    g.bench_function("lazy_all_pool", |b| {
        b.iter(|| {
            let all = Lazy::all((0..PARTS).map(|i| pool.spawn_lazy(move || black_box(i))));
            all.iter().sum::<u64>()
        })
    });
    g.bench_function("std_threads_channel", |b| {
        b.iter(|| {
            let (tx, rx) = mpsc::channel();
            for i in 0..PARTS {
                let tx = tx.clone();
                thread::spawn(move || tx.send((i, black_box(i))).unwrap());
            }
            drop(tx);
            let mut parts: Vec<(u64, u64)> = rx.iter().collect();
            parts.sort_unstable();
            parts.iter().map(|(_, v)| v).sum::<u64>()
        })
    });
    g.finish();
}

/// Awaiting a value computed on a pool from async code: `.await` on a pool future
/// (driven by `pollster::block_on`) against `tokio::task::spawn_blocking` on a tokio
/// runtime (driven by its own `block_on`). Both run the closure on another thread of a
/// pool and wake the awaiting task when it is done.
fn await_value(c: &mut Criterion) {
    let pool = ThreadPool::new(2);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(2)
        .build()
        .unwrap();
    let mut g = c.benchmark_group("await_pool_value");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));

    g.bench_function("lazy_pool_await", |b| {
        b.iter(|| pollster::block_on(async { pool.spawn_lazy(|| black_box(1u64)).await }))
    });
    g.bench_function("tokio_spawn_blocking_await", |b| {
        b.iter(|| {
            runtime.block_on(async {
                tokio::task::spawn_blocking(|| black_box(1u64))
                    .await
                    .unwrap()
            })
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = transparent_future_benches::config();
    targets = map, all, await_value
}
criterion_main!(benches);
