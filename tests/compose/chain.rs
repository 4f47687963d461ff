//! Chaining: `Lazy::map`, `Lazy::then`, and the
//! timeout-aware `Lazy::map_ready` / `Lazy::then_ready` on `Lazy<Outcome<T>>`.
//!
//! * a continuation runs when its input is ready, with no thread blocked in between:
//!   on a `ThreadPool` it runs on a pool worker and adds no job while the input is
//!   pending; on thread-per-task it runs on the upstream task's thread (pending input)
//!   or on one new thread (input already there); on rayon on the rayon worker;
//! * a panic upstream or in `f` (or in the future `then`'s `f` returns) becomes the
//!   downstream's panic with the same message, and `Lazy::join` returns the original
//!   payload; `f` is not called after an upstream panic;
//! * `map_ready`/`then_ready` pass a timeout through without calling `f`, inherit the
//!   upstream's deadline and release their readers at it;
//! * every value passing through a chain is dropped exactly once, also when the
//!   downstream is dropped before the chain completes.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc;
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use crate::support::{Drops, Gate, executors, gate, ms, panic_of, panic_text, within};
use transparent_future::{
    Builder, Deadline, Lazy, Outcome, ThreadPool, WaitError, spawn_lazy, spawn_lazy_with,
};

const LIMIT: Duration = Duration::from_secs(20);

fn worker_name() -> String {
    thread::current().name().unwrap_or("<unnamed>").to_string()
}

// ---------------------------------------------------------------- where `f` runs

#[test]
fn map_on_a_one_worker_pool_runs_on_the_worker_and_adds_no_job_while_pending() {
    within(LIMIT, || {
        let pool = ThreadPool::new(1);
        let gate = Gate::new();
        let _open = gate.guard();
        let (started_tx, started) = mpsc::channel();
        let g = gate.clone();
        let blocker = pool.spawn_lazy(move || {
            started_tx.send(()).unwrap();
            g.wait();
        });
        started.recv_timeout(Duration::from_secs(10)).unwrap();
        // The only worker is busy: `up` waits in the queue.
        let up = pool.spawn_lazy(|| 20);
        assert!(format!("{pool:?}").contains("queued: 1"), "{pool:?}");
        let mapped = Lazy::map(up, |v| (v + 1, worker_name()));
        let mapped = Lazy::map(mapped, |(v, first)| (v * 2, first, worker_name()));
        // No job was queued and no thread was started to wait for `up`.
        assert!(format!("{pool:?}").contains("queued: 1"), "{pool:?}");
        assert!(!Lazy::is_done(&mapped));
        gate.open();
        // A bounded wait never helps, so the links run on the worker (an unbounded read
        // would run the queued `up` here, by work-helping).
        let (v, first, second) = Lazy::wait_timeout(&mapped, LIMIT)
            .cloned()
            .expect("chain finished");
        assert_eq!(v, 42);
        assert!(first.starts_with("transparent-future-worker-"), "{first}");
        assert!(second.starts_with("transparent-future-worker-"), "{second}");
        Lazy::into_inner(blocker);

        // An input that is already there: `f` goes to the same pool (read with a
        // bounded wait: an unbounded one would run the queued continuation here).
        let ready = pool.spawn_lazy(|| 1);
        assert_eq!(*ready, 1);
        let on = Lazy::map(ready, |_| worker_name());
        let on = Lazy::wait_timeout(&on, LIMIT).expect("the continuation ran");
        assert!(on.starts_with("transparent-future-worker-"), "{on}");

        // A long chain on the single worker: no worker is ever blocked by a link.
        let mut chain = pool.spawn_lazy(|| 0_u32);
        for _ in 0..200 {
            chain = Lazy::map(chain, |v| v + 1);
        }
        assert_eq!(*chain, 200);
    });
}

