//! The deadline timer: decides timeouts of watched futures at their deadline.
//!
//! A blocked reader needs no timer (it sleeps with a limit). Callbacks do: a
//! continuation, a combinator or an async waker registered on a future with a deadline
//! must run at the deadline even if no reader looks. One thread, started on first use
//! and ended after a second with nothing to do, keeps those deadlines.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Mutex, PoisonError, Weak};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

/// A future's state seen without its value type: what the timer needs.
pub(crate) trait Settle: Send + Sync {
    /// Decides the outcome if the deadline has passed (running the watchers).
    fn settle(&self);
}

struct Entry {
    at: Instant,
    target: Weak<dyn Settle>,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.at.cmp(&other.at)
    }
}

/// The running timer thread's queue; `None` while no thread runs.
static TIMER: Mutex<Option<Sender<Entry>>> = Mutex::new(None);

/// How long the timer thread lingers with nothing scheduled before it exits.
const IDLE: Duration = Duration::from_secs(1);

/// Settles `target` at `at` (or soon after); a target dropped by then is skipped.
pub(crate) fn schedule(at: Instant, target: Weak<dyn Settle>) {
    let mut timer = TIMER.lock().unwrap_or_else(PoisonError::into_inner);
    let mut entry = Entry { at, target };
    if let Some(tx) = timer.as_ref() {
        match tx.send(entry) {
            Ok(()) => return,
            Err(e) => entry = e.into_inner(),
        }
    }
    let (tx, rx) = crossbeam_channel::unbounded();
    let started = thread::Builder::new()
        .name("transparent-future-timer".into())
        .spawn(move || {
            crate::core::threads::mark_crate_thread();
            run(&rx)
        });
    match started {
        Ok(_) => {
            let _ = tx.send(entry);
            *timer = Some(tx);
        }
        // No thread for the timer: settle right away if due, else the watchers run
        // when the task publishes (late), which the docs allow for.
        Err(_) => {
            drop(timer);
            if entry.at <= Instant::now() {
                if let Some(target) = entry.target.upgrade() {
                    target.settle();
                }
            }
        }
    }
}

fn run(rx: &Receiver<Entry>) {
    let mut heap: BinaryHeap<Reverse<Entry>> = BinaryHeap::new();
    loop {
        let now = Instant::now();
        while heap.peek().is_some_and(|Reverse(e)| e.at <= now) {
            if let Some(Reverse(entry)) = heap.pop() {
                // A panic here (a user's waker, or the drop of a late value when this
                // was the last reference) must not end the timer and lose the other
                // deadlines; the panic hook has reported it.
                let _ = catch_unwind(AssertUnwindSafe(|| {
                    if let Some(target) = entry.target.upgrade() {
                        target.settle();
                    }
                }));
            }
        }
        let wake = heap.peek().map_or(now + IDLE, |Reverse(e)| e.at);
        match rx.recv_deadline(wake) {
            Ok(entry) => heap.push(Reverse(entry)),
            Err(RecvTimeoutError::Timeout) if heap.is_empty() => {
                // Idle: exit, unless something was scheduled meanwhile (senders send
                // under the lock, so checking under it loses nothing).
                let mut timer = TIMER.lock().unwrap_or_else(PoisonError::into_inner);
                match rx.try_recv() {
                    Ok(entry) => heap.push(Reverse(entry)),
                    Err(_) => {
                        *timer = None;
                        return;
                    }
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    struct Counter(AtomicUsize);

    impl Settle for Counter {
        fn settle(&self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_target_is_settled_once_at_its_deadline_and_a_dropped_one_is_skipped() {
        let target = Arc::new(Counter(AtomicUsize::new(0)));
        let weak: Weak<dyn Settle> = Arc::downgrade(&(target.clone() as Arc<dyn Settle>));
        let at = Instant::now() + Duration::from_millis(30);
        schedule(at, weak);
        let gone: Arc<dyn Settle> = Arc::new(Counter(AtomicUsize::new(0)));
        schedule(Instant::now(), Arc::downgrade(&gone));
        drop(gone); // the timer holds only a weak reference: nothing to settle
        let give_up = Instant::now() + Duration::from_secs(10);
        while target.0.load(Ordering::SeqCst) == 0 && Instant::now() < give_up {
            thread::sleep(Duration::from_millis(5));
        }
        assert!(Instant::now() >= at, "not before the deadline");
        assert_eq!(target.0.load(Ordering::SeqCst), 1, "settled once");
    }
}
