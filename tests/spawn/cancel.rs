//! Cooperative cancellation.
//!
//! `Builder::spawn_cancellable`, with or without a timeout, on a thread of its own or
//! on a pool (`Builder::new().on(&pool)`), hands the task a `CancelToken`. `token.is_cancelled()`
//! becomes true when the deadline passes, when `Lazy::cancel` is called, or when every
//! handle has been dropped; a loop polling it (sleeping ~1 ms a round) stops within
//! 200 ms of each trigger, on thread-per-task and on the pool. The outcome rules do not
//! change (cancel then read gives the task's return value; with a passed deadline the
//! outcome is `Timeout`), and every value returned after a cancellation is dropped
//! exactly once.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::ms;
use static_assertions::assert_impl_all;
use transparent_future::executor::ThreadPerTask;
use transparent_future::{Builder, CancelToken, Deadline, Lazy, Outcome, ThreadPool, spawn_lazy};

assert_impl_all!(CancelToken: Send, Sync, Clone, std::fmt::Debug);

/// How soon after a trigger a polling loop must have stopped (wide: a noisy machine).
const PROMPT: Duration = Duration::from_millis(200);

/// The value a looping task returns; counts its drops.
#[derive(Debug)]
struct Stopped {
    rounds: u32,
    cancelled: bool,
    drops: Arc<AtomicUsize>,
}

impl Drop for Stopped {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
    }
}

type Task = Box<dyn FnOnce(CancelToken) -> Stopped + Send>;

/// What the test learns from a looping task.
struct Probe {
    started: mpsc::Receiver<()>,
    stopped: mpsc::Receiver<Instant>,
    drops: Arc<AtomicUsize>,
}

impl Probe {
    #[track_caller]
    fn started(&self) {
        self.started
            .recv_timeout(Duration::from_secs(10))
            .expect("the task never started");
    }

    #[track_caller]
    fn stopped(&self) -> Instant {
        self.stopped
            .recv_timeout(Duration::from_secs(10))
            .expect("the task never saw its cancellation")
    }

    #[track_caller]
    fn expect_drops(&self, n: usize) {
        let until = Instant::now() + Duration::from_secs(10);
        while self.drops.load(SeqCst) < n {
            assert!(Instant::now() < until, "value never dropped");
            thread::sleep(ms(2));
        }
        thread::sleep(ms(20));
        assert_eq!(self.drops.load(SeqCst), n, "value dropped more than once");
    }
}

/// A task that polls its token every ~1 ms (for at most 10 s, so that a bug cannot
/// hang the test), reports when it started and when it stopped, and returns a
/// drop-counted value.
fn looping() -> (Task, Probe) {
    let (started_tx, started) = mpsc::channel();
    let (stopped_tx, stopped) = mpsc::channel();
    let drops = Arc::new(AtomicUsize::new(0));
    let d = Arc::clone(&drops);
    let task: Task = Box::new(move |token: CancelToken| {
        started_tx.send(()).unwrap();
        let t0 = Instant::now();
        let mut rounds = 0;
        while !token.is_cancelled() && t0.elapsed() < Duration::from_secs(10) {
            rounds += 1;
            thread::sleep(ms(1));
        }
        let _ = stopped_tx.send(Instant::now());
        Stopped {
            rounds,
            cancelled: token.is_cancelled(),
            drops: d,
        }
    });
    (
        task,
        Probe {
            started,
            stopped,
            drops,
        },
    )
}

/// Where a cancellable future runs, and which spawn function starts it.
#[derive(Clone, Copy, Debug)]
enum Via {
    ThreadPerTask,
    Builder,
    OnThreadPerTask,
    Pool,
    OnPool,
}

const ALL: [Via; 5] = [
    Via::ThreadPerTask,
    Via::Builder,
    Via::OnThreadPerTask,
    Via::Pool,
    Via::OnPool,
];

fn spawn(via: Via, pool: &ThreadPool, task: Task) -> Lazy<Stopped> {
    match via {
        Via::ThreadPerTask => Builder::new().spawn_cancellable(task).unwrap(),
        Via::Builder => Builder::new()
            .name("cancel-test")
            .spawn_cancellable(task)
            .unwrap(),
        Via::OnThreadPerTask => Builder::new()
            .on(&ThreadPerTask)
            .spawn_cancellable(task)
            .unwrap(),
        Via::Pool => Builder::new().on(&pool).spawn_cancellable(task).unwrap(),
        Via::OnPool => Builder::new().on(&pool).spawn_cancellable(task).unwrap(),
    }
}

