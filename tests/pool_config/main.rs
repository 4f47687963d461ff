//! A `ThreadPool` configured as users of rayon's `ThreadPoolBuilder` and Python's
//! executors expect: worker names, a handler for panics nobody reads, and a shutdown
//! that does not block the caller, refusing later submissions clearly.

#[path = "../support/mod.rs"]
mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use transparent_future::executor::ThreadPoolBuilder;
use transparent_future::{Builder, Deadline, Lazy, Outcome, ThreadPool};

use support::{panic_text, secs, within};

/// Runs `f` on a worker (a bounded wait never runs the task on the reader's thread).
fn on_worker<T: Send + 'static>(pool: &ThreadPool, f: impl FnOnce() -> T + Send + 'static) -> T {
    let x = pool.spawn_lazy(f);
    assert!(Lazy::wait_timeout(&x, Duration::from_secs(10)).is_ok());
    Lazy::into_inner(x)
}

#[test]
fn workers_are_named_with_the_prefix() {
    within(secs(10), || {
        let pool = ThreadPool::builder()
            .workers(2)
            .name_prefix("indexer")
            .build()
            .unwrap();
        let gate = Arc::new(Barrier::new(2));
        // Two tasks that must run at once: one on each worker.
        let names: Vec<Lazy<String>> = (0..2)
            .map(|_| {
                let gate = gate.clone();
                pool.spawn_lazy(move || {
                    gate.wait();
                    std::thread::current().name().unwrap().to_owned()
                })
            })
            .collect();
        let mut names: Vec<String> = names
            .iter()
            .map(|n| {
                Lazy::wait_timeout(n, Duration::from_secs(10))
                    .unwrap()
                    .clone()
            })
            .collect();
        names.sort();
        assert_eq!(names, ["indexer-0", "indexer-1"]);
        let default = ThreadPool::new(1);
        assert_eq!(
            on_worker(&default, || std::thread::current().name().map(String::from)),
            Some("transparent-future-worker-0".into())
        );
    });
}

#[test]
fn bad_configurations_are_errors_not_panics() {
    let zero = ThreadPool::builder().workers(0).build().unwrap_err();
    assert_eq!(zero.kind(), std::io::ErrorKind::InvalidInput);
    let nul = ThreadPool::builder()
        .workers(1)
        .name_prefix("a\0b")
        .build()
        .unwrap_err();
    assert_eq!(nul.kind(), std::io::ErrorKind::InvalidInput);
    assert!(nul.to_string().contains("NUL"));
    let dbg = format!("{:?}", ThreadPoolBuilder::new().workers(3).name_prefix("x"));
    assert!(
        dbg.contains("workers: Some(3)") && dbg.contains("\"x\""),
        "{dbg}"
    );
}

#[test]
fn a_worker_stack_size_is_honoured() {
    within(secs(10), || {
        /// Recursion that keeps about 1 KiB per frame on the stack.
        fn depth(n: u32) -> u32 {
            let pad = std::hint::black_box([n as u8; 1024]);
            if n == 0 {
                u32::from(pad[0])
            } else {
                depth(n - 1) + 1 + u32::from(pad[1] == 0 && n == u32::MAX)
            }
        }
        let pool = ThreadPool::builder()
            .workers(1)
            .stack_size(32 << 20)
            .build()
            .unwrap();
        // About 10 MB of stack: more than the 2 MB default of spawned threads.
        assert_eq!(on_worker(&pool, || depth(10_000)), 10_000);
    });
}

#[test]
fn panics_nobody_reads_go_to_the_handler_once_and_read_ones_do_not() {
    within(secs(20), || {
        let seen = Arc::new(Mutex::new(Vec::<String>::new()));
        let log = seen.clone();
        let pool = ThreadPool::builder()
            .workers(2)
            .panic_handler(move |p| log.lock().unwrap().push(p.message().to_owned()))
            .build()
            .unwrap();
        // Dropped before it ran: unread.
        drop(pool.spawn_lazy(|| -> u8 { panic!("dropped unread") }));
        // Read by a checked wait: not reported.
        let read = pool.spawn_lazy(|| -> u8 { panic!("read") });
        assert!(Lazy::try_wait(&read).is_err());
        drop(read);
        // Panicked, then the handle dropped without looking: unread.
        let late_drop = pool.spawn_lazy(|| -> u8 { panic!("never looked at") });
        while !Lazy::is_done(&late_drop) {
            std::thread::sleep(Duration::from_millis(1));
        }
        drop(late_drop);
        // A continuation read the panic and carried it on: reported once, for the
        // continuation nobody read.
        drop(Lazy::map(
            pool.spawn_lazy(|| -> u8 { panic!("through a map") }),
            |v| v + 1,
        ));
        // A late panic after the deadline, never taken: unread.
        let timed = pool.spawn_lazy_with(Deadline::after(Duration::from_millis(5)), || -> u8 {
            std::thread::sleep(Duration::from_millis(50));
            panic!("late and unread")
        });
        assert_eq!(*timed, Outcome::Timeout);
        drop(timed);
        Lazy::wait(&pool.shutdown());
        let give_up = Instant::now() + Duration::from_secs(5);
        while seen.lock().unwrap().len() < 4 && Instant::now() < give_up {
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(50));
        let mut seen = seen.lock().unwrap().clone();
        seen.sort();
        assert_eq!(
            seen,
            [
                "dropped unread",
                "late and unread",
                "never looked at",
                "through a map"
            ]
        );
    });
}

