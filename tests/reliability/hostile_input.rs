//! Bad input and hostile use.
//!
//! Extreme deadlines and limits, constructors given nonsense, a value whose `Display`
//! panics, executors that drop or refuse tasks, a pool dropped from inside its own
//! task, and a task returning while its only reader is being dropped. Each case ends
//! with a clear error or message; none hangs (every scenario runs under a watchdog) and
//! no value is lost or dropped twice.

use std::fmt;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{gate, panic_text, panics_with, secs, within};
use transparent_future::executor::{Executor, Runnable};
use transparent_future::{
    Builder, Deadline, Lazy, Outcome, SharedLazy, ThreadPool, WaitError, first_done,
    first_done_deadline, first_done_timeout, spawn_lazy, spawn_lazy_with,
};

/// An instant that has already passed.
fn past() -> Instant {
    let now = Instant::now();
    now.checked_sub(Duration::from_secs(1)).unwrap_or(now)
}

/// Counts drops of `Tracked` values and of closures.
#[derive(Default)]
struct Counter {
    drops: AtomicUsize,
}

impl Counter {
    fn drops(&self) -> usize {
        self.drops.load(SeqCst)
    }

    #[track_caller]
    fn expect(&self, n: usize) {
        let until = Instant::now() + Duration::from_secs(10);
        while self.drops() != n {
            assert!(
                Instant::now() < until,
                "expected {n} drops, saw {}",
                self.drops()
            );
            thread::sleep(Duration::from_millis(1));
        }
        thread::sleep(Duration::from_millis(20));
        assert_eq!(self.drops(), n, "dropped more than once");
    }
}

struct Tracked(Arc<Counter>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.drops.fetch_add(1, SeqCst);
    }
}

// ---------------------------------------------------------------------------------
// Deadlines at Duration::MAX, far away, and in the past.
// ---------------------------------------------------------------------------------

#[test]
fn a_deadline_of_duration_max_means_no_deadline_everywhere() {
    within(secs(30), || {
        let (open, wait) = gate();
        let x = spawn_lazy_with(Deadline::after(Duration::MAX), move || {
            wait();
            1
        });
        let opener = thread::spawn(move || {
            thread::sleep(Duration::from_millis(50));
            open.send(()).unwrap();
        });
        // Blocks until the task returns: no overflow, no instant timeout.
        assert_eq!(*x, Outcome::Ready(1));
        opener.join().unwrap();

        assert_eq!(*spawn_lazy_with(Duration::MAX, || 2), Outcome::Ready(2));
        let pool = ThreadPool::new(1);
        assert_eq!(
            *pool.spawn_lazy_with(Deadline::after(Duration::MAX), || 3),
            Outcome::Ready(3)
        );
        let b = Builder::new()
            .timeout(Deadline::after(Duration::MAX))
            .spawn(|| 4)
            .unwrap();
        assert_eq!(*b, Outcome::Ready(4));
        let c = Builder::new()
            .timeout(Deadline::after(Duration::MAX))
            .spawn_cancellable(|t| (t.deadline(), t.is_cancelled()))
            .unwrap();
        assert_eq!(*c, Outcome::Ready((None, false)));
        let all = Lazy::all_with(
            Deadline::after(Duration::MAX),
            [spawn_lazy(|| 5), spawn_lazy(|| 6)],
        );
        assert_eq!(*all, Outcome::Ready(vec![5, 6]));
        let mapped = Lazy::map_ready(spawn_lazy_with(Deadline::after(Duration::MAX), || 7), |v| {
            v + 1
        });
        assert_eq!(*mapped, Outcome::Ready(8));
        let futures = [spawn_lazy(|| 9)];
        assert_eq!(first_done_timeout(&futures, Duration::MAX), Some((0, &9)));
        let empty = panics_with("no futures to wait for", || {
            first_done_timeout::<u8>(&[], Duration::MAX)
        });
        assert!(empty.contains("first_done_timeout"), "{empty}");
    });
}