fn spawn_with(
    via: Via,
    pool: &ThreadPool,
    deadline: Deadline,
    task: Task,
) -> Lazy<Outcome<Stopped>> {
    match via {
        Via::ThreadPerTask | Via::Builder => Builder::new()
            .timeout(deadline)
            .spawn_cancellable(task)
            .unwrap(),
        Via::OnThreadPerTask => Builder::new()
            .on(&ThreadPerTask)
            .timeout(deadline)
            .spawn_cancellable(task)
            .unwrap(),
        Via::Pool => Builder::new()
            .on(&pool)
            .timeout(deadline)
            .spawn_cancellable(task)
            .unwrap(),
        Via::OnPool => Builder::new()
            .on(&pool)
            .timeout(deadline)
            .spawn_cancellable(task)
            .unwrap(),
    }
}

#[test]
fn lazy_cancel_stops_the_loop_promptly_and_the_value_is_the_tasks() {
    let pool = ThreadPool::new(2);
    for via in ALL {
        let (task, probe) = looping();
        let x = spawn(via, &pool, task);
        probe.started();
        thread::sleep(ms(20));
        assert!(!Lazy::is_done(&x), "{via:?}: stopped before being asked");
        let t0 = Instant::now();
        Lazy::cancel(&x);
        let stopped = probe.stopped();
        assert!(
            stopped.duration_since(t0) < PROMPT,
            "{via:?}: {:?}",
            stopped - t0
        );
        // The outcome rules do not change: the value is what the task returned.
        assert!(x.cancelled, "{via:?}");
        assert!(x.rounds >= 1, "{via:?}");
        Lazy::cancel(&x); // again, after the fact: no effect
        assert!(x.cancelled);
        assert_eq!(probe.drops.load(SeqCst), 0);
        drop(x);
        probe.expect_drops(1);
    }
}

#[test]
fn dropping_every_handle_stops_the_loop_promptly() {
    let pool = ThreadPool::new(2);
    for via in ALL {
        let (task, probe) = looping();
        let x = spawn(via, &pool, task);
        probe.started();
        thread::sleep(ms(20));
        let t0 = Instant::now();
        drop(x);
        let stopped = probe.stopped();
        assert!(
            stopped.duration_since(t0) < PROMPT,
            "{via:?}: {:?}",
            stopped - t0
        );
        // Nobody holds the future: the value is dropped by the task's side, once.
        probe.expect_drops(1);
    }
}

#[test]
fn the_deadline_stops_the_loop_promptly_and_the_outcome_is_timeout() {
    let pool = ThreadPool::new(2);
    for via in ALL {
        let (task, probe) = looping();
        let t0 = Instant::now();
        let x = spawn_with(via, &pool, Deadline::after(ms(60)), task);
        probe.started();
        let stopped = probe.stopped();
        let deadline = t0 + ms(60);
        assert!(stopped >= deadline, "{via:?}: stopped before the deadline");
        assert!(
            stopped.duration_since(deadline) < PROMPT,
            "{via:?}: {:?}",
            stopped - deadline
        );
        assert!(x.is_timeout(), "{via:?}");
        // The value the task returned after the deadline is its late value.
        let until = Instant::now() + Duration::from_secs(10);
        let late = loop {
            if let Some(late) = Lazy::take_late(&x) {
                break late.unwrap();
            }
            assert!(Instant::now() < until, "{via:?}: no late value");
            thread::sleep(ms(2));
        };
        assert!(late.cancelled && late.rounds >= 1, "{via:?}");
        assert_eq!(probe.drops.load(SeqCst), 0);
        drop(late);
        probe.expect_drops(1);
        drop(x);
        probe.expect_drops(1);
    }
}

#[test]
fn an_uncollected_late_value_after_a_deadline_is_dropped_once() {
    let pool = ThreadPool::new(2);
    for via in ALL {
        let (task, probe) = looping();
        let x = spawn_with(via, &pool, Deadline::after(ms(30)), task);
        probe.started();
        assert!(x.is_timeout());
        probe.stopped();
        drop(x); // before or after the late value arrives
        probe.expect_drops(1);
    }
}

#[test]
fn cancel_before_the_deadline_gives_a_ready_outcome() {
    let pool = ThreadPool::new(2);
    for via in ALL {
        let (task, probe) = looping();
        let x = spawn_with(via, &pool, Deadline::after(Duration::from_secs(30)), task);
        probe.started();
        let t0 = Instant::now();
        Lazy::cancel(&x);
        let stopped = probe.stopped();
        assert!(stopped.duration_since(t0) < PROMPT, "{via:?}");
        match &*x {
            Outcome::Ready(v) => assert!(v.cancelled, "{via:?}"),
            Outcome::Timeout => panic!("{via:?}: cancelled in time, yet a timeout"),
        }
        drop(x);
        probe.expect_drops(1);
    }
}

