//! How an actor ends: the last handle dropped, or a stop that hands the state back.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use transparent_future::{Actor, Lazy, ThreadPool, WaitError};

use crate::calls::both;
use crate::support::{secs, within};

/// A state that reports its drop, and on which thread.
struct Reporting {
    calls: usize,
    dropped: mpsc::Sender<(usize, String)>,
}

impl Drop for Reporting {
    fn drop(&mut self) {
        let name = std::thread::current().name().unwrap_or("?").to_owned();
        let _ = self.dropped.send((self.calls, name));
    }
}

/// Reports when the thread that ran `install` exits.
struct ThreadExit(mpsc::Sender<()>);
impl Drop for ThreadExit {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}
thread_local! {
    static ON_EXIT: std::cell::RefCell<Option<ThreadExit>> = const { std::cell::RefCell::new(None) };
}

#[test]
fn dropping_the_last_handle_lets_queued_calls_finish_then_ends_the_thread() {
    within(secs(10), || {
        let (dropped, state_drops) = mpsc::channel();
        let (exit_tx, exited) = mpsc::channel();
        let actor = Actor::new(Reporting { calls: 0, dropped });
        actor.call(move |_| ON_EXIT.with(|e| *e.borrow_mut() = Some(ThreadExit(exit_tx))));
        for _ in 0..50 {
            actor.call(|s| {
                std::thread::sleep(Duration::from_millis(1));
                s.calls += 1;
            });
        }
        let other = actor.clone();
        drop(actor);
        other.call(|s| s.calls += 1);
        drop(other); // the last handle: nothing waits on the 51 queued calls
        let (calls, on) = state_drops.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(
            calls, 51,
            "every queued call ran before the state was dropped"
        );
        assert_eq!(
            on, "transparent-future-actor",
            "dropped on the actor's thread"
        );
        exited
            .recv_timeout(Duration::from_secs(5))
            .expect("the actor's thread ended");
        assert!(
            state_drops.try_recv().is_err(),
            "the state was dropped once"
        );
    });
}

#[test]
fn dropping_the_last_handle_of_a_pooled_actor_drops_its_state_after_the_queue() {
    within(secs(10), || {
        let pool = ThreadPool::new(2);
        let (dropped, state_drops) = mpsc::channel();
        let actor = Actor::on(&pool, Reporting { calls: 0, dropped });
        for _ in 0..50 {
            actor.call(|s| s.calls += 1);
        }
        drop(actor);
        let (calls, _) = state_drops.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(calls, 50);
        assert!(state_drops.recv_timeout(Duration::from_millis(50)).is_err());
    });
}

#[test]
fn stop_hands_the_state_back_after_the_calls_sent_before_it() {
    within(secs(10), || {
        for (kind, actor) in both(Vec::<u32>::new) {
            let clone = actor.clone();
            for i in 0..100 {
                actor.call(move |v| v.push(i));
            }
            let state = actor.stop();
            assert_eq!(state.len(), 100, "{kind}");
            assert_eq!(state[99], 99, "{kind}");
            assert!(clone.is_stopped(), "{kind}");
            let refused = clone.call(|v| v.len());
            let Err(WaitError::Broken(b)) = Lazy::try_wait(&refused) else {
                panic!("{kind}")
            };
            assert_eq!(
                b.reason(),
                "the actor stopped before it ran this call",
                "{kind}"
            );
            let again = clone.stop();
            let Err(WaitError::Broken(b)) = Lazy::try_wait(&again) else {
                panic!("{kind}")
            };
            assert!(
                b.reason().contains("already stopped"),
                "{kind}: {}",
                b.reason()
            );
        }
    });
}

#[test]
fn calls_queued_behind_a_stop_are_refused_not_lost() {
    within(secs(10), || {
        for (kind, actor) in both(|| 0_u32) {
            let ran = Arc::new(AtomicUsize::new(0));
            let gate = actor.call(|_| std::thread::sleep(Duration::from_millis(50)));
            let stopper = actor.clone();
            let state = stopper.stop();
            let behind: Vec<_> = (0..20)
                .map(|_| {
                    let ran = ran.clone();
                    actor.call(move |_| ran.fetch_add(1, Ordering::SeqCst))
                })
                .collect();
            Lazy::wait(&gate);
            assert_eq!(*state, 0, "{kind}");
            for call in &behind {
                assert!(
                    matches!(Lazy::try_wait(call), Err(WaitError::Broken(_))),
                    "{kind}"
                );
            }
            assert_eq!(
                ran.load(Ordering::SeqCst),
                0,
                "{kind}: none ran after the stop"
            );
        }
    });
}

#[test]
fn a_stop_from_inside_a_call_takes_effect_after_that_call() {
    within(secs(10), || {
        let actor = Actor::new(1_u8);
        let me = actor.clone();
        let (tx, rx) = mpsc::channel();
        actor.call(move |n| {
            *n += 1;
            tx.send(me.stop()).unwrap(); // queued behind this call
        });
        let state = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(*state, 2);
    });
}
