//! Many futures at once: `Lazy::all`, `Lazy::all_settled`, `first_done` and
//! `as_completed` (with or without a deadline for the whole iteration).
//!
//! None of these polls or parks a thread per future: each registers a callback on
//! every future it waits for, and a callback wakes one shared waiter.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use crate::core::nudge::{self, Wake};
use crate::core::state::{Core, DecidedBy, TaskResult, Timeout};
use crate::core::task::Publisher;
use crate::lazy::error::WaitError;
use crate::lazy::outcome::Outcome;
use crate::lazy::policy::TimeoutPolicy;
use crate::lazy::{Lazy, source::IfDecided};

/// What `all` has gathered so far.
struct Gather<T: Send + 'static, V: Send + 'static> {
    values: Vec<Option<T>>,
    left: usize,
    out: Option<Publisher<V>>,
    wrap: fn(Vec<T>) -> V,
}

impl<T: Send + 'static, V: Send + 'static> Gather<T, V> {
    /// Records input `i`'s result; publishes once all are in, or at the first panic.
    fn record(this: &Mutex<Self>, i: usize, result: TaskResult<T>, by: DecidedBy) {
        let mut g = this.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(out) = g.out.take() else {
            return; // already published (an earlier panic): this value is dropped
        };
        match result {
            Err(panic) => {
                drop(g);
                out.publish(Err(panic), by);
            }
            Ok(value) => {
                g.values[i] = Some(value);
                g.left -= 1;
                if g.left > 0 {
                    g.out = Some(out);
                    drop(g);
                    // A reader that would not help while this input ran may now run
                    // the inputs still queued: wake it (`core::nudge`).
                    nudge::ring();
                    return;
                }
                let values = std::mem::take(&mut g.values)
                    .into_iter()
                    .flatten()
                    .collect();
                let wrap = g.wrap;
                drop(g);
                out.publish(Ok(wrap(values)), by);
            }
        }
    }
}

/// Gathers every input's value, in order, into one future. `settle` turns an input's
/// result into what is gathered: the identity stops at the first panic (`all`); a
/// function that never fails waits for every input (`all_settled`).
fn gather<T, S, V>(
    inputs: Vec<Lazy<T>>,
    out: Publisher<V>,
    wrap: fn(Vec<S>) -> V,
    settle: fn(TaskResult<T>) -> TaskResult<S>,
) where
    T: Send + 'static,
    S: Send + 'static,
    V: Send + 'static,
{
    let n = inputs.len();
    out.needs(inputs.iter().filter_map(Lazy::node).collect());
    if n == 0 {
        out.publish(Ok(wrap(Vec::new())), DecidedBy::Task);
        return;
    }
    let gathered = Arc::new(Mutex::new(Gather {
        values: (0..n).map(|_| None).collect(),
        left: n,
        out: Some(out),
        wrap,
    }));
    for (i, input) in inputs.into_iter().enumerate() {
        let gathered = Arc::clone(&gathered);
        // Gathering runs here or on the deciding thread: nothing is queued.
        let _ = Lazy::when_done(
            input,
            move |r, by| Gather::record(&gathered, i, settle(r), by),
            IfDecided::RunHere,
        );
    }
}

