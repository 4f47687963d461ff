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

/// Queues `f` on `pool` as a task that only a worker runs (no reader helps with it),
/// or hands back the pool's refusal.
fn submit_unhelped(
    pool: &ThreadPool,
    f: impl FnOnce() -> u32 + Send + 'static,
) -> std::io::Result<Arc<dyn Source<u32>>> {
    let placement = Placement {
        helpable: false,
        ..Placement::executor(pool)
    };
    let (source, job) = new_task(Core::new(None, placement), f, ());
    pool.execute(Runnable::new(job))?;
    Ok(source)
}

/// A task that raises `flag` (it has run) and returns `value`.
fn raiser(flag: &Arc<Flag>, value: u32) -> impl FnOnce() -> u32 + Send + 'static {
    let flag = Arc::clone(flag);
    move || {
        flag.raise(DecidedBy::Task);
        value
    }
}

#[test]
fn model_pool_submitter_races_a_worker_falling_asleep() {
    // A thread outside the pool queues two tasks on the injector of a two-worker pool
    // while the workers look for work, spin and go to sleep; the first task blocks
    // until the second has run, and nobody helps. So the second must reach the worker
    // that is not running the first: a submission that misses a worker on its way to
    // sleep (the count of sleepers and the last look), or a task that one worker holds
    // out of every queue (a batch taken from the injector) while the other falls
    // asleep, leaves the first task blocked forever (a deadlock to the model).
    explore("pool submit vs sleep", || {
        let pool = ThreadPool::new(2);
        let submitter = {
            let pool = pool.clone();
            thread::spawn(move || {
                let second_ran = Arc::new(Flag::default());
                let waits = Arc::clone(&second_ran);
                let first = submit_unhelped(&pool, move || {
                    waits.wait();
                    1
                })
                .expect("the pool is running");
                let second =
                    submit_unhelped(&pool, raiser(&second_ran, 2)).expect("the pool is running");
                (first, second)
            })
        };
        let (first, second) = submitter.join().unwrap();
        assert_eq!(read(first.core()).unwrap(), 1);
        assert_eq!(read(second.core()).unwrap(), 2);
        drop(pool);
    });
}

#[test]
fn model_pool_local_task_reaches_the_other_worker() {
    // A task running on a worker spawns a task onto that worker's own deque, reads
    // another future first, then blocks until the spawned task has run, without
    // helping it. The other future belongs to an executor that lets its readers help
    // and has not started it, so reading it helps: the reader looks at the top of its
    // deque, pops the spawned task (not the one it reads), puts it back and runs the
    // other future itself. The other worker, with nothing else to do, falls asleep
    // meanwhile: it must be woken to steal the spawned task from the first worker's
    // deque, even if its last look fell while the task was popped.
    explore("pool local push vs sleep", || {
        let pool = ThreadPool::new(2);
        let inner_pool = pool.clone();
        let outer = submit_unhelped(&pool, move || {
            let helpable = Placement {
                helpable: true,
                ..Placement::thread()
            };
            let (other, _never_queued) = new_task(Core::new(None, helpable), || 5, ());
            let spawned_ran = Arc::new(Flag::default());
            let spawned =
                submit_unhelped(&inner_pool, raiser(&spawned_ran, 2)).expect("the pool is running");
            while other.help() {}
            assert_eq!(read(other.core()).unwrap(), 5);
            spawned_ran.wait();
            read(spawned.core()).unwrap() + 1
        })
        .expect("the pool is running");
        assert_eq!(read(outer.core()).unwrap(), 3);
        drop(pool);
    });
}

#[test]
fn model_pool_close_races_outside_and_worker_submissions() {
    // The pool is shut down while a thread outside it submits a task and a task on a
    // worker spawns three onto its own deque (each a chance to race the close), then
    // blocks (without helping) until every one accepted has run. Every accepted task
    // runs exactly once (a worker's accepted spawn included: the other worker must not
    // exit while it sits on the first worker's deque), every refused one is refused
    // with the shutdown error and never runs, and the workers exit (a worker left
    // blocked is a deadlock to the model).
    explore("pool close vs submissions", || {
        let pool = ThreadPool::new(2);
        let runs = Arc::new(AtomicUsize::new(0));
        let refused = |e: std::io::Error| {
            assert!(e.to_string().contains("shut down"), "{e}");
        };
        let inner_pool = pool.clone();
        let inner_runs = Arc::clone(&runs);
        let outer = submit_unhelped(&pool, move || {
            let mut accepted = Vec::new();
            for _ in 0..3 {
                let spawned_ran = Arc::new(Flag::default());
                let r = Arc::clone(&inner_runs);
                let raise = raiser(&spawned_ran, 0);
                match submit_unhelped(&inner_pool, move || {
                    r.fetch_add(1, SeqCst);
                    raise()
                }) {
                    Ok(spawned) => accepted.push((spawned, spawned_ran)),
                    Err(e) => refused(e),
                }
            }
            for (spawned, ran) in &accepted {
                ran.wait();
                assert_eq!(read(spawned.core()).unwrap(), 0);
            }
            accepted.len() as u32
        })
        .expect("the pool is running");
        let outside = {
            let pool = pool.clone();
            let runs = Arc::clone(&runs);
            let task = move || {
                runs.fetch_add(1, SeqCst);
                10
            };
            thread::spawn(move || match submit_unhelped(&pool, task) {
                Ok(source) => Some(source),
                Err(e) => {
                    refused(e);
                    None
                }
            })
        };
        drop(pool.shutdown());
        let mut accepted = read(outer.core()).unwrap();
        if let Some(source) = outside.join().unwrap() {
            assert_eq!(read(source.core()).unwrap(), 10);
            accepted += 1;
        }
        assert_eq!(
            runs.load(SeqCst),
            accepted as usize,
            "each accepted task ran once"
        );
        drop(pool);
    });
}

#[test]
fn model_reader_spins_then_parks_against_publish() {
    // A reader without a limit spins on the lock-free status, then parks on the
    // condvar; another reader with a limit of its own spins up to it; the task
    // publishes meanwhile. A publish that lands between the spin's last look and the
    // park must still wake the parked reader (a lost wake-up is a deadlock to the
    // model); the status a reader sees without the lock agrees with the slot.
    explore("spin vs publish", || {
        let state = Arc::new(Core::<u32>::new(None, Placement::thread()));
        let task = {
            let state = Arc::clone(&state);
            thread::spawn(move || state.publish(Ok(4)))
        };
        let timed = {
            let state = Arc::clone(&state);
            thread::spawn(move || {
                let until = sync::now() + TICK;
                let waited = state.wait(Some(until));
                if waited == Waited::Resolved {
                    assert!(state.decided_ok(), "resolved: the status says decided");
                }
                waited
            })
        };
        assert_eq!(state.wait(None), Waited::Resolved);
        assert!(state.decided_ok());
        assert!(state.settle_if_due());
        task.join().unwrap();
        let _ = timed.join().unwrap();
        assert_eq!(read(&state).ok(), Some(4));
    });
}
