//! Many futures at once: `Lazy::all`,
//! `Lazy::all_with`, `first_done`, `first_done_deadline`, `first_done_timeout` and
//! `as_completed`.
//!
//! * `all` keeps the inputs' order whatever order they finish in, fails at the first
//!   panic with that panic's payload, and gives an empty `Vec` for no inputs;
//!   `all_with` puts one deadline on the whole group and releases its readers there;
//! * `first_done` picks the future that finishes first; the deadline forms give up
//!   near their deadline (not when the tasks end) and leave the futures usable;
//! * `as_completed` yields `(index, future)` in completion order, a future with a
//!   deadline at its deadline (as `Outcome::Timeout`);
//! * no thread per future and no polling loop: 200 pending pool futures are waited for
//!   without 200 threads and without the waiting thread using CPU; inside a one-worker
//!   pool task `first_done`/`as_completed` finish (work-helping);
//! * every value passing through `all`/`as_completed` is dropped exactly once.
//!
//! Each works on thread-per-task, `ThreadPool` and rayon.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{Drops, Gate, Starts, Tracked, executors, ms, panic_of, panic_text, within};
use transparent_future::{
    Deadline, Lazy, NoTimeout, Outcome, ThreadPool, as_completed, first_done, first_done_deadline,
    first_done_timeout,
};

const LIMIT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------- all

#[test]
fn all_keeps_the_input_order_when_later_inputs_finish_first() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            let gates: Vec<Gate> = (0..3).map(|_| Gate::new()).collect();
            let _open: Vec<_> = gates.iter().map(Gate::guard).collect();
            let inputs: Vec<Lazy<usize>> = gates
                .iter()
                .enumerate()
                .map(|(i, g)| {
                    let g = g.clone();
                    e.spawn(move || {
                        g.wait();
                        i * 10
                    })
                })
                .collect();
            let all = Lazy::all(inputs);
            // Finish in the order 2, 1, 0.
            for g in gates.iter().rev() {
                assert!(
                    !Lazy::is_done(&all),
                    "{name}: resolved before the last input"
                );
                g.open();
                thread::sleep(ms(20));
            }
            assert_eq!(*all, [0, 10, 20], "{name}");

            // Many inputs, finishing in reverse order by their sleeps.
            let inputs = (0..16_u64).map(|i| {
                e.spawn(move || {
                    thread::sleep(ms((16 - i) * 3));
                    i
                })
            });
            assert_eq!(
                Lazy::into_inner(Lazy::all(inputs)),
                (0..16).collect::<Vec<_>>()
            );
        });
    }
}

#[test]
fn all_fails_at_the_first_panic_with_its_payload() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            let gate = Gate::new();
            let _open = gate.guard();
            let g = gate.clone();
            let t0 = Instant::now();
            let (started_tx, started) = std::sync::mpsc::channel();
            let inputs = vec![
                e.spawn(move || {
                    started_tx.send(()).unwrap();
                    g.wait(); // never ends while we look
                    1_u32
                }),
                e.spawn(|| -> u32 {
                    thread::sleep(ms(20));
                    panic!("input one failed")
                }),
            ];
            // The blocked input is running on the executor before we read: a reader
            // that helped with it instead (work-helping runs queued work) would block.
            started.recv_timeout(ms(10_000)).unwrap();
            let all = Lazy::all(inputs);
            let msg = panic_of(|| all.len());
            assert!(msg.contains("input one failed"), "{name}: {msg}");
            assert!(t0.elapsed() < ms(3000), "{name}: waited for the slow input");

            // The first panic in time wins; join gives the original payload.
            let g = gate.clone();
            let (started_tx, started) = std::sync::mpsc::channel();
            let inputs = vec![
                e.spawn(move || -> u32 {
                    started_tx.send(()).unwrap();
                    g.wait();
                    panic!("second")
                }),
                e.spawn(|| -> u32 { panic!("first") }),
            ];
            // As above: the gated input runs on the executor, not in a helping reader.
            started.recv_timeout(ms(10_000)).unwrap();
            let payload = Lazy::join(Lazy::all(inputs)).unwrap_err();
            assert_eq!(payload.downcast_ref::<&str>(), Some(&"first"), "{name}");
        });
    }
}