impl<T: Send + 'static> Lazy<T> {
    /// A future of every input's value, in the inputs' order. It resolves when the last
    /// input does, or panics as soon as one input panics (with that input's payload;
    /// the other values are dropped when they arrive). No thread waits in between.
    ///
    /// ```
    /// use transparent_future::{spawn_lazy, Lazy};
    ///
    /// let parts = (1..=4).map(|i| spawn_lazy(move || i * 10));
    /// let all = Lazy::all(parts);
    /// assert_eq!(*all, [10, 20, 30, 40]);
    /// ```
    pub fn all<I>(futures: I) -> Lazy<Vec<T>>
    where
        I: IntoIterator<Item = Lazy<T>>,
    {
        let inputs: Vec<Lazy<T>> = futures.into_iter().collect();
        let home = inputs.first().map(Lazy::home).unwrap_or_default();
        let (source, out) = Publisher::new(Core::new(None, home.follower()), "all");
        gather(inputs, out, |v| v, |r| r);
        Lazy::from_source(source)
    }

    /// A future of how every input ended, in the inputs' order, once the last one has
    /// (JavaScript's `Promise.allSettled`, Python's `wait(return_when=ALL_COMPLETED)`,
    /// Java's `allOf`): `Ok(value)`, or `Err` with [`WaitError::Panicked`] or
    /// [`WaitError::Broken`]. A failure does not end the wait early, and never makes
    /// this future panic. For a deadline over the whole group, wrap it in
    /// [`Lazy::timeout`].
    ///
    /// ```
    /// use transparent_future::{spawn_lazy, Lazy, WaitError};
    ///
    /// let jobs = vec![
    ///     spawn_lazy(|| 1),
    ///     spawn_lazy(|| -> i32 { panic!("job 2 failed") }),
    ///     spawn_lazy(|| 3),
    /// ];
    /// let report = Lazy::all_settled(jobs);
    /// assert_eq!(report[0], Ok(1));
    /// assert!(matches!(&report[1], Err(WaitError::Panicked(p)) if p.message() == "job 2 failed"));
    /// assert_eq!(report[2], Ok(3));
    /// ```
    pub fn all_settled<I>(futures: I) -> Lazy<Vec<Result<T, WaitError>>>
    where
        I: IntoIterator<Item = Lazy<T>>,
    {
        let inputs: Vec<Lazy<T>> = futures.into_iter().collect();
        let home = inputs.first().map(Lazy::home).unwrap_or_default();
        let (source, out) = Publisher::new(Core::new(None, home.follower()), "all_settled");
        gather(
            inputs,
            out,
            |v| v,
            |r| Ok(r.map_err(WaitError::from_failure)),
        );
        Lazy::from_source(source)
    }

    /// Like [`Lazy::all`], under one deadline for the whole group, measured from now:
    /// `Outcome::Ready` with every value if all arrived by the deadline,
    /// `Outcome::Timeout` otherwise (readers are released at the deadline).
    ///
    /// ```
    /// use std::time::Duration;
    /// use transparent_future::{spawn_lazy, Deadline, Lazy, Outcome};
    ///
    /// let quick = Lazy::all_with(Deadline::after(Duration::from_secs(30)), [spawn_lazy(|| 1), spawn_lazy(|| 2)]);
    /// assert_eq!(*quick, Outcome::Ready(vec![1, 2]));
    ///
    /// let slow = spawn_lazy(|| { std::thread::sleep(Duration::from_millis(300)); 3 });
    /// let late = Lazy::all_with(Deadline::after(Duration::from_millis(10)), [spawn_lazy(|| 1), slow]);
    /// assert_eq!(*late, Outcome::Timeout);
    /// ```
    pub fn all_with<P, I>(policy: P, futures: I) -> Lazy<Outcome<Vec<T>>>
    where
        P: TimeoutPolicy,
        I: IntoIterator<Item = Lazy<T>>,
    {
        let deadline = policy.deadline(Instant::now());
        let inputs: Vec<Lazy<T>> = futures.into_iter().collect();
        let home = inputs.first().map(Lazy::home).unwrap_or_default();
        let timeout = Timeout::outcome(deadline);
        let (source, out) = Publisher::new(Core::new(timeout, home.follower()), "all_with");
        gather(inputs, out, Outcome::Ready, |r| r);
        Lazy::from_source(source)
    }
}

/// What the waiter of [`first_decided`] learns: the first input decided, and whether
/// work joined an input's graph (a ring of `core::nudge`) since it last helped.
#[derive(Default)]
struct Found {
    first: Option<usize>,
    nudged: bool,
}

