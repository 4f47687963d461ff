//! Waking readers that sleep without a limit when work joins what they wait for.
//!
//! A reader that waits without a limit helps (runs queued work it depends on) before
//! it sleeps. Work can join its dependency graph afterwards: a `then` whose input
//! finishes on another thread links its inner future, perhaps queued on a pool whose
//! only worker is this very reader. Whoever changes a derived future's links that way
//! rings every registered sleeper ([`ring`]); each wakes, helps again, and sleeps again
//! if there is still nothing to run. Relinking is rare (once per `then` step), so
//! waking every sleeper, rather than only those whose graph changed, costs little, and
//! it needs no walk of anyone's graph.
//!
//! No lost wake-up: a sleeper registers (under [`SLEEPERS`]) and only then helps one
//! last time before it sleeps; a relink writes the link (under the future's own lock)
//! and only then reads the registry (under [`SLEEPERS`]). The registry's mutex orders
//! the two: either the ringer sees the sleeper, or the sleeper's last help comes after
//! the relink and sees the new work. A ring that comes while the sleeper is not yet
//! asleep leaves the bell rung, so its next sleep returns at once.

use std::sync::Arc;

use crate::core::sync::{Condvar, Mutex, PoisonError};

/// Something a ring wakes: a reader's bell, or the waiter of a wait on several
/// futures.
pub(crate) trait Wake: Send + Sync {
    fn wake(&self);
}

/// The readers asleep without a limit that may help, each by what wakes it.
static SLEEPERS: Mutex<Vec<Arc<dyn Wake>>> = Mutex::new(Vec::new());

/// Wakes every registered sleeper: work has joined some future's graph. Call after the
/// change is visible (the link written and its lock released).
pub(crate) fn ring() {
    let sleepers: Vec<Arc<dyn Wake>> = SLEEPERS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    // Woken outside the registry's lock: a wake takes the sleeper's own lock.
    for sleeper in sleepers {
        sleeper.wake();
    }
}

/// A sleeper's registration, removed when dropped.
pub(crate) struct Registered(Arc<dyn Wake>);

/// Registers `sleeper` to be woken by [`ring`] until the guard is dropped. Register
/// first, then look for work one last time, then sleep.
pub(crate) fn register(sleeper: Arc<dyn Wake>) -> Registered {
    SLEEPERS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Arc::clone(&sleeper));
    Registered(sleeper)
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut sleepers = SLEEPERS.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(at) = sleepers.iter().position(|s| Arc::ptr_eq(s, &self.0)) {
            // The entry's `Arc` is dropped under the lock: it is a clone of ours, so
            // never the last one, and a bell's drop runs no user code anyway.
            sleepers.swap_remove(at);
        }
    }
}

/// A reader's wake-up: rung by the future's outcome (a watcher) or by [`ring`].
#[derive(Default)]
pub(crate) struct Bell {
    rung: Mutex<bool>,
    cond: Condvar,
}

impl Bell {
    /// Sleeps until the bell is rung (at once if it was rung since the last sleep),
    /// and resets it.
    pub(crate) fn sleep(&self) {
        let mut rung = self.rung.lock().unwrap_or_else(PoisonError::into_inner);
        while !*rung {
            rung = self.cond.wait(rung).unwrap_or_else(PoisonError::into_inner);
        }
        *rung = false;
    }
}

impl Wake for Bell {
    fn wake(&self) {
        *self.rung.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.cond.notify_all();
    }
}