#[test]
fn all_of_no_inputs_is_an_empty_vec_at_once() {
    let all = Lazy::all(Vec::<Lazy<u32>>::new());
    assert!(Lazy::is_done(&all));
    assert!(all.is_empty());
    let with = Lazy::all_with(Deadline::after(ms(1)), std::iter::empty::<Lazy<u32>>());
    assert_eq!(*with, Outcome::Ready(vec![]));
    // Inputs already resolved.
    let all = Lazy::all([Lazy::with_value(1), Lazy::with_value(2)]);
    assert_eq!(*all, [1, 2]);
}

#[test]
fn all_with_shares_one_deadline_and_releases_every_reader_at_it() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            let quick = Lazy::all_with(
                Deadline::after(Duration::from_secs(30)),
                [e.spawn(|| 1), e.spawn(|| 2), e.spawn(|| 3)],
            );
            assert_eq!(*quick, Outcome::Ready(vec![1, 2, 3]), "{name}");

            let gate = Gate::new();
            let _open = gate.guard();
            let g = gate.clone();
            let t0 = Instant::now();
            let late = Lazy::share(Lazy::all_with(
                Deadline::after(ms(200)),
                [
                    e.spawn(|| 1),
                    e.spawn(move || {
                        g.wait();
                        2
                    }),
                ],
            ));
            let readers: Vec<_> = (0..3)
                .map(|_| {
                    let late = late.clone();
                    thread::spawn(move || (*late == Outcome::Timeout, t0.elapsed()))
                })
                .collect();
            for r in readers {
                let (timed_out, took) = r.join().unwrap();
                assert!(timed_out, "{name}");
                assert!(took >= ms(190), "{name}: released early ({took:?})");
                assert!(
                    took < ms(1500),
                    "{name}: not released at the deadline ({took:?})"
                );
            }
        });
    }
}

// ---------------------------------------------------------------- first_done

#[test]
fn first_done_picks_the_fastest() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            let gate = Gate::new();
            let _open = gate.guard();
            let starts = Starts::new();
            let (g1, g2) = (gate.clone(), gate.clone());
            let (s1, s2, s3) = (starts.reporter(), starts.reporter(), starts.reporter());
            let futures = [
                e.spawn(move || {
                    s1.send(()).unwrap();
                    g1.wait();
                    "slow mirror"
                }),
                e.spawn(move || {
                    s2.send(()).unwrap();
                    thread::sleep(ms(30));
                    "fast mirror"
                }),
                e.spawn(move || {
                    s3.send(()).unwrap();
                    g2.wait();
                    "slow too"
                }),
            ];
            // All running (none queued: see the `first_done` bug below).
            starts.wait_for(3);
            let t0 = Instant::now();
            let (i, winner) = first_done(&futures);
            assert_eq!((i, *winner), (1, "fast mirror"), "{name}");
            assert!(t0.elapsed() < ms(3000), "{name}");
            // The others are untouched and still pending.
            assert!(!Lazy::is_done(&futures[0]));
            gate.open();
            assert_eq!(*futures[0], "slow mirror");

            // One already there wins at once.
            let ready = [e.spawn(|| thread::sleep(ms(2000))), Lazy::with_value(())];
            let t0 = Instant::now();
            assert_eq!(first_done(&ready).0, 1, "{name}");
            assert!(t0.elapsed() < ms(1000), "{name}");

            // A panicked winner: reading it panics, as any access would.
            let s = starts.reporter();
            let futures = [
                e.spawn(move || {
                    s.send(()).unwrap();
                    thread::sleep(ms(2000));
                }),
                e.spawn(|| panic!("mirror down")),
            ];
            starts.wait_for(1);
            assert!(
                panic_of(|| first_done(&futures)).contains("mirror down"),
                "{name}"
            );
        });
    }
}

