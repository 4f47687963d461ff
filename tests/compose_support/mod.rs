//! Helpers shared by the `compose_*` tests (composition issue #4): bounded waits, a
//! gate that blocked tasks wait on, drop counters, panic messages, and the executors
//! every composition must work on (thread-per-task, `ThreadPool`, rayon).
#![allow(dead_code)]

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use transparent_future::{Lazy, Outcome, ThreadPool, TimeoutPolicy, spawn_lazy, spawn_lazy_with};

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Runs `f` on a thread of its own and returns its result, or fails the test if it has
/// not finished within `limit` (a hang becomes a failure, not a stuck test run). A
/// panic in `f` is re-raised here.
#[track_caller]
pub fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::Builder::new()
        .name("compose-bounded".into())
        .spawn(move || {
            let _ = tx.send(catch_unwind(AssertUnwindSafe(f)));
        })
        .expect("a thread for a bounded test step");
    match rx.recv_timeout(limit) {
        Ok(Ok(value)) => value,
        Ok(Err(payload)) => resume_unwind(payload),
        Err(_) => panic!("hang: the step did not finish within {limit:?}"),
    }
}

/// The text of a panic payload.
pub fn message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string payload>".to_string()
    }
}

/// The message `f` panics with; fails the test if it does not panic.
#[track_caller]
pub fn panic_of<R>(f: impl FnOnce() -> R) -> String {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(_) => panic!("expected a panic"),
        Err(payload) => message(payload.as_ref()),
    }
}

/// A gate tasks block on until the test opens it (at most 20 s, so that a failing
/// test never leaves a task blocked for good).
#[derive(Clone, Default)]
pub struct Gate(Arc<(Mutex<bool>, Condvar)>);

impl Gate {
    pub fn new() -> Gate {
        Gate::default()
    }

    pub fn wait(&self) {
        let (lock, cond) = &*self.0;
        let until = Instant::now() + Duration::from_secs(20);
        let mut open = lock.lock().unwrap();
        while !*open {
            let now = Instant::now();
            if now >= until {
                return;
            }
            open = cond.wait_timeout(open, until - now).unwrap().0;
        }
    }

    pub fn open(&self) {
        let (lock, cond) = &*self.0;
        *lock.lock().unwrap() = true;
        cond.notify_all();
    }

    /// A guard that opens the gate when dropped, even when the test fails.
    pub fn guard(&self) -> OpenOnDrop {
        OpenOnDrop(self.clone())
    }
}

pub struct OpenOnDrop(Gate);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        self.0.open();
    }
}

/// Counts the drops of the `Tracked` values made from it.
#[derive(Clone, Default)]
pub struct Drops(Arc<AtomicUsize>);

impl Drops {
    pub fn new() -> Drops {
        Drops::default()
    }

    pub fn track(&self, value: u32) -> Tracked {
        Tracked {
            drops: self.clone(),
            value,
        }
    }

    pub fn count(&self) -> usize {
        self.0.load(SeqCst)
    }

    /// Waits (at most 10 s) for `n` drops, then checks that no more come.
    #[track_caller]
    pub fn expect(&self, n: usize) {
        let until = Instant::now() + Duration::from_secs(10);
        while self.count() < n && Instant::now() < until {
            thread::sleep(ms(2));
        }
        assert_eq!(self.count(), n, "expected exactly {n} drops by now");
        thread::sleep(ms(30));
        assert_eq!(self.count(), n, "a value was dropped more than once");
    }
}

/// A value that counts its drops.
pub struct Tracked {
    drops: Drops,
    pub value: u32,
}

impl Clone for Tracked {
    /// Another tracked value on the same counter (its drop counts too).
    fn clone(&self) -> Tracked {
        self.drops.track(self.value)
    }
}

impl PartialEq for Tracked {
    fn eq(&self, other: &Tracked) -> bool {
        self.value == other.value
    }
}

impl std::fmt::Debug for Tracked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tracked({})", self.value)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.0.fetch_add(1, SeqCst);
    }
}

/// Where a future runs: every composition must work on each.
#[derive(Clone)]
pub enum Exec {
    /// A new thread per task (`spawn_lazy`).
    Threads,
    /// A `ThreadPool` (`ThreadPool::spawn_lazy`).
    Pool(ThreadPool),
    /// A rayon pool (`spawn_lazy_on(&rayon_pool, ..)`); a dedicated one, so that
    /// blocked test tasks never starve rayon's global pool.
    #[cfg(feature = "rayon")]
    Rayon(Arc<rayon::ThreadPool>),
}

/// One of each executor, with enough threads for a few tasks to block at once.
pub fn executors() -> Vec<Exec> {
    vec![
        Exec::Threads,
        Exec::Pool(ThreadPool::new(4)),
        #[cfg(feature = "rayon")]
        Exec::Rayon(Arc::new(
            rayon::ThreadPoolBuilder::new()
                .num_threads(4)
                .build()
                .unwrap(),
        )),
    ]
}

impl Exec {
    pub fn name(&self) -> &'static str {
        match self {
            Exec::Threads => "thread-per-task",
            Exec::Pool(_) => "ThreadPool",
            #[cfg(feature = "rayon")]
            Exec::Rayon(_) => "rayon",
        }
    }

    pub fn spawn<T, F>(&self, f: F) -> Lazy<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        match self {
            Exec::Threads => spawn_lazy(f),
            Exec::Pool(pool) => pool.spawn_lazy(f),
            #[cfg(feature = "rayon")]
            Exec::Rayon(pool) => transparent_future::spawn_lazy_on(&**pool, f),
        }
    }

    pub fn spawn_with<P, T, F>(&self, policy: P, f: F) -> Lazy<Outcome<T>>
    where
        P: TimeoutPolicy,
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        match self {
            Exec::Threads => spawn_lazy_with(policy, f),
            Exec::Pool(pool) => pool.spawn_lazy_with(policy, f),
            #[cfg(feature = "rayon")]
            Exec::Rayon(pool) => transparent_future::spawn_lazy_with_on(&**pool, policy, f),
        }
    }

    /// Whether the current thread is one of this executor's threads (for
    /// thread-per-task: an unnamed thread that is not the test's own).
    pub fn on_own_thread(&self) -> bool {
        let current = thread::current();
        match self {
            Exec::Threads => current.name().is_none(),
            Exec::Pool(_) => current
                .name()
                .is_some_and(|n| n.starts_with("transparent-future-worker-")),
            #[cfg(feature = "rayon")]
            Exec::Rayon(pool) => pool.current_thread_index().is_some(),
        }
    }
}

/// Tasks report here that they have started, so that a test can make sure no task is
/// still queued (a waiting reader would run a queued pool task itself).
pub struct Starts {
    tx: mpsc::Sender<()>,
    rx: mpsc::Receiver<()>,
}

impl Starts {
    pub fn new() -> Starts {
        let (tx, rx) = mpsc::channel();
        Starts { tx, rx }
    }

    /// A handle for a task to report its start with `send(())`.
    pub fn reporter(&self) -> mpsc::Sender<()> {
        self.tx.clone()
    }

    /// Waits (at most 10 s each) until `n` tasks have started.
    #[track_caller]
    pub fn wait_for(&self, n: usize) {
        for _ in 0..n {
            self.rx
                .recv_timeout(Duration::from_secs(10))
                .expect("a task never started");
        }
    }
}
