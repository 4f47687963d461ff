//! Models of the state machine, the timer and the pool, checked with `shuttle`.
//!
//! Built only with `RUSTFLAGS="--cfg transparent_future_shuttle"`, where the facade
//! (`core/sync.rs`) gives the crate shuttle's locks, condvars, threads and a virtual
//! clock. Run with `cargo test --lib model` in that build (`.ci/run` does, in a target
//! directory of its own). Each model runs under shuttle's random scheduler and its PCT
//! scheduler; a failing schedule is printed with the seed to replay it. What the models
//! cover, and what they do not, is in `docs/design.md` ("What is model-checked").
//!
//! A hang is a failure too: a thread blocked forever on an untimed wait, with every
//! other thread blocked or finished, is reported by shuttle as a deadlock.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use crate::core::job::{Executor, Placement, Runnable};
use crate::core::state::{Callback, Core, DecidedBy, TaskResult, Timeout, Waited};
use crate::core::sync::{self, Condvar, Duration, Mutex, TICK, thread};
use crate::core::task::{Source, new_task};
use crate::core::timer::{self, Settle};
use crate::executor::pool::ThreadPool;

/// Schedules explored per model and scheduler.
const ITERATIONS: usize = 3000;

/// Runs `model` under the random and the PCT schedulers, and prints the schedules
/// explored and the time taken.
fn explore(name: &str, model: impl Fn() + Send + Sync + 'static) {
    let model = Arc::new(model);
    let started = std::time::Instant::now();
    let m = Arc::clone(&model);
    shuttle::check_random(
        move || {
            sync::reset_clock();
            m()
        },
        ITERATIONS,
    );
    let m = Arc::clone(&model);
    shuttle::check_pct(
        move || {
            sync::reset_clock();
            m()
        },
        ITERATIONS,
        3,
    );
    eprintln!(
        "model {name}: {} schedules (random and PCT) in {:.2?}",
        2 * ITERATIONS,
        started.elapsed()
    );
}

/// A one-shot flag a model thread can block on without a limit (so a lost decision
/// shows as a deadlock).
#[derive(Default)]
struct Flag {
    set: Mutex<Option<DecidedBy>>,
    cond: Condvar,
}

impl Flag {
    fn raise(&self, by: DecidedBy) {
        *self.set.lock().unwrap() = Some(by);
        self.cond.notify_all();
    }
    fn wait(&self) -> DecidedBy {
        let mut set = self.set.lock().unwrap();
        loop {
            if let Some(by) = *set {
                return by;
            }
            set = self.cond.wait(set).unwrap();
        }
    }
}

/// A state with its deadline `ticks` ticks of virtual time from now.
fn core_with_deadline(ticks: u32) -> Core<u32> {
    let at = sync::now() + TICK * ticks;
    Core::new(Some(Timeout { at, value: || 0 }), Placement::thread())
}

/// A state the timer can settle, as a task or a derived future is.
struct Target(Core<u32>);

impl Settle for Target {
    fn settle(&self) -> bool {
        self.0.settle_if_due()
    }
}

/// The outcome a reader sees: the value, or the timeout value 0 (the value published
/// is never 0).
fn read(core: &Core<u32>) -> TaskResult<u32> {
    assert_eq!(core.wait(None), Waited::Resolved);
    core.take_result()
}

#[test]
fn model_publish_races_a_readers_deadline() {
    // A task publishes while two readers wait without a limit and a watcher is
    // registered: both readers see the same outcome, the watcher runs once, and a
    // timeout keeps the late value.
    explore("publish vs deadline", || {
        let state = Arc::new(core_with_deadline(1));
        let fired = Arc::new(AtomicUsize::new(0));
        let f = Arc::clone(&fired);
        let registered = state.watch(
            Box::new(move |_| {
                f.fetch_add(1, SeqCst);
            }),
            false,
        );
        // A continuation (user code): run by the publishing task, or on a new thread
        // when a deadline decided, and told `Task` either way.
        let continued = Arc::new(Flag::default());
        let c = Arc::clone(&continued);
        let continuation = state.watch(Box::new(move |by| c.raise(by)), true);
        let task = {
            let state = Arc::clone(&state);
            thread::spawn(move || state.publish(Ok(7)))
        };
        let other = {
            let state = Arc::clone(&state);
            thread::spawn(move || state.wait(None))
        };
        let seen = read(&state).ok();
        assert_eq!(other.join().unwrap(), Waited::Resolved);
        task.join().unwrap();
        match seen {
            Some(7) => {}
            Some(0) => {
                let late = state.take_late().and_then(Result::ok);
                assert_eq!(late, Some(7), "a timeout keeps the late value");
            }
            other => panic!("unexpected outcome {other:?}"),
        }
        let expected = usize::from(registered.is_ok());
        assert_eq!(
            fired.load(SeqCst),
            expected,
            "the watcher runs exactly once"
        );
        if continuation.is_ok() {
            assert_eq!(continued.wait(), DecidedBy::Task);
        }
    });
}

