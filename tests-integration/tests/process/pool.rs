//! The pool: recovery after a kill and a crash, unread futures, recycling, 64 threads.

use std::time::Duration;

use transparent_future::process::ProcessPool;
use transparent_future::{Deadline, Lazy, Outcome, WaitError};

use crate::support::{gone_within, read_pid, record_pid_and_spin, temp_path, watchdog};

const LIMIT: Duration = Duration::from_secs(30);

fn pid(_: ()) -> u32 {
    std::process::id()
}

fn crash(_: ()) -> u32 {
    std::process::abort()
}

#[test]
fn a_killed_or_crashed_worker_is_replaced_and_only_its_future_fails() {
    watchdog(LIMIT, || {
        let pool = ProcessPool::new(2);
        let before = *pool.spawn_lazy((), pid);
        let path = temp_path("pool-timeout");
        let hung = pool.spawn_lazy_with(
            Deadline::after(Duration::from_millis(300)),
            path.clone(),
            record_pid_and_spin,
        );
        let other = pool.spawn_lazy(5u32, |n: u32| n * 2);
        let victim = read_pid(&path);
        assert_eq!(*hung, Outcome::Timeout);
        assert_eq!(*other, 10, "the other worker was unaffected");
        assert!(gone_within(victim, Duration::from_secs(3)));

        let crashed = pool.spawn_lazy((), crash);
        assert!(
            matches!(Lazy::try_wait(&crashed), Err(WaitError::ProcessDied(d)) if d.signal() == Some(6))
        );
        // The pool works on, with new workers where old ones died.
        let after: Vec<u32> = (0..8)
            .map(|_| pool.spawn_lazy((), pid))
            .map(|x| *x)
            .collect();
        assert!(after.iter().all(|p| *p != victim));
        assert!(after.iter().all(|p| *p != std::process::id()));
        let _ = before;
        let _ = std::fs::remove_file(path);
    });
}

fn slow_square(n: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(20));
    n * n
}

#[test]
fn unread_futures_never_block_a_worker() {
    watchdog(LIMIT, || {
        let pool = ProcessPool::new(1);
        let unread: Vec<_> = (0..10u64)
            .map(|n| pool.spawn_lazy(n, slow_square))
            .collect();
        let last = pool.spawn_lazy(11u64, slow_square);
        assert_eq!(*last, 121);
        assert!(unread.iter().all(Lazy::is_done), "taken as they arrived");
    });
}

#[test]
fn recycling_replaces_workers_after_n_tasks() {
    watchdog(LIMIT, || {
        let pool = ProcessPool::new(1).recycle_after(2);
        let pids: Vec<u32> = (0..6).map(|_| *pool.spawn_lazy((), pid)).collect();
        assert_eq!(pids[0], pids[1]);
        assert_ne!(pids[1], pids[2]);
        assert_eq!(pids[2], pids[3]);
        assert_ne!(pids[3], pids[4]);
    });
}

#[test]
fn sixty_four_threads_spawn_sixteen_tasks_each() {
    watchdog(LIMIT, || {
        let pool = std::sync::Arc::new(ProcessPool::new(4));
        let threads: Vec<_> = (0..64u64)
            .map(|t| {
                let pool = std::sync::Arc::clone(&pool);
                std::thread::spawn(move || {
                    let futures: Vec<_> = (0..16u64)
                        .map(|i| pool.spawn_lazy(t * 100 + i, |n: u64| n * 3))
                        .collect();
                    futures
                        .into_iter()
                        .enumerate()
                        .all(|(i, x)| *x == (t * 100 + i as u64) * 3)
                })
            })
            .collect();
        assert!(threads.into_iter().all(|t| t.join().unwrap()));
    });
}
