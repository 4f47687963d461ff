//! Scoped futures.
//!
//! `transparent_future::scope(|s| ...)` runs tasks that borrow non-`'static` data; it
//! returns only after all its tasks have finished; a task's panic that no reader saw,
//! before or after its deadline, on its own future or on one it reached through
//! `map`, `then` or `all`, makes `scope` panic once every task has ended (with the
//! task's message), a panic that a reader saw (an access, a checked wait, `join`,
//! `take_late`) does not; a deadline in a scope releases the reader but the scope
//! still waits for the task. Every value is dropped exactly once.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Instant;

use crate::support::{Counted as Tracked, ms, panic_text};
use transparent_future::{Builder, Deadline, Lazy, NoTimeout, Outcome, Scope, WaitError, scope};

#[test]
fn tasks_borrow_non_static_data() {
    let data: Vec<i32> = (1..=4).collect();
    let text = String::from("borrowed, not moved");
    let total = scope(|s| {
        let n = s.spawn_lazy(|| data.len());
        let sum = s.spawn_lazy(|| data.iter().sum::<i32>());
        let words = s.spawn_lazy(|| text.split(' ').count());
        let first = Builder::new().spawn_scoped(s, || data[0]).unwrap();
        *sum as usize + n * 10 + *words + *first as usize
    });
    assert_eq!(total, 10 + 40 + 3 + 1);
    assert_eq!(data.len(), 4);
    assert_eq!(text.len(), 19);
}

#[test]
fn tasks_borrow_mutably_and_run_in_parallel() {
    let mut left = vec![0u64; 1000];
    let mut right = vec![0u64; 1000];
    let t0 = Instant::now();
    scope(|s| {
        let a = s.spawn_lazy(|| {
            thread::sleep(ms(300));
            for (i, x) in left.iter_mut().enumerate() {
                *x = i as u64;
            }
        });
        let b = s.spawn_lazy(|| {
            thread::sleep(ms(300));
            for (i, x) in right.iter_mut().enumerate() {
                *x = 2 * i as u64;
            }
        });
        Lazy::wait(&a);
        Lazy::wait(&b);
    });
    // Both ran at once on their own threads.
    assert!(t0.elapsed() < ms(580), "{:?}", t0.elapsed());
    assert_eq!(left.iter().sum::<u64>(), 499_500);
    assert_eq!(right.iter().sum::<u64>(), 999_000);
}

#[test]
fn scope_returns_only_after_all_tasks_finished() {
    let flags: Vec<AtomicBool> = (0..6).map(|_| AtomicBool::new(false)).collect();
    let t0 = Instant::now();
    let returned = scope(|s| {
        for (i, flag) in flags.iter().enumerate() {
            // Handles dropped at once, never read: the scope still waits.
            drop(s.spawn_lazy(move || {
                thread::sleep(ms(20 * (i as u64 + 1)));
                flag.store(true, SeqCst);
            }));
        }
        // Handles kept but not read.
        let kept = s.spawn_lazy(|| {
            thread::sleep(ms(100));
            7
        });
        assert!(
            flags.iter().all(|f| !f.load(SeqCst)),
            "tasks finished too soon"
        );
        kept
    });
    let elapsed = t0.elapsed();
    assert!(
        flags.iter().all(|f| f.load(SeqCst)),
        "scope returned before its tasks"
    );
    assert!(elapsed >= ms(120), "{elapsed:?}");
    // A future may leave its scope (its value is owned); it is resolved by then.
    assert!(Lazy::is_done(&returned));
    assert_eq!(*returned, 7);
}

