//! Async interop: `IntoFuture` for `Lazy<T>`
//! (output `T`), `&Lazy<T>` (output `&T`), `SharedLazy<T: Clone>` (output `T`) and
//! `&SharedLazy<T>` (output `&T`).
//!
//! * `.await` works under `pollster::block_on`, `futures::executor::block_on` and a
//!   single-threaded `futures` `LocalPool`, and never blocks the executor's thread;
//! * the waker is woken exactly once; polling again with the same waker registers no
//!   second wake; polling with another waker moves the registration; dropping a
//!   pending await unregisters it;
//! * no lost wake when the value arrives while the future is being polled (a stress
//!   test, each iteration bounded, so a lost wake fails instead of hanging);
//! * an awaited future with a deadline is woken at the deadline by the timer (as
//!   `Outcome::Timeout`) while its task still runs;
//! * a panicking task makes the await panic with its message;
//! * a value passing through `.await` is dropped exactly once;
//! * on every executor.

#[path = "../../tests/support/mod.rs"]
mod support;

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

use futures::executor::LocalPool;
use futures::task::LocalSpawnExt;
use support::{Drops, Exec, Gate, executors, ms, panic_of, panic_text, within};
use transparent_future::{Deadline, Lazy, Outcome, SharedLazy, ThreadPool};

const LIMIT: Duration = Duration::from_secs(20);

/// A waker that counts its wakes.
#[derive(Default)]
struct Counting(AtomicUsize);

impl Wake for Counting {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn counting() -> (Arc<Counting>, Waker) {
    let counter = Arc::new(Counting::default());
    (Arc::clone(&counter), Waker::from(counter))
}

fn poll_with<F: Future + Unpin>(fut: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(waker))
}

/// Waits (at most `limit`) for `counter` to reach `n` wakes; whether it did.
fn wait_for_wakes(counter: &Counting, n: usize, limit: Duration) -> bool {
    let until = Instant::now() + limit;
    while counter.0.load(SeqCst) < n {
        if Instant::now() >= until {
            return false;
        }
        thread::yield_now();
    }
    true
}

/// A future on `exec` that waits for `gate`, then returns `value`.
fn gated<T: Send + 'static>(exec: &Exec, gate: &Gate, value: T) -> Lazy<T> {
    let g = gate.clone();
    exec.spawn(move || {
        g.wait();
        value
    })
}

/// Opens `gate` from another thread after `delay`.
fn open_later(gate: &Gate, delay: Duration) {
    let g = gate.clone();
    thread::spawn(move || {
        thread::sleep(delay);
        g.open();
    });
}

// ---------------------------------------------------------------- basic awaits

#[test]
fn awaits_under_pollster_futures_block_on_and_a_local_pool() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            let gate = Gate::new();
            let _open = gate.guard();

            // Lazy<T> by value: Output = T.
            let x = gated(&e, &gate, 40);
            open_later(&gate, ms(30));
            assert_eq!(pollster::block_on(async move { x.await + 2 }), 42, "{name}");

            // &Lazy<T>: Output = &T, and the future is still usable afterwards.
            let s = e.spawn(|| String::from("shared"));
            let len = futures::executor::block_on(async { (&s).await.len() });
            assert_eq!(len, 6, "{name}");
            assert_eq!(*s, "shared");

            // SharedLazy<T: Clone> by value (Output = T) and by reference (Output = &T).
            let gate = Gate::new();
            let _open2 = gate.guard();
            let shared = Lazy::share(gated(&e, &gate, vec![1, 2, 3]));
            let (a, b) = (shared.clone(), shared.clone());
            open_later(&gate, ms(30));
            let owned: Vec<i32> = pollster::block_on(a.into_future());
            assert_eq!(owned, [1, 2, 3], "{name}");
            let sum: i32 = futures::executor::block_on(async { (&b).await.iter().sum() });
            assert_eq!(sum, 6, "{name}");
            assert_eq!(SharedLazy::handles(&shared), 2);

            // Several awaits in one async block, on a LocalPool.
            let mut pool = LocalPool::new();
            let (p, q) = (e.spawn(|| 2), e.spawn(|| 3));
            let shared = Lazy::share(e.spawn(|| 5));
            let r = pool.run_until(async move {
                let q = q.await;
                let s = (&shared).await + shared.clone().await;
                p.await * q + s
            });
            assert_eq!(r, 16, "{name}");

            // Through a chain: a map's downstream awaited.
            let chained = Lazy::map(e.spawn(|| 20), |v| v + 1);
            assert_eq!(pollster::block_on(chained), 21, "{name}");
        });
    }
}

