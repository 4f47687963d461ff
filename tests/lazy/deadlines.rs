//! Edge cases of deadlines and bounded waits.
//!
//! `Deadline::after(Duration::MAX)` waits forever without an overflow panic;
//! `Deadline::at(past)` is a timeout unless the result was published before the
//! deadline (so a task spawned after its deadline is always late); a zero duration is
//! valid. `Lazy::wait_timeout(&x, Duration::MAX)` waits forever without a panic;
//! `wait_timeout` / `wait_deadline` give up one wait only, and the future stays pending
//! and can be waited on again.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::support::ms;
use transparent_future::{Deadline, Lazy, Outcome, WaitError, spawn_lazy, spawn_lazy_with};

#[test]
fn deadline_after_duration_max_waits_forever_without_panic() {
    let t0 = Instant::now();
    let x = spawn_lazy_with(Deadline::after(Duration::MAX), || {
        thread::sleep(ms(200));
        1
    });
    assert_eq!(*x, Outcome::Ready(1));
    assert!(
        t0.elapsed() >= ms(200),
        "the reader did not wait for the task"
    );
}

#[test]
fn a_bare_duration_max_policy_waits_forever_too() {
    let x = spawn_lazy_with(Duration::MAX, || {
        thread::sleep(ms(100));
        2
    });
    assert_eq!(*x, Outcome::Ready(2));
}

#[test]
fn a_huge_but_representable_deadline_waits_for_the_task() {
    // About 30 years: representable as an `Instant`, far beyond any test.
    let x = spawn_lazy_with(Deadline::after(Duration::from_secs(1 << 30)), || {
        thread::sleep(ms(100));
        3
    });
    assert_eq!(Lazy::wait_timeout(&x, ms(10)), Err(WaitError::Timeout));
    assert_eq!(*x, Outcome::Ready(3));
    // A bounded wait far too long for the condition variable's timer.
    let y = spawn_lazy(|| {
        thread::sleep(ms(100));
        4
    });
    assert_eq!(
        Lazy::wait_timeout(&y, Duration::from_secs(u64::MAX / 4)),
        Ok(&4)
    );
    let z = spawn_lazy_with(Deadline::after(Duration::from_secs(u64::MAX / 4)), || 5);
    assert_eq!(*z, Outcome::Ready(5));
}

#[test]
fn a_past_deadline_with_a_slow_task_is_a_timeout_at_once() {
    let past = Instant::now();
    thread::sleep(ms(20));
    let t0 = Instant::now();
    let x = spawn_lazy_with(Deadline::at(past), || {
        thread::sleep(ms(500));
        1
    });
    assert_eq!(*x, Outcome::Timeout);
    assert!(
        t0.elapsed() < ms(300),
        "a past deadline made the reader wait {:?}",
        t0.elapsed()
    );
}

#[test]
fn a_past_deadline_with_a_task_done_before_the_read_is_still_a_timeout() {
    // "Already there" means published before the deadline: a task spawned after its
    // deadline publishes late, however fast it is.
    let past = Instant::now();
    thread::sleep(ms(20));
    let (done, task_done) = mpsc::channel();
    let x = spawn_lazy_with(Deadline::at(past), move || {
        done.send(()).unwrap();
        1
    });
    task_done.recv_timeout(Duration::from_secs(5)).unwrap();
    thread::sleep(ms(50));
    assert_eq!(*x, Outcome::Timeout);
}

#[test]
fn a_deadline_that_passed_after_the_result_was_there_is_ready() {
    let at = Instant::now() + ms(150);
    let x = spawn_lazy_with(Deadline::at(at), || 9);
    thread::sleep(ms(400));
    assert!(Instant::now() > at);
    // The deadline is now in the past, but the result was already there.
    assert_eq!(*x, Outcome::Ready(9));
}

#[test]
fn a_zero_duration_is_valid() {
    let t0 = Instant::now();
    let x = spawn_lazy_with(Deadline::after(Duration::ZERO), || {
        thread::sleep(ms(300));
        "a"
    });
    assert!(x == Outcome::Timeout);
    assert_eq!(x.to_string(), "Timeout");
    assert!(
        t0.elapsed() < ms(200),
        "a zero deadline waited for the task"
    );

    let y = spawn_lazy_with(Duration::ZERO, || 1);
    // A task that publishes after its spawn instant is late: a Timeout, never a panic.
    assert_eq!(*y, Outcome::Timeout);
}

