//! A call that waits on a later call of its own actor can never finish: the deadlock
//! detector refuses the wait and names the cycle.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use transparent_future::{Actor, Deadline, Lazy, Outcome, ThreadPool, WaitError};

use crate::calls::both;
use crate::support::{panic_text, secs, within};

#[test]
fn a_call_waiting_on_a_later_call_of_its_own_actor_is_refused_with_the_cycle() {
    within(secs(10), || {
        for (kind, actor) in both(|| 5_u32) {
            let me = actor.clone();
            let report = actor.call(move |_| {
                let later = me.call(|n| *n);
                match Lazy::try_wait(&later) {
                    Err(WaitError::Deadlock(cycle)) => cycle.to_string(),
                    other => format!("not refused: {other:?}"),
                }
            });
            let report = Lazy::into_inner(report);
            assert!(report.contains("actor call"), "{kind}: {report}");
            assert!(report.contains(r#"actor "u32""#), "{kind}: {report}");
            // The actor is fine: the refused wait did not hurt it.
            assert_eq!(*actor.call(|n| *n), 5, "{kind}");
        }
    });
}

#[test]
fn an_implicit_wait_on_a_later_call_fails_the_waiting_call_only() {
    within(secs(10), || {
        for (kind, actor) in both(|| 1_u32) {
            let me = actor.clone();
            let stuck = actor.call(move |_| *me.call(|n| *n) + 1);
            let Err(WaitError::Panicked(p)) = Lazy::try_wait(&stuck) else {
                panic!("{kind}")
            };
            assert!(
                p.message().starts_with("deadlock:"),
                "{kind}: {}",
                p.message()
            );
            assert_eq!(*actor.call(|n| *n + 1), 2, "{kind}: served on");
        }
    });
}

#[test]
fn two_actors_waiting_on_each_other_are_a_named_cycle() {
    within(secs(10), || {
        let a = Actor::new("a");
        let b = Actor::new("b");
        let seen = Arc::new(OnceLock::new());
        let (a2, s) = (a.clone(), seen.clone());
        let s2 = seen.clone();
        let outer = a.call(move |_| {
            // A waits on B's call, which waits on a later call of A. Whichever of the two
            // waits comes second closes the cycle and is refused (both readers spin a
            // little before they register, so either may be second).
            let inner = b.call(move |_| match Lazy::try_wait(&a2.call(|name| name.len())) {
                Err(WaitError::Deadlock(cycle)) => {
                    s.set(("b", cycle.len())).expect("one refusal");
                    0
                }
                Ok(n) => *n,
                Err(e) => panic!("{e}"),
            });
            match Lazy::try_wait(&inner) {
                Err(WaitError::Deadlock(cycle)) => {
                    s2.set(("a", cycle.len())).expect("one refusal");
                    0
                }
                Ok(n) => *n,
                Err(e) => panic!("{e}"),
            }
        });
        assert_eq!(*outer, 0);
        assert!(
            seen.get().is_some_and(|&(_, n)| n >= 3),
            "exactly one of the two waits is refused, naming a cycle of at least three: {seen:?}"
        );
    });
}

#[test]
fn a_wait_with_a_deadline_inside_an_actor_is_no_deadlock() {
    within(secs(10), || {
        let actor = Actor::new(());
        let me = actor.clone();
        let outcome =
            actor.call(move |_| *me.call_with(Deadline::after(Duration::from_millis(20)), |_| 1));
        assert_eq!(*outcome, Outcome::Timeout);
    });
}

#[test]
fn a_pool_task_reading_an_actor_on_its_own_one_worker_pool_does_not_starve() {
    within(secs(10), || {
        let pool = ThreadPool::new(1);
        let actor = Actor::on(&pool, 40_u32);
        let a = actor.clone();
        // The only worker runs this task, which waits on a call whose drain is queued
        // behind it: the waiting reader drains the actor itself.
        let x = pool.spawn_lazy(move || *a.call(|n| *n + 2));
        assert_eq!(*x, 42);
    });
}

#[test]
fn a_deadlock_message_reaches_the_outer_reader() {
    within(secs(10), || {
        let actor = Actor::new(0);
        let me = actor.clone();
        let stuck = actor.call(move |_| *me.call(|n| *n));
        let e = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| *stuck)).unwrap_err();
        assert!(
            panic_text(e.as_ref()).contains("deadlock"),
            "{}",
            panic_text(e.as_ref())
        );
    });
}
