//! [`Lazy<T>`]: the handle to a value computed in the background.

use std::ops::{Deref, DerefMut};
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

pub(crate) mod error;
mod ops;
pub(crate) mod outcome;
pub(crate) mod policy;
pub(crate) mod promise;
pub(crate) mod shared;
pub(crate) mod source;
mod traits;

use crate::core::nudge::{self, Bell, Wake};
use crate::core::panic::TaskPanic;
use crate::core::queues;
use crate::core::state::{TaskResult, Waited};
use crate::core::task::Source;
use crate::deadlock::{self, Node};
use crate::lazy::error::WaitError;
use crate::lazy::outcome::Outcome;

// The thread-safety promises, checked when the crate compiles: a future is `Send` when
// its value is, `Sync` when its value is `Send + Sync`, and neither for an `Rc`.
static_assertions::assert_impl_all!(Lazy<u64>: Send, Sync);
static_assertions::assert_impl_all!(Lazy<std::cell::Cell<u8>>: Send);
static_assertions::assert_not_impl_any!(Lazy<std::cell::Cell<u8>>: Sync);
static_assertions::assert_not_impl_any!(Lazy<std::rc::Rc<u8>>: Send, Sync);

/// A transparent future: a value that is being computed in the background and that you
/// use as if it were already there.
///
/// Create one with [`spawn_lazy`](crate::spawn_lazy) (or [`Lazy::with_value`] for a value you
/// already have). The first access (`*x`, a method call, an operator, `Display`) blocks
/// until the task has returned; every later access reads the cached value at the cost
/// of a resolved [`OnceLock::get`]: one atomic load, no lock, no system call.
///
/// ```
/// use transparent_future::spawn_lazy;
///
/// let words = spawn_lazy(|| vec!["background", "work"]);
/// assert_eq!(words.len(), 2);             // method calls reach the value
/// assert_eq!(words[0], "background");     // so does indexing
/// let n = spawn_lazy(|| 40);
/// assert_eq!(n + 2, 42);                  // and operators
/// ```
///
/// # A smart pointer: no methods of its own
///
/// Like [`Arc`] and [`LazyLock`](std::sync::LazyLock), `Lazy<T>` adds no `self` methods
/// that could shadow the value's. Its own operations are associated functions, called as
/// `Lazy::is_done(&x)`, so `x.join()` or `x.wait()` always reach the value's own methods.
///
/// # Memory ordering
///
/// Everything the task did before returning *happens-before* the return of any access
/// that observes its result ([`Deref`], [`Lazy::wait`], [`Lazy::get`] returning
/// `Some`, [`Lazy::join`], ...): a reader sees all of the task's writes, to the value and
/// to anything else, without further synchronization.
///
/// # Panics
///
/// If the task panicked, every access that would return the value panics in the reader
/// with a message that contains the task's panic message; [`Lazy::join`] returns the
/// payload instead, like [`std::thread::JoinHandle::join`].
// `repr(C)` keeps the cache at offset 0, where the value's address is the handle's own:
// measured, the resolved access then compiles to the same instructions as
// `OnceCell::get`; at another offset it needed one more (docs/performance.md, 21).
#[repr(C)]
pub struct Lazy<T> {
    /// The cached value: the hot path reads only this.
    value: OnceLock<T>,
    /// The task that produces the value; `None` for a future created ready.
    task: Option<Arc<dyn Source<T>>>,
}

impl<T> Lazy<T> {
    /// Wraps a task's shared state in a handle.
    pub(crate) fn from_source(task: Arc<dyn Source<T>>) -> Self {
        Lazy {
            value: OnceLock::new(),
            task: Some(task),
        }
    }

    /// A future created resolved, holding `value` (as once_cell's `OnceCell::with_value`).
    /// It allocates nothing.
    ///
    /// ```
    /// use transparent_future::Lazy;
    ///
    /// let x = Lazy::with_value(5);
    /// assert!(Lazy::is_done(&x));
    /// assert_eq!(*x, 5);
    /// ```
    pub fn with_value(value: T) -> Self {
        Lazy {
            value: OnceLock::from(value),
            task: None,
        }
    }

    /// Blocks until the value is there and returns it; the same as `&*this`.
    ///
    /// # Panics
    ///
    /// If the task panicked, with a message containing the task's panic message.
    ///
    /// ```
    /// use transparent_future::{spawn_lazy, Lazy};
    ///
    /// let s = spawn_lazy(|| String::from("hello"));
    /// let r: &String = Lazy::wait(&s);
    /// assert_eq!(r, "hello");
    /// ```
    #[inline]
    pub fn wait(this: &Self) -> &T {
        match this.value.get() {
            Some(value) => value,
            None => this.wait_slow(),
        }
    }