#[test]
fn a_deadline_far_in_the_future_works_and_does_not_stall_the_timer() {
    within(secs(30), || {
        let Some(far) = Instant::now().checked_add(Duration::from_secs(100 * 365 * 24 * 3600))
        else {
            return; // this platform's Instant cannot reach a century ahead
        };
        let x = spawn_lazy_with(Deadline::at(far), || 1);
        assert_eq!(*x, Outcome::Ready(1));
        assert_eq!(Lazy::wait_deadline(&x, far), Ok(&Outcome::Ready(1)));

        // A watched future with a far deadline puts a far entry on the timer...
        let (open_far, wait_far) = gate();
        let far_mapped = Lazy::map_ready(
            spawn_lazy_with(Deadline::at(far), move || {
                wait_far();
                2
            }),
            |v| v * 10,
        );
        // ...which must not delay a near deadline scheduled after it: nobody reads
        // `near`, so only the timer can decide it and run the continuation.
        let (open_near, wait_near) = gate();
        let (seen_tx, seen) = mpsc::channel();
        let near = spawn_lazy_with(Deadline::after(Duration::from_millis(30)), move || {
            wait_near();
            3
        });
        let _follow = Lazy::map(near, move |o| seen_tx.send(o).unwrap());
        assert_eq!(
            seen.recv_timeout(Duration::from_secs(10)),
            Ok(Outcome::Timeout),
            "the timer never decided the near deadline"
        );
        open_near.send(()).unwrap();
        open_far.send(()).unwrap();
        assert_eq!(*far_mapped, Outcome::Ready(20));
    });
}

#[test]
fn a_deadline_in_the_past_is_a_timeout_at_once_and_the_late_value_is_kept() {
    within(secs(30), || {
        let drops = Arc::new(Counter::default());
        let t0 = Instant::now();
        let (open, wait) = gate();
        let d = Arc::clone(&drops);
        let x = spawn_lazy_with(Deadline::at(past()), move || {
            wait();
            Tracked(d)
        });
        assert!(matches!(*x, Outcome::Timeout));
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "the reader waited for the task"
        );
        open.send(()).unwrap();
        let until = Instant::now() + Duration::from_secs(10);
        let late = loop {
            if let Some(late) = Lazy::take_late(&x) {
                break late;
            }
            assert!(Instant::now() < until, "the late value never arrived");
            thread::sleep(Duration::from_millis(1));
        };
        assert!(late.is_ok());
        assert_eq!(drops.drops(), 0);
        drop(late);
        drop(x);
        drops.expect(1);

        // A zero duration, on a pool and on a builder; an immediate task may or may not
        // make it, a gated one cannot.
        let pool = ThreadPool::new(1);
        let (open, wait) = gate();
        let p = pool.spawn_lazy_with(Deadline::after(Duration::ZERO), move || {
            wait();
            1
        });
        assert_eq!(*p, Outcome::Timeout);
        open.send(()).unwrap();
        let (open, wait) = gate();
        let b = Builder::new()
            .timeout(Deadline::at(past()))
            .spawn(move || {
                wait();
                1
            })
            .unwrap();
        assert_eq!(*b, Outcome::Timeout);
        open.send(()).unwrap();
        // A cancellable task sees its past deadline as a cancellation from the start.
        let c = Builder::new()
            .timeout(Deadline::at(past()))
            .spawn_cancellable(|t| t.is_cancelled())
            .unwrap();
        assert_eq!(*c, Outcome::Timeout);
        let until = Instant::now() + Duration::from_secs(10);
        let late = loop {
            if let Some(late) = Lazy::take_late(&c) {
                break late.unwrap();
            }
            assert!(Instant::now() < until);
            thread::sleep(Duration::from_millis(1));
        };
        assert!(late, "the token reports the past deadline");
        // A group and a map under a past deadline.
        let all = Lazy::all_with(
            Deadline::at(past()),
            [Lazy::with_value(1), Lazy::with_value(2)],
        );
        assert_eq!(*all, Outcome::Timeout);
        let (open, wait) = gate();
        let mapped = Lazy::map_ready(
            spawn_lazy_with(Deadline::at(past()), move || {
                wait();
                1
            }),
            |v| v + 1,
        );
        assert_eq!(*mapped, Outcome::Timeout);
        open.send(()).unwrap();
    });
}

