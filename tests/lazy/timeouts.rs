//! Futures with a deadline.
//!
//! `spawn_lazy_with(Deadline::after(d), f)` gives a `Lazy<Outcome<T>>` that is
//! `Outcome::Ready` exactly when the task's result was published no later than the
//! deadline, and `Outcome::Timeout` otherwise, whenever the first reader looks. The
//! outcome is decided once and every reader sees the same one; a reader blocked on a
//! late task is released at the deadline; the task keeps running and its late value can
//! be collected with `Lazy::take_late`.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{ms, wait_for_late};
use transparent_future::{
    Builder, Deadline, Lazy, NoTimeout, Outcome, TimeoutPolicy, spawn_lazy_with,
};

#[test]
fn a_task_that_finishes_before_its_deadline_is_ready() {
    let x = spawn_lazy_with(Deadline::after(Duration::from_secs(5)), || {
        thread::sleep(ms(50));
        "value"
    });
    assert_eq!(*x, Outcome::Ready("value"));
    assert!(x == Outcome::Ready("value"));
}

#[test]
fn a_late_task_is_a_timeout_and_its_reader_is_released_at_the_deadline() {
    let t0 = Instant::now();
    let x = spawn_lazy_with(Deadline::after(ms(100)), || {
        thread::sleep(ms(900));
        1
    });
    assert_eq!(*x, Outcome::Timeout);
    let waited = t0.elapsed();
    assert!(
        waited >= ms(100),
        "released after {waited:?}, before the deadline"
    );
    assert!(
        waited < ms(600),
        "released after {waited:?}: not at the 100 ms deadline but near the task's end (900 ms)"
    );
}

#[test]
fn a_task_that_finished_late_is_a_timeout_even_if_read_long_after() {
    let (done, task_done) = mpsc::channel();
    let x = spawn_lazy_with(Deadline::after(ms(50)), move || {
        thread::sleep(ms(200));
        done.send(()).unwrap();
        "late"
    });
    // Nobody reads before the task has finished.
    task_done.recv_timeout(Duration::from_secs(5)).unwrap();
    thread::sleep(ms(100));
    assert_eq!(*x, Outcome::Timeout, "a late result became Ready");
    assert_eq!(wait_for_late(&x).unwrap(), "late");
}

#[test]
fn a_task_that_finished_in_time_is_ready_even_if_read_long_after_the_deadline() {
    let x = spawn_lazy_with(Deadline::after(ms(300)), || 5);
    thread::sleep(ms(600)); // well past the deadline; the task was done long before it
    assert_eq!(*x, Outcome::Ready(5));
    assert!(Lazy::take_late(&x).is_none());
}

#[test]
fn every_reader_of_a_late_task_is_released_at_the_deadline_and_sees_timeout() {
    let t0 = Instant::now();
    let x = spawn_lazy_with(Deadline::after(ms(150)), || {
        thread::sleep(ms(1000));
        7
    });
    let seen: Vec<(Outcome<i32>, Duration)> = thread::scope(|s| {
        let readers: Vec<_> = (0..8).map(|_| s.spawn(|| (*x, t0.elapsed()))).collect();
        readers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    for (outcome, at) in seen {
        assert_eq!(outcome, Outcome::Timeout);
        assert!(
            at >= ms(150) && at < ms(700),
            "a reader was released at {at:?}"
        );
    }
}

#[test]
fn every_reader_of_an_on_time_task_sees_ready() {
    let x = spawn_lazy_with(Deadline::after(Duration::from_secs(5)), || {
        thread::sleep(ms(100));
        String::from("ok")
    });
    thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| assert_eq!(*x, Outcome::Ready(String::from("ok"))));
        }
    });
}

#[test]
fn the_outcome_is_decided_once_even_when_deadline_and_task_race() {
    // Deadline equal to the task's duration: either outcome is allowed, but all readers
    // (and all later reads) must agree.
    for round in 0..30 {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = Arc::clone(&calls);
        let x = spawn_lazy_with(Deadline::after(ms(20)), move || {
            c.fetch_add(1, SeqCst);
            thread::sleep(ms(20));
            round
        });
        let seen: Vec<Outcome<i32>> = thread::scope(|s| {
            let readers: Vec<_> = (0..4).map(|_| s.spawn(|| *x)).collect();
            readers.into_iter().map(|r| r.join().unwrap()).collect()
        });
        for outcome in &seen {
            assert_eq!(*outcome, seen[0], "readers disagree in round {round}");
            if let Outcome::Ready(v) = outcome {
                assert_eq!(*v, round);
            }
        }
        thread::sleep(ms(30));
        assert_eq!(*x, seen[0], "the outcome changed after it was decided");
        assert_eq!(calls.load(SeqCst), 1);
    }
}