#[test]
fn wait_timeout_duration_max_waits_forever_without_panic() {
    let x = spawn_lazy(|| {
        thread::sleep(ms(150));
        8
    });
    assert_eq!(Lazy::wait_timeout(&x, Duration::MAX), Ok(&8));
    let y = spawn_lazy(|| 9);
    assert_eq!(Lazy::wait_timeout(&y, Duration::MAX), Ok(&9));
}

#[test]
fn wait_timeout_gives_up_one_wait_and_the_future_stays_pending() {
    let (go, wait_for_go) = mpsc::channel::<()>();
    let x = spawn_lazy(move || {
        wait_for_go.recv().unwrap();
        String::from("done")
    });
    let t0 = Instant::now();
    assert_eq!(Lazy::wait_timeout(&x, ms(100)), Err(WaitError::Timeout));
    let waited = t0.elapsed();
    assert!(waited >= ms(100), "gave up after {waited:?}");
    assert!(waited < ms(1000), "gave up only after {waited:?}");
    // Still pending, and it can be waited on again.
    assert!(!Lazy::is_done(&x));
    assert_eq!(Lazy::get(&x), None);
    assert_eq!(Lazy::wait_timeout(&x, ms(30)), Err(WaitError::Timeout));
    assert_eq!(
        Lazy::wait_timeout(&x, Duration::ZERO),
        Err(WaitError::Timeout)
    );
    go.send(()).unwrap();
    assert_eq!(
        Lazy::wait_timeout(&x, Duration::from_secs(10)).map(String::as_str),
        Ok("done")
    );
    assert_eq!(*x, "done");
    assert_eq!(
        Lazy::wait_timeout(&x, Duration::ZERO).map(String::as_str),
        Ok("done")
    );
}

#[test]
fn wait_deadline_gives_up_one_wait_and_the_future_stays_pending() {
    let (go, wait_for_go) = mpsc::channel::<()>();
    let x = spawn_lazy(move || {
        wait_for_go.recv().unwrap();
        5
    });
    let past = Instant::now();
    assert_eq!(Lazy::wait_deadline(&x, past), Err(WaitError::Timeout));
    let t0 = Instant::now();
    assert_eq!(
        Lazy::wait_deadline(&x, t0 + ms(80)),
        Err(WaitError::Timeout)
    );
    assert!(Instant::now() >= t0 + ms(80));
    go.send(()).unwrap();
    assert_eq!(
        Lazy::wait_deadline(&x, Instant::now() + Duration::from_secs(10)),
        Ok(&5)
    );
    // Resolved: even a past deadline returns the value now.
    assert_eq!(Lazy::wait_deadline(&x, past), Ok(&5));
}

#[test]
fn a_bounded_wait_on_a_future_with_a_deadline_returns_the_timeout_at_the_deadline() {
    let t0 = Instant::now();
    let x = spawn_lazy_with(Deadline::after(ms(100)), || {
        thread::sleep(ms(900));
        1
    });
    assert_eq!(
        Lazy::wait_timeout(&x, Duration::from_secs(10)),
        Ok(&Outcome::Timeout)
    );
    assert!(t0.elapsed() < ms(600), "released after {:?}", t0.elapsed());
}

#[test]
fn a_bounded_wait_shorter_than_the_deadline_leaves_the_outcome_open() {
    let x = spawn_lazy_with(Deadline::after(Duration::from_secs(5)), || {
        thread::sleep(ms(200));
        4
    });
    assert_eq!(Lazy::wait_timeout(&x, ms(20)), Err(WaitError::Timeout));
    // Giving up a wait did not decide a timeout: the task is on time.
    assert_eq!(*x, Outcome::Ready(4));
}

#[test]
fn bounded_waits_on_a_ready_future_return_at_once() {
    let x = Lazy::with_value(1);
    assert_eq!(Lazy::wait_timeout(&x, Duration::ZERO), Ok(&1));
    assert_eq!(Lazy::wait_deadline(&x, Instant::now()), Ok(&1));
    assert_eq!(Lazy::wait_timeout(&x, Duration::MAX), Ok(&1));
}
