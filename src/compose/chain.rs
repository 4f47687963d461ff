//! Chaining: `Lazy::map`, `Lazy::then` and their timeout-aware forms on
//! `Lazy<Outcome<T>>`. A continuation runs when its input is decided, on the thread
//! that decided it; no thread blocks in between.
//!
//! The rules, for every form:
//!
//! * the upstream's value goes to `f`; `f`'s return value (or, for `then`, the value
//!   of the future `f` returns) is the downstream's value;
//! * a panic upstream, in `f`, or in the future `then`'s `f` returns, becomes the
//!   downstream's panic, with the same payload;
//! * `map_ready`/`then_ready` pass a timeout upstream through as `Outcome::Timeout`
//!   without calling `f`, and give the downstream the upstream's deadline: the
//!   deadline covers the whole chain.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::core::panic::TaskPanic;
use crate::core::state::{Core, DecidedBy, TaskResult, Timeout};
use crate::core::task::Publisher;
use crate::lazy::outcome::Outcome;
use crate::lazy::{Lazy, source::IfDecided};

/// A downstream future living where the upstream lives, with an optional deadline.
pub(crate) fn downstream<T: Send + 'static, U: Send + 'static>(
    upstream: &Lazy<T>,
    deadline: Option<std::time::Instant>,
    timeout_value: fn() -> U,
    kind: &'static str,
) -> (Lazy<U>, Publisher<U>) {
    let timeout = deadline.map(|at| Timeout {
        at,
        value: timeout_value,
    });
    let (source, out) = Publisher::new(Core::new(timeout, Lazy::home(upstream).follower()), kind);
    out.needs(Lazy::node(upstream).into_iter().collect());
    (Lazy::from_source(source), out)
}

pub(crate) fn no_timeout<U>() -> U {
    unreachable!("transparent_future: a future without a deadline timed out")
}

/// Publishes `f(value)` (or the upstream's panic) downstream.
fn apply<T, U, F>(result: TaskResult<T>, by: DecidedBy, f: F, out: Publisher<U>)
where
    U: Send + 'static,
    F: FnOnce(T) -> U,
{
    out.computing_here();
    out.publish(result.and_then(|value| guarded(|| f(value))), by);
}

/// Runs user code, catching its panic as the downstream's.
pub(crate) fn guarded<R>(f: impl FnOnce() -> R) -> TaskResult<R> {
    catch_unwind(AssertUnwindSafe(f)).map_err(TaskPanic::new)
}

/// Forwards the result of `inner` downstream once it is decided. Readers may already
/// sleep on the downstream (this runs when a `then`'s closure returns): linking the
/// inner future wakes them to help it (it may be queued behind them).
pub(crate) fn forward<U: Send + 'static>(inner: Lazy<U>, out: Publisher<U>) {
    out.relink(Lazy::node(&inner).into_iter().collect());
    // Forwarding runs here: nothing is queued.
    let _ = Lazy::when_done(inner, move |r, by| out.publish(r, by), IfDecided::RunHere);
}

impl<T: Send + 'static> Lazy<T> {
    /// A future of `f(value)`, computed as soon as this future's value is there,
    /// without a thread blocked in between: `f` runs on the thread that finishes this
    /// future's task (or, if the value is already there, on the pool this future came
    /// from, or else a new thread). On thread-per-task that is at most one extra
    /// thread; on a [`ThreadPool`](crate::ThreadPool), none. Like a queued task, a
    /// continuation queued on a pool may run on a reader instead (work-helping): one
    /// that waits for the new future without a limit runs it rather than sleep behind
    /// busy workers (a bounded wait never does).
    ///
    /// A panic upstream or in `f` becomes the new future's panic. On a
    /// `Lazy<Outcome<T>>`, `f` receives the outcome, timeout included, decided at the
    /// deadline; [`Lazy::map_ready`] maps only a value in time.
    ///
    /// ```
    /// use transparent_future::{spawn_lazy, Lazy};
    ///
    /// let text = spawn_lazy(|| String::from("transparent future"));
    /// let words = Lazy::map(text, |t| t.split(' ').count());
    /// let doubled = Lazy::map(words, |n| n * 2);
    /// assert_eq!(*doubled, 4);
    /// ```
    pub fn map<U, F>(this: Self, f: F) -> Lazy<U>
    where
        U: Send + 'static,
        F: FnOnce(T) -> U + Send + 'static,
    {
        let (lazy, out) = downstream(&this, None, no_timeout, "map");
        let job = Lazy::when_done(this, move |r, by| apply(r, by, f, out), IfDecided::Submit);
        Lazy::follows(&lazy, job);
        lazy
    }

    /// A future of the value of the future `f` returns: `f` runs as soon as this
    /// future's value is there (as for [`Lazy::map`]), and the new future resolves when
    /// the future `f` returned does, with no thread blocked waiting for either.
    ///
    /// ```
    /// use transparent_future::{spawn_lazy, Lazy};
    ///
    /// let user_id = spawn_lazy(|| 7);
    /// let name = Lazy::then(user_id, |id| spawn_lazy(move || format!("user-{id}")));
    /// assert_eq!(*name, "user-7");
    /// ```
    pub fn then<U, F>(this: Self, f: F) -> Lazy<U>
    where
        U: Send + 'static,
        F: FnOnce(T) -> Lazy<U> + Send + 'static,
    {
        let (lazy, out) = downstream(&this, None, no_timeout, "then");
        let k = move |r: TaskResult<T>, by| {
            out.computing_here();
            match r.and_then(|value| guarded(|| f(value))) {
                Ok(inner) => forward(inner, out),
                Err(panic) => out.publish(Err(panic), by),
            }
        };
        let job = Lazy::when_done(this, k, IfDecided::Submit);
        Lazy::follows(&lazy, job);
        lazy
    }
}