#[test]
fn waits_with_zero_past_and_maximal_limits_behave_and_leave_the_future_usable() {
    within(secs(30), || {
        let (open, wait) = gate();
        let x = spawn_lazy(move || {
            wait();
            String::from("value")
        });
        let t0 = Instant::now();
        assert_eq!(
            Lazy::wait_timeout(&x, Duration::ZERO),
            Err(WaitError::Timeout)
        );
        assert_eq!(Lazy::wait_deadline(&x, past()), Err(WaitError::Timeout));
        assert_eq!(
            Lazy::wait_timeout(&x, Duration::ZERO),
            Err(WaitError::Timeout)
        );
        assert_eq!(Lazy::wait_deadline(&x, past()), Err(WaitError::Timeout));
        assert_eq!(
            Lazy::wait_timeout(&x, Duration::from_nanos(1)),
            Err(WaitError::Timeout)
        );
        assert!(t0.elapsed() < Duration::from_secs(5), "a past limit waited");
        assert!(!Lazy::is_done(&x));
        assert_eq!(Lazy::get(&x), None);
        assert_eq!(format!("{x:?}"), "Lazy(<pending>)");

        // Duration::MAX waits for the value (released by another thread).
        let opener = thread::spawn(move || {
            thread::sleep(Duration::from_millis(50));
            open.send(()).unwrap();
        });
        assert_eq!(
            Lazy::wait_timeout(&x, Duration::MAX).map(String::as_str),
            Ok("value")
        );
        opener.join().unwrap();
        assert_eq!(
            Lazy::wait_timeout(&x, Duration::MAX).map(String::as_str),
            Ok("value")
        );
        // Once resolved, any limit, even a past one, returns the value.
        assert_eq!(
            Lazy::wait_deadline(&x, past()).map(String::as_str),
            Ok("value")
        );
        assert_eq!(
            Lazy::wait_deadline(&x, past()).map(String::as_str),
            Ok("value")
        );
        assert_eq!(
            Lazy::wait_timeout(&x, Duration::ZERO).map(String::as_str),
            Ok("value")
        );

        // A resolved but not yet cached future, read with a past limit.
        let y = spawn_lazy(|| 5);
        let until = Instant::now() + Duration::from_secs(10);
        while !Lazy::is_done(&y) {
            assert!(Instant::now() < until);
            thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(Lazy::wait_deadline(&y, past()), Ok(&5));

        // A panicked future: a past limit still reports the panic, not a timeout.
        let bad = spawn_lazy(|| -> u8 { panic!("hostile boom") });
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            match Lazy::wait_deadline(&bad, past()) {
                Err(WaitError::Timeout) if Instant::now() < until => {
                    thread::sleep(Duration::from_millis(1))
                }
                Err(WaitError::Panicked(m)) => {
                    assert!(m.to_string().contains("hostile boom"), "{m}");
                    break;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        match Lazy::wait_timeout(&bad, Duration::ZERO) {
            Err(WaitError::Panicked(p)) => assert_eq!(p.message(), "hostile boom"),
            other => panic!("a zero limit must report the panic, got {other:?}"),
        }
        panics_with("hostile boom", || *bad);
        // A limit too large to represent is a wait without one: it reports the panic too.
        match Lazy::wait_timeout(&bad, Duration::MAX) {
            Err(WaitError::Panicked(p)) => assert_eq!(p.message(), "hostile boom"),
            other => panic!("a maximal limit must report the panic, got {other:?}"),
        }

        // A future whose own deadline passed: a past limit gives the timeout value.
        let (open, wait) = gate();
        let late = spawn_lazy_with(Deadline::after(Duration::from_millis(10)), wait);
        thread::sleep(Duration::from_millis(30));
        assert_eq!(Lazy::wait_deadline(&late, past()), Ok(&Outcome::Timeout));
        assert_eq!(
            Lazy::wait_timeout(&late, Duration::ZERO),
            Ok(&Outcome::Timeout)
        );
        open.send(()).unwrap();
    });
}

#[test]
fn first_done_forms_with_past_limits_return_at_once() {
    within(secs(30), || {
        let t0 = Instant::now();
        // An empty slice has no first future done: the same refusal as `first_done`.
        panics_with("no futures to wait for", || {
            first_done_deadline::<u8>(&[], past())
        });
        let (open, wait) = gate();
        let pending = [spawn_lazy(move || {
            wait();
            1
        })];
        assert_eq!(first_done_deadline(&pending, past()), None);
        assert_eq!(first_done_timeout(&pending, Duration::ZERO), None);
        assert!(t0.elapsed() < Duration::from_secs(5));
        let ready = [Lazy::with_value(7)];
        assert_eq!(first_done_deadline(&ready, past()), Some((0, &7)));
        open.send(()).unwrap();
        assert_eq!(first_done(&pending), (0, &1));
    });
}

// ---------------------------------------------------------------------------------
// Nonsense given to constructors.
// ---------------------------------------------------------------------------------

#[test]
fn a_pool_of_zero_workers_is_refused_with_a_clear_message() {
    panics_with("a ThreadPool needs at least one worker", || {
        ThreadPool::new(0)
    });
    let err = ThreadPool::try_new(0).expect_err("zero workers is an error");
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    assert!(
        err.to_string()
            .contains("a ThreadPool needs at least one worker"),
        "{err}"
    );
}

#[test]
fn first_done_of_nothing_panics_with_a_clear_message() {
    let text = panics_with("first_done: no futures to wait for", || {
        first_done::<u32>(&[]).0
    });
    assert!(
        text.starts_with("first_done: no futures to wait for"),
        "{text}"
    );
}

// ---------------------------------------------------------------------------------
// A value whose Display panics.
// ---------------------------------------------------------------------------------

struct BadDisplay(u32);

impl fmt::Display for BadDisplay {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("display exploded on {}", self.0)
    }
}

impl fmt::Debug for BadDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BadDisplay({})", self.0)
    }
}