#[test]
fn an_await_does_not_block_a_single_threaded_executor() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            // Task A awaits a future that resolves only after task B, on the same
            // thread, has run: if A's await blocked the thread, B never would.
            let gate = Gate::new();
            let _open = gate.guard();
            let slow = gated(&e, &gate, "slow");
            let fast = e.spawn(|| {
                thread::sleep(ms(20));
                "fast"
            });
            let log = Arc::new(std::sync::Mutex::new(Vec::new()));
            let mut pool = LocalPool::new();
            let spawner = pool.spawner();
            let l = Arc::clone(&log);
            spawner
                .spawn_local(async move {
                    let v = slow.await;
                    l.lock().unwrap().push(v);
                })
                .unwrap();
            let (l, g) = (Arc::clone(&log), gate.clone());
            spawner
                .spawn_local(async move {
                    let v = (&fast).await;
                    l.lock().unwrap().push(v);
                    g.open(); // only now can `slow` finish
                })
                .unwrap();
            pool.run();
            assert_eq!(*log.lock().unwrap(), ["fast", "slow"], "{name}");

            // The same with a shared future and `&` awaits.
            let gate = Gate::new();
            let _open2 = gate.guard();
            let shared = Lazy::share(gated(&e, &gate, 7));
            let progressed = Arc::new(AtomicBool::new(false));
            let mut pool = LocalPool::new();
            let spawner = pool.spawner();
            let (s, p) = (shared.clone(), Arc::clone(&progressed));
            spawner
                .spawn_local(async move {
                    assert_eq!(*(&s).await, 7);
                    assert!(p.load(SeqCst));
                })
                .unwrap();
            let (p, g) = (Arc::clone(&progressed), gate.clone());
            spawner
                .spawn_local(async move {
                    p.store(true, SeqCst);
                    g.open();
                })
                .unwrap();
            pool.run();
            assert!(progressed.load(SeqCst), "{name}");
        });
    }
}

// ---------------------------------------------------------------- wakers

#[test]
fn the_waker_is_woken_exactly_once_and_the_next_poll_is_ready() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            let gate = Gate::new();
            let _open = gate.guard();
            let (count, waker) = counting();
            let mut fut = gated(&e, &gate, 5).into_future();
            assert!(poll_with(&mut fut, &waker).is_pending(), "{name}");
            // Polling again with the same waker (or a clone of it) registers no
            // second wake.
            assert!(poll_with(&mut fut, &waker).is_pending());
            assert!(poll_with(&mut fut, &waker.clone()).is_pending());
            assert_eq!(count.0.load(SeqCst), 0, "{name}: woken before the value");
            gate.open();
            assert!(
                wait_for_wakes(&count, 1, Duration::from_secs(10)),
                "{name}: never woken"
            );
            thread::sleep(ms(50));
            assert_eq!(count.0.load(SeqCst), 1, "{name}: woken more than once");
            assert_eq!(poll_with(&mut fut, &waker), Poll::Ready(5), "{name}");
            thread::sleep(ms(20));
            assert_eq!(count.0.load(SeqCst), 1, "{name}");

            // The same for `&Lazy` and `SharedLazy`.
            let gate = Gate::new();
            let _open2 = gate.guard();
            let lazy = gated(&e, &gate, 6);
            let shared = Lazy::share(gated(&e, &gate, 7));
            let (c1, w1) = counting();
            let (c2, w2) = counting();
            let (c3, w3) = counting();
            let mut by_ref = (&lazy).into_future();
            let mut by_value = shared.clone().into_future();
            let mut shared_ref = (&shared).into_future();
            assert!(poll_with(&mut by_ref, &w1).is_pending());
            assert!(poll_with(&mut by_value, &w2).is_pending());
            assert!(poll_with(&mut shared_ref, &w3).is_pending());
            assert!(poll_with(&mut by_ref, &w1).is_pending());
            assert!(poll_with(&mut by_value, &w2).is_pending());
            gate.open();
            for c in [&c1, &c2, &c3] {
                assert!(wait_for_wakes(c, 1, Duration::from_secs(10)), "{name}");
            }
            thread::sleep(ms(50));
            for c in [&c1, &c2, &c3] {
                assert_eq!(c.0.load(SeqCst), 1, "{name}");
            }
            assert_eq!(poll_with(&mut by_ref, &w1), Poll::Ready(&6));
            assert_eq!(poll_with(&mut by_value, &w2), Poll::Ready(7));
            assert_eq!(poll_with(&mut shared_ref, &w3), Poll::Ready(&7));
        });
    }
}