    /// The value if it is there now; never waits for the task (once_cell's `get`).
    ///
    /// For a future with a deadline that has passed, this decides the outcome as a
    /// side effect (running its continuations) and returns `Some(&Outcome::Timeout)`.
    ///
    /// # Panics
    ///
    /// If the task panicked (the value will never come), like every access that returns
    /// the value; [`Lazy::wait_timeout`] with a zero timeout returns the panic instead.
    ///
    /// ```
    /// use transparent_future::{spawn_lazy, Lazy};
    /// use std::sync::mpsc;
    ///
    /// let (go, wait_for_go) = mpsc::channel::<()>();
    /// let x = spawn_lazy(move || { wait_for_go.recv().unwrap(); 7 });
    /// assert_eq!(Lazy::get(&x), None);
    /// go.send(()).unwrap();
    /// assert_eq!(*x, 7);
    /// assert_eq!(Lazy::get(&x), Some(&7));
    /// ```
    pub fn get(this: &Self) -> Option<&T> {
        if let Some(value) = this.value.get() {
            return Some(value);
        }
        let task = this.task.as_deref()?;
        if task.core().settle_if_due() {
            Some(this.cache())
        } else {
            None
        }
    }

    /// Whether the outcome is decided, so that an access returns without waiting: the
    /// value is there, the deadline has passed, or the task panicked (Python's
    /// `Future.done()`, Java's `isDone()`). Never blocks.
    ///
    /// A deadline that has passed is decided by this call as a side effect (running the
    /// future's continuations).
    ///
    /// ```
    /// use transparent_future::{spawn_lazy, Lazy};
    ///
    /// let x = spawn_lazy(|| 1);
    /// let _ = *x;
    /// assert!(Lazy::is_done(&x));
    /// ```
    pub fn is_done(this: &Self) -> bool {
        match (this.value.get(), this.task.as_deref()) {
            (Some(_), _) | (None, None) => true,
            (None, Some(task)) => task.core().settle_if_due(),
        }
    }

    /// Waits at most `timeout` for the value (crossbeam's `recv_timeout`):
    /// [`WaitError::Timeout`] if it is not there by then, [`WaitError::Panicked`] if the
    /// task panicked.
    ///
    /// This gives up this one wait only: the future stays pending and can be waited on
    /// again. A timeout too large to represent waits without a limit, as
    /// [`Lazy::try_wait`] does (and may then return [`WaitError::Deadlock`]). A bounded
    /// wait never runs the task on this thread: it must be able to return at its limit.
    ///
    /// ```
    /// use std::time::Duration;
    /// use transparent_future::{spawn_lazy, Lazy, WaitError};
    ///
    /// let x = spawn_lazy(|| { std::thread::sleep(Duration::from_millis(300)); 1 });
    /// assert_eq!(Lazy::wait_timeout(&x, Duration::from_millis(1)), Err(WaitError::Timeout));
    /// assert_eq!(Lazy::wait_timeout(&x, Duration::from_secs(30)), Ok(&1));
    /// ```
    pub fn wait_timeout(this: &Self, timeout: Duration) -> Result<&T, WaitError> {
        Lazy::wait_checked(this, Instant::now().checked_add(timeout))
    }

    /// Waits for the value until `deadline` (crossbeam's `recv_deadline`), with the
    /// errors of [`Lazy::wait_timeout`]. A deadline already past looks once and returns.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use transparent_future::{spawn_lazy, Lazy};
    ///
    /// let x = spawn_lazy(|| 1);
    /// let deadline = Instant::now() + Duration::from_secs(30);
    /// assert_eq!(Lazy::wait_deadline(&x, deadline), Ok(&1));
    /// ```
    pub fn wait_deadline(this: &Self, deadline: Instant) -> Result<&T, WaitError> {
        Lazy::wait_checked(this, Some(deadline))
    }

    /// Blocks until the value is there and returns it by value.
    ///
    /// # Panics
    ///
    /// If the task panicked, with a message containing the task's panic message.
    ///
    /// ```
    /// use transparent_future::{spawn_lazy, Lazy};
    ///
    /// let v = spawn_lazy(|| vec![1, 2, 3]);
    /// let owned: Vec<i32> = Lazy::into_inner(v);
    /// assert_eq!(owned, [1, 2, 3]);
    /// ```
    pub fn into_inner(this: Self) -> T {
        match Lazy::take(this) {
            Ok(value) => value,
            Err(failure) => fail(WaitError::from_failure(failure)),
        }
    }

