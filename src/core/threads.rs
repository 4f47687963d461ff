//! Starting threads under the crate's cap on live threads: the mechanism behind thread
//! per task, scoped tasks, follow-up work with no pool, and the pool's size check.
//! Also the reaper, which joins finished threads so that a place under the cap is
//! given back only once its thread is gone, and joins a pool's workers for a drop
//! that may not block; and the mark of code the crate runs for someone, where no
//! drop may join threads.

use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::io;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::core::sync::thread::{self, JoinHandle, ScopedJoinHandle};
use crate::core::sync::{self, Condvar, Mutex, MutexGuard, PoisonError};
use crate::deadlock;

/// Threads started here (thread per task, scoped tasks, follow-up work) that have not
/// exited yet: a place is given back by the reaper, after it has joined the thread.
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

/// How many threads started here are alive: started, and not yet exited (joined by
/// the reaper).
pub(crate) fn live_threads() -> usize {
    // ORDERING: Relaxed: a statistic.
    LIVE.load(Ordering::Relaxed)
}

/// Starts `f` on a thread made by `builder`, within the cap. The thread's place is
/// given back once the thread has exited: the reaper holds its handle and its place,
/// and joins it when the thread says it is done.
pub(crate) fn start<F>(builder: thread::Builder, f: F) -> io::Result<()>
where
    F: FnOnce() + Send + 'static,
{
    let slot = Slot::reserve()?;
    let id = next_id();
    let handle = builder.spawn(move || {
        mark_crate_thread();
        // Runs when the work is done, even if a drop panics.
        let _exit = Finally(Some(move || {
            if REAPER.finished(id) {
                start_reaper();
            }
        }));
        f();
    })?;
    if REAPER.started(id, handle, slot) {
        start_reaper();
    }
    Ok(())
}

/// Starts `f` on a scoped thread of `scope`, within the same cap. Its place is given
/// back once the thread has exited, by `reaper`: a reaper of the scope's own, since a
/// scoped thread's handle cannot leave the scope.
pub(crate) fn start_scoped<'scope, 'env, F>(
    builder: thread::Builder,
    scope: &'scope thread::Scope<'scope, 'env>,
    reaper: &Arc<ScopedReaper<'scope>>,
    f: F,
) -> io::Result<()>
where
    F: FnOnce() + Send + 'scope,
{
    let slot = Slot::reserve()?;
    let id = next_id();
    let theirs = Arc::clone(reaper);
    let handle = builder.spawn_scoped(scope, move || {
        mark_crate_thread();
        let _exit = Finally(Some(move || {
            if theirs.finished(id) {
                start_scoped_reaper(scope, &theirs);
            }
        }));
        f();
    })?;
    if reaper.started(id, handle, slot) {
        start_scoped_reaper(scope, reaper);
    }
    Ok(())
}

/// A new id for a thread started under the cap.
fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    // ORDERING: Relaxed: ids only need to be unique.
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Runs its closure when dropped.
struct Finally<F: FnOnce()>(Option<F>);

impl<F: FnOnce()> Drop for Finally<F> {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}

/// A thread that can be joined.
pub(crate) trait Join: Send {
    /// Waits for the thread to exit. Its panic, if any, was reported by the panic
    /// hook, and the crate's threads have nobody to report it to.
    fn join_thread(self);
}

impl Join for JoinHandle<()> {
    fn join_thread(self) {
        let _ = self.join();
    }
}

impl Join for ScopedJoinHandle<'_, ()> {
    fn join_thread(self) {
        let _ = self.join();
    }
}

/// Joins threads that have finished their work (they are exiting), then gives back
/// their places under the cap. Its thread starts on demand and exits once it has been
/// idle for its linger time.
///
/// A capped thread's spawner registers its handle and place here ([`Reaper::started`])
/// and the thread says when its work is done ([`Reaper::finished`]); whichever comes
/// second queues the thread to be joined. Nothing is allocated per thread (the lists
/// grow, then are reused).
pub(crate) struct Reaper<H> {
    state: Mutex<Reaping<H>>,
    more: Condvar,
}

struct Reaping<H> {
    /// Threads registered by their spawner and still at work, by id: handle, place.
    /// Made on first use (`HashMap::new` is not `const`); found by id at each
    /// thread's end, with thousands at work at once.
    working: Option<HashMap<u64, (H, Slot)>>,
    /// Threads whose work ended before their spawner registered them.
    early: Vec<u64>,
    /// Threads to join, and their places (none for a pool's workers).
    queue: VecDeque<(H, Option<Slot>)>,
    /// Whether a reaper thread is running (it exits, and clears this, under the lock).
    reaping: bool,
}

/// The reaper of one scope's threads.
pub(crate) type ScopedReaper<'scope> = Reaper<ScopedJoinHandle<'scope, ()>>;

/// The process's reaper, for threads that are not scoped.
static REAPER: Reaper<JoinHandle<()>> = Reaper::new();

/// How long the process's reaper thread waits for more work before it exits. A
/// scope's reaper does not wait: the scope would wait for it.
const LINGER: Duration = Duration::from_millis(500);

/// The reaper thread's name.
const REAPER_NAME: &str = "transparent-future-reaper";