#[test]
fn first_done_of_nothing_panics_in_every_form_without_waiting() {
    let none: [Lazy<u8>; 0] = [];
    let t0 = Instant::now();
    assert!(panic_of(|| first_done(&none)).contains("no futures"));
    let deadline = panic_of(|| first_done_deadline(&none, Instant::now() + ms(500)));
    assert!(
        deadline.contains("first_done_deadline: no futures"),
        "{deadline}"
    );
    let timeout = panic_of(|| first_done_timeout(&none, ms(500)));
    assert!(
        timeout.contains("first_done_timeout: no futures"),
        "{timeout}"
    );
    assert!(
        t0.elapsed() < ms(450),
        "an empty slice is refused at once, not slept on"
    );
}

#[test]
fn first_done_deadline_gives_up_at_the_deadline_and_the_futures_stay_usable() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            let gate = Gate::new();
            let _open = gate.guard();
            let futures: Vec<Lazy<u32>> = (0..3)
                .map(|i| {
                    let g = gate.clone();
                    e.spawn(move || {
                        g.wait();
                        i
                    })
                })
                .collect();
            let t0 = Instant::now();
            assert_eq!(first_done_deadline(&futures, t0 + ms(150)), None, "{name}");
            let took = t0.elapsed();
            assert!(took >= ms(145), "{name}: gave up early ({took:?})");
            assert!(
                took < ms(1500),
                "{name}: not released at the deadline ({took:?})"
            );
            // Still pending, and usable: wait again, then read.
            assert!(futures.iter().all(|f| !Lazy::is_done(f)), "{name}");
            assert_eq!(first_done_timeout(&futures, ms(50)), None);
            gate.open();
            let got = first_done_deadline(&futures, Instant::now() + Duration::from_secs(10));
            let (i, v) = got.expect("ready after the gate opened");
            assert_eq!(*v, i as u32, "{name}");
            assert_eq!(futures.iter().map(|f| **f).sum::<u32>(), 3, "{name}");
        });
    }
}

#[test]
fn first_done_timeout_gives_up_after_its_duration() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            let gate = Gate::new();
            let _open = gate.guard();
            let g = gate.clone();
            let futures = [e.spawn(move || {
                g.wait();
                5
            })];
            let t0 = Instant::now();
            assert_eq!(first_done_timeout(&futures, ms(100)), None, "{name}");
            assert!(t0.elapsed() >= ms(95) && t0.elapsed() < ms(1500), "{name}");
            assert_eq!(first_done_timeout(&futures, ms(50)), None, "{name}");
            let at = Instant::now() + ms(50);
            assert_eq!(first_done_deadline(&futures, at), None, "{name}");
            gate.open();
            assert_eq!(
                first_done_timeout(&futures, Duration::MAX),
                Some((0, &5)),
                "{name}"
            );
            let far = Duration::from_secs(30);
            assert_eq!(first_done_timeout(&futures, far), Some((0, &5)), "{name}");
        });
    }
}

#[test]
fn a_future_with_a_deadline_counts_as_ready_at_its_deadline() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            let gate = Gate::new();
            let _open = gate.guard();
            let (g1, g2) = (gate.clone(), gate.clone());
            let starts = Starts::new();
            let s = starts.reporter();
            let futures = [
                e.spawn_with(NoTimeout, move || {
                    s.send(()).unwrap();
                    g1.wait();
                    1
                }),
                e.spawn_with(Deadline::after(ms(150)), move || {
                    g2.wait();
                    2
                }),
            ];
            starts.wait_for(1); // running, so that first_done does not run it itself
            let t0 = Instant::now();
            let (i, outcome) = first_done(&futures);
            let took = t0.elapsed();
            assert_eq!((i, outcome), (1, &Outcome::Timeout), "{name}");
            assert!(took >= ms(140) && took < ms(1500), "{name}: {took:?}");
        });
    }
}

// ---------------------------------------------------------------- as_completed