#[test]
fn a_panic_in_the_values_display_reaches_the_formatter_and_the_future_stays_usable() {
    within(secs(30), || {
        let (open, wait) = gate();
        let x = spawn_lazy(move || {
            wait();
            BadDisplay(7)
        });
        open.send(()).unwrap();
        // The first access is the Display itself: it waits, caches, then panics.
        let text = panics_with("display exploded on 7", || format!("{x}"));
        assert_eq!(text, "display exploded on 7");
        panics_with("display exploded on 7", || x.to_string());
        assert_eq!(format!("{x:?}"), "Lazy(BadDisplay(7))");
        assert!(Lazy::is_done(&x));
        assert_eq!(x.0, 7);
        assert_eq!(Lazy::try_wait(&x).map(|v| v.0), Ok(7));
        let shared = Lazy::share(x);
        let again = shared.clone();
        panics_with("display exploded on 7", || format!("{}", *again));
        assert_eq!(format!("{shared:?}"), "SharedLazy(BadDisplay(7))");
        drop(again);
        let x = SharedLazy::try_unwrap(shared).ok().unwrap();
        assert_eq!(Lazy::into_inner(x).0, 7);
    });
}

// ---------------------------------------------------------------------------------
// Executors that drop, refuse or mishandle tasks.
// ---------------------------------------------------------------------------------

const DROPPED: &str = "the executor dropped the task without running it";

/// Drops every task at once and says it accepted it.
struct Discard;

impl Executor for Discard {
    fn execute(&self, task: Runnable) -> io::Result<()> {
        drop(task);
        Ok(())
    }
}

/// Turns the task into a boxed closure and drops that.
struct DiscardBoxed;

impl Executor for DiscardBoxed {
    fn execute(&self, task: Runnable) -> io::Result<()> {
        drop(task.into_boxed());
        Ok(())
    }
}

/// Keeps the task for a while, then drops it; never lets a reader help.
struct DropLater(Duration);

impl Executor for DropLater {
    fn execute(&self, task: Runnable) -> io::Result<()> {
        let delay = self.0;
        thread::spawn(move || {
            thread::sleep(delay);
            drop(task);
        });
        Ok(())
    }

    fn allows_helping(&self) -> bool {
        false
    }
}

