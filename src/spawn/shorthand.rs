//! The shorthands: every spawn function beside the [`Builder`]'s own, each sugar over
//! it that panics on refusal, as [`std::thread::spawn`] does over its builder.

use crate::executor::pool::ThreadPool;
use crate::lazy::Lazy;
use crate::lazy::outcome::Outcome;
use crate::lazy::policy::TimeoutPolicy;
use crate::spawn::builder::{Builder, expect_spawned};
use crate::spawn::scope::Scope;

/// Runs `f` on a new background thread and returns its future at once: the same as
/// `Builder::new().spawn(f)`, panicking if the thread is refused.
///
/// The first access to the result blocks until `f` has returned; later accesses are
/// free. A panic in `f` reaches the readers (see [`Lazy`]).
///
/// # Panics
///
/// If the OS refuses a thread, or the [live-thread cap](crate::executor::ThreadPerTask)
/// is reached; [`Builder::spawn`] returns that as an error instead.
///
/// ```
/// use std::time::{Duration, Instant};
/// use transparent_future::spawn_lazy;
///
/// fn very_slow_task(arg: u32) -> u32 {
///     std::thread::sleep(Duration::from_millis(200));
///     arg
/// }
///
/// let t0 = Instant::now();
/// let x = spawn_lazy(|| very_slow_task(1));
/// let y = spawn_lazy(|| very_slow_task(2));
/// assert_eq!(format!("{} {}", *y, x), "2 1");   // both ran at once
/// assert!(t0.elapsed() < Duration::from_millis(390));
/// let total = x + 1;
/// assert_eq!(total, 2);
/// ```
///
/// The closure and its result must be able to cross threads:
///
/// ```compile_fail
/// use std::rc::Rc;
/// let x = transparent_future::spawn_lazy(|| Rc::new(1)); // Rc is not Send
/// ```
#[track_caller]
pub fn spawn_lazy<F, T>(f: F) -> Lazy<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    expect_spawned(Builder::new().spawn(f), "spawn_lazy")
}

/// Runs `f` on a new background thread under a timeout policy: the same as
/// `Builder::new().timeout(policy).spawn(f)`, panicking if the thread is refused. The
/// future's value is [`Outcome::Ready`] if `f` returned no later than the policy's
/// deadline (measured from this call), [`Outcome::Timeout`] otherwise.
///
/// A reader blocked on a late task is released at the deadline. The task keeps running
/// (a thread cannot be killed; [`Builder::spawn_cancellable`] makes one that can be asked
/// to stop); its late result can be collected with [`Lazy::take_late`], or is dropped
/// exactly once when both sides are done.
///
/// # Panics
///
/// If the thread is refused, as [`spawn_lazy`].
///
/// ```
/// use std::time::Duration;
/// use transparent_future::{spawn_lazy_with, Deadline, Outcome};
///
/// let z = spawn_lazy_with(Deadline::after(Duration::from_millis(50)), || {
///     std::thread::sleep(Duration::from_secs(2));
///     "a"
/// });
/// assert!(z == Outcome::Timeout);
/// assert_eq!(z.to_string(), "Timeout");
/// ```
#[track_caller]
pub fn spawn_lazy_with<P, F, T>(policy: P, f: F) -> Lazy<Outcome<T>>
where
    P: TimeoutPolicy,
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    expect_spawned(Builder::new().timeout(policy).spawn(f), "spawn_lazy_with")
}

impl ThreadPool {
    /// Runs `f` on the pool and returns its future at once: the same as
    /// `Builder::new().on(&pool).spawn(f)`, which a pool never refuses.
    ///
    /// ```
    /// let pool = transparent_future::ThreadPool::new(2);
    /// let x = pool.spawn_lazy(|| "pooled".len());
    /// assert_eq!(*x, 6);
    /// ```
    #[track_caller]
    pub fn spawn_lazy<F, T>(&self, f: F) -> Lazy<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        expect_spawned(Builder::new().on(self).spawn(f), "ThreadPool::spawn_lazy")
    }

    /// Runs `f` on the pool under a timeout policy (see
    /// [`spawn_lazy_with`](crate::spawn_lazy_with)): the same as
    /// `Builder::new().on(&pool).timeout(policy).spawn(f)`. The deadline counts from
    /// this call, time spent in the queue included.
    ///
    /// ```
    /// use std::time::Duration;
    /// use transparent_future::{Deadline, Outcome, ThreadPool};
    ///
    /// let pool = ThreadPool::new(1);
    /// let x = pool.spawn_lazy_with(Deadline::after(Duration::from_secs(30)), || 1);
    /// assert_eq!(*x, Outcome::Ready(1));
    /// ```
    #[track_caller]
    pub fn spawn_lazy_with<P, F, T>(&self, policy: P, f: F) -> Lazy<Outcome<T>>
    where
        P: TimeoutPolicy,
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        expect_spawned(
            Builder::new().on(self).timeout(policy).spawn(f),
            "ThreadPool::spawn_lazy_with",
        )
    }
}

impl<'scope> Scope<'scope, '_> {
    /// Runs `f`, which may borrow from outside the scope, on a new thread: the same as
    /// `Builder::new().spawn_scoped(self, f)`, panicking if the thread is refused.
    ///
    /// # Panics
    ///
    /// If the thread is refused; [`Builder::spawn_scoped`] returns that as an error.
    ///
    /// ```
    /// let v = vec![3, 1, 2];
    /// let max = transparent_future::scope(|s| *s.spawn_lazy(|| *v.iter().max().unwrap()));
    /// assert_eq!(max, 3);
    /// ```
    #[track_caller]
    pub fn spawn_lazy<F, T>(&self, f: F) -> Lazy<T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'static,
    {
        expect_spawned(Builder::new().spawn_scoped(self, f), "Scope::spawn_lazy")
    }
}