#[test]
fn tasks_spawn_tasks_through_a_cloned_scope() {
    let words = ["a", "bb", "ccc", "dddd"];
    let done = AtomicUsize::new(0);
    let total = scope(|s| {
        let s2: Scope<'_, '_> = s.clone();
        let (done, words) = (&done, &words);
        let outer = s.spawn_lazy(move || {
            let inner: Vec<Lazy<usize>> = words
                .iter()
                .map(|w| {
                    s2.spawn_lazy(move || {
                        thread::sleep(ms(10));
                        done.fetch_add(1, SeqCst);
                        w.len()
                    })
                })
                .collect();
            inner.iter().map(|x| **x).sum::<usize>()
        });
        // Tasks spawned without being waited on still end before `scope` returns.
        let s3 = s.clone();
        drop(s.spawn_lazy(move || {
            drop(s3.spawn_lazy(move || {
                thread::sleep(ms(60));
                done.fetch_add(1, SeqCst);
            }));
        }));
        *outer
    });
    assert_eq!(total, 10);
    assert_eq!(done.load(SeqCst), 5);
}

#[test]
fn an_unjoined_panic_makes_scope_panic_after_all_tasks_end() {
    let slow_done = AtomicBool::new(false);
    let t0 = Instant::now();
    let err = catch_unwind(AssertUnwindSafe(|| {
        scope(|s| {
            drop(s.spawn_lazy(|| -> u8 { panic!("scoped-boom-42") }));
            drop(s.spawn_lazy(|| {
                thread::sleep(ms(150));
                slow_done.store(true, SeqCst);
            }));
            "the closure returned"
        })
    }))
    .unwrap_err();
    let msg = panic_text(err.as_ref());
    assert!(msg.contains("scoped-boom-42"), "{msg}");
    // The panic came only after every task ended.
    assert!(
        slow_done.load(SeqCst),
        "scope panicked before all tasks ended"
    );
    assert!(t0.elapsed() >= ms(150));
}

#[test]
fn a_panic_read_through_deref_or_a_checked_wait_does_not_make_scope_panic() {
    let r = catch_unwind(AssertUnwindSafe(|| {
        scope(|s| {
            let x = s.spawn_lazy(|| -> u8 { panic!("read-by-deref") });
            let read = catch_unwind(AssertUnwindSafe(|| *x));
            assert!(panic_text(read.unwrap_err().as_ref()).contains("read-by-deref"));
            let y = s.spawn_lazy(|| -> u8 { panic!("read-by-try-wait") });
            assert!(matches!(Lazy::try_wait(&y), Err(WaitError::Panicked(_))));
            3
        })
    }));
    assert_eq!(
        r.ok(),
        Some(3),
        "scope panicked although every panic was read"
    );
}

/// The panic of a task with a deadline, raised before the deadline (`on_time`) or
/// after it (a late panic): unread, `scope` panics; read (`*x` on time, `take_late`
/// late), it does not.
fn scope_with_a_panicking_deadline_task(on_time: bool, read: bool) -> Result<u8, String> {
    let message = if on_time { "on-time-boom" } else { "late-boom" };
    catch_unwind(AssertUnwindSafe(|| {
        scope(|s| {
            let (deadline, work) = if on_time {
                (ms(20_000), ms(0))
            } else {
                (ms(10), ms(150))
            };
            let x = Builder::new()
                .timeout(Deadline::after(deadline))
                .spawn_scoped(s, move || -> u8 {
                    thread::sleep(work);
                    panic!("{message}")
                })
                .unwrap();
            if on_time {
                if read {
                    let seen = catch_unwind(AssertUnwindSafe(|| Lazy::wait(&x).is_ready()));
                    assert!(panic_text(seen.unwrap_err().as_ref()).contains(message));
                }
            } else {
                assert!(x.is_timeout(), "released at the deadline");
                if read {
                    let until = Instant::now() + ms(10_000);
                    let late = loop {
                        if let Some(late) = Lazy::take_late(&x) {
                            break late;
                        }
                        assert!(Instant::now() < until, "the late panic never came");
                        thread::sleep(ms(5));
                    };
                    assert_eq!(panic_text(late.unwrap_err().as_ref()), message);
                }
            }
            if !on_time || !read {
                drop(x);
            }
            9
        })
    }))
    .map_err(|p| panic_text(p.as_ref()))
}