#[test]
fn map_on_thread_per_task_runs_on_the_upstream_thread_when_pending() {
    within(LIMIT, || {
        let gate = Gate::new();
        let _open = gate.guard();
        let g = gate.clone();
        let up = spawn_lazy(move || {
            g.wait();
            thread::current().id()
        });
        let mapped = Lazy::map(up, |upstream: ThreadId| (upstream, thread::current().id()));
        // A chain of maps registered while pending: all run on that same thread.
        let chained = Lazy::map(mapped, |(u, m)| (u, m, thread::current().id()));
        let chained = Lazy::map(chained, |(u, m, c)| (u, m, c, thread::current().id()));
        gate.open();
        let (upstream, first, second, third) = *chained;
        assert_eq!(
            upstream, first,
            "map ran on another thread than the upstream task"
        );
        assert_eq!(upstream, second);
        assert_eq!(upstream, third);
        assert_ne!(upstream, thread::current().id());
    });
}

#[test]
fn map_on_thread_per_task_with_the_value_already_there_runs_on_one_new_thread() {
    within(LIMIT, || {
        let me = thread::current().id();
        // Cached in the handle (read before mapping).
        let up = spawn_lazy(|| thread::current().id());
        let upstream = *up;
        let mapped = Lazy::map(up, |u: ThreadId| (u, thread::current().id()));
        let (u, on) = *mapped;
        assert_eq!(u, upstream);
        assert_ne!(on, me, "map ran on the caller's thread");
        assert_ne!(on, upstream, "the upstream's thread had already finished");

        // Decided but never read: the same.
        let up = spawn_lazy(|| thread::current().id());
        let until = Instant::now() + Duration::from_secs(10);
        while !Lazy::is_done(&up) && Instant::now() < until {
            thread::sleep(ms(1));
        }
        let mapped = Lazy::map(up, |u: ThreadId| (u, thread::current().id()));
        let (u, on) = *mapped;
        assert_ne!(on, me);
        assert_ne!(on, u);
        assert!(thread::current().name().is_some()); // the test's own thread is named
    });
}

#[cfg(feature = "rayon")]
#[test]
fn map_on_rayon_runs_on_the_rayon_worker_that_finished_the_upstream() {
    within(LIMIT, || {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let gate = Gate::new();
        let _open = gate.guard();
        let g = gate.clone();
        let up = Builder::new()
            .on(&pool)
            .spawn(move || {
                g.wait();
                thread::current().id()
            })
            .unwrap();
        let mapped = Lazy::map(up, |u: ThreadId| {
            (u, thread::current().id(), rayon::current_thread_index())
        });
        gate.open();
        // A bounded wait never helps, so the closure runs where the upstream finished
        // (an unbounded read of an unstarted upstream would run it here instead).
        let (u, on, index) = *Lazy::wait_timeout(&mapped, LIMIT).expect("map finished");
        assert_eq!(u, on);
        assert!(index.is_some(), "map did not run on a rayon worker");

        // Rayon's global pool too.
        let up = Builder::new()
            .on(&transparent_future::executor::RayonGlobal)
            .spawn(|| 4)
            .unwrap();
        assert_eq!(*Lazy::map(up, |v| v * 10), 40);
    });
}

#[test]
fn map_and_then_compute_on_every_executor() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            let text = e.spawn(|| String::from("transparent future"));
            let words = Lazy::map(text, |t| t.split(' ').count());
            assert_eq!(*words, 2, "{name}");

            // The input is still running when `map` registers, so the closure runs on
            // the thread that finishes it: one of the executor's.
            let check = e.clone();
            let (open, wait) = gate();
            let up = e.spawn(move || {
                wait();
                1
            });
            let on_own = Lazy::map(up, move |v| (v, check.on_own_thread()));
            open.send(()).unwrap();
            // A bounded wait never helps (see above), so this checks where map runs.
            let on_own = Lazy::wait_timeout(&on_own, LIMIT).copied();
            assert_eq!(on_own, Ok((1, true)), "{name}: map ran off the executor");

            let inner_exec = e.clone();
            let user = e.spawn(|| 7);
            let name_of = Lazy::then(user, move |id| {
                inner_exec.spawn(move || {
                    thread::sleep(ms(20));
                    format!("user-{id}")
                })
            });
            assert_eq!(*name_of, "user-7", "{name}");

            // `then` with an inner future already resolved.
            let direct = Lazy::then(e.spawn(|| 2), |v| Lazy::with_value(v + 1));
            assert_eq!(*direct, 3, "{name}");

            // Later inputs first: each link waits for its own input only.
            let gate = Gate::new();
            let _open = gate.guard();
            let g = gate.clone();
            let slow = e.spawn(move || {
                g.wait();
                5
            });
            let inner_exec = e.clone();
            let chained = Lazy::then(slow, move |v| inner_exec.spawn(move || v + 1));
            let chained = Lazy::map(chained, |v| v * 2);
            assert_eq!(
                Lazy::wait_timeout(&chained, ms(50)),
                Err(WaitError::Timeout),
                "{name}"
            );
            gate.open();
            assert_eq!(*chained, 12, "{name}");
        });
    }
}

