//! Calls: order, exclusive access, deadlines, panics, values dropped once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use transparent_future::{Actor, Deadline, Lazy, Outcome, ThreadPool, WaitError};

use crate::support::{panic_text, secs, within};

/// Both kinds of actor, for tests that must hold for each.
pub fn both<S: Send + 'static>(make: impl Fn() -> S) -> Vec<(&'static str, Actor<S>)> {
    let pool = ThreadPool::new(4);
    vec![
        ("thread", Actor::new(make())),
        ("pool", Actor::on(&pool, make())),
    ]
}

#[test]
fn a_call_returns_at_once_and_its_result_is_the_value() {
    within(secs(10), || {
        for (kind, actor) in both(|| vec![1, 2, 3]) {
            let t0 = Instant::now();
            let slow = actor.call(|v| {
                std::thread::sleep(Duration::from_millis(100));
                v.iter().sum::<i32>()
            });
            assert!(
                t0.elapsed() < Duration::from_millis(90),
                "{kind}: call returned at once"
            );
            assert_eq!(slow + 1, 7, "{kind}");
            let len = actor.call(|v| {
                v.push(4);
                v.len()
            });
            assert_eq!(*len, 4, "{kind}");
        }
    });
}

#[test]
fn calls_keep_each_callers_order_under_eight_concurrent_callers() {
    within(secs(60), || {
        for (kind, actor) in both(Vec::<(usize, usize)>::new) {
            let actor = Arc::new(actor);
            let start = Arc::new(Barrier::new(8));
            let callers: Vec<_> = (0..8)
                .map(|caller| {
                    let actor = Arc::clone(&actor);
                    let start = Arc::clone(&start);
                    std::thread::spawn(move || {
                        start.wait();
                        let mut last = None;
                        for seq in 0..500 {
                            last = Some(actor.call(move |log| log.push((caller, seq))));
                        }
                        Lazy::wait(&last.unwrap());
                    })
                })
                .collect();
            callers.into_iter().for_each(|c| c.join().unwrap());
            let log = Lazy::into_inner(actor.call(std::mem::take));
            assert_eq!(log.len(), 8 * 500, "{kind}: every call ran once");
            for caller in 0..8 {
                let seqs: Vec<usize> = log
                    .iter()
                    .filter(|(c, _)| *c == caller)
                    .map(|(_, s)| *s)
                    .collect();
                assert_eq!(
                    seqs,
                    (0..500).collect::<Vec<_>>(),
                    "{kind}: caller {caller} out of order"
                );
            }
        }
    });
}

#[test]
fn calls_run_one_at_a_time_with_exclusive_access() {
    within(secs(60), || {
        let inside = Arc::new(AtomicUsize::new(0));
        let overlaps = Arc::new(AtomicUsize::new(0));
        for (kind, actor) in both(|| 0_u64) {
            let actor = Arc::new(actor);
            let callers: Vec<_> = (0..4)
                .map(|_| {
                    let (actor, inside, overlaps) =
                        (Arc::clone(&actor), inside.clone(), overlaps.clone());
                    std::thread::spawn(move || {
                        let calls: Vec<Lazy<()>> = (0..300)
                            .map(|_| {
                                let (inside, overlaps) = (inside.clone(), overlaps.clone());
                                actor.call(move |n| {
                                    if inside.fetch_add(1, Ordering::SeqCst) != 0 {
                                        overlaps.fetch_add(1, Ordering::SeqCst);
                                    }
                                    let read = *n;
                                    std::hint::spin_loop();
                                    *n = read + 1; // a lost update would show below
                                    inside.fetch_sub(1, Ordering::SeqCst);
                                })
                            })
                            .collect();
                        calls.iter().for_each(|c| {
                            Lazy::wait(c);
                        });
                    })
                })
                .collect();
            callers.into_iter().for_each(|c| c.join().unwrap());
            assert_eq!(*actor.call(|n| *n), 1200, "{kind}: no update lost");
            assert_eq!(
                overlaps.load(Ordering::SeqCst),
                0,
                "{kind}: two calls overlapped"
            );
        }
    });
}

