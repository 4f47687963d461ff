//! `Builder`.
//!
//! `Builder::new().name(..).stack_size(..)` configures a thread-per-task future's
//! thread; `spawn` returns `io::Result<Lazy<T>>`; `spawn_with(policy, f)` gives an
//! `Outcome` (a reader released at the deadline); `spawn_cancellable` hands the task a
//! token. The refusal past the live-thread cap is in `tests/threads/cap.rs`, with the
//! other tests that change the process-global cap.

use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{ms, panic_text};
use static_assertions::assert_impl_all;
use transparent_future::{Builder, Deadline, Lazy, NoTimeout, Outcome};

assert_impl_all!(Builder: Send, Sync, Default, std::fmt::Debug);

/// Uses about `kib` KiB of stack, so that a too-small stack overflows.
#[inline(never)]
fn deep(kib: usize) -> u64 {
    let buf = std::hint::black_box([kib as u8; 1024]);
    if kib == 0 {
        return 0;
    }
    let below = deep(kib - 1);
    std::hint::black_box(below + u64::from(buf[kib % 1024]))
}

#[test]
fn spawn_returns_an_io_result_of_the_future() {
    let x: io::Result<Lazy<u32>> = Builder::new().spawn(|| 6 * 7);
    let x = x.unwrap();
    assert_eq!(*x, 42);
    assert_eq!(x + 1, 43);
    let main = thread::current().id();
    let elsewhere = Builder::new().spawn(|| thread::current().id()).unwrap();
    assert_ne!(*elsewhere, main);
    let d = Builder::default().spawn(|| "default").unwrap();
    assert_eq!(*d, "default");
}

#[test]
fn name_names_the_thread() {
    let x = Builder::new()
        .name("fetcher-7")
        .spawn(|| thread::current().name().map(String::from))
        .unwrap();
    assert_eq!(x.as_deref(), Some("fetcher-7"));
    let unnamed = Builder::new()
        .spawn(|| thread::current().name().map(String::from))
        .unwrap();
    assert_eq!(*unnamed, None);
    // The name shows in the task's panic, and the panic reaches the reader.
    let bad = Builder::new()
        .name("doomed")
        .spawn(|| -> u8 { panic!("builder-boom on {:?}", thread::current().name()) })
        .unwrap();
    let err = catch_unwind(AssertUnwindSafe(|| *bad)).unwrap_err();
    let msg = panic_text(err.as_ref());
    assert!(msg.contains("builder-boom"), "{msg}");
    assert!(msg.contains("doomed"), "{msg}");
}

#[test]
fn stack_size_is_applied() {
    // 6 MiB of recursion: fine on a 32 MiB stack, an overflow on the 2 MiB default.
    let big = Builder::new()
        .stack_size(32 * 1024 * 1024)
        .spawn(|| deep(6 * 1024))
        .unwrap();
    assert_eq!(*big, (1..=6 * 1024u64).map(|k| k % 256).sum::<u64>());
    // A small stack works for a small task.
    let small = Builder::new()
        .name("small")
        .stack_size(64 * 1024)
        .spawn(|| (thread::current().name().map(String::from), deep(8)))
        .unwrap();
    assert_eq!(small.0.as_deref(), Some("small"));
    assert!(small.1 > 0);
}

#[test]
fn spawn_with_gives_an_outcome_and_releases_at_the_deadline() {
    let quick = Builder::new()
        .name("quick")
        .timeout(Deadline::after(Duration::from_secs(30)))
        .spawn(|| thread::current().name().map(String::from))
        .unwrap();
    assert_eq!(*quick, Outcome::Ready(Some("quick".to_string())));

    let none = Builder::new().timeout(NoTimeout).spawn(|| 1).unwrap();
    assert_eq!(*none, Outcome::Ready(1));

    let t0 = Instant::now();
    let slow = Builder::new()
        .stack_size(128 * 1024)
        .timeout(Deadline::after(ms(50)))
        .spawn(|| {
            thread::sleep(ms(600));
            "late"
        })
        .unwrap();
    assert_eq!(*slow, Outcome::Timeout);
    let waited = t0.elapsed();
    assert!(waited >= ms(50), "{waited:?}");
    assert!(
        waited < ms(450),
        "reader not released at the deadline: {waited:?}"
    );
    let until = Instant::now() + Duration::from_secs(10);
    let late = loop {
        if let Some(late) = Lazy::take_late(&slow) {
            break late;
        }
        assert!(Instant::now() < until, "the late value never came");
        thread::sleep(ms(5));
    };
    assert_eq!(late.unwrap(), "late");

    let bad = Builder::new()
        .timeout(Deadline::after(Duration::from_secs(30)))
        .spawn(|| -> u8 { panic!("with-boom") })
        .unwrap();
    assert_eq!(
        panic_text(Lazy::join(bad).unwrap_err().as_ref()),
        "with-boom"
    );
}

#[test]
fn spawn_cancellable_hands_the_task_a_token() {
    let (started_tx, started) = mpsc::channel();
    let x = Builder::new()
        .name("cancellable")
        .stack_size(128 * 1024)
        .spawn_cancellable(move |token| {
            started_tx.send(()).unwrap();
            let t0 = Instant::now();
            let mut rounds = 0u32;
            while !token.is_cancelled() && t0.elapsed() < Duration::from_secs(10) {
                rounds += 1;
                thread::sleep(ms(1));
            }
            (
                thread::current().name().map(String::from),
                token.is_cancelled(),
                rounds,
            )
        })
        .unwrap();
    started.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(!Lazy::is_done(&x));
    let t0 = Instant::now();
    Lazy::cancel(&x);
    let (name, cancelled, _rounds) = &*x;
    assert!(t0.elapsed() < ms(200), "{:?}", t0.elapsed());
    assert_eq!(name.as_deref(), Some("cancellable"));
    assert!(*cancelled);
    // Not cancelled unless asked.
    let quiet = Builder::new()
        .spawn_cancellable(|t| t.is_cancelled())
        .unwrap();
    assert!(!*quiet);
}

#[test]
fn builders_in_parallel() {
    let t0 = Instant::now();
    let futures: Vec<Lazy<usize>> = (0..8)
        .map(|i| {
            Builder::new()
                .name(format!("par-{i}"))
                .stack_size(64 * 1024)
                .spawn(move || {
                    thread::sleep(ms(200));
                    i
                })
                .unwrap()
        })
        .collect();
    assert_eq!(futures.iter().map(|x| **x).sum::<usize>(), 28);
    // Eight 200 ms tasks ran at once, each on its own thread.
    assert!(t0.elapsed() < ms(1500), "{:?}", t0.elapsed());
}
