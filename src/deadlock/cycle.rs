//! [`Cycle`]: a cycle of waits, as the deadlock detector reports it.

use std::error::Error;
use std::fmt;

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
