//! A panic on the actor's worker outside a call's own closure (an unread result whose
//! `Drop` panics) does not stop the actor: it serves the next call.

use std::sync::mpsc;

use transparent_future::{Actor, Lazy, ThreadPool};

use crate::support::{secs, within};

/// A value whose `Drop` panics.
struct Bomb;

impl Drop for Bomb {
    fn drop(&mut self) {
        panic!("bomb went off");
    }
}

#[test]
fn a_pooled_actor_serves_on_after_an_unread_result_panics_in_drop() {
    within(secs(20), || {
        let pool = ThreadPool::new(1);
        let actor = Actor::on(&pool, 0_u32);
        let (go, gate) = mpsc::channel::<()>();
        let _held = actor.call(move |_| gate.recv().unwrap());
        drop(actor.call(|_| Bomb)); // nobody reads it: its value is dropped on the worker
        let next = actor.call(|n| {
            *n += 1;
            *n
        });
        go.send(()).unwrap();
        assert_eq!(
            Lazy::wait_timeout(&next, secs(5)),
            Ok(&1),
            "the actor stopped serving"
        );
    });
}

#[test]
fn a_dedicated_actor_serves_on_after_an_unread_result_panics_in_drop() {
    within(secs(20), || {
        let actor = Actor::new(0_u32);
        let (go, gate) = mpsc::channel::<()>();
        let _held = actor.call(move |_| gate.recv().unwrap());
        drop(actor.call(|_| Bomb));
        let next = actor.call(|n| {
            *n += 1;
            *n
        });
        go.send(()).unwrap();
        assert_eq!(
            Lazy::wait_timeout(&next, secs(5)),
            Ok(&1),
            "the actor stopped serving"
        );
    });
}
