//! `ThreadPool`.
//!
//! `ThreadPool::new(n)`, `ThreadPool::default()`, `pool.spawn_lazy(f)`,
//! `pool.spawn_lazy_with(policy, f)` and the pool as an `Executor`; named workers; a
//! task's panic reaches its readers and never kills a worker; dropping the pool lets
//! queued and running tasks finish and joins the workers; `Send + Sync`, `Clone` shares
//! the workers; `ThreadPool::new(0)` panics clearly; a pool dropped from inside one of
//! its own tasks does not hang; and the core behaviours (timeouts, panics, operators,
//! drop-exactly-once) hold on the pool. The thread count after a drop is checked in
//! `tests/threads/pool_workers.rs`.
//!
//! To make sure a task runs on a worker and not on the reader's thread (work-helping),
//! these tests wait with `Lazy::wait_timeout`, which never runs the task itself.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier, mpsc};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use crate::support::{
    Counted as Tracked, Gate, expect_count, ms, on_worker, panic_text, secs, within,
};
use static_assertions::assert_impl_all;
use transparent_future::executor::Executor;
use transparent_future::{Builder, Deadline, Lazy, NoTimeout, Outcome, ThreadPool, WaitError};

assert_impl_all!(ThreadPool: Send, Sync, Clone, Default, std::fmt::Debug, Executor);

const PREFIX: &str = "transparent-future-worker-";

#[test]
fn new_default_and_workers() {
    let pool = ThreadPool::new(3);
    assert_eq!(pool.workers(), 3);
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(ThreadPool::default().workers(), cores);
    assert_eq!(ThreadPool::try_new(2).unwrap().workers(), 2);
    let debug = format!("{pool:?}");
    assert!(debug.contains("ThreadPool"), "{debug}");
    assert!(debug.contains('3'), "{debug}");
}

#[test]
fn zero_workers_is_an_error_and_new_panics_with_it() {
    let err = catch_unwind(|| ThreadPool::new(0)).unwrap_err();
    let msg = panic_text(err.as_ref());
    assert!(msg.contains("at least one worker"), "{msg}");
    let err = ThreadPool::try_new(0).expect_err("zero workers is refused, not a panic");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("at least one worker"), "{err}");
}

#[test]
fn spawn_forms_give_the_value() {
    let pool = ThreadPool::new(2);
    let a = pool.spawn_lazy(|| 20 + 1);
    let b = pool.spawn_lazy_with(Deadline::after(Duration::from_secs(30)), || "in time");
    let c = pool.spawn_lazy_with(NoTimeout, || vec![1, 2, 3]);
    let d = Builder::new()
        .on(&pool)
        .spawn(|| String::from("on"))
        .unwrap();
    let e = Builder::new()
        .on(&pool)
        .timeout(Deadline::after(Duration::from_secs(30)))
        .spawn(|| 5u8)
        .unwrap();
    let f = Builder::new().on(&pool).spawn(|| 6i64).unwrap();
    assert_eq!(a * 2, 42);
    assert_eq!(*b, Outcome::Ready("in time"));
    assert_eq!(c.as_ref().ready().map(Vec::len), Some(3));
    assert_eq!(d.to_uppercase(), "ON");
    assert_eq!(*e, Outcome::Ready(5));
    assert_eq!(*f, 6);
    assert!(pool.allows_helping());
}

#[test]
fn workers_are_named() {
    let n = 3;
    let pool = ThreadPool::new(n);
    // All workers at a barrier at once: each task is on a different worker.
    let barrier = Arc::new(Barrier::new(n));
    let names: Vec<Lazy<Option<String>>> = (0..n)
        .map(|_| {
            let b = Arc::clone(&barrier);
            pool.spawn_lazy(move || {
                b.wait();
                thread::current().name().map(String::from)
            })
        })
        .collect();
    let mut seen: Vec<String> = names
        .iter()
        .map(|x| on_worker(x).clone().expect("a worker without a name"))
        .collect();
    for name in &seen {
        assert!(name.starts_with(PREFIX), "worker named {name:?}");
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), n, "workers share a name: {seen:?}");

    // The other spawn forms run on named workers too.
    let w = pool.spawn_lazy_with(NoTimeout, || thread::current().name().map(String::from));
    let name = on_worker(&w).clone().ready().cloned().flatten().unwrap();
    assert!(name.starts_with(PREFIX), "{name}");
}