#[test]
fn model_publish_wakes_every_sleeper() {
    // No deadline: two readers sleep without a limit until the task publishes; a
    // wake-up lost by the task would leave them asleep (a deadlock to the model).
    explore("publish wakes sleepers", || {
        let state = Arc::new(Core::<u32>::new(None, Placement::thread()));
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let state = Arc::clone(&state);
                thread::spawn(move || state.wait(None))
            })
            .collect();
        state.publish(Ok(3));
        for reader in readers {
            assert_eq!(reader.join().unwrap(), Waited::Resolved);
        }
        assert_eq!(read(&state).ok(), Some(3));
    });
}

#[test]
fn model_watch_and_unwatch_race_publish() {
    // Watchers come and go while the task publishes: a watcher still registered when
    // the outcome is decided runs once; one removed first never runs; one refused
    // (the outcome was decided) is handed back.
    explore("watch/unwatch vs publish", || {
        let state = Arc::new(Core::<u32>::new(None, Placement::thread()));
        let task = {
            let state = Arc::clone(&state);
            thread::spawn(move || state.publish(Ok(1)))
        };
        let watcher = {
            let state = Arc::clone(&state);
            thread::spawn(move || {
                let runs = Arc::new(AtomicUsize::new(0));
                let r = Arc::clone(&runs);
                let callback = Box::new(move |by| {
                    assert_eq!(by, DecidedBy::Task);
                    r.fetch_add(1, SeqCst);
                });
                match state.watch(callback, false) {
                    Ok(id) => {
                        let removed = state.unwatch(id);
                        (runs, usize::from(!removed))
                    }
                    Err(callback) => {
                        callback(DecidedBy::Task);
                        (runs, 1)
                    }
                }
            })
        };
        let kept = Arc::new(Flag::default());
        let k = Arc::clone(&kept);
        if let Err(callback) = state.watch(Box::new(move |by| k.raise(by)), false) {
            callback(DecidedBy::Task);
        }
        assert_eq!(kept.wait(), DecidedBy::Task);
        let (runs, expected) = watcher.join().unwrap();
        task.join().unwrap();
        assert_eq!(runs.load(SeqCst), expected);
    });
}

#[test]
fn model_timer_decides_a_watched_future_at_its_deadline() {
    // Nobody reads and the task never publishes: only the timer can decide the
    // timeout. The watcher must run, told that a deadline decided; a watcher that
    // never ran would leave this thread blocked forever (a deadlock to the model).
    // A second watcher does not put the future on the timer again.
    explore("timer", || {
        let target = Arc::new(Target(core_with_deadline(1)));
        let fired = Arc::new(Flag::default());
        let f = Arc::clone(&fired);
        let watchers = {
            let target = Arc::clone(&target);
            thread::spawn(move || {
                let callbacks: [Callback; 2] = [Box::new(move |by| f.raise(by)), Box::new(|_| {})];
                for callback in callbacks {
                    if let Err(callback) = target.0.watch(callback, false) {
                        // Decided while registering (the deadline passed).
                        callback(DecidedBy::Deadline);
                    }
                }
                // Then only the timer reads the clock.
                let mut scheduled = 0;
                for _ in 0..2 {
                    if let Some(at) = target.0.claim_timer() {
                        let settle: Arc<dyn Settle> = target.clone();
                        timer::schedule(at, Arc::downgrade(&settle));
                        scheduled += 1;
                    }
                }
                scheduled
            })
        };
        assert_eq!(fired.wait(), DecidedBy::Deadline);
        assert!(watchers.join().unwrap() <= 1, "on the timer once");
        assert!(target.0.claim_timer().is_none());
        assert_eq!(target.0.take_result().ok(), Some(0), "a timeout");
    });
}

