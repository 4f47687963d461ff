//! A task's panic: the message a reader sees, and [`TaskPanic`], the payload shared by
//! every reader.

use std::any::Any;
use std::borrow::Cow;
use std::cell::RefCell;
use std::error::Error;
use std::fmt;
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};

#[cfg(feature = "process")]
use crate::core::died::ProcessDied;

/// The text of a panic payload: the `&str` or `String` that `panic!` was given, or a
/// placeholder naming the problem for any other payload.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "<non-string panic payload>"
    }
}

/// A task's panic, as its readers see it: the task's message, and the original panic
/// payload, shared by every reader without consuming the future.
///
/// A cheap handle: clones share one payload. It is `Send + Sync` whatever the payload,
/// which is kept behind a lock and lent out by [`TaskPanic::payload`].
///
/// ```
/// use transparent_future::{spawn_lazy, Lazy, WaitError};
///
/// #[derive(Debug, PartialEq)]
/// struct DiskFull { free: u64 }
///
/// let x = spawn_lazy(|| -> u32 { std::panic::panic_any(DiskFull { free: 0 }) });
/// let Err(WaitError::Panicked(panic)) = Lazy::try_wait(&x) else { unreachable!() };
/// assert_eq!(panic.payload().downcast_ref::<DiskFull>(), Some(&DiskFull { free: 0 }));
/// assert_eq!(panic.message(), "<non-string panic payload>");
/// // The future still holds it: every reader gets the same panic.
/// assert!(matches!(Lazy::try_wait(&x), Err(WaitError::Panicked(_))));
/// ```
#[derive(Clone)]
pub struct TaskPanic(Arc<PanicShared>);

struct PanicShared {
    message: String,
    payload: Mutex<Box<dyn Any + Send>>,
    /// Whether a reader of any future this panic reached saw it (an access panicked
    /// with it, a checked wait or `join` or `take_late` returned it, a failure-aware
    /// continuation received it); a combinator passing it on does not count. A scope
    /// panics for a task's panic that nobody read.
    read: AtomicBool,
    /// Set when the future failed because its completer was dropped without a value,
    /// not because code panicked.
    broken: Option<BrokenPromise>,
    /// Set when this "panic" is a process task's child that died: readers see it as
    /// `WaitError::ProcessDied`, and `join` always gets a `ProcessDied` payload.
    #[cfg(feature = "process")]
    died: Option<ProcessDied>,
}

// Errors travel between threads: a panic must too, whatever its payload.
static_assertions::assert_impl_all!(TaskPanic: Send, Sync, Clone);

