//! The shared state of one future: the state machine that decides whether a future
//! is ready, timed out or panicked, and the blocking path that waits for it.
//!
//! Everything here is built from proven parts: one [`Mutex`] guards the whole state and
//! one [`Condvar`] carries the wake-ups. Every transition happens under the mutex, so the
//! race between a finishing task and a deadline is decided by the order in which the two
//! sides take the lock (see `docs/design.md`). The resolved fast path never comes here:
//! the reader's handle caches the value in its own `OnceCell`.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use crate::core::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use crate::core::sync::{self, Condvar, Duration, Instant, Mutex, MutexGuard, PoisonError};

use crate::core::job::runnable;
use crate::core::job::{Home, Placement};
use crate::core::panic::TaskPanic;

/// What a task left behind: its value or its panic.
pub(crate) type TaskResult<T> = Result<T, TaskPanic>;

/// The states of a future (the diagram in `docs/design.md`).
enum Slot<T> {
    /// The task has not published yet, and no reader has seen the deadline pass.
    Pending,
    /// The task published its result no later than the deadline (or there is none).
    Done(TaskResult<T>),
    /// The value was moved out to a reader (into the handle's cache, or by value).
    Taken,
    /// The deadline passed before the task published. `late` holds the task's result
    /// if it arrived afterwards and nobody has collected it yet.
    TimedOut { late: Option<TaskResult<T>> },
}

struct Inner<T> {
    slot: Slot<T>,
    /// Readers asleep on the condvar; the task signals only if there are any, so a
    /// future nobody waits on costs no system call to complete.
    sleepers: u32,
    /// Whether a reader has seen the task's panic (or taken the result): a panic
    /// nobody saw is reported to the home's panic handler when the state is dropped.
    observed: bool,
    /// Whether the deadline is on the timer already: a future is scheduled once,
    /// however many watchers come and go (set under this lock, in the padding beside
    /// `observed`, so it costs no space).
    on_timer: bool,
    /// Callbacks to run once the outcome is decided (continuations, combinators,
    /// async wakers). Boxed so that a future nobody watches pays one word, not the
    /// three of a `Vec` (most futures are never watched; see `docs/performance.md`).
    #[allow(clippy::box_collection)]
    watchers: Option<Box<Vec<Watcher>>>,
}

/// A callback run once, on the thread that decides the outcome, after the lock is
/// released. It is told who decided, so that anything it publishes downstream is
/// decided the same way (see [`DecidedBy`]).
pub(crate) type Callback = Box<dyn FnOnce(DecidedBy) + Send>;

struct Watcher {
    id: u64,
    callback: Callback,
    /// Whether the callback runs user code (a continuation's closure) rather than
    /// only forwarding the outcome (a wake-up, a signal, a publish).
    user_code: bool,
}

/// Who decided an outcome, and so where its watchers may run. Passed explicitly from
/// the decision through every forwarding callback to the futures they publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecidedBy {
    /// The task (or user code run for it), on a thread that may run more user code:
    /// every watcher runs here, as continuations promise.
    Task,
    /// A reader or the timer deciding a timeout, or a forwarding callback of such a
    /// decision: forwarding runs here, but user code goes to a new thread, so that
    /// neither a released reader nor the timer thread is held up by a continuation,
    /// and a pool whose workers all wait on the continuation (the input still queued
    /// behind them) cannot starve it.
    Deadline,
    /// A thread reserved for other work (an actor's worker) that published on behalf
    /// of a caller: forwarding runs here, but user code goes to a new thread, as for a
    /// deadline, so that a continuation never holds up (or waits on) that work.
    Reserved,
}

/// Runs callbacks taken from a decided state, outside the lock. Every callback runs
/// even if one panics (a user's `Waker::wake`, a value's `Drop`); the first panic is
/// raised again afterwards, so no wake-up is lost to another's failure.
#[allow(clippy::box_collection)] // the field's type, see `Inner::watchers`
#[inline]
fn fire(watchers: Option<Box<Vec<Watcher>>>, by: DecidedBy) {
    if let Some(watchers) = watchers {
        fire_all(*watchers, by);
    }
}