#[test]
fn model_a_timed_reader_and_the_timer_agree() {
    // A reader with a limit of its own, the timer and a late task all race the
    // deadline: every reader sees one outcome.
    explore("timed reader, timer and task", || {
        let target = Arc::new(Target(core_with_deadline(2)));
        if let Some(at) = target.0.claim_timer() {
            let settle: Arc<dyn Settle> = target.clone();
            timer::schedule(at, Arc::downgrade(&settle));
        }
        let task = {
            let target = Arc::clone(&target);
            thread::spawn(move || target.0.publish(Ok(5)))
        };
        let until = sync::now() + Duration::from_millis(3);
        let first = match target.0.wait(Some(until)) {
            Waited::Resolved => Some(target.0.settle_if_due()),
            Waited::GaveUp => None,
        };
        task.join().unwrap();
        assert_ne!(first, Some(false));
        let outcome = read(&target.0).ok();
        assert!(matches!(outcome, Some(5) | Some(0)), "{outcome:?}");
    });
}

/// Runs `f` as a task of `pool`; returns its source.
fn spawn_on(pool: &ThreadPool, f: impl FnOnce() -> u32 + Send + 'static) -> Arc<dyn Source<u32>> {
    let core = Core::new(None, Placement::executor(pool));
    let (source, job) = new_task(core, f, ());
    pool.execute(Runnable::new(job))
        .expect("the pool is running");
    source
}

#[test]
fn model_pool_queue_with_helping() {
    // A one-worker pool; a reader helps (runs the queued task itself if the worker
    // has not claimed it) while the worker takes it from the queue. Each closure runs
    // once, and the reader sees its value. A task spawned from inside a task is
    // helped by that task's reader too.
    explore("pool helping", || {
        let pool = ThreadPool::new(1);
        let runs = Arc::new(AtomicUsize::new(0));
        let r = Arc::clone(&runs);
        let inner_pool = pool.clone();
        let outer = spawn_on(&pool, move || {
            let r2 = Arc::clone(&r);
            let inner = spawn_on(&inner_pool, move || {
                r2.fetch_add(1, SeqCst);
                2
            });
            while inner.help() {}
            r.fetch_add(1, SeqCst);
            read(inner.core()).unwrap() + 1
        });
        while outer.help() {}
        assert_eq!(read(outer.core()).unwrap(), 3);
        assert_eq!(runs.load(SeqCst), 2, "each closure ran once");
        drop(pool);
    });
}

#[test]
fn model_pool_workers_run_queued_work_unhelped() {
    // Two threads queue a task each on a two-worker pool and wait without helping:
    // the workers alone must run both (a worker asleep on the queue must wake for a
    // task queued after it went to sleep).
    explore("pool workers", || {
        let pool = ThreadPool::new(2);
        let readers: Vec<_> = (0..2u32)
            .map(|i| {
                let pool = pool.clone();
                thread::spawn(move || {
                    let placement = Placement {
                        helpable: false,
                        ..Placement::executor(&pool)
                    };
                    let (source, job) = new_task(Core::new(None, placement), move || i, ());
                    pool.execute(Runnable::new(job))
                        .expect("the pool is running");
                    assert!(!source.help(), "helping is off");
                    assert_eq!(read(source.core()).unwrap(), i);
                })
            })
            .collect();
        for reader in readers {
            reader.join().unwrap();
        }
        drop(pool);
    });
}

#[test]
fn model_pool_shutdown_races_spawners() {
    // One thread spawns while another shuts the pool down: a task is either refused
    // or runs, exactly once, even when it was queued just before the shutdown.
    explore("pool shutdown", || {
        let pool = ThreadPool::new(1);
        let runs = Arc::new(AtomicUsize::new(0));
        let spawner = {
            let pool = pool.clone();
            let runs = Arc::clone(&runs);
            thread::spawn(move || {
                let mut accepted = Vec::new();
                for _ in 0..2 {
                    let runs = Arc::clone(&runs);
                    let core = Core::new(None, Placement::executor(&pool));
                    let (source, job) = new_task(
                        core,
                        move || {
                            runs.fetch_add(1, SeqCst);
                            1
                        },
                        (),
                    );
                    if pool.execute(Runnable::new(job)).is_ok() {
                        accepted.push(source);
                    }
                }
                accepted
            })
        };
        drop(pool.shutdown());
        let accepted = spawner.join().unwrap();
        for source in &accepted {
            // No helping: the worker must still run what was queued before shutdown.
            assert_eq!(read(source.core()).unwrap(), 1);
        }
        assert_eq!(runs.load(SeqCst), accepted.len());
        drop(pool);
    });
}