#[test]
fn as_completed_yields_in_completion_order() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            let gates: Vec<Gate> = (0..4).map(|_| Gate::new()).collect();
            let _open: Vec<_> = gates.iter().map(Gate::guard).collect();
            let starts = Starts::new();
            let futures: Vec<_> = gates
                .iter()
                .enumerate()
                .map(|(i, g)| {
                    let (g, s) = (g.clone(), starts.reporter());
                    e.spawn(move || {
                        s.send(()).unwrap();
                        g.wait();
                        format!("f{i}")
                    })
                })
                .collect();
            // All running (none queued: see the `as_completed` bug below).
            starts.wait_for(4);
            let mut it = as_completed(futures);
            assert_eq!(it.len(), 4);
            let mut order = Vec::new();
            for next in [2, 0, 3, 1] {
                gates[next].open();
                let (i, f) = it.next().expect("a future left");
                assert!(Lazy::is_done(&f), "{name}: yielded before it was done");
                order.push((i, f.clone()));
            }
            assert!(it.next().is_none());
            let expected: Vec<_> = [2, 0, 3, 1].map(|i| (i, format!("f{i}"))).into();
            assert_eq!(order, expected, "{name}");

            // With sleeps instead of gates, and already-done futures first.
            let futures = [300, 10, 150].map(|d| {
                let s = starts.reporter();
                e.spawn(move || {
                    s.send(()).unwrap();
                    thread::sleep(ms(d));
                    d
                })
            });
            starts.wait_for(3);
            let order: Vec<u64> = as_completed(futures).map(|(_, f)| *f).collect();
            assert_eq!(order, [10, 150, 300], "{name}");
            assert_eq!(as_completed(Vec::<Lazy<u8>>::new()).count(), 0);
        });
    }
}

#[test]
fn as_completed_yields_a_deadline_future_at_its_deadline_as_timeout() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            let gate = Gate::new();
            let _open = gate.guard();
            let (g1, g2) = (gate.clone(), gate.clone());
            let t0 = Instant::now();
            let futures = vec![
                e.spawn_with(Deadline::after(Duration::from_secs(30)), move || {
                    g1.wait();
                    "patient"
                }),
                e.spawn_with(Deadline::after(ms(150)), move || {
                    g2.wait();
                    "late"
                }),
            ];
            let mut it = as_completed(futures);
            let (i, f) = it.next().unwrap();
            let took = t0.elapsed();
            assert_eq!((i, &*f), (1, &Outcome::Timeout), "{name}");
            assert!(took >= ms(140), "{name}: early ({took:?})");
            assert!(
                took < ms(1500),
                "{name}: not yielded at the deadline ({took:?})"
            );
            gate.open();
            let (i, f) = it.next().unwrap();
            assert_eq!((i, &*f), (0, &Outcome::Ready("patient")), "{name}");
            assert!(it.next().is_none());
        });
    }
}

#[test]
fn as_completed_yields_a_panicked_future_whose_reads_panic() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            let starts = Starts::new();
            let s = starts.reporter();
            let futures = vec![
                e.spawn(move || {
                    s.send(()).unwrap();
                    thread::sleep(ms(200));
                    1
                }),
                e.spawn(|| -> i32 { panic!("broken input") }),
            ];
            starts.wait_for(1);
            let mut it = as_completed(futures);
            let (i, f) = it.next().unwrap();
            assert_eq!(i, 1, "{name}");
            assert!(panic_of(|| *f).contains("broken input"), "{name}");
            let payload = Lazy::join(f).unwrap_err();
            assert_eq!(panic_text(payload.as_ref()), "broken input", "{name}");
            let (i, f) = it.next().unwrap();
            assert_eq!((i, *f), (0, 1), "{name}");
        });
    }
}

#[test]
fn first_done_and_as_completed_inside_a_one_worker_pool_task_do_not_deadlock() {
    let pool = ThreadPool::new(1);
    let inner = pool.clone();
    let outer = pool.spawn_lazy(move || {
        let futures: Vec<Lazy<u32>> = (0..5).map(|i| inner.spawn_lazy(move || i * 10)).collect();
        let (i, v) = first_done(&futures);
        let first = (i, *v);
        let mut order: Vec<(usize, u32)> = as_completed(futures).map(|(i, f)| (i, *f)).collect();
        order.sort_unstable();
        (first, order)
    });
    let ((i, v), order) = within(Duration::from_secs(10), move || Lazy::into_inner(outer));
    assert_eq!(v, i as u32 * 10);
    assert_eq!(
        order,
        (0..5).map(|i| (i, i as u32 * 10)).collect::<Vec<_>>()
    );
}

