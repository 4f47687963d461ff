//! Work-helping on the pool.
//!
//! A reader that would sleep on a task no worker has started runs it on its own thread.
//! So a one-worker pool whose task waits on another task it spawned onto the same pool
//! finishes, deep recursion through the pool on one worker finishes, and a reader whose
//! task sits in the queue behind a blocked worker gets its value (computed on the
//! reader's thread) while the worker is still blocked. Each closure still runs exactly
//! once. Every test runs under a watchdog so that a regression fails instead of hanging.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{Gate, ms, secs, within};
use transparent_future::{Builder, Deadline, Lazy, Outcome, ThreadPool, WaitError};

/// Occupies the only worker of `pool` until the returned gate opens.
fn occupy(pool: &ThreadPool) -> (Gate, Lazy<thread::ThreadId>) {
    let gate = Gate::default();
    let g = gate.clone();
    let (started_tx, started) = mpsc::channel();
    let blocker = pool.spawn_lazy(move || {
        started_tx.send(()).unwrap();
        g.wait();
        thread::current().id()
    });
    started
        .recv_timeout(Duration::from_secs(10))
        .expect("the worker never started the blocker");
    (gate, blocker)
}

#[test]
fn a_task_waiting_on_its_own_subtask_on_a_one_worker_pool_finishes() {
    within(secs(20), || {
        let pool = ThreadPool::new(1);
        let p = pool.clone();
        let outer = pool.spawn_lazy(move || {
            let inner = p.spawn_lazy(|| 20);
            let inner2 = p.spawn_lazy_with(transparent_future::NoTimeout, || 1);
            *inner * 2 + inner2.into_ready().unwrap_or(0) + 1
        });
        assert_eq!(*outer, 42);
    });
}

#[test]
fn a_subtask_read_with_join_or_into_inner_also_finishes() {
    within(secs(20), || {
        let pool = ThreadPool::new(1);
        let p = pool.clone();
        let outer = pool.spawn_lazy(move || {
            let a = Lazy::join(p.spawn_lazy(|| 1)).unwrap();
            let b = Lazy::into_inner(p.spawn_lazy(|| 2));
            let mut c = p.spawn_lazy(|| vec![3]);
            c.push(4); // DerefMut waits too
            let bad = Lazy::join(p.spawn_lazy(|| -> u8 { panic!("inner-boom") }));
            (a, b, c.len(), bad.is_err())
        });
        assert_eq!(*outer, (1, 2, 2, true));
    });
}

fn fib(pool: &ThreadPool, n: u64) -> u64 {
    if n < 2 {
        return n;
    }
    let (p1, p2) = (pool.clone(), pool.clone());
    let a = pool.spawn_lazy(move || fib(&p1, n - 1));
    let b = pool.spawn_lazy(move || fib(&p2, n - 2));
    a + b
}

#[test]
fn recursive_fib_through_a_one_worker_pool() {
    within(secs(30), || {
        let pool = ThreadPool::new(1);
        let p = pool.clone();
        let x = pool.spawn_lazy(move || fib(&p, 12));
        assert_eq!(*x, 144);
        // From the test thread directly, too.
        assert_eq!(fib(&pool, 10), 55);
    });
}

#[test]
fn recursive_fib_through_a_two_worker_pool() {
    within(secs(30), || {
        let pool = ThreadPool::new(2);
        assert_eq!(fib(&pool, 14), 377);
    });
}

#[test]
fn a_chain_of_depth_ten_on_one_worker() {
    fn chain(pool: &ThreadPool, depth: u32, runs: &Arc<AtomicUsize>) -> u32 {
        runs.fetch_add(1, SeqCst);
        if depth == 0 {
            return 0;
        }
        let p = pool.clone();
        let r = Arc::clone(runs);
        let next = pool.spawn_lazy(move || chain(&p, depth - 1, &r));
        *next + depth
    }
    within(secs(20), || {
        let pool = ThreadPool::new(1);
        let runs = Arc::new(AtomicUsize::new(0));
        let (p, r) = (pool.clone(), Arc::clone(&runs));
        let x = pool.spawn_lazy(move || chain(&p, 10, &r));
        assert_eq!(*x, 55);
        drop(pool);
        assert_eq!(runs.load(SeqCst), 11, "a task ran twice, or not at all");
    });
}

#[test]
fn a_reader_runs_its_queued_task_while_the_worker_is_blocked() {
    within(secs(20), || {
        let pool = ThreadPool::new(1);
        let (gate, blocker) = occupy(&pool);
        let runs = Arc::new(AtomicUsize::new(0));
        let r = Arc::clone(&runs);
        let x = pool.spawn_lazy(move || {
            r.fetch_add(1, SeqCst);
            thread::current().id()
        });
        let t0 = Instant::now();
        let ran_on = *x; // would sleep until the gate opens without work-helping
        assert!(t0.elapsed() < ms(2000), "{:?}", t0.elapsed());
        assert_eq!(
            ran_on,
            thread::current().id(),
            "the task did not run on the reader"
        );
        assert!(!Lazy::is_done(&blocker), "the worker is no longer blocked");
        let worker = {
            gate.open();
            *Lazy::wait_timeout(&blocker, Duration::from_secs(10)).unwrap()
        };
        assert_ne!(worker, ran_on);
        // The worker later pops the helped task from the queue: it does not run twice.
        let after = pool.spawn_lazy(|| 1);
        assert_eq!(
            *Lazy::wait_timeout(&after, Duration::from_secs(10)).unwrap(),
            1
        );
        drop(pool);
        assert_eq!(runs.load(SeqCst), 1);
        assert_eq!(*x, ran_on);
    });
}

