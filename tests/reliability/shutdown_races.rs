//! A pool's shutdown racing submissions, from threads outside the pool (onto the
//! injector, under its read lock) and from the pool's own tasks (onto the submitting
//! worker's deque, with no lock).
//!
//! Every spawn either gives a future whose task runs exactly once (read with bounded
//! waits only, so that the workers, not the test, run it) or is refused with an error
//! that says the pool was shut down; a refused task never runs; the future
//! `shutdown()` returns resolves; no task is lost or run twice, even after the workers
//! have exited. And a task spawning onto its own pool at the very moment of the
//! shutdown: accepted and run, or refused, never accepted and dropped unrun.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier, mpsc};
use std::thread;
use std::time::Instant;

use crate::support::{ms, secs, within};
use transparent_future::{Builder, Lazy, ThreadPool};

/// How many times each task ran, by the id the spawn gave it.
struct Runs(Vec<AtomicUsize>);

impl Runs {
    fn new(n: usize) -> Arc<Runs> {
        Arc::new(Runs((0..n).map(|_| AtomicUsize::new(0)).collect()))
    }

    fn of(&self, id: usize) -> usize {
        self.0[id].load(SeqCst)
    }
}

/// What one spawn gave: its id, and its future or the refusal's text.
type Attempt = (usize, Result<Lazy<usize>, String>);

/// Spawns onto `pool` a task with the next id that counts its run and returns its id
/// times two.
fn attempt(pool: &ThreadPool, ids: &AtomicUsize, runs: &Arc<Runs>) -> Attempt {
    let id = ids.fetch_add(1, SeqCst);
    let r = Arc::clone(runs);
    let spawned = Builder::new().on(pool).spawn(move || {
        r.0[id].fetch_add(1, SeqCst);
        id * 2
    });
    (id, spawned.map_err(|e: io::Error| e.to_string()))
}

/// `n` attempts, giving the core away now and then so that the spawners (more of
/// them than cores) interleave and the shutdown lands in the middle of several.
fn spawn_many(pool: &ThreadPool, ids: &AtomicUsize, runs: &Arc<Runs>, n: usize) -> Vec<Attempt> {
    (0..n)
        .map(|i| {
            if i % 16 == 0 {
                thread::yield_now();
            }
            attempt(pool, ids, runs)
        })
        .collect()
}

/// Checks every attempt: an accepted task ran once (waiting for it with a bounded
/// wait), a refused one never ran and its error names the shutdown. Returns how many
/// were accepted.
#[track_caller]
fn check(attempts: &[Attempt], runs: &Runs, what: &str) -> usize {
    let mut accepted = 0;
    for (id, outcome) in attempts {
        match outcome {
            Ok(x) => {
                assert_eq!(
                    Lazy::wait_timeout(x, secs(10)),
                    Ok(&(id * 2)),
                    "{what}: accepted task {id} never ran"
                );
                assert_eq!(runs.of(*id), 1, "{what}: accepted task {id}");
                accepted += 1;
            }
            Err(text) => {
                assert!(
                    text.contains("shut down"),
                    "{what}: task {id} refused with {text:?}"
                );
                assert_eq!(runs.of(*id), 0, "{what}: refused task {id} ran");
            }
        }
    }
    accepted
}