// ---------------------------------------------------------------- drops

#[test]
fn values_passing_through_all_and_as_completed_are_dropped_exactly_once() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            // all: read, then dropped.
            let drops = Drops::new();
            let inputs = (0..5).map(|i| {
                let d = drops.clone();
                e.spawn(move || d.track(i))
            });
            let all = Lazy::all(inputs);
            assert_eq!(all.iter().map(|t| t.value).sum::<u32>(), 10, "{name}");
            assert_eq!(drops.count(), 0, "{name}");
            drop(all);
            drops.expect(5);

            // all, dropped before its inputs are done.
            let gate = Gate::new();
            let _open = gate.guard();
            let drops = Drops::new();
            let inputs = (0..3).map(|i| {
                let (g, d) = (gate.clone(), drops.clone());
                e.spawn(move || {
                    g.wait();
                    d.track(i)
                })
            });
            drop(Lazy::all(inputs));
            gate.open();
            drops.expect(3);

            // all with a panic: the other values, arriving before and after it.
            let gate = Gate::new();
            let _open = gate.guard();
            let drops = Drops::new();
            let starts = Starts::new();
            let (d1, d2, g, s) = (
                drops.clone(),
                drops.clone(),
                gate.clone(),
                starts.reporter(),
            );
            let inputs = vec![
                e.spawn(move || d1.track(1)),
                e.spawn(|| -> Tracked {
                    thread::sleep(ms(30));
                    panic!("one input failed")
                }),
                e.spawn(move || {
                    s.send(()).unwrap();
                    g.wait();
                    d2.track(2)
                }),
            ];
            // The gated input is running before the read: a reader that helped it (it
            // helps queued inputs) would wait on a gate only it opens later.
            starts.wait_for(1);
            let all = Lazy::all(inputs);
            assert!(Lazy::join(all).is_err(), "{name}");
            gate.open();
            drops.expect(2);

            // all_with timed out: the late values.
            let gate = Gate::new();
            let _open = gate.guard();
            let drops = Drops::new();
            let (d1, d2, g) = (drops.clone(), drops.clone(), gate.clone());
            let all = Lazy::all_with(
                Deadline::after(ms(50)),
                [
                    e.spawn(move || d1.track(1)),
                    e.spawn(move || {
                        g.wait();
                        d2.track(2)
                    }),
                ],
            );
            assert_eq!(*all, Outcome::Timeout, "{name}");
            gate.open();
            thread::sleep(ms(30));
            drop(all);
            drops.expect(2);

            // as_completed: yielded futures, and the iterator dropped with some left.
            let gate = Gate::new();
            let _open = gate.guard();
            let drops = Drops::new();
            let starts = Starts::new();
            let futures: Vec<_> = (0..4)
                .map(|i| {
                    let (g, d, s) = (gate.clone(), drops.clone(), starts.reporter());
                    e.spawn(move || {
                        s.send(()).unwrap();
                        if i > 0 {
                            g.wait();
                        }
                        d.track(i)
                    })
                })
                .collect();
            // All running: as_completed would run a queued one itself (see the bug
            // tests below), and here block on the gate.
            starts.wait_for(4);
            let mut it = as_completed(futures);
            let (i, f) = it.next().unwrap();
            assert_eq!((i, f.value), (0, 0), "{name}");
            drop(f);
            drops.expect(1);
            drop(it);
            gate.open();
            drops.expect(4);

            // first_done borrows: the values stay with their futures.
            let drops = Drops::new();
            let futures: Vec<_> = (0..3)
                .map(|i| {
                    let d = drops.clone();
                    e.spawn(move || d.track(i))
                })
                .collect();
            let _ = first_done(&futures).1.value;
            assert_eq!(drops.count(), 0, "{name}");
            drop(futures);
            drops.expect(3);
        });
    }
}

// ---------------------------------------------------------------- found bugs

