//! Continuations that see how their input ended, several continuations on one shared
//! future, and a deadline added to a future already running.

use std::time::{Duration, Instant};

use transparent_future::{
    Deadline, Lazy, Outcome, SharedLazy, ThreadPool, WaitError, spawn_lazy, spawn_lazy_with,
};

use crate::common::{Counted, count, counter, eventually};
use crate::support::{panic_text, secs, within};

#[derive(Debug, PartialEq)]
struct DiskFull(u64);

#[test]
fn handle_sees_a_value() {
    let x = Lazy::handle(spawn_lazy(|| 20), |r| r.map(|v| v + 1).unwrap_or(0));
    assert_eq!(*x, 21);
}

#[test]
fn handle_sees_a_panic_with_its_payload_and_recovers() {
    within(secs(10), || {
        let x = spawn_lazy(|| -> u32 { std::panic::panic_any(DiskFull(3)) });
        let recovered = Lazy::handle(x, |r| match r {
            Err(WaitError::Panicked(p)) => {
                p.payload().downcast_ref::<DiskFull>().map_or(0, |d| d.0)
            }
            _ => 99,
        });
        assert_eq!(*recovered, 3);
    });
}

#[test]
fn handle_sees_a_broken_promise() {
    let (p, x) = Lazy::<u8>::promise();
    let seen = Lazy::handle(x, |r| match r {
        Err(WaitError::Broken(b)) => b.reason().to_owned(),
        other => format!("{other:?}"),
    });
    drop(p);
    assert_eq!(*seen, "the Promise was dropped without a value");
}

#[test]
fn handle_sees_a_timeout_at_the_deadline_not_when_the_task_ends() {
    within(secs(10), || {
        let slow = spawn_lazy_with(Deadline::after(Duration::from_millis(20)), || {
            std::thread::sleep(Duration::from_secs(2));
            1
        });
        let t0 = Instant::now();
        let seen = Lazy::handle(slow, |r| matches!(r, Ok(Outcome::Timeout)));
        assert!(*seen);
        assert!(
            t0.elapsed() < Duration::from_millis(1500),
            "{:?}",
            t0.elapsed()
        );
    });
}

#[test]
fn a_panic_inside_handle_becomes_the_new_futures_panic() {
    let x = Lazy::handle(spawn_lazy(|| 1), |_| -> u8 { panic!("handler failed") });
    let Err(WaitError::Panicked(p)) = Lazy::try_wait(&x) else {
        panic!("expected a panic")
    };
    assert_eq!(p.message(), "handler failed");
}

#[test]
fn recover_replaces_only_failures() {
    assert_eq!(*Lazy::recover(spawn_lazy(|| 5), |_| 0), 5);
    let failed = spawn_lazy(|| -> i32 { panic!("no") });
    assert_eq!(
        *Lazy::recover(failed, |e| i32::from(matches!(e, WaitError::Panicked(_)))),
        1
    );
    let (p, x) = Lazy::<i32>::promise();
    drop(p);
    assert_eq!(*Lazy::recover(x, |_| -1), -1);
}

#[test]
fn map_and_then_keep_their_meaning_a_panic_passes_through() {
    let x = Lazy::map(spawn_lazy(|| -> u8 { panic!("upstream") }), |v| v + 1);
    let e = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| *x)).unwrap_err();
    assert!(panic_text(e.as_ref()).contains("upstream"));
}

#[test]
fn one_shared_future_feeds_several_continuations_and_keeps_its_value() {
    within(secs(10), || {
        let drops = counter();
        let d = drops.clone();
        let shared = Lazy::share(spawn_lazy(move || {
            std::thread::sleep(Duration::from_millis(20));
            Counted::new(4, &d)
        }));
        let ids: Vec<Lazy<usize>> = (0..5)
            .map(|k| SharedLazy::map(&shared, move |c| c.id * k))
            .collect();
        let then = SharedLazy::then(&shared, |c| {
            let id = c.id;
            spawn_lazy(move || id + 100)
        });
        let handled = SharedLazy::handle(&shared, |r| r.map(|c| c.id).unwrap_or(0));
        assert_eq!(
            ids.iter().map(|x| **x).collect::<Vec<_>>(),
            [0, 4, 8, 12, 16]
        );
        assert_eq!((*then, *handled), (104, 4));
        assert_eq!(
            shared.id, 4,
            "the value is still there for the shared handles"
        );
        assert_eq!(count(&drops), 0);
        drop(ids);
        drop(shared);
        assert!(
            eventually(5, || count(&drops) == 1),
            "dropped once, with the last holder"
        );
    });
}

