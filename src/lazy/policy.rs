//! Timeout policies: when a future's outcome becomes [`Outcome::Timeout`].
//!
//! [`Outcome::Timeout`]: crate::Outcome::Timeout

use std::time::{Duration, Instant};

/// Decides the deadline of a future from the instant it was spawned.
///
/// The outcome of a future spawned with a policy is [`Outcome::Ready`] exactly when the
/// task's result was published no later than the deadline, and [`Outcome::Timeout`]
/// otherwise. `None` means "no deadline": wait forever.
///
/// Implement it for your own policies:
///
/// ```
/// use std::time::{Duration, Instant};
/// use transparent_future::{spawn_lazy_with, Outcome, TimeoutPolicy};
///
/// /// A budget that grows with the size of the job.
/// struct PerItem { items: u32, each: Duration }
///
/// impl TimeoutPolicy for PerItem {
///     fn deadline(&self, spawned_at: Instant) -> Option<Instant> {
///         spawned_at.checked_add(self.each.checked_mul(self.items)?)
///     }
/// }
///
/// let x = spawn_lazy_with(PerItem { items: 100, each: Duration::from_millis(50) }, || 42);
/// assert_eq!(*x, Outcome::Ready(42));
/// ```
///
/// [`Outcome::Ready`]: crate::Outcome::Ready
/// [`Outcome::Timeout`]: crate::Outcome::Timeout
pub trait TimeoutPolicy {
    /// The deadline of a future spawned at `spawned_at`, or `None` to wait forever.
    fn deadline(&self, spawned_at: Instant) -> Option<Instant>;
}

/// The null policy: no deadline, the outcome is always [`Outcome::Ready`].
///
/// ```
/// use transparent_future::{spawn_lazy_with, NoTimeout, Outcome};
///
/// let x = spawn_lazy_with(NoTimeout, || "done");
/// assert_eq!(*x, Outcome::Ready("done"));
/// ```
///
/// [`Outcome::Ready`]: crate::Outcome::Ready
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct NoTimeout;

impl TimeoutPolicy for NoTimeout {
    fn deadline(&self, _spawned_at: Instant) -> Option<Instant> {
        None
    }
}

/// A deadline, either relative to the spawn ([`Deadline::after`]) or absolute
/// ([`Deadline::at`]).
///
/// A deadline too far in the future to represent (`Deadline::after(Duration::MAX)`)
/// means "wait forever"; a deadline already past means the outcome is a timeout unless
/// the task's result is already there; a zero duration is valid.
///
/// ```
/// use std::time::Duration;
/// use transparent_future::{spawn_lazy_with, Deadline, Outcome};
///
/// let slow = spawn_lazy_with(Deadline::after(Duration::from_millis(20)), || {
///     std::thread::sleep(Duration::from_secs(1));
///     "too late"
/// });
/// assert_eq!(*slow, Outcome::Timeout); // released near 20 ms, not after a second
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Deadline(Kind);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    After(Duration),
    At(Instant),
}

impl Deadline {
    /// A deadline `duration` after the future is spawned. A duration too large to add
    /// to the spawn instant means "wait forever", never an overflow panic.
    ///
    /// ```
    /// use std::time::Duration;
    /// use transparent_future::{spawn_lazy_with, Deadline, Outcome};
    ///
    /// let forever = spawn_lazy_with(Deadline::after(Duration::MAX), || 1);
    /// assert_eq!(*forever, Outcome::Ready(1));
    /// ```
    pub const fn after(duration: Duration) -> Self {
        Deadline(Kind::After(duration))
    }

    /// A deadline at a fixed instant, whenever the future is spawned.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use transparent_future::{spawn_lazy_with, Deadline, Outcome};
    ///
    /// let at = Instant::now() + Duration::from_secs(5);
    /// let a = spawn_lazy_with(Deadline::at(at), || 1);
    /// let b = spawn_lazy_with(Deadline::at(at), || 2); // one deadline shared by both
    /// assert_eq!(*a, Outcome::Ready(1));
    /// assert_eq!(*b, Outcome::Ready(2));
    /// ```
    pub const fn at(instant: Instant) -> Self {
        Deadline(Kind::At(instant))
    }
}

impl TimeoutPolicy for Deadline {
    fn deadline(&self, spawned_at: Instant) -> Option<Instant> {
        match self.0 {
            Kind::After(d) => spawned_at.checked_add(d),
            Kind::At(at) => Some(at),
        }
    }
}

impl<P: TimeoutPolicy + ?Sized> TimeoutPolicy for &P {
    fn deadline(&self, spawned_at: Instant) -> Option<Instant> {
        (**self).deadline(spawned_at)
    }
}

impl TimeoutPolicy for Duration {
    /// A bare `Duration` is [`Deadline::after`] it.
    fn deadline(&self, spawned_at: Instant) -> Option<Instant> {
        spawned_at.checked_add(*self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflowing_duration_means_forever() {
        let now = Instant::now();
        assert_eq!(Deadline::after(Duration::MAX).deadline(now), None);
        assert_eq!(Duration::MAX.deadline(now), None);
        assert_eq!(NoTimeout.deadline(now), None);
        assert_eq!(Deadline::after(Duration::ZERO).deadline(now), Some(now));
        assert_eq!(
            Deadline::at(now).deadline(now + Duration::from_secs(1)),
            Some(now)
        );
    }
}