#[inline(never)]
fn fire_all(watchers: Vec<Watcher>, by: DecidedBy) {
    // Callbacks run code for the crate: a drop in them must not join threads.
    let _crate_code = crate::core::threads::crate_code();
    let mut first_panic = None;
    for w in watchers {
        let callback = w.callback;
        if w.user_code && by != DecidedBy::Task {
            // On a new thread, the callback is free to run user code.
            Home::thread().submit(runnable(Box::new(move || callback(DecidedBy::Task))));
            continue;
        }
        if let Err(payload) = catch_unwind(AssertUnwindSafe(move || callback(by))) {
            first_panic.get_or_insert(payload);
        }
    }
    if let Some(payload) = first_panic {
        resume_unwind(payload);
    }
}

/// Identifies a registered watcher, to remove it.
static NEXT_WATCHER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// When a future's outcome becomes a timeout, and the value a reader sees then.
pub(crate) struct Timeout<T> {
    pub(crate) at: Instant,
    pub(crate) value: fn() -> T,
}

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Waited {
    /// The outcome is decided (value, timeout or panic); a read will not block.
    Resolved,
    /// The caller's own limit passed first; the future is still pending.
    GaveUp,
}

/// [`Core::status`]: not decided yet.
const PENDING: u8 = 0;
/// [`Core::status`]: decided as a value or a timeout.
const DECIDED: u8 = 1;
/// [`Core::status`]: decided as a panic (or a broken promise).
const FAILED: u8 = 2;

/// How long a reader about to sleep on an undecided future first spins (with backoff,
/// yielding the core after the first few rounds) in case the outcome comes at once.
/// Parking and unparking a thread costs tens of microseconds on a virtual machine; a
/// task that finishes within this spin wakes its reader with no system call. A reader
/// blocked on a long task spins this long once per wait: 0.05% of a core over 100 ms.
const SPIN: Duration = Duration::from_micros(50);

/// The earlier of two optional limits (`None`: no limit).
fn earliest<L: Ord>(a: Option<L>, b: Option<L>) -> Option<L> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The state shared by a future's handle and the task that computes it.
pub(crate) struct Core<T> {
    inner: Mutex<Inner<T>>,
    cond: Condvar,
    /// Whether a reader that would wait without a limit may run the task itself (kept
    /// beside the condvar, where it costs no space).
    helpable: bool,
    /// Whether the outcome is decided, and whether as a failure: `PENDING`, `DECIDED`
    /// or `FAILED`. Written under the lock by whoever decides, in the same critical
    /// section as the slot; read without the lock by the queries that only need to
    /// know (and by a spinning reader). Beside `helpable`: it costs no space.
    status: AtomicU8,
    /// Where follow-up work goes ([`Home::to_bits`]): set when the future is made, and
    /// again by a pool when it accepts the task, before the task is queued. An atomic
    /// so that the pool's stamp takes no lock.
    home: AtomicU64,
    /// Boxed: most futures have no deadline, and a smaller state fits a smaller
    /// allocation class (one that glibc's allocator recycles without consolidating).
    timeout: Option<Box<Timeout<T>>>,
}

impl<T> Core<T> {
    pub(crate) fn new(timeout: Option<Timeout<T>>, place: Placement) -> Self {
        Core {
            inner: Mutex::new(Inner {
                slot: Slot::Pending,
                sleepers: 0,
                observed: false,
                on_timer: false,
                watchers: None,
            }),
            cond: Condvar::new(),
            helpable: place.helpable,
            status: AtomicU8::new(PENDING),
            home: AtomicU64::new(place.home.to_bits()),
            timeout: timeout.map(Box::new),
        }
    }

