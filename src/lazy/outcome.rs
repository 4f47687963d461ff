//! [`Outcome`]: the value of a future spawned with a timeout policy.

use std::fmt;
use std::time::Instant;

use crate::core::state::Timeout;

/// The result of a future spawned with a [`TimeoutPolicy`]: the task's value if it was
/// published no later than the deadline, [`Outcome::Timeout`] otherwise.
///
/// Compare it directly, as the seed compared with its `Timeout` sentinel:
///
/// ```
/// use std::time::Duration;
/// use transparent_future::{spawn_lazy_with, Deadline, Outcome};
///
/// let z = spawn_lazy_with(Deadline::after(Duration::ZERO), || {
///     std::thread::sleep(Duration::from_millis(200));
///     "a"
/// });
/// assert!(z == Outcome::Timeout);
/// assert_eq!(z.to_string(), "Timeout");
/// ```
///
/// [`TimeoutPolicy`]: crate::TimeoutPolicy
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[must_use]
pub enum Outcome<T> {
    /// The task's value, published no later than the deadline.
    Ready(T),
    /// The deadline passed before the task published its value.
    Timeout,
}

impl<T> Outcome<T> {
    /// Whether the deadline passed first.
    ///
    /// ```
    /// use transparent_future::Outcome;
    /// assert!(Outcome::<u8>::Timeout.is_timeout());
    /// assert!(!Outcome::Ready(1).is_timeout());
    /// ```
    pub const fn is_timeout(&self) -> bool {
        matches!(self, Outcome::Timeout)
    }

    /// Whether the value arrived in time.
    ///
    /// ```
    /// use transparent_future::Outcome;
    /// assert!(Outcome::Ready(1).is_ready());
    /// assert!(!Outcome::<u8>::Timeout.is_ready());
    /// ```
    pub const fn is_ready(&self) -> bool {
        matches!(self, Outcome::Ready(_))
    }

    /// The value, if it arrived in time.
    ///
    /// ```
    /// use transparent_future::Outcome;
    /// assert_eq!(Outcome::Ready(1).ready(), Some(&1));
    /// assert_eq!(Outcome::<u8>::Timeout.ready(), None);
    /// ```
    pub const fn ready(&self) -> Option<&T> {
        match self {
            Outcome::Ready(v) => Some(v),
            Outcome::Timeout => None,
        }
    }

    /// The value by value, if it arrived in time.
    ///
    /// ```
    /// use transparent_future::Outcome;
    /// assert_eq!(Outcome::Ready(String::from("a")).into_ready(), Some("a".to_string()));
    /// assert_eq!(Outcome::<String>::Timeout.into_ready(), None);
    /// ```
    pub fn into_ready(self) -> Option<T> {
        match self {
            Outcome::Ready(v) => Some(v),
            Outcome::Timeout => None,
        }
    }

    /// Applies `f` to a value that arrived in time.
    ///
    /// ```
    /// use transparent_future::Outcome;
    /// assert_eq!(Outcome::Ready(2).map(|v| v * 10), Outcome::Ready(20));
    /// assert_eq!(Outcome::<i32>::Timeout.map(|v| v * 10), Outcome::Timeout);
    /// ```
    pub fn map<U, F: FnOnce(T) -> U>(self, f: F) -> Outcome<U> {
        match self {
            Outcome::Ready(v) => Outcome::Ready(f(v)),
            Outcome::Timeout => Outcome::Timeout,
        }
    }

    /// Borrows the value inside.
    ///
    /// ```
    /// use transparent_future::Outcome;
    /// let o = Outcome::Ready(String::from("hi"));
    /// assert_eq!(o.as_ref().map(|s| s.len()), Outcome::Ready(2));
    /// ```
    pub const fn as_ref(&self) -> Outcome<&T> {
        match self {
            Outcome::Ready(v) => Outcome::Ready(v),
            Outcome::Timeout => Outcome::Timeout,
        }
    }

    /// The value, or a panic with `msg` if the deadline passed first.
    ///
    /// ```
    /// use transparent_future::Outcome;
    /// assert_eq!(Outcome::Ready(3).expect("no time left"), 3);
    /// ```
    ///
    /// ```should_panic
    /// use transparent_future::Outcome;
    /// Outcome::<u8>::Timeout.expect("the lookup timed out");
    /// ```
    #[track_caller]
    pub fn expect(self, msg: &str) -> T {
        match self {
            Outcome::Ready(v) => v,
            Outcome::Timeout => panic!("{msg}: the future's deadline passed (Outcome::Timeout)"),
        }
    }

    /// The value, or `default` if the deadline passed first.
    ///
    /// ```
    /// use transparent_future::Outcome;
    /// assert_eq!(Outcome::Timeout.unwrap_or(0), 0);
    /// assert_eq!(Outcome::Ready(5).unwrap_or(0), 5);
    /// ```
    pub fn unwrap_or(self, default: T) -> T {
        self.into_ready().unwrap_or(default)
    }
}

impl<T> From<Outcome<T>> for Option<T> {
    /// `Some` for a value in time, `None` for a timeout.
    ///
    /// ```
    /// use transparent_future::Outcome;
    /// assert_eq!(Option::from(Outcome::Ready(1)), Some(1));
    /// ```
    fn from(o: Outcome<T>) -> Self {
        o.into_ready()
    }
}

impl<T: fmt::Display> fmt::Display for Outcome<T> {
    /// The value's own `Display`, or the word `Timeout`.
    ///
    /// ```
    /// use transparent_future::Outcome;
    /// assert_eq!(format!("{} {}", Outcome::<u8>::Timeout, Outcome::Ready("foobar2")), "Timeout foobar2");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Ready(v) => v.fmt(f),
            Outcome::Timeout => f.pad("Timeout"),
        }
    }
}

// The timeout of a future of an `Outcome`, for the spawn paths and combinators.
impl<T> Timeout<Outcome<T>> {
    /// The timeout of a future of an `Outcome`: `Outcome::Timeout` at `deadline` (none
    /// if there is no deadline).
    pub(crate) fn outcome(deadline: Option<Instant>) -> Option<Self> {
        deadline.map(|at| Timeout {
            at,
            value: || Outcome::Timeout,
        })
    }
}
