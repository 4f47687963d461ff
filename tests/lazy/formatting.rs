//! Formatting.
//!
//! `Debug` never blocks: `Lazy(<pending>)` while pending, `Lazy(5)` when ready,
//! `Lazy(<panicked>)` after a panic. `Display` blocks and formats exactly as the value
//! would, width and precision included; so do `LowerHex`, `UpperHex`, `Octal`,
//! `Binary`, `LowerExp` and `UpperExp`.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{ms, settled};
use transparent_future::{Deadline, Lazy, Outcome, spawn_lazy, spawn_lazy_with};

#[test]
fn debug_never_blocks_on_a_pending_future() {
    let (go, wait_for_go) = mpsc::channel::<()>();
    let x = spawn_lazy(move || {
        wait_for_go.recv().unwrap();
        5
    });
    let t0 = Instant::now();
    let shown = format!("{x:?}");
    let took = t0.elapsed();
    go.send(()).unwrap();
    assert_eq!(shown, "Lazy(<pending>)");
    assert!(took < ms(500), "Debug took {took:?} on a pending future");
    assert_eq!(*x, 5);
    assert_eq!(format!("{x:?}"), "Lazy(5)");
}

#[test]
fn debug_shows_the_value_once_the_task_is_done_even_before_a_read() {
    let x = spawn_lazy(|| String::from("hi"));
    settled(&x);
    assert_eq!(format!("{x:?}"), "Lazy(\"hi\")");
    assert_eq!(format!("{:?}", Lazy::with_value(5)), "Lazy(5)");
    assert_eq!(
        format!("{:?}", Lazy::with_value(vec![1, 2])),
        "Lazy([1, 2])"
    );
}

#[test]
fn debug_shows_panicked_after_a_panic() {
    let x = spawn_lazy(|| -> i32 { panic!("boom") });
    settled(&x);
    assert_eq!(format!("{x:?}"), "Lazy(<panicked>)");
    // Still so after a reader has panicked on it.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| *x));
    assert_eq!(format!("{x:?}"), "Lazy(<panicked>)");
}

#[test]
fn debug_of_futures_with_a_deadline() {
    let (go, wait_for_go) = mpsc::channel::<()>();
    let pending = spawn_lazy_with(Deadline::after(Duration::from_secs(10)), move || {
        wait_for_go.recv().unwrap();
        3
    });
    assert_eq!(format!("{pending:?}"), "Lazy(<pending>)");
    go.send(()).unwrap();
    assert_eq!(*pending, Outcome::Ready(3));
    assert_eq!(format!("{pending:?}"), "Lazy(Ready(3))");

    let late = spawn_lazy_with(Deadline::after(ms(20)), || {
        thread::sleep(ms(300));
        3
    });
    assert_eq!(*late, Outcome::Timeout);
    assert_eq!(format!("{late:?}"), "Lazy(Timeout)");
}

#[test]
fn alternate_debug_works() {
    let x = Lazy::with_value((1, "a"));
    assert_eq!(
        format!("{x:#?}"),
        "Lazy(\n    (\n        1,\n        \"a\",\n    ),\n)"
    );
}

#[test]
fn display_blocks_until_the_value_is_there() {
    let t0 = Instant::now();
    let x = spawn_lazy(|| {
        thread::sleep(ms(200));
        42
    });
    assert_eq!(format!("{x}"), "42");
    assert!(t0.elapsed() >= ms(200), "Display did not wait for the task");
    assert_eq!(x.to_string(), "42");
}

#[test]
fn display_honours_width_precision_and_flags() {
    let f = spawn_lazy(|| 2.5_f64);
    assert_eq!(format!("[{f:>6.2}]"), "[  2.50]");
    assert_eq!(format!("[{f:<7.1}]"), "[2.5    ]");
    assert_eq!(format!("[{f:+.3}]"), "[+2.500]");
    assert_eq!(format!("[{f:08.2}]"), "[00002.50]");
    let i = spawn_lazy(|| 42_i32);
    assert_eq!(format!("[{i:>5}]"), "[   42]");
    assert_eq!(format!("[{i:<5}]"), "[42   ]");
    assert_eq!(format!("[{i:^6}]"), "[  42  ]");
    assert_eq!(format!("[{i:05}]"), "[00042]");
    assert_eq!(format!("[{i:*^8}]"), "[***42***]");
    let s = spawn_lazy(|| String::from("abc"));
    assert_eq!(format!("[{s:>5}]"), "[  abc]");
    assert_eq!(format!("[{s:.2}]"), "[ab]");
    let width = 6;
    assert_eq!(format!("[{i:>width$}]"), "[    42]");
}

#[test]
fn numeric_formatting_traits_forward() {
    let x = spawn_lazy(|| 255_u32);
    assert_eq!(format!("{x:x}"), "ff");
    assert_eq!(format!("{x:X}"), "FF");
    assert_eq!(format!("{x:#x}"), "0xff");
    assert_eq!(format!("{x:#X}"), "0xFF");
    assert_eq!(format!("{x:o}"), "377");
    assert_eq!(format!("{x:#o}"), "0o377");
    assert_eq!(format!("{x:b}"), "11111111");
    assert_eq!(format!("{x:#010b}"), "0b11111111");
    assert_eq!(format!("{x:08x}"), "000000ff");
    let f = spawn_lazy(|| 1500.0_f64);
    assert_eq!(format!("{f:e}"), "1.5e3");
    assert_eq!(format!("{f:E}"), "1.5E3");
    assert_eq!(format!("{f:.2e}"), "1.50e3");
    let n = spawn_lazy(|| -1_i8);
    assert_eq!(format!("{n:x}"), "ff");
}

#[test]
fn display_of_outcomes() {
    let z = spawn_lazy_with(Deadline::after(ms(20)), || {
        thread::sleep(ms(300));
        "foobar1"
    });
    let w = spawn_lazy_with(Deadline::after(Duration::from_secs(10)), || "foobar2");
    assert_eq!(format!("{z} {w}"), "Timeout foobar2");
    assert_eq!(format!("[{z:>9}]"), "[  Timeout]");
    assert_eq!(format!("[{w:<9}]"), "[foobar2  ]");
    let p = spawn_lazy_with(Deadline::after(Duration::from_secs(10)), || 2.71_f64);
    assert_eq!(format!("{p:.1}"), "2.7");
}
