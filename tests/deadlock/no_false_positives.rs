//! No false positives: waits that would end are never refused.
//!
//! Deep chains without a cycle, many readers of one future, readers that time out and
//! leave, readers of futures with deadlines, and a stress mix of cycle-free waits across
//! a pool and threads: never a `WaitError::Deadlock`, and the registry is empty of our
//! threads afterwards. Every scenario runs under a watchdog.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{must_wait, secs, within};
use transparent_future::{
    Builder, Deadline, Lazy, NoTimeout, Outcome, SharedLazy, ThreadPool, WaitError, debug,
    spawn_lazy, spawn_lazy_with,
};

/// The blocked threads whose name starts with `prefix`, with their chains' lengths.
fn blocked_with_prefix(prefix: &str) -> Vec<(String, usize)> {
    let quoted = prefix.to_string();
    debug::waits()
        .chains()
        .filter(|(t, _)| t.starts_with(&quoted))
        .map(|(t, chain)| (t.trim_matches('"').to_string(), chain.len()))
        .collect()
}

#[track_caller]
fn wait_blocked_count(prefix: &str, n: usize) -> Vec<(String, usize)> {
    let until = Instant::now() + Duration::from_secs(15);
    loop {
        let blocked = blocked_with_prefix(prefix);
        if blocked.len() == n {
            return blocked;
        }
        assert!(
            Instant::now() < until,
            "expected {n} blocked threads named {prefix}*, found {blocked:?}"
        );
        thread::sleep(Duration::from_millis(2));
    }
}

#[track_caller]
fn assert_none_blocked(prefix: &str) {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let blocked = blocked_with_prefix(prefix);
        if blocked.is_empty() {
            return;
        }
        assert!(
            Instant::now() < until,
            "stale registry entries: {blocked:?}"
        );
        thread::sleep(Duration::from_millis(2));
    }
}

// ---------------------------------------------------------------------------------
// Deep chains.
// ---------------------------------------------------------------------------------

#[test]
fn a_chain_of_twenty_threads_each_waiting_on_the_next_is_not_a_deadlock() {
    let (value, chain_len) = within(secs(30), || {
        let (go, gate) = mpsc::channel::<()>();
        let mut next = Builder::new()
            .name("chain-19")
            .spawn(move || {
                gate.recv().unwrap();
                0u32
            })
            .unwrap();
        for i in (0..19).rev() {
            let after = next;
            next = Builder::new()
                .name(format!("chain-{i:02}"))
                .spawn(move || must_wait(&after) + 1)
                .unwrap();
        }
        let head = next;
        // All nineteen readers block, each on the next; the last waits on its gate.
        let blocked = wait_blocked_count("chain-", 19);
        let head_chain = blocked
            .iter()
            .find(|(t, _)| t == "chain-00")
            .map(|(_, n)| *n)
            .unwrap();
        go.send(()).unwrap();
        (must_wait(&head), head_chain)
    });
    assert_eq!(value, 19);
    assert_eq!(chain_len, 19, "chain-00 waits through the nineteen others");
    assert_none_blocked("chain-");
}

fn pool_chain(pool: &ThreadPool, depth: u32) -> Lazy<u32> {
    let p = pool.clone();
    pool.spawn_lazy(move || {
        if depth == 0 {
            0
        } else {
            must_wait(&pool_chain(&p, depth - 1)) + 1
        }
    })
}

#[test]
fn a_chain_of_twenty_pool_tasks_each_waiting_on_the_next_completes() {
    let values = within(secs(30), || {
        [1, 2].map(|workers| {
            let pool = ThreadPool::new(workers);
            must_wait(&pool_chain(&pool, 20))
        })
    });
    assert_eq!(values, [20, 20]);
}

