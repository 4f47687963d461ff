//! [`ThreadPerTask`]: one OS thread per future, under a cap on live threads.

use std::io;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use crate::executor::{Executor, Runnable};

/// Threads started by this executor (and the [`Builder`](crate::Builder)) that have
/// not finished their task yet.
static LIVE: AtomicUsize = AtomicUsize::new(0);
/// The cap on `LIVE`; 0 means "not set yet: derive it from the system".
static CAP: AtomicUsize = AtomicUsize::new(0);
static DEFAULT_CAP: OnceLock<usize> = OnceLock::new();

/// The seed's default strategy: every future gets an OS thread of its own, which ends
/// when the task returns. This is what [`spawn_lazy`](crate::spawn_lazy) uses.
///
/// A thread costs tens of microseconds to start and a stack; that is fine for a few
/// slow calls and wrong for thousands of small ones, where a
/// [`ThreadPool`](crate::ThreadPool) is an order of magnitude faster.
///
/// # The cap on live threads
///
/// An OS refuses threads past its limits, and on Linux the standard library *aborts the
/// process* rather than return an error once the memory-map limit is reached (at about
/// `vm.max_map_count / 4` live threads). So this executor counts the threads it has
/// running and refuses a new one past a cap: the [`Builder`](crate::Builder) returns an [`io::Error`] of kind
/// [`WouldBlock`](io::ErrorKind::WouldBlock), and [`spawn_lazy`](crate::spawn_lazy)
/// panics with a message that names the cap. The default cap is derived from the
/// system's limits on Linux (the smallest of `(vm.max_map_count - 4096) / 5`, half of
/// `kernel.threads-max` and half of the process limit `RLIMIT_NPROC`), and is 10,000
/// elsewhere; change it with [`ThreadPerTask::set_max_live_threads`].
///
/// ```
/// use transparent_future::Builder;
/// use transparent_future::executor::ThreadPerTask;
///
/// let x = Builder::new().on(&ThreadPerTask).spawn(|| 1)?;
/// assert_eq!(*x, 1);
/// assert!(ThreadPerTask::max_live_threads() >= 1);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ThreadPerTask;

impl ThreadPerTask {
    /// The cap on live threads started by thread-per-task futures.
    ///
    /// ```
    /// let cap = transparent_future::executor::ThreadPerTask::max_live_threads();
    /// assert!(cap > 0);
    /// ```
    pub fn max_live_threads() -> usize {
        // ORDERING: Relaxed: the cap is a standalone number, no other data hangs on it.
        match CAP.load(Ordering::Relaxed) {
            0 => *DEFAULT_CAP.get_or_init(default_cap),
            cap => cap,
        }
    }

    /// Sets the cap on live threads started by thread-per-task futures, for the whole
    /// process. Threads already running are not affected; new ones are refused while
    /// the count is at or above the cap.
    ///
    /// # Panics
    ///
    /// If `cap` is zero.
    ///
    /// ```
    /// use transparent_future::executor::ThreadPerTask;
    /// let old = ThreadPerTask::max_live_threads();
    /// ThreadPerTask::set_max_live_threads(old);
    /// assert_eq!(ThreadPerTask::max_live_threads(), old);
    /// ```
    pub fn set_max_live_threads(cap: usize) {
        assert!(
            cap > 0,
            "ThreadPerTask::set_max_live_threads: the cap must be at least 1"
        );
        // ORDERING: Relaxed, as in `max_live_threads`.
        CAP.store(cap, Ordering::Relaxed);
    }

    /// How many thread-per-task threads are running a task right now.
    ///
    /// ```
    /// use transparent_future::executor::ThreadPerTask;
    /// let _ = ThreadPerTask::live_threads(); // a snapshot; other threads may change it
    /// ```
    pub fn live_threads() -> usize {
        // ORDERING: Relaxed: a statistic.
        LIVE.load(Ordering::Relaxed)
    }
}

impl Executor for ThreadPerTask {
    /// Starts a thread for `task`, named and sized as the task asks
    /// ([`Runnable::name`], [`Runnable::stack_size`]).
    fn execute(&self, task: Runnable) -> io::Result<()> {
        let mut builder = thread::Builder::new();
        if let Some(name) = task.name() {
            builder = builder.name(name.to_owned());
        }
        if let Some(bytes) = task.stack_size() {
            builder = builder.stack_size(bytes);
        }
        start(builder, task)
    }

    /// `false`: the task has a thread of its own, which will run it.
    fn allows_helping(&self) -> bool {
        false
    }
}

/// Starts `task` on a thread made by `builder`, within the cap.
pub(crate) fn start(builder: thread::Builder, task: Runnable) -> io::Result<()> {
    let slot = Slot::reserve()?;
    builder
        .spawn(move || {
            let _slot = slot; // released when the task is done, even if a drop panics
            task.run();
        })
        .map(drop)
}

/// Starts `f` on a scoped thread of `scope`, within the same cap.
pub(crate) fn start_scoped<'scope, 'env, F>(
    builder: thread::Builder,
    scope: &'scope thread::Scope<'scope, 'env>,
    f: F,
) -> io::Result<()>
where
    F: FnOnce() + Send + 'scope,
{
    let slot = Slot::reserve()?;
    builder
        .spawn_scoped(scope, move || {
            let _slot = slot;
            f();
        })
        .map(drop)
}

/// One reserved place under the cap, released on drop.
struct Slot;

impl Slot {
    fn reserve() -> io::Result<Slot> {
        let cap = ThreadPerTask::max_live_threads();
        // ORDERING: Relaxed suffices: the counter guards no data, only the number of
        // threads; the read-modify-write is atomic, so the cap is never exceeded.
        let reserved = LIVE.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |live| {
            (live < cap).then_some(live + 1)
        });
        match reserved {
            Ok(_) => Ok(Slot),
            Err(live) => Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                format!(
                    "transparent_future: {live} thread-per-task threads are running, the cap \
                     is {cap}; use a ThreadPool for many tasks, or raise the cap with \
                     ThreadPerTask::set_max_live_threads"
                ),
            )),
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        // ORDERING: Relaxed, as in `reserve`.
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The default cap, from the system's limits (see the type's docs).
fn default_cap() -> usize {
    fn read(path: &str) -> Option<usize> {
        std::fs::read_to_string(path).ok()?.trim().parse().ok()
    }
    fn nproc_limit() -> Option<usize> {
        let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
        let line = limits.lines().find(|l| l.starts_with("Max processes"))?;
        line.split_whitespace().nth(2)?.parse().ok()
    }
    let limits = [
        read("/proc/sys/vm/max_map_count").map(|m| m.saturating_sub(4096) / 5),
        read("/proc/sys/kernel/threads-max").map(|t| t / 2),
        nproc_limit().map(|n| n / 2),
    ];
    limits.into_iter().flatten().min().unwrap_or(10_000).max(1)
}