#[test]
fn polling_with_another_waker_moves_the_registration() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            let gate = Gate::new();
            let _open = gate.guard();
            let lazy = gated(&e, &gate, 1);
            let (old, old_waker) = counting();
            let (new, new_waker) = counting();
            let mut fut = (&lazy).into_future();
            assert!(poll_with(&mut fut, &old_waker).is_pending());
            assert!(poll_with(&mut fut, &new_waker).is_pending());
            gate.open();
            assert!(wait_for_wakes(&new, 1, Duration::from_secs(10)), "{name}");
            thread::sleep(ms(50));
            assert_eq!(old.0.load(SeqCst), 0, "{name}: the old waker was woken too");
            assert_eq!(new.0.load(SeqCst), 1, "{name}");
            assert_eq!(poll_with(&mut fut, &new_waker), Poll::Ready(&1));

            // A pending await dropped unregisters its waker.
            let gate = Gate::new();
            let _open2 = gate.guard();
            let lazy = gated(&e, &gate, 2);
            let (dropped, waker) = counting();
            let mut fut = (&lazy).into_future();
            assert!(poll_with(&mut fut, &waker).is_pending());
            drop(fut);
            gate.open();
            assert_eq!(*lazy, 2);
            thread::sleep(ms(30));
            assert_eq!(
                dropped.0.load(SeqCst),
                0,
                "{name}: a dropped await was woken"
            );
        });
    }
}

/// One racing iteration: the task returns at about the moment the future is first
/// polled. Ends `Ready` on the first poll, or after exactly one wake.
fn race_once<F>(i: usize, mut fut: F, barrier: &Barrier, expected: F::Output) -> Result<(), String>
where
    F: Future + Unpin,
    F::Output: PartialEq + std::fmt::Debug,
{
    let (count, waker) = counting();
    barrier.wait();
    match poll_with(&mut fut, &waker) {
        Poll::Ready(v) => {
            if v != expected {
                return Err(format!("iteration {i}: got {v:?}"));
            }
        }
        Poll::Pending => {
            if !wait_for_wakes(&count, 1, Duration::from_secs(5)) {
                return Err(format!("iteration {i}: lost wake (not woken in 5 s)"));
            }
            match poll_with(&mut fut, &waker) {
                Poll::Ready(v) if v == expected => {}
                other => return Err(format!("iteration {i}: woken, then {other:?}")),
            }
        }
    }
    let wakes = count.0.load(SeqCst);
    if wakes > 1 {
        return Err(format!("iteration {i}: woken {wakes} times"));
    }
    Ok(())
}

#[test]
fn no_wake_is_lost_when_the_value_arrives_during_the_poll() {
    let runs: Vec<(Exec, usize)> = executors()
        .into_iter()
        .map(|e| {
            let n = if matches!(e, Exec::Threads) {
                300
            } else {
                1500
            };
            (e, n)
        })
        .collect();
    for (exec, n) in runs {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            let barrier = Arc::new(Barrier::new(2));
            for i in 0..n {
                let b = Arc::clone(&barrier);
                let lazy = e.spawn(move || {
                    b.wait();
                    i
                });
                // Alternate the three future types.
                let result = match i % 3 {
                    0 => race_once(i, lazy.into_future(), &barrier, i),
                    1 => race_once(i, (&lazy).into_future(), &barrier, &i),
                    _ => {
                        let shared = Lazy::share(lazy);
                        race_once(i, shared.into_future(), &barrier, i)
                    }
                };
                if let Err(e) = result {
                    panic!("{name}: {e}");
                }
            }
        });
    }
}

#[test]
fn block_on_never_hangs_on_a_value_that_arrives_at_once() {
    within(LIMIT, || {
        let pool = ThreadPool::new(2);
        for i in 0..1000_u32 {
            let x = pool.spawn_lazy(move || i);
            let v = if i % 2 == 0 {
                pollster::block_on(x)
            } else {
                futures::executor::block_on(x.into_future())
            };
            assert_eq!(v, i);
        }
    });
}

// ---------------------------------------------------------------- deadlines