#[test]
fn the_task_keeps_running_after_a_timeout() {
    let finished = Arc::new(AtomicBool::new(false));
    let f = Arc::clone(&finished);
    let (done, task_done) = mpsc::channel();
    let x = spawn_lazy_with(Deadline::after(ms(50)), move || {
        thread::sleep(ms(300));
        f.store(true, SeqCst);
        done.send(()).unwrap();
        3
    });
    assert!(x == Outcome::Timeout);
    assert!(
        !finished.load(SeqCst),
        "the reader waited for the late task"
    );
    task_done
        .recv_timeout(Duration::from_secs(5))
        .expect("the task was stopped by its timeout");
    assert!(finished.load(SeqCst));
}

#[test]
fn take_late_is_none_while_running_then_the_value_once() {
    let x = spawn_lazy_with(Deadline::after(ms(50)), || {
        thread::sleep(ms(400));
        vec![1, 2, 3]
    });
    assert_eq!(*x, Outcome::Timeout);
    assert!(
        Lazy::take_late(&x).is_none(),
        "take_late returned something while the task was still running"
    );
    assert_eq!(wait_for_late(&x).unwrap(), [1, 2, 3]);
    assert!(
        Lazy::take_late(&x).is_none(),
        "the late value was taken twice"
    );
    // The outcome itself is unchanged.
    assert_eq!(*x, Outcome::Timeout);
}

#[test]
fn take_late_works_without_any_read() {
    let x = spawn_lazy_with(Deadline::after(ms(20)), || {
        thread::sleep(ms(100));
        11_u8
    });
    assert_eq!(wait_for_late(&x).unwrap(), 11);
    assert_eq!(*x, Outcome::Timeout);
}

#[test]
fn take_late_is_none_for_a_ready_outcome() {
    let x = spawn_lazy_with(Deadline::after(Duration::from_secs(5)), || 1);
    assert_eq!(*x, Outcome::Ready(1));
    thread::sleep(ms(50));
    assert!(Lazy::take_late(&x).is_none());
    let r: Lazy<Outcome<i32>> = Lazy::with_value(Outcome::Timeout);
    assert!(Lazy::take_late(&r).is_none());
}

#[test]
fn is_done_and_get_see_the_deadline_pass_without_a_blocking_read() {
    let x = spawn_lazy_with(Deadline::after(ms(100)), || {
        thread::sleep(ms(800));
        1
    });
    assert!(!Lazy::is_done(&x));
    assert_eq!(Lazy::get(&x), None);
    thread::sleep(ms(250));
    assert!(
        Lazy::is_done(&x),
        "the deadline passed but is_ready is false"
    );
    assert_eq!(Lazy::get(&x), Some(&Outcome::Timeout));
    assert_eq!(*x, Outcome::Timeout);
}

#[test]
fn join_and_into_inner_report_the_outcome() {
    let slow = spawn_lazy_with(Deadline::after(ms(30)), || {
        thread::sleep(ms(300));
        1
    });
    assert_eq!(Lazy::join(slow).unwrap(), Outcome::Timeout);
    let fast = spawn_lazy_with(Deadline::after(Duration::from_secs(5)), || 2);
    assert_eq!(Lazy::into_inner(fast), Outcome::Ready(2));
    let slow = spawn_lazy_with(Deadline::after(ms(30)), || {
        thread::sleep(ms(300));
        3
    });
    let t0 = Instant::now();
    assert_eq!(Lazy::into_inner(slow), Outcome::Timeout);
    assert!(
        t0.elapsed() < ms(250),
        "into_inner waited for the late task"
    );
}

#[test]
fn other_policies_duration_no_timeout_and_a_custom_one() {
    let d = spawn_lazy_with(ms(30), || {
        thread::sleep(ms(400));
        1
    });
    assert_eq!(*d, Outcome::Timeout);
    let n = spawn_lazy_with(NoTimeout, || {
        thread::sleep(ms(100));
        2
    });
    assert_eq!(*n, Outcome::Ready(2));

    struct Never;
    impl TimeoutPolicy for Never {
        fn deadline(&self, spawned_at: Instant) -> Option<Instant> {
            Some(spawned_at) // always already due
        }
    }
    let c = spawn_lazy_with(&Never, || {
        thread::sleep(ms(50));
        3
    });
    assert_eq!(*c, Outcome::Timeout);

    let t = Builder::new()
        .timeout(Deadline::after(Duration::from_secs(5)))
        .spawn(|| 4)
        .unwrap();
    assert_eq!(*t, Outcome::Ready(4));
}

#[test]
fn a_shared_absolute_deadline_splits_fast_and_slow_tasks() {
    let at = Instant::now() + ms(200);
    let fast = spawn_lazy_with(Deadline::at(at), || "fast");
    let slow = spawn_lazy_with(Deadline::at(at), || {
        thread::sleep(ms(700));
        "slow"
    });
    assert_eq!(*fast, Outcome::Ready("fast"));
    assert_eq!(*slow, Outcome::Timeout);
    assert!(Instant::now() >= at);
}