impl<H: Join> Reaper<H> {
    pub(crate) const fn new() -> Self {
        Reaper {
            state: Mutex::new(Reaping {
                working: None,
                early: Vec::new(),
                queue: VecDeque::new(),
                reaping: false,
            }),
            more: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Reaping<H>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Locks the state, with room in every list from the first thread on, whichever of
    /// its two sides comes first: later threads then allocate nothing here.
    fn lock_prepared(&self) -> MutexGuard<'_, Reaping<H>> {
        let mut state = self.lock();
        if state.working.is_none() {
            state.working = Some(HashMap::with_capacity(8));
            state.early.reserve(8);
            state.queue.reserve(8);
        }
        state
    }

    /// The spawner's side: thread `id` started. Returns whether a reaper thread must be
    /// started.
    fn started(&self, id: u64, handle: H, slot: Slot) -> bool {
        let mut state = self.lock_prepared();
        if let Some(at) = state.early.iter().position(|&e| e == id) {
            state.early.swap_remove(at);
            return self.queue(state, handle, Some(slot));
        }
        if let Some(working) = &mut state.working {
            working.insert(id, (handle, slot));
        }
        false
    }

    /// The thread's side, at the end of its work. Returns whether a reaper thread must
    /// be started.
    fn finished(&self, id: u64) -> bool {
        // Queued threads have left their work and are exiting: join the two oldest
        // here, at the end of this thread, so that joins keep pace with the threads
        // that end, even when thousands end at once and the reaper thread gets the
        // CPU only now and then. No cycle: a thread is queued only after its own joins.
        for _ in 0..2 {
            let oldest = self.lock().queue.pop_front();
            let Some((handle, slot)) = oldest else {
                break;
            };
            handle.join_thread();
            drop(slot);
        }
        let mut state = self.lock_prepared();
        match state
            .working
            .as_mut()
            .and_then(|working| working.remove(&id))
        {
            Some((handle, slot)) => self.queue(state, handle, Some(slot)),
            None => {
                state.early.push(id);
                false
            }
        }
    }

    /// Queues a thread to join; returns whether a reaper thread must be started.
    fn queue(&self, mut state: MutexGuard<'_, Reaping<H>>, handle: H, slot: Option<Slot>) -> bool {
        state.queue.push_back((handle, slot));
        if state.reaping {
            drop(state);
            self.more.notify_one();
            false
        } else {
            state.reaping = true;
            true
        }
    }

    /// No reaper thread could be started: give up joining what is queued (the
    /// threads are detached) and give their places back.
    fn give_up(&self) {
        let mut state = self.lock();
        state.reaping = false;
        let queue = std::mem::take(&mut state.queue);
        drop(state);
        drop(queue);
    }

    /// The reaper thread: joins what is queued, in order, until idle for `linger`.
    fn run(&self, linger: Duration) {
        mark_crate_thread();
        let mut state = self.lock();
        // Idle until this instant (the facade's clock, so that a model sees it move).
        let mut idle_until = sync::now() + linger;
        loop {
            if let Some((handle, slot)) = state.queue.pop_front() {
                drop(state);
                handle.join_thread();
                drop(slot);
                state = self.lock();
                idle_until = sync::now() + linger;
                continue;
            }
            let now = sync::now();
            if linger.is_zero() || now >= idle_until {
                break;
            }
            state = sync::wait_timeout(&self.more, &self.state, state, idle_until - now);
        }
        state.reaping = false;
    }
}

/// Has the process's reaper join `handle`, a thread that has left its work (a pool's
/// worker).
pub(crate) fn reap(handle: JoinHandle<()>) {
    let state = REAPER.lock();
    if REAPER.queue(state, handle, None) {
        start_reaper();
    }
}

/// Starts the process's reaper thread (the caller set `reaping`).
fn start_reaper() {
    let started = thread::Builder::new()
        .name(REAPER_NAME.into())
        .spawn(|| REAPER.run(LINGER));
    if started.is_err() {
        REAPER.give_up();
    }
}

/// Starts `reaper`'s thread in `scope` (the caller set `reaping`).
fn start_scoped_reaper<'scope>(
    scope: &'scope thread::Scope<'scope, '_>,
    reaper: &Arc<ScopedReaper<'scope>>,
) {
    let ours = Arc::clone(reaper);
    let started = thread::Builder::new()
        .name(REAPER_NAME.into())
        .spawn_scoped(scope, move || ours.run(Duration::ZERO));
    if started.is_err() {
        reaper.give_up();
    }
}

thread_local! {
    /// How deep this thread is in code the crate runs for someone (a task's run, a
    /// watcher, a panic handler), plus one for good on a thread the crate started.
    /// No destructor: readable during thread-local teardown too.
    static CRATE_CODE: Cell<u32> = const { Cell::new(0) };
}

/// Marks this thread, for its whole life, as one the crate started (a worker, a
/// thread-per-task thread, the timer, the reaper).
pub(crate) fn mark_crate_thread() {
    CRATE_CODE.with(|depth| depth.set(depth.get().saturating_add(1)));
}

/// Marks this thread as running code for the crate until the guard is dropped.
pub(crate) fn crate_code() -> CrateCode {
    CRATE_CODE.with(|depth| depth.set(depth.get().saturating_add(1)));
    CrateCode(())
}

/// See [`crate_code`].
pub(crate) struct CrateCode(());

impl Drop for CrateCode {
    fn drop(&mut self) {
        CRATE_CODE.with(|depth| depth.set(depth.get().saturating_sub(1)));
    }
}

/// Whether a drop may block here joining threads: not on a thread the crate started,
/// nor inside a task, a callback or a panic handler the crate runs (a thread waiting
/// on that code could be one of those joined). Safe during thread-local teardown.
pub(crate) fn may_join_here() -> bool {
    CRATE_CODE.with(Cell::get) == 0 && !deadlock::in_task()
}

/// One reserved place under the cap, released on drop.
pub(crate) struct Slot;

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
