//! Errors: why a checked wait returned without the value.

use std::any::Any;
use std::cell::RefCell;
use std::error::Error;
use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};

use crate::panic::panic_message;

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
}

impl fmt::Display for WaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitError::Deadlock(cycle) => write!(f, "deadlock: {cycle}"),
            WaitError::Timeout => f.write_str("the wait timed out; the future is still pending"),
            WaitError::Panicked(panic) => fmt::Display::fmt(panic, f),
        }
    }
}

impl Error for WaitError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            WaitError::Deadlock(cycle) => Some(cycle),
            WaitError::Panicked(panic) => Some(panic),
            WaitError::Timeout => None,
        }
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
}

// Errors travel between threads: a panic must too, whatever its payload.
static_assertions::assert_impl_all!(TaskPanic: Send, Sync, Clone);
static_assertions::assert_impl_all!(WaitError: Send, Sync, Clone);

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
        }))
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

    /// The original payload by value if this is the only handle to it, else a `String`
    /// payload holding the message (another reader still holds the original).
    pub(crate) fn into_payload(self) -> Box<dyn Any + Send> {
        match Arc::try_unwrap(self.0) {
            Ok(shared) => shared
                .payload
                .into_inner()
                .unwrap_or_else(PoisonError::into_inner),
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
        write!(f, "background task panicked: {}", self.0.message)
    }
}

impl Error for TaskPanic {}

/// A cycle of waits found by the deadlock detector: each link is a future (and the
/// thread computing it, if a thread is), which waits on the next; the last waits on the
/// first.
///
/// Its `Display` names the cycle, e.g.
/// `task "a" on thread "t1" waits on task "b" on thread "t2", which waits on task "a"`.
///
/// ```
/// use std::sync::{Arc, OnceLock};
/// use transparent_future::{Builder, Lazy, WaitError};
///
/// // A task that reads its own future.
/// let me: Arc<OnceLock<transparent_future::SharedLazy<u32>>> = Arc::default();
/// let me2 = Arc::clone(&me);
/// let x = Builder::new().name("selfish").spawn(move || {
///     let own = me2.wait();
///     match Lazy::try_wait(transparent_future::SharedLazy::as_lazy(own)) {
///         Err(WaitError::Deadlock(cycle)) => cycle.len() as u32,
///         _ => 0,
///     }
/// }).unwrap();
/// let x = Lazy::share(x);
/// me.set(x.clone()).unwrap();
/// assert_eq!(*x, 1); // a cycle of one: the task waits on itself
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle {
    pub(crate) links: Vec<CycleLink>,
}

/// One future in a [`Cycle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CycleLink {
    /// What the future is: `task "<closure type>"` for a task, or what a derived
    /// future does (`map`, `then`, `all`, `scoped task`).
    pub future: String,
    /// The thread computing it, if a thread is: its name, or `ThreadId(N)` for an
    /// unnamed thread.
    pub thread: Option<String>,
}

impl Cycle {
    /// The futures in the cycle, starting with the one the refused thread is running.
    ///
    /// ```
    /// # use transparent_future::debug::Cycle;
    /// fn report(cycle: &Cycle) {
    ///     for link in cycle.links() {
    ///         eprintln!("{} on {:?}", link.future, link.thread);
    ///     }
    /// }
    /// ```
    pub fn links(&self) -> &[CycleLink] {
        &self.links
    }

    /// How many futures the cycle goes through.
    ///
    /// ```
    /// # fn f(cycle: &transparent_future::debug::Cycle) -> bool {
    /// cycle.len() >= 1
    /// # }
    /// ```
    pub fn len(&self) -> usize {
        self.links.len()
    }

    /// Always `false`: a cycle has at least one future.
    ///
    /// ```
    /// # fn f(cycle: &transparent_future::debug::Cycle) -> bool {
    /// !cycle.is_empty()
    /// # }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }
}

impl fmt::Display for CycleLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.future)?;
        if let Some(thread) = &self.thread {
            write!(f, " on thread {thread:?}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Cycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some((first, rest)) = self.links.split_first() else {
            return f.write_str("an empty cycle");
        };
        write!(f, "{first} waits on ")?;
        for link in rest {
            write!(f, "{link}, which waits on ")?;
        }
        f.write_str(&first.future)
    }
}

impl Error for Cycle {}