/// Panics in `execute`.
struct Explode;

impl Executor for Explode {
    fn execute(&self, _task: Runnable) -> io::Result<()> {
        panic!("executor exploded")
    }
}

/// Runs the task, then claims it refused it.
struct RunThenRefuse;

impl Executor for RunThenRefuse {
    fn execute(&self, task: Runnable) -> io::Result<()> {
        task.run();
        Err(io::Error::other("refused after running"))
    }
}

/// Keeps the task to run later, and claims it refused it.
struct KeepAndRefuse(Mutex<Vec<Runnable>>);

impl Executor for KeepAndRefuse {
    fn execute(&self, task: Runnable) -> io::Result<()> {
        self.0.lock().unwrap().push(task);
        Err(io::Error::other("refused but kept"))
    }
}

/// A closure capture that counts its drops and whether the closure ran.
fn tracked_closure(
    counter: &Arc<Counter>,
    ran: &Arc<AtomicUsize>,
) -> impl FnOnce() -> u32 + Send + 'static {
    let guard = Tracked(Arc::clone(counter));
    let ran = Arc::clone(ran);
    move || {
        let _guard = guard;
        ran.fetch_add(1, SeqCst);
        5
    }
}

#[test]
fn a_task_dropped_unrun_fails_its_readers_with_a_clear_panic() {
    within(secs(30), || {
        for (name, executor) in [
            ("discard", &Discard as &dyn Executor),
            ("discard boxed", &DiscardBoxed),
        ] {
            let (drops, ran) = (Arc::new(Counter::default()), Arc::new(AtomicUsize::new(0)));
            let x = Builder::new()
                .on(&executor)
                .spawn(tracked_closure(&drops, &ran))
                .unwrap();
            drops.expect(1);
            assert_eq!(ran.load(SeqCst), 0, "{name}: the closure ran");
            assert!(Lazy::is_done(&x), "{name}: an abandoned task is decided");
            assert_eq!(format!("{x:?}"), "Lazy(<panicked>)");
            let text = panics_with(DROPPED, || *x);
            assert!(text.contains(DROPPED), "{name}: {text}");
            match Lazy::try_wait(&x) {
                Err(WaitError::Panicked(m)) => assert!(m.message().contains(DROPPED), "{m}"),
                other => panic!("{name}: {other:?}"),
            }
            panics_with(DROPPED, || {
                *Lazy::map(Builder::new().on(&executor).spawn(|| 1).unwrap(), |v| v + 1)
            });
            panics_with(DROPPED, || {
                Lazy::all([Builder::new().on(&executor).spawn(|| 1).unwrap()]).len()
            });
            let payload =
                Lazy::join(Builder::new().on(&executor).spawn(|| 1).unwrap()).unwrap_err();
            assert_eq!(payload.downcast_ref::<&str>(), Some(&DROPPED));
        }
    });
}

#[test]
fn a_reader_blocked_on_a_task_the_executor_drops_later_is_released() {
    within(secs(30), || {
        let (drops, ran) = (Arc::new(Counter::default()), Arc::new(AtomicUsize::new(0)));
        let executor = DropLater(Duration::from_millis(100));
        let x = Lazy::share(
            Builder::new()
                .on(&executor)
                .spawn(tracked_closure(&drops, &ran))
                .unwrap(),
        );
        let readers: Vec<_> = (0..3)
            .map(|i| {
                let x = x.clone();
                thread::spawn(move || match i {
                    0 => panic_text(catch_unwind(AssertUnwindSafe(|| *x)).unwrap_err().as_ref()),
                    1 => match Lazy::try_wait(SharedLazy::as_lazy(&x)) {
                        Err(WaitError::Panicked(m)) => m.to_string(),
                        other => format!("unexpected {other:?}"),
                    },
                    _ => match SharedLazy::wait_timeout(&x, Duration::from_secs(20)) {
                        Err(WaitError::Panicked(m)) => m.to_string(),
                        other => format!("unexpected {other:?}"),
                    },
                })
            })
            .collect();
        for r in readers {
            let m = r.join().unwrap();
            assert!(m.contains(DROPPED), "{m}");
        }
        drops.expect(1);
        assert_eq!(ran.load(SeqCst), 0);
    });
}

