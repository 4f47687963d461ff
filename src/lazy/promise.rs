//! [`Promise<T>`]: a future that someone else completes, from any thread.
//!
//! The pair `(Promise<T>, Lazy<T>)` shares one remote state (`core::task::Remote`): the
//! `Lazy` reads it like any future, the `Promise` publishes to it once. A promise
//! dropped unset fails the future as a broken promise; a value set after the deadline
//! of [`Lazy::promise_with`] comes back to the caller of [`Promise::set`].

use std::borrow::Cow;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Instant;

use crate::core::job::Placement;
use crate::core::panic::{BrokenPromise, TaskPanic};
use crate::core::state::{Core, DecidedBy, Timeout};
use crate::core::task::{Remote, new_remote};
use crate::lazy::Lazy;
use crate::lazy::outcome::Outcome;
use crate::lazy::policy::TimeoutPolicy;

/// Why a [`Promise`] dropped without a value broke its future.
const DROPPED: &str = "the Promise was dropped without a value";

/// The right to complete a future once, from any thread: Java's
/// `CompletableFuture.complete`, Python's `Future.set_result`, C++'s `std::promise`,
/// futures' `oneshot::Sender`.
///
/// Make a pair with [`Lazy::promise`] (or [`Lazy::promise_with`] for a deadline); hand
/// the `Lazy` to the readers and the `Promise` to whoever will have the value (a
/// callback, another thread, an event loop). The future works everywhere a spawned one
/// does: operators, [`SharedLazy`](crate::SharedLazy), `map`/`then`, `all`,
/// `first_done`, `as_completed`, `.await`, `Debug`.
///
/// * [`Promise::set`] takes the promise by value: setting twice does not compile.
/// * A promise dropped without a value fails its readers as a *broken promise*: the
///   checked waits return [`WaitError::Broken`](crate::WaitError::Broken), implicit
///   accesses panic with `broken promise: the Promise was dropped without a value`.
///   No reader ever waits for a promise nobody holds.
/// * With a deadline ([`Lazy::promise_with`]) the outcome is decided as for a task: a
///   value set no later than the deadline is [`Outcome::Ready`], otherwise the outcome
///   is [`Outcome::Timeout`] and `set` hands the value back as `Err(value)`.
/// * Continuations registered before the value arrives ([`Lazy::map`], ...) run on
///   the thread that calls `set`, as Java's `complete` runs its dependent stages; those
///   registered later run on a new thread. A broken promise's continuations never run
///   on the dropping thread.
///
/// `Promise<T>` is `Send` and `Sync` when `T` is `Send`.
///
/// ```
/// use transparent_future::{Lazy, Promise};
///
/// let (promise, answer): (Promise<u32>, Lazy<u32>) = Lazy::promise();
/// std::thread::spawn(move || {
///     // ... some time later, on another thread:
///     promise.set(42).unwrap();
/// });
/// assert_eq!(answer + 1, 43); // blocks until the value is set
/// ```
///
/// Setting twice is impossible by construction:
///
/// ```compile_fail
/// let (promise, x) = transparent_future::Lazy::<u8>::promise();
/// promise.set(1).unwrap();
/// promise.set(2).unwrap(); // `promise` was moved by the first `set`
/// ```
pub struct Promise<T: Send + 'static> {
    /// `None` once set (or broken on purpose).
    target: Option<Target<T>>,
}

/// The state a promise completes: a plain future, or one with a deadline whose value
/// is an [`Outcome`].
enum Target<T: Send + 'static> {
    Plain(Arc<Remote<T>>),
    Timed(Arc<Remote<Outcome<T>>>),
}

// A completer travels to whichever thread will have the value.
static_assertions::assert_impl_all!(Promise<u64>: Send, Sync);
static_assertions::assert_impl_all!(Promise<std::cell::Cell<u8>>: Send, Sync);

impl<T: Send + 'static> Lazy<T> {
    /// A future that someone else completes, and the [`Promise`] that completes it.
    ///
    /// The future resolves when [`Promise::set`] is called, and fails as a broken
    /// promise ([`WaitError::Broken`](crate::WaitError::Broken)) if the promise is
    /// dropped unset. It allocates once, as a spawned future does.
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use transparent_future::{Lazy, Promise};
    ///
    /// // A worker thread that answers requests through the promises it is sent.
    /// let (requests, inbox) = mpsc::channel::<(u64, Promise<u64>)>();
    /// std::thread::spawn(move || {
    ///     for (n, reply) in inbox {
    ///         let _ = reply.set(n * n);
    ///     }
    /// });
    /// let (reply, square) = Lazy::promise();
    /// requests.send((12, reply)).unwrap();
    /// assert_eq!(*square, 144);
    /// ```
    pub fn promise() -> (Promise<T>, Lazy<T>) {
        let remote = new_remote(
            Core::new(None, Placement::thread()),
            Cow::Borrowed("promise"),
        );
        let lazy = Lazy::from_source(remote.clone());
        (
            Promise {
                target: Some(Target::Plain(remote)),
            },
            lazy,
        )
    }

    /// A promised future with a deadline, measured from now by `policy`: the future's
    /// value is [`Outcome::Ready`] if the promise is set no later than the deadline,
    /// [`Outcome::Timeout`] otherwise, with the rules of a spawned future (readers are
    /// released at the deadline; every reader sees the same outcome). A value set too
    /// late comes back to the setter: [`Promise::set`] returns `Err(value)`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use transparent_future::{Deadline, Lazy, Outcome};
    ///
    /// let (on_time, x) = Lazy::promise_with(Deadline::after(Duration::from_secs(30)));
    /// on_time.set("quick").unwrap();
    /// assert_eq!(*x, Outcome::Ready("quick"));
    ///
    /// let (too_late, y) = Lazy::promise_with(Deadline::after(Duration::from_millis(10)));
    /// assert_eq!(*y, Outcome::Timeout);           // released at the deadline
    /// assert_eq!(too_late.set("slow"), Err("slow")); // the value is not lost
    /// ```
    pub fn promise_with<P: TimeoutPolicy>(policy: P) -> (Promise<T>, Lazy<Outcome<T>>) {
        let deadline: Option<Instant> = policy.deadline(Instant::now());
        let remote = new_remote(
            Core::new(Timeout::outcome(deadline), Placement::thread()),
            Cow::Borrowed("promise"),
        );
        let lazy = Lazy::from_source(remote.clone());
        (
            Promise {
                target: Some(Target::Timed(remote)),
            },
            lazy,
        )
    }
}