    /// Records that the outcome is now `slot`'s (decided). Call under the lock, right
    /// after the slot changed.
    fn mark_decided(&self, slot: &Slot<T>) {
        let status = match slot {
            Slot::Done(Err(_)) => FAILED,
            Slot::Pending => return,
            _ => DECIDED,
        };
        // ORDERING: Release, so that a reader whose Acquire load sees the outcome
        // decided also sees everything the deciding thread did before (the task's
        // writes, which the lock also orders for the readers that take it).
        self.status.store(status, Ordering::Release);
    }

    /// Whether the outcome is decided, without the lock (a passed deadline is not
    /// decided by this look).
    #[inline]
    fn decided_now(&self) -> bool {
        // ORDERING: Acquire pairs with the Release in `mark_decided`.
        self.status.load(Ordering::Acquire) != PENDING
    }

    /// Whether the outcome is decided as a value or a timeout (not a panic), without
    /// the lock: the caller may then take the value without looking for a panic.
    #[inline]
    pub(crate) fn decided_ok(&self) -> bool {
        // ORDERING: Acquire pairs with the Release in `mark_decided`.
        self.status.load(Ordering::Acquire) == DECIDED
    }

    /// Whether a reader about to wait without any limit may run the task itself: the
    /// executor allows it and the future has no deadline (a reader running the task
    /// could not be released at a deadline).
    pub(crate) fn may_help(&self) -> bool {
        self.helpable && self.timeout.is_none()
    }

    /// Where follow-up work of this future runs.
    pub(crate) fn home(&self) -> Home {
        // ORDERING: Acquire pairs with `adopt`'s Release. (The pool stamps the task
        // before it queues it, which orders it for every thread that can see the
        // future anyway.)
        Home::from_bits(self.home.load(Ordering::Acquire))
    }

    /// Sends follow-up work of this future to `home` from now on.
    pub(crate) fn adopt(&self, home: Home) {
        // ORDERING: Release, see `home`.
        self.home.store(home.to_bits(), Ordering::Release);
    }

    /// Whether no watcher is registered, for the holder of the only reference (no
    /// lock: nobody else can register one).
    pub(crate) fn unwatched(&mut self) -> bool {
        let inner = self.inner.get_mut().unwrap_or_else(PoisonError::into_inner);
        inner.watchers.as_ref().is_none_or(|w| w.is_empty())
    }

    /// Locks the state. No user code ever runs under this lock (values are moved out
    /// before they are dropped), so poisoning cannot carry meaning; it is ignored.
    fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The task's side: publish its result. Called exactly once per task.
    pub(crate) fn publish(&self, result: TaskResult<T>) {
        self.publish_by(result, DecidedBy::Task);
    }

    /// Publishes a result decided by `by`: the task, or a forwarding callback of a
    /// decision (which passes its own `DecidedBy` on).
    ///
    /// The publication instant is the moment this call holds the lock; the result is on
    /// time exactly when that instant is no later than the deadline. A result that comes
    /// late is kept as the late value, never dropped here (and so never under the lock).
    pub(crate) fn publish_by(&self, result: TaskResult<T>, by: DecidedBy) {
        let mut inner = self.lock();
        let on_time = match &self.timeout {
            None => true,
            Some(t) => !sync::passed(t.at, sync::now()),
        };
        match &mut inner.slot {
            Slot::Pending if on_time => inner.slot = Slot::Done(result),
            Slot::Pending => {
                inner.slot = Slot::TimedOut { late: Some(result) };
            }
            Slot::TimedOut { late } => *late = Some(result),
            Slot::Done(_) | Slot::Taken => {
                unreachable!("transparent_future: a task published its result twice")
            }
        }
        self.mark_decided(&inner.slot);
        let wake = inner.sleepers > 0;
        let watchers = inner.watchers.take();
        drop(inner);
        if wake {
            self.cond.notify_all();
        }
        fire(watchers, by);
    }

