//! Panicking tasks.
//!
//! If the task panics, every access that would return the value (Deref, DerefMut,
//! Display, operators, comparisons, `Lazy::wait`, `Lazy::into_inner`, `Lazy::get`)
//! panics in the reader with a message that contains the task's panic message; a second
//! reader panics too and never hangs. `Lazy::join` returns the original payload. Tasks
//! with a timeout policy behave the same way when they panic before the deadline.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{ms, settled};
use transparent_future::{Deadline, Lazy, Outcome, WaitError, spawn_lazy, spawn_lazy_with};

/// The message of a reader's panic: the payload must be a `String`.
fn message(payload: Box<dyn Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => panic!(
            "the reader's panic payload is not a String (a &str: {:?})",
            payload.downcast_ref::<&str>()
        ),
    }
}

/// Runs `f`, which must panic with a message containing `needle`.
#[track_caller]
fn assert_panics_with<R>(needle: &str, f: impl FnOnce() -> R) {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(_) => panic!("the access did not panic"),
        Err(payload) => {
            let msg = message(payload);
            assert!(
                msg.contains(needle),
                "the reader's panic message {msg:?} does not contain {needle:?}"
            );
        }
    }
}

fn boom_i32() -> Lazy<i32> {
    spawn_lazy(|| -> i32 { panic!("boom") })
}

#[test]
fn deref_panics_in_the_reader_and_again_for_a_second_read() {
    let x = boom_i32();
    assert_panics_with("boom", || *x);
    assert_panics_with("boom", || *x);
    assert_panics_with("boom", || Lazy::wait(&x).abs());
}

#[test]
fn method_calls_and_deref_mut_panic() {
    let mut v = spawn_lazy(|| -> Vec<u8> { panic!("vec boom") });
    assert_panics_with("vec boom", || v.len());
    assert_panics_with("vec boom", || v.push(1));
}

#[test]
fn display_panics() {
    let x = boom_i32();
    assert_panics_with("boom", || format!("{x}"));
    assert_panics_with("boom", || x.to_string());
}

#[test]
fn operators_and_comparisons_panic() {
    assert_panics_with("boom", || &boom_i32() + 1);
    assert_panics_with("boom", || boom_i32() + 1);
    assert_panics_with("boom", || 1 + boom_i32());
    assert_panics_with("boom", || -boom_i32());
    assert_panics_with("boom", || boom_i32() == 3);
    assert_panics_with("boom", || boom_i32() < 3);
    assert_panics_with("boom", || {
        let mut x = boom_i32();
        x += 1;
    });
    assert_panics_with("boom", || {
        let mut n = 1;
        n += boom_i32();
        n
    });
}

#[test]
fn wait_into_inner_and_get_panic_while_bounded_waits_return_the_panic() {
    let x = boom_i32();
    assert_panics_with("boom", || *Lazy::wait(&x));
    assert_panics_with("boom", || Lazy::into_inner(boom_i32()));
    let y = boom_i32();
    settled(&y);
    assert_panics_with("boom", || Lazy::get(&y).copied());
    assert_panics_with("boom", || Lazy::get(&y).copied());
    let z = boom_i32();
    for _ in 0..2 {
        // Checked waits return the panic, the same one each time, payload included.
        match Lazy::wait_timeout(&z, Duration::from_secs(10)) {
            Err(WaitError::Panicked(p)) => {
                assert_eq!(p.message(), "boom");
                assert!(p.to_string().contains("boom"), "{p}");
            }
            other => panic!("expected the task's panic, got {other:?}"),
        }
        match Lazy::wait_deadline(&z, Instant::now() + Duration::from_secs(10)) {
            Err(WaitError::Panicked(p)) => assert_eq!(p.message(), "boom"),
            other => panic!("expected the task's panic, got {other:?}"),
        }
    }
    // The implicit access still panics with the task's message.
    assert_panics_with("boom", || *z);
}

