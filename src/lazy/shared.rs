//! [`SharedLazy<T>`]: a cheap-to-clone handle to one future's value.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::lazy::error::WaitError;
use crate::lazy::{Lazy, Peek};

/// A future many owners can hold: each clone is transparent like [`Lazy`], all clones
/// see the same value (computed once), a panic in the task reaches every clone, and the
/// value lives until the last clone is dropped.
///
/// Create one with [`Lazy::share`]. A clone costs a reference-count increment; an
/// access to the resolved value costs one pointer hop more than a `Lazy`'s.
///
/// ```
/// use transparent_future::{spawn_lazy, Lazy};
///
/// let config = Lazy::share(spawn_lazy(|| vec!["verbose", "color"]));
/// let workers: Vec<_> = (0..4)
///     .map(|i| {
///         let config = config.clone();
///         std::thread::spawn(move || config.len() + i)
///     })
///     .collect();
/// let sum: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
/// assert_eq!(sum, 2 * 4 + 6);
/// ```
pub struct SharedLazy<T> {
    inner: Arc<Lazy<T>>,
}

// Clones go to other threads: `Send + Sync` exactly when the value is.
static_assertions::assert_impl_all!(SharedLazy<u64>: Send, Sync, Clone);
static_assertions::assert_not_impl_any!(SharedLazy<std::cell::Cell<u8>>: Send, Sync);

impl<T> Lazy<T> {
    /// Turns this future into a [`SharedLazy`] whose clones share its value.
    ///
    /// ```
    /// use transparent_future::{spawn_lazy, Lazy};
    ///
    /// let a = Lazy::share(spawn_lazy(|| String::from("once")));
    /// let b = a.clone();
    /// assert_eq!(*a, "once");
    /// assert_eq!(*b, "once");
    /// ```
    pub fn share(this: Self) -> SharedLazy<T> {
        SharedLazy {
            inner: Arc::new(this),
        }
    }
}

impl<T> SharedLazy<T> {
    /// Blocks until the value is there and returns it (see [`Lazy::wait`]).
    ///
    /// ```
    /// let s = transparent_future::Lazy::share(transparent_future::spawn_lazy(|| 3));
    /// assert_eq!(*transparent_future::SharedLazy::wait(&s), 3);
    /// ```
    #[inline]
    pub fn wait(this: &Self) -> &T {
        Lazy::wait(&this.inner)
    }

    /// The value if it is there now; never waits (see [`Lazy::get`]).
    ///
    /// ```
    /// use transparent_future::{Lazy, SharedLazy};
    /// let s = Lazy::share(Lazy::with_value(1));
    /// assert_eq!(SharedLazy::get(&s), Some(&1));
    /// ```
    pub fn get(this: &Self) -> Option<&T> {
        Lazy::get(&this.inner)
    }

    /// Whether the outcome is decided; never blocks (see [`Lazy::is_done`]).
    ///
    /// ```
    /// use transparent_future::{Lazy, SharedLazy};
    /// assert!(SharedLazy::is_done(&Lazy::share(Lazy::with_value(1))));
    /// ```
    pub fn is_done(this: &Self) -> bool {
        Lazy::is_done(&this.inner)
    }

    /// Blocks until the value is there, returning an error instead of panicking (see
    /// [`Lazy::try_wait`]): every clone sees the same panic, payload included.
    ///
    /// ```
    /// use transparent_future::{spawn_lazy, Lazy, SharedLazy, WaitError};
    ///
    /// let s = Lazy::share(spawn_lazy(|| -> u8 { std::panic::panic_any(7_i32) }));
    /// let other = s.clone();
    /// for handle in [&s, &other] {
    ///     let Err(WaitError::Panicked(p)) = SharedLazy::try_wait(handle) else { unreachable!() };
    ///     assert_eq!(p.payload().downcast_ref::<i32>(), Some(&7));
    /// }
    /// ```
    pub fn try_wait(this: &Self) -> Result<&T, WaitError> {
        Lazy::try_wait(&this.inner)
    }

    /// Waits at most `timeout` (see [`Lazy::wait_timeout`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// use transparent_future::{spawn_lazy, Lazy, SharedLazy};
    /// let s = Lazy::share(spawn_lazy(|| 1));
    /// assert_eq!(SharedLazy::wait_timeout(&s, Duration::from_secs(30)), Ok(&1));
    /// ```
    pub fn wait_timeout(this: &Self, timeout: Duration) -> Result<&T, WaitError> {
        Lazy::wait_timeout(&this.inner, timeout)
    }

    /// Waits until `deadline` (see [`Lazy::wait_deadline`]).
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use transparent_future::{spawn_lazy, Lazy, SharedLazy};
    /// let s = Lazy::share(spawn_lazy(|| 1));
    /// let at = Instant::now() + Duration::from_secs(30);
    /// assert_eq!(SharedLazy::wait_deadline(&s, at), Ok(&1));
    /// ```
    pub fn wait_deadline(this: &Self, deadline: Instant) -> Result<&T, WaitError> {
        Lazy::wait_deadline(&this.inner, deadline)
    }

