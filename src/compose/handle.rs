//! Continuations that see failures: `Lazy::handle` runs however its input ended (value,
//! panic, broken promise; a timeout is a value of a `Lazy<Outcome<T>>`) and sees how;
//! `Lazy::recover` replaces a failure with a value. `map`/`then` keep their meaning:
//! they see only values.

use crate::compose::chain::{downstream, guarded, no_timeout};
use crate::core::state::TaskResult;
use crate::lazy::error::WaitError;
use crate::lazy::{Lazy, source::IfDecided};

impl<T: Send + 'static> Lazy<T> {
    /// A future of `f(result)`, where `result` is how this future ended: `Ok(value)`,
    /// or `Err` with [`WaitError::Panicked`] (the task's panic, payload reachable with
    /// [`TaskPanic::payload`](crate::TaskPanic::payload)) or [`WaitError::Broken`] (its
    /// promise was dropped unset). Java's `handle`/`whenComplete`, Python's
    /// `add_done_callback`: `f` runs in every case, and can recover.
    ///
    /// On a `Lazy<Outcome<T>>` a timeout is a value: `f` gets `Ok(Outcome::Timeout)`,
    /// at the deadline. `f` runs where [`Lazy::map`]'s closure would (the thread that
    /// decides the input, or its pool, or a new thread); a panic in `f` becomes the new
    /// future's panic.
    ///
    /// ```
    /// use transparent_future::{spawn_lazy, Lazy, WaitError};
    ///
    /// let flaky = spawn_lazy(|| -> u32 { std::panic::panic_any(503_u16) });
    /// let status = Lazy::handle(flaky, |result| match result {
    ///     Ok(n) => format!("got {n}"),
    ///     Err(WaitError::Panicked(p)) => match p.payload().downcast_ref::<u16>() {
    ///         Some(code) => format!("failed with {code}"),
    ///         None => format!("failed: {}", p.message()),
    ///     },
    ///     Err(other) => format!("no value: {other}"),
    /// });
    /// assert_eq!(*status, "failed with 503");
    /// ```
    ///
    /// A deadline's timeout, seen and recovered from:
    ///
    /// ```
    /// use std::time::Duration;
    /// use transparent_future::{spawn_lazy_with, Deadline, Lazy, Outcome};
    ///
    /// let slow = spawn_lazy_with(Deadline::after(Duration::from_millis(10)), || {
    ///     std::thread::sleep(Duration::from_millis(300));
    ///     "fresh"
    /// });
    /// let page = Lazy::handle(slow, |r| match r {
    ///     Ok(Outcome::Ready(page)) => page,
    ///     Ok(Outcome::Timeout) => "cached",
    ///     Err(_) => "error page",
    /// });
    /// assert_eq!(*page, "cached");
    /// ```
    pub fn handle<U, F>(this: Self, f: F) -> Lazy<U>
    where
        U: Send + 'static,
        F: FnOnce(Result<T, WaitError>) -> U + Send + 'static,
    {
        let (lazy, out) = downstream(&this, None, no_timeout, "handle");
        let k = move |r: TaskResult<T>, by| {
            out.computing_here();
            let seen = r.map_err(WaitError::from_failure);
            out.publish(guarded(|| f(seen)), by);
        };
        let job = Lazy::when_done(this, k, IfDecided::Submit);
        Lazy::follows(&lazy, job);
        lazy
    }

    /// A future of this future's value, or of `f(error)` if it failed (Java's
    /// `exceptionally`): `f` runs only on a failure ([`WaitError::Panicked`] or
    /// [`WaitError::Broken`]), where [`Lazy::handle`]'s closure would.
    ///
    /// ```
    /// use transparent_future::{spawn_lazy, Lazy};
    ///
    /// let parsed = spawn_lazy(|| "forty-two".parse::<u32>().unwrap());
    /// let safe = Lazy::recover(parsed, |_| 0);
    /// assert_eq!(*safe, 0);
    /// assert_eq!(*Lazy::recover(spawn_lazy(|| 7_u32), |_| 0), 7);
    /// ```
    pub fn recover<F>(this: Self, f: F) -> Lazy<T>
    where
        F: FnOnce(WaitError) -> T + Send + 'static,
    {
        let (lazy, out) = downstream(&this, None, no_timeout, "recover");
        let k = move |r: TaskResult<T>, by| match r {
            Ok(value) => out.publish(Ok(value), by),
            Err(failure) => {
                out.computing_here();
                let e = WaitError::from_failure(failure);
                out.publish(guarded(|| f(e)), by);
            }
        };
        let job = Lazy::when_done(this, k, IfDecided::Submit);
        Lazy::follows(&lazy, job);
        lazy
    }
}
