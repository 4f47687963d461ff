//! The `Outcome` type.
//!
//! `is_timeout`, `is_ready`, `ready`, `into_ready`, `map`, `as_ref`, `expect`,
//! `unwrap_or`, the conversion to `Option`, and `Display` ("Timeout" or the value,
//! padded like a string), on plain outcomes and through a future.

use std::collections::HashSet;
use std::panic::catch_unwind;
use std::thread;
use std::time::Duration;

use transparent_future::{Deadline, Outcome, spawn_lazy_with};

#[test]
fn predicates() {
    assert!(Outcome::<u8>::Timeout.is_timeout());
    assert!(!Outcome::<u8>::Timeout.is_ready());
    assert!(Outcome::Ready(1).is_ready());
    assert!(!Outcome::Ready(1).is_timeout());
}

#[test]
fn accessors() {
    assert_eq!(Outcome::Ready(1).ready(), Some(&1));
    assert_eq!(Outcome::<u8>::Timeout.ready(), None);
    assert_eq!(
        Outcome::Ready(String::from("a")).into_ready(),
        Some(String::from("a"))
    );
    assert_eq!(Outcome::<String>::Timeout.into_ready(), None);
    assert_eq!(Outcome::Ready(2).map(|v| v * 10), Outcome::Ready(20));
    assert_eq!(Outcome::<i32>::Timeout.map(|v| v * 10), Outcome::Timeout);
    let o = Outcome::Ready(String::from("hi"));
    assert_eq!(o.as_ref().map(|s| s.len()), Outcome::Ready(2));
    assert_eq!(Outcome::<String>::Timeout.as_ref(), Outcome::Timeout);
    assert_eq!(Outcome::Ready(3).expect("no time"), 3);
    assert_eq!(Outcome::Ready(5).unwrap_or(0), 5);
    assert_eq!(Outcome::Timeout.unwrap_or(0), 0);
    assert_eq!(Option::from(Outcome::Ready(1)), Some(1));
    assert_eq!(Option::<u8>::from(Outcome::Timeout), None);
}

#[test]
fn expect_on_a_timeout_panics_with_the_message() {
    let payload = catch_unwind(|| Outcome::<u8>::Timeout.expect("the lookup timed out"))
        .expect_err("expect on a timeout did not panic");
    let msg = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap();
    assert!(msg.contains("the lookup timed out"), "message {msg:?}");
}

#[test]
fn display_is_timeout_or_the_value() {
    assert_eq!(Outcome::<u8>::Timeout.to_string(), "Timeout");
    assert_eq!(Outcome::Ready("foobar2").to_string(), "foobar2");
    assert_eq!(Outcome::Ready(true).to_string(), "true");
    assert_eq!(format!("[{:>8}]", Outcome::<u8>::Timeout), "[ Timeout]");
    assert_eq!(format!("[{:<8}]", Outcome::<u8>::Timeout), "[Timeout ]");
    assert_eq!(format!("[{:.3}]", Outcome::<u8>::Timeout), "[Tim]");
    assert_eq!(format!("[{:>6.2}]", Outcome::Ready(2.5)), "[  2.50]");
}

#[test]
fn comparisons_hashing_and_copies() {
    assert_eq!(Outcome::Ready(1), Outcome::Ready(1));
    assert_ne!(Outcome::Ready(1), Outcome::Timeout);
    let set: HashSet<Outcome<u8>> = [Outcome::Timeout, Outcome::Ready(1), Outcome::Timeout]
        .into_iter()
        .collect();
    assert_eq!(set.len(), 2);
    let o = Outcome::Ready(4);
    let copy = o;
    assert_eq!(o, copy);
    assert_eq!(format!("{:?}", Outcome::Ready(4)), "Ready(4)");
    assert_eq!(format!("{:?}", Outcome::<u8>::Timeout), "Timeout");
}

#[test]
fn outcome_methods_through_a_future() {
    let late = spawn_lazy_with(Deadline::after(Duration::from_millis(20)), || {
        thread::sleep(Duration::from_millis(300));
        1
    });
    assert!(late.is_timeout());
    assert!(!late.is_ready());
    assert_eq!(late.ready(), None);
    assert_eq!(late.unwrap_or(9), 9);
    let on_time = spawn_lazy_with(Deadline::after(Duration::from_secs(10)), || 2);
    assert!(on_time.is_ready());
    assert_eq!(on_time.ready(), Some(&2));
    assert_eq!(on_time.map(|v| v + 1), Outcome::Ready(3));
}