#[test]
fn a_diamond_of_shared_futures_is_not_a_deadlock() {
    let v = within(secs(30), || {
        let (go, gate) = mpsc::channel::<()>();
        let bottom = Lazy::share(spawn_lazy(move || {
            gate.recv().unwrap();
            1u32
        }));
        let (b1, b2) = (bottom.clone(), bottom.clone());
        let left = Lazy::share(spawn_lazy(move || must_wait(SharedLazy::as_lazy(&b1)) + 10));
        let right = Lazy::share(spawn_lazy(move || {
            must_wait(SharedLazy::as_lazy(&b2)) + 100
        }));
        let (l, r) = (left.clone(), right.clone());
        let top = spawn_lazy(move || {
            must_wait(SharedLazy::as_lazy(&l)) + must_wait(SharedLazy::as_lazy(&r))
        });
        let joined = Lazy::all([
            Lazy::map(spawn_lazy(move || *left), |v| v),
            spawn_lazy(move || *right),
        ]);
        thread::sleep(Duration::from_millis(20));
        go.send(()).unwrap();
        (must_wait(&top), must_wait(&joined))
    });
    assert_eq!(v, (112, vec![11, 101]));
}

// ---------------------------------------------------------------------------------
// Many readers.
// ---------------------------------------------------------------------------------

#[test]
fn sixteen_threads_reading_one_future_are_not_a_deadlock() {
    let values = within(secs(30), || {
        let (go, gate) = mpsc::channel::<()>();
        let x = Lazy::share(
            Builder::new()
                .name("many-src")
                .spawn(move || {
                    gate.recv().unwrap();
                    String::from("shared")
                })
                .unwrap(),
        );
        let readers: Vec<_> = (0..16)
            .map(|i| {
                let x = x.clone();
                thread::Builder::new()
                    .name(format!("many-{i}"))
                    .spawn(move || must_wait(SharedLazy::as_lazy(&x)))
                    .unwrap()
            })
            .collect();
        let blocked = wait_blocked_count("many-", 16);
        assert!(blocked.iter().all(|(_, len)| *len == 1), "{blocked:?}");
        go.send(()).unwrap();
        readers
            .into_iter()
            .map(|r| r.join().unwrap())
            .collect::<Vec<_>>()
    });
    assert_eq!(values.len(), 16);
    assert!(values.iter().all(|v| v == "shared"));
    assert_none_blocked("many-");
}

// ---------------------------------------------------------------------------------
// Readers that time out and leave.
// ---------------------------------------------------------------------------------

#[test]
fn readers_that_time_out_and_leave_leave_no_trace_and_cause_no_refusal() {
    let (timed, untimed, attempts) = within(secs(30), || {
        let (go, gate) = mpsc::channel::<()>();
        // A cycle-free chain of five tasks, the last one gated.
        let mut next = Builder::new()
            .name("leave-task-4")
            .spawn(move || {
                gate.recv().unwrap();
                1u64
            })
            .unwrap();
        for i in (0..4).rev() {
            let after = next;
            next = Builder::new()
                .name(format!("leave-task-{i}"))
                .spawn(move || must_wait(&after) * 2)
                .unwrap();
        }
        let head = Lazy::share(next);
        let attempts = Arc::new(AtomicUsize::new(0));
        let timed: Vec<_> = (0..4)
            .map(|i| {
                let (head, attempts) = (head.clone(), Arc::clone(&attempts));
                thread::Builder::new()
                    .name(format!("leave-timed-{i}"))
                    .spawn(move || {
                        loop {
                            attempts.fetch_add(1, SeqCst);
                            let got = if i % 2 == 0 {
                                SharedLazy::wait_timeout(&head, Duration::from_millis(1))
                                    .ok()
                                    .copied()
                            } else {
                                match Lazy::wait_timeout(
                                    SharedLazy::as_lazy(&head),
                                    Duration::from_millis(1),
                                ) {
                                    Ok(v) => Some(*v),
                                    Err(WaitError::Timeout) => None,
                                    Err(e) => panic!("a timed wait failed: {e}"),
                                }
                            };
                            if let Some(v) = got {
                                return v;
                            }
                        }
                    })
                    .unwrap()
            })
            .collect();
        let h = head.clone();
        let untimed = thread::Builder::new()
            .name("leave-untimed".into())
            .spawn(move || must_wait(SharedLazy::as_lazy(&h)))
            .unwrap();
        // Four chain readers and the untimed reader block; the timed readers never
        // appear in the registry.
        wait_blocked_count("leave-", 5);
        for _ in 0..20 {
            assert!(blocked_with_prefix("leave-timed").is_empty());
            thread::sleep(Duration::from_millis(1));
        }
        go.send(()).unwrap();
        let timed: Vec<u64> = timed.into_iter().map(|t| t.join().unwrap()).collect();
        (timed, untimed.join().unwrap(), attempts.load(SeqCst))
    });
    assert_eq!(timed, [16; 4]);
    assert_eq!(untimed, 16);
    assert!(attempts > 4, "the timed readers timed out and retried");
    assert_none_blocked("leave-");
}

