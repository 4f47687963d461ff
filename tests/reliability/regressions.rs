//! Bugs found by the reliability work, by the property test of random DAGs
//! (`tests-integration/tests/prop_dag.rs`) or while diagnosing what it found;
//! `docs/reliability.md` lists them. Each test states the promise it checks; all three failed before their
//! fixes and now guard against regressions. Every scenario runs under a watchdog, so a
//! hang fails instead of blocking the run.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use crate::support::{ms, panic_text, secs, within};
use transparent_future::{
    Deadline, Lazy, Outcome, ThreadPool, as_completed, first_done, spawn_lazy, spawn_lazy_with,
};

/// Waits (bounded) for a timed-out future's late result and returns what `take_late`
/// did: `Ok(Some(..))` a late result, `Ok(None)` none within 2 s, `Err` a panic.
fn late<T>(x: &Lazy<Outcome<T>>) -> Result<Option<Result<T, String>>, String> {
    for _ in 0..2000 {
        match catch_unwind(AssertUnwindSafe(|| Lazy::take_late(x))) {
            Ok(Some(r)) => return Ok(Some(r.map_err(|p| panic_text(p.as_ref())))),
            Ok(None) => thread::sleep(ms(1)),
            Err(p) => return Err(panic_text(p.as_ref())),
        }
    }
    Ok(None)
}

/// Fixed bug: `Lazy::take_late` on a `map_ready` (or `then_ready`, or a `map_ready` over
/// `all_with`) future whose upstream timed out panics with "internal error: entered
/// unreachable code: transparent_future: a task returned a timeout".
///
/// Found by `tests-integration/tests/prop_dag.rs` with `PROP_DAG_KNOWN_BUGS=take_late`. Diagnosis: when
/// the upstream times out, `map_ready`'s continuation publishes `Ok(Outcome::Timeout)`
/// to the downstream, which shares the upstream's deadline and so is already past
/// it: `Core::publish` stores that `Outcome::Timeout` as the downstream's *late*
/// result (`Slot::TimedOut { late: Some(Ok(Outcome::Timeout)) }`), and
/// `Lazy::take_late` (`src/lazy.rs`) treats a late `Outcome::Timeout` as impossible.
/// The promise (`take_late`'s docs): `None` "if the outcome was not a timeout, or the
/// late result was already taken", a late result only if the work produced one; here
/// nothing late was produced, so `None` is right. A fix: have `take_late` map a late
/// `Outcome::Timeout` to `None`, or have the ready forms not publish a pass-through
/// timeout as a late result.
#[test]
fn take_late_after_a_passed_through_timeout_is_none_not_a_panic() {
    within(secs(20), || {
        let slow = || {
            spawn_lazy_with(Deadline::after(ms(10)), || {
                thread::sleep(ms(100));
                1u32
            })
        };
        let mapped = Lazy::map_ready(slow(), |v| v + 1);
        let chained = Lazy::then_ready(slow(), |v| spawn_lazy(move || v + 1));
        let all = Lazy::map_ready(
            Lazy::all_with(
                Deadline::after(ms(10)),
                [spawn_lazy(|| {
                    thread::sleep(ms(100));
                    1u32
                })],
            ),
            |v| v.len() as u32,
        );
        let mut failures = Vec::new();
        for (what, x) in [
            ("map_ready", mapped),
            ("then_ready", chained),
            ("all_with + map_ready", all),
        ] {
            assert_eq!(*x, Outcome::Timeout, "{what}");
            thread::sleep(ms(300)); // the upstream's task has long finished
            match late(&x) {
                Ok(None) => {}
                Ok(Some(r)) => failures.push(format!(
                    "{what}: a late result {:?} though the downstream never computed one",
                    r.map(|_| "a value")
                )),
                Err(message) => failures.push(format!("{what}: take_late panicked: {message}")),
            }
        }
        assert!(failures.is_empty(), "{failures:#?}");
    });
}

