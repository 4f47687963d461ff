//! Deadlock detection and work-helping on a `ThreadPool`.
//!
//! (a) A task that has not started is not a deadlock: a reader that would wait on it
//!     runs it itself (work-helping), so nested waits on a one-worker pool complete and
//!     no deadlock is reported.
//! (b) Tasks that have started on different workers and wait on each other form a real
//!     cycle: the wait closing it is refused.
//!
//! Every scenario runs under a watchdog; refused tasks fall back to a value, which
//! breaks the cycle, so no worker is left blocked.

use std::sync::{Arc, Barrier, OnceLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{label, must_wait, secs, thread_of, type_name_of, within};
use transparent_future::{Lazy, SharedLazy, ThreadPool, WaitError, debug, spawn_lazy};

type Slot<T> = Arc<OnceLock<SharedLazy<T>>>;

const WORKER_0: &str = "transparent-future-worker-0";
const WORKER_1: &str = "transparent-future-worker-1";

fn here() -> String {
    thread::current().name().unwrap_or("<unnamed>").to_string()
}

/// Waits until some thread is blocked on the future labelled `label` (a label unique
/// to the calling test).
#[track_caller]
fn wait_until_waited_on(label: &str) {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let snapshot = debug::waits();
        if snapshot
            .chains()
            .any(|(_, chain)| chain.first().is_some_and(|l| l.future == label))
        {
            return;
        }
        assert!(
            Instant::now() < until,
            "nobody blocked on {label}:\n{snapshot}"
        );
        thread::sleep(Duration::from_millis(2));
    }
}

// ---------------------------------------------------------------------------------
// (a) Not started: work-helping covers it.
// ---------------------------------------------------------------------------------

#[test]
fn nested_waits_on_a_one_worker_pool_complete_without_a_deadlock() {
    let (value, threads) = within(secs(30), || {
        let pool = ThreadPool::new(1);
        let p1 = pool.clone();
        let outer = pool.spawn_lazy(move || {
            let p2 = p1.clone();
            let middle = p1.spawn_lazy(move || {
                let inner = p2.spawn_lazy(|| (3u32, vec![here()]));
                let (v, mut threads) = must_wait(&inner);
                threads.push(here());
                (v * 10, threads)
            });
            let (v, mut threads) = must_wait(&middle);
            threads.push(here());
            (v + 1, threads)
        });
        // A bounded wait never helps: the worker runs `outer`, and helps the rest.
        Lazy::wait_timeout(&outer, Duration::from_secs(20))
            .expect("nested waits on a one-worker pool did not complete")
            .clone()
    });
    assert_eq!(value, 31);
    assert_eq!(
        threads,
        [WORKER_0, WORKER_0, WORKER_0],
        "all ran on the one worker"
    );
}

#[test]
fn a_task_waiting_on_a_task_queued_behind_it_runs_that_task_itself() {
    let (x, y_thread) = within(secs(30), || {
        let pool = ThreadPool::new(1);
        let later: Slot<String> = Arc::default();
        let (go, gate) = mpsc::channel::<()>();
        let l = Arc::clone(&later);
        let x = pool.spawn_lazy(move || {
            gate.recv().unwrap();
            // `y` is still in the queue, behind this very task.
            format!("x saw {}", must_wait(SharedLazy::as_lazy(l.wait())))
        });
        let y = Lazy::share(pool.spawn_lazy(here));
        later.set(y.clone()).ok().unwrap();
        go.send(()).unwrap();
        let x = Lazy::wait_timeout(&x, Duration::from_secs(20))
            .unwrap()
            .clone();
        (x, (*y).clone())
    });
    assert_eq!(y_thread, WORKER_0);
    assert_eq!(x, format!("x saw {WORKER_0}"));
}

#[test]
fn a_reader_outside_the_pool_helps_a_task_queued_behind_a_busy_worker() {
    within(secs(30), || {
        let pool = ThreadPool::new(1);
        let (go, gate) = mpsc::channel::<()>();
        let busy = pool.spawn_lazy(move || gate.recv().is_ok());
        let queued = pool.spawn_lazy(here);
        // The worker is stuck on `busy`; the reader runs `queued` itself, no deadlock.
        assert_eq!(must_wait(&queued), here());
        go.send(()).unwrap();
        assert!(must_wait(&busy));
    });
}

