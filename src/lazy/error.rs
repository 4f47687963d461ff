//! [`WaitError`]: why a checked wait returned without the value.

use std::error::Error;
use std::fmt;

#[cfg(feature = "process")]
use crate::core::died::ProcessDied;
use crate::core::panic::{BrokenPromise, TaskPanic};
use crate::deadlock::cycle::Cycle;

/// Why a checked wait ([`Lazy::try_wait`](crate::Lazy::try_wait),
/// [`Lazy::wait_timeout`](crate::Lazy::wait_timeout),
/// [`Lazy::wait_deadline`](crate::Lazy::wait_deadline)) returned without the value. The
/// future itself is unchanged: a refused or abandoned wait does not poison it.
///
/// It is also how a continuation that sees failures ([`Lazy::handle`](crate::Lazy::handle),
/// [`Lazy::all_settled`](crate::Lazy::all_settled)) learns why its input has no
/// value: there, only [`WaitError::Panicked`] and [`WaitError::Broken`] occur (a
/// timeout of a `Lazy<Outcome<T>>` is a value, [`Outcome::Timeout`](crate::Outcome)).
///
/// ```
/// use std::time::Duration;
/// use transparent_future::{spawn_lazy, Lazy, WaitError};
///
/// let x = spawn_lazy(|| { std::thread::sleep(Duration::from_millis(200)); 1 });
/// assert_eq!(Lazy::wait_timeout(&x, Duration::ZERO), Err(WaitError::Timeout));
/// assert_eq!(Lazy::try_wait(&x), Ok(&1));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitError {
    /// Waiting would never end: the wait closes a cycle of threads that each wait for
    /// a future the next one is computing.
    Deadlock(Cycle),
    /// The wait's own limit passed first; the future is still pending.
    Timeout,
    /// The task panicked. [`TaskPanic::payload`] reaches the original payload.
    Panicked(TaskPanic),
    /// Whoever was to complete the future was dropped first: a
    /// [`Promise`](crate::Promise) dropped without a value, or an actor call the actor
    /// never ran. The value will never come.
    Broken(BrokenPromise),
    /// The child process of a process task (the [`process`](crate::process) module)
    /// ended without returning a value: killed by a signal, or exited. A panic inside
    /// the task is [`WaitError::Panicked`], as for a thread.
    ///
    /// A variant of its own rather than a [`TaskPanic`]: a crash is not a panic (no
    /// unwinding happened, there is no payload the task chose), and a caller that
    /// retries crashed work wants to match on it without downcasting.
    #[cfg(feature = "process")]
    #[cfg_attr(docsrs, doc(cfg(feature = "process")))]
    ProcessDied(ProcessDied),
}

impl WaitError {
    /// How a decided future failed: its panic, or its broken promise. The error goes
    /// to a reader (or a failure-aware continuation), so the panic counts as read.
    pub(crate) fn from_failure(failure: TaskPanic) -> Self {
        failure.mark_read();
        #[cfg(feature = "process")]
        if let Some(died) = failure.process_died() {
            return WaitError::ProcessDied(died.clone());
        }
        match failure.broken_promise() {
            Some(broken) => WaitError::Broken(broken.clone()),
            None => WaitError::Panicked(failure),
        }
    }
}

// Errors travel between threads: `?` into `Box<dyn Error + Send + Sync>` works.
static_assertions::assert_impl_all!(WaitError: Send, Sync, Clone);

impl fmt::Display for WaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitError::Deadlock(cycle) => write!(f, "deadlock: {cycle}"),
            WaitError::Timeout => f.write_str("the wait timed out; the future is still pending"),
            WaitError::Panicked(panic) => fmt::Display::fmt(panic, f),
            WaitError::Broken(broken) => fmt::Display::fmt(broken, f),
            #[cfg(feature = "process")]
            WaitError::ProcessDied(died) => fmt::Display::fmt(died, f),
        }
    }
}

impl Error for WaitError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            WaitError::Deadlock(cycle) => Some(cycle),
            WaitError::Panicked(panic) => Some(panic),
            WaitError::Broken(broken) => Some(broken),
            #[cfg(feature = "process")]
            WaitError::ProcessDied(died) => Some(died),
            WaitError::Timeout => None,
        }
    }
}