/// The waiter of [`first_decided`]: the inputs' watchers and relinks wake it.
#[derive(Default)]
struct FirstWaiter {
    found: Mutex<Found>,
    cond: Condvar,
}

impl Wake for FirstWaiter {
    fn wake(&self) {
        self.found
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .nudged = true;
        self.cond.notify_all();
    }
}

/// The index of the first future whose outcome is decided, or `None` if `until`
/// passes first. Without any limit, helps (runs queued work of an input here) rather
/// than sleep, and again whenever work joins an input's graph.
fn first_decided<T: Send + 'static>(futures: &[Lazy<T>], until: Option<Instant>) -> Option<usize> {
    if let Some(i) = futures.iter().position(Lazy::is_done) {
        return Some(i);
    }
    let waiter = Arc::new(FirstWaiter::default());
    let mut ids = Vec::with_capacity(futures.len());
    for (i, future) in futures.iter().enumerate() {
        let w = Arc::clone(&waiter);
        let signal = move |_| {
            let mut found = w.found.lock().unwrap_or_else(PoisonError::into_inner);
            found.first.get_or_insert(i);
            w.cond.notify_all();
        };
        match Lazy::watch(future, Box::new(signal)) {
            Ok(id) => ids.push((i, id)),
            Err(signal) => {
                signal(DecidedBy::Task);
                break;
            }
        }
    }
    // Wake at the caller's limit, or at the earliest deadline among the futures (a
    // timeout is decided by whoever looks, so look then).
    let earliest = futures.iter().filter_map(Lazy::deadline).min();
    let helping = until.is_none() && earliest.is_none();
    // Registered before the first look for work, so that no relink is missed.
    let _registered = helping.then(|| nudge::register(waiter.clone()));
    let (lock, cond) = (&waiter.found, &waiter.cond);
    let mut found = lock.lock().unwrap_or_else(PoisonError::into_inner);
    let result = loop {
        if let Some(i) = found.first {
            break Some(i);
        }
        if helping {
            // Work-helping: run queued work of an input here, unless one of them is
            // running (it will decide this wait). The watchers, registered first,
            // still record which input finished first.
            found.nudged = false;
            drop(found);
            let helped = help_pending(futures);
            found = lock.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(i) = found.first {
                break Some(i);
            }
            if helped || found.nudged {
                continue;
            }
        }
        let now = Instant::now();
        if until.is_some_and(|u| now >= u) {
            break None;
        }
        if earliest.is_some_and(|e| e <= now) {
            // A deadline has passed: looking decides it (outside our lock: the
            // watchers take it), and the watchers then signal. A deadline equal to
            // `now` is decided a moment later (strictly after), so loop, never sleep
            // without a limit past a deadline.
            drop(found);
            let decided = futures.iter().position(Lazy::is_done);
            found = lock.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(i) = decided {
                break Some(found.first.unwrap_or(i));
            }
            continue;
        }
        let wake = [until, earliest].into_iter().flatten().min();
        let Some(at) = wake else {
            found = cond.wait(found).unwrap_or_else(PoisonError::into_inner);
            continue;
        };
        found = cond
            .wait_timeout(found, at.saturating_duration_since(now))
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    };
    drop(found);
    for (i, id) in ids {
        Lazy::unwatch(&futures[i], id);
    }
    result
}

/// Unless a pending future is running (it will be decided without this thread, and
/// that ends the wait), runs queued work of the pending futures on this thread
/// (work-helping), trying each in turn until one ran something; returns whether one
/// did (`false` if nothing could be run here, so the caller sleeps instead of
/// spinning).
fn help_pending<'a, T, I>(futures: I) -> bool
where
    T: Send + 'static,
    I: IntoIterator<Item = &'a Lazy<T>> + Clone,
{
    let pending = || futures.clone().into_iter().filter(|f| !Lazy::is_done(f));
    if pending().any(Lazy::running) {
        return false;
    }
    pending().any(Lazy::help)
}