thread_local! {
    /// The payloads this thread has lent out right now (their addresses), so that a
    /// second loan of the same payload on the same thread is a clear panic, not a
    /// self-deadlock on its lock.
    static LENT: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

impl TaskPanic {
    /// Wraps the payload a task panicked with.
    pub(crate) fn new(payload: Box<dyn Any + Send>) -> Self {
        TaskPanic(Arc::new(PanicShared {
            message: panic_message(payload.as_ref()).to_owned(),
            payload: Mutex::new(payload),
            read: AtomicBool::new(false),
            broken: None,
            #[cfg(feature = "process")]
            died: None,
        }))
    }

    /// The failure of a future whose completer was dropped without a value: its
    /// message is the [`BrokenPromise`]'s text, and its payload the `BrokenPromise`
    /// itself (what [`Lazy::join`](crate::Lazy::join) returns).
    pub(crate) fn broken(broken: BrokenPromise) -> Self {
        TaskPanic(Arc::new(PanicShared {
            message: broken.to_string(),
            payload: Mutex::new(Box::new(broken.clone())),
            read: AtomicBool::new(false),
            broken: Some(broken),
            #[cfg(feature = "process")]
            died: None,
        }))
    }

    /// The broken promise this failure stands for, if it is one (and not a panic).
    pub(crate) fn broken_promise(&self) -> Option<&BrokenPromise> {
        self.0.broken.as_ref()
    }

    /// A process task's child died: the message is the death's own text, the payload a
    /// [`ProcessDied`].
    #[cfg(feature = "process")]
    pub(crate) fn died(died: ProcessDied) -> Self {
        TaskPanic(Arc::new(PanicShared {
            message: died.to_string(),
            payload: Mutex::new(Box::new(died.clone())),
            read: AtomicBool::new(false),
            broken: None,
            died: Some(died),
        }))
    }

    /// The death of a process task's child, if that is what this is.
    #[cfg(feature = "process")]
    pub(crate) fn process_died(&self) -> Option<&ProcessDied> {
        self.0.died.as_ref()
    }

    /// The task's own panic message: the `&str` or `String` it panicked with, or
    /// `"<non-string panic payload>"` for any other payload (reach that one with
    /// [`TaskPanic::payload`]).
    ///
    /// ```
    /// use transparent_future::{spawn_lazy, Lazy, WaitError};
    ///
    /// let x = spawn_lazy(|| -> u8 { panic!("disk on fire") });
    /// let Err(WaitError::Panicked(panic)) = Lazy::try_wait(&x) else { unreachable!() };
    /// assert_eq!(panic.message(), "disk on fire");
    /// assert_eq!(panic.to_string(), "background task panicked: disk on fire");
    /// ```
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The original panic payload, lent by reference: downcast it to the type the task
    /// panicked with (`&'static str` for `panic!("literal")`, `String` for a formatted
    /// message, any type for [`std::panic::panic_any`]).
    ///
    /// The payload is behind a lock while the returned guard lives (another thread
    /// borrowing it meanwhile waits); keep the guard short.
    ///
    /// # Panics
    ///
    /// If this thread already holds a guard for the same payload (a second borrow would
    /// wait for itself).
    ///
    /// ```
    /// use transparent_future::{spawn_lazy, Lazy, WaitError};
    ///
    /// let x = spawn_lazy(|| -> u8 { std::panic::panic_any(404_u16) });
    /// let Err(WaitError::Panicked(panic)) = Lazy::try_wait(&x) else { unreachable!() };
    /// assert_eq!(panic.payload().downcast_ref::<u16>(), Some(&404));
    /// ```
    #[track_caller]
    pub fn payload(&self) -> impl Deref<Target = dyn Any + Send> + '_ {
        let key = Arc::as_ptr(&self.0) as usize;
        let guard = match self.0.payload.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => {
                assert!(
                    !LENT.with(|lent| lent.borrow().contains(&key)),
                    "TaskPanic::payload: this thread already borrows this payload; \
                     drop the first guard before borrowing it again"
                );
                self.0
                    .payload
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
            }
        };
        LENT.with(|lent| lent.borrow_mut().push(key));
        PayloadGuard { guard, key }
    }

    /// Marks the panic as seen by a reader (see `PanicShared::read`).
    pub(crate) fn mark_read(&self) {
        // ORDERING: Relaxed: a standalone flag that guards no data; a read that
        // happens-before the scope's check (through the scope's join of its threads,
        // or program order) is seen there by coherence.
        self.0.read.store(true, Ordering::Relaxed);
    }

    /// Whether a reader saw this panic.
    pub(crate) fn was_read(&self) -> bool {
        // ORDERING: Relaxed, as in `mark_read`.
        self.0.read.load(Ordering::Relaxed)
    }

    /// The original payload by value if this is the only handle to it, else a `String`
    /// payload holding the message (another reader still holds the original). The
    /// caller hands it to a reader (`join`, `take_late`): it counts as read.
    pub(crate) fn into_payload(self) -> Box<dyn Any + Send> {
        self.mark_read();
        match Arc::try_unwrap(self.0) {
            Ok(shared) => shared
                .payload
                .into_inner()
                .unwrap_or_else(PoisonError::into_inner),
            #[cfg(feature = "process")]
            Err(shared) if shared.died.is_some() => Box::new(shared.died.clone()),
            Err(shared) => Box::new(shared.message.clone()),
        }
    }
}

/// A payload lent by [`TaskPanic::payload`].
struct PayloadGuard<'a> {
    guard: MutexGuard<'a, Box<dyn Any + Send>>,
    key: usize,
}

impl Deref for PayloadGuard<'_> {
    type Target = dyn Any + Send;

    fn deref(&self) -> &Self::Target {
        self.guard.as_ref()
    }
}