#[test]
fn spawns_from_threads_and_from_pool_tasks_race_a_shutdown() {
    const THREADS: usize = 3;
    const TASKS: usize = 2;
    const EACH: usize = 300;
    const ROUNDS: usize = 15;
    within(secs(60), || {
        for round in 0..ROUNDS {
            let what = format!("round {round}");
            let pool = ThreadPool::new(2);
            let ids = Arc::new(AtomicUsize::new(0));
            let runs = Runs::new((THREADS + TASKS) * EACH);
            let start = Arc::new(Barrier::new(THREADS + TASKS + 1));
            // Pool tasks that spawn onto their own pool: from a worker, each spawn
            // goes onto that worker's own deque.
            let tasks: Vec<Lazy<Vec<Attempt>>> = (0..TASKS)
                .map(|_| {
                    let (p, ids, runs) = (pool.clone(), Arc::clone(&ids), Arc::clone(&runs));
                    let start = Arc::clone(&start);
                    pool.spawn_lazy(move || {
                        start.wait();
                        spawn_many(&p, &ids, &runs, EACH)
                    })
                })
                .collect();
            // Threads outside the pool: onto the injector.
            let threads: Vec<thread::JoinHandle<Vec<Attempt>>> = (0..THREADS)
                .map(|_| {
                    let (p, ids, runs) = (pool.clone(), Arc::clone(&ids), Arc::clone(&runs));
                    let start = Arc::clone(&start);
                    thread::spawn(move || {
                        start.wait();
                        spawn_many(&p, &ids, &runs, EACH)
                    })
                })
                .collect();
            start.wait(); // every spawner is running (both workers hold a spawner task)
            // Shut down once a growing share of the spawns has begun (none in the first
            // round), so that the shutdown lands at a different point of each race.
            let begun = round * (THREADS + TASKS) * EACH / ROUNDS;
            let until = Instant::now() + secs(10);
            while ids.load(SeqCst) < begun {
                assert!(Instant::now() < until, "{what}: the spawners stalled");
                thread::yield_now();
            }
            let exited = pool.shutdown();
            let mut attempts: Vec<Attempt> = Vec::new();
            for t in threads {
                let mine = t.join().unwrap();
                // Once refused, refused for good.
                if let Some(first) = mine.iter().position(|(_, r)| r.is_err()) {
                    assert!(
                        mine[first..].iter().all(|(_, r)| r.is_err()),
                        "{what}: a thread's spawn accepted after a refusal"
                    );
                }
                attempts.extend(mine);
            }
            for t in &tasks {
                // The spawner tasks were accepted before the shutdown: they run.
                let mine = Lazy::wait_timeout(t, secs(10))
                    .unwrap_or_else(|e| panic!("{what}: a spawner task: {e}"));
                if let Some(first) = mine.iter().position(|(_, r)| r.is_err()) {
                    assert!(
                        mine[first..].iter().all(|(_, r)| r.is_err()),
                        "{what}: a task's spawn accepted after a refusal"
                    );
                }
            }
            for t in tasks {
                attempts.extend(Lazy::into_inner(t));
            }
            assert_eq!(attempts.len(), (THREADS + TASKS) * EACH, "{what}");
            assert!(
                Lazy::wait_timeout(&exited, secs(10)).is_ok(),
                "{what}: the workers never exited"
            );
            // Once the workers are gone every accepted task has run: look before any
            // wait of `check`, then again through it.
            for (id, outcome) in &attempts {
                if outcome.is_ok() {
                    assert_eq!(runs.of(*id), 1, "{what}: task {id} after the exit");
                }
            }
            let accepted = check(&attempts, &runs, &what);
            let ran: usize = (0..attempts.len()).map(|id| runs.of(id)).sum();
            assert_eq!(ran, accepted, "{what}: runs against accepted spawns");
            // Nothing runs late, nothing runs twice.
            thread::sleep(ms(20));
            let again: usize = (0..attempts.len()).map(|id| runs.of(id)).sum();
            assert_eq!(again, ran, "{what}: a task ran after the workers exited");
        }
    });
}

#[test]
fn a_task_spawning_onto_its_own_pool_as_it_shuts_down_is_run_or_refused() {
    within(secs(60), || {
        let (mut accepted, mut refused) = (0, 0);
        for round in 0..200 {
            let what = format!("round {round}");
            let pool = ThreadPool::new(1);
            let ids = Arc::new(AtomicUsize::new(0));
            let runs = Runs::new(1);
            let go = Arc::new(Barrier::new(2));
            let (p, ids2, runs2, go2) = (
                pool.clone(),
                Arc::clone(&ids),
                Arc::clone(&runs),
                Arc::clone(&go),
            );
            let task = pool.spawn_lazy(move || {
                go2.wait();
                // Vary which side of the race comes first.
                for _ in 0..round % 4 {
                    thread::yield_now();
                }
                // Onto this worker's own deque, if the pool still takes it.
                attempt(&p, &ids2, &runs2)
            });
            go.wait();
            for _ in 0..round / 4 % 4 {
                thread::yield_now();
            }
            let exited = pool.shutdown();
            let child = Lazy::into_inner(task);
            assert!(
                Lazy::wait_timeout(&exited, secs(10)).is_ok(),
                "{what}: the worker never exited"
            );
            // The worker exited: an accepted child ran before it did.
            if child.1.is_ok() {
                assert_eq!(runs.of(0), 1, "{what}: the worker left its child unrun");
            }
            match check(std::slice::from_ref(&child), &runs, &what) {
                1 => accepted += 1,
                _ => refused += 1,
            }
        }
        assert_eq!(accepted + refused, 200);
    });
}

#[test]
fn a_task_spawning_onto_its_own_pool_before_and_after_the_shutdown() {
    within(secs(20), || {
        let pool = ThreadPool::new(2);
        let ids = Arc::new(AtomicUsize::new(0));
        let runs = Runs::new(2);
        let (spawned_tx, spawned) = mpsc::channel::<()>();
        let (shut_tx, shut) = mpsc::channel::<()>();
        let (p, runs2) = (pool.clone(), Arc::clone(&runs));
        let task = pool.spawn_lazy(move || {
            let before = attempt(&p, &ids, &runs2); // onto this worker's deque
            spawned_tx.send(()).unwrap();
            shut.recv_timeout(secs(10))
                .expect("the test never shut the pool");
            let after = attempt(&p, &ids, &runs2);
            vec![before, after]
        });
        // The first spawn is queued (it may already have run on the other worker).
        spawned
            .recv_timeout(secs(10))
            .expect("the task never spawned");
        let exited = pool.shutdown();
        shut_tx.send(()).unwrap();
        let attempts = Lazy::into_inner(task);
        assert!(Lazy::wait_timeout(&exited, secs(10)).is_ok());
        assert!(
            attempts[0].1.is_ok(),
            "the spawn before the shutdown was refused"
        );
        assert!(
            attempts[1].1.is_err(),
            "the spawn after the shutdown was accepted"
        );
        assert_eq!(check(&attempts, &runs, "before and after"), 1);
    });
}
