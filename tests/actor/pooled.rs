//! Actors on executors: many actors share a pool, a busy actor hands its worker back,
//! and an executor that refuses the work fails the calls clearly.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use transparent_future::executor::{Executor, Runnable, ThreadPerTask};
use transparent_future::{Actor, Lazy, ThreadPool, WaitError};

use crate::support::{secs, within};

#[test]
fn many_actors_share_a_small_pool_and_each_stays_serial() {
    within(secs(30), || {
        let pool = ThreadPool::new(2);
        let overlaps = Arc::new(AtomicUsize::new(0));
        let actors: Vec<Actor<(Arc<AtomicUsize>, u32)>> = (0..8)
            .map(|_| Actor::on(&pool, (Arc::new(AtomicUsize::new(0)), 0)))
            .collect();
        let mut results = Vec::new();
        for round in 0..200 {
            for actor in &actors {
                let overlaps = overlaps.clone();
                results.push(actor.call(move |(inside, n)| {
                    if inside.fetch_add(1, Ordering::SeqCst) != 0 {
                        overlaps.fetch_add(1, Ordering::SeqCst);
                    }
                    *n += 1;
                    inside.fetch_sub(1, Ordering::SeqCst);
                    round
                }));
            }
        }
        assert!(
            results
                .iter()
                .enumerate()
                .all(|(i, r)| **r == (i / 8) as u32)
        );
        for actor in &actors {
            assert_eq!(*actor.call(|(_, n)| *n), 200);
        }
        assert_eq!(overlaps.load(Ordering::SeqCst), 0);
    });
}

#[test]
fn a_busy_actor_hands_its_worker_back_to_the_pool() {
    within(secs(30), || {
        let pool = ThreadPool::new(1);
        let actor = Actor::on(&pool, 0_usize);
        // The first call holds the worker until the other task is queued, so that all
        // 20,000 calls are still ahead of it then, however fast the worker drains.
        let (started_tx, started) = mpsc::channel();
        let (go_tx, go) = mpsc::channel::<()>();
        actor.call(move |_| {
            started_tx.send(()).unwrap();
            let _ = go.recv_timeout(Duration::from_secs(20));
        });
        started
            .recv_timeout(Duration::from_secs(10))
            .expect("the worker never started the actor");
        let done = Arc::new(AtomicUsize::new(0));
        for _ in 0..20_000 {
            let done = done.clone();
            actor.call(move |n| {
                *n += 1;
                done.store(*n, Ordering::SeqCst);
            });
        }
        let d = done.clone();
        let other = pool.spawn_lazy(move || d.load(Ordering::SeqCst));
        go_tx.send(()).unwrap();
        // A bounded wait never runs the task here: a worker must get to it.
        let seen = *Lazy::wait_timeout(&other, Duration::from_secs(20)).unwrap();
        assert!(
            seen < 20_000,
            "the task waited for every call of the actor ({seen})"
        );
        assert_eq!(*actor.call(|n| *n), 20_000);
    });
}

#[test]
fn an_actor_runs_on_thread_per_task_and_on_custom_executors() {
    within(secs(10), || {
        let actor = Actor::on(&ThreadPerTask, vec![0_u8]);
        for i in 1..20 {
            actor.call(move |v| v.push(i));
        }
        assert_eq!(*actor.call(|v| v.len()), 20);

        #[derive(Clone)]
        struct Inline;
        impl Executor for Inline {
            fn execute(&self, task: Runnable) -> io::Result<()> {
                task.run();
                Ok(())
            }
        }
        let inline = Actor::on(&Inline, 1);
        assert_eq!(*inline.call(|n| *n + 1), 2);
        assert_eq!(*inline.stop(), 1);
    });
}

#[test]
fn calls_on_a_shut_down_pool_fail_as_broken_promises_naming_the_shutdown() {
    within(secs(10), || {
        let pool = ThreadPool::new(1);
        let actor = Actor::on(&pool, ());
        assert_eq!(*actor.call(|_| 1), 1);
        Lazy::wait(&pool.shutdown());
        let refused = actor.call(|_| 2);
        let Err(WaitError::Broken(b)) = Lazy::try_wait(&refused) else {
            panic!()
        };
        assert!(b.reason().contains("shut down"), "{}", b.reason());
    });
}

#[test]
fn an_executor_that_drops_the_work_fails_the_calls_instead_of_hanging() {
    within(secs(10), || {
        #[derive(Clone)]
        struct Discard;
        impl Executor for Discard {
            fn execute(&self, task: Runnable) -> io::Result<()> {
                drop(task);
                Ok(())
            }
        }
        let actor = Actor::on(&Discard, 0);
        let lost = actor.call(|n| *n);
        let Err(WaitError::Broken(b)) = Lazy::try_wait(&lost) else {
            panic!()
        };
        assert!(b.reason().contains("dropped its work"), "{}", b.reason());
        // A later call tries again, and fails the same way.
        assert!(matches!(
            Lazy::try_wait(&actor.call(|n| *n)),
            Err(WaitError::Broken(_))
        ));
    });
}