// ---------------------------------------------------------------- panics

#[test]
fn a_panic_upstream_reaches_the_map_downstream_with_its_message_and_payload() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            let called = Arc::new(AtomicBool::new(false));
            let c = Arc::clone(&called);
            let up = e.spawn(|| -> u32 { panic!("upstream boom") });
            let mapped = Lazy::map(up, move |v| {
                c.store(true, SeqCst);
                v + 1
            });
            let msg = panic_of(|| *mapped);
            assert!(msg.contains("upstream boom"), "{name}: {msg}");
            // Every later access panics the same way.
            assert!(panic_of(|| mapped.to_string()).contains("upstream boom"));
            assert!(
                !called.load(SeqCst),
                "{name}: f ran after an upstream panic"
            );

            let up = e.spawn(|| -> u32 { panic!("upstream boom") });
            let payload = Lazy::join(Lazy::map(up, |v| v + 1)).unwrap_err();
            assert_eq!(
                payload.downcast_ref::<&str>(),
                Some(&"upstream boom"),
                "{name}"
            );

            // Through several links.
            let up = e.spawn(|| -> u32 { panic!("deep {}", 3) });
            let chain = Lazy::map(Lazy::map(up, |v| v + 1), |v| v * 2);
            let payload = Lazy::join(chain).unwrap_err();
            assert_eq!(panic_text(payload.as_ref()), "deep 3", "{name}");
        });
    }
}

#[test]
fn a_panic_in_the_map_closure_becomes_the_downstream_panic() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            let mapped = Lazy::map(e.spawn(|| 1_u32), |_| -> u32 { panic!("map boom") });
            let msg = panic_of(|| *mapped);
            assert!(msg.contains("map boom"), "{name}: {msg}");

            let mapped = Lazy::map(e.spawn(|| 1_u32), |v| -> u32 { panic!("map boom {v}") });
            let payload = Lazy::join(mapped).unwrap_err();
            assert_eq!(panic_text(payload.as_ref()), "map boom 1", "{name}");

            // The pool's worker survives it: the pool still runs tasks.
            assert_eq!(*e.spawn(|| 5), 5, "{name}");
        });
    }
}

#[test]
fn panics_in_then_upstream_closure_and_inner_future_all_reach_the_downstream() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            let called = Arc::new(AtomicBool::new(false));
            let c = Arc::clone(&called);
            let up = e.spawn(|| -> u32 { panic!("then upstream") });
            let t = Lazy::then(up, move |v| {
                c.store(true, SeqCst);
                Lazy::with_value(v)
            });
            assert!(panic_of(|| *t).contains("then upstream"), "{name}");
            assert!(!called.load(SeqCst));

            let t = Lazy::then(e.spawn(|| 1_u32), |_| -> Lazy<u32> {
                panic!("then closure")
            });
            let payload = Lazy::join(t).unwrap_err();
            assert_eq!(
                payload.downcast_ref::<&str>(),
                Some(&"then closure"),
                "{name}"
            );

            let inner_exec = e.clone();
            let t = Lazy::then(e.spawn(|| 1_u32), move |_| {
                inner_exec.spawn(|| -> u32 { panic!("inner future") })
            });
            assert!(panic_of(|| *t).contains("inner future"), "{name}");
            let inner_exec = e.clone();
            let t = Lazy::then(e.spawn(|| 1_u32), move |_| {
                inner_exec.spawn(|| -> u32 { panic!("inner future") })
            });
            let payload = Lazy::join(t).unwrap_err();
            assert_eq!(
                payload.downcast_ref::<&str>(),
                Some(&"inner future"),
                "{name}"
            );
        });
    }
}