#[test]
fn a_panic_reaches_readers_and_the_worker_survives() {
    let pool = ThreadPool::new(1);
    let before = pool.spawn_lazy(|| thread::current().id());
    let worker: ThreadId = *on_worker(&before);

    let bad = pool.spawn_lazy(|| -> u32 { panic!("pool-boom-7") });
    let err = catch_unwind(AssertUnwindSafe(|| *on_worker(&bad))).unwrap_err();
    assert!(panic_text(err.as_ref()).contains("pool-boom-7"));
    // Every access panics, and `join` hands back the payload.
    let err = catch_unwind(AssertUnwindSafe(|| bad.to_string())).unwrap_err();
    assert!(panic_text(err.as_ref()).contains("pool-boom-7"));
    let bad2 = pool.spawn_lazy(|| -> u32 { panic!("pool-boom-8") });
    assert!(on_worker_panics(&bad2));
    let payload = Lazy::join(bad2).unwrap_err();
    assert_eq!(panic_text(payload.as_ref()), "pool-boom-8");

    // Ten more panics, and the same worker still runs later tasks.
    let bads: Vec<Lazy<u8>> = (0..10)
        .map(|i| pool.spawn_lazy(move || -> u8 { panic!("again {i}") }))
        .collect();
    for (i, b) in bads.iter().enumerate() {
        let err = catch_unwind(AssertUnwindSafe(|| *on_worker(b))).unwrap_err();
        assert!(panic_text(err.as_ref()).contains(&format!("again {i}")));
    }
    let after = pool.spawn_lazy(|| (thread::current().id(), 99));
    assert_eq!(*on_worker(&after), (worker, 99));
}

/// Waits for a future that is expected to panic; true once it has.
fn on_worker_panics<T>(x: &Lazy<T>) -> bool {
    catch_unwind(AssertUnwindSafe(|| {
        on_worker(x);
    }))
    .is_err()
}

#[test]
fn a_panicking_drop_of_an_unread_value_does_not_kill_the_worker() {
    struct Bomb;
    impl Drop for Bomb {
        fn drop(&mut self) {
            panic!("bomb in drop");
        }
    }
    let pool = ThreadPool::new(1);
    let worker = *on_worker(&pool.spawn_lazy(|| thread::current().id()));
    let gate = Gate::default();
    let g = gate.clone();
    let x = pool.spawn_lazy(move || {
        g.wait();
        Bomb
    });
    // Nobody holds the future when the task ends: its value is dropped on the worker.
    drop(x);
    gate.open();
    let after = pool.spawn_lazy(|| (thread::current().id(), 1));
    assert_eq!(*on_worker(&after), (worker, 1));
}

#[test]
fn clone_shares_the_workers() {
    let pool = ThreadPool::new(1);
    let clone = pool.clone();
    assert_eq!(clone.workers(), 1);
    let a = pool.spawn_lazy(|| thread::current().id());
    let b = clone.spawn_lazy(|| thread::current().id());
    assert_eq!(on_worker(&a), on_worker(&b));
    // A blocked worker blocks the clone's tasks too: they share one worker.
    let gate = Gate::default();
    let g = gate.clone();
    let (started_tx, started) = mpsc::channel();
    let blocker = pool.spawn_lazy(move || {
        started_tx.send(()).unwrap();
        g.wait();
    });
    started.recv_timeout(Duration::from_secs(10)).unwrap();
    let queued = clone.spawn_lazy(|| 3);
    assert_eq!(Lazy::wait_timeout(&queued, ms(50)), Err(WaitError::Timeout));
    gate.open();
    assert_eq!(*on_worker(&queued), 3);
    on_worker(&blocker);
    // A clone used from another thread.
    let c2 = pool.clone();
    let h = thread::spawn(move || *c2.spawn_lazy(|| 40) + 2);
    assert_eq!(h.join().unwrap(), 42);
}

