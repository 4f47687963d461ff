//! Blocking on first access and caching.
//!
//! `spawn_lazy` returns at once and runs the closure on another thread; the first
//! access blocks until the task has returned, later accesses return the cached value;
//! many threads may read one `&Lazy<T>` at once: all block, all see the same value, and
//! the closure runs exactly once.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::ms;
use transparent_future::{Lazy, spawn_lazy};

#[test]
fn spawn_returns_at_once_and_first_access_blocks_until_the_task_returns() {
    let t0 = Instant::now();
    let x = spawn_lazy(|| {
        thread::sleep(ms(250));
        7
    });
    assert!(
        t0.elapsed() < ms(150),
        "spawn_lazy took {:?}: it must not wait for the task",
        t0.elapsed()
    );
    assert_eq!(*x, 7);
    // The task started after t0 and slept at least 250 ms before returning.
    assert!(
        t0.elapsed() >= ms(250),
        "the first access returned after {:?}, before the task could have returned",
        t0.elapsed()
    );
}

#[test]
fn the_task_starts_without_anybody_reading_the_future() {
    let (started, task_started) = mpsc::channel();
    let x = spawn_lazy(move || {
        started.send(()).unwrap();
        1
    });
    // Nobody has touched `x`; the task must run anyway.
    task_started
        .recv_timeout(Duration::from_secs(5))
        .expect("the task did not start before its future was read");
    assert_eq!(*x, 1);
}

#[test]
fn the_closure_runs_on_another_thread() {
    let x = spawn_lazy(|| thread::current().id());
    assert_ne!(*x, thread::current().id());
}

#[test]
fn a_reader_stays_blocked_until_the_task_returns() {
    let (go, wait_for_go) = mpsc::channel::<()>();
    let x = spawn_lazy(move || {
        wait_for_go.recv().unwrap();
        42_u64
    });
    let returned = AtomicUsize::new(0);
    thread::scope(|s| {
        let reader = s.spawn(|| {
            let v = *x;
            returned.fetch_add(1, SeqCst);
            v
        });
        thread::sleep(ms(200));
        let early = returned.load(SeqCst);
        go.send(()).unwrap(); // release the task before asserting, so a failure cannot hang
        assert_eq!(
            early, 0,
            "the reader returned while the task was still blocked"
        );
        assert_eq!(reader.join().unwrap(), 42);
    });
}

#[test]
fn later_accesses_return_the_same_cached_value() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&calls);
    let x = spawn_lazy(move || {
        c.fetch_add(1, SeqCst);
        thread::sleep(ms(50));
        vec![1, 2, 3]
    });
    let first: *const Vec<i32> = &*x;
    for _ in 0..1000 {
        assert!(
            std::ptr::eq(first, &*x),
            "a later access returned another place"
        );
        assert_eq!(*x, [1, 2, 3]);
    }
    assert_eq!(calls.load(SeqCst), 1);
}

#[test]
fn later_accesses_see_the_same_instance_not_a_recomputed_one() {
    let x = spawn_lazy(|| AtomicUsize::new(0));
    for _ in 0..10 {
        x.fetch_add(1, SeqCst);
    }
    assert_eq!(x.load(SeqCst), 10);
}

#[test]
fn later_accesses_do_not_wait() {
    let x = spawn_lazy(|| {
        thread::sleep(ms(100));
        5_u32
    });
    assert_eq!(*x, 5);
    let t0 = Instant::now();
    let mut sum = 0_u64;
    for _ in 0..100_000 {
        sum += u64::from(*x);
    }
    assert_eq!(sum, 500_000);
    assert!(
        t0.elapsed() < ms(500),
        "100 000 cached reads took {:?}",
        t0.elapsed()
    );
}

#[test]
fn many_threads_reading_one_future_all_block_and_see_the_same_value() {
    const READERS: usize = 8;
    let calls = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&calls);
    let (go, wait_for_go) = mpsc::channel::<()>();
    let x: Lazy<String> = spawn_lazy(move || {
        c.fetch_add(1, SeqCst);
        wait_for_go.recv().unwrap();
        String::from("shared")
    });
    let returned = AtomicUsize::new(0);
    let results: Vec<(usize, String)> = thread::scope(|s| {
        let readers: Vec<_> = (0..READERS)
            .map(|_| {
                s.spawn(|| {
                    let v: &String = &x;
                    returned.fetch_add(1, SeqCst);
                    (v as *const String as usize, v.clone())
                })
            })
            .collect();
        thread::sleep(ms(200));
        let early = returned.load(SeqCst);
        go.send(()).unwrap();
        assert_eq!(early, 0, "{early} readers returned before the task did");
        readers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    assert_eq!(results.len(), READERS);
    for (addr, value) in &results {
        assert_eq!(value, "shared");
        assert_eq!(*addr, results[0].0, "readers saw different places");
    }
    assert_eq!(calls.load(SeqCst), 1, "the closure ran more than once");
    assert_eq!(returned.load(SeqCst), READERS);
}

#[test]
fn many_threads_racing_on_a_short_task_run_it_once() {
    for _ in 0..20 {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = Arc::clone(&calls);
        let x = spawn_lazy(move || {
            c.fetch_add(1, SeqCst);
            thread::sleep(ms(5));
            99_i64
        });
        thread::scope(|s| {
            for _ in 0..6 {
                s.spawn(|| {
                    assert_eq!(*x, 99);
                    assert_eq!(&x + 0, 99);
                });
            }
        });
        assert_eq!(calls.load(SeqCst), 1);
    }
}

#[test]
fn two_slow_tasks_overlap() {
    let t0 = Instant::now();
    let x = spawn_lazy(|| {
        thread::sleep(ms(300));
        1
    });
    let y = spawn_lazy(|| {
        thread::sleep(ms(300));
        2
    });
    assert_eq!(format!("{y} {x}"), "2 1");
    let total = t0.elapsed();
    assert!(total >= ms(300));
    assert!(
        total < ms(550),
        "two 300 ms tasks took {total:?}: they did not run at once"
    );
}

#[test]
fn four_slow_tasks_overlap() {
    let t0 = Instant::now();
    let futures: Vec<Lazy<usize>> = (0..4)
        .map(|i| {
            spawn_lazy(move || {
                thread::sleep(ms(300));
                i
            })
        })
        .collect();
    let sum: usize = futures.iter().map(|f| **f).sum();
    assert_eq!(sum, 6);
    assert!(
        t0.elapsed() < ms(700),
        "four 300 ms tasks took {:?}",
        t0.elapsed()
    );
}