/// Regression test, fixed: `first_done` helps (runs an unstarted pool task on the calling thread) before
/// it waits, and returns the first future that is ready *after* that help, so a slow
/// queued task it ran itself beats a fast one that finished long before.
#[test]
fn first_done_returns_the_future_that_finished_first_even_when_it_helps() {
    within(LIMIT, || {
        let pool = ThreadPool::new(1);
        let fast = pool.spawn_lazy(|| {
            thread::sleep(ms(50));
            "fast"
        });
        thread::sleep(ms(20)); // the only worker has started `fast`
        let slow = pool.spawn_lazy(|| {
            thread::sleep(ms(1500));
            "slow"
        });
        let futures = [fast, slow];
        let t0 = Instant::now();
        let (i, v) = first_done(&futures);
        let took = t0.elapsed();
        assert_eq!(
            (i, *v),
            (0, "fast"),
            "first_done picked the slow future after {took:?}"
        );
        assert!(took < ms(1000), "{took:?}");
    });
}

/// Regression (same cause as above), fixed: the task `first_done` runs itself can block it past another
/// future's deadline: it is not released at that deadline.
#[test]
fn first_done_is_released_at_a_deadline_while_another_task_is_queued() {
    within(LIMIT, || {
        let pool = ThreadPool::new(1);
        let gate = Gate::new();
        let _open = gate.guard();
        let starts = Starts::new();
        let (g1, g2, s) = (gate.clone(), gate.clone(), starts.reporter());
        let busy = pool.spawn_lazy(move || {
            s.send(()).unwrap();
            g1.wait();
        });
        starts.wait_for(1); // the only worker is busy
        let futures = [
            pool.spawn_lazy_with(NoTimeout, move || {
                g2.wait(); // queued; first_done runs it itself and blocks here
                "queued"
            }),
            pool.spawn_lazy_with(Deadline::after(ms(150)), || "deadline"),
        ];
        let t0 = Instant::now();
        let (i, v) = within(ms(3000), move || {
            let (i, v) = first_done(&futures);
            (i, *v)
        });
        assert_eq!((i, v), (1, Outcome::Timeout), "after {:?}", t0.elapsed());
        drop(busy);
    });
}

/// Regression (same cause as above), fixed: `as_completed` on a pool also runs a queued task itself before
/// it looks again, so a future that completed meanwhile is yielded only once that
/// task is done (the order stays right, the first item comes far too late).
#[test]
fn as_completed_yields_a_completed_future_without_waiting_for_a_queued_one() {
    within(LIMIT, || {
        let pool = ThreadPool::new(1);
        let fast = pool.spawn_lazy(|| {
            thread::sleep(ms(50));
            "fast"
        });
        thread::sleep(ms(20)); // the only worker has started `fast`
        let slow = pool.spawn_lazy(|| {
            thread::sleep(ms(1500));
            "slow"
        });
        let t0 = Instant::now();
        let mut it = as_completed([slow, fast]);
        let (i, f) = it.next().unwrap();
        let took = t0.elapsed();
        assert_eq!((i, *f), (1, "fast"));
        assert!(
            took < ms(1000),
            "the completed future was yielded after {took:?}"
        );
    });
}

/// Regression test, fixed: work-helping does not reach through `Lazy::all`: a pool task that reads
/// `Lazy::all` of tasks it queued on the same one-worker pool waits forever (the
/// combined future is not helpable, and the only worker is the one waiting). Reading
/// the inputs themselves, or `first_done`/`as_completed` over them, works.
#[test]
fn reading_lazy_all_inside_a_one_worker_pool_task_does_not_deadlock() {
    let pool = ThreadPool::new(1);
    let inner = pool.clone();
    let outer = pool.spawn_lazy(move || {
        let parts: Vec<Lazy<u32>> = (0..3).map(|i| inner.spawn_lazy(move || i)).collect();
        Lazy::into_inner(Lazy::all(parts))
    });
    let result = catch_unwind(AssertUnwindSafe(|| {
        within(Duration::from_secs(3), move || Lazy::into_inner(outer))
    }));
    // On failure the worker stays blocked: keep the pool alive rather than join it.
    std::mem::forget(pool);
    assert_eq!(
        result.map_err(|p| panic_text(p.as_ref())),
        Ok(vec![0, 1, 2])
    );
}