#[test]
fn panics_reach_map_ready_and_then_ready_downstreams() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            let far = || Deadline::after(Duration::from_secs(30));
            let up = e.spawn_with(far(), || -> u32 { panic!("ready upstream") });
            let m = Lazy::map_ready(up, |v| v + 1);
            assert!(panic_of(|| *m).contains("ready upstream"), "{name}");

            let up = e.spawn_with(far(), || 1_u32);
            let m = Lazy::map_ready(up, |_| -> u32 { panic!("ready closure") });
            let payload = Lazy::join(m).unwrap_err();
            assert_eq!(
                payload.downcast_ref::<&str>(),
                Some(&"ready closure"),
                "{name}"
            );

            let up = e.spawn_with(far(), || -> u32 { panic!("ready upstream") });
            let t = Lazy::then_ready(up, Lazy::with_value);
            let payload = Lazy::join(t).unwrap_err();
            assert_eq!(
                payload.downcast_ref::<&str>(),
                Some(&"ready upstream"),
                "{name}"
            );

            let up = e.spawn_with(far(), || 1_u32);
            let t = Lazy::then_ready(up, |_| -> Lazy<u32> { panic!("then_ready closure") });
            assert!(panic_of(|| *t).contains("then_ready closure"), "{name}");

            let inner_exec = e.clone();
            let up = e.spawn_with(far(), || 1_u32);
            let t = Lazy::then_ready(up, move |_| {
                inner_exec.spawn(|| -> u32 { panic!("then_ready inner") })
            });
            let payload = Lazy::join(t).unwrap_err();
            assert_eq!(
                payload.downcast_ref::<&str>(),
                Some(&"then_ready inner"),
                "{name}"
            );
        });
    }
}

// ---------------------------------------------------------------- timeouts

#[test]
fn map_sees_the_upstream_timeout_decided_at_the_deadline() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            let gate = Gate::new();
            let _open = gate.guard();
            let g = gate.clone();
            let t0 = Instant::now();
            let up = e.spawn_with(Deadline::after(ms(150)), move || g.wait());
            let seen = Lazy::map(up, |o| o.is_timeout());
            // Nobody reads the upstream: the timer decides it at the deadline.
            assert!(*seen, "{name}");
            let took = t0.elapsed();
            assert!(
                took >= ms(140),
                "{name}: decided before the deadline ({took:?})"
            );
            assert!(
                took < ms(1500),
                "{name}: not released near the deadline ({took:?})"
            );
        });
    }
}

#[test]
fn map_ready_passes_a_timeout_through_without_calling_f_and_releases_at_the_deadline() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            let quick = e.spawn_with(Deadline::after(Duration::from_secs(30)), || 20);
            assert_eq!(
                *Lazy::map_ready(quick, |n| n + 1),
                Outcome::Ready(21),
                "{name}"
            );

            let gate = Gate::new();
            let _open = gate.guard();
            let g = gate.clone();
            let called = Arc::new(AtomicBool::new(false));
            let c = Arc::clone(&called);
            let t0 = Instant::now();
            let slow = e.spawn_with(Deadline::after(ms(150)), move || {
                g.wait();
                20
            });
            let mapped = Lazy::map_ready(slow, move |n| {
                c.store(true, SeqCst);
                n + 1
            });
            assert_eq!(*mapped, Outcome::Timeout, "{name}");
            let took = t0.elapsed();
            assert!(took >= ms(140), "{name}: {took:?}");
            assert!(
                took < ms(1500),
                "{name}: reader not released at the deadline ({took:?})"
            );
            gate.open();
            thread::sleep(ms(50));
            assert!(!called.load(SeqCst), "{name}: f ran on a timed-out value");
        });
    }
}