#[test]
fn helping_works_for_every_pool_spawn_form_and_from_other_threads() {
    within(secs(20), || {
        let pool = ThreadPool::new(1);
        let (gate, blocker) = occupy(&pool);
        let me = thread::current().id();
        let a = pool.spawn_lazy(|| thread::current().id());
        let b = Builder::new()
            .on(&pool)
            .spawn(|| thread::current().id())
            .unwrap();
        let c = Builder::new()
            .on(&pool)
            .spawn_cancellable(|_t| thread::current().id())
            .unwrap();
        let d = Lazy::join(pool.spawn_lazy(|| thread::current().id())).unwrap();
        assert_eq!((*a, *b, *c, d), (me, me, me, me));
        // A reader on another thread runs the task there.
        let e = pool.spawn_lazy(|| thread::current().id());
        let other = thread::spawn(move || (*e, thread::current().id()));
        let (ran_on, reader) = other.join().unwrap();
        assert_eq!(ran_on, reader);
        assert!(!Lazy::is_done(&blocker));
        gate.open();
    });
}

#[test]
fn a_panicking_task_run_by_its_reader_panics_in_the_reader_only() {
    within(secs(20), || {
        let pool = ThreadPool::new(1);
        let (gate, _blocker) = occupy(&pool);
        let x = pool.spawn_lazy(|| -> u32 { panic!("helped-boom") });
        let err = catch_unwind(AssertUnwindSafe(|| *x + 1)).unwrap_err();
        let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(msg.contains("helped-boom"), "{msg}");
        // The reader's thread goes on; so does the pool.
        let y = pool.spawn_lazy(|| 2);
        assert_eq!(*y, 2);
        gate.open();
    });
}

#[test]
fn a_reader_with_a_deadline_is_released_instead_of_running_the_task() {
    within(secs(20), || {
        let pool = ThreadPool::new(1);
        let (gate, blocker) = occupy(&pool);
        let t0 = Instant::now();
        let x = pool.spawn_lazy_with(Deadline::after(ms(50)), || thread::current().id());
        // A reader running the task could not be released at the deadline, so a future
        // with a deadline is not helped: the reader is released at the deadline.
        assert_eq!(*x, Outcome::Timeout);
        assert!(t0.elapsed() >= ms(50));
        assert!(t0.elapsed() < ms(1500), "{:?}", t0.elapsed());
        gate.open();
        let worker = *Lazy::wait_timeout(&blocker, Duration::from_secs(10)).unwrap();
        // The task still runs later, on the worker; its result comes late.
        let until = Instant::now() + Duration::from_secs(10);
        let late = loop {
            if let Some(late) = Lazy::take_late(&x) {
                break late.unwrap();
            }
            assert!(Instant::now() < until, "the timed-out task never ran");
            thread::sleep(ms(2));
        };
        assert_eq!(late, worker);
    });
}

#[test]
fn bounded_waits_do_not_run_the_task() {
    within(secs(20), || {
        let pool = ThreadPool::new(1);
        let (gate, _blocker) = occupy(&pool);
        let x = pool.spawn_lazy(|| thread::current().id());
        assert_eq!(Lazy::wait_timeout(&x, ms(30)), Err(WaitError::Timeout));
        assert_eq!(Lazy::get(&x), None);
        assert!(!Lazy::is_done(&x));
        gate.open();
        let id = *Lazy::wait_timeout(&x, Duration::from_secs(10)).unwrap();
        assert_ne!(id, thread::current().id());
    });
}

#[test]
fn racing_readers_and_workers_run_each_task_once() {
    within(secs(30), || {
        let pool = ThreadPool::new(2);
        let runs = Arc::new(AtomicUsize::new(0));
        let futures: Vec<Lazy<usize>> = (0..5000)
            .map(|i| {
                let r = Arc::clone(&runs);
                pool.spawn_lazy(move || {
                    r.fetch_add(1, SeqCst);
                    i
                })
            })
            .collect();
        let futures = Arc::new(futures);
        let readers: Vec<_> = (0..3)
            .map(|k| {
                let f = Arc::clone(&futures);
                thread::spawn(move || {
                    // Read in different orders so readers and workers collide; the
                    // strides are coprime to 5000, so each reader reads every future.
                    let n = f.len();
                    let stride = [1, 3, 7][k];
                    (0..n)
                        .map(|j| *f[(j * stride + k * 977) % n])
                        .sum::<usize>()
                })
            })
            .collect();
        let expected: usize = (0..5000).sum();
        for r in readers {
            assert_eq!(r.join().unwrap(), expected);
        }
        assert_eq!(futures.iter().map(|x| **x).sum::<usize>(), expected);
        drop(pool);
        assert_eq!(runs.load(SeqCst), 5000, "a closure ran twice or not at all");
    });
}