// ---------------------------------------------------------------------------------
// Futures with deadlines.
// ---------------------------------------------------------------------------------

#[test]
fn readers_of_futures_with_deadlines_are_never_refused() {
    let v = within(secs(30), || {
        let (go, gate) = mpsc::channel::<()>();
        let base = Lazy::share(spawn_lazy_with(
            Deadline::after(Duration::from_secs(60)),
            move || {
                gate.recv().unwrap();
                2u32
            },
        ));
        let b = base.clone();
        // A task with a deadline reading a future with a deadline, and one without.
        let mid = Lazy::share(spawn_lazy_with(
            Deadline::after(Duration::from_secs(60)),
            move || must_wait(SharedLazy::as_lazy(&b)).into_ready().unwrap() * 10,
        ));
        let (m, b2) = (mid.clone(), base.clone());
        let top = spawn_lazy_with(NoTimeout, move || {
            must_wait(SharedLazy::as_lazy(&m)).into_ready().unwrap()
                + must_wait(SharedLazy::as_lazy(&b2)).into_ready().unwrap()
        });
        let readers: Vec<_> = (0..4)
            .map(|_| {
                let m = mid.clone();
                thread::spawn(move || must_wait(SharedLazy::as_lazy(&m)))
            })
            .collect();
        thread::sleep(Duration::from_millis(20));
        go.send(()).unwrap();
        let r: Vec<_> = readers.into_iter().map(|r| r.join().unwrap()).collect();
        (must_wait(&top), r)
    });
    assert_eq!(v.0, Outcome::Ready(22));
    assert_eq!(v.1, [Outcome::Ready(20); 4]);
}

// ---------------------------------------------------------------------------------
// Stress.
// ---------------------------------------------------------------------------------

static STRESS_ERRORS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The value, or a recorded error and a poison value that fails the sums.
fn checked(r: Result<&u64, WaitError>) -> u64 {
    match r {
        Ok(v) => *v,
        Err(e) => {
            STRESS_ERRORS.lock().unwrap().push(e.to_string());
            1 << 40
        }
    }
}

fn stress_iteration(i: u64, pool: &ThreadPool) -> Vec<u64> {
    // Small, varied delays so that many of the waits below really block.
    let nap = Duration::from_micros((i % 4) * 200);
    let leaf = Lazy::share(spawn_lazy(move || {
        thread::sleep(nap);
        i
    }));
    let l1 = leaf.clone();
    let p1 =
        Lazy::share(pool.spawn_lazy(move || checked(Lazy::try_wait(SharedLazy::as_lazy(&l1))) + 1));
    let (pp, l2, p1c) = (pool.clone(), leaf.clone(), p1.clone());
    let p2 = pool.spawn_lazy(move || {
        let inner = pp.spawn_lazy(move || {
            thread::sleep(nap);
            checked(Lazy::try_wait(SharedLazy::as_lazy(&l2))) + 2
        });
        checked(Lazy::try_wait(&inner)) + checked(Lazy::try_wait(SharedLazy::as_lazy(&p1c)))
    });
    let l3 = leaf.clone();
    let t = spawn_lazy(move || {
        checked(Lazy::try_wait(&p2)) + checked(Lazy::try_wait(SharedLazy::as_lazy(&l3)))
    });
    let m = Lazy::map(t, |v| v * 2);
    let (l4, p1d) = (leaf.clone(), p1.clone());
    let d = spawn_lazy_with(Deadline::after(Duration::from_secs(60)), move || {
        checked(Lazy::try_wait(SharedLazy::as_lazy(&l4)))
            + checked(Lazy::try_wait(SharedLazy::as_lazy(&p1d)))
    });
    let p1r = p1.clone();
    let reader = thread::spawn(move || checked(Lazy::try_wait(SharedLazy::as_lazy(&p1r))));
    let all = Lazy::all([Lazy::map(d, |o| o.into_ready().unwrap_or(1 << 40)), m]);
    let mut out = vec![checked(Lazy::try_wait(SharedLazy::as_lazy(&p1)))];
    out.extend(must_wait(&all));
    out.push(reader.join().unwrap());
    out
}