#[test]
fn an_executor_that_panics_or_lies_never_runs_twice_nor_loses_a_drop() {
    within(secs(30), || {
        // Panics in execute: the spawn panics with the executor's message; the closure
        // is dropped once, never run.
        let (drops, ran) = (Arc::new(Counter::default()), Arc::new(AtomicUsize::new(0)));
        panics_with("executor exploded", || {
            Builder::new()
                .on(&Explode)
                .spawn(tracked_closure(&drops, &ran))
                .unwrap()
        });
        drops.expect(1);
        assert_eq!(ran.load(SeqCst), 0);

        // Runs the task, then refuses: the try_ form reports the refusal; the task ran
        // once and its value and closure are dropped once each.
        let (drops, ran) = (Arc::new(Counter::default()), Arc::new(AtomicUsize::new(0)));
        let value_drops = Arc::new(Counter::default());
        let vd = Arc::clone(&value_drops);
        let f = tracked_closure(&drops, &ran);
        let err = Builder::new()
            .on(&RunThenRefuse)
            .spawn(move || (f(), Tracked(vd)))
            .err()
            .unwrap();
        assert_eq!(err.to_string(), "refused after running");
        assert_eq!(ran.load(SeqCst), 1);
        drops.expect(1);
        value_drops.expect(1);
        let err = Builder::new()
            .on(&RunThenRefuse)
            .spawn(|| 1)
            .expect_err("the refusal is returned");
        assert_eq!(err.kind(), io::ErrorKind::Other, "the executor's own error");

        // Keeps the task and refuses: the handle is gone; running it later is harmless
        // and the value is dropped once.
        let keeper = KeepAndRefuse(Mutex::new(Vec::new()));
        let (drops, ran) = (Arc::new(Counter::default()), Arc::new(AtomicUsize::new(0)));
        let value_drops = Arc::new(Counter::default());
        let vd = Arc::clone(&value_drops);
        let f = tracked_closure(&drops, &ran);
        assert!(
            Builder::new()
                .on(&keeper)
                .spawn(move || (f(), Tracked(vd)))
                .is_err()
        );
        let kept = std::mem::take(&mut *keeper.0.lock().unwrap());
        assert_eq!(kept.len(), 1);
        for task in kept {
            task.run();
        }
        assert_eq!(ran.load(SeqCst), 1);
        drops.expect(1);
        value_drops.expect(1);
    });
}

// ---------------------------------------------------------------------------------
// A pool dropped from inside one of its own tasks.
// ---------------------------------------------------------------------------------

#[test]
fn a_pool_whose_last_handle_is_dropped_inside_its_own_task_finishes_its_queue() {
    within(secs(30), || {
        let pool = ThreadPool::new(1);
        let (open, wait) = gate();
        let last = pool.clone();
        let dropper = pool.spawn_lazy(move || {
            wait();
            drop(last); // the last handle, dropped by the pool's own worker
            thread::current().name().map(String::from)
        });
        let queued: Vec<Lazy<(u32, Option<String>)>> = (0..5)
            .map(|i| pool.spawn_lazy(move || (i, thread::current().name().map(String::from))))
            .collect();
        drop(pool);
        open.send(()).unwrap();
        // Bounded waits never help, so the worker itself must run every queued task.
        let worker = Some("transparent-future-worker-0".to_string());
        assert_eq!(
            Lazy::wait_timeout(&dropper, Duration::from_secs(20)),
            Ok(&worker),
            "dropping the pool inside its task did not return"
        );
        for (i, q) in queued.iter().enumerate() {
            let got = Lazy::wait_timeout(q, Duration::from_secs(20));
            assert_eq!(
                got,
                Ok(&(i as u32, worker.clone())),
                "queued task {i} was lost"
            );
        }
    });
}

