//! Cooperative cancellation: the [`CancelToken`] a cancellable task polls.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// The flag behind a token, shared with the future's state.
#[derive(Debug, Default)]
pub(crate) struct CancelFlag {
    cancelled: AtomicBool,
}

impl CancelFlag {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(CancelFlag::default())
    }

    pub(crate) fn cancel(&self) {
        // ORDERING: Release pairs with the Acquire in `is_set`, so whatever the
        // canceller wrote before asking is visible to a task that sees the request.
        self.cancelled.store(true, Ordering::Release);
    }

    fn is_set(&self) -> bool {
        // ORDERING: Acquire pairs with the Release in `cancel`.
        self.cancelled.load(Ordering::Acquire)
    }
}

/// A request to stop, handed to a cancellable task.
///
/// [`is_cancelled`](CancelToken::is_cancelled) becomes `true` when the future's
/// deadline passes, when [`Lazy::cancel`](crate::Lazy::cancel) is called, or when every
/// handle to the future has been dropped (nobody can read the result any more). A
/// thread cannot be stopped from outside, so cancellation is a request: the task polls
/// its token and returns early. The outcome rules do not change: whatever the task
/// returns is its value (an [`Outcome::Ready`](crate::Outcome::Ready) if it returned
/// before the deadline).
///
/// ```
/// use std::time::Duration;
/// use transparent_future::{Builder, Lazy};
///
/// let count = Builder::new().spawn_cancellable(|token| {
///     let mut n = 0u64;
///     while !token.is_cancelled() {
///         n += 1;
///         std::thread::sleep(Duration::from_millis(1));
///     }
///     n
/// })?;
/// std::thread::sleep(Duration::from_millis(20));
/// Lazy::cancel(&count);
/// assert!(*count > 0); // the loop saw the request and returned
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct CancelToken {
    flag: Arc<CancelFlag>,
    deadline: Option<Instant>,
}

impl CancelToken {
    pub(crate) fn new(flag: Arc<CancelFlag>, deadline: Option<Instant>) -> Self {
        CancelToken { flag, deadline }
    }

    /// Whether the task has been asked to stop: its deadline passed, the future was
    /// cancelled, or every handle to it was dropped. Cheap enough for a tight loop
    /// (one atomic load, plus a clock read for a future with a deadline).
    ///
    /// ```
    /// use transparent_future::Builder;
    ///
    /// let x = Builder::new().spawn_cancellable(|token| token.is_cancelled())?;
    /// assert!(!*x); // nobody asked
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.flag.is_set() || self.deadline.is_some_and(|d| Instant::now() > d)
    }

    /// The deadline after which the token reports cancellation, if the future has one.
    ///
    /// ```
    /// use std::time::Duration;
    /// use transparent_future::{Builder, Deadline};
    ///
    /// let x = Builder::new()
    ///     .timeout(Deadline::after(Duration::from_secs(60)))
    ///     .spawn_cancellable(|token| token.deadline().is_some())?;
    /// assert!(x.into_ready().unwrap_or(false));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }
}