#[test]
fn a_one_worker_pool_task_fanning_out_to_many_children_completes() {
    let sum = within(secs(30), || {
        let pool = ThreadPool::new(1);
        let p = pool.clone();
        let parent = pool.spawn_lazy(move || {
            let children: Vec<Lazy<u64>> = (1..=10u64)
                .map(|i| {
                    let p = p.clone();
                    p.clone().spawn_lazy(move || {
                        // Grandchildren, read with try_wait as well.
                        let g = p.spawn_lazy(move || i * 2);
                        must_wait(&g) / 2
                    })
                })
                .collect();
            children.iter().map(must_wait).sum::<u64>()
        });
        must_wait(&parent)
    });
    assert_eq!(sum, 55);
}

// ---------------------------------------------------------------------------------
// (b) Started on two workers: a real cycle, detected.
// ---------------------------------------------------------------------------------

#[test]
fn two_started_pool_tasks_waiting_on_each_other_are_detected() {
    let (x, y, refusal, after) = within(secs(30), || {
        let pool = ThreadPool::new(2);
        let (slot_x, slot_y): (Slot<u32>, Slot<u32>) = Default::default();
        let both_started = Arc::new(Barrier::new(2));
        let (go_y, gate_y) = mpsc::channel::<()>();
        let (refused_tx, refused_rx) = mpsc::channel();

        let (sy, bx) = (Arc::clone(&slot_y), Arc::clone(&both_started));
        let x_task = move || {
            bx.wait();
            must_wait(SharedLazy::as_lazy(sy.wait())) + 100
        };
        let (sx, by) = (Arc::clone(&slot_x), Arc::clone(&both_started));
        let y_task = move || {
            by.wait();
            gate_y.recv().unwrap();
            match Lazy::try_wait(SharedLazy::as_lazy(sx.wait())) {
                Ok(v) => *v,
                Err(e) => {
                    refused_tx.send(e).unwrap();
                    7
                }
            }
        };
        let (x_name, y_name) = (type_name_of(&x_task), type_name_of(&y_task));
        let x = Lazy::share(pool.spawn_lazy(x_task));
        let y = Lazy::share(pool.spawn_lazy(y_task));
        slot_x.set(x.clone()).ok().unwrap();
        slot_y.set(y.clone()).ok().unwrap();
        // Both run (the barrier needs both workers); x blocks on y, then y reads x.
        wait_until_waited_on(&label(y_name));
        go_y.send(()).unwrap();

        let refusal = refused_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        let x_value = Lazy::wait_timeout(SharedLazy::as_lazy(&x), Duration::from_secs(10))
            .copied()
            .expect("x never completed after y fell back");
        // The pool is still usable; both workers are free again.
        let after: Vec<u32> = (0..4u32)
            .map(|i| pool.spawn_lazy(move || i))
            .map(|f| must_wait(&f))
            .collect();
        assert_eq!(after, [0, 1, 2, 3]);
        drop(pool);
        (x_value, *y, (refusal, x_name, y_name), after)
    });
    assert_eq!((x, y), (107, 7));
    assert_eq!(after.len(), 4);
    let (refusal, x_name, y_name) = refusal;
    let WaitError::Deadlock(cycle) = &refusal else {
        panic!("expected a deadlock, got {refusal:?}")
    };
    assert_eq!(cycle.len(), 2);
    assert_eq!(cycle.links()[0].future, label(y_name));
    assert_eq!(cycle.links()[1].future, label(x_name));
    let mut workers: Vec<_> = cycle.links().iter().map(thread_of).collect();
    workers.sort();
    assert_eq!(workers, [Some(WORKER_0), Some(WORKER_1)]);
    let message = refusal.to_string();
    assert!(message.starts_with("deadlock: "), "{message}");
    assert!(
        message.contains(&format!("on thread \"{WORKER_0}\"")),
        "{message}"
    );
    assert!(
        message.contains(&format!("on thread \"{WORKER_1}\"")),
        "{message}"
    );
}

