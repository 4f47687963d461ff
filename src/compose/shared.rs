//! Several continuations on one future: the chaining functions of `SharedLazy`
//! (Java's `thenApply` twice on one stage, futures-rs `Shared` polled by many). Each
//! continuation borrows the shared value, which stays for every other reader.

use std::sync::Arc;

use crate::compose::chain::{downstream, forward, guarded, no_timeout};
use crate::core::job::Once;
use crate::core::state::DecidedBy;
use crate::core::task::Publisher;
use crate::lazy::error::WaitError;
use crate::lazy::outcome::Outcome;
use crate::lazy::shared::SharedLazy;
use crate::lazy::{Lazy, source::IfDecided};

/// Registers `k` to run once the shared future is decided, with a handle of its own
/// (a clone) to read the outcome from; user code runs where `map`'s would.
///
/// The callback holds only a weak reference: the derived future keeps the clone
/// (`Publisher::keep`, set by the callers' downstream) until it is published or has
/// no handle left, so that the shared future is cancelled once every clone and every
/// derived handle is gone. If it is gone when the callback runs, nobody can read the
/// derived future: `k` is dropped unrun, and its publisher, released, fails nobody.
fn when_shared_done<T, K>(this: &SharedLazy<T>, k: K) -> Option<Arc<Once>>
where
    T: Send + Sync + 'static,
    K: FnOnce(&SharedLazy<T>, DecidedBy) + Send + 'static,
{
    let weak = SharedLazy::downgrade(this);
    // Queued if the value is there: the caller records the job in its downstream.
    Lazy::when_decided(
        SharedLazy::as_lazy(this),
        move |by| {
            if let Some(own) = SharedLazy::upgrade(&weak) {
                k(&own, by);
            }
        },
        IfDecided::Submit,
    )
}

/// A new downstream future of a shared one.
fn shared_downstream<T, U>(this: &SharedLazy<T>, kind: &'static str) -> (Lazy<U>, Publisher<U>)
where
    T: Send + Sync + 'static,
    U: Send + 'static,
{
    let (lazy, out) = downstream(SharedLazy::as_lazy(this), None, no_timeout, kind);
    out.reads(Lazy::node(SharedLazy::as_lazy(this)).into_iter().collect());
    out.keep(Box::new(this.clone()));
    (lazy, out)
}

impl<T: Send + Sync + 'static> SharedLazy<T> {
    /// A future of `f(&value)`, computed as soon as the shared value is there, as
    /// [`Lazy::map`] does, without consuming the value: every clone can still read it,
    /// and any number of continuations can hang off one shared future.
    ///
    /// ```
    /// use transparent_future::{spawn_lazy, Lazy, SharedLazy};
    ///
    /// let text = Lazy::share(spawn_lazy(|| String::from("one shared input")));
    /// let words = SharedLazy::map(&text, |t| t.split(' ').count());
    /// let bytes = SharedLazy::map(&text, |t| t.len());
    /// assert_eq!((*words, *bytes), (3, 16));
    /// assert_eq!(*text, "one shared input"); // still there
    /// ```
    pub fn map<U, F>(this: &Self, f: F) -> Lazy<U>
    where
        U: Send + 'static,
        F: FnOnce(&T) -> U + Send + 'static,
    {
        let (lazy, out) = shared_downstream(this, "map");
        let job = when_shared_done(this, move |shared, by| {
            out.computing_here();
            let r = Lazy::decided(SharedLazy::as_lazy(shared));
            out.publish(r.and_then(|value| guarded(|| f(value))), by);
        });
        Lazy::follows(&lazy, job);
        lazy
    }

    /// A future of the value of the future `f(&value)` returns, as [`Lazy::then`]
    /// does, without consuming the shared value.
    ///
    /// ```
    /// use transparent_future::{spawn_lazy, Lazy, SharedLazy};
    ///
    /// let id = Lazy::share(spawn_lazy(|| 7));
    /// let name = SharedLazy::then(&id, |&id| spawn_lazy(move || format!("user-{id}")));
    /// let mail = SharedLazy::then(&id, |&id| spawn_lazy(move || format!("{id}@example.org")));
    /// assert_eq!(*name, "user-7");
    /// assert_eq!(*mail, "7@example.org");
    /// ```
    pub fn then<U, F>(this: &Self, f: F) -> Lazy<U>
    where
        U: Send + 'static,
        F: FnOnce(&T) -> Lazy<U> + Send + 'static,
    {
        let (lazy, out) = shared_downstream(this, "then");
        let job = when_shared_done(this, move |shared, by| {
            out.computing_here();
            let r = Lazy::decided(SharedLazy::as_lazy(shared));
            match r.and_then(|value| guarded(|| f(value))) {
                Ok(inner) => forward(inner, out),
                Err(panic) => out.publish(Err(panic), by),
            }
        });
        Lazy::follows(&lazy, job);
        lazy
    }

    /// A future of `f(result)` however the shared future ended, as [`Lazy::handle`]
    /// does: `Ok(&value)`, or `Err` with [`WaitError::Panicked`] or
    /// [`WaitError::Broken`]. Every clone still sees the same outcome.
    ///
    /// ```
    /// use transparent_future::{spawn_lazy, Lazy, SharedLazy};
    ///
    /// let shared = Lazy::share(spawn_lazy(|| -> u8 { panic!("bad input") }));
    /// let report = SharedLazy::handle(&shared, |r| match r {
    ///     Ok(v) => format!("value {v}"),
    ///     Err(e) => format!("failed: {e}"),
    /// });
    /// assert_eq!(*report, "failed: background task panicked: bad input");
    /// assert!(SharedLazy::try_wait(&shared).is_err()); // the other readers still see it
    /// ```
    pub fn handle<U, F>(this: &Self, f: F) -> Lazy<U>
    where
        U: Send + 'static,
        F: FnOnce(Result<&T, WaitError>) -> U + Send + 'static,
    {
        let (lazy, out) = shared_downstream(this, "handle");
        let job = when_shared_done(this, move |shared, by| {
            out.computing_here();
            let r = Lazy::decided(SharedLazy::as_lazy(shared)).map_err(WaitError::from_failure);
            out.publish(guarded(|| f(r)), by);
        });
        Lazy::follows(&lazy, job);
        lazy
    }
}

