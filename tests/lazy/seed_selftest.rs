//! The seed's own self-test, ported.
//!
//! The `if __name__ == '__main__'` part of pybackground (2008): a slow task with a
//! deadline shorter than it is `Timeout`, one with a longer deadline is `Ready(true)`;
//! a background `sleep` returns `()`; a background `sleep 0.2` process exits with
//! status 0 (`y == 0`); and a timeout prints as "Timeout". The seed slept for seconds;
//! here the tasks take hundreds of milliseconds.

use std::process::Command;
use std::thread;
use std::time::Instant;

use crate::support::ms;
use transparent_future::{Deadline, Outcome, spawn_lazy, spawn_lazy_with};

/// The seed's `longprocess`: sleeps, then returns `True`.
fn longprocess() -> bool {
    thread::sleep(ms(400));
    true
}

#[test]
fn test_with_timeout() {
    let t0 = Instant::now();
    let z = spawn_lazy_with(Deadline::after(ms(100)), longprocess);
    let w = spawn_lazy_with(Deadline::after(ms(1500)), longprocess);
    assert_eq!(format!("z = {z}"), "z = Timeout");
    assert_eq!(format!("w = {w}"), "w = true");
    assert!(z == Outcome::Timeout);
    assert!(w == Outcome::Ready(true));
    // Both ran at once: the total is about one task, not the sum.
    assert!(
        t0.elapsed() < ms(750),
        "the two tasks took {:?}",
        t0.elapsed()
    );
}

#[test]
fn test_without_timeout() {
    let t0 = Instant::now();
    let x = spawn_lazy(|| thread::sleep(ms(300)));
    let y = spawn_lazy(|| {
        Command::new("sleep")
            .arg("0.2")
            .status()
            .expect("could not run `sleep 0.2`")
            .code()
            .expect("`sleep 0.2` was killed by a signal")
    });
    assert_eq!(format!("y = {y}"), "y = 0");
    assert!(y == 0);
    assert!(x == ()); // the seed's `x == None`
    assert!(
        t0.elapsed() >= ms(300),
        "the background sleep did not sleep"
    );
    assert!(
        t0.elapsed() < ms(1000),
        "the sleep and the process did not overlap: {:?}",
        t0.elapsed()
    );
}

#[test]
fn the_process_status_itself_is_success() {
    let y = spawn_lazy(|| Command::new("sleep").arg("0.2").status());
    let status = (*y).as_ref().expect("could not run `sleep 0.2`");
    assert!(status.success());
    assert_eq!(status.code(), Some(0));
}

#[test]
fn timeout_prints_as_timeout() {
    let z = spawn_lazy_with(Deadline::after(ms(50)), longprocess);
    assert_eq!(z.to_string(), "Timeout");
    assert_eq!(format!("{z}"), "Timeout");
    assert_eq!(Outcome::<bool>::Timeout.to_string(), "Timeout");
}
