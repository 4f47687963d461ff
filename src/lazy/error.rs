//! [`WaitError`]: why a checked wait returned without the value.

use std::error::Error;
use std::fmt;

#[cfg(feature = "process")]
use crate::core::died::ProcessDied;
use crate::core::panic::TaskPanic;
use crate::deadlock::cycle::Cycle;

/// Why a checked wait ([`Lazy::try_wait`](crate::Lazy::try_wait),
/// [`Lazy::wait_timeout`](crate::Lazy::wait_timeout),
/// [`Lazy::wait_deadline`](crate::Lazy::wait_deadline)) returned without the value. The
/// future itself is unchanged: a refused or abandoned wait does not poison it.
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
    /// A task's failure as a checked wait reports it.
    pub(crate) fn from_panic(panic: TaskPanic) -> Self {
        #[cfg(feature = "process")]
        if let Some(died) = panic.process_died() {
            return WaitError::ProcessDied(died.clone());
        }
        WaitError::Panicked(panic)
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
            #[cfg(feature = "process")]
            WaitError::ProcessDied(died) => Some(died),
            WaitError::Timeout => None,
        }
    }
}