#[test]
fn dropping_the_pool_lets_queued_and_running_tasks_finish() {
    for workers in [1, 2] {
        let pool = ThreadPool::new(workers);
        let done = Arc::new(AtomicUsize::new(0));
        let futures: Vec<Lazy<usize>> = (0..20)
            .map(|i| {
                let done = Arc::clone(&done);
                pool.spawn_lazy(move || {
                    thread::sleep(ms(5));
                    done.fetch_add(1, SeqCst);
                    i
                })
            })
            .collect();
        assert!(done.load(SeqCst) < 20, "the queue drained before the drop");
        drop(pool);
        // All 20 have run by the time the drop returns (20 x 5 ms on `workers` threads).
        assert_eq!(
            done.load(SeqCst),
            20,
            "drop returned before the queue drained"
        );
        for (i, x) in futures.iter().enumerate() {
            assert!(Lazy::is_done(x));
            assert_eq!(**x, i);
        }
    }
}

#[test]
fn dropping_the_pool_drops_unread_values_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let pool = ThreadPool::new(2);
    for i in 0..50 {
        let d = Arc::clone(&drops);
        drop(pool.spawn_lazy(move || {
            thread::sleep(ms(1));
            Tracked::new(&d, i)
        }));
    }
    drop(pool);
    // Every task ran and nobody held its future: each value is gone, exactly once.
    assert_eq!(drops.load(SeqCst), 50);
}

#[test]
fn pool_dropped_from_inside_its_own_task_does_not_hang() {
    for workers in [1, 2, 4] {
        within(secs(20), move || {
            let pool = ThreadPool::new(workers);
            let last = pool.clone();
            let gate = Gate::default();
            let g = gate.clone();
            let (tx, rx) = mpsc::channel();
            let x = pool.spawn_lazy(move || {
                g.wait(); // until the test has dropped its own handle
                drop(last); // the last handle: the pool shuts down from its own worker
                tx.send(thread::current().name().map(String::from)).unwrap();
                7
            });
            // Other tasks queued behind it still run.
            let others: Vec<Lazy<u32>> = (0..10).map(|i| pool.spawn_lazy(move || i)).collect();
            drop(pool);
            gate.open();
            let name = rx.recv_timeout(Duration::from_secs(10)).unwrap().unwrap();
            assert!(name.starts_with(PREFIX));
            assert_eq!(*on_worker(&x), 7);
            let sum: u32 = others.iter().map(|x| *on_worker(x)).sum();
            assert_eq!(sum, 45);
        });
    }
}

#[test]
fn pool_whose_last_handle_ends_with_a_task_closure_does_not_hang() {
    // The last handle is captured by the task and dropped when the closure ends.
    within(secs(20), || {
        let pool = ThreadPool::new(2);
        let gate = Gate::default();
        let g = gate.clone();
        let captured = pool.clone();
        let x = pool.spawn_lazy(move || {
            g.wait();
            captured.workers()
        });
        drop(pool);
        gate.open();
        assert_eq!(*on_worker(&x), 2);
    });
}

#[test]
fn pool_dropped_inside_a_task_while_another_worker_waits_on_that_task() {
    // Task A holds the last handle and drops it; task B, on the other worker, waits for
    // something A does after the drop. The drop must not wait for B (B waits for A).
    within(secs(20), || {
        let pool = ThreadPool::new(2);
        let last = pool.clone();
        let (after_drop_tx, after_drop) = mpsc::channel::<()>();
        let (b_started_tx, b_started) = mpsc::channel::<()>();
        let b = pool.spawn_lazy(move || {
            b_started_tx.send(()).unwrap();
            after_drop.recv_timeout(Duration::from_secs(3)).is_ok()
        });
        b_started.recv_timeout(Duration::from_secs(10)).unwrap();
        let a = pool.spawn_lazy(move || {
            let t0 = Instant::now();
            drop(last);
            let in_drop = t0.elapsed();
            let _ = after_drop_tx.send(());
            in_drop
        });
        drop(pool);
        let in_drop = *on_worker(&a);
        assert!(
            *on_worker(&b),
            "B never heard from A: A's drop of the pool blocked for {in_drop:?} waiting for B"
        );
    });
}