impl<T: Send + Sync + 'static> SharedLazy<Outcome<T>> {
    /// Maps a shared value that arrived in time, as [`Lazy::map_ready`] does: a timeout
    /// passes through without calling `f`, and the new future keeps the deadline.
    ///
    /// ```
    /// use std::time::Duration;
    /// use transparent_future::{spawn_lazy_with, Deadline, Lazy, Outcome, SharedLazy};
    ///
    /// let x = Lazy::share(spawn_lazy_with(Deadline::after(Duration::from_secs(30)), || 20));
    /// assert_eq!(*SharedLazy::map_ready(&x, |n| n + 1), Outcome::Ready(21));
    /// assert_eq!(*SharedLazy::map_ready(&x, |n| n * 2), Outcome::Ready(40));
    /// ```
    pub fn map_ready<U, F>(this: &Self, f: F) -> Lazy<Outcome<U>>
    where
        U: Send + 'static,
        F: FnOnce(&T) -> U + Send + 'static,
    {
        let upstream = SharedLazy::as_lazy(this);
        let (lazy, out) = downstream(
            upstream,
            Lazy::deadline(upstream),
            || Outcome::Timeout,
            "map_ready",
        );
        out.reads(Lazy::node(upstream).into_iter().collect());
        out.keep(Box::new(this.clone()));
        let job = when_shared_done(this, move |shared, by| {
            out.computing_here();
            let r = Lazy::decided(SharedLazy::as_lazy(shared));
            out.publish(r.and_then(|o| guarded(|| o.as_ref().map(f))), by);
        });
        Lazy::follows(&lazy, job);
        lazy
    }

    /// Chains a future onto a shared value that arrived in time, as
    /// [`Lazy::then_ready`] does: a timeout passes through, and the deadline covers the
    /// future `f` returns.
    ///
    /// ```
    /// use std::time::Duration;
    /// use transparent_future::{spawn_lazy, spawn_lazy_with, Deadline, Lazy, Outcome, SharedLazy};
    ///
    /// let id = Lazy::share(spawn_lazy_with(Deadline::after(Duration::from_secs(30)), || 7));
    /// let name = SharedLazy::then_ready(&id, |&id| spawn_lazy(move || format!("user-{id}")));
    /// assert_eq!(*name, Outcome::Ready("user-7".to_string()));
    /// ```
    pub fn then_ready<U, F>(this: &Self, f: F) -> Lazy<Outcome<U>>
    where
        U: Send + 'static,
        F: FnOnce(&T) -> Lazy<U> + Send + 'static,
    {
        let upstream = SharedLazy::as_lazy(this);
        let (lazy, out) = downstream(
            upstream,
            Lazy::deadline(upstream),
            || Outcome::Timeout,
            "then_ready",
        );
        out.reads(Lazy::node(upstream).into_iter().collect());
        out.keep(Box::new(this.clone()));
        let job = when_shared_done(this, move |shared, by| {
            out.computing_here();
            match Lazy::decided(SharedLazy::as_lazy(shared)) {
                Ok(Outcome::Ready(value)) => match guarded(|| f(value)) {
                    Ok(inner) => forward(Lazy::map(inner, Outcome::Ready), out),
                    Err(panic) => out.publish(Err(panic), by),
                },
                Ok(Outcome::Timeout) => out.publish(Ok(Outcome::Timeout), by),
                Err(panic) => out.publish(Err(panic), by),
            }
        });
        Lazy::follows(&lazy, job);
        lazy
    }
}