impl Drop for PayloadGuard<'_> {
    fn drop(&mut self) {
        // `try_with`: a guard dropped during thread-local teardown has nothing to undo.
        let _ = LENT.try_with(|lent| {
            let mut lent = lent.borrow_mut();
            if let Some(at) = lent.iter().rposition(|k| *k == self.key) {
                lent.swap_remove(at);
            }
        });
    }
}

impl PartialEq for TaskPanic {
    /// Two panics are equal if they are the same panic or carry the same message.
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.message == other.0.message
    }
}

impl Eq for TaskPanic {}

impl fmt::Debug for TaskPanic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskPanic")
            .field("message", &self.0.message)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for TaskPanic {
    /// The message a reader panics with: `background task panicked: <message>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        #[cfg(feature = "process")]
        if let Some(died) = &self.0.died {
            return fmt::Display::fmt(died, f);
        }
        write!(f, "background task panicked: {}", self.0.message)
    }
}

impl Error for TaskPanic {}

/// Why a future will never have a value although nothing panicked: whoever was to
/// complete it was dropped first (C++'s `std::future_errc::broken_promise`).
///
/// A [`Promise`](crate::Promise) dropped without [`Promise::set`](crate::Promise::set),
/// or an [`Actor`](crate::Actor) call that the actor never ran (it was stopped first,
/// or its executor refused it). The checked waits return it as
/// [`WaitError::Broken`](crate::WaitError::Broken); implicit accesses panic with its
/// text; [`Lazy::join`](crate::Lazy::join) returns it as the payload.
///
/// ```
/// use transparent_future::{BrokenPromise, Lazy, WaitError};
///
/// let (promise, answer) = Lazy::<u32>::promise();
/// drop(promise);
/// let Err(WaitError::Broken(broken)) = Lazy::try_wait(&answer) else { unreachable!() };
/// assert_eq!(broken.reason(), "the Promise was dropped without a value");
/// let payload = Lazy::join(answer).unwrap_err();
/// assert!(payload.downcast_ref::<BrokenPromise>().is_some());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BrokenPromise {
    reason: Cow<'static, str>,
}

impl BrokenPromise {
    /// A broken promise, for the given reason.
    pub(crate) fn new(reason: impl Into<Cow<'static, str>>) -> Self {
        BrokenPromise {
            reason: reason.into(),
        }
    }

    /// Who dropped what: `"the Promise was dropped without a value"`, `"the actor
    /// stopped before it ran this call"`, ...
    ///
    /// ```
    /// use transparent_future::{Lazy, WaitError};
    ///
    /// let (promise, x) = Lazy::<u8>::promise();
    /// drop(promise);
    /// let Err(WaitError::Broken(b)) = Lazy::try_wait(&x) else { unreachable!() };
    /// assert!(b.reason().contains("dropped"));
    /// ```
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for BrokenPromise {
    /// `broken promise: <reason>`.
    ///
    /// ```
    /// use transparent_future::{Lazy, WaitError};
    ///
    /// let (promise, x) = Lazy::<u8>::promise();
    /// drop(promise);
    /// let Err(e) = Lazy::try_wait(&x) else { unreachable!() };
    /// assert_eq!(e.to_string(), "broken promise: the Promise was dropped without a value");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "broken promise: {}", self.reason)
    }
}

impl Error for BrokenPromise {}

static_assertions::assert_impl_all!(BrokenPromise: Send, Sync, Clone);

#[cfg(test)]
mod tests {
    use super::panic_message;

    #[test]
    fn extracts_str_string_and_other_payloads() {
        let p = std::panic::catch_unwind(|| panic!("plain")).unwrap_err();
        assert_eq!(panic_message(p.as_ref()), "plain");
        let p = std::panic::catch_unwind(|| panic!("formatted {}", 7)).unwrap_err();
        assert_eq!(panic_message(p.as_ref()), "formatted 7");
        let p = std::panic::catch_unwind(|| std::panic::panic_any(42_u8)).unwrap_err();
        assert_eq!(panic_message(p.as_ref()), "<non-string panic payload>");
    }
}