/// Fixed bug: a pool task that reads (without a limit) `Lazy::map` of a pool task with a
/// deadline that is still queued behind it never finishes, on a one-worker pool: a
/// silent hang, not reported by the deadlock detector.
///
/// Found by `tests-integration/tests/prop_dag.rs` with `PROP_DAG_KNOWN_BUGS=pool_reads` (two workers,
/// each blocked on such a `map`). Reading the upstream itself would be released at its
/// deadline; reading its `map` is not, because:
///
/// 1. the wait on the `map` (no deadline of its own) is unbounded, and work-helping
///    through it (`Remote::help`, `src/task.rs`) reaches the upstream, which a reader
///    may not run because it has a deadline (`Core::may_help`);
/// 2. at the deadline the timer decides the upstream's timeout, and the map's
///    closure, being user code decided by a deadline, is submitted to the future's
///    home (`fire` in `src/state.rs`): the pool, whose only worker is the blocked
///    reader;
/// 3. the detector sees no cycle: `Task::blocker` returns `Blocker::Nothing` for a
///    task with a deadline ("a wait through this future ends at its deadline"), which
///    is not true of a wait through its `map`.
///
/// The promises at stake: "a one-worker pool whose task waits on another task it
/// spawned finishes" (`ThreadPool`'s docs) and "a reader blocked on a late task is
/// released at the deadline". A fix could let the blocked reader run the queued
/// continuation (help the follow-up job, not only the upstream task), or run a
/// pass-through of the timeout outside the pool.
#[test]
fn a_pool_task_reading_a_map_of_a_queued_task_with_a_deadline_finishes() {
    let answer = within(secs(10), || {
        let pool = ThreadPool::new(1);
        let (send_map, recv_map) = mpsc::channel::<Lazy<bool>>();
        // On the only worker: waits for the map, then reads it without a limit.
        let reader = pool.spawn_lazy(move || {
            let mapped = recv_map.recv().expect("the map");
            *mapped
        });
        // Queued behind the reader; its deadline passes while it waits in the queue.
        let upstream = pool.spawn_lazy_with(Deadline::after(ms(10)), || 1u32);
        let mapped = Lazy::map(upstream, |o| o.is_timeout());
        send_map.send(mapped).expect("the reader is waiting");
        let answer = Lazy::wait_timeout(&reader, Duration::from_secs(5))
            .ok()
            .copied();
        if answer.is_none() {
            // Dropping the pool would join the blocked worker: leave it.
            std::mem::forget(pool);
        }
        answer
    });
    assert_eq!(
        answer,
        Some(true),
        "the reader was not released: the map of the timed-out task never ran"
    );
}

/// Fixed bug: a pool task that reads (without a limit) `Lazy::then` of a pool task queued
/// behind it, whose closure spawns the inner future on the same pool, never finishes
/// on a one-worker pool: a silent hang, not reported by the deadlock detector.
///
/// Found while diagnosing the previous bug (the property test leaves this pattern out
/// unless `PROP_DAG_KNOWN_BUGS=pool_reads`). Work-helping through the `then`
/// (`Remote::help`) runs the queued upstream on the reader's thread, which runs the
/// continuation, which spawns the inner future onto the pool and re-links the `then`
/// to it (`forward` in `src/chain.rs`); but the reader has already helped and goes to
/// sleep (`Lazy::block`: one `help()`, then `Core::wait(None)`), and the inner future
/// sits in the queue behind the reader, the pool's only worker. The detector sees no
/// cycle: an unstarted task reports no blocker. A fix could help again after a help
/// that made progress (until the future is decided or nothing is left to run), so the
/// reader also runs the inner future.
#[test]
fn a_pool_task_reading_a_then_whose_inner_future_is_queued_on_the_pool_finishes() {
    let answer = within(secs(10), || {
        let pool = ThreadPool::new(1);
        let (send_then, recv_then) = mpsc::channel::<Lazy<u32>>();
        let reader = pool.spawn_lazy(move || {
            let chained = recv_then.recv().expect("the then");
            *chained
        });
        let upstream = pool.spawn_lazy(|| 1u32);
        let inner_pool = pool.clone();
        let chained = Lazy::then(upstream, move |v| inner_pool.spawn_lazy(move || v + 1));
        send_then.send(chained).expect("the reader is waiting");
        let answer = Lazy::wait_timeout(&reader, Duration::from_secs(5))
            .ok()
            .copied();
        if answer.is_none() {
            // Dropping the pool would join the blocked worker: leave it.
            std::mem::forget(pool);
        }
        answer
    });
    assert_eq!(
        answer,
        Some(2),
        "the reader was not released: the then's inner future never ran"
    );
}