#[test]
fn a_formatted_panic_message_reaches_the_reader() {
    let x = spawn_lazy(|| -> u32 {
        let n = std::hint::black_box(42);
        panic!("boom number {n}")
    });
    assert_panics_with("boom number 42", || *x);
    let y = spawn_lazy(|| -> u32 { std::panic::panic_any(String::from("owned boom")) });
    assert_panics_with("owned boom", || *y);
}

#[test]
fn join_returns_the_original_payload() {
    let payload = Lazy::join(boom_i32()).unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));

    // A formatted message with a run-time argument is a `String` payload.
    let payload = Lazy::join(spawn_lazy(|| -> u8 {
        let n = std::hint::black_box(7);
        panic!("boom {n}")
    }))
    .unwrap_err();
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("boom 7")
    );

    // After readers have panicked, join still has the payload.
    let x = boom_i32();
    assert_panics_with("boom", || *x);
    let payload = Lazy::join(x).unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));

    // A non-string payload comes back as it was.
    let p = Lazy::join(spawn_lazy(|| -> u8 { std::panic::panic_any(17_u32) })).unwrap_err();
    assert_eq!(p.downcast_ref::<u32>(), Some(&17));
}

#[test]
fn every_reader_thread_panics_and_none_hangs() {
    let (go, wait_for_go) = mpsc::channel::<()>();
    let x = Arc::new(spawn_lazy(move || -> String {
        wait_for_go.recv().unwrap();
        panic!("shared boom")
    }));
    let (report, reports) = mpsc::channel();
    for _ in 0..6 {
        let x = Arc::clone(&x);
        let report = report.clone();
        thread::spawn(move || {
            let result = catch_unwind(AssertUnwindSafe(|| x.len()));
            report.send(result.map_err(message)).unwrap();
        });
    }
    thread::sleep(ms(50));
    go.send(()).unwrap();
    for _ in 0..6 {
        let result = reports
            .recv_timeout(Duration::from_secs(10))
            .expect("a reader of a panicked future hangs");
        let msg = result.expect_err("a reader of a panicked future got a value");
        assert!(msg.contains("shared boom"), "message {msg:?}");
    }
    // And a late reader too.
    assert_panics_with("shared boom", || x.len());
}

#[test]
fn a_task_with_a_deadline_that_panics_in_time_panics_in_the_readers() {
    let t0 = Instant::now();
    let spawn = || {
        spawn_lazy_with(Deadline::after(Duration::from_secs(10)), || -> i32 {
            thread::sleep(ms(20));
            panic!("boom")
        })
    };
    let x = spawn();
    assert_panics_with("boom", || *x);
    assert_panics_with("boom", || x.is_ready());
    assert_panics_with("boom", || x == Outcome::Ready(1));
    assert_panics_with("boom", || x == Outcome::Timeout);
    assert_panics_with("boom", || format!("{x}"));
    assert_panics_with("boom", || Lazy::into_inner(spawn()));
    let y = spawn();
    settled(&y);
    assert_panics_with("boom", || Lazy::get(&y).cloned());
    let payload = Lazy::join(spawn()).unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "a panic waited for the deadline"
    );
}

#[test]
fn a_task_that_panics_after_its_deadline_is_a_timeout_with_a_late_panic() {
    let x = spawn_lazy_with(Deadline::after(ms(30)), || -> i32 {
        thread::sleep(ms(200));
        panic!("late boom")
    });
    assert_eq!(*x, Outcome::Timeout);
    let until = Instant::now() + Duration::from_secs(5);
    let late = loop {
        if let Some(late) = Lazy::take_late(&x) {
            break late;
        }
        assert!(
            Instant::now() < until,
            "the late panic was never collectable"
        );
        thread::sleep(ms(10));
    };
    let payload = late.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"late boom"));
    assert_eq!(*x, Outcome::Timeout);
}

#[test]
fn a_panicked_future_is_ready_in_the_sense_of_never_blocking() {
    let x = boom_i32();
    settled(&x);
    assert!(Lazy::is_done(&x));
}