/// Blocks until the first of `futures` is done and returns its index and value.
///
/// A future is done once its outcome is decided: its value is there, its deadline has
/// passed (the value is then `Outcome::Timeout`), or it panicked (then reading it
/// panics, as any access would). No thread per future and no polling: each future gets
/// a callback that wakes this one waiter.
///
/// # Panics
///
/// If `futures` is empty (no future could ever be first: the same rule for every
/// `first_done` form), or the first future done panicked.
///
/// ```
/// use std::time::Duration;
/// use transparent_future::{first_done, spawn_lazy};
///
/// let mirrors = [
///     spawn_lazy(|| { std::thread::sleep(Duration::from_millis(500)); "slow mirror" }),
///     spawn_lazy(|| { std::thread::sleep(Duration::from_millis(10)); "fast mirror" }),
/// ];
/// let (i, winner) = first_done(&mirrors);
/// assert_eq!((i, *winner), (1, "fast mirror"));
/// ```
#[track_caller]
pub fn first_done<T: Send + 'static>(futures: &[Lazy<T>]) -> (usize, &T) {
    refuse_empty(futures, "first_done");
    match first_decided(futures, None) {
        Some(i) => (i, Lazy::wait(&futures[i])),
        None => unreachable!("transparent_future: an unlimited wait gave up"),
    }
}

/// Like [`first_done`], but gives up after `timeout`: `None` if no future is done by
/// then (the futures stay pending). A timeout too large to represent waits as long as
/// [`first_done`].
///
/// # Panics
///
/// If `futures` is empty, or the first future done panicked.
///
/// ```
/// use std::time::Duration;
/// use transparent_future::{first_done_timeout, spawn_lazy};
///
/// let futures = [spawn_lazy(|| 5)];
/// assert_eq!(first_done_timeout(&futures, Duration::from_secs(30)), Some((0, &5)));
/// let slow = [spawn_lazy(|| { std::thread::sleep(Duration::from_millis(300)); 1 })];
/// assert_eq!(first_done_timeout(&slow, Duration::from_millis(10)), None);
/// ```
#[track_caller]
pub fn first_done_timeout<T: Send + 'static>(
    futures: &[Lazy<T>],
    timeout: Duration,
) -> Option<(usize, &T)> {
    refuse_empty(futures, "first_done_timeout");
    match Instant::now().checked_add(timeout) {
        Some(deadline) => first_done_deadline(futures, deadline),
        None => Some(first_done(futures)),
    }
}

/// Like [`first_done`], but gives up at `deadline`: `None` if no future is done by
/// then (the futures stay pending).
///
/// # Panics
///
/// If `futures` is empty, or the first future done panicked.
///
/// ```
/// use std::time::{Duration, Instant};
/// use transparent_future::{first_done_deadline, spawn_lazy};
///
/// let slow = [spawn_lazy(|| { std::thread::sleep(Duration::from_millis(300)); 1 })];
/// let soon = Instant::now() + Duration::from_millis(10);
/// assert_eq!(first_done_deadline(&slow, soon), None);
/// ```
#[track_caller]
pub fn first_done_deadline<T: Send + 'static>(
    futures: &[Lazy<T>],
    deadline: Instant,
) -> Option<(usize, &T)> {
    refuse_empty(futures, "first_done_deadline");
    first_decided(futures, Some(deadline)).map(|i| (i, Lazy::wait(&futures[i])))
}

#[track_caller]
fn refuse_empty<T>(futures: &[T], name: &str) {
    assert!(
        !futures.is_empty(),
        "{name}: no futures to wait for (an empty slice has no first future done)"
    );
}