    /// Publishes a result unless it comes too late: a result on time (or with no
    /// deadline) is published as by [`Core::publish_by`]; a result past the deadline is
    /// handed back (the outcome is then a timeout, decided under the same lock), so that
    /// its owner keeps it instead of the state. For a promise's `set`.
    pub(crate) fn publish_unless_late(
        &self,
        result: TaskResult<T>,
        by: DecidedBy,
    ) -> Result<(), TaskResult<T>> {
        let mut inner = self.lock();
        let on_time = match &self.timeout {
            None => true,
            Some(t) => !sync::passed(t.at, sync::now()),
        };
        let handed_back = match &inner.slot {
            Slot::Pending if on_time => {
                inner.slot = Slot::Done(result);
                None
            }
            Slot::Pending => {
                inner.slot = Slot::TimedOut { late: None };
                Some(result)
            }
            Slot::TimedOut { .. } => Some(result),
            Slot::Done(_) | Slot::Taken => {
                unreachable!("transparent_future: a promise was completed twice")
            }
        };
        self.mark_decided(&inner.slot);
        let wake = inner.sleepers > 0;
        let watchers = inner.watchers.take();
        drop(inner);
        if wake {
            self.cond.notify_all();
        }
        // A late result decided the timeout here: its watchers see a deadline's
        // decision (there are none left if a reader or the timer decided it first).
        let decided = if handed_back.is_some() {
            DecidedBy::Deadline
        } else {
            by
        };
        fire(watchers, decided);
        match handed_back {
            None => Ok(()),
            Some(result) => Err(result),
        }
    }

    /// Decides the timeout if the deadline has passed. Returns whether the outcome
    /// is decided.
    fn settle(&self, inner: &mut Inner<T>, now: impl FnOnce() -> Instant) -> bool {
        match inner.slot {
            Slot::Pending => match &self.timeout {
                Some(t) if sync::passed(t.at, now()) => {
                    inner.slot = Slot::TimedOut { late: None };
                    self.mark_decided(&inner.slot);
                    true
                }
                _ => false,
            },
            _ => true,
        }
    }

    /// Never blocks: whether the outcome is decided. Settles a timeout whose deadline
    /// has passed as a side effect (and runs the watchers then).
    #[inline]
    pub(crate) fn settle_if_due(&self) -> bool {
        if self.decided_now() {
            return true;
        }
        if self.timeout.is_none() {
            // Only a publication decides it, and none is visible yet.
            return false;
        }
        self.settle_locked()
    }

    /// [`Core::settle_if_due`] for a pending future with a deadline.
    fn settle_locked(&self) -> bool {
        let mut inner = self.lock();
        let decided = self.settle(&mut inner, sync::now);
        if decided {
            self.release_decided(inner);
        }
        decided
    }

    /// After a reader found the outcome decided: if that reader decided a timeout,
    /// the watchers are still registered; run them, outside the lock. (Other sleepers
    /// need no signal: each sleeps with a limit no later than the same deadline.)
    fn release_decided(&self, mut inner: MutexGuard<'_, Inner<T>>) {
        let watchers = inner.watchers.take();
        drop(inner);
        fire(watchers, DecidedBy::Deadline);
    }

    /// Registers `callback` to run once the outcome is decided, on the deciding
    /// thread; or gives it back if the outcome is already decided (checked and
    /// registered under one lock, so no decision is missed).
    /// `user_code` marks a callback that runs user code; see [`DecidedBy`].
    pub(crate) fn watch(&self, callback: Callback, user_code: bool) -> Result<u64, Callback> {
        let mut inner = self.lock();
        if self.settle(&mut inner, sync::now) {
            self.release_decided(inner);
            return Err(callback);
        }
        // ORDERING: Relaxed: ids only need to be unique.
        let id = NEXT_WATCHER.fetch_add(1, Ordering::Relaxed);
        inner
            .watchers
            .get_or_insert_with(Box::default)
            .push(Watcher {
                id,
                callback,
                user_code,
            });
        Ok(id)
    }