#[test]
fn an_unread_panic_makes_scope_panic_before_or_after_the_deadline() {
    for on_time in [true, false] {
        let r = scope_with_a_panicking_deadline_task(on_time, false);
        let msg = r.expect_err("scope returned although a panic was never read");
        assert!(msg.contains("a scoped background task panicked"), "{msg}");
        assert!(msg.contains(if on_time { "on-time-boom" } else { "late-boom" }));
    }
}

#[test]
fn a_read_panic_does_not_make_scope_panic_before_or_after_the_deadline() {
    for on_time in [true, false] {
        assert_eq!(
            scope_with_a_panicking_deadline_task(on_time, true),
            Ok(9),
            "on time: {on_time}"
        );
    }
}

/// How a scoped task's panic goes through a combinator.
#[derive(Clone, Copy, Debug)]
enum Through {
    Map,
    Then,
    All,
}

/// A scoped task panics and its future goes into `through`; the combinator's future is
/// read (and panics) or dropped unread.
fn scope_with_a_panic_through(through: Through, read: bool) -> Result<u8, String> {
    catch_unwind(AssertUnwindSafe(|| {
        scope(|s| {
            let a = s.spawn_lazy(|| -> u8 { panic!("through-boom") });
            let derived: Lazy<u8> = match through {
                Through::Map => Lazy::map(a, |v| v + 1),
                Through::Then => Lazy::then(a, |v| Lazy::with_value(v + 1)),
                Through::All => Lazy::map(Lazy::all([a, s.spawn_lazy(|| 2)]), |v| v[0]),
            };
            if read {
                let seen = catch_unwind(AssertUnwindSafe(|| *derived));
                assert!(panic_text(seen.unwrap_err().as_ref()).contains("through-boom"));
            } else {
                drop(derived);
            }
            7
        })
    }))
    .map_err(|p| panic_text(p.as_ref()))
}

#[test]
fn a_panic_that_went_into_an_unread_combinator_makes_scope_panic() {
    for through in [Through::Map, Through::Then, Through::All] {
        let msg = scope_with_a_panic_through(through, false)
            .expect_err(&format!("{through:?}: the panic was lost"));
        assert!(msg.contains("through-boom"), "{through:?}: {msg}");
    }
}

#[test]
fn a_panic_read_through_a_combinator_does_not_make_scope_panic() {
    for through in [Through::Map, Through::Then, Through::All] {
        assert_eq!(
            scope_with_a_panic_through(through, true),
            Ok(7),
            "{through:?}"
        );
    }
}

#[test]
fn a_panic_taken_with_join_does_not_make_scope_panic() {
    let r = catch_unwind(AssertUnwindSafe(|| {
        scope(|s| {
            let x = s.spawn_lazy(|| -> u8 { panic!("joined-boom") });
            let payload = Lazy::join(x).unwrap_err();
            assert_eq!(panic_text(payload.as_ref()), "joined-boom");
            let y = s.spawn_lazy(|| 5);
            *y + 1
        })
    }));
    assert_eq!(
        r.ok(),
        Some(6),
        "scope panicked although the panic was joined"
    );
}

#[test]
fn the_scope_closures_own_panic_propagates_after_the_tasks_end() {
    let done = AtomicBool::new(false);
    let err = catch_unwind(AssertUnwindSafe(|| {
        scope(|s| {
            drop(s.spawn_lazy(|| {
                thread::sleep(ms(80));
                done.store(true, SeqCst);
            }));
            panic!("closure-boom");
        })
    }))
    .unwrap_err();
    assert!(panic_text(err.as_ref()).contains("closure-boom"));
    assert!(done.load(SeqCst));
}