#[test]
fn pool_dropped_inside_a_task_still_runs_the_queue() {
    // Independent tasks queued behind the dropping task all complete.
    within(secs(20), || {
        let pool = ThreadPool::new(2);
        let last = pool.clone();
        let done = Arc::new(AtomicUsize::new(0));
        let gate = Gate::default();
        let g = gate.clone();
        let a = pool.spawn_lazy(move || {
            g.wait();
            drop(last);
        });
        let others: Vec<Lazy<()>> = (0..10)
            .map(|_| {
                let done = Arc::clone(&done);
                pool.spawn_lazy(move || {
                    thread::sleep(ms(2));
                    done.fetch_add(1, SeqCst);
                })
            })
            .collect();
        drop(pool);
        gate.open();
        on_worker(&a);
        expect_count(&done, 10);
        assert!(others.iter().all(Lazy::is_done));
    });
}

#[test]
fn pool_timeouts_release_the_reader_at_the_deadline() {
    let pool = ThreadPool::new(2);
    let t0 = Instant::now();
    let x = pool.spawn_lazy_with(Deadline::after(ms(50)), || {
        thread::sleep(ms(600));
        "late"
    });
    assert_eq!(*x, Outcome::Timeout);
    let waited = t0.elapsed();
    assert!(waited >= ms(50), "{waited:?}");
    assert!(
        waited < ms(450),
        "reader not released at the deadline: {waited:?}"
    );
    assert_eq!(x.to_string(), "Timeout");
    // The task keeps running; its late value can be collected.
    let until = Instant::now() + Duration::from_secs(10);
    let late = loop {
        if let Some(late) = Lazy::take_late(&x) {
            break late;
        }
        assert!(Instant::now() < until, "the late value never came");
        thread::sleep(ms(5));
    };
    assert_eq!(late.unwrap(), "late");
}

#[test]
fn pool_deadline_counts_time_in_the_queue() {
    // The only worker is busy: a quick task with a deadline cannot start in time.
    let pool = ThreadPool::new(1);
    let gate = Gate::default();
    let g = gate.clone();
    let (started_tx, started) = mpsc::channel();
    let blocker = pool.spawn_lazy(move || {
        started_tx.send(()).unwrap();
        g.wait();
    });
    started.recv_timeout(Duration::from_secs(10)).unwrap();
    let t0 = Instant::now();
    let quick = pool.spawn_lazy_with(Deadline::after(ms(40)), || 1);
    assert_eq!(*quick, Outcome::Timeout);
    assert!(t0.elapsed() < ms(1000), "{:?}", t0.elapsed());
    gate.open();
    on_worker(&blocker);
    let until = Instant::now() + Duration::from_secs(10);
    while Lazy::take_late(&quick)
        .map(|r| assert_eq!(r.unwrap(), 1))
        .is_none()
    {
        assert!(Instant::now() < until, "the queued task never ran");
        thread::sleep(ms(2));
    }
    // A generous deadline on a free pool is met.
    let ok = pool.spawn_lazy_with(Deadline::after(Duration::from_secs(30)), || 2);
    assert_eq!(*ok, Outcome::Ready(2));
}

#[test]
fn pool_timeout_with_bounded_waits() {
    let pool = ThreadPool::new(1);
    let x = pool.spawn_lazy(|| {
        thread::sleep(ms(150));
        5
    });
    // A bounded wait gives up without deciding anything.
    let t0 = Instant::now();
    assert_eq!(Lazy::wait_timeout(&x, ms(10)), Err(WaitError::Timeout));
    assert!(t0.elapsed() < ms(140));
    assert_eq!(Lazy::wait_timeout(&x, Duration::from_secs(20)), Ok(&5));
}

#[test]
fn pool_panics_with_policies_and_into_inner() {
    let pool = ThreadPool::new(2);
    let x = pool.spawn_lazy_with(Deadline::after(Duration::from_secs(30)), || -> u8 {
        panic!("policy-boom")
    });
    let err = catch_unwind(AssertUnwindSafe(|| *x == Outcome::Ready(1))).unwrap_err();
    assert!(panic_text(err.as_ref()).contains("policy-boom"));
    let y = pool.spawn_lazy(|| -> String { panic!("{}", String::from("owned-boom")) });
    let err = catch_unwind(AssertUnwindSafe(|| Lazy::into_inner(y))).unwrap_err();
    assert!(panic_text(err.as_ref()).contains("owned-boom"));
    // A late panic after the deadline comes back through `take_late`.
    let z = pool.spawn_lazy_with(Deadline::after(ms(20)), || -> u8 {
        thread::sleep(ms(150));
        panic!("late-boom")
    });
    assert_eq!(*z, Outcome::Timeout);
    let until = Instant::now() + Duration::from_secs(10);
    let late = loop {
        if let Some(late) = Lazy::take_late(&z) {
            break late;
        }
        assert!(Instant::now() < until);
        thread::sleep(ms(5));
    };
    assert_eq!(panic_text(late.unwrap_err().as_ref()), "late-boom");
}

