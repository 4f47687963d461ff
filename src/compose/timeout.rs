//! A deadline added to a future that is already running: `Lazy::timeout` (Java's
//! `orTimeout`, `tokio::time::timeout`), with the rules of a spawn-time policy.

use std::time::Instant;

use crate::compose::chain::downstream;
use crate::core::state::TaskResult;
use crate::lazy::outcome::Outcome;
use crate::lazy::policy::TimeoutPolicy;
use crate::lazy::{Lazy, source::IfDecided};

impl<T: Send + 'static> Lazy<T> {
    /// This future under a deadline, measured from now by `policy`: a
    /// `Lazy<Outcome<T>>` whose value is [`Outcome::Ready`] if this future's value
    /// arrives no later than the deadline, [`Outcome::Timeout`] otherwise, with the
    /// same rules as a deadline given at spawn time ([`Builder::timeout`]): readers are
    /// released at the deadline, every reader sees the same outcome, a panic passes
    /// through, and a value that arrives late stays collectable with
    /// [`Lazy::take_late`]. The work itself goes on (a thread cannot be killed).
    ///
    /// For Java's `completeOnTimeout(value, ..)`, map the outcome:
    /// `Lazy::map(Lazy::timeout(x, p), |o| o.unwrap_or(value))`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use transparent_future::{spawn_lazy, Deadline, Lazy, Outcome};
    ///
    /// let lookup = spawn_lazy(|| { std::thread::sleep(Duration::from_millis(300)); "found" });
    /// let bounded = Lazy::timeout(lookup, Deadline::after(Duration::from_millis(10)));
    /// assert_eq!(*bounded, Outcome::Timeout);   // released near 10 ms
    /// std::thread::sleep(Duration::from_millis(600));
    /// assert_eq!(Lazy::take_late(&bounded).map(Result::unwrap), Some("found"));
    ///
    /// let quick = Lazy::timeout(spawn_lazy(|| 1), Duration::from_secs(30));
    /// assert_eq!(*quick, Outcome::Ready(1));
    /// ```
    ///
    /// [`Builder::timeout`]: crate::Builder::timeout
    pub fn timeout<P: TimeoutPolicy>(this: Self, policy: P) -> Lazy<Outcome<T>> {
        // A value already there is in time, whatever the deadline (as for a policy
        // whose deadline has passed when the task's result is already there).
        let deadline = if Lazy::is_done(&this) {
            None
        } else {
            policy.deadline(Instant::now())
        };
        let (lazy, out) = downstream(&this, deadline, || Outcome::Timeout, "timeout");
        let k = move |r: TaskResult<T>, by| out.publish(r.map(Outcome::Ready), by);
        let job = Lazy::when_done(this, k, IfDecided::RunHere);
        Lazy::follows(&lazy, job);
        lazy
    }
}