#[test]
fn a_stress_mix_of_cycle_free_waits_is_never_refused() {
    let started = Instant::now();
    let results = within(secs(60), || {
        let pool = ThreadPool::new(2);
        let mut results = Vec::new();
        for batch in 0..125u64 {
            let runs: Vec<_> = (0..4u64)
                .map(|k| {
                    let pool = pool.clone();
                    let i = batch * 4 + k;
                    thread::spawn(move || (i, stress_iteration(i, &pool)))
                })
                .collect();
            results.extend(runs.into_iter().map(|r| r.join().unwrap()));
        }
        results
    });
    let errors = STRESS_ERRORS.lock().unwrap().clone();
    assert!(
        errors.is_empty(),
        "{} refused waits, e.g. {:?}",
        errors.len(),
        &errors[..errors.len().min(3)]
    );
    assert_eq!(results.len(), 500);
    for (i, values) in results {
        // p1 = i + 1; d = i + (i + 1); m = 2 * ((i + 2) + (i + 1) + i); reader = p1.
        assert_eq!(
            values,
            [i + 1, 2 * i + 1, 2 * (3 * i + 3), i + 1],
            "iteration {i}"
        );
    }
    eprintln!("stress: 500 iterations in {:?}", started.elapsed());
}

// ---------------------------------------------------------------------------------
// Bugs.
// ---------------------------------------------------------------------------------

type Slot<T> = Arc<OnceLock<SharedLazy<T>>>;

/// A false positive. `m = Lazy::map(b, ..)` where `b` has a deadline: `m` itself has
/// none, so a reader waits on it without a limit and the detector walks from `m` to `b`
/// and on through `b`'s runner thread. But `b` will be decided at its deadline whatever
/// its thread does (the timer settles it and runs the map), so a cycle through `b` is
/// not a deadlock. Here task Z (thread "fp-z") reads `m` while `b`'s thread ("fp-b")
/// waits on Z: the detector refuses one of the two waits, although `b`'s 300 ms
/// deadline would release both (and does, for whichever wait was not refused).
///
/// The walk should stop at a future that has a deadline (its node's blocker should be
/// `Nothing`), as the waiter's own check does (`Lazy::block` only registers waits on
/// futures without a deadline).
#[test]
fn a_cycle_through_a_future_with_a_deadline_is_not_a_deadlock() {
    let (z, b_saw, m) = within(secs(20), || {
        let z_slot: Slot<Result<bool, String>> = Arc::default();
        let m_slot: Slot<bool> = Arc::default();
        let ms = Arc::clone(&m_slot);
        let z = Builder::new()
            .name("fp-z")
            .spawn(move || {
                let m = SharedLazy::as_lazy(ms.wait());
                thread::sleep(Duration::from_millis(50)); // fp-b blocks on Z first
                Lazy::try_wait(m).copied().map_err(|e| e.to_string())
            })
            .unwrap();
        let z = Lazy::share(z);
        z_slot.set(z.clone()).ok().unwrap();
        let (b_tx, b_rx) = mpsc::channel();
        let zs = Arc::clone(&z_slot);
        let b = Builder::new()
            .name("fp-b")
            .timeout(Deadline::after(Duration::from_millis(300)))
            .spawn(move || {
                let saw = Lazy::try_wait(SharedLazy::as_lazy(zs.wait()))
                    .map(|r| r.is_ok())
                    .map_err(|e| e.to_string());
                b_tx.send(saw).unwrap();
            })
            .unwrap();
        let m = Lazy::share(Lazy::map(b, |o| o.is_ready()));
        m_slot.set(m.clone()).ok().unwrap();
        let z_value = (*z).clone();
        let b_saw = b_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        (z_value, b_saw, *m)
    });
    // b times out at 300 ms, so m = false and Z's wait ends; then b's wait on Z ends.
    assert_eq!(
        z,
        Ok(false),
        "Z's wait on map(b) must end at b's deadline, not be refused"
    );
    assert_eq!(b_saw, Ok(true));
    assert!(!m);
}