#[test]
fn map_ready_inherits_the_deadline_so_a_slow_f_times_out_the_chain() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            let gate = Gate::new();
            let _open = gate.guard();
            let g = gate.clone();
            let t0 = Instant::now();
            let up = e.spawn_with(Deadline::after(ms(200)), || 1);
            let mapped = Lazy::map_ready(up, move |v| {
                g.wait(); // f itself is slow: past the deadline
                v + 1
            });
            let chained = Lazy::map_ready(mapped, |v| v * 10);
            assert_eq!(*chained, Outcome::Timeout, "{name}");
            let took = t0.elapsed();
            assert!(took >= ms(190), "{name}: {took:?}");
            assert!(
                took < ms(1500),
                "{name}: reader not released at the deadline ({took:?})"
            );

            // And in time, the whole chain is Ready.
            let up = e.spawn_with(Deadline::after(Duration::from_secs(30)), || 1);
            let chained = Lazy::map_ready(Lazy::map_ready(up, |v| v + 1), |v| v * 10);
            assert_eq!(*chained, Outcome::Ready(20), "{name}");
        });
    }
}

#[test]
fn then_ready_passes_timeouts_through_and_its_deadline_covers_the_inner_future() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            let inner_exec = e.clone();
            let id = e.spawn_with(Deadline::after(Duration::from_secs(30)), || 7);
            let named = Lazy::then_ready(id, move |id| inner_exec.spawn(move || format!("u{id}")));
            assert_eq!(*named, Outcome::Ready("u7".to_string()), "{name}");

            // Upstream late: passes through, f never called.
            let gate = Gate::new();
            let _open = gate.guard();
            let g = gate.clone();
            let called = Arc::new(AtomicBool::new(false));
            let c = Arc::clone(&called);
            let t0 = Instant::now();
            let late = e.spawn_with(Deadline::after(ms(150)), move || {
                g.wait();
                1
            });
            let t = Lazy::then_ready(late, move |v| {
                c.store(true, SeqCst);
                Lazy::with_value(v)
            });
            assert_eq!(*t, Outcome::Timeout, "{name}");
            let took = t0.elapsed();
            assert!(took >= ms(140) && took < ms(1500), "{name}: {took:?}");

            // Upstream in time, the inner future late: the upstream's deadline covers it.
            let g = gate.clone();
            let inner_exec = e.clone();
            let t0 = Instant::now();
            let up = e.spawn_with(Deadline::after(ms(200)), || 1);
            let t = Lazy::then_ready(up, move |v| {
                inner_exec.spawn(move || {
                    g.wait();
                    v
                })
            });
            assert_eq!(*t, Outcome::Timeout, "{name}");
            let took = t0.elapsed();
            assert!(took >= ms(190) && took < ms(1500), "{name}: {took:?}");
            gate.open();
            thread::sleep(ms(30));
            assert!(!called.load(SeqCst), "{name}: f ran on a timed-out value");
        });
    }
}

// ---------------------------------------------------------------- drops

#[test]
fn values_passing_through_map_and_then_are_dropped_exactly_once() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            // Passed through, read, dropped with the downstream.
            let drops = Drops::new();
            let d = drops.clone();
            let m = Lazy::map(e.spawn(move || d.track(1)), |t| t);
            let m = Lazy::map(m, |t| t);
            assert_eq!(m.value, 1, "{name}");
            assert_eq!(drops.count(), 0, "{name}: dropped while readable");
            drop(m);
            drops.expect(1);

            // Consumed by f, which makes a new one.
            let (ins, outs) = (Drops::new(), Drops::new());
            let (i, o) = (ins.clone(), outs.clone());
            let m = Lazy::map(e.spawn(move || i.track(1)), move |t| o.track(t.value + 1));
            assert_eq!(m.value, 2, "{name}");
            ins.expect(1);
            drop(m);
            outs.expect(1);

            // Never read.
            let drops = Drops::new();
            let d = drops.clone();
            drop(Lazy::map(e.spawn(move || d.track(1)), |t| t));
            drops.expect(1);

            // `then`: the inner future's value.
            let drops = Drops::new();
            let d = drops.clone();
            let inner_exec = e.clone();
            let t = Lazy::then(e.spawn(|| 3), move |v| inner_exec.spawn(move || d.track(v)));
            assert_eq!(Lazy::into_inner(t).value, 3, "{name}");
            drops.expect(1);
        });
    }
}