#[test]
fn a_pool_dropped_inside_a_task_of_another_executor_does_not_join_and_finishes_its_queue() {
    within(secs(30), || {
        for on_pool in [false, true] {
            let pool = ThreadPool::new(1);
            let (open_first, wait_first) = gate();
            let first = pool.spawn_lazy(move || {
                wait_first();
                0u32
            });
            let queued: Vec<Lazy<u32>> = (1..4u32).map(|i| pool.spawn_lazy(move || i)).collect();
            let last = pool.clone();
            drop(pool);
            let dropper = move || {
                // Joining here would wait for `first`, which waits for the test.
                drop(last);
                true
            };
            let other_pool = ThreadPool::new(1);
            let dropped = if on_pool {
                other_pool.spawn_lazy(dropper)
            } else {
                spawn_lazy(dropper)
            };
            assert_eq!(
                Lazy::wait_timeout(&dropped, Duration::from_secs(20)),
                Ok(&true),
                "dropping the pool inside another executor's task blocked (on_pool: {on_pool})"
            );
            open_first.send(()).unwrap();
            assert_eq!(Lazy::wait_timeout(&first, Duration::from_secs(20)), Ok(&0));
            for (i, q) in queued.iter().enumerate() {
                let got = Lazy::wait_timeout(q, Duration::from_secs(20));
                assert_eq!(got, Ok(&(i as u32 + 1)), "queued task lost");
            }
        }
    });
}

/// `Lazy::map`'s continuation of a resolved pool future runs on a worker as follow-up
/// work, outside any task (`work` runs it without the `running_task` guard), so when its
/// closure drops the pool's last handle, `Shared::drop` sees `in_task() == false` and
/// joins every worker, the current one included: std panics "failed to join thread:
/// Resource deadlock avoided", and that panic becomes the mapped future's value. The
/// same happens when a task's *value* holds the last handle and is dropped by a worker
/// after the task (see `hostile_drop_panics.rs`).
#[test]
fn a_map_continuation_dropping_its_pools_last_handle_keeps_its_value() {
    let got = within(secs(30), || {
        let pool = ThreadPool::new(1);
        let x = pool.spawn_lazy(|| 1);
        assert_eq!(*x, 1); // resolved: the continuation goes to the pool's queue
        let (open, wait) = gate();
        let last = pool.clone();
        let mapped = Lazy::map(x, move |v| {
            wait();
            drop(last); // by now the last handle
            v + 1
        });
        drop(pool);
        open.send(()).unwrap();
        catch_unwind(AssertUnwindSafe(|| *mapped)).map_err(|p| panic_text(p.as_ref()))
    });
    assert_eq!(got, Ok(2));
}

// ---------------------------------------------------------------------------------
// A task returning while its only reader is being dropped.
// ---------------------------------------------------------------------------------

#[test]
fn a_task_returning_while_its_only_reader_is_dropped_drops_its_value_exactly_once() {
    const ROUNDS: usize = 400;
    within(secs(60), || {
        let drops = Arc::new(Counter::default());
        let pool = ThreadPool::new(2);
        for i in 0..ROUNDS {
            let d = Arc::clone(&drops);
            let spin = i % 7;
            let make = move || {
                for _ in 0..spin * 50 {
                    std::hint::spin_loop();
                }
                Tracked(d)
            };
            let x = match i % 3 {
                0 => pool.spawn_lazy(make),
                1 => spawn_lazy(make),
                _ => Builder::new().spawn(make).unwrap(),
            };
            // Drop on another thread, after a varying head start, racing the return.
            let dropper = thread::spawn(move || {
                for _ in 0..(i % 5) * 40 {
                    std::hint::spin_loop();
                }
                if i % 2 == 0 {
                    let _ = Lazy::get(&x);
                }
                drop(x);
            });
            dropper.join().unwrap();
        }
        drops.expect(ROUNDS);

        // The same with shared handles: the last clone is dropped while the task returns.
        let shared_drops = Arc::new(Counter::default());
        for i in 0..200 {
            let d = Arc::clone(&shared_drops);
            let x = Lazy::share(pool.spawn_lazy(move || Tracked(d)));
            let y = x.clone();
            let t = thread::spawn(move || {
                if i % 2 == 0 {
                    let _ = SharedLazy::get(&y);
                }
                drop(y);
            });
            drop(x);
            t.join().unwrap();
        }
        shared_drops.expect(200);
    });
}