    /// The shared future itself, for the functions that take a `&Lazy<T>`.
    ///
    /// ```
    /// use transparent_future::{spawn_lazy, Lazy, SharedLazy};
    /// let s = Lazy::share(spawn_lazy(|| 1));
    /// assert!(Lazy::wait_timeout(SharedLazy::as_lazy(&s), std::time::Duration::from_secs(30)).is_ok());
    /// ```
    pub fn as_lazy(this: &Self) -> &Lazy<T> {
        &this.inner
    }

    /// A reference that does not keep the shared future alive (for a continuation,
    /// whose derived future keeps a clone instead, until it has no handle left).
    pub(crate) fn downgrade(this: &Self) -> std::sync::Weak<Lazy<T>> {
        Arc::downgrade(&this.inner)
    }

    /// A handle again, from [`SharedLazy::downgrade`]'s reference, if the future is
    /// still alive.
    pub(crate) fn upgrade(weak: &std::sync::Weak<Lazy<T>>) -> Option<Self> {
        weak.upgrade().map(|inner| SharedLazy { inner })
    }

    /// Whether two handles share the same future.
    ///
    /// ```
    /// use transparent_future::{Lazy, SharedLazy};
    /// let a = Lazy::share(Lazy::with_value(1));
    /// let b = a.clone();
    /// assert!(SharedLazy::ptr_eq(&a, &b));
    /// assert!(!SharedLazy::ptr_eq(&a, &Lazy::share(Lazy::with_value(1))));
    /// ```
    pub fn ptr_eq(this: &Self, other: &Self) -> bool {
        Arc::ptr_eq(&this.inner, &other.inner)
    }

    /// How many handles share this future.
    ///
    /// ```
    /// use transparent_future::{Lazy, SharedLazy};
    /// let a = Lazy::share(Lazy::with_value(1));
    /// let b = a.clone();
    /// assert_eq!(SharedLazy::handles(&b), 2);
    /// ```
    pub fn handles(this: &Self) -> usize {
        Arc::strong_count(&this.inner)
    }

    /// The future back, if this is the only handle; otherwise the handle itself.
    ///
    /// ```
    /// use transparent_future::{Lazy, SharedLazy};
    /// let a = Lazy::share(Lazy::with_value(1));
    /// let only = SharedLazy::try_unwrap(a).unwrap();
    /// assert_eq!(Lazy::into_inner(only), 1);
    /// ```
    pub fn try_unwrap(this: Self) -> Result<Lazy<T>, Self> {
        Arc::try_unwrap(this.inner).map_err(|inner| SharedLazy { inner })
    }

    /// Blocks until the value is there and returns it by value: moved out if this is
    /// the last handle (no clone), cloned otherwise (std's `Arc::unwrap_or_clone`).
    ///
    /// # Panics
    ///
    /// If the task panicked, as every access does.
    ///
    /// ```
    /// use transparent_future::{spawn_lazy, Lazy, SharedLazy};
    ///
    /// let a = Lazy::share(spawn_lazy(|| String::from("config")));
    /// let b = a.clone();
    /// assert_eq!(SharedLazy::unwrap_or_clone(a), "config"); // cloned: `b` still holds it
    /// assert_eq!(SharedLazy::unwrap_or_clone(b), "config"); // moved out: the last handle
    /// ```
    pub fn unwrap_or_clone(this: Self) -> T
    where
        T: Clone,
    {
        match SharedLazy::try_unwrap(this) {
            Ok(only) => Lazy::into_inner(only),
            Err(shared) => Lazy::wait(&shared.inner).clone(),
        }
    }
}

impl<T> Clone for SharedLazy<T> {
    /// Another handle to the same future: a reference-count increment.
    fn clone(&self) -> Self {
        SharedLazy {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T> Deref for SharedLazy<T> {
    type Target = T;

    /// Blocks on the first access until the value is there.
    #[inline]
    fn deref(&self) -> &T {
        Lazy::wait(&self.inner)
    }
}

impl<T> From<Lazy<T>> for SharedLazy<T> {
    /// The same as [`Lazy::share`].
    fn from(lazy: Lazy<T>) -> Self {
        Lazy::share(lazy)
    }
}

impl<T: fmt::Debug> fmt::Debug for SharedLazy<T> {
    /// Never blocks: `SharedLazy(value)`, `SharedLazy(<pending>)`,
    /// `SharedLazy(<panicked>)` or `SharedLazy(<broken promise>)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_tuple("SharedLazy");
        match Lazy::peek(&self.inner) {
            Peek::Ready(value) => d.field(value),
            Peek::Pending => d.field(&format_args!("<pending>")),
            Peek::Panicked => d.field(&format_args!("<panicked>")),
            Peek::Broken => d.field(&format_args!("<broken promise>")),
        };
        d.finish()
    }
}