#[test]
fn values_are_dropped_once_when_the_downstream_is_dropped_before_completion() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            let gate = Gate::new();
            let _open = gate.guard();
            let drops = Drops::new();
            let (g, d) = (gate.clone(), drops.clone());
            let up = e.spawn(move || {
                g.wait();
                d.track(1)
            });
            let mapped = Lazy::map(Lazy::map(up, |t| t), |t| t);
            drop(mapped);
            assert_eq!(drops.count(), 0, "{name}");

            // `then`, dropped before its inner future is done.
            let (g, d) = (gate.clone(), drops.clone());
            let inner_exec = e.clone();
            let t = Lazy::then(e.spawn(|| 2), move |v| {
                inner_exec.spawn(move || {
                    g.wait();
                    d.track(v)
                })
            });
            drop(t);

            // `map_ready`, dropped before the upstream is done.
            let (g, d) = (gate.clone(), drops.clone());
            let up = e.spawn_with(Deadline::after(Duration::from_secs(30)), move || {
                g.wait();
                d.track(3)
            });
            drop(Lazy::map_ready(up, |t| t));

            gate.open();
            drops.expect(3);
        });
    }
}

#[test]
fn values_are_dropped_once_on_the_panic_and_timeout_paths() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            // f panics: its input is dropped by the unwinding, once.
            let drops = Drops::new();
            let d = drops.clone();
            let m = Lazy::map(e.spawn(move || d.track(1)), |_t| -> u32 {
                panic!("drop me")
            });
            assert!(Lazy::join(m).is_err(), "{name}");
            drops.expect(1);

            // The upstream panics: f, never called, is dropped with what it owns.
            let drops = Drops::new();
            let owned = drops.track(2);
            let m = Lazy::map(e.spawn(|| -> u32 { panic!("upstream") }), move |v| {
                let owned = owned; // the whole value, not just its field
                v + owned.value
            });
            assert!(Lazy::join(m).is_err(), "{name}");
            drops.expect(1);

            // map_ready timed out: the late upstream value and f's captures, once each.
            let gate = Gate::new();
            let _open = gate.guard();
            let (late, captured) = (Drops::new(), Drops::new());
            let (g, l) = (gate.clone(), late.clone());
            let up = e.spawn_with(Deadline::after(ms(50)), move || {
                g.wait();
                l.track(3)
            });
            let owned = captured.track(4);
            let m = Lazy::map_ready(up, move |t| {
                let owned = owned; // the whole value, not just its field
                t.value + owned.value
            });
            assert_eq!(*m, Outcome::Timeout, "{name}");
            captured.expect(1);
            gate.open();
            drop(m);
            late.expect(1);

            // The upstream in time, f late: f's result goes to the downstream's late
            // slot and is dropped with it.
            let gate = Gate::new();
            let _open = gate.guard();
            let out = Drops::new();
            let (g, o) = (gate.clone(), out.clone());
            let up = e.spawn_with(Deadline::after(ms(100)), || 1);
            let m = Lazy::map_ready(up, move |v| {
                g.wait();
                o.track(v)
            });
            assert_eq!(*m, Outcome::Timeout, "{name}");
            gate.open();
            thread::sleep(ms(50));
            drop(m);
            out.expect(1);
        });
    }
}

