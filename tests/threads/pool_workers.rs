//! A dropped pool joins its workers.
//!
//! The process's thread count (`Threads:` in `/proc/self/status`) rises by the number
//! of workers when a pool is created, stays up while any clone is alive, and is back at
//! its baseline once the last handle is dropped: right away when dropped from outside
//! (the drop joins the workers), and soon after the task when dropped from inside one
//! of the pool's own tasks. The test holds `support::alone()` so that no other
//! test's threads disturb the count.

#![cfg(target_os = "linux")]

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{alone, thread_count};
use transparent_future::{Lazy, ThreadPool};

/// Waits (bounded, briefly) for the thread count to reach `n`. A joined thread may
/// still be counted for an instant after `join` returns, while the kernel reaps it.
#[track_caller]
fn settles_at(n: usize, within: Duration, what: &str) {
    let until = Instant::now() + within;
    loop {
        let now = thread_count();
        if now == n {
            return;
        }
        assert!(
            Instant::now() < until,
            "{what}: {now} threads, expected {n}"
        );
        thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn pool_threads_come_and_go_with_the_pool() {
    let _serial = alone();
    let baseline = thread_count();

    // Created: one thread per worker.
    let pool = ThreadPool::new(4);
    settles_at(
        baseline + 4,
        Duration::from_secs(5),
        "after ThreadPool::new(4)",
    );

    // Work, then drop from outside: back to the baseline at once.
    let done = Arc::new(AtomicUsize::new(0));
    let futures: Vec<Lazy<usize>> = (0..40)
        .map(|i| {
            let done = Arc::clone(&done);
            pool.spawn_lazy(move || {
                thread::sleep(Duration::from_millis(2));
                done.fetch_add(1, SeqCst);
                i
            })
        })
        .collect();
    let clone = pool.clone();
    drop(pool);
    // A clone keeps the workers.
    thread::sleep(Duration::from_millis(50));
    assert_eq!(
        thread_count(),
        baseline + 4,
        "workers gone while a clone is alive"
    );
    assert_eq!(*clone.spawn_lazy(|| 5), 5);
    drop(clone);
    assert_eq!(done.load(SeqCst), 40);
    settles_at(
        baseline,
        Duration::from_millis(500),
        "after dropping the last handle",
    );
    assert_eq!(
        futures.iter().map(|x| **x).sum::<usize>(),
        (0..40).sum::<usize>()
    );

    // Dropped from inside its own task: the workers, the dropping one included, end.
    let pool = ThreadPool::new(3);
    settles_at(
        baseline + 3,
        Duration::from_secs(5),
        "after ThreadPool::new(3)",
    );
    let last = pool.clone();
    let (go_tx, go) = mpsc::channel::<()>();
    let x = pool.spawn_lazy(move || {
        go.recv().unwrap();
        drop(last);
        1
    });
    drop(pool);
    go_tx.send(()).unwrap();
    assert_eq!(Lazy::wait_timeout(&x, Duration::from_secs(10)), Ok(&1));
    settles_at(
        baseline,
        Duration::from_secs(5),
        "after a drop from inside a task",
    );

    // Many pools created and dropped: no thread is left behind.
    for _ in 0..20 {
        let pool = ThreadPool::new(2);
        let v: Vec<Lazy<u8>> = (0..10).map(|i| pool.spawn_lazy(move || i)).collect();
        drop(pool);
        assert!(v.iter().all(Lazy::is_done));
    }
    settles_at(baseline, Duration::from_secs(2), "after 20 pools");
}