    /// Removes a watcher that has not run; returns whether it was still registered.
    /// Its callback is dropped outside the lock.
    pub(crate) fn unwatch(&self, id: u64) -> bool {
        let mut inner = self.lock();
        let removed = inner.watchers.as_mut().and_then(|list| {
            let at = list.iter().position(|w| w.id == id)?;
            Some(list.swap_remove(at))
        });
        drop(inner);
        removed.is_some()
    }

    /// The deadline of a future spawned with a timeout policy.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.timeout.as_ref().map(|t| t.at)
    }

    /// The deadline to put on the timer, the first time a watcher needs it: `None` if
    /// there is no deadline, the outcome is decided, or the deadline is on the timer
    /// already. So a future has at most one timer entry, however often it is watched.
    pub(crate) fn claim_timer(&self) -> Option<Instant> {
        let at = self.deadline()?;
        let mut inner = self.lock();
        if inner.on_timer || !matches!(inner.slot, Slot::Pending) {
            return None;
        }
        inner.on_timer = true;
        Some(at)
    }

    /// Blocks until the outcome is decided, or until `until` passes (`None`: no limit):
    /// spins first ([`Core::spin`]), then sleeps ([`Core::park`]).
    pub(crate) fn wait(&self, until: Option<Instant>) -> Waited {
        self.spin(until);
        self.park(until)
    }

    /// Sleeps on the condvar until the outcome is decided, or until `until` passes
    /// (`None`: no limit); for a caller that has spun already.
    ///
    /// A future with a deadline is decided as a timeout by the first reader that holds
    /// the lock after the deadline while the task has not published; that reader is
    /// woken at the deadline by its own timed wait, not by the task.
    pub(crate) fn park(&self, until: Option<Instant>) -> Waited {
        let mut inner = self.lock();
        loop {
            let now = sync::now();
            if self.settle(&mut inner, || now) {
                self.release_decided(inner);
                return Waited::Resolved;
            }
            if until.is_some_and(|u| now >= u) {
                return Waited::GaveUp;
            }
            // Sleep to the caller's limit, or to the first instant past the deadline
            // (where a fresh reading decides the timeout), whichever comes first.
            let limit = until.map(|u| u.saturating_duration_since(now));
            let deadline = self.timeout.as_ref().map(|t| sync::until_past(t.at, now));
            let sleep = earliest(limit, deadline);
            inner.sleepers += 1;
            inner = match sleep {
                None => self
                    .cond
                    .wait(inner)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(dur) => sync::wait_timeout(&self.cond, &self.inner, inner, dur),
            };
            inner.sleepers -= 1;
        }
    }

    /// Spins (with backoff) for up to [`SPIN`], and no later than `until` or the
    /// deadline, while the outcome is undecided: a result that comes within it is seen
    /// without sleeping on the condvar and being woken by the kernel. Returns whether a
    /// publication decided the outcome meanwhile (a passed deadline is left for the
    /// caller's wait to decide, under the lock).
    pub(crate) fn spin(&self, until: Option<Instant>) -> bool {
        let deadline = self.timeout.as_ref().map(|t| t.at);
        let backoff = sync::Backoff::new();
        let start = sync::now();
        let end = earliest(until, deadline).map_or(start + SPIN, |limit| limit.min(start + SPIN));
        if end <= start {
            // A limit already reached: one look, no spin.
            return self.decided_now();
        }
        while !self.decided_now() {
            if backoff.is_completed() {
                // Past the short spin: keep looking, but give the core away between
                // looks (the task may be waiting for it), and stop at the end.
                if sync::now() >= end {
                    return false;
                }
                sync::thread::yield_now();
            } else {
                backoff.snooze();
            }
        }
        true
    }

    /// Moves the decided outcome out for the handle's cache. Call only once the outcome
    /// is decided and known not to be a panic (a panic stays in place, so that every
    /// reader sees it; the caller checks with `panic` first), and at
    /// most once per handle (the handle's `OnceLock` guarantees that).
    pub(crate) fn take_for_cache(&self) -> T {
        let mut inner = self.lock();
        match std::mem::replace(&mut inner.slot, Slot::Taken) {
            Slot::Done(Ok(value)) => value,
            Slot::TimedOut { late } => {
                // The late value, if any, stays with the state (dropped with it).
                inner.slot = Slot::TimedOut { late };
                self.timeout_value()
            }
            Slot::Done(Err(_)) | Slot::Pending | Slot::Taken => {
                unreachable!("transparent_future: cached a panicked, undecided or consumed future")
            }
        }
    }

    /// Moves the decided outcome out by value, panic included (for `join`).
    pub(crate) fn take_result(&self) -> TaskResult<T> {
        let mut inner = self.lock();
        inner.observed = true;
        match std::mem::replace(&mut inner.slot, Slot::Taken) {
            Slot::Done(result) => result,
            Slot::TimedOut { late } => {
                // The late value, if any, stays with the state (dropped with it).
                inner.slot = Slot::TimedOut { late };
                Ok(self.timeout_value())
            }
            Slot::Pending | Slot::Taken => {
                unreachable!("transparent_future: read of an undecided or consumed future")
            }
        }
    }

    /// Whether the task panicked (on time) and the payload is still here. Never blocks.
    #[cfg(test)]
    pub(crate) fn panicked(&self) -> bool {
        self.failure().is_some()
    }

    /// The task's panic (or broken promise), for a look that does not count as reading
    /// it (`Debug`): the unread-panic report still happens. Never blocks.
    pub(crate) fn failure(&self) -> Option<TaskPanic> {
        match &self.lock().slot {
            Slot::Done(Err(panic)) => Some(panic.clone()),
            _ => None,
        }
    }

    /// The task's panic, if it panicked and the panic is still here (nobody took it
    /// with `join`). Never blocks.
    pub(crate) fn panic(&self) -> Option<TaskPanic> {
        let mut inner = self.lock();
        match &inner.slot {
            Slot::Done(Err(panic)) => {
                let panic = panic.clone();
                inner.observed = true;
                Some(panic)
            }
            _ => None,
        }
    }

    /// Takes the result a task published after its deadline, if it has arrived and has
    /// not been taken yet.
    pub(crate) fn take_late(&self) -> Option<TaskResult<T>> {
        let mut inner = self.lock();
        match &mut inner.slot {
            Slot::TimedOut { late } => {
                let late = late.take();
                inner.observed |= late.is_some();
                late
            }
            _ => None,
        }
    }

    fn timeout_value(&self) -> T {
        match &self.timeout {
            Some(t) => (t.value)(),
            None => unreachable!("transparent_future: timed out without a deadline"),
        }
    }
}