/// Yields futures as they complete, as Python's `concurrent.futures.as_completed`
/// does: each item is `(index, future)` with the future's outcome decided, so reading
/// it does not block (it panics if the task panicked).
///
/// For a deadline over the whole iteration (Python's `as_completed(timeout=)`), call
/// [`AsCompleted::deadline`] or [`AsCompleted::timeout`] on it.
///
/// ```
/// use std::time::Duration;
/// use transparent_future::{as_completed, spawn_lazy};
///
/// let futures = [300, 10, 150].map(|ms| spawn_lazy(move || {
///     std::thread::sleep(Duration::from_millis(ms));
///     ms
/// }));
/// let order: Vec<u64> = as_completed(futures).map(|(_, f)| *f).collect();
/// assert_eq!(order, [10, 150, 300]);
/// ```
pub fn as_completed<T, I>(futures: I) -> AsCompleted<T>
where
    T: Send + 'static,
    I: IntoIterator<Item = Lazy<T>>,
{
    let (tx, rx) = crossbeam_channel::unbounded();
    let futures: Vec<Option<Lazy<T>>> = futures.into_iter().map(Some).collect();
    for (i, future) in futures.iter().enumerate() {
        if let Some(future) = future {
            let tx: Sender<usize> = tx.clone();
            let signal = move |_| {
                let _ = tx.send(i); // the iterator may be gone: nobody to tell
            };
            if let Err(signal) = Lazy::watch(future, Box::new(signal)) {
                signal(DecidedBy::Task);
            }
        }
    }
    AsCompleted {
        left: futures.len(),
        futures,
        done: rx,
        nudge: tx,
    }
}

/// The iterator of [`as_completed`].
///
/// ```
/// use transparent_future::{as_completed, spawn_lazy, AsCompleted};
///
/// let it: AsCompleted<i32> = as_completed([spawn_lazy(|| 1)]);
/// assert_eq!(it.len(), 1);
/// ```
pub struct AsCompleted<T: Send + 'static> {
    futures: Vec<Option<Lazy<T>>>,
    left: usize,
    done: Receiver<usize>,
    /// Another end of the same channel: a relink (`core::nudge`) sends [`NUDGED`], so
    /// that an iteration asleep without a limit helps again.
    nudge: Sender<usize>,
}

/// What a nudge sends on the channel of `as_completed`: no future's index.
const NUDGED: usize = usize::MAX;

/// Wakes an `as_completed` step asleep on its channel.
struct ChannelNudge(Sender<usize>);

impl Wake for ChannelNudge {
    fn wake(&self) {
        let _ = self.0.send(NUDGED);
    }
}

/// What one step of an iteration found.
enum Step<T: Send + 'static> {
    /// The next future done.
    Done((usize, Lazy<T>)),
    /// Every future was yielded.
    Exhausted,
    /// The iteration's own deadline passed first.
    TimedOut,
}