    /// Blocks until the task has finished and returns its value, or its panic payload,
    /// like [`std::thread::JoinHandle::join`].
    ///
    /// ```
    /// use transparent_future::{spawn_lazy, Lazy};
    ///
    /// let ok = spawn_lazy(|| 1);
    /// assert_eq!(Lazy::join(ok).unwrap(), 1);
    ///
    /// let bad = spawn_lazy(|| -> i32 { panic!("no luck") });
    /// let payload = Lazy::join(bad).unwrap_err();
    /// assert_eq!(payload.downcast_ref::<&str>(), Some(&"no luck"));
    /// ```
    pub fn join(this: Self) -> thread::Result<T> {
        Lazy::take(this).map_err(TaskPanic::into_payload)
    }

    /// Blocks until the outcome is decided and moves it out.
    fn take(mut this: Self) -> TaskResult<T> {
        if let Some(value) = this.value.take() {
            return Ok(value);
        }
        let Some(mut task) = this.task.take() else {
            unreachable!("transparent_future: a resolved future without a value")
        };
        if let Some(result) = Lazy::run_alone(&mut task) {
            return result;
        }
        if let Err(e) = Lazy::block(&task, None) {
            fail(e);
        }
        task.core().take_result()
    }

    /// Asks a cancellable task to stop: its [`CancelToken`](crate::CancelToken) reports
    /// cancellation from now on. Cancellation is a request the task may heed by
    /// returning early; the future still resolves to whatever the task returns. No
    /// effect on a future that was not spawned cancellable, or whose task has finished.
    ///
    /// ```
    /// use std::time::Duration;
    /// use transparent_future::{Builder, Lazy};
    ///
    /// let x = Builder::new().spawn_cancellable(|token| {
    ///     while !token.is_cancelled() {
    ///         std::thread::sleep(Duration::from_millis(1));
    ///     }
    ///     "stopped"
    /// })?;
    /// Lazy::cancel(&x);
    /// assert_eq!(*x, "stopped");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn cancel(this: &Self) {
        if let Some(task) = &this.task {
            task.request_cancel();
        }
    }

    /// The blocking path of every access: wait for the outcome, then cache it.
    /// The fork-join fast path of a read by value: if the task is still on top of this
    /// worker's own deque (it was spawned here last and nobody stole it), takes it off
    /// and, as the only holder of the future then, runs it here and keeps its result,
    /// with none of the locks a shared future needs. `None`: read the shared way (the
    /// task is elsewhere, decided, has a deadline or watchers, or someone else still
    /// holds a reference for a moment; its closure is then still there to run).
    fn run_alone(task: &mut Arc<dyn Source<T>>) -> Option<TaskResult<T>> {
        let core = task.core();
        if !core.may_help() || core.settle_if_due() {
            return None;
        }
        queues::take_if_on_top(Arc::as_ptr(task).cast::<()>())?.dismiss();
        Arc::get_mut(task)?.run_alone()
    }

    #[cold]
    #[inline(never)]
    fn wait_slow(&self) -> &T {
        match Lazy::wait_checked(self, None) {
            Ok(value) => value,
            Err(e) => fail(e),
        }
    }

    /// Waits (without a limit if `until` is `None`), then caches the outcome.
    fn wait_checked(this: &Self, until: Option<Instant>) -> Result<&T, WaitError> {
        if let Some(value) = this.value.get() {
            return Ok(value);
        }
        let Some(task) = this.task.as_ref() else {
            unreachable!("transparent_future: a resolved future without a value")
        };
        Lazy::block(task, until)?;
        this.try_cache()
    }

    /// The blocking path itself: blocks until the outcome is decided or `until` passes.
    ///
    /// A wait without any limit first helps (runs the task here if the executor allows
    /// it and no thread has started it), then, if it would still block, asks the
    /// deadlock detector, which refuses a wait that closes a cycle.
    fn block(task: &Arc<dyn Source<T>>, until: Option<Instant>) -> Result<(), WaitError> {
        let core = task.core();
        if core.settle_if_due() {
            // Decided already (most reads of a pool's futures): nothing to wait for.
            return Ok(());
        }
        if until.is_none() && core.deadline().is_none() && task.relinks() {
            return Lazy::block_helping(task);
        }
        if until.is_none() && core.deadline().is_none() {
            // Work-helping: while no worker has started the work, do it here rather
            // than sleep while it sits in a queue. Again after each step: running one
            // step (a `then`'s closure) may queue the next (the future it returned).
            while !core.settle_if_due() && task.help() {}
            // A short wait ends in the spin, before the deadlock registry (a global
            // lock and a walk of the graph) is ever taken.
            if !core.settle_if_due() && !core.spin(None) {
                let node: Arc<dyn Node> = task.clone();
                let _edge = deadlock::enter_wait(&node).map_err(WaitError::Deadlock)?;
                core.park(None);
            }
            return Ok(());
        }
        match core.wait(until) {
            Waited::Resolved => Ok(()),
            Waited::GaveUp => Err(WaitError::Timeout),
        }
    }

    /// An unbounded wait on a derived future, whose graph can gain work after this
    /// thread went to sleep (a `then` links its inner future, perhaps queued behind
    /// this very thread): help, and sleep on a bell that the outcome rings (a watcher)
    /// and so does any relink (`core::nudge`); on every ring, help again. Registered
    /// before the last look for work, so no relink is missed (see `core::nudge`).
    fn block_helping(task: &Arc<dyn Source<T>>) -> Result<(), WaitError> {
        let core = task.core();
        let bell = Arc::new(Bell::default());
        let ring = Arc::clone(&bell);
        let Ok(watcher) = core.watch(Box::new(move |_| ring.wake()), false) else {
            return Ok(()); // decided already
        };
        let result = loop {
            while !core.settle_if_due() && task.help() {}
            if core.settle_if_due() {
                break Ok(());
            }
            let registered = nudge::register(bell.clone());
            if task.help() {
                continue; // work joined before we registered
            }
            if core.settle_if_due() {
                break Ok(());
            }
            let node: Arc<dyn Node> = task.clone();
            match deadlock::enter_wait(&node) {
                Ok(_edge) => bell.sleep(),
                Err(cycle) => break Err(WaitError::Deadlock(cycle)),
            }
            drop(registered);
        };
        core.unwatch(watcher);
        result
    }

    /// Moves the decided outcome into the cache (once) and returns it, or panics with
    /// the task's panic message.
    fn cache(&self) -> &T {
        match self.try_cache() {
            Ok(value) => value,
            Err(e) => fail(e),
        }
    }

    /// Moves the decided outcome into the cache (once) and returns it, or the task's
    /// panic as an error.
    fn try_cache(&self) -> Result<&T, WaitError> {
        Lazy::decided(self).map_err(WaitError::from_failure)
    }

    /// The decided outcome: the value (moved into the cache once) or the task's
    /// failure. Call only once the outcome is decided (a watcher has fired, or a wait
    /// returned).
    pub(crate) fn decided(this: &Self) -> Result<&T, TaskPanic> {
        if let Some(value) = this.value.get() {
            return Ok(value);
        }
        let Some(task) = this.task.as_deref() else {
            unreachable!("transparent_future: a resolved future without a value")
        };
        // A panic is final and stays in the state, so checking first is exact: past
        // this point, taking the outcome cannot fail. (Decided as a value or a
        // timeout: no panic to look for.)
        if !task.core().decided_ok() {
            if let Some(panic) = task.core().panic() {
                return Err(panic);
            }
        }
        Ok(this.value.get_or_init(|| task.core().take_for_cache()))
    }

    /// Blocks until the value is there, like [`Lazy::wait`], but returns an error
    /// instead of panicking: [`WaitError::Deadlock`] if waiting would close a cycle of
    /// waits (the future stays pending and usable), [`WaitError::Panicked`] if the task
    /// panicked (with the original payload, by reference).
    ///
    /// ```
    /// use transparent_future::{spawn_lazy, Lazy, WaitError};
    ///
    /// let x = spawn_lazy(|| 5);
    /// assert_eq!(Lazy::try_wait(&x), Ok(&5));
    /// let bad = spawn_lazy(|| -> u8 { panic!("no") });
    /// assert!(matches!(Lazy::try_wait(&bad), Err(WaitError::Panicked(p)) if p.message() == "no"));
    /// ```
    pub fn try_wait(this: &Self) -> Result<&T, WaitError> {
        Lazy::wait_checked(this, None)
    }

    /// Non-blocking look for `Debug`: the value, or whether it is pending or panicked.
    pub(crate) fn peek(this: &Self) -> Peek<'_, T> {
        if let Some(value) = this.value.get() {
            return Peek::Ready(value);
        }
        match this.task.as_deref() {
            Some(task) if task.core().settle_if_due() => match task.core().failure() {
                Some(failure) if failure.broken_promise().is_some() => Peek::Broken,
                Some(_) => Peek::Panicked,
                None => Peek::Ready(this.cache()),
            },
            _ => Peek::Pending,
        }
    }
}