#[test]
fn a_deadline_releases_the_reader_but_not_the_scope() {
    let data = [7u8; 32];
    let finished = AtomicBool::new(false);
    let t0 = Instant::now();
    let (outcome, released_after) = scope(|s| {
        let x = Builder::new()
            .timeout(Deadline::after(ms(40)))
            .spawn_scoped(s, || {
                thread::sleep(ms(400));
                finished.store(true, SeqCst);
                data.len()
            })
            .unwrap();
        let outcome = *x; // released at the deadline
        let released_after = t0.elapsed();
        assert!(!finished.load(SeqCst));
        (outcome, released_after)
    });
    let elapsed = t0.elapsed();
    assert_eq!(outcome, Outcome::Timeout);
    assert!(released_after >= ms(40), "{released_after:?}");
    assert!(
        released_after < ms(350),
        "reader not released at the deadline: {released_after:?}"
    );
    // The scope waited for the late task: the borrow of `data` ended inside it.
    assert!(elapsed >= ms(400), "{elapsed:?}");
    assert!(finished.load(SeqCst));

    // In time, the outcome is Ready; a bounded wait only gives up one wait.
    let v = scope(|s| {
        let x = Builder::new()
            .timeout(NoTimeout)
            .spawn_scoped(s, || data[0])
            .unwrap();
        let y = s.spawn_lazy(|| {
            thread::sleep(ms(100));
            data[1]
        });
        assert_eq!(Lazy::wait_timeout(&y, ms(5)), Err(WaitError::Timeout));
        (*x, *y)
    });
    assert_eq!(v, (Outcome::Ready(7), 7));
}

#[test]
fn a_late_value_in_a_scope_can_be_taken_after_the_scope() {
    let x = scope(|s| {
        Builder::new()
            .timeout(Deadline::after(ms(10)))
            .spawn_scoped(s, || {
                thread::sleep(ms(100));
                String::from("late")
            })
            .unwrap()
    });
    // The scope waited for the task, so the late value is there.
    assert!(x.is_timeout());
    assert_eq!(Lazy::take_late(&x).map(|r| r.unwrap()), Some("late".into()));
}

#[test]
fn scope_drops_every_value_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let kept = Mutex::new(Vec::new());
    let escaped = scope(|s| {
        // Read.
        for i in 0..5 {
            let d = Arc::clone(&drops);
            let x = s.spawn_lazy(move || Tracked(d, i));
            assert_eq!(x.1, i);
        }
        // Never read, dropped early.
        for i in 0..5 {
            let d = Arc::clone(&drops);
            drop(s.spawn_lazy(move || {
                thread::sleep(ms(5));
                Tracked(d, i)
            }));
        }
        // Late, never collected; late, collected.
        let d = Arc::clone(&drops);
        let late = Builder::new()
            .timeout(Deadline::after(ms(5)))
            .spawn_scoped(s, move || {
                thread::sleep(ms(60));
                Tracked(d, 100)
            })
            .unwrap();
        assert!(late.is_timeout());
        drop(late);
        let d = Arc::clone(&drops);
        let late2 = Builder::new()
            .timeout(Deadline::after(ms(5)))
            .spawn_scoped(s, move || {
                thread::sleep(ms(60));
                Tracked(d, 101)
            })
            .unwrap();
        assert!(late2.is_timeout());
        // By value, and kept beyond the scope.
        let d = Arc::clone(&drops);
        kept.lock()
            .unwrap()
            .push(Lazy::into_inner(s.spawn_lazy(move || Tracked(d, 200))));
        let d = Arc::clone(&drops);
        let captured = Tracked(d, 300);
        let joined = Lazy::join(s.spawn_lazy(move || -> u8 {
            let _c = captured;
            panic!("drop-boom")
        }));
        assert!(joined.is_err());
        let d = Arc::clone(&drops);
        let escaping = s.spawn_lazy(move || Tracked(d, 400));
        (late2, escaping)
    });
    // 5 read + 5 unread + 1 late uncollected + 1 captured by the panicking task.
    assert_eq!(drops.load(SeqCst), 12);
    let (late2, escaping) = escaped;
    let taken = Lazy::take_late(&late2).expect("the scope waited for the late task");
    assert_eq!(taken.unwrap().1, 101);
    assert_eq!(drops.load(SeqCst), 13);
    assert_eq!(escaping.1, 400);
    drop((late2, escaping));
    assert_eq!(drops.load(SeqCst), 14);
    drop(kept);
    assert_eq!(drops.load(SeqCst), 15);
}
