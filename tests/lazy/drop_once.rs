//! Dropping futures and values.
//!
//! Dropping a pending `Lazy` never blocks; the task runs to completion and its value is
//! dropped on the task's thread. Every value is dropped exactly once, whatever happens
//! to its future: read then dropped, never read, dropped before the task finishes, a
//! late value after a timeout (collected with `take_late` or never collected, with the
//! handle dropped before or after the task ends), `into_inner`, `join`.
//! (That no thread outlives its task is checked in `tests/threads/exit.rs`.)

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use crate::support::{ms, wait_for_late};
use transparent_future::{Deadline, Lazy, spawn_lazy, spawn_lazy_with};

/// Counts the drops of the `Tracked` values made from it, and where they happened.
#[derive(Default)]
struct Counter {
    drops: AtomicUsize,
    threads: Mutex<Vec<ThreadId>>,
}

impl Counter {
    fn new() -> Arc<Counter> {
        Arc::new(Counter::default())
    }

    fn drops(&self) -> usize {
        self.drops.load(SeqCst)
    }

    /// Waits (bounded) for `n` drops, then checks that no more come.
    #[track_caller]
    fn expect_eventually(&self, n: usize) {
        let until = Instant::now() + Duration::from_secs(5);
        while self.drops() < n {
            assert!(
                Instant::now() < until,
                "expected {n} drops, saw {}",
                self.drops()
            );
            thread::sleep(ms(5));
        }
        thread::sleep(ms(50));
        assert_eq!(self.drops(), n, "a value was dropped more than once");
    }
}

struct Tracked {
    counter: Arc<Counter>,
    value: u32,
}

