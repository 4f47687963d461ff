//! The process shorthands: sugar over the [`Builder`]'s process methods that panics on
//! refusal, as [`spawn_lazy`](crate::spawn_lazy) is over [`Builder::spawn`].

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::lazy::Lazy;
use crate::lazy::outcome::Outcome;
use crate::lazy::policy::TimeoutPolicy;
use crate::process::pool::ProcessPool;
use crate::spawn::builder::{Builder, expect_spawned};

/// Runs `f(arg)` in a new child process and returns its future at once: the same as
/// `Builder::new().spawn_process(arg, f)`, panicking if that is refused.
///
/// `f` is a plain `fn(A) -> T` (a `fn` item or a closure that captures nothing); `A` and
/// `T` cross the process boundary with serde. The child is this executable started
/// again; [`init`](crate::process::init) must be the first line of `main`. A panic in
/// `f` reaches the readers as a thread task's does; a crash (a signal, an exit) makes
/// them panic with a message naming the PID and the signal or status
/// ([`ProcessDied`](crate::process::ProcessDied)).
///
/// # Panics
///
/// Whenever [`Builder::spawn_process`] returns an error: the argument does not
/// serialize, the OS refuses a process, or this is a child that skipped `init`.
///
/// ```
/// transparent_future::process::init();
///
/// fn count_primes(below: u64) -> u64 {
///     (2..below).filter(|n| (2..*n).take_while(|d| d * d <= *n).all(|d| n % d != 0)).count() as u64
/// }
/// let n = transparent_future::process::spawn_lazy(1000u64, count_primes);
/// assert_eq!(*n + 1, 169); // transparent, like every Lazy
/// ```
#[track_caller]
pub fn spawn_lazy<A, T>(arg: A, f: fn(A) -> T) -> Lazy<T>
where
    A: Serialize + DeserializeOwned,
    T: Serialize + DeserializeOwned + Send + 'static,
{
    expect_spawned(Builder::new().spawn_process(arg, f), "process::spawn_lazy")
}

/// Runs `f(arg)` in a new child process under a timeout policy: the same as
/// `Builder::new().timeout(policy).spawn_process(arg, f)`, panicking if that is
/// refused. When the outcome is decided as [`Outcome::Timeout`] (a reader at the
/// deadline, or the timer for a watched future), the child and every process it
/// started are killed with SIGKILL and reaped. Dropping every handle, or
/// [`Lazy::cancel`], kills it too.
///
/// # Panics
///
/// As [`spawn_lazy`].
///
/// ```
/// transparent_future::process::init();
/// use std::time::Duration;
/// use transparent_future::{process, Deadline, Outcome};
///
/// fn spin_forever(_: u64) -> u64 {
///     loop {
///         std::hint::spin_loop();
///     }
/// }
/// let t = process::spawn_lazy_with(Deadline::after(Duration::from_millis(300)), 10u64, spin_forever);
/// assert!(t == Outcome::Timeout); // and the child is gone: killed, reaped, no zombie
/// ```
#[track_caller]
pub fn spawn_lazy_with<P, A, T>(policy: P, arg: A, f: fn(A) -> T) -> Lazy<Outcome<T>>
where
    P: TimeoutPolicy,
    A: Serialize + DeserializeOwned,
    T: Serialize + DeserializeOwned + Send + 'static,
{
    expect_spawned(
        Builder::new().timeout(policy).spawn_process(arg, f),
        "process::spawn_lazy_with",
    )
}

impl ProcessPool {
    /// Runs `f(arg)` on a worker of the pool and returns its future at once: the same
    /// as `Builder::new().spawn_process_on(&pool, arg, f)`, panicking if refused.
    ///
    /// # Panics
    ///
    /// As [`spawn_lazy`](crate::process::spawn_lazy).
    ///
    /// ```
    /// # transparent_future::process::init();
    /// fn len(s: String) -> usize { s.len() }
    /// let pool = transparent_future::process::ProcessPool::new(1);
    /// assert_eq!(*pool.spawn_lazy("four".to_string(), len), 4);
    /// ```
    #[track_caller]
    pub fn spawn_lazy<A, T>(&self, arg: A, f: fn(A) -> T) -> Lazy<T>
    where
        A: Serialize + DeserializeOwned,
        T: Serialize + DeserializeOwned + Send + 'static,
    {
        expect_spawned(
            Builder::new().spawn_process_on(self, arg, f),
            "ProcessPool::spawn_lazy",
        )
    }

    /// Runs `f(arg)` on a worker of the pool under a timeout policy (counted from this
    /// call): the same as `Builder::new().timeout(policy).spawn_process_on(&pool, arg,
    /// f)`. A task that times out while it runs has its worker killed and replaced.
    ///
    /// # Panics
    ///
    /// As [`spawn_lazy`](crate::process::spawn_lazy).
    ///
    /// ```
    /// # transparent_future::process::init();
    /// use std::time::Duration;
    /// use transparent_future::{Deadline, Outcome};
    /// fn len(s: String) -> usize { s.len() }
    /// let pool = transparent_future::process::ProcessPool::new(1);
    /// let x = pool.spawn_lazy_with(Deadline::after(Duration::from_secs(60)), "ab".to_string(), len);
    /// assert_eq!(*x, Outcome::Ready(2));
    /// ```
    #[track_caller]
    pub fn spawn_lazy_with<P, A, T>(&self, policy: P, arg: A, f: fn(A) -> T) -> Lazy<Outcome<T>>
    where
        P: TimeoutPolicy,
        A: Serialize + DeserializeOwned,
        T: Serialize + DeserializeOwned + Send + 'static,
    {
        expect_spawned(
            Builder::new()
                .timeout(policy)
                .spawn_process_on(self, arg, f),
            "ProcessPool::spawn_lazy_with",
        )
    }
}
