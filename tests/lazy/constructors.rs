//! Making futures and looking at them without blocking.
//!
//! `Lazy::with_value(v)`, `From<T>` and `Default` give resolved futures;
//! `Builder::new().spawn` returns `Ok`; `Lazy::is_done` and `Lazy::get` never block: `false` / `None`
//! while the task runs, `true` / `Some` once it has returned.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::support::settled;
use transparent_future::{Builder, Lazy, spawn_lazy};

#[test]
fn ready_from_and_default_are_resolved_at_once() {
    let x = Lazy::with_value(5);
    assert!(Lazy::is_done(&x));
    assert_eq!(Lazy::get(&x), Some(&5));
    assert_eq!(*x, 5);
    assert_eq!(Lazy::join(x).unwrap(), 5);

    let y: Lazy<u8> = 4.into();
    assert!(Lazy::is_done(&y));
    assert_eq!(*y, 4);
    let z = Lazy::from(String::from("z"));
    assert_eq!(Lazy::into_inner(z), "z");

    let d: Lazy<String> = Lazy::default();
    assert!(Lazy::is_done(&d));
    assert!(d.is_empty());
    let n: Lazy<i64> = Default::default();
    assert_eq!(*n, 0);
    let v: Lazy<Vec<u8>> = Lazy::default();
    assert_eq!(v.len(), 0);
}

#[test]
fn is_done_and_get_never_block_and_follow_the_task() {
    let (go, wait_for_go) = mpsc::channel::<()>();
    let x = spawn_lazy(move || {
        wait_for_go.recv().unwrap();
        7
    });
    let t0 = Instant::now();
    assert!(!Lazy::is_done(&x));
    assert_eq!(Lazy::get(&x), None);
    assert_eq!(Lazy::get(&x), None);
    assert!(t0.elapsed() < Duration::from_millis(500), "they blocked");
    go.send(()).unwrap();
    settled(&x);
    assert_eq!(Lazy::get(&x), Some(&7));
    assert!(Lazy::is_done(&x));
    assert_eq!(*x, 7);
    assert_eq!(Lazy::get(&x), Some(&7));
}

#[test]
fn get_after_a_read_returns_the_cached_value() {
    let x = spawn_lazy(|| vec![1, 2]);
    let first: *const Vec<i32> = &*x;
    let got = Lazy::get(&x).expect("a read value is not there");
    assert!(std::ptr::eq(first, got));
    assert!(Lazy::is_done(&x));
}

#[test]
fn the_builder_spawn_returns_ok() {
    let x = Builder::new()
        .spawn(|| 6 * 7)
        .expect("the OS refused a thread");
    assert_eq!(*x, 42);
    let s = Builder::new()
        .spawn(|| {
            thread::sleep(Duration::from_millis(50));
            String::from("ok")
        })
        .unwrap();
    assert_eq!(*s, "ok");
}

#[test]
fn join_and_into_inner_wait_for_the_task() {
    let t0 = Instant::now();
    let x = spawn_lazy(|| {
        thread::sleep(Duration::from_millis(150));
        3
    });
    assert_eq!(Lazy::join(x).unwrap(), 3);
    assert!(t0.elapsed() >= Duration::from_millis(150));
    let t0 = Instant::now();
    let y = spawn_lazy(|| {
        thread::sleep(Duration::from_millis(150));
        vec![1]
    });
    assert_eq!(Lazy::into_inner(y), [1]);
    assert!(t0.elapsed() >= Duration::from_millis(150));
}