#[test]
fn a_cycle_across_a_pool_worker_and_a_named_thread_is_detected() {
    let (p_value, t_value, cycle) = within(secs(30), || {
        let pool = ThreadPool::new(1);
        let (slot_p, slot_t): (Slot<u32>, Slot<u32>) = Default::default();
        let (started_tx, started) = mpsc::channel::<()>();
        let (go_p, gate_p) = mpsc::channel::<()>();
        let (cycle_tx, cycle_rx) = mpsc::channel();
        let st = Arc::clone(&slot_t);
        let p = pool.spawn_lazy(move || {
            started_tx.send(()).unwrap();
            gate_p.recv().unwrap();
            match Lazy::try_wait(SharedLazy::as_lazy(st.wait())) {
                Ok(v) => *v,
                Err(WaitError::Deadlock(c)) => {
                    cycle_tx.send(c).unwrap();
                    40
                }
                Err(e) => panic!("{e}"),
            }
        });
        let p = Lazy::share(p);
        slot_p.set(p.clone()).ok().unwrap();
        // p is running on the worker (so the thread cannot help it) before t reads it.
        started.recv().unwrap();
        let sp = Arc::clone(&slot_p);
        let t = transparent_future::Builder::new()
            .name("cross-t")
            .spawn(move || must_wait(SharedLazy::as_lazy(sp.wait())) + 2)
            .unwrap();
        let t = Lazy::share(t);
        slot_t.set(t.clone()).ok().unwrap();
        let until = Instant::now() + Duration::from_secs(10);
        while !debug::waits().chains().any(|(th, _)| th == "cross-t") {
            assert!(Instant::now() < until, "cross-t never blocked");
            thread::sleep(Duration::from_millis(2));
        }
        go_p.send(()).unwrap();
        let cycle = cycle_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        (*p, *t, cycle)
    });
    assert_eq!((p_value, t_value), (40, 42));
    let threads: Vec<_> = cycle.links().iter().map(thread_of).collect();
    assert_eq!(threads, [Some(WORKER_0), Some("cross-t")]);
}

#[test]
fn many_pool_readers_of_a_thread_per_task_future_see_no_deadlock() {
    let values = within(secs(30), || {
        let pool = ThreadPool::new(2);
        let (go, gate) = mpsc::channel::<()>();
        let source = Lazy::share(spawn_lazy(move || {
            gate.recv().unwrap();
            9u32
        }));
        let readers: Vec<Lazy<u32>> = (0..8)
            .map(|i| {
                let s = source.clone();
                pool.spawn_lazy(move || must_wait(SharedLazy::as_lazy(&s)) + i)
            })
            .collect();
        thread::sleep(Duration::from_millis(20));
        go.send(()).unwrap();
        readers.iter().map(must_wait).collect::<Vec<_>>()
    });
    assert_eq!(values, (9..17).collect::<Vec<u32>>());
}

// ---------------------------------------------------------------------------------
// Bugs.
// ---------------------------------------------------------------------------------

/// What the inner task of `helped_cycle` saw.
type Seen = Result<(usize, Vec<String>), String>;

fn helped_inner(outer: Slot<Seen>) -> impl FnOnce() -> Seen + Send + 'static {
    move || match Lazy::try_wait(SharedLazy::as_lazy(outer.wait())) {
        Err(WaitError::Deadlock(c)) => Ok((
            c.len(),
            c.links().iter().map(|l| l.future.clone()).collect(),
        )),
        other => Err(format!("{other:?}")),
    }
}

/// A one-worker pool: `outer` runs on the worker and reads `inner`, queued behind it;
/// the worker helps, running `inner` inside `outer`'s wait; `inner` reads `outer`. The
/// wait is rightly refused, but the reported cycle is wrong: the detector stops at the
/// first future whose runner is the current thread, and that is `outer` (the thread
/// runs both, nested), so the cycle reads `task "outer" on thread W waits on task
/// "outer"` (length 1), the same as a task reading itself. The real cycle is `inner`
/// (on W) waits on `outer` (on W), which waits on `inner`: the detector does not know
/// which task the thread is running innermost (only `JobState::Running(thread)` per
/// task and a nesting count per thread).
#[test]
fn a_cycle_closed_by_a_helped_task_names_the_helped_task() {
    let (seen, inner_name, outer_name) = within(secs(30), || {
        let pool = ThreadPool::new(1);
        let slot: Slot<Seen> = Arc::default();
        let inner = helped_inner(Arc::clone(&slot));
        let inner_name = type_name_of(&inner);
        let p = pool.clone();
        let outer = move || {
            let b = p.spawn_lazy(inner);
            must_wait(&b)
        };
        let outer_name = type_name_of(&outer);
        let a = Lazy::share(pool.spawn_lazy(outer));
        slot.set(a.clone()).ok().unwrap();
        let seen = Lazy::wait_timeout(SharedLazy::as_lazy(&a), Duration::from_secs(20))
            .cloned()
            .unwrap();
        (seen, inner_name, outer_name)
    });
    let (len, futures) = seen.expect("the helped task's wait must be refused");
    assert_eq!(
        futures,
        [label(inner_name), label(outer_name)],
        "the cycle must start with the helped task, which is the one waiting"
    );
    assert_eq!(len, 2);
}