#[test]
fn the_token_reports_the_deadline_and_nothing_unasked() {
    let pool = ThreadPool::new(2);
    let t0 = Instant::now();
    let x = Builder::new()
        .timeout(Deadline::after(Duration::from_secs(60)))
        .spawn_cancellable(|t| (t.deadline(), t.is_cancelled()))
        .unwrap();
    let (deadline, cancelled) = x.into_ready().unwrap();
    let deadline = deadline.expect("a token without its future's deadline");
    assert!(deadline >= t0 + Duration::from_secs(60));
    assert!(deadline <= Instant::now() + Duration::from_secs(60));
    assert!(!cancelled);
    let at = Instant::now() + Duration::from_secs(30);
    let y = Builder::new()
        .on(&pool)
        .timeout(Deadline::at(at))
        .spawn_cancellable(|t| t.deadline())
        .unwrap();
    assert_eq!(*y, Outcome::Ready(Some(at)));
    let z = Builder::new()
        .on(&pool)
        .spawn_cancellable(|t| t.deadline())
        .unwrap();
    assert_eq!(*z, None);

    // Held and read, never asked to stop.
    let a = Builder::new()
        .spawn_cancellable(|t| {
            thread::sleep(ms(30));
            t.is_cancelled()
        })
        .unwrap();
    let b = Builder::new()
        .on(&pool)
        .spawn_cancellable(|t| {
            thread::sleep(ms(30));
            t.is_cancelled()
        })
        .unwrap();
    assert!(!*a && !*b);
}

#[test]
fn join_and_into_inner_are_not_dropping_the_future() {
    let pool = ThreadPool::new(2);
    let slow = |t: CancelToken| {
        thread::sleep(ms(40));
        t.is_cancelled()
    };
    assert!(!Lazy::join(Builder::new().spawn_cancellable(slow).unwrap()).unwrap());
    assert!(!Lazy::into_inner(
        Builder::new().spawn_cancellable(slow).unwrap()
    ));
    assert!(!Lazy::join(Builder::new().on(&pool).spawn_cancellable(slow).unwrap()).unwrap());
    assert!(!Lazy::into_inner(
        Builder::new().on(&pool).spawn_cancellable(slow).unwrap()
    ));
    let with = Lazy::into_inner(
        Builder::new()
            .timeout(Deadline::after(Duration::from_secs(30)))
            .spawn_cancellable(slow)
            .unwrap(),
    );
    assert_eq!(with, Outcome::Ready(false));
}

#[test]
fn a_cancellation_before_a_queued_task_starts_is_seen_at_once() {
    let pool = ThreadPool::new(1);
    let gate = Arc::new((Mutex::new(false), Condvar::new()));
    let g = Arc::clone(&gate);
    let (started_tx, started) = mpsc::channel();
    let blocker = pool.spawn_lazy(move || {
        started_tx.send(()).unwrap();
        let mut open = g.0.lock().unwrap();
        while !*open {
            open = g.1.wait(open).unwrap();
        }
    });
    started.recv_timeout(Duration::from_secs(10)).unwrap();
    // Queued behind the blocked worker: one cancelled, one whose handle is dropped.
    let (task1, probe1) = looping();
    let x = Builder::new().on(&pool).spawn_cancellable(task1).unwrap();
    Lazy::cancel(&x);
    let (task2, probe2) = looping();
    drop(Builder::new().on(&pool).spawn_cancellable(task2).unwrap());
    *gate.0.lock().unwrap() = true;
    gate.1.notify_all();
    assert_eq!(
        Lazy::wait_timeout(&blocker, Duration::from_secs(10)),
        Ok(&())
    );
    let v = Lazy::wait_timeout(&x, Duration::from_secs(10)).expect("cancelled task never ran");
    assert!(v.cancelled);
    assert_eq!(
        v.rounds, 0,
        "the loop ran although cancelled before it started"
    );
    probe1.stopped();
    probe2.stopped();
    probe2.expect_drops(1);
    drop(x);
    probe1.expect_drops(1);
}

