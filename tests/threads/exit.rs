//! No thread outlives its task.
//!
//! The thread count of the process (`Threads:` in `/proc/self/status`) goes back to
//! its baseline once 50 futures have finished and been dropped, including futures that
//! timed out and were dropped while their task was still running. The test holds
//! `support::alone()` so that no other test's threads disturb the count.

#![cfg(target_os = "linux")]

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{alone, thread_count};
use transparent_future::{Deadline, Lazy, Outcome, spawn_lazy, spawn_lazy_with};

/// Waits (bounded) for the thread count to come back to `baseline`.
fn back_to(baseline: usize, what: &str) {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let now = thread_count();
        if now <= baseline {
            return;
        }
        assert!(
            Instant::now() < until,
            "{what}: {now} threads remain, baseline was {baseline}"
        );
        thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn no_thread_outlives_its_task() {
    let _serial = alone();
    let baseline = thread_count();

    // 50 futures whose tasks are all alive at once.
    const N: usize = 50;
    let all_running = Arc::new(Barrier::new(N + 1));
    let futures: Vec<Lazy<usize>> = (0..N)
        .map(|i| {
            let all_running = Arc::clone(&all_running);
            spawn_lazy(move || {
                all_running.wait();
                thread::sleep(Duration::from_millis(20));
                i
            })
        })
        .collect();
    all_running.wait();
    let during = thread_count();
    assert!(
        during >= baseline + N,
        "only {during} threads while {N} tasks run (baseline {baseline})"
    );
    let sum: usize = futures.iter().map(|f| **f).sum();
    assert_eq!(sum, N * (N - 1) / 2);
    drop(futures);
    back_to(baseline, "after 50 finished futures were dropped");

    // Timed-out futures dropped while their tasks still run: the tasks finish, and
    // their threads go too.
    let late: Vec<Lazy<Outcome<u32>>> = (0..10)
        .map(|i| {
            spawn_lazy_with(Deadline::after(Duration::from_millis(20)), move || {
                thread::sleep(Duration::from_millis(200));
                i
            })
        })
        .collect();
    assert!(late.iter().all(|x| **x == Outcome::Timeout));
    assert!(thread_count() > baseline, "the late tasks were not running");
    drop(late);
    back_to(baseline, "after timed-out futures were dropped");

    // Futures that were never read.
    let unread: Vec<Lazy<Vec<u8>>> = (0..20).map(|i| spawn_lazy(move || vec![i])).collect();
    drop(unread);
    back_to(baseline, "after unread futures were dropped");
}