impl<T: Send + 'static> AsCompleted<T> {
    /// Ends the iteration at `deadline`: the iterator yields futures in completion
    /// order as they are done, and stops when it would have to wait past the deadline
    /// (Python's `as_completed(timeout=)`, which raises `TimeoutError` there). Futures
    /// already done when it looks are still yielded, since reading them cannot block. [`AsCompletedUntil::unfinished`] then tells how
    /// many were left, and [`AsCompletedUntil::into_unfinished`] gives them back,
    /// still running. A bounded iteration never runs a queued task on this thread.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use transparent_future::{as_completed, spawn_lazy};
    ///
    /// let futures = [10, 2_000].map(|ms| spawn_lazy(move || {
    ///     std::thread::sleep(Duration::from_millis(ms));
    ///     ms
    /// }));
    /// let mut it = as_completed(futures).deadline(Instant::now() + Duration::from_millis(500));
    /// let done: Vec<u64> = it.by_ref().map(|(_, f)| *f).collect();
    /// assert_eq!(done, [10]);
    /// assert!(it.timed_out());
    /// assert_eq!(it.unfinished(), 1);
    /// ```
    pub fn deadline(self, deadline: Instant) -> AsCompletedUntil<T> {
        AsCompletedUntil {
            inner: self,
            deadline: Some(deadline),
            timed_out: false,
        }
    }

    /// Ends the iteration `timeout` from now (see [`AsCompleted::deadline`]). A
    /// timeout too large to represent never ends it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use transparent_future::{as_completed, spawn_lazy};
    ///
    /// let mut it = as_completed([spawn_lazy(|| 1), spawn_lazy(|| 2)]).timeout(Duration::from_secs(30));
    /// assert_eq!(it.by_ref().count(), 2);
    /// assert!(!it.timed_out());
    /// assert_eq!(it.unfinished(), 0);
    /// ```
    pub fn timeout(self, timeout: Duration) -> AsCompletedUntil<T> {
        AsCompletedUntil {
            inner: self,
            deadline: Instant::now().checked_add(timeout),
            timed_out: false,
        }
    }

    fn take(&mut self, i: usize) -> Option<(usize, Lazy<T>)> {
        let future = self.futures.get_mut(i)?.take()?;
        self.left -= 1;
        Some((i, future))
    }

    /// The next future done, or the end, or `until` passing first.
    fn step(&mut self, until: Option<Instant>) -> Step<T> {
        // Without any limit, a relink wakes this step to help again; registered before
        // the first look for work, so that none is missed (see `core::nudge`).
        let _registered = (until.is_none() && self.earliest_deadline().is_none())
            .then(|| nudge::register(Arc::new(ChannelNudge(self.nudge.clone()))));
        while self.left > 0 {
            if let Ok(i) = self.done.try_recv() {
                if let Some(item) = self.take(i) {
                    return Step::Done(item);
                }
                continue;
            }
            // Nothing finished yet. If nothing is running either, run queued work of
            // an input here rather than sleep (work-helping); the watchers keep the
            // order. Not with a limit of our own: this thread must be free to return
            // at it.
            if until.is_none()
                && self.earliest_deadline().is_none()
                && help_pending(self.futures.iter().flatten())
            {
                continue;
            }
            let wake = [until, self.earliest_deadline()]
                .into_iter()
                .flatten()
                .min();
            let received = match wake {
                Some(at) => self.done.recv_deadline(at),
                None => self.done.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match received {
                Ok(i) => {
                    if let Some(item) = self.take(i) {
                        return Step::Done(item);
                    }
                }
                // A deadline passed: looking decides it, and its watcher then signals.
                Err(RecvTimeoutError::Timeout) => {
                    self.futures.iter().flatten().for_each(|f| {
                        Lazy::is_done(f);
                    });
                    if until.is_some_and(|u| Instant::now() >= u) {
                        // Our own limit: yield what is done by now, then stop
                        // (past any nudge left from an unbounded step).
                        while let Ok(i) = self.done.try_recv() {
                            if let Some(item) = self.take(i) {
                                return Step::Done(item);
                            }
                        }
                        return Step::TimedOut;
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    unreachable!("transparent_future: as_completed lost its futures")
                }
            }
        }
        Step::Exhausted
    }

    /// The earliest deadline among the futures not yet yielded.
    fn earliest_deadline(&self) -> Option<Instant> {
        self.futures
            .iter()
            .flatten()
            .filter_map(Lazy::deadline)
            .min()
    }
}

impl<T: Send + 'static> Iterator for AsCompleted<T> {
    type Item = (usize, Lazy<T>);

    fn next(&mut self) -> Option<Self::Item> {
        match self.step(None) {
            Step::Done(item) => Some(item),
            Step::Exhausted => None,
            Step::TimedOut => unreachable!("transparent_future: an unlimited wait gave up"),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<T: Send + 'static> ExactSizeIterator for AsCompleted<T> {}

impl<T: Send + 'static> std::iter::FusedIterator for AsCompleted<T> {}

impl<T: Send + 'static> std::fmt::Debug for AsCompleted<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsCompleted")
            .field("left", &self.left)
            .finish()
    }
}

/// The iterator of [`AsCompleted::deadline`] and [`AsCompleted::timeout`]: futures as
/// they complete, until a deadline for the whole iteration. Once the deadline has
/// passed it yields nothing more (it is fused) and reports what was left.
///
/// ```
/// use std::time::Duration;
/// use transparent_future::{as_completed, spawn_lazy, Lazy};
///
/// let slow = spawn_lazy(|| { std::thread::sleep(Duration::from_millis(400)); "slow" });
/// let mut it = as_completed([slow]).timeout(Duration::from_millis(10));
/// assert!(it.next().is_none());
/// assert_eq!(it.unfinished(), 1);
/// let (i, still_running) = it.into_unfinished().pop().unwrap();
/// assert_eq!((i, *still_running), (0, "slow")); // keep waiting, elsewhere, if you like
/// ```
pub struct AsCompletedUntil<T: Send + 'static> {
    inner: AsCompleted<T>,
    /// `None`: a timeout too large to represent, no limit.
    deadline: Option<Instant>,
    timed_out: bool,
}