#[test]
fn a_task_that_ignores_its_token_keeps_its_value() {
    let pool = ThreadPool::new(2);
    let x = Builder::new()
        .spawn_cancellable(|_t| {
            thread::sleep(ms(50));
            5
        })
        .unwrap();
    let y = Builder::new()
        .on(&pool)
        .spawn_cancellable(|_t| {
            thread::sleep(ms(50));
            6
        })
        .unwrap();
    Lazy::cancel(&x);
    Lazy::cancel(&y);
    assert_eq!(x + y, 11);
    // Cancelling a future that was not spawned cancellable does nothing.
    let z = spawn_lazy(|| {
        thread::sleep(ms(20));
        7
    });
    Lazy::cancel(&z);
    assert_eq!(*z, 7);
    let w = pool.spawn_lazy(|| 8);
    Lazy::cancel(&w);
    assert_eq!(*w, 8);
    let r = Lazy::with_value(9);
    Lazy::cancel(&r);
    assert_eq!(*r, 9);
}

#[test]
fn a_cloned_token_sees_the_cancellation_on_another_thread() {
    let (seen_tx, seen) = mpsc::channel();
    let x = Builder::new()
        .spawn_cancellable(move |token| {
            let t2 = token.clone();
            let watcher = thread::spawn(move || {
                let t0 = Instant::now();
                while !t2.is_cancelled() && t0.elapsed() < Duration::from_secs(10) {
                    thread::sleep(ms(1));
                }
                seen_tx.send(t2.is_cancelled()).unwrap();
            });
            watcher.join().unwrap();
            token.is_cancelled()
        })
        .unwrap();
    thread::sleep(ms(20));
    Lazy::cancel(&x);
    assert_eq!(seen.recv_timeout(Duration::from_secs(10)), Ok(true));
    assert!(*x);
}

#[test]
fn a_reader_helping_a_cancellable_task_can_be_unblocked_by_another_thread() {
    // A one-worker pool kept busy: the reader runs the looping task itself; another
    // thread's `Lazy::cancel` stops it.
    let pool = ThreadPool::new(1);
    let (go_tx, go) = mpsc::channel::<()>();
    let (started_tx, started) = mpsc::channel();
    let blocker = pool.spawn_lazy(move || {
        started_tx.send(()).unwrap();
        let _ = go.recv_timeout(Duration::from_secs(10));
    });
    started.recv_timeout(Duration::from_secs(10)).unwrap();
    let (task, probe) = looping();
    let x = Arc::new(Builder::new().on(&pool).spawn_cancellable(task).unwrap());
    let x2 = Arc::clone(&x);
    let canceller = thread::spawn(move || {
        probe.started();
        thread::sleep(ms(20));
        let t0 = Instant::now();
        Lazy::cancel(&x2);
        (t0, probe)
    });
    let me = thread::current().id();
    let value: &Stopped = &x; // runs the task here (work-helping) until the cancellation
    let (t0, probe) = canceller.join().unwrap();
    let stopped = probe.stopped();
    assert!(stopped.duration_since(t0) < PROMPT);
    assert!(value.cancelled);
    assert_eq!(thread::current().id(), me);
    go_tx.send(()).unwrap();
    Lazy::wait_timeout(&blocker, Duration::from_secs(10)).unwrap();
}

// ---------------------------------------------------------------- through combinators

/// How a test gives up a derived future: drop it unread, or `Lazy::cancel` it.
#[derive(Clone, Copy, Debug)]
enum GiveUp {
    Drop,
    Cancel,
}

/// Gives up `derived` as `how` says and checks that the looping task behind it stopped
/// promptly (long before its own 10 s limit).
#[track_caller]
fn gives_up_and_stops<U>(
    how: GiveUp,
    derived: Lazy<U>,
    probe: &Probe,
    what: &str,
) -> Option<Lazy<U>> {
    probe.started();
    thread::sleep(ms(20));
    let t0 = Instant::now();
    let kept = match how {
        GiveUp::Drop => {
            drop(derived);
            None
        }
        GiveUp::Cancel => {
            Lazy::cancel(&derived);
            Some(derived)
        }
    };
    let stopped = probe.stopped();
    assert!(
        stopped.duration_since(t0) < PROMPT,
        "{what} ({how:?}): the consumed task stopped only after {:?}",
        stopped - t0
    );
    kept
}

#[test]
fn cancelling_or_dropping_a_map_cancels_the_task_it_consumed() {
    let pool = ThreadPool::new(2);
    for via in ALL {
        for how in [GiveUp::Drop, GiveUp::Cancel] {
            let (task, probe) = looping();
            let mapped = Lazy::map(spawn(via, &pool, task), |s| s.cancelled);
            if let Some(mapped) = gives_up_and_stops(how, mapped, &probe, "map") {
                assert!(*mapped, "{via:?}: the map sees the task's own value");
            }
            probe.expect_drops(1);
        }
    }
}

