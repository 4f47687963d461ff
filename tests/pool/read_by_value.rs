//! A future read by value (`Lazy::into_inner`, `Lazy::join`) on the worker that spawned
//! it, while its task is still on top of that worker's own deque: the fork-join fast
//! path, where the reader takes the task off the deque and, holding the only reference
//! to the future, runs it in place.
//!
//! * Fork-join `fib(18)` reading every left branch by value, on two workers and on one:
//!   the right answers, each task run once, every value dropped exactly once.
//! * Children read by value in the order they were spawned and in reverse (only the
//!   newest is on top each time): each runs once, on the reading worker, and its value
//!   is dropped once.
//! * A panic in a child run this way reaches its reader (`join` gives the payload,
//!   `into_inner` panics with its message) and is not reported as unread.
//! * A child with a deadline is never run by its reader: on the only worker, the
//!   reader's deadline passes first and the outcome is a timeout.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread::{self, ThreadId};

use crate::stealing::{Read, fib};
use crate::support::{Drops, Tracked, ms, on_worker, panics_with, secs, within};
use transparent_future::{Builder, Deadline, Lazy, Outcome, ThreadPool};

#[test]
fn fork_join_read_by_value_gives_the_right_answers_and_drops_every_value_once() {
    // fib(18) = 2584; 2 F(19) - 1 = 8361 calls, each making a value; F(19) - 1 = 4180
    // of them are pool tasks.
    within(secs(60), || {
        for workers in [2, 1] {
            let pool = ThreadPool::new(workers);
            for round in 0..6 {
                let drops = Drops::new();
                let runs = Arc::new(AtomicUsize::new(0));
                let (p, d, r) = (pool.clone(), drops.clone(), Arc::clone(&runs));
                let root = pool.spawn_lazy(move || fib(&p, 18, &d, &r, Read::ByValue));
                // A bounded wait: the root runs on a worker, so its forks go onto the
                // workers' own deques.
                let value = on_worker(&root).value;
                drop(root);
                assert_eq!(value, 2584, "{workers} workers, round {round}");
                assert_eq!(runs.load(SeqCst), 4180, "{workers} workers, round {round}");
                drops.expect(8361);
            }
        }
    });
}

#[test]
fn children_read_by_value_in_either_order_run_once_on_the_reading_worker() {
    within(secs(30), || {
        let pool = ThreadPool::new(1);
        for round in 0..20 {
            let drops = Drops::new();
            let runs = Arc::new(AtomicUsize::new(0));
            let (p, d, r) = (pool.clone(), drops.clone(), Arc::clone(&runs));
            let parent = pool.spawn_lazy(move || {
                let me = thread::current().id();
                let spawn = |i: u32| {
                    let (d, r) = (d.clone(), Arc::clone(&r));
                    p.spawn_lazy(move || {
                        r.fetch_add(1, SeqCst);
                        (d.track(i), thread::current().id())
                    })
                };
                // Oldest first: each read finds its future beneath the newer ones.
                let oldest_first: Vec<(u32, ThreadId)> = (0..3)
                    .map(spawn)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .map(|c| {
                        let (value, ran_on) = Lazy::into_inner(c);
                        (value.value, ran_on)
                    })
                    .collect();
                // Newest first: each read finds its future on top.
                let mut children: Vec<Lazy<(Tracked, ThreadId)>> = (10..13).map(spawn).collect();
                let mut newest_first = Vec::new();
                while let Some(c) = children.pop() {
                    let (value, ran_on) = Lazy::join(c).expect("no panic");
                    newest_first.push((value.value, ran_on));
                }
                (me, oldest_first, newest_first)
            });
            let (me, oldest_first, newest_first) = on_worker(&parent).clone();
            assert_eq!(
                oldest_first,
                [(0, me), (1, me), (2, me)],
                "round {round}: run on the only worker, in the order read"
            );
            assert_eq!(
                newest_first,
                [(12, me), (11, me), (10, me)],
                "round {round}"
            );
            assert_eq!(runs.load(SeqCst), 6, "round {round}: each child ran once");
            drop(parent);
            drops.expect(6);
        }
    });
}

#[test]
fn a_panic_in_a_child_run_by_its_by_value_reader_reaches_that_reader_only() {
    within(secs(30), || {
        let reported = Arc::new(Mutex::new(Vec::new()));
        let r = Arc::clone(&reported);
        let pool = ThreadPool::builder()
            .workers(1)
            .panic_handler(move |panic| r.lock().unwrap().push(panic.message().to_owned()))
            .build()
            .unwrap();
        let p = pool.clone();
        let parent = pool.spawn_lazy(move || {
            let joined = Lazy::join(p.spawn_lazy(|| -> u32 { panic!("boom by join") }));
            let joined = joined.map_err(|payload| *payload.downcast::<&str>().unwrap());
            let child = p.spawn_lazy(|| -> u32 { panic!("boom by value") });
            let message = panics_with("boom by value", move || Lazy::into_inner(child));
            (joined, message)
        });
        let (joined, message) = on_worker(&parent).clone();
        assert_eq!(joined, Err("boom by join"));
        assert!(message.contains("boom by value"), "{message}");
        drop(parent);
        drop(pool);
        thread::sleep(ms(50));
        assert!(
            reported.lock().unwrap().is_empty(),
            "a panic its reader saw is not unread: {:?}",
            reported.lock().unwrap()
        );
    });
}

#[test]
fn a_child_with_a_deadline_is_not_run_by_its_by_value_reader() {
    within(secs(30), || {
        let pool = ThreadPool::new(1);
        let p = pool.clone();
        let parent = pool.spawn_lazy(move || {
            let child = Builder::new()
                .on(&p)
                .timeout(Deadline::after(ms(50)))
                .spawn(|| 5)
                .unwrap();
            // The only worker reads: nobody else may run the child, and the reader
            // must not (it could not be released at the deadline).
            Lazy::into_inner(child)
        });
        assert_eq!(*on_worker(&parent), Outcome::Timeout);
    });
}