#[test]
fn a_call_that_panics_fails_its_readers_and_the_actor_keeps_serving() {
    within(secs(10), || {
        for (kind, actor) in both(Vec::<u32>::new) {
            actor.call(|v| v.push(1));
            let bad = actor.call(|v| -> usize {
                v.push(2); // the state as the panic leaves it
                std::panic::panic_any(404_u16)
            });
            let after = actor.call(|v| v.clone());
            let Err(WaitError::Panicked(p)) = Lazy::try_wait(&bad) else {
                panic!("{kind}")
            };
            assert_eq!(p.payload().downcast_ref::<u16>(), Some(&404), "{kind}");
            let e =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| *bad + 1)).unwrap_err();
            assert!(
                panic_text(e.as_ref()).contains("background task panicked"),
                "{kind}"
            );
            assert_eq!(
                *after,
                [1, 2],
                "{kind}: served on, with the state the panic left"
            );
            assert!(!actor.is_stopped(), "{kind}");
        }
    });
}

#[test]
fn a_call_with_a_deadline_is_released_at_it_and_its_late_result_is_kept() {
    within(secs(10), || {
        for (kind, actor) in both(|| 0_u32) {
            let busy = actor.call(|_| std::thread::sleep(Duration::from_millis(300)));
            let t0 = Instant::now();
            let queued = actor.call_with(Deadline::after(Duration::from_millis(20)), |n| {
                *n += 1;
                *n
            });
            assert_eq!(*queued, Outcome::Timeout, "{kind}");
            assert!(
                t0.elapsed() < Duration::from_millis(250),
                "{kind}: released at the deadline"
            );
            Lazy::wait(&busy);
            // The call still ran when its turn came; its late result is collectable.
            assert_eq!(*actor.call(|n| *n), 1, "{kind}");
            assert_eq!(
                Lazy::take_late(&queued).map(Result::unwrap),
                Some(1),
                "{kind}"
            );
            let quick = actor.call_with(Duration::from_secs(30), |n| *n * 10);
            assert_eq!(*quick, Outcome::Ready(10), "{kind}");
        }
    });
}

/// Counts its drops.
struct Dropped(Arc<AtomicUsize>);
impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn results_read_unread_and_refused_are_each_dropped_exactly_once() {
    within(secs(20), || {
        for (kind, actor) in both(|| ()) {
            let drops = Arc::new(AtomicUsize::new(0));
            let mut kept = Vec::new();
            for i in 0..200 {
                let d = drops.clone();
                let result = actor.call(move |_| Dropped(d));
                if i % 2 == 0 {
                    Lazy::wait(&result); // read, then dropped with the handle
                    kept.push(result);
                } // else dropped unread, while it may still be queued
            }
            // Closures holding values are refused after a stop: dropped once as well.
            let d = drops.clone();
            let stopper = actor.clone();
            let state = stopper.stop();
            let refused_value = Dropped(d);
            let refused = actor.call(move |_| refused_value);
            Lazy::wait(&state);
            assert!(
                matches!(Lazy::try_wait(&refused), Err(WaitError::Broken(_))),
                "{kind}"
            );
            drop(kept);
            drop(refused);
            let give_up = Instant::now() + Duration::from_secs(10);
            while drops.load(Ordering::SeqCst) < 201 && Instant::now() < give_up {
                std::thread::sleep(Duration::from_millis(2));
            }
            std::thread::sleep(Duration::from_millis(20));
            assert_eq!(
                drops.load(Ordering::SeqCst),
                201,
                "{kind}: every value exactly once"
            );
        }
    });
}

#[test]
fn the_handle_is_send_and_sync_and_clones_share_one_actor() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Actor<Vec<String>>>();
    assert_send_sync::<Actor<std::cell::Cell<u8>>>(); // the state moves, it is never shared
    within(secs(10), || {
        let a = Actor::new(0);
        let b = a.clone();
        std::thread::spawn(move || b.call(|n| *n += 5))
            .join()
            .unwrap();
        assert_eq!(*a.call(|n| *n), 5);
        assert_eq!(
            format!("{a:?}"),
            r#"Actor { state: "i32", worker: "thread", stopped: false }"#
        );
    });
}

#[test]
fn continuations_of_a_call_never_run_on_the_actor() {
    within(secs(10), || {
        let actor = Actor::new(());
        let actor_thread = *actor.call(|_| std::thread::current().id());
        let gate = Arc::new(Barrier::new(2));
        let g = gate.clone();
        let slow = actor.call(move |_| {
            g.wait();
            1
        });
        // Registered while pending: it runs when the actor publishes, but not there.
        let mapped = Lazy::map(slow, |_| std::thread::current().id());
        // The actor is free to serve the next call while the continuation runs.
        let next = actor.call(|_| 2);
        gate.wait();
        assert_ne!(*mapped, actor_thread);
        assert_eq!(*next, 2);
    });
}