/// Fixed bug (found in review): `first_done` and `as_completed` helped once and then
/// slept without a limit when the helped step queued the next one (a `then` whose
/// closure spawns on the same one-worker pool), so the inner task never ran.
#[test]
fn first_done_and_as_completed_keep_helping_through_a_then_on_a_one_worker_pool() {
    let got = within(secs(20), || {
        let pool = ThreadPool::new(1);
        let p = pool.clone();
        let outer = pool.spawn_lazy(move || {
            let a = p.spawn_lazy(|| 1);
            let q = p.clone();
            let f = Lazy::then(a, move |x| q.spawn_lazy(move || x + 1));
            let (_, first) = first_done(std::slice::from_ref(&f));
            let first = *first;
            let b = p.spawn_lazy(|| 10);
            let q = p.clone();
            let g = Lazy::then(b, move |x| q.spawn_lazy(move || x + 1));
            let completed: Vec<i32> = as_completed([g]).map(|(_, f)| *f).collect();
            (first, completed)
        });
        Lazy::into_inner(outer)
    });
    assert_eq!(got, (2, vec![11]));
}

/// Fixed bug (found in review): a continuation downstream of a combinator whose input
/// was decided by a deadline ran on the timer thread (the forwarding publish counted as
/// the task's own), holding up every other deadline.
#[test]
fn a_map_after_all_of_a_timed_out_input_does_not_run_on_the_timer() {
    let name = within(secs(20), || {
        let slow = spawn_lazy_with(Deadline::after(Duration::from_millis(10)), || {
            thread::sleep(Duration::from_millis(300));
        });
        let mapped = Lazy::map(Lazy::all([slow]), |_| {
            thread::current().name().map(str::to_owned)
        });
        Lazy::into_inner(mapped)
    });
    assert_ne!(name.as_deref(), Some("transparent-future-timer"));
}

/// Runs `f` as a task on a fresh pool of `workers` and reads it with a bounded wait
/// (which never helps, so the pool's own workers must finish it); `None` if it did not
/// finish within 5 s. The pool is then leaked rather than dropped: dropping it would
/// join a worker that may be blocked for good.
fn in_pool_task<T: Send + 'static>(
    workers: usize,
    f: impl FnOnce(ThreadPool) -> T + Send + 'static,
) -> Option<T> {
    let pool = ThreadPool::new(workers);
    let p = pool.clone();
    let task = pool.spawn_lazy(move || f(p));
    let answer = Lazy::wait_timeout(&task, Duration::from_secs(5)).is_ok();
    if !answer {
        std::mem::forget(pool);
        std::mem::forget(task);
        return None;
    }
    Some(Lazy::into_inner(task))
}

/// Fixed bug: on a one-worker pool, a task that maps a future already decided and
/// reads the map never finishes. The continuation goes to the pool as a job that was in
/// no future's dependency graph, queued behind the only worker, which is the reader:
/// helping through the map reached only the decided input. Now the map records its
/// queued job, and its reader runs it.
#[test]
fn a_pool_task_reading_a_map_of_a_decided_input_finishes() {
    let got = within(secs(20), || {
        in_pool_task(1, |p| {
            let a = p.spawn_lazy(|| 1);
            let _ = *a;
            *Lazy::map(a, |v| v + 1)
        })
    });
    assert_eq!(got, Some(2), "the map's queued continuation never ran");
}