#[test]
fn pool_operators_and_formatting() {
    let pool = ThreadPool::new(2);
    let x = pool.spawn_lazy(|| 40);
    let y = pool.spawn_lazy(|| 2);
    assert_eq!(&x + &y, 42);
    assert_eq!(&x * &y, 80);
    assert_eq!(-&x, -40);
    assert_eq!(1 + &x, 41);
    assert!(x > 39 && x < 41 && x == 40);
    assert_eq!(format!("{x}/{y}"), "40/2");
    let mut m = pool.spawn_lazy(|| 10);
    m += 5;
    assert_eq!(*m, 15);
    let s = pool.spawn_lazy(|| String::from("pool"));
    assert_eq!(s.len(), 4);
    assert_eq!(s.clone() + "ed", "pooled");
    let v = pool.spawn_lazy(|| vec![3, 1, 2]);
    assert_eq!(v[0], 3);
    assert_eq!(v.iter().max(), Some(&3));
    let z = x + 1;
    assert_eq!(z, 41);
}

#[test]
fn pool_drops_every_value_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let pool = ThreadPool::new(2);
    let mut expected = 0;

    // Read, then dropped with the future.
    let read: Vec<Lazy<Tracked>> = (0..20)
        .map(|i| {
            let d = Arc::clone(&drops);
            pool.spawn_lazy(move || Tracked::new(&d, i))
        })
        .collect();
    for (i, x) in read.iter().enumerate() {
        assert_eq!(x.1, i as u32);
    }
    drop(read);
    expected += 20;
    assert_eq!(drops.load(SeqCst), expected);

    // Never read: dropped before the task finished.
    for i in 0..20 {
        let d = Arc::clone(&drops);
        drop(pool.spawn_lazy(move || {
            thread::sleep(ms(1));
            Tracked::new(&d, i)
        }));
    }
    expected += 20;
    expect_count(&drops, expected);

    // Into the caller's hands by value.
    let d = Arc::clone(&drops);
    let owned = Lazy::into_inner(pool.spawn_lazy(move || Tracked::new(&d, 1)));
    let d = Arc::clone(&drops);
    let joined = Lazy::join(pool.spawn_lazy(move || Tracked::new(&d, 2))).unwrap();
    assert_eq!((owned.1, joined.1), (1, 2));
    assert_eq!(drops.load(SeqCst), expected);
    drop((owned, joined));
    expected += 2;
    assert_eq!(drops.load(SeqCst), expected);

    // Late values: never collected (the handle dropped before and after the task ends),
    // and collected.
    let late_dropped_early = {
        let d = Arc::clone(&drops);
        pool.spawn_lazy_with(Deadline::after(ms(5)), move || {
            thread::sleep(ms(60));
            Tracked::new(&d, 3)
        })
    };
    assert!(late_dropped_early.is_timeout());
    drop(late_dropped_early);
    let late_kept = {
        let d = Arc::clone(&drops);
        pool.spawn_lazy_with(Deadline::after(ms(5)), move || {
            thread::sleep(ms(60));
            Tracked::new(&d, 4)
        })
    };
    assert!(late_kept.is_timeout());
    let late_taken = {
        let d = Arc::clone(&drops);
        pool.spawn_lazy_with(Deadline::after(ms(5)), move || {
            thread::sleep(ms(60));
            Tracked::new(&d, 5)
        })
    };
    assert!(late_taken.is_timeout());
    expected += 1; // the early-dropped handle's late value, on the worker
    expect_count(&drops, expected);
    let taken = loop {
        if let Some(v) = Lazy::take_late(&late_taken) {
            break v.unwrap();
        }
        thread::sleep(ms(2));
    };
    assert_eq!(taken.1, 5);
    assert!(Lazy::take_late(&late_taken).is_none());
    drop(taken);
    drop(late_taken);
    expected += 1;
    assert_eq!(drops.load(SeqCst), expected);
    drop(late_kept); // its late value goes with the last of the handle and the task
    expected += 1;
    expect_count(&drops, expected);

    // Captured values of a panicking task are dropped once too.
    let d = Arc::clone(&drops);
    let t = Tracked::new(&d, 6);
    let bad = pool.spawn_lazy(move || -> u8 {
        let _t = t;
        panic!("boom with a capture")
    });
    assert!(Lazy::join(bad).is_err());
    expected += 1;
    assert_eq!(drops.load(SeqCst), expected);

    drop(pool);
    thread::sleep(ms(30));
    assert_eq!(drops.load(SeqCst), expected);
}

