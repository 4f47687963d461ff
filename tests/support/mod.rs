//! Helpers shared by every test binary: short durations, a watchdog for scenarios that
//! could hang, panic messages, gates that blocked tasks wait on, drop counters, the
//! executors every composition must work on (thread-per-task, `ThreadPool`, rayon),
//! the names the deadlock detector gives to tasks, and readers of process-wide state
//! (thread counts, the live thread-per-task threads) with the lock that serializes the
//! tests reading it.
//!
//! Each binary includes this file as its `support` module
//! (`#[path = "../support/mod.rs"] mod support;`), so `cfg(feature = "rayon")` here is
//! the feature of the package that compiles it.

#![allow(dead_code)] // each binary uses its own subset

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, mpsc};
use std::thread;
use std::time::{Duration, Instant};

#[cfg(feature = "rayon")]
use transparent_future::Builder;
use transparent_future::debug::CycleLink;
use transparent_future::executor::ThreadPerTask;
use transparent_future::{Lazy, Outcome, ThreadPool, TimeoutPolicy, spawn_lazy, spawn_lazy_with};

// ---------------------------------------------------------------------------------
// Durations and watchdogs.
// ---------------------------------------------------------------------------------

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Runs `f` on a thread of its own and returns its result, or fails the test if it has
/// not finished within `limit` (a hang, or a missed deadlock, becomes a failure, not a
/// stuck test run). A panic in `f` is re-raised here.
#[track_caller]
pub fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::Builder::new()
        .name("watchdog-scenario".into())
        .spawn(move || {
            let _ = tx.send(catch_unwind(AssertUnwindSafe(f)));
        })
        .expect("a thread for a bounded scenario");
    match rx.recv_timeout(limit) {
        Ok(Ok(value)) => value,
        Ok(Err(payload)) => resume_unwind(payload),
        Err(_) => {
            panic!("hang: the scenario did not finish within {limit:?} (or a deadlock was missed)")
        }
    }
}

// ---------------------------------------------------------------------------------
// Panics.
// ---------------------------------------------------------------------------------

/// The text of a panic payload.
pub fn panic_text(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        String::from("<non-string payload>")
    }
}

/// The message `f` panics with; fails the test if it does not panic.
#[track_caller]
pub fn panic_of<R>(f: impl FnOnce() -> R) -> String {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(_) => panic!("expected a panic"),
        Err(payload) => panic_text(payload.as_ref()),
    }
}

/// Runs `f`, which must panic with a message containing `needle`; returns the message.
#[track_caller]
pub fn panics_with<R>(needle: &str, f: impl FnOnce() -> R) -> String {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(_) => panic!("expected a panic containing {needle:?}"),
        Err(payload) => {
            let text = panic_text(payload.as_ref());
            assert!(text.contains(needle), "panic {text:?} lacks {needle:?}");
            text
        }
    }
}

/// The name libtest gives the test `name` of the module `module` (`module_path!()`),
/// as `--exact` wants it: the module path without the binary's own name. For tests
/// that re-run their own binary on one test in a child process.
pub fn test_path(module: &str, name: &str) -> String {
    match module.split_once("::") {
        Some((_, inner)) => format!("{inner}::{name}"),
        None => name.to_string(),
    }
}

// ---------------------------------------------------------------------------------
// Gates.
// ---------------------------------------------------------------------------------

/// A gate a task waits behind (the returned closure); opened by sending on the sender
/// (or dropping it).
pub fn gate() -> (mpsc::Sender<()>, impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel::<()>();
    (tx, move || {
        let _ = rx.recv();
    })
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

// ---------------------------------------------------------------------------------
// Waiting on futures without reading them.
// ---------------------------------------------------------------------------------

/// Waits (bounded) until the future would not block, without reading it.
#[track_caller]
pub fn settled<T>(x: &Lazy<T>) {
    let until = Instant::now() + Duration::from_secs(5);
    while !Lazy::is_done(x) {
        assert!(Instant::now() < until, "the task never finished");
        thread::sleep(ms(5));
    }
}

/// Polls `take_late` until the late result arrives (bounded).
#[track_caller]
pub fn wait_for_late<T>(x: &Lazy<Outcome<T>>) -> thread::Result<T> {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(late) = Lazy::take_late(x) {
            return late;
        }
        assert!(
            Instant::now() < until,
            "the late result never became collectable"
        );
        thread::sleep(ms(10));
    }
}