#[test]
fn shared_continuations_registered_after_the_value_run_too() {
    let shared = Lazy::share(spawn_lazy(|| 3));
    assert_eq!(*shared, 3);
    assert_eq!(*SharedLazy::map(&shared, |v| v * 2), 6);
    assert_eq!(*SharedLazy::map(&shared, |v| v * 3), 9);
}

#[test]
fn shared_continuations_see_a_panic_every_time() {
    let shared = Lazy::share(spawn_lazy(|| -> u8 { panic!("once") }));
    let a = SharedLazy::map(&shared, |v| *v);
    let b = SharedLazy::handle(&shared, |r| r.is_err());
    assert!(*b);
    let Err(WaitError::Panicked(p)) = Lazy::try_wait(&a) else {
        panic!()
    };
    assert_eq!(p.message(), "once");
}

#[test]
fn shared_ready_forms_pass_a_timeout_through_and_keep_the_deadline() {
    within(secs(10), || {
        let slow = Lazy::share(spawn_lazy_with(
            Deadline::after(Duration::from_millis(20)),
            || {
                std::thread::sleep(Duration::from_secs(1));
                5
            },
        ));
        let mapped = SharedLazy::map_ready(&slow, |v| v + 1);
        let chained = SharedLazy::then_ready(&slow, |&v| spawn_lazy(move || v + 2));
        assert_eq!(*mapped, Outcome::Timeout);
        assert_eq!(*chained, Outcome::Timeout);

        let quick = Lazy::share(spawn_lazy_with(
            Deadline::after(Duration::from_secs(30)),
            || 5,
        ));
        assert_eq!(*SharedLazy::map_ready(&quick, |v| v + 1), Outcome::Ready(6));
        assert_eq!(
            *SharedLazy::then_ready(&quick, |&v| spawn_lazy(move || v + 2)),
            Outcome::Ready(7)
        );
    });
}

#[test]
fn a_deadline_added_later_releases_readers_and_keeps_the_late_value() {
    within(secs(10), || {
        let drops = counter();
        let d = drops.clone();
        let running = spawn_lazy(move || {
            std::thread::sleep(Duration::from_millis(200));
            Counted::new(9, &d)
        });
        let t0 = Instant::now();
        let bounded_x = Lazy::timeout(running, Deadline::after(Duration::from_millis(20)));
        assert!(bounded_x.is_timeout());
        assert!(
            t0.elapsed() < Duration::from_millis(180),
            "released at the deadline"
        );
        assert!(eventually(5, || Lazy::take_late(&bounded_x)
            .is_some_and(|late| { late.unwrap().id == 9 })));
        assert!(
            eventually(5, || count(&drops) == 1),
            "the late value was taken and dropped once"
        );
        assert!(Lazy::take_late(&bounded_x).is_none());
    });
}

#[test]
fn a_deadline_added_later_is_ready_for_a_value_in_time_and_passes_a_panic() {
    let x = Lazy::timeout(spawn_lazy(|| 1), Duration::from_secs(30));
    assert_eq!(*x, Outcome::Ready(1));
    let done = Lazy::with_value(2);
    assert_eq!(
        *Lazy::timeout(done, Duration::ZERO),
        Outcome::Ready(2),
        "already there: in time"
    );
    let bad = Lazy::timeout(
        spawn_lazy(|| -> u8 { panic!("inner") }),
        Duration::from_secs(30),
    );
    let Err(WaitError::Panicked(p)) = Lazy::try_wait(&bad) else {
        panic!()
    };
    assert_eq!(p.message(), "inner");
}

#[test]
fn a_deadline_added_later_decides_like_a_spawn_time_one_for_every_reader() {
    within(secs(10), || {
        let pool = ThreadPool::new(1);
        let gate = std::sync::Arc::new(std::sync::Barrier::new(2));
        let g = gate.clone();
        let blocked = pool.spawn_lazy(move || {
            g.wait();
            "late"
        });
        let x = Lazy::share(Lazy::timeout(
            blocked,
            Deadline::after(Duration::from_millis(30)),
        ));
        let watcher = SharedLazy::map(&x, |o| o.is_timeout()); // decided by the timer
        assert!(*watcher);
        assert_eq!(*x, Outcome::Timeout);
        gate.wait();
        drop(x);
    });
}