#[test]
fn many_tasks_on_a_small_pool() {
    let pool = ThreadPool::new(2);
    let squares: Vec<Lazy<u64>> = (0..2000u64)
        .map(|i| pool.spawn_lazy(move || i * i))
        .collect();
    let sum: u64 = squares.iter().map(|x| **x).sum();
    assert_eq!(sum, (0..2000u64).map(|i| i * i).sum::<u64>());
}

/// A continuation that drops the pool's last handle while one of the pool's workers
/// waits on that continuation: the drop must not join the workers (it would wait on
/// the worker, which waits on the drop). The workers still go, joined by the reaper.
#[test]
#[cfg(target_os = "linux")]
fn a_continuation_dropping_the_last_pool_handle_does_not_wait_for_a_worker_waiting_on_it() {
    let got = within(secs(30), || {
        let pool = ThreadPool::builder()
            .workers(1)
            .name_prefix("cont-drop")
            .build()
            .unwrap();
        let (open, wait) = crate::support::gate();
        // On thread-per-task, so that the worker cannot help it.
        let up = transparent_future::spawn_lazy(move || {
            wait();
            1
        });
        let last = pool.clone();
        let m = Lazy::map(up, move |v| {
            drop(last); // the pool's last handle, by now
            v + 1
        });
        let starts = crate::support::Starts::new();
        let started = starts.reporter();
        let reader = pool.spawn_lazy(move || {
            started.send(()).unwrap();
            *m + 1 // a worker waits on the continuation
        });
        starts.wait_for(1);
        drop(pool);
        open.send(()).unwrap();
        let got = *on_worker(&reader);
        crate::support::no_threads_named("cont-drop", secs(10));
        got
    });
    assert_eq!(got, 3);
}

/// A `map` on a thread-per-task future whose closure drops the pool's last handle,
/// while the pool is busy: the closure returns at once, instead of holding up the
/// publishing thread until the pool drains.
#[test]
#[cfg(target_os = "linux")]
fn a_map_dropping_the_last_pool_handle_does_not_wait_for_the_pool_to_drain() {
    within(secs(40), || {
        let pool = ThreadPool::builder()
            .workers(1)
            .name_prefix("map-drop")
            .build()
            .unwrap();
        let busy = Gate::new();
        let _open = busy.guard();
        let starts = crate::support::Starts::new();
        let started = starts.reporter();
        let g = busy.clone();
        let long = pool.spawn_lazy(move || {
            started.send(()).unwrap();
            g.wait();
            5
        });
        starts.wait_for(1);
        let last = pool;
        for already_decided in [false, true] {
            let (open, wait) = crate::support::gate();
            let up = transparent_future::spawn_lazy(move || {
                wait();
                1
            });
            if already_decided {
                open.send(()).unwrap();
                crate::support::settled(&up);
            }
            let last = last.clone();
            let m = Lazy::map(up, move |v| {
                drop(last);
                v + 1
            });
            drop(open);
            assert_eq!(
                Lazy::wait_timeout(&m, secs(5)),
                Ok(&2),
                "decided before map: {already_decided}"
            );
        }
        // The last one of all, dropped inside a continuation while the worker is busy.
        let up = transparent_future::spawn_lazy(|| 1);
        let m = Lazy::map(up, move |v| {
            drop(last);
            v + 1
        });
        assert_eq!(Lazy::wait_timeout(&m, secs(5)), Ok(&2));
        assert!(!Lazy::is_done(&long), "the pool drained early");
        busy.open();
        assert_eq!(on_worker(&long), &5);
        crate::support::no_threads_named("map-drop", secs(10));
    });
}
