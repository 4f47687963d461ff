//! Memory ordering.
//!
//! Everything the task did before returning happens-before the return of any access
//! that observes its result: a reader that sees the value also sees the task's other
//! writes, here a `Vec` it filled and a `Relaxed` store to a shared atomic, through
//! `Deref`, `Lazy::wait`, `Lazy::get` and `Lazy::join`. Looped many times.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::thread;

use transparent_future::{Lazy, spawn_lazy};

const ROUNDS: usize = 300;
const LEN: usize = 256;

fn task(flag: &Arc<AtomicUsize>, round: usize) -> Lazy<Vec<usize>> {
    let flag = Arc::clone(flag);
    spawn_lazy(move || {
        let v: Vec<usize> = (0..LEN).map(|i| i ^ round).collect();
        flag.store(round + 1, Relaxed);
        v
    })
}

fn check(v: &[usize], round: usize) {
    assert_eq!(v.len(), LEN);
    assert!(v.iter().enumerate().all(|(i, x)| *x == i ^ round));
}

#[test]
fn readers_that_see_the_value_see_the_tasks_relaxed_store() {
    for round in 0..ROUNDS {
        let flag = Arc::new(AtomicUsize::new(0));
        let x = task(&flag, round);
        thread::scope(|s| {
            // Blocking readers.
            for _ in 0..2 {
                s.spawn(|| {
                    check(&x, round);
                    assert_eq!(flag.load(Relaxed), round + 1, "round {round}: stale flag");
                });
            }
            // A reader that spins on the non-blocking path.
            s.spawn(|| {
                loop {
                    if let Some(v) = Lazy::get(&x) {
                        check(v, round);
                        assert_eq!(flag.load(Relaxed), round + 1, "round {round}: stale flag");
                        break;
                    }
                    thread::yield_now();
                }
            });
        });
        let wait = Lazy::wait(&x);
        check(wait, round);
        assert_eq!(flag.load(Relaxed), round + 1);
    }
}

#[test]
fn join_sees_the_tasks_relaxed_store() {
    for round in 0..ROUNDS {
        let flag = Arc::new(AtomicUsize::new(0));
        let x = task(&flag, round);
        let v = thread::spawn(move || Lazy::join(x).unwrap())
            .join()
            .unwrap();
        check(&v, round);
        assert_eq!(flag.load(Relaxed), round + 1);
    }
}

#[test]
fn the_first_reader_on_another_thread_sees_the_tasks_relaxed_store() {
    for round in 0..ROUNDS {
        let flag = Arc::new(AtomicUsize::new(0));
        let x = task(&flag, round);
        let f = Arc::clone(&flag);
        let seen = thread::spawn(move || {
            let len = x.len();
            (len, f.load(Relaxed))
        })
        .join()
        .unwrap();
        assert_eq!(seen, (LEN, round + 1));
    }
}
