//! Starting threads under the crate's cap on live threads: the mechanism behind thread
//! per task, scoped tasks, follow-up work with no pool, and the pool's size check.

use std::io;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::core::sync::thread;

/// Threads started here (thread per task, scoped tasks, follow-up work) that have not
/// finished their work yet.
static LIVE: AtomicUsize = AtomicUsize::new(0);
/// The cap on `LIVE`; 0 means "not set yet: derive it from the system".
static CAP: AtomicUsize = AtomicUsize::new(0);
static DEFAULT_CAP: OnceLock<usize> = OnceLock::new();

/// The cap on live threads.
pub(crate) fn max_live_threads() -> usize {
    // ORDERING: Relaxed: the cap is a standalone number, no other data hangs on it.
    match CAP.load(Ordering::Relaxed) {
        0 => *DEFAULT_CAP.get_or_init(default_cap),
        cap => cap,
    }
}

/// Sets the cap on live threads (at least 1; the caller checks).
pub(crate) fn set_max_live_threads(cap: usize) {
    // ORDERING: Relaxed, as in `max_live_threads`.
    CAP.store(cap, Ordering::Relaxed);
}

/// How many threads started here are running their work right now.
pub(crate) fn live_threads() -> usize {
    // ORDERING: Relaxed: a statistic.
    LIVE.load(Ordering::Relaxed)
}

/// Starts `f` on a thread made by `builder`, within the cap.
pub(crate) fn start<F>(builder: thread::Builder, f: F) -> io::Result<()>
where
    F: FnOnce() + Send + 'static,
{
    let slot = Slot::reserve()?;
    builder
        .spawn(move || {
            let _slot = slot; // released when the work is done, even if a drop panics
            f();
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
        let cap = max_live_threads();
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