#[test]
fn map_preserves_the_happens_before_of_the_upstream() {
    within(LIMIT, || {
        let counter = Arc::new(AtomicUsize::new(0));
        for exec in executors() {
            let c = Arc::clone(&counter);
            let up = exec.spawn(move || {
                c.store(99, std::sync::atomic::Ordering::Relaxed);
                vec![1, 2, 3]
            });
            let c = Arc::clone(&counter);
            let m = Lazy::map(up, move |v| {
                (v.len(), c.load(std::sync::atomic::Ordering::Relaxed))
            });
            assert_eq!(*m, (3, 99), "{}", exec.name());
            counter.store(0, SeqCst);
        }
    });
}

// ---------------------------------------------------------------- found bugs

/// Regression test, fixed: `Lazy::map` (and `Lazy::then`) on a `Lazy<Outcome<T>>` whose deadline passes
/// runs the user closure on the crate's single timer thread, which then cannot keep
/// any other deadline: an unrelated awaited future is woken late.
#[test]
fn a_map_closure_on_a_timed_out_upstream_does_not_run_on_or_block_the_timer() {
    within(LIMIT, || {
        let gate = Gate::new();
        let _open = gate.guard();
        let g = gate.clone();
        let up = spawn_lazy_with(Deadline::after(ms(50)), move || g.wait());
        let slow_f = Lazy::map(up, |o| {
            let on = worker_name();
            thread::sleep(ms(1500)); // user code may be slow
            (o.is_timeout(), on)
        });
        thread::sleep(ms(10));
        let g = gate.clone();
        let other = spawn_lazy_with(Deadline::after(ms(150)), move || g.wait());
        let t0 = Instant::now();
        let outcome = pollster::block_on(other);
        let woke = t0.elapsed();
        let (timed_out, on) = Lazy::into_inner(slow_f);
        assert!(timed_out);
        assert_eq!(outcome, Outcome::Timeout);
        assert!(
            woke < ms(900),
            "an unrelated 150 ms deadline was kept only after {woke:?}; the map closure ran on {on:?}"
        );
        assert_ne!(
            on, "transparent-future-timer",
            "user code ran on the timer thread"
        );
    });
}

/// Regression test, fixed: a future spawned on a `ThreadPool` through the generic executor path
/// (`Builder::new().on(&pool).spawn(..).unwrap()`, which `background! { on(pool) .. }` uses) does not know
/// its pool, so a continuation on its already-resolved value starts a new thread
/// instead of running on the pool ("on a ThreadPool, none" in `Lazy::map`'s docs).
#[test]
fn map_of_a_resolved_future_spawned_on_a_pool_runs_on_the_pool() {
    within(LIMIT, || {
        let pool = ThreadPool::new(1);
        let up = Builder::new().on(&pool).spawn(|| 1).unwrap();
        assert_eq!(*up, 1);
        let on = Lazy::map(up, |_| worker_name());
        // A bounded wait never helps: an unbounded one would run the queued
        // continuation on this thread.
        let on = Lazy::wait_timeout(&on, LIMIT).expect("the continuation ran");
        assert!(
            on.starts_with("transparent-future-worker-"),
            "map ran on {on:?}, not on the pool"
        );
    });
}

/// Regression test, fixed: work-helping does not reach through a continuation: a pool task that reads a
/// `Lazy::map` of a task it queued on the same one-worker pool waits forever (the
/// downstream is not helpable, and the only worker is the one waiting).
#[test]
fn reading_a_map_inside_a_one_worker_pool_task_does_not_deadlock() {
    let pool = ThreadPool::new(1);
    let inner = pool.clone();
    let outer = pool.spawn_lazy(move || {
        let x = inner.spawn_lazy(|| 1);
        *Lazy::map(x, |v| v + 1)
    });
    let result = catch_unwind(AssertUnwindSafe(|| {
        within(Duration::from_secs(3), move || Lazy::into_inner(outer))
    }));
    // On failure the worker stays blocked: keep the pool alive rather than join it.
    std::mem::forget(pool);
    assert_eq!(result.map_err(|p| panic_text(p.as_ref())), Ok(2));
}