impl Tracked {
    fn new(counter: &Arc<Counter>, value: u32) -> Tracked {
        Tracked {
            counter: Arc::clone(counter),
            value,
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.counter
            .threads
            .lock()
            .unwrap()
            .push(thread::current().id());
        self.counter.drops.fetch_add(1, SeqCst);
    }
}

#[test]
fn dropping_a_pending_future_does_not_block_and_the_value_dies_on_the_task_thread() {
    let counter = Counter::new();
    let c = Arc::clone(&counter);
    let (task_id, task_ids) = mpsc::channel();
    let x = spawn_lazy(move || {
        task_id.send(thread::current().id()).unwrap();
        thread::sleep(ms(300));
        Tracked::new(&c, 1)
    });
    let task_thread = task_ids.recv_timeout(Duration::from_secs(5)).unwrap();
    let t0 = Instant::now();
    drop(x);
    let took = t0.elapsed();
    assert!(
        took < ms(150),
        "dropping a pending future took {took:?}: it waited for the task"
    );
    assert_eq!(counter.drops(), 0);
    counter.expect_eventually(1);
    let threads = counter.threads.lock().unwrap().clone();
    assert_eq!(
        threads,
        [task_thread],
        "the value was not dropped on the task's thread"
    );
}

#[test]
fn a_value_read_then_dropped_with_its_future_is_dropped_once() {
    let counter = Counter::new();
    let c = Arc::clone(&counter);
    let x = spawn_lazy(move || Tracked::new(&c, 7));
    assert_eq!(x.value, 7);
    assert_eq!(x.value, 7);
    assert_eq!(counter.drops(), 0, "a read dropped the value");
    drop(x);
    assert_eq!(
        counter.drops(),
        1,
        "the read value was not dropped with its future"
    );
    counter.expect_eventually(1);
}

#[test]
fn a_value_never_read_is_dropped_once() {
    let counter = Counter::new();
    let c = Arc::clone(&counter);
    let (done, task_done) = mpsc::channel();
    let x = spawn_lazy(move || {
        let t = Tracked::new(&c, 1);
        done.send(()).unwrap();
        t
    });
    task_done.recv_timeout(Duration::from_secs(5)).unwrap();
    thread::sleep(ms(50));
    assert_eq!(counter.drops(), 0);
    drop(x);
    counter.expect_eventually(1);
}

#[test]
fn a_future_dropped_before_its_task_finishes_drops_the_value_once() {
    let counter = Counter::new();
    let futures: Vec<Lazy<Tracked>> = (0..10)
        .map(|i| {
            let c = Arc::clone(&counter);
            spawn_lazy(move || {
                thread::sleep(ms(100));
                Tracked::new(&c, i)
            })
        })
        .collect();
    drop(futures);
    assert_eq!(counter.drops(), 0);
    counter.expect_eventually(10);
}

#[test]
fn a_late_value_collected_with_take_late_is_dropped_once() {
    let counter = Counter::new();
    let c = Arc::clone(&counter);
    let x = spawn_lazy_with(Deadline::after(ms(30)), move || {
        thread::sleep(ms(200));
        Tracked::new(&c, 3)
    });
    assert!(x.is_timeout());
    let late = wait_for_late(&x).unwrap_or_else(|_| panic!("the late task panicked"));
    assert_eq!(late.value, 3);
    assert_eq!(counter.drops(), 0);
    drop(late);
    assert_eq!(counter.drops(), 1);
    assert!(Lazy::take_late(&x).is_none());
    drop(x);
    counter.expect_eventually(1);
}

#[test]
fn a_late_value_never_collected_is_dropped_once_when_the_future_goes_first() {
    let counter = Counter::new();
    let c = Arc::clone(&counter);
    let (task_id, task_ids) = mpsc::channel();
    let x = spawn_lazy_with(Deadline::after(ms(30)), move || {
        task_id.send(thread::current().id()).unwrap();
        thread::sleep(ms(300));
        Tracked::new(&c, 4)
    });
    let task_thread = task_ids.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(x.is_timeout());
    let t0 = Instant::now();
    drop(x);
    assert!(t0.elapsed() < ms(150), "dropping waited for the late task");
    counter.expect_eventually(1);
    assert_eq!(*counter.threads.lock().unwrap(), [task_thread]);
}

#[test]
fn a_late_value_never_collected_is_dropped_once_when_the_task_goes_first() {
    let counter = Counter::new();
    let c = Arc::clone(&counter);
    let (done, task_done) = mpsc::channel();
    let x = spawn_lazy_with(Deadline::after(ms(30)), move || {
        thread::sleep(ms(150));
        let t = Tracked::new(&c, 5);
        done.send(()).unwrap();
        t
    });
    assert!(x.is_timeout());
    task_done.recv_timeout(Duration::from_secs(5)).unwrap();
    thread::sleep(ms(100));
    assert_eq!(
        counter.drops(),
        0,
        "the late value was dropped while still collectable"
    );
    drop(x);
    counter.expect_eventually(1);
}

#[test]
fn a_late_value_never_read_nor_collected_is_dropped_once() {
    let counter = Counter::new();
    let c = Arc::clone(&counter);
    let x = spawn_lazy_with(Deadline::after(ms(10)), move || {
        thread::sleep(ms(100));
        Tracked::new(&c, 6)
    });
    drop(x); // nobody ever looked
    counter.expect_eventually(1);
}

#[test]
fn into_inner_moves_the_value_out_without_dropping_it() {
    let counter = Counter::new();
    let c = Arc::clone(&counter);
    let x = spawn_lazy(move || {
        thread::sleep(ms(50));
        Tracked::new(&c, 8)
    });
    let v = Lazy::into_inner(x);
    assert_eq!(v.value, 8);
    thread::sleep(ms(50));
    assert_eq!(counter.drops(), 0);
    drop(v);
    counter.expect_eventually(1);

    // The same after the value was read (cached) first.
    let counter = Counter::new();
    let c = Arc::clone(&counter);
    let x = spawn_lazy(move || Tracked::new(&c, 9));
    assert_eq!(x.value, 9);
    let v = Lazy::into_inner(x);
    assert_eq!(counter.drops(), 0);
    drop(v);
    counter.expect_eventually(1);
}

#[test]
fn join_moves_the_value_out_without_dropping_it() {
    let counter = Counter::new();
    let c = Arc::clone(&counter);
    let x = spawn_lazy(move || Tracked::new(&c, 10));
    let v = Lazy::join(x).unwrap_or_else(|_| panic!("the task panicked"));
    assert_eq!(v.value, 10);
    thread::sleep(ms(50));
    assert_eq!(counter.drops(), 0);
    drop(v);
    counter.expect_eventually(1);
}

#[test]
fn join_and_into_inner_of_timed_out_futures_drop_the_late_value_once() {
    let counter = Counter::new();
    let c1 = Arc::clone(&counter);
    let c2 = Arc::clone(&counter);
    let a = spawn_lazy_with(Deadline::after(ms(20)), move || {
        thread::sleep(ms(150));
        Tracked::new(&c1, 1)
    });
    let b = spawn_lazy_with(Deadline::after(ms(20)), move || {
        thread::sleep(ms(150));
        Tracked::new(&c2, 2)
    });
    assert!(Lazy::join(a).ok().is_some_and(|o| o.is_timeout()));
    assert!(Lazy::into_inner(b).is_timeout());
    counter.expect_eventually(2);
}

#[test]
fn ready_outcomes_and_mutated_values_are_dropped_once() {
    let counter = Counter::new();
    let c = Arc::clone(&counter);
    let x = spawn_lazy_with(Deadline::after(Duration::from_secs(10)), move || {
        Tracked::new(&c, 11)
    });
    assert_eq!(x.ready().map(|t| t.value), Some(11));
    drop(x);
    assert_eq!(counter.drops(), 1);

    let counter = Counter::new();
    let c = Arc::clone(&counter);
    let mut v = spawn_lazy(move || vec![Tracked::new(&c, 1)]);
    v.push(Tracked::new(&counter, 2));
    let removed = v.remove(0);
    drop(removed);
    assert_eq!(counter.drops(), 1);
    drop(v);
    counter.expect_eventually(2);

    let counter = Counter::new();
    drop(Lazy::with_value(Tracked::new(&counter, 1)));
    drop(Lazy::from(Tracked::new(&counter, 2)));
    assert_eq!(counter.drops(), 2);
}

#[test]
fn many_futures_in_every_state_drop_every_value_exactly_once() {
    let counter = Counter::new();
    let mut plain = Vec::new();
    let mut timed = Vec::new();
    for i in 0..60_u32 {
        let c = Arc::clone(&counter);
        let pause = ms(u64::from(i % 4) * 30);
        if i % 2 == 0 {
            plain.push(spawn_lazy(move || {
                thread::sleep(pause);
                Tracked::new(&c, i)
            }));
        } else {
            timed.push(spawn_lazy_with(Deadline::after(ms(45)), move || {
                thread::sleep(pause);
                Tracked::new(&c, i)
            }));
        }
    }
    let mut kept = Vec::new();
    for (k, x) in plain.into_iter().enumerate() {
        match k % 3 {
            0 => assert!(x.value < 60),          // read, then dropped
            1 => kept.push(Lazy::into_inner(x)), // moved out
            _ => drop(x),                        // dropped, maybe pending
        }
    }
    for (k, x) in timed.iter().enumerate() {
        if k % 2 == 0 {
            let _ = x.is_timeout(); // decide the outcome
        }
    }
    thread::sleep(ms(200));
    for x in &timed {
        if let Some(Ok(late)) = Lazy::take_late(x) {
            kept.push(late);
        }
    }
    drop(timed);
    drop(kept);
    counter.expect_eventually(60);
}
