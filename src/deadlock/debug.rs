//! Who waits on whom right now: the deadlock detector's registry, for watchdogs and
//! hang reports, and the [`Cycle`] a refused wait names.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, PoisonError, Weak};

pub use super::cycle::{Cycle, CycleLink};
use super::{Blocker, Node, WAITS, thread_name};

/// A snapshot of the threads blocked on futures without a limit, each with the
/// chain of futures and threads it waits through. Cheap enough to call from a
/// watchdog or a signal-driven dump.
///
/// ```
/// use std::time::Duration;
/// use transparent_future::{debug, spawn_lazy};
///
/// let (tx, rx) = std::sync::mpsc::channel::<()>();
/// let slow = spawn_lazy(move || rx.recv().ok());
/// let reader = std::thread::spawn(move || *slow);
/// while debug::waits().blocked_threads() == 0 {
///     std::thread::sleep(Duration::from_millis(1));
/// }
/// println!("{}", debug::waits());
/// tx.send(()).unwrap();
/// assert_eq!(reader.join().unwrap(), Some(()));
/// ```
pub fn waits() -> Waits {
    snapshot()
}

/// A snapshot of who waits on whom, from [`waits`].
///
/// ```
/// let snapshot = transparent_future::debug::waits();
/// println!("{snapshot}"); // one tree per blocked thread; empty when nobody waits
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waits {
    chains: Vec<Vec<CycleLink>>,
    waiting: Vec<String>,
}

impl Waits {
    /// The number of threads blocked on a future without a limit.
    ///
    /// ```
    /// assert_eq!(transparent_future::debug::waits().blocked_threads(), 0);
    /// ```
    pub fn blocked_threads(&self) -> usize {
        self.waiting.len()
    }

    /// Each blocked thread's chain: the future it waits on, the thread computing that
    /// future and what it waits on in turn, as far as the registry knows.
    ///
    /// ```
    /// for (thread, chain) in transparent_future::debug::waits().chains() {
    ///     println!("{thread}: {} futures deep", chain.len());
    /// }
    /// ```
    pub fn chains(&self) -> impl Iterator<Item = (&str, &[CycleLink])> {
        self.waiting
            .iter()
            .map(String::as_str)
            .zip(self.chains.iter().map(Vec::as_slice))
    }
}

impl fmt::Display for Waits {
    /// One tree per blocked thread:
    ///
    /// ```text
    /// thread "main"
    /// └─ waits on task "app::load" on thread "loader"
    ///    └─ waits on task "app::parse" on thread "parser"
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.waiting.is_empty() {
            return f.write_str("no thread is blocked on a future");
        }
        for (thread, chain) in self.chains() {
            writeln!(f, "thread {thread:?}")?;
            for (depth, link) in chain.iter().enumerate() {
                writeln!(f, "{:indent$}└─ waits on {link}", "", indent = depth * 3)?;
            }
        }
        Ok(())
    }
}

fn snapshot() -> Waits {
    // Nodes upgraded under the lock are dropped after it (see `enter_wait`).
    let mut keep: Vec<Arc<dyn Node>> = Vec::new();
    let waits = WAITS.lock().unwrap_or_else(PoisonError::into_inner);
    let mut out = Waits {
        chains: Vec::new(),
        waiting: Vec::new(),
    };
    for waiter in waits.values() {
        let mut chain = Vec::new();
        let mut seen: HashSet<*const ()> = HashSet::new();
        let mut next = waiter.on.upgrade();
        while let Some(node) = next.take() {
            if !seen.insert(Arc::as_ptr(&node).cast::<()>()) {
                keep.push(node);
                break;
            }
            match node.blocker() {
                Blocker::Runner(t) => {
                    chain.push(CycleLink {
                        future: node.label().into_owned(),
                        thread: Some(thread_name(t)),
                    });
                    next = waits.get(&t).and_then(|w| w.on.upgrade());
                }
                Blocker::Upstreams(ups) => {
                    chain.push(CycleLink {
                        future: node.label().into_owned(),
                        thread: None,
                    });
                    next = ups.iter().find_map(Weak::upgrade);
                }
                Blocker::Nothing => chain.push(CycleLink {
                    future: node.label().into_owned(),
                    thread: None,
                }),
            }
            keep.push(node);
        }
        out.waiting.push(waiter.thread_name.clone());
        out.chains.push(chain);
    }
    drop(waits);
    drop(keep);
    out
}
