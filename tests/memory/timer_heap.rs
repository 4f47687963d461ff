//! Watching a future that has a deadline puts it on the deadline timer once, however
//! often it is watched: repeated `first_done_deadline` calls over the same pending
//! futures, and `.await`s re-created on one of them in a `select!`-style loop, leave
//! the heap flat. (Each watch used to push a timer entry that stayed until the
//! deadline, an hour here, keeping the future's allocation alive with it.)
//!
//! It holds `support::serial()`, so that no other test of this binary allocates while
//! it measures (the live count is the whole process's).

use std::future::{Future, IntoFuture};
use std::pin::pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use crate::LIVE;
use crate::support::{secs, serial};
use transparent_future::{Builder, Deadline, Lazy, Outcome, first_done_deadline};

/// Calls measured per test: a million (a few seconds in a debug build).
const CALLS: usize = 1_000_000;
/// The growth allowed over those calls.
const SLACK: isize = 1024 * 1024;

type Gate = Arc<(Mutex<bool>, Condvar)>;

/// Four futures with a one-hour deadline, pending until the gate opens.
fn pending_for_an_hour(gate: &Gate) -> Vec<Lazy<Outcome<u32>>> {
    (0..4)
        .map(|i| {
            let gate = Arc::clone(gate);
            Builder::new()
                .timeout(Deadline::after(secs(3600)))
                .spawn(move || {
                    let (open, cond) = &*gate;
                    let mut open = open.lock().unwrap();
                    while !*open {
                        open = cond.wait(open).unwrap();
                    }
                    i
                })
                .unwrap()
        })
        .collect()
}

fn open(gate: &Gate) {
    *gate.0.lock().unwrap() = true;
    gate.1.notify_all();
}

/// The growth of the live heap over `CALLS` calls of `call`, after a warm-up (the
/// timer thread starts, buffers reach their size).
fn growth(mut call: impl FnMut()) -> isize {
    for _ in 0..1_000 {
        call();
    }
    let before = LIVE.load(Ordering::Relaxed);
    for _ in 0..CALLS {
        call();
    }
    LIVE.load(Ordering::Relaxed) - before
}

#[test]
fn a_million_first_done_deadline_calls_over_four_futures_with_a_deadline_keep_the_heap_flat() {
    let _serial = serial();
    let gate = Gate::default();
    let futures = pending_for_an_hour(&gate);
    let started = Instant::now();
    let grown = growth(|| {
        // A limit already passed: each call registers its watchers, finds nothing
        // done, and removes them.
        assert!(first_done_deadline(&futures, Instant::now()).is_none());
    });
    println!(
        "{CALLS} first_done_deadline calls: heap grew by {grown} bytes in {:.1?}",
        started.elapsed()
    );
    assert!(
        grown < SLACK,
        "the heap grew by {grown} bytes over {CALLS} calls"
    );
    open(&gate);
    for f in &futures {
        assert!(matches!(**f, Outcome::Ready(_)));
    }
}

#[test]
fn a_million_awaits_re_created_on_a_future_with_a_deadline_keep_the_heap_flat() {
    let _serial = serial();
    let gate = Gate::default();
    let futures = pending_for_an_hour(&gate);
    let mut cx = Context::from_waker(Waker::noop());
    let started = Instant::now();
    let grown = growth(|| {
        // One turn of a `select!` loop: poll the `.await` once, then drop it.
        let polled = pin!((&futures[0]).into_future()).poll(&mut cx);
        assert!(polled.is_pending());
    });
    println!(
        "{CALLS} re-created awaits: heap grew by {grown} bytes in {:.1?}",
        started.elapsed()
    );
    assert!(
        grown < SLACK,
        "the heap grew by {grown} bytes over {CALLS} awaits"
    );
    open(&gate);
    let mut awaited = pin!((&futures[0]).into_future());
    let value = loop {
        if let Poll::Ready(v) = awaited.as_mut().poll(&mut cx) {
            break v;
        }
        std::thread::yield_now();
    };
    assert_eq!(*value, Outcome::Ready(0));
}