/// Fixed bug: the same, with an input whose deadline has passed when `map` is called:
/// registering the continuation decides the timeout and queues the continuation behind
/// the reader. Now the map records the job, and its reader runs it.
#[test]
fn a_pool_task_reading_a_map_of_an_input_past_its_deadline_finishes() {
    let got = within(secs(20), || {
        in_pool_task(1, |p| {
            let a = p.spawn_lazy_with(Deadline::after(ms(1)), || 1);
            thread::sleep(ms(30)); // the deadline passes while `a` is queued behind us
            *Lazy::map(a, |o| o.is_timeout())
        })
    });
    assert_eq!(got, Some(true), "the map's queued continuation never ran");
}

/// Fixed bug: a pool task reading `then(up, |v| pool.spawn_lazy(..))`, with `up` on
/// thread-per-task finishing after the reader went to sleep, never finishes on a
/// one-worker pool: the inner future is queued behind the reader, which helped only
/// before it slept. Now linking the inner future wakes the reader, which helps again.
#[test]
fn a_pool_task_reading_a_then_whose_inner_future_is_queued_after_it_slept_finishes() {
    let got = within(secs(20), || {
        in_pool_task(1, |p| {
            let up = spawn_lazy(|| {
                thread::sleep(ms(100)); // the reader is asleep by then
                1
            });
            let q = p.clone();
            *Lazy::then(up, move |v| q.spawn_lazy(move || v + 1))
        })
    });
    assert_eq!(got, Some(2), "the then's inner future never ran");
}

/// Fixed bug: a pool task reading `all([running elsewhere, queued on this pool])` never
/// finishes on a one-worker pool: helping stopped as soon as one input was running,
/// and the queued input waited behind the reader. Now every input that is not running
/// is helped, whatever the others do.
#[test]
fn a_pool_task_reading_all_of_a_running_and_a_queued_input_finishes() {
    let got = within(secs(20), || {
        in_pool_task(1, |p| {
            let (started, has_started) = mpsc::channel();
            let running = spawn_lazy(move || {
                started.send(()).expect("the test waits");
                thread::sleep(ms(200));
                1
            });
            has_started.recv().expect("the input started");
            let queued = p.spawn_lazy(|| 2);
            Lazy::into_inner(Lazy::all([running, queued]))
        })
    });
    assert_eq!(got, Some(vec![1, 2]), "the queued input of all never ran");
}

/// Fixed bug: `first_done(&[map of a decided future, helpable task])` inside a task of
/// a one-worker pool never returns: only the first unstarted input was ever tried, and
/// the map's queued continuation was not reachable from it. Now the map's job is
/// reachable and every pending input is tried in turn.
#[test]
fn first_done_over_a_map_of_a_decided_future_in_a_pool_task_finishes() {
    let got = within(secs(20), || {
        in_pool_task(1, |p| {
            let a = p.spawn_lazy(|| 1);
            let _ = *a;
            let futures = [Lazy::map(a, |v| v + 10), p.spawn_lazy(|| 20)];
            let (_, first) = first_done(&futures);
            *first
        })
    });
    let first = got.expect("first_done never returned");
    assert!(first == 11 || first == 20, "{first}");
}

/// Fixed bug: under load, 32 tasks of the shape "spawn, read, map, read" on a
/// two-worker pool hung in every round: each worker read a map whose continuation was
/// queued behind the other worker's task. Twenty rounds, each under its own limit.
#[test]
fn tasks_that_spawn_read_map_and_read_on_a_two_worker_pool_finish_under_load() {
    for round in 0..20 {
        let got = within(secs(20), move || {
            in_pool_task(2, |p| {
                let tasks: Vec<Lazy<u64>> = (0..32u64)
                    .map(|i| {
                        let q = p.clone();
                        p.spawn_lazy(move || {
                            let a = q.spawn_lazy(move || i);
                            let read = *a;
                            let mapped = Lazy::map(a, |v| v * 2);
                            read + *mapped
                        })
                    })
                    .collect();
                tasks.iter().map(|t| **t).sum::<u64>()
            })
        });
        assert_eq!(got, Some(3 * (0..32).sum::<u64>()), "round {round} hung");
    }
}
