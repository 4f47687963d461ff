//! The pool's work-stealing queues: a LIFO deque per worker, a FIFO injector.
//!
//! * Fork-join through the pool (a pool future per left branch of `fib(18)`, the right
//!   branch computed in place), on two workers and on one, from a worker and from a
//!   thread outside the pool, many times: the right answers, each task run once, every
//!   value dropped exactly once, and no thread left once the pool is dropped.
//! * A task a worker queued on its own deque is not starved while that worker blocks
//!   on it by other means than reading its future: another worker steals it. On a
//!   single worker, an unbounded read of it runs it on the reading worker itself,
//!   whether it is on top of the deque or beneath newer tasks.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, mpsc};
use std::thread::{self, ThreadId};

use crate::support::{
    Drops, Tracked, ms, no_threads_named, on_worker, secs, threads_named, within,
};
use transparent_future::{Lazy, ThreadPool};

/// How [`fib`] reads its left branch's future.
#[derive(Clone, Copy)]
pub(crate) enum Read {
    /// Through `Deref`, leaving the value in the future.
    Deref,
    /// By value, with `Lazy::into_inner`.
    ByValue,
}

/// `fib(n)`, with the left branch as a future on `pool` and the right one computed
/// here, the left one read (as `read` says) after the right one; every call makes one
/// tracked value (its result) and counts the pool tasks that ran.
pub(crate) fn fib(
    pool: &ThreadPool,
    n: u32,
    drops: &Drops,
    runs: &Arc<AtomicUsize>,
    read: Read,
) -> Tracked {
    if n < 2 {
        return drops.track(n);
    }
    let (p, d, r) = (pool.clone(), drops.clone(), Arc::clone(runs));
    let left = pool.spawn_lazy(move || {
        r.fetch_add(1, SeqCst);
        fib(&p, n - 1, &d, &r, read)
    });
    let right = fib(pool, n - 2, drops, runs, read);
    let left = match read {
        Read::Deref => left.value,
        Read::ByValue => Lazy::into_inner(left).value,
    };
    drops.track(left + right.value)
}

/// The Fibonacci numbers, and how many calls `fib(n)` makes (`2 F(n+1) - 1`), each
/// making one value; the pool tasks are the calls with `n >= 2` (`F(n+1) - 1`).
fn expected(n: u32) -> (u32, usize, usize) {
    let (mut a, mut b) = (0u32, 1u32);
    for _ in 0..n {
        (a, b) = (b, a + b);
    }
    let next = b as usize; // F(n+1)
    (a, 2 * next - 1, next - 1)
}

#[cfg(target_os = "linux")]
#[test]
fn fork_join_fib_gives_the_right_answers_and_drops_every_value_once() {
    const N: u32 = 18;
    let (value, values, tasks) = expected(N);
    assert_eq!((value, values, tasks), (2584, 8361, 4180));
    within(secs(60), move || {
        for workers in [2, 1] {
            // A prefix of its own (at most 15 bytes with the index, as `comm` keeps),
            // so that other tests' workers are not counted.
            let prefix = format!("fj{workers}-stress");
            let pool = ThreadPool::builder()
                .workers(workers)
                .name_prefix(prefix.as_str())
                .build()
                .unwrap();
            for round in 0..10 {
                let drops = Drops::new();
                let runs = Arc::new(AtomicUsize::new(0));
                let result = if round % 2 == 0 {
                    // From a worker: the tasks go onto the workers' own deques, and the
                    // other worker (if any) steals. A bounded wait, so that the root
                    // runs on a worker, not here.
                    let (p, d, r) = (pool.clone(), drops.clone(), Arc::clone(&runs));
                    let root = pool.spawn_lazy(move || fib(&p, N, &d, &r, Read::Deref));
                    let got = on_worker(&root).value;
                    drop(root);
                    got
                } else {
                    // From outside: the first tasks go through the injector, and this
                    // thread helps with them.
                    fib(&pool, N, &drops, &runs, Read::Deref).value
                };
                assert_eq!(result, value, "{workers} workers, round {round}");
                assert_eq!(
                    runs.load(SeqCst),
                    tasks,
                    "{workers} workers, round {round}: pool tasks run"
                );
                // Every value made (one per call) dropped, once.
                drops.expect(values);
            }
            // Only the pool's own workers ran all this.
            assert_eq!(threads_named(&prefix).len(), workers);
            drop(pool); // from outside the crate's code: joins the workers
            // (A joined thread may stay listed a moment while the kernel reaps it.)
            no_threads_named(&prefix, secs(5));
        }
    });
}