impl<T: Send + 'static> Promise<T> {
    /// Completes the future with `value`, once (the promise is consumed).
    ///
    /// Returns `Err(value)` if the value comes too late: the future has a deadline
    /// ([`Lazy::promise_with`]) that passed first, so its outcome is already
    /// [`Outcome::Timeout`]. The value is then the caller's again, never dropped
    /// inside the future nor lost. Without a deadline `set` always succeeds (even if
    /// every reader is gone: the value is then dropped with the future's state).
    ///
    /// The decision is taken under the future's lock, so a `set` racing the deadline
    /// and every reader agree on one outcome.
    ///
    /// # Errors
    ///
    /// `Err(value)` when the deadline passed first.
    ///
    /// ```
    /// use transparent_future::Lazy;
    ///
    /// let (promise, greeting) = Lazy::promise();
    /// assert_eq!(promise.set(String::from("hello")), Ok(()));
    /// assert_eq!(*greeting, "hello");
    /// ```
    pub fn set(mut self, value: T) -> Result<(), T> {
        match self.target.take() {
            Some(Target::Plain(remote)) => remote
                .core()
                .publish_unless_late(Ok(value), DecidedBy::Task)
                .map_err(|late| match late {
                    Ok(value) => value,
                    Err(_) => unreachable!("transparent_future: a set value became a panic"),
                }),
            Some(Target::Timed(remote)) => remote
                .core()
                .publish_unless_late(Ok(Outcome::Ready(value)), DecidedBy::Task)
                .map_err(|late| match late {
                    Ok(Outcome::Ready(value)) => value,
                    _ => unreachable!("transparent_future: a set value changed on the way"),
                }),
            None => unreachable!("transparent_future: a promise without a future"),
        }
    }

    /// Whether nobody can read the value any more: every handle to the future and every
    /// continuation waiting on it is gone (tokio's `oneshot::Sender::is_closed`). A
    /// completer can then skip the work. [`Promise::set`] still succeeds; the value is
    /// dropped with the state.
    ///
    /// ```
    /// use transparent_future::Lazy;
    ///
    /// let (promise, reader) = Lazy::<u8>::promise();
    /// assert!(!promise.is_closed());
    /// drop(reader);
    /// assert!(promise.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        match &self.target {
            Some(Target::Plain(remote)) => Arc::strong_count(remote) == 1,
            Some(Target::Timed(remote)) => Arc::strong_count(remote) == 1,
            None => true,
        }
    }

    /// Fails the future as a broken promise, for `reason` (the crate's own completers:
    /// an actor that will not run a call, a pool that will not report its exit).
    pub(crate) fn break_with(mut self, reason: impl Into<Cow<'static, str>>) {
        if let Some(target) = self.target.take() {
            break_target(target, BrokenPromise::new(reason));
        }
    }
}

/// Publishes a broken promise to `target`. Never on behalf of user code: continuations
/// of the broken future go to a new thread (the break may happen anywhere, even while
/// the dropping thread unwinds), and a panic of a forwarding callback is not raised
/// again here (the panic hook has reported it).
fn break_target<T: Send + 'static>(target: Target<T>, broken: BrokenPromise) {
    let failure = TaskPanic::broken(broken);
    let _ = catch_unwind(AssertUnwindSafe(move || match target {
        Target::Plain(remote) => {
            let _ = remote
                .core()
                .publish_unless_late(Err(failure), DecidedBy::Reserved);
        }
        Target::Timed(remote) => {
            let _ = remote
                .core()
                .publish_unless_late(Err(failure), DecidedBy::Reserved);
        }
    }));
}

impl<T: Send + 'static> Drop for Promise<T> {
    /// A promise dropped unset breaks its future: readers fail with
    /// [`WaitError::Broken`](crate::WaitError::Broken) instead of waiting forever.
    fn drop(&mut self) {
        if let Some(target) = self.target.take() {
            break_target(target, BrokenPromise::new(DROPPED));
        }
    }
}

impl<T: Send + 'static> fmt::Debug for Promise<T> {
    /// `Promise { closed: bool, .. }`.
    ///
    /// ```
    /// let (promise, _x) = transparent_future::Lazy::<u8>::promise();
    /// assert_eq!(format!("{promise:?}"), "Promise { closed: false, .. }");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Promise")
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}
