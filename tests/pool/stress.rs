//! Stress tests for the executors.
//!
//! Races, each bounded in time by a watchdog: 8 threads reading many pool futures at
//! once; cancellation racing completion (and the last handle's drop racing completion)
//! on a pool and on thread-per-task; the pool's shutdown racing threads that are still
//! spawning on clones and reading. Every value is dropped exactly once on each executor
//! (thread-per-task, pool, scope; rayon's is in `tests/pool/on_rayon.rs`).

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{ms, secs, within};
use transparent_future::{
    Builder, Deadline, Lazy, Outcome, ThreadPool, scope, spawn_lazy, spawn_lazy_with,
};

/// Counts creations and drops of the values made from it.
#[derive(Default)]
struct Ledger {
    made: AtomicUsize,
    dropped: AtomicUsize,
}

struct Tracked {
    ledger: Arc<Ledger>,
    value: u64,
}

impl Tracked {
    fn new(ledger: &Arc<Ledger>, value: u64) -> Tracked {
        ledger.made.fetch_add(1, SeqCst);
        Tracked {
            ledger: Arc::clone(ledger),
            value,
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.ledger.dropped.fetch_add(1, SeqCst);
    }
}

impl Ledger {
    /// Waits (bounded) until every value made has been dropped, then checks that no
    /// value was dropped twice.
    #[track_caller]
    fn balanced(&self, what: &str) {
        let until = Instant::now() + Duration::from_secs(10);
        while self.dropped.load(SeqCst) < self.made.load(SeqCst) {
            assert!(
                Instant::now() < until,
                "{what}: {} made, {} dropped",
                self.made.load(SeqCst),
                self.dropped.load(SeqCst)
            );
            thread::sleep(ms(2));
        }
        thread::sleep(ms(20));
        assert_eq!(
            self.made.load(SeqCst),
            self.dropped.load(SeqCst),
            "{what}: a value was dropped twice"
        );
    }
}

/// A little busy work, so tasks take varying, short times.
fn work(i: u64) -> u64 {
    (0..(i % 64)).fold(i, |acc, k| acc.wrapping_mul(31).wrapping_add(k)) % 1000 + i
}

#[test]
fn eight_threads_read_many_pool_futures() {
    within(secs(30), || {
        let pool = ThreadPool::new(2);
        for round in 0..5u64 {
            let n = 2000u64;
            let futures: Arc<Vec<Lazy<u64>>> = Arc::new(
                (0..n)
                    .map(|i| pool.spawn_lazy(move || work(i + round)))
                    .collect(),
            );
            let expected: u64 = (0..n).map(|i| work(i + round)).sum();
            let start = Arc::new(Barrier::new(8));
            let readers: Vec<_> = (0..8u64)
                .map(|k| {
                    let f = Arc::clone(&futures);
                    let start = Arc::clone(&start);
                    thread::spawn(move || {
                        start.wait();
                        // Different orders (strides coprime to n), so every future is
                        // read by several threads at different moments.
                        let stride = [1, 3, 7, 9, 11, 13, 17, 19][k as usize];
                        (0..n)
                            .map(|j| *f[((j * stride + k * 251) % n) as usize])
                            .sum::<u64>()
                    })
                })
                .collect();
            for r in readers {
                assert_eq!(r.join().unwrap(), expected, "round {round}");
            }
        }
    });
}

#[test]
fn eight_threads_read_the_same_pending_futures() {
    within(secs(30), || {
        let pool = ThreadPool::new(2);
        for _ in 0..50 {
            let futures: Arc<Vec<Lazy<String>>> = Arc::new(
                (0..4)
                    .map(|i| {
                        pool.spawn_lazy(move || {
                            thread::sleep(Duration::from_micros(200));
                            format!("v{i}")
                        })
                    })
                    .collect(),
            );
            let start = Arc::new(Barrier::new(8));
            let readers: Vec<_> = (0..8)
                .map(|_| {
                    let f = Arc::clone(&futures);
                    let start = Arc::clone(&start);
                    thread::spawn(move || {
                        start.wait();
                        f.iter()
                            .map(|x| x.as_str().to_owned())
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                })
                .collect();
            for r in readers {
                assert_eq!(r.join().unwrap(), "v0,v1,v2,v3");
            }
        }
    });
}

#[test]
fn cancellation_races_completion_on_a_pool() {
    within(secs(30), || {
        let ledger = Arc::new(Ledger::default());
        let pool = ThreadPool::new(2);
        for i in 0..3000u64 {
            let l = Arc::clone(&ledger);
            let x = Builder::new()
                .on(&pool)
                .spawn_cancellable(move |token| {
                    let spins = i % 200;
                    let mut k = 0;
                    while k < spins && !token.is_cancelled() {
                        k += 1;
                        std::hint::spin_loop();
                    }
                    Tracked::new(&l, u64::from(token.is_cancelled()))
                })
                .unwrap();
            match i % 3 {
                0 => {
                    // Cancel, then read: the value is whatever the task returned.
                    Lazy::cancel(&x);
                    assert!(x.value <= 1);
                }
                1 => drop(x), // the last handle's drop races the task's end
                _ => {
                    let y = Arc::new(x);
                    let y2 = Arc::clone(&y);
                    let canceller = thread::spawn(move || Lazy::cancel(&y2));
                    assert!(y.value <= 1);
                    canceller.join().unwrap();
                }
            }
        }
        drop(pool);
        ledger.balanced("cancel vs completion on a pool");
        assert_eq!(ledger.made.load(SeqCst), 3000);
    });
}

#[test]
fn cancellation_races_completion_on_thread_per_task() {
    within(secs(30), || {
        let ledger = Arc::new(Ledger::default());
        for i in 0..300u64 {
            let l = Arc::clone(&ledger);
            let x = Builder::new()
                .spawn_cancellable(move |token| {
                    let spins = (i * 7) % 300;
                    let mut k = 0;
                    while k < spins && !token.is_cancelled() {
                        k += 1;
                        std::hint::spin_loop();
                    }
                    Tracked::new(&l, u64::from(token.is_cancelled()))
                })
                .unwrap();
            if i % 2 == 0 {
                Lazy::cancel(&x);
                assert!(x.value <= 1);
            } else {
                drop(x);
            }
        }
        ledger.balanced("cancel vs completion on thread-per-task");
        assert_eq!(ledger.made.load(SeqCst), 300);
    });
}

#[test]
fn deadlines_race_completion_on_a_pool() {
    within(secs(30), || {
        let ledger = Arc::new(Ledger::default());
        let pool = ThreadPool::new(2);
        let mut ready = 0;
        let mut timeouts = 0;
        for i in 0..500u64 {
            let l = Arc::clone(&ledger);
            let x = Builder::new()
                .on(&pool)
                .timeout(Deadline::after(Duration::from_micros(i % 300)))
                .spawn_cancellable(move |t| {
                    let mut k = 0;
                    while k < 100 && !t.is_cancelled() {
                        k += 1;
                        std::hint::spin_loop();
                    }
                    Tracked::new(&l, i)
                })
                .unwrap();
            match &*x {
                Outcome::Ready(v) => {
                    assert_eq!(v.value, i);
                    ready += 1;
                }
                Outcome::Timeout => timeouts += 1,
            }
            if i % 2 == 0 {
                drop(x);
            } else if let Some(late) = Lazy::take_late(&x) {
                assert_eq!(late.unwrap().value, i);
            }
        }
        assert_eq!(ready + timeouts, 500);
        drop(pool);
        ledger.balanced("deadline vs completion on a pool");
    });
}

#[test]
fn pool_shutdown_races_spawners_and_readers() {
    within(secs(40), || {
        for round in 0..10 {
            let ledger = Arc::new(Ledger::default());
            let pool = ThreadPool::new(2);
            let start = Arc::new(Barrier::new(5));
            let spawners: Vec<_> = (0..4u64)
                .map(|k| {
                    let p = pool.clone();
                    let start = Arc::clone(&start);
                    let l = Arc::clone(&ledger);
                    thread::spawn(move || {
                        start.wait();
                        let mut sum = 0;
                        let mut held = Vec::new();
                        for i in 0..300u64 {
                            let l = Arc::clone(&l);
                            let x = p.spawn_lazy(move || Tracked::new(&l, i * k));
                            match i % 3 {
                                0 => sum += x.value,
                                1 => held.push(x),
                                _ => drop(x),
                            }
                            if k == 0 && i == 150 {
                                // This spawner gives up its clone half-way.
                                break;
                            }
                        }
                        drop(p);
                        sum + held.iter().map(|x| x.value).sum::<u64>()
                    })
                })
                .collect();
            start.wait();
            if round % 2 == 0 {
                thread::sleep(Duration::from_micros(200));
            }
            drop(pool); // the test's handle goes while the others still spawn
            let mut total = 0;
            for s in spawners {
                total += s.join().unwrap();
            }
            // k = 0 contributes 0; k = 1..3 read every value they kept or read.
            let per_k: u64 = (0..300u64).filter(|i| i % 3 != 2).sum();
            assert_eq!(total, per_k * (1 + 2 + 3), "round {round}");
            ledger.balanced("pool shutdown vs spawners");
        }
    });
}

#[test]
fn pool_dropped_from_a_reader_thread_while_tasks_are_queued() {
    within(secs(30), || {
        for _ in 0..20 {
            let ledger = Arc::new(Ledger::default());
            let pool = ThreadPool::new(2);
            let futures: Vec<Lazy<Tracked>> = (0..200u64)
                .map(|i| {
                    let l = Arc::clone(&ledger);
                    pool.spawn_lazy(move || Tracked::new(&l, i))
                })
                .collect();
            let dropper = thread::spawn(move || drop(pool));
            let sum: u64 = futures.iter().map(|x| x.value).sum();
            dropper.join().unwrap();
            assert_eq!(sum, (0..200u64).sum::<u64>());
            drop(futures);
            ledger.balanced("pool dropped from another thread");
        }
    });
}

/// The same mixed workload on every executor: values read, never read, read by value,
/// joined, timed out (late values collected or not), panicked with captured values.
fn mixed_workload<S, W>(ledger: &Arc<Ledger>, spawn: S, spawn_with: W)
where
    S: Fn(Box<dyn FnOnce() -> Tracked + Send>) -> Lazy<Tracked>,
    W: Fn(Deadline, Box<dyn FnOnce() -> Tracked + Send>) -> Lazy<Outcome<Tracked>>,
{
    for i in 0..40u64 {
        let l = Arc::clone(ledger);
        let quick: Box<dyn FnOnce() -> Tracked + Send> = Box::new(move || Tracked::new(&l, i));
        match i % 5 {
            0 => assert_eq!(spawn(quick).value, i),
            1 => drop(spawn(quick)),
            2 => assert_eq!(Lazy::into_inner(spawn(quick)).value, i),
            3 => assert_eq!(Lazy::join(spawn(quick)).unwrap().value, i),
            _ => {
                let x = spawn(quick);
                let _ = Lazy::get(&x);
                drop(x);
            }
        }
    }
    let mut lates = Vec::new();
    for i in 0..6u64 {
        let l = Arc::clone(ledger);
        let slow: Box<dyn FnOnce() -> Tracked + Send> = Box::new(move || {
            thread::sleep(ms(30));
            Tracked::new(&l, i)
        });
        let x = spawn_with(Deadline::after(ms(2)), slow);
        assert!(x.is_timeout());
        if i % 2 == 0 {
            drop(x);
        } else {
            lates.push(x);
        }
    }
    for x in &lates {
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(late) = Lazy::take_late(x) {
                assert!(late.unwrap().value < 6);
                break;
            }
            assert!(Instant::now() < until, "a late value never came");
            thread::sleep(ms(2));
        }
    }
    drop(lates);
    for i in 0..5u64 {
        let captured = Tracked::new(ledger, i);
        let bad: Box<dyn FnOnce() -> Tracked + Send> = Box::new(move || {
            let _c = captured;
            panic!("stress-boom")
        });
        let x = spawn(bad);
        if i % 2 == 0 {
            assert!(Lazy::join(x).is_err());
        } else {
            drop(x);
        }
    }
}

#[test]
fn thread_per_task_drops_every_value_exactly_once() {
    within(secs(30), || {
        let ledger = Arc::new(Ledger::default());
        mixed_workload(&ledger, spawn_lazy, spawn_lazy_with);
        ledger.balanced("thread-per-task");
        assert!(ledger.made.load(SeqCst) >= 40 + 6 + 5);
    });
}

#[test]
fn pool_drops_every_value_exactly_once() {
    within(secs(30), || {
        let ledger = Arc::new(Ledger::default());
        let pool = ThreadPool::new(2);
        mixed_workload(
            &ledger,
            |f| pool.spawn_lazy(f),
            |d, f| pool.spawn_lazy_with(d, f),
        );
        ledger.balanced("pool, still alive");
        drop(pool);
        ledger.balanced("pool, dropped");
    });
}

#[test]
fn scope_drops_every_value_exactly_once() {
    within(secs(30), || {
        let ledger = Arc::new(Ledger::default());
        let borrowed = vec![1u64, 2, 3];
        scope(|s| {
            let mut kept = Vec::new();
            for i in 0..40u64 {
                let l = Arc::clone(&ledger);
                let b = &borrowed;
                let x = s.spawn_lazy(move || Tracked::new(&l, i + b[0]));
                match i % 4 {
                    0 => assert_eq!(x.value, i + 1),
                    1 => drop(x),
                    2 => assert_eq!(Lazy::into_inner(x).value, i + 1),
                    _ => kept.push(x),
                }
            }
            for i in 0..4u64 {
                let l = Arc::clone(&ledger);
                let b = &borrowed;
                let x = Builder::new()
                    .timeout(Deadline::after(ms(2)))
                    .spawn_scoped(s, move || {
                        thread::sleep(ms(30));
                        Tracked::new(&l, i + b[1])
                    })
                    .unwrap();
                assert!(x.is_timeout());
                if i % 2 == 0 {
                    kept.push(Lazy::with_value(Tracked::new(&ledger, 0)));
                }
            }
            let captured = Tracked::new(&ledger, 9);
            assert!(
                Lazy::join(s.spawn_lazy(move || -> u8 {
                    let _c = captured;
                    panic!("scope-stress-boom")
                }))
                .is_err()
            );
            drop(kept);
        });
        // Everything made in the scope is gone once it returns.
        assert_eq!(
            ledger.made.load(SeqCst),
            ledger.dropped.load(SeqCst),
            "values outlived their scope or were dropped twice"
        );
        ledger.balanced("scope");
    });
}