#[test]
fn cancelling_or_dropping_a_chain_of_maps_reaches_the_first_task() {
    let pool = ThreadPool::new(2);
    for how in [GiveUp::Drop, GiveUp::Cancel] {
        let (task, probe) = looping();
        let chain = Lazy::map(
            Lazy::map(spawn(Via::Pool, &pool, task), |s| s.rounds),
            |r| r > 0,
        );
        if let Some(chain) = gives_up_and_stops(how, chain, &probe, "map of map") {
            assert!(*chain);
        }
        probe.expect_drops(1);
    }
}

#[test]
fn cancelling_or_dropping_a_then_cancels_its_input_and_its_inner_future() {
    let pool = ThreadPool::new(2);
    for how in [GiveUp::Drop, GiveUp::Cancel] {
        // The input, still running.
        let (task, probe) = looping();
        let chained = Lazy::then(spawn(Via::ThreadPerTask, &pool, task), |s| {
            Lazy::with_value(s.cancelled)
        });
        if let Some(chained) = gives_up_and_stops(how, chained, &probe, "then's input") {
            assert!(*chained);
        }
        probe.expect_drops(1);

        // The inner future, running once the closure has returned it.
        let (task, probe) = looping();
        let (tx, rx) = mpsc::channel::<Task>();
        tx.send(task).unwrap();
        let p = pool.clone();
        let chained = Lazy::then(spawn_lazy(|| 1), move |_| {
            spawn(Via::Pool, &p, rx.recv().unwrap())
        });
        if let Some(chained) = gives_up_and_stops(how, chained, &probe, "then's inner future") {
            assert!(chained.cancelled);
        }
        probe.expect_drops(1);
    }
}

#[test]
fn a_then_cancelled_while_its_closure_runs_cancels_the_inner_future_it_returns() {
    let pool = ThreadPool::new(2);
    let (task, probe) = looping();
    let (entered_tx, entered) = mpsc::channel();
    let (go_tx, go) = mpsc::channel::<()>();
    let p = pool.clone();
    let chained = Lazy::then(spawn_lazy(|| 1), move |_| {
        entered_tx.send(()).unwrap();
        go.recv_timeout(Duration::from_secs(10)).unwrap();
        spawn(Via::Pool, &p, task)
    });
    entered.recv_timeout(Duration::from_secs(10)).unwrap();
    Lazy::cancel(&chained); // nothing to cancel yet: remembered
    go_tx.send(()).unwrap();
    probe.started();
    let stopped = probe.stopped();
    assert!(chained.cancelled);
    assert!(stopped.elapsed() < Duration::from_secs(5));
    drop(chained);
    probe.expect_drops(1);
}

#[test]
fn cancelling_or_dropping_all_cancels_every_input() {
    let pool = ThreadPool::new(2);
    for how in [GiveUp::Drop, GiveUp::Cancel] {
        let (task_a, probe_a) = looping();
        let (task_b, probe_b) = looping();
        let all = Lazy::all([
            spawn(Via::ThreadPerTask, &pool, task_a),
            spawn(Via::Pool, &pool, task_b),
        ]);
        probe_b.started();
        if let Some(all) = gives_up_and_stops(how, all, &probe_a, "all") {
            assert!(all.iter().all(|s| s.cancelled));
        }
        let stopped = probe_b.stopped();
        assert!(
            stopped.elapsed() < Duration::from_secs(5),
            "all's second input"
        );
        probe_a.expect_drops(1);
        probe_b.expect_drops(1);
    }
}

#[test]
fn a_shared_future_is_cancelled_once_every_clone_and_derived_handle_is_gone() {
    let pool = ThreadPool::new(2);
    let (task, probe) = looping();
    let shared = Lazy::share(spawn(Via::Pool, &pool, task));
    probe.started();
    // A derived handle cancelled, then dropped, while a clone remains: no cancellation.
    let mapped = transparent_future::SharedLazy::map(&shared, |s| s.rounds);
    Lazy::cancel(&mapped);
    drop(mapped);
    // Every clone gone, but a derived handle (and one consumed by a map) remains.
    let kept = Lazy::map(
        transparent_future::SharedLazy::map(&shared, |s| s.cancelled),
        |c| c,
    );
    drop(shared);
    thread::sleep(ms(100));
    assert!(
        probe.stopped.try_recv().is_err(),
        "a derived handle can still read the shared future: it must not be cancelled"
    );
    // The last derived handle goes: now nobody can read it.
    let t0 = Instant::now();
    drop(kept);
    let stopped = probe.stopped();
    assert!(
        stopped.duration_since(t0) < PROMPT,
        "the shared task stopped only after {:?}",
        stopped - t0
    );
    probe.expect_drops(1);
}