/// Waits for a future without ever running its task on this thread.
#[track_caller]
pub fn on_worker<T>(x: &Lazy<T>) -> &T {
    Lazy::wait_timeout(x, Duration::from_secs(20)).expect("a task did not finish in 20 s")
}

// ---------------------------------------------------------------------------------
// Drop counters.
// ---------------------------------------------------------------------------------

/// A value that adds one to its counter when dropped; the `u32` tells values apart.
#[derive(Debug)]
pub struct Counted(pub Arc<AtomicUsize>, pub u32);

impl Counted {
    pub fn new(drops: &Arc<AtomicUsize>, value: u32) -> Counted {
        Counted(Arc::clone(drops), value)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// Waits (bounded) until `counter` reaches `n`, then checks it stays there.
#[track_caller]
pub fn expect_count(counter: &AtomicUsize, n: usize) {
    let until = Instant::now() + Duration::from_secs(10);
    while counter.load(SeqCst) < n {
        assert!(
            Instant::now() < until,
            "expected {n}, saw {}",
            counter.load(SeqCst)
        );
        thread::sleep(ms(2));
    }
    thread::sleep(ms(30));
    assert_eq!(counter.load(SeqCst), n, "counted more than expected");
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
        expect_count(&self.0, n);
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

// ---------------------------------------------------------------------------------
// Executors.
// ---------------------------------------------------------------------------------

/// Where a future runs: every composition must work on each.
#[derive(Clone)]
pub enum Exec {
    /// A new thread per task (`spawn_lazy`).
    Threads,
    /// A `ThreadPool` (`ThreadPool::spawn_lazy`).
    Pool(ThreadPool),
    /// A rayon pool (`Builder::new().on(&rayon_pool).spawn(..).unwrap()`); a dedicated one, so that
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
            Exec::Rayon(pool) => Builder::new().on(&**pool).spawn(f).unwrap(),
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
            Exec::Rayon(pool) => Builder::new().on(&**pool).timeout(policy).spawn(f).unwrap(),
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

// ---------------------------------------------------------------------------------
// Deadlock detection: how futures and threads are named in a cycle.
// ---------------------------------------------------------------------------------

pub fn type_name_of<F>(_: &F) -> &'static str {
    std::any::type_name::<F>()
}

/// How a task's future is named in a cycle.
pub fn label(type_name: &str) -> String {
    format!("task {type_name:?}")
}

/// The thread of a link, without the quotes the crate keeps for its messages.
pub fn thread_of(link: &CycleLink) -> Option<&str> {
    link.thread.as_deref().map(|t| t.trim_matches('"'))
}

/// `try_wait` that must not report a deadlock (nor anything else): a cycle-free wait
/// is never refused.
#[track_caller]
pub fn must_wait<T: Clone>(x: &Lazy<T>) -> T {
    match Lazy::try_wait(x) {
        Ok(v) => v.clone(),
        Err(e) => panic!("a cycle-free wait failed: {e}"),
    }
}

// ---------------------------------------------------------------------------------
// Process-wide state: thread counts and the thread-per-task cap.
// ---------------------------------------------------------------------------------

/// Serializes the tests of a binary that read process-wide state (thread counts, the
/// live-thread cap, the allocator's counters), so that no other test of the binary
/// runs while one takes its figures. A failed test does not poison it for the others.
pub fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The number of threads of this process (`Threads:` in `/proc/self/status`).
#[cfg(target_os = "linux")]
pub fn thread_count() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .expect("no Threads: line in /proc/self/status")
        .trim()
        .parse()
        .unwrap()
}

/// The ids of this process's threads whose name (`comm`, at most 15 bytes) starts with
/// `prefix`, as `/proc/self/task` lists them; a thread that exits while the list is
/// read may or may not be in it.
#[cfg(target_os = "linux")]
pub fn threads_named(prefix: &str) -> Vec<u64> {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    dir.filter_map(|entry| {
        let entry = entry.ok()?;
        let comm = std::fs::read_to_string(entry.path().join("comm")).ok()?;
        comm.trim_end()
            .starts_with(prefix)
            .then(|| entry.file_name().to_str()?.parse().ok())?
    })
    .collect()
}

/// The threads named `prefix...` certainly alive at one instant: those seen by one
/// listing and still there in a second (each was alive at the end of the first
/// listing), so that threads that come and go while `/proc` is read are not counted
/// together.
#[cfg(target_os = "linux")]
pub fn threads_named_alive_together(prefix: &str) -> Vec<u64> {
    let first = threads_named(prefix);
    let second = threads_named(prefix);
    first
        .into_iter()
        .filter(|tid| second.contains(tid))
        .collect()
}

/// The most threads named `prefix...` seen alive together while `running` is true,
/// sampled every 200 µs, and the number of samples. A thread that `join` has seen exit
/// may stay listed a moment while the kernel releases it (longer on a loaded machine),
/// so a count above `limit` is confirmed: it counts only the threads still listed
/// `confirm` later, which were all alive throughout.
#[cfg(target_os = "linux")]
pub fn most_threads_named_together(
    prefix: &str,
    limit: usize,
    confirm: Duration,
    running: &std::sync::atomic::AtomicBool,
) -> (usize, usize) {
    let (mut most, mut samples) = (0, 0);
    while running.load(SeqCst) {
        let mut together = threads_named_alive_together(prefix);
        if together.len() > limit {
            thread::sleep(confirm);
            let later = threads_named(prefix);
            together.retain(|tid| later.contains(tid));
        }
        most = most.max(together.len());
        samples += 1;
        thread::sleep(Duration::from_micros(200));
    }
    (most, samples)
}

/// Waits (bounded by `limit`) until no thread of this process is named `prefix...`.
#[cfg(target_os = "linux")]
#[track_caller]
pub fn no_threads_named(prefix: &str, limit: Duration) {
    let until = Instant::now() + limit;
    while !threads_named(prefix).is_empty() {
        assert!(
            Instant::now() < until,
            "threads named {prefix:?} still alive after {limit:?}"
        );
        thread::sleep(ms(5));
    }
}

/// Holds `serial()`, then waits until the process's thread count has stayed the same
/// for 1.5 s (at most 10 s): for tests that compare exact thread counts with a
/// baseline. When the test before it lets go of the lock, that test's thread still
/// has to exit, libtest may start a thread for the next test (which then waits for
/// the lock), and the deadline timer thread lingers a second after its last deadline;
/// none of that must land between the baseline and the checks. While the lock is
/// held, every other test of the binary is blocked on it, so the count stays quiet.
#[cfg(target_os = "linux")]
pub fn alone() -> MutexGuard<'static, ()> {
    let guard = serial();
    let until = Instant::now() + Duration::from_secs(10);
    let mut last = thread_count();
    let mut since = Instant::now();
    while since.elapsed() < Duration::from_millis(1500) && Instant::now() < until {
        thread::sleep(ms(10));
        let now = thread_count();
        if now != last {
            last = now;
            since = Instant::now();
        }
    }
    guard
}

/// Waits (bounded) until exactly `n` thread-per-task threads are alive.
#[track_caller]
pub fn wait_live(n: usize) {
    let until = Instant::now() + Duration::from_secs(10);
    while ThreadPerTask::live_threads() != n {
        assert!(
            Instant::now() < until,
            "live threads: {}, expected {n}",
            ThreadPerTask::live_threads()
        );
        thread::sleep(ms(1));
    }
}

/// Restores the live-thread cap it was made with when dropped, also when the test
/// fails.
pub struct RestoreCap(pub usize);

impl Drop for RestoreCap {
    fn drop(&mut self) {
        ThreadPerTask::set_max_live_threads(self.0);
    }
}
