//! Making futures and looking at them without blocking.
//!
//! `Lazy::ready(v)`, `From<T>` and `Default` give resolved futures; `try_spawn_lazy`
//! returns `Ok`; `Lazy::is_ready` and `Lazy::try_get` never block: `false` / `None`
//! while the task runs, `true` / `Some` once it has returned.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::support::settled;
use transparent_future::{Lazy, spawn_lazy, try_spawn_lazy};

#[test]
fn ready_from_and_default_are_resolved_at_once() {
    let x = Lazy::ready(5);
    assert!(Lazy::is_ready(&x));
    assert_eq!(Lazy::try_get(&x), Some(&5));
    assert_eq!(*x, 5);
    assert_eq!(Lazy::join(x).unwrap(), 5);

    let y: Lazy<u8> = 4.into();
    assert!(Lazy::is_ready(&y));
    assert_eq!(*y, 4);
    let z = Lazy::from(String::from("z"));
    assert_eq!(Lazy::into_inner(z), "z");

    let d: Lazy<String> = Lazy::default();
    assert!(Lazy::is_ready(&d));
    assert!(d.is_empty());
    let n: Lazy<i64> = Default::default();
    assert_eq!(*n, 0);
    let v: Lazy<Vec<u8>> = Lazy::default();
    assert_eq!(v.len(), 0);
}

#[test]
fn is_ready_and_try_get_never_block_and_follow_the_task() {
    let (go, wait_for_go) = mpsc::channel::<()>();
    let x = spawn_lazy(move || {
        wait_for_go.recv().unwrap();
        7
    });
    let t0 = Instant::now();
    assert!(!Lazy::is_ready(&x));
    assert_eq!(Lazy::try_get(&x), None);
    assert_eq!(Lazy::try_get(&x), None);
    assert!(t0.elapsed() < Duration::from_millis(500), "they blocked");
    go.send(()).unwrap();
    settled(&x);
    assert_eq!(Lazy::try_get(&x), Some(&7));
    assert!(Lazy::is_ready(&x));
    assert_eq!(*x, 7);
    assert_eq!(Lazy::try_get(&x), Some(&7));
}

#[test]
fn try_get_after_a_read_returns_the_cached_value() {
    let x = spawn_lazy(|| vec![1, 2]);
    let first: *const Vec<i32> = &*x;
    let got = Lazy::try_get(&x).expect("a read value is not there");
    assert!(std::ptr::eq(first, got));
    assert!(Lazy::is_ready(&x));
}

#[test]
fn try_spawn_lazy_returns_ok() {
    let x = try_spawn_lazy(|| 6 * 7).expect("the OS refused a thread");
    assert_eq!(*x, 42);
    let s = try_spawn_lazy(|| {
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