#[test]
fn an_awaited_deadline_future_is_woken_at_the_deadline_by_the_timer() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            let gate = Gate::new();
            let _open = gate.guard();

            let g = gate.clone();
            let t0 = Instant::now();
            let x = e.spawn_with(Deadline::after(ms(150)), move || {
                g.wait();
                1
            });
            assert_eq!(pollster::block_on(x), Outcome::Timeout, "{name}");
            let took = t0.elapsed();
            assert!(took >= ms(140), "{name}: woken early ({took:?})");
            assert!(
                took < ms(1500),
                "{name}: not woken at the deadline ({took:?})"
            );

            // With a counting waker: one wake, from the timer, while the task runs.
            let g = gate.clone();
            let running = Arc::new(AtomicBool::new(true));
            let r = Arc::clone(&running);
            let t0 = Instant::now();
            let x = e.spawn_with(Deadline::after(ms(150)), move || {
                g.wait();
                r.store(false, SeqCst);
                2
            });
            let (count, waker) = counting();
            let mut fut = (&x).into_future();
            assert!(poll_with(&mut fut, &waker).is_pending());
            assert!(
                wait_for_wakes(&count, 1, Duration::from_secs(5)),
                "{name}: never woken"
            );
            let took = t0.elapsed();
            assert!(took >= ms(140) && took < ms(1500), "{name}: {took:?}");
            assert!(
                running.load(SeqCst),
                "{name}: woken by the task, not the timer"
            );
            assert_eq!(poll_with(&mut fut, &waker), Poll::Ready(&Outcome::Timeout));
            thread::sleep(ms(30));
            assert_eq!(count.0.load(SeqCst), 1, "{name}");

            // A chain with an inherited deadline, and a shared deadline future.
            let g = gate.clone();
            let t0 = Instant::now();
            let up = e.spawn_with(Deadline::after(ms(150)), move || {
                g.wait();
                3
            });
            let chained = Lazy::map_ready(up, |v| v + 1);
            let shared = Lazy::share(Lazy::all_with(
                Deadline::after(ms(150)),
                [gated(&e, &gate, 4)],
            ));
            let (a, b) = futures::executor::block_on(async {
                let a = chained.await;
                let b = (&shared).await.clone();
                (a, b)
            });
            assert_eq!((a, b), (Outcome::Timeout, Outcome::Timeout), "{name}");
            assert!(t0.elapsed() < ms(1500), "{name}: {:?}", t0.elapsed());
        });
    }
}

// ---------------------------------------------------------------- panics

#[test]
fn a_panicking_task_makes_the_await_panic_with_its_message() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            let x = e.spawn(|| -> u32 {
                thread::sleep(ms(20));
                panic!("async disk on fire")
            });
            let msg = panic_of(|| pollster::block_on(x));
            assert!(msg.contains("async disk on fire"), "{name}: {msg}");

            let x = e.spawn(|| -> u32 { panic!("by reference") });
            let msg = panic_of(|| futures::executor::block_on(async { *(&x).await + 1 }));
            assert!(msg.contains("by reference"), "{name}: {msg}");

            let shared = Lazy::share(e.spawn(|| -> u32 { panic!("shared await") }));
            let s = shared.clone();
            let msg = panic_of(move || pollster::block_on(s));
            assert!(msg.contains("shared await"), "{name}: {msg}");
            let msg = panic_of(|| LocalPool::new().run_until(async { *(&shared).await }));
            assert!(msg.contains("shared await"), "{name}: {msg}");

            // A panic in a map closure, awaited downstream.
            let m = Lazy::map(e.spawn(|| 1), |_| -> u32 { panic!("awaited map") });
            let payload = std::panic::catch_unwind(|| pollster::block_on(m)).unwrap_err();
            assert!(
                panic_text(payload.as_ref()).contains("awaited map"),
                "{name}"
            );
        });
    }
}

// ---------------------------------------------------------------- drops

#[test]
fn values_passing_through_await_are_dropped_exactly_once() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            // By value: the awaited value is the caller's.
            let drops = Drops::new();
            let d = drops.clone();
            let v = pollster::block_on(e.spawn(move || d.track(1)));
            assert_eq!(v.value, 1, "{name}");
            assert_eq!(drops.count(), 0);
            drop(v);
            drops.expect(1);

            // By reference: the value stays with the future.
            let drops = Drops::new();
            let d = drops.clone();
            let x = e.spawn(move || d.track(2));
            assert_eq!(futures::executor::block_on(async { (&x).await.value }), 2);
            assert_eq!(drops.count(), 0);
            drop(x);
            drops.expect(1);

            // A pending await dropped: the value is dropped when the task ends.
            let gate = Gate::new();
            let _open = gate.guard();
            let drops = Drops::new();
            let d = drops.clone();
            let mut fut = gated(&e, &gate, ()).into_future();
            let (_, waker) = counting();
            assert!(poll_with(&mut fut, &waker).is_pending());
            drop(fut);
            let d2 = d.clone();
            let mut fut2 = Lazy::map(gated(&e, &gate, ()), move |()| d2.track(3)).into_future();
            assert!(poll_with(&mut fut2, &waker).is_pending());
            drop(fut2);
            gate.open();
            drops.expect(1);
            drop(d);

            // SharedLazy by value: each await gets a clone; every copy dropped once.
            let drops = Drops::new();
            let d = drops.clone();
            let shared = Lazy::share(e.spawn(move || d.track(4)));
            let a = pollster::block_on(shared.clone());
            let b = pollster::block_on(shared.clone());
            assert_eq!((a.value, b.value), (4, 4));
            drop((a, b));
            drops.expect(2); // the two clones
            drop(shared);
            drops.expect(3); // and the shared value itself
        });
    }
}
