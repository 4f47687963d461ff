//! The deadline timer: decides timeouts of watched futures at their deadline.
//!
//! A blocked reader needs no timer (it sleeps with a limit). Callbacks do: a
//! continuation, a combinator or an async waker registered on a future with a deadline
//! must run at the deadline even if no reader looks. One thread, started on first use
//! and ended after a second with nothing to do, keeps those deadlines.
//!
//! Each future is on the timer at most once (its state says whether it is, see
//! `Core::claim_timer`), and an entry stays until the state has decided the outcome:
//! the timer picks an entry by the same comparison the state decides with
//! (`sync::passed`), and keeps one the state did not decide. Entries of futures that
//! are gone are swept out whenever the heap has doubled, so the heap holds at most
//! about twice the number of live watched futures with a deadline.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Weak;

use crate::core::sync::channel::{self, Receiver, RecvTimeoutError, Sender};
use crate::core::sync::{self, Duration, Instant, Mutex, PoisonError, thread};

/// A future's state seen without its value type: what the timer needs.
pub(crate) trait Settle: Send + Sync {
    /// Decides the outcome if the deadline has passed (running the watchers); returns
    /// whether the outcome is decided (by this call or before).
    fn settle(&self) -> bool;
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
#[cfg(not(transparent_future_shuttle))]
static TIMER: Mutex<Option<Sender<Entry>>> = Mutex::new(None);
// The model drops statics at the end of each execution: every execution starts with
// no timer thread.
#[cfg(transparent_future_shuttle)]
shuttle::lazy_static! {
    static ref TIMER: Mutex<Option<Sender<Entry>>> = Mutex::new(None);
}

/// The heap size below which dropped futures' entries are not swept out.
const SWEEP_FROM: usize = 64;

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
    let (tx, rx) = channel::unbounded();
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
            if sync::passed(entry.at, sync::now()) {
                if let Some(target) = entry.target.upgrade() {
                    target.settle();
                }
            }
        }
    }
}

fn run(rx: &Receiver<Entry>) {
    let mut heap: BinaryHeap<Reverse<Entry>> = BinaryHeap::new();
    let mut sweep_at = SWEEP_FROM;
    let mut push = |heap: &mut BinaryHeap<Reverse<Entry>>, entry: Entry| {
        heap.push(Reverse(entry));
        if heap.len() >= sweep_at {
            // Only a strong count: upgrading could make the timer drop a future.
            heap.retain(|Reverse(e)| e.target.strong_count() > 0);
            sweep_at = SWEEP_FROM.max(2 * heap.len());
        }
    };
    let mut undecided = Vec::new();
    loop {
        let now = sync::now();
        while heap
            .peek()
            .is_some_and(|Reverse(e)| sync::passed(e.at, now))
        {
            let Some(Reverse(entry)) = heap.pop() else {
                break;
            };
            // A panic here (a user's waker, or the drop of a late value when this
            // was the last reference) must not end the timer and lose the other
            // deadlines; the panic hook has reported it. The outcome was decided
            // before any watcher ran, so the entry is done with.
            let decided = catch_unwind(AssertUnwindSafe(|| {
                entry.target.upgrade().is_none_or(|target| target.settle())
            }))
            .unwrap_or(true);
            if !decided {
                // The state read the clock itself and did not decide: keep the entry
                // until it does.
                undecided.push(entry);
            }
        }
        for entry in undecided.drain(..) {
            heap.push(Reverse(entry));
        }
        let wake = heap
            .peek()
            .map_or(now + IDLE, |Reverse(e)| now + sync::until_past(e.at, now));
        match rx.recv_deadline(wake) {
            Ok(entry) => push(&mut heap, entry),
            Err(RecvTimeoutError::Timeout) if heap.is_empty() => {
                // Idle: exit, unless something was scheduled meanwhile (senders send
                // under the lock, so checking under it loses nothing).
                let mut timer = TIMER.lock().unwrap_or_else(PoisonError::into_inner);
                match rx.try_recv() {
                    Ok(entry) => push(&mut heap, entry),
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
        fn settle(&self) -> bool {
            self.0.fetch_add(1, Ordering::SeqCst);
            true
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

    /// A state that does not decide on the first look (its own clock reading was not
    /// past the deadline yet), and does on the second.
    struct DecidesSecond(AtomicUsize);

    impl Settle for DecidesSecond {
        fn settle(&self) -> bool {
            self.0.fetch_add(1, Ordering::SeqCst) >= 1
        }
    }

    #[test]
    fn an_entry_stays_on_the_timer_until_the_state_has_decided() {
        let target = Arc::new(DecidesSecond(AtomicUsize::new(0)));
        let weak: Weak<dyn Settle> = Arc::downgrade(&(target.clone() as Arc<dyn Settle>));
        schedule(Instant::now(), weak);
        let give_up = Instant::now() + Duration::from_secs(10);
        while target.0.load(Ordering::SeqCst) < 2 && Instant::now() < give_up {
            thread::sleep(Duration::from_millis(5));
        }
        thread::sleep(Duration::from_millis(50));
        assert_eq!(
            target.0.load(Ordering::SeqCst),
            2,
            "looked at again after the undecided look, and not after the decision"
        );
    }
}