impl<T> Drop for Core<T> {
    /// A panic that no reader saw (every handle was dropped without reading it, or it
    /// came late and nobody took it) goes to the home's panic handler, if it has one.
    /// Runs on the thread that drops the last reference, after every lock is released.
    fn drop(&mut self) {
        let inner = self.inner.get_mut().unwrap_or_else(PoisonError::into_inner);
        if inner.observed {
            return;
        }
        let unread = match &inner.slot {
            Slot::Done(Err(panic))
            | Slot::TimedOut {
                late: Some(Err(panic)),
            } => panic.clone(),
            _ => return,
        };
        Home::from_bits(*self.home.get_mut()).unread_panic(unread);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    fn core(deadline: Option<Instant>) -> Core<u32> {
        let timeout = deadline.map(|at| Timeout { at, value: || 0 });
        Core::new(timeout, Placement::thread())
    }

    #[test]
    fn a_result_published_without_a_deadline_is_done_and_cached_once() {
        let c = core(None);
        assert!(!c.settle_if_due());
        assert_eq!(c.wait(Some(Instant::now())), Waited::GaveUp);
        c.publish(Ok(7));
        assert!(c.settle_if_due());
        assert_eq!(c.wait(None), Waited::Resolved);
        assert_eq!(c.take_for_cache(), 7);
        assert!(c.panic().is_none());
    }

    #[test]
    fn a_deadline_passes_before_the_task_publishes_then_the_late_value_is_kept() {
        let c = core(Some(Instant::now()));
        std::thread::sleep(Duration::from_millis(2));
        assert!(c.settle_if_due(), "a passed deadline decides the timeout");
        assert_eq!(c.take_for_cache(), 0, "the timeout value");
        assert!(c.take_late().is_none(), "nothing arrived yet");
        c.publish(Ok(9));
        assert_eq!(c.take_late().map(Result::ok), Some(Some(9)));
        assert!(c.take_late().is_none(), "taken once");
    }

    #[test]
    fn a_result_published_before_the_deadline_is_on_time() {
        let c = core(Some(Instant::now() + Duration::from_secs(60)));
        c.publish(Ok(5));
        assert_eq!(c.wait(None), Waited::Resolved);
        assert_eq!(c.take_result().ok(), Some(5));
    }

    #[test]
    fn a_panic_stays_for_every_reader_until_taken() {
        let c = core(None);
        c.publish(Err(TaskPanic::new(Box::new("boom"))));
        assert!(c.panicked());
        assert_eq!(
            c.panic().map(|p| p.message().to_owned()),
            Some("boom".into())
        );
        assert_eq!(
            c.panic().map(|p| p.message().to_owned()),
            Some("boom".into())
        );
        assert!(c.take_result().is_err());
        assert!(!c.panicked(), "taken");
    }

    #[test]
    fn watchers_run_once_on_the_deciding_thread_and_unwatched_ones_never() {
        let c = core(None);
        let runs = Arc::new(AtomicUsize::new(0));
        let (r1, r2) = (Arc::clone(&runs), Arc::clone(&runs));
        let kept = c.watch(
            Box::new(move |by| {
                assert_eq!(by, DecidedBy::Task);
                r1.fetch_add(1, Ordering::SeqCst);
            }),
            false,
        );
        let removed = c.watch(
            Box::new(move |_| panic!("unwatched: must not run {r2:?}")),
            false,
        );
        assert!(c.unwatch(removed.ok().unwrap()));
        assert!(kept.is_ok());
        c.publish(Ok(1));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // Decided now: a new watcher is handed back to run by its owner.
        assert!(c.watch(Box::new(|_| {}), false).is_err());
    }

    #[test]
    fn a_deadline_goes_on_the_timer_once_and_never_once_decided() {
        let c = core(Some(Instant::now() + Duration::from_secs(3600)));
        let at = c.deadline();
        assert_eq!(
            c.claim_timer(),
            at,
            "the first watcher puts it on the timer"
        );
        assert_eq!(c.claim_timer(), None, "every later one finds it there");
        assert_eq!(core(None).claim_timer(), None, "no deadline, no timer");
        let decided = core(Some(Instant::now() + Duration::from_secs(3600)));
        decided.publish(Ok(1));
        assert_eq!(
            decided.claim_timer(),
            None,
            "decided: nothing for the timer"
        );
    }

    #[test]
    fn a_timeout_decided_by_a_reader_tells_the_watchers_a_deadline_decided() {
        let c = core(Some(Instant::now()));
        let seen = Arc::new(Mutex::new(None));
        let s = Arc::clone(&seen);
        std::thread::sleep(Duration::from_millis(2));
        // Registering settles the passed deadline first and hands the watcher back.
        assert!(
            c.watch(Box::new(move |by| *s.lock().unwrap() = Some(by)), false)
                .is_err()
        );
        let c = core(Some(Instant::now() + Duration::from_millis(20)));
        let s = Arc::clone(&seen);
        assert!(
            c.watch(Box::new(move |by| *s.lock().unwrap() = Some(by)), false)
                .is_ok()
        );
        assert_eq!(c.wait(None), Waited::Resolved, "released at the deadline");
        assert_eq!(*seen.lock().unwrap(), Some(DecidedBy::Deadline));
    }
}