impl<T: Send + 'static> Lazy<Outcome<T>> {
    /// Maps a value that arrived in time; a timeout passes through as
    /// `Outcome::Timeout` without calling `f`. The new future has the same deadline as
    /// this one: the outcome is `Ready` only if `f` also finished by then, and its
    /// readers are released at the deadline.
    ///
    /// ```
    /// use std::time::Duration;
    /// use transparent_future::{spawn_lazy_with, Deadline, Lazy, Outcome};
    ///
    /// let quick = spawn_lazy_with(Deadline::after(Duration::from_secs(30)), || 20);
    /// assert_eq!(*Lazy::map_ready(quick, |n| n + 1), Outcome::Ready(21));
    ///
    /// let slow = spawn_lazy_with(Deadline::after(Duration::from_millis(10)), || {
    ///     std::thread::sleep(Duration::from_millis(300));
    ///     20
    /// });
    /// assert_eq!(*Lazy::map_ready(slow, |n| n + 1), Outcome::Timeout);
    /// ```
    pub fn map_ready<U, F>(this: Self, f: F) -> Lazy<Outcome<U>>
    where
        U: Send + 'static,
        F: FnOnce(T) -> U + Send + 'static,
    {
        let deadline = Lazy::deadline(&this);
        let (lazy, out) = downstream(&this, deadline, || Outcome::Timeout, "map_ready");
        let k = move |r: TaskResult<Outcome<T>>, by| apply(r, by, |o| o.map(f), out);
        let job = Lazy::when_done(this, k, IfDecided::Submit);
        Lazy::follows(&lazy, job);
        lazy
    }

    /// Chains a future onto a value that arrived in time; a timeout passes through
    /// without calling `f`. The new future has this one's deadline, which covers the
    /// future `f` returns too.
    ///
    /// ```
    /// use std::time::Duration;
    /// use transparent_future::{spawn_lazy, spawn_lazy_with, Deadline, Lazy, Outcome};
    ///
    /// let id = spawn_lazy_with(Deadline::after(Duration::from_secs(30)), || 7);
    /// let name = Lazy::then_ready(id, |id| spawn_lazy(move || format!("user-{id}")));
    /// assert_eq!(*name, Outcome::Ready("user-7".to_string()));
    /// ```
    pub fn then_ready<U, F>(this: Self, f: F) -> Lazy<Outcome<U>>
    where
        U: Send + 'static,
        F: FnOnce(T) -> Lazy<U> + Send + 'static,
    {
        let deadline = Lazy::deadline(&this);
        let (lazy, out) = downstream(&this, deadline, || Outcome::Timeout, "then_ready");
        let k = move |r: TaskResult<Outcome<T>>, by| match r {
            Ok(Outcome::Ready(value)) => match guarded(|| {
                out.computing_here();
                f(value)
            }) {
                Ok(inner) => forward(Lazy::map(inner, Outcome::Ready), out),
                Err(panic) => out.publish(Err(panic), by),
            },
            Ok(Outcome::Timeout) => out.publish(Ok(Outcome::Timeout), by),
            Err(panic) => out.publish(Err(panic), by),
        };
        let job = Lazy::when_done(this, k, IfDecided::Submit);
        Lazy::follows(&lazy, job);
        lazy
    }
}
