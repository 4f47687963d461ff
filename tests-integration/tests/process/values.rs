//! Values cross the boundary; failures to (de)serialize are clear errors.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use transparent_future::process::{self, ProcessPool};
use transparent_future::{Builder, Deadline, Lazy, Outcome, WaitError};

use crate::support::watchdog;

const LIMIT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Order {
    id: u64,
    items: Vec<String>,
    note: Option<String>,
}

fn summarize(order: Order) -> (u64, usize) {
    (order.id, order.items.len())
}

fn pid(_: ()) -> u32 {
    std::process::id()
}

fn thread_name(_: ()) -> Option<String> {
    std::thread::current().name().map(String::from)
}

#[test]
fn a_value_crosses_and_the_future_is_transparent() {
    watchdog(LIMIT, || {
        let order = Order {
            id: 7,
            items: vec!["a".into(), "b".into()],
            note: None,
        };
        let x = process::spawn_lazy(order, summarize);
        assert_eq!(*x, (7, 2));
        let y = process::spawn_lazy((), pid);
        assert_ne!(*y, std::process::id(), "ran in another process");
        let z = process::spawn_lazy(20u64, |n: u64| n + 1); // a closure that captures nothing
        assert_eq!(z + 1, 22);
    });
}

#[test]
fn the_builder_names_the_task_thread_and_refuses_an_executor() {
    watchdog(LIMIT, || {
        let x = Builder::new()
            .name("parser")
            .stack_size(1 << 20)
            .spawn_process((), thread_name)
            .unwrap();
        assert_eq!(x.as_deref(), Some("parser"));
        let pool = transparent_future::ThreadPool::new(1);
        let err = Builder::new().on(&pool).spawn_process((), pid).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        let err = Builder::new()
            .name("a\0b")
            .spawn_process((), pid)
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    });
}

/// Bytes serialized as one byte string (as `serde_bytes` does), not element by element:
/// what a large binary payload should use.
#[derive(Debug, PartialEq)]
struct Blob(Vec<u8>);

impl Serialize for Blob {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Blob;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<Blob, E> {
                Ok(Blob(v.to_vec()))
            }
            fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Blob, E> {
                Ok(Blob(v))
            }
        }
        d.deserialize_byte_buf(V)
    }
}

fn echo_len(data: Blob) -> (usize, u64) {
    (data.0.len(), data.0.iter().map(|&b| u64::from(b)).sum())
}

fn make(len: usize) -> Blob {
    Blob((0..len).map(|i| (i % 251) as u8).collect())
}

#[test]
fn sixty_four_mebibytes_cross_both_ways() {
    watchdog(LIMIT, || {
        let len: usize = 64 << 20;
        let data = make(len);
        let sum: u64 = data.0.iter().map(|&b| u64::from(b)).sum();
        let x = process::spawn_lazy(data, echo_len);
        let y = process::spawn_lazy(len, make);
        assert_eq!(*x, (len, sum));
        assert_eq!(y.0.len(), len);
        assert!(y.0.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
        let pool = ProcessPool::new(1);
        let z = pool.spawn_lazy(len, make);
        assert_eq!(z.0.len(), len);
    });
}

/// Serializes only when `ok`, deserializes only if it was `ok`.
#[derive(Debug)]
struct Picky {
    ok: bool,
}

impl Serialize for Picky {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.ok {
            s.serialize_bool(true)
        } else {
            Err(serde::ser::Error::custom("Picky refuses to serialize"))
        }
    }
}

impl<'de> Deserialize<'de> for Picky {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match u8::deserialize(d)? {
            1 => Ok(Picky { ok: true }),
            _ => Err(serde::de::Error::custom("Picky refuses to deserialize")),
        }
    }
}

fn take_picky(p: Picky) -> bool {
    p.ok
}

fn give_picky(ok: bool) -> Picky {
    Picky { ok }
}

/// Serializes as a `u8` 1, read back as a `String`: fails in the parent.
#[derive(Debug)]
struct Lies;

impl Serialize for Lies {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(u32::MAX)
    }
}

impl<'de> Deserialize<'de> for Lies {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = u32::deserialize(d)?;
        if n == u32::MAX {
            Err(serde::de::Error::custom("Lies cannot be read back"))
        } else {
            Ok(Lies)
        }
    }
}

fn lie(_: ()) -> Lies {
    Lies
}

fn message(x: &Lazy<impl Sized>) -> String {
    match Lazy::try_wait(x) {
        Err(WaitError::Panicked(p)) => p.message().to_owned(),
        Err(other) => panic!("expected a failure as a panic, got {other}"),
        Ok(_) => panic!("expected a failure, got a value"),
    }
}

#[test]
fn serialization_failures_are_errors_on_each_side() {
    watchdog(LIMIT, || {
        // The argument fails to serialize in the caller: the fallible form's error.
        let err = Builder::new()
            .spawn_process(Picky { ok: false }, take_picky)
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        // (postcard keeps no custom message; the error names the type.)
        assert!(
            err.to_string().contains("Picky") && err.to_string().contains("serialized"),
            "{err}"
        );
        // A result that fails to serialize in the child:
        let x = process::spawn_lazy(false, give_picky);
        let m = message(&x);
        assert!(
            m.contains("could not serialize the result") && m.contains("Picky"),
            "{m}"
        );
        // A result that fails to deserialize in the parent:
        let y = process::spawn_lazy((), lie);
        let m = message(&y);
        assert!(
            m.contains("could not be deserialized") && m.contains("Lies"),
            "{m}"
        );
        // An argument the child cannot read back:
        let v = process::spawn_lazy(Lies, |_: Lies| 0u8);
        let m = message(&v);
        assert!(
            m.contains("could not deserialize the argument") && m.contains("Lies"),
            "{m}"
        );
        // A value that serializes and reads back:
        let z = Builder::new()
            .spawn_process(Picky { ok: true }, take_picky)
            .unwrap();
        assert!(*z);
        let pool = ProcessPool::new(1);
        let w = pool.spawn_lazy(false, give_picky);
        assert!(message(&w).contains("Picky"));
        assert!(!*pool.spawn_lazy(true, |b: bool| !b), "the worker survived");
    });
}

fn boom(code: u32) -> u32 {
    if code == 0 {
        std::panic::panic_any(7u8)
    }
    panic!("boom {code}")
}

#[test]
fn a_panic_reaches_readers_as_a_thread_tasks_does() {
    watchdog(LIMIT, || {
        let x = process::spawn_lazy(3, boom);
        let err = std::panic::catch_unwind(|| *x + 1).unwrap_err();
        assert_eq!(
            err.downcast_ref::<String>().map(String::as_str),
            Some("background task panicked: boom 3")
        );
        let Err(WaitError::Panicked(p)) = Lazy::try_wait(&x) else {
            panic!("a panic")
        };
        assert_eq!(p.message(), "boom 3");
        let payload = Lazy::join(x).unwrap_err();
        assert_eq!(
            payload.downcast_ref::<String>().map(String::as_str),
            Some("boom 3")
        );
        let y = process::spawn_lazy(0, boom);
        assert_eq!(message(&y), "<non-string panic payload>");
    });
}

#[test]
fn a_value_in_time_is_ready() {
    watchdog(LIMIT, || {
        let x =
            process::spawn_lazy_with(Deadline::after(Duration::from_secs(20)), 2u8, |n: u8| n * 3);
        assert_eq!(*x, Outcome::Ready(6));
    });
}
