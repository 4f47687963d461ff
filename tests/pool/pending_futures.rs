//! 100,000 pending futures on a pool.
//!
//! 100,000 tasks are queued on a small pool while the workers are held at a gate: nothing completes before the gate opens; then every
//! value is correct and every closure ran exactly once. Must finish in a few seconds.
//! (The heap cost per pending future is measured elsewhere, with a counting allocator.)

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::Gate;
use transparent_future::{Lazy, ThreadPool};

const N: u64 = 100_000;

#[test]
fn a_hundred_thousand_pending_futures_on_a_pool() {
    let t0 = Instant::now();
    let pool = ThreadPool::new(4);
    let gate = Gate::new();
    let runs = Arc::new(AtomicUsize::new(0));
    let futures: Vec<Lazy<u64>> = (0..N)
        .map(|i| {
            let gate = gate.clone();
            let runs = Arc::clone(&runs);
            pool.spawn_lazy(move || {
                gate.wait();
                runs.fetch_add(1, SeqCst);
                i * 3 + 1
            })
        })
        .collect();
    let spawned = t0.elapsed();

    // All pending: the workers wait at the gate, everything else is queued.
    thread::sleep(Duration::from_millis(20));
    assert_eq!(runs.load(SeqCst), 0);
    assert!(!Lazy::is_done(&futures[0]));
    assert!(!Lazy::is_done(&futures[N as usize - 1]));
    let debug = format!("{pool:?}");
    let queued: usize = debug
        .split("queued: ")
        .nth(1)
        .and_then(|rest| {
            rest.trim_end_matches(|c: char| !c.is_ascii_digit())
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no queue length in {debug}"));
    assert!(queued >= N as usize - 4, "{debug}");

    gate.open();
    let sum: u64 = futures.iter().map(|x| **x).sum();
    assert_eq!(sum, 3 * (N * (N - 1) / 2) + N);
    for (i, x) in futures.iter().enumerate().step_by(997) {
        assert_eq!(**x, i as u64 * 3 + 1);
    }
    drop(futures);
    drop(pool);
    assert_eq!(
        runs.load(SeqCst),
        N as usize,
        "a closure ran twice or not at all"
    );
    let total = t0.elapsed();
    assert!(
        spawned < Duration::from_secs(5),
        "spawning took {spawned:?}"
    );
    assert!(
        total < Duration::from_secs(15),
        "the whole test took {total:?}"
    );
}