#[test]
fn a_panicking_handler_does_not_harm_the_pool() {
    within(secs(10), || {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let pool = ThreadPool::builder()
            .workers(1)
            .panic_handler(move |_| {
                c.fetch_add(1, Ordering::SeqCst);
                panic!("the handler itself fails");
            })
            .build()
            .unwrap();
        for _ in 0..3 {
            drop(pool.spawn_lazy(|| -> u8 { panic!("unread") }));
        }
        assert_eq!(on_worker(&pool, || 5), 5, "the worker survived");
        Lazy::wait(&pool.shutdown());
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    });
}

#[test]
fn shutdown_returns_at_once_and_its_future_resolves_when_the_workers_are_gone() {
    within(secs(10), || {
        let pool = ThreadPool::new(2);
        let gate = Arc::new(Barrier::new(2));
        let g = gate.clone();
        let running = pool.spawn_lazy(move || {
            g.wait();
            std::thread::sleep(Duration::from_millis(100));
            "finished"
        });
        let queued: Vec<Lazy<u32>> = (0..20).map(|i| pool.spawn_lazy(move || i)).collect();
        gate.wait(); // the long task is running
        let t0 = Instant::now();
        let exited = pool.shutdown();
        assert!(
            t0.elapsed() < Duration::from_millis(50),
            "shutdown did not block"
        );
        assert!(pool.is_shut_down());
        assert!(!Lazy::is_done(&exited), "a worker is still busy");
        assert!(Lazy::wait_timeout(&exited, Duration::from_secs(10)).is_ok());
        assert!(
            t0.elapsed() >= Duration::from_millis(80),
            "it waited for the running task"
        );
        // Everything accepted before the shutdown ran.
        assert_eq!(*running, "finished");
        assert_eq!(queued.iter().map(|q| **q).sum::<u32>(), 190);
        // Again: harmless, and already resolved.
        assert!(Lazy::is_done(&pool.shutdown()));
        assert!(format!("{pool:?}").contains("shut_down: true"));
    });
}

#[test]
fn submissions_after_shutdown_are_refused_clearly() {
    within(secs(10), || {
        let pool = ThreadPool::new(1);
        drop(pool.shutdown());
        let err = Builder::new().on(&pool).spawn(|| 1).unwrap_err();
        assert!(
            err.to_string().contains("ThreadPool was shut down"),
            "{err}"
        );
        let panic = std::panic::catch_unwind(|| pool.spawn_lazy(|| 1)).unwrap_err();
        assert!(
            panic_text(panic.as_ref()).contains("shut down"),
            "{}",
            panic_text(panic.as_ref())
        );
        let clone = pool.clone();
        assert!(
            clone.is_shut_down(),
            "a shutdown stops the pool for every handle"
        );
    });
}

#[test]
fn follow_up_work_of_accepted_tasks_still_runs_after_shutdown() {
    within(secs(10), || {
        let pool = ThreadPool::new(1);
        let gate = Arc::new(Barrier::new(2));
        let g = gate.clone();
        let first = pool.spawn_lazy(move || {
            g.wait();
            std::thread::sleep(Duration::from_millis(30));
            20
        });
        let next = Lazy::map(first, |v| v + 1);
        let chained = Lazy::then(next, |v| Lazy::with_value(v * 2));
        gate.wait();
        let exited = pool.shutdown();
        assert_eq!(*chained, 42);
        assert!(Lazy::wait_timeout(&exited, Duration::from_secs(10)).is_ok());
    });
}

#[test]
fn the_last_handle_dropped_after_shutdown_still_joins_cleanly() {
    within(secs(10), || {
        let pool = ThreadPool::new(2);
        let x = pool.spawn_lazy(|| 1);
        let exited = pool.shutdown();
        drop(pool);
        assert_eq!(*x, 1);
        assert!(Lazy::wait_timeout(&exited, Duration::from_secs(10)).is_ok());
    });
}

#[test]
fn many_threads_submitting_while_the_pool_shuts_down_never_strand_a_task() {
    within(secs(30), || {
        for _ in 0..20 {
            let pool = ThreadPool::new(2);
            let submitters: Vec<_> = (0..4)
                .map(|_| {
                    let pool = pool.clone();
                    std::thread::spawn(move || {
                        let mut accepted = Vec::new();
                        for i in 0..200_u32 {
                            match Builder::new().on(&pool).spawn(move || i) {
                                Ok(x) => accepted.push(x),
                                Err(_) => break,
                            }
                        }
                        accepted
                    })
                })
                .collect();
            std::thread::sleep(Duration::from_micros(200));
            let exited = pool.shutdown();
            for s in submitters {
                for x in s.join().unwrap() {
                    // Every accepted task runs: a bounded wait, so a worker ran it.
                    assert!(Lazy::wait_timeout(&x, Duration::from_secs(10)).is_ok());
                }
            }
            assert!(Lazy::wait_timeout(&exited, Duration::from_secs(10)).is_ok());
        }
    });
}