/// Panics for a failed implicit wait: a deadlock names its cycle, a task's panic
/// repeats the task's message.
#[cold]
#[track_caller]
fn fail(e: WaitError) -> ! {
    match e {
        WaitError::Panicked(panic) => panic!("{panic}"),
        other => panic!("{other}"),
    }
}

/// What `Debug` may show without blocking.
pub(crate) enum Peek<'a, T> {
    Ready(&'a T),
    Pending,
    Panicked,
    Broken,
}

impl<T> Lazy<Outcome<T>> {
    /// Takes the result of a task that finished after its deadline.
    ///
    /// A timed-out task keeps running (a thread cannot be killed). When it finishes, its
    /// late result is kept here until you take it; if you never do, it is dropped with
    /// the last of the handle and the task. It is never lost silently, and dropped
    /// exactly once. Returns `None` while the task is still running, if the outcome was
    /// not a timeout, or if the late result was already taken. A late panic comes back
    /// as `Err(payload)`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use transparent_future::{spawn_lazy_with, Deadline, Lazy, Outcome};
    ///
    /// let x = spawn_lazy_with(Deadline::after(Duration::from_millis(10)), || {
    ///     std::thread::sleep(Duration::from_millis(100));
    ///     "late"
    /// });
    /// assert_eq!(*x, Outcome::Timeout);
    /// std::thread::sleep(Duration::from_millis(500));
    /// assert_eq!(Lazy::take_late(&x).map(|r| r.unwrap()), Some("late"));
    /// assert!(Lazy::take_late(&x).is_none()); // taken once
    /// ```
    pub fn take_late(this: &Self) -> Option<thread::Result<T>> {
        match this.task.as_deref()?.core().take_late()? {
            Ok(Outcome::Ready(value)) => Some(Ok(value)),
            Err(panic) => Some(Err(panic.into_payload())),
            // A derived future (`map_ready`, `then_ready`, `all_with`) whose input timed
            // out publishes that timeout, late: there is no late value to give.
            Ok(Outcome::Timeout) => None,
        }
    }
}