impl<T: Send + 'static> AsCompletedUntil<T> {
    /// How many futures have not been yielded: after the iteration ended at its
    /// deadline, how many were left unfinished.
    ///
    /// ```
    /// use std::time::Duration;
    /// use transparent_future::{as_completed, spawn_lazy};
    ///
    /// let it = as_completed([spawn_lazy(|| 1), spawn_lazy(|| 2)]).timeout(Duration::from_secs(1));
    /// assert_eq!(it.unfinished(), 2); // nothing yielded yet
    /// ```
    pub fn unfinished(&self) -> usize {
        self.inner.left
    }

    /// Whether the iteration ended because its deadline passed (rather than because
    /// every future was yielded).
    ///
    /// ```
    /// use std::time::Duration;
    /// use transparent_future::{as_completed, spawn_lazy};
    ///
    /// let mut it = as_completed([spawn_lazy(|| 1)]).timeout(Duration::from_secs(30));
    /// it.by_ref().for_each(drop);
    /// assert!(!it.timed_out());
    /// ```
    pub fn timed_out(&self) -> bool {
        self.timed_out
    }

    /// The futures not yielded, with their indices, in input order: still running
    /// after a deadline, ready to be waited on some other way (or dropped).
    ///
    /// ```
    /// use std::time::Duration;
    /// use transparent_future::{as_completed, spawn_lazy};
    ///
    /// let it = as_completed([spawn_lazy(|| 1)]).timeout(Duration::ZERO);
    /// let left = it.into_unfinished();
    /// assert_eq!(left.len(), 1);
    /// assert_eq!(*left[0].1, 1);
    /// ```
    pub fn into_unfinished(self) -> Vec<(usize, Lazy<T>)> {
        self.inner
            .futures
            .into_iter()
            .enumerate()
            .filter_map(|(i, f)| f.map(|f| (i, f)))
            .collect()
    }
}

impl<T: Send + 'static> Iterator for AsCompletedUntil<T> {
    type Item = (usize, Lazy<T>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.timed_out {
            return None;
        }
        match self.inner.step(self.deadline) {
            Step::Done(item) => Some(item),
            Step::Exhausted => None,
            Step::TimedOut => {
                self.timed_out = true;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.timed_out {
            (0, Some(0))
        } else {
            (0, Some(self.inner.left))
        }
    }
}

impl<T: Send + 'static> std::iter::FusedIterator for AsCompletedUntil<T> {}

impl<T: Send + 'static> std::fmt::Debug for AsCompletedUntil<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsCompletedUntil")
            .field("left", &self.inner.left)
            .field("deadline", &self.deadline)
            .field("timed_out", &self.timed_out)
            .finish()
    }
}