/// What the waiting task saw: whether the child's message came, the child's thread
/// and its own.
type Seen = (Option<ThreadId>, ThreadId);

#[test]
fn a_child_on_a_blocked_workers_deque_is_stolen_by_the_other_worker() {
    within(secs(60), || {
        let pool = ThreadPool::new(2);
        for round in 0..20 {
            let p = pool.clone();
            let parent = pool.spawn_lazy(move || -> Seen {
                if round % 2 == 1 {
                    // Give the other worker time to fall asleep: the push must wake it.
                    thread::sleep(ms(20));
                }
                let (tx, rx) = mpsc::channel();
                // Spawned on a worker: onto this worker's own deque.
                let child = p.spawn_lazy(move || {
                    let _ = tx.send(thread::current().id());
                });
                // Blocks this worker on something only the child releases, without
                // reading the child's future (a bounded wait never runs it here).
                let got = rx.recv_timeout(secs(10)).ok();
                drop(child);
                (got, thread::current().id())
            });
            // A bounded wait: the parent runs on a worker, not on this thread.
            let (child_thread, parent_thread) = *on_worker(&parent);
            let child_thread =
                child_thread.unwrap_or_else(|| panic!("round {round}: the child was never run"));
            assert_ne!(
                child_thread, parent_thread,
                "round {round}: the blocked worker cannot have run its child"
            );
            assert_ne!(child_thread, thread::current().id(), "round {round}");
        }
    });
}

#[test]
fn a_child_on_the_only_workers_deque_is_run_by_its_reader() {
    within(secs(30), || {
        let pool = ThreadPool::new(1);
        for round in 0..20 {
            let p = pool.clone();
            let parent = pool.spawn_lazy(move || {
                let me = thread::current().id();
                // Three children on this worker's own deque; the first read finds its
                // future beneath the two newer ones, the last read on top.
                let children: Vec<Lazy<(u32, ThreadId)>> = (0..3)
                    .map(|i| p.spawn_lazy(move || (i * 10, thread::current().id())))
                    .collect();
                let first = *children[0];
                let rest: Vec<(u32, ThreadId)> = children[1..].iter().rev().map(|c| **c).collect();
                (me, first, rest)
            });
            let (me, first, rest) = on_worker(&parent).clone();
            assert_eq!(first, (0, me), "round {round}");
            assert_eq!(rest, [(20, me), (10, me)], "round {round}");
        }
    });
}

#[test]
fn tasks_submitted_from_outside_start_in_order_on_one_worker() {
    // Enough tasks for several batches from the injector and many fair turns: the
    // first holds the only worker until every task is queued, so that they wait in
    // the injector and in the worker's batch together. Each records when it starts.
    // A task that started before an older one could wait on it forever (a bounded
    // read of an older future on a one-worker pool never runs it).
    within(secs(30), || {
        let pool = ThreadPool::new(1);
        for round in 0..10 {
            let started = Arc::new(std::sync::Mutex::new(Vec::new()));
            let (open, wait_open) = mpsc::channel::<()>();
            let first = {
                let started = Arc::clone(&started);
                pool.spawn_lazy(move || {
                    started.lock().unwrap().push(0);
                    let _ = wait_open.recv_timeout(secs(10));
                })
            };
            let rest: Vec<Lazy<()>> = (1..200)
                .map(|i| {
                    let started = Arc::clone(&started);
                    pool.spawn_lazy(move || started.lock().unwrap().push(i))
                })
                .collect();
            drop(open);
            on_worker(&first);
            for task in &rest {
                on_worker(task);
            }
            let started = started.lock().unwrap();
            let expected: Vec<i32> = (0..200).collect();
            assert_eq!(*started, expected, "round {round}: started out of order");
        }
    });
}