// A panic never leaves a future's state half-updated (the state is changed only under
// its mutex, by code that cannot panic, and poisoning is ignored), so a `Lazy` is as
// unwind-safe as its value, as `LazyLock` is.
impl<T: RefUnwindSafe + UnwindSafe> RefUnwindSafe for Lazy<T> {}
impl<T: UnwindSafe> UnwindSafe for Lazy<T> {}

impl<T> Drop for Lazy<T> {
    /// Never blocks. A pending task runs to completion and drops its value on its own
    /// thread; a cancellable one is asked to stop (every handle is gone).
    fn drop(&mut self) {
        if self.value.get().is_none() {
            if let Some(task) = &self.task {
                task.release();
            }
        }
    }
}

impl<T> Deref for Lazy<T> {
    type Target = T;

    /// Blocks on the first access until the value is there; afterwards, one atomic load.
    ///
    /// ```
    /// let x = transparent_future::spawn_lazy(|| 3);
    /// assert_eq!(*x, 3);
    /// ```
    #[inline]
    fn deref(&self) -> &T {
        Lazy::wait(self)
    }
}

impl<T> DerefMut for Lazy<T> {
    /// Blocks until the value is there, then lends it mutably to the unique owner.
    ///
    /// ```
    /// let mut v = transparent_future::spawn_lazy(|| vec![1]);
    /// v.push(2);
    /// assert_eq!(*v, [1, 2]);
    /// ```
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        if self.value.get().is_none() {
            self.wait_slow();
        }
        match self.value.get_mut() {
            Some(value) => value,
            None => unreachable!("transparent_future: value missing after wait"),
        }
    }
}

impl<T> From<T> for Lazy<T> {
    /// The same as [`Lazy::with_value`].
    ///
    /// ```
    /// use transparent_future::Lazy;
    /// let x: Lazy<u8> = 4.into();
    /// assert_eq!(*x, 4);
    /// ```
    fn from(value: T) -> Self {
        Lazy::with_value(value)
    }
}

impl<T: Default> Default for Lazy<T> {
    /// A ready future holding `T::default()`.
    ///
    /// ```
    /// use transparent_future::Lazy;
    /// let x: Lazy<String> = Lazy::default();
    /// assert!(x.is_empty());
    /// ```
    fn default() -> Self {
        Lazy::with_value(T::default())
    }
}
