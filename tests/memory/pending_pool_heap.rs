//! 100,000 pending futures on a pool (tasks waiting on a
//! gate) take under 25 MB of heap in total, measured with a counting allocator.
//!
//! It holds `support::serial()`, so that no other test of this binary allocates while
//! it measures (the live count is the whole process's).

use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex};

use crate::LIVE;
use crate::support::serial;
use transparent_future::{Lazy, ThreadPool};

const FUTURES: usize = 100_000;
const LIMIT: isize = 25 * 1024 * 1024;

#[test]
fn one_hundred_thousand_pending_pool_futures_fit_in_25_mb() {
    let _serial = serial();
    let pool = ThreadPool::new(2);
    let gate = Arc::new((Mutex::new(false), Condvar::new()));
    let before = LIVE.load(Ordering::Relaxed);

    let futures: Vec<Lazy<u64>> = (0..FUTURES as u64)
        .map(|i| {
            let gate = Arc::clone(&gate);
            pool.spawn_lazy(move || {
                let (open, cond) = &*gate;
                let mut open = open.lock().unwrap();
                while !*open {
                    open = cond.wait(open).unwrap();
                }
                i
            })
        })
        .collect();
    let pending = LIVE.load(Ordering::Relaxed) - before;
    assert!(
        futures.iter().filter(|f| Lazy::is_done(f)).count() == 0,
        "no future may finish before the gate opens"
    );

    let (open, cond) = &*gate;
    *open.lock().unwrap() = true;
    cond.notify_all();
    let sum: u64 = futures.iter().map(|f| **f).sum();
    assert_eq!(sum, (0..FUTURES as u64).sum::<u64>());

    println!(
        "{FUTURES} pending pool futures: {:.1} MB of heap ({} bytes each, handles and queue included)",
        pending as f64 / 1e6,
        pending / FUTURES as isize
    );
    assert!(
        pending < LIMIT,
        "{FUTURES} pending futures took {pending} bytes of heap, over {LIMIT}"
    );
    drop(futures);
    drop(pool);
}
