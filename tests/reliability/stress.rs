//! Stress tests: blocking on first access, caching and deadlines under load.
//!
//! Eight and more threads race to read 200 futures, some already finished, some in
//! flight, some released mid-read, through every kind of access: all see the right
//! values and every closure runs once. Then deadlines race task completion (deadline
//! about the task's duration): every future's outcome is the same for all its readers,
//! `Ready` only happens when the task's value was there by the deadline, a `Timeout`
//! is never seen before the deadline, and a timed-out task's late value is collectable.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::ms;
use transparent_future::{Deadline, Lazy, Outcome, spawn_lazy, spawn_lazy_with};

fn expected(i: usize) -> u64 {
    (i as u64) * 1_000_003 + 7
}

#[test]
fn many_threads_read_many_futures_in_every_state() {
    const N: usize = 200;
    const READERS: usize = 8;
    let calls = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(Barrier::new(N / 4 + 1));
    let mut spawned = 0;
    let futures: Vec<Lazy<u64>> = (0..N)
        .map(|i| match i % 4 {
            // Already there from the start.
            0 => Lazy::with_value(expected(i)),
            // Finished quickly, probably before anybody reads.
            1 => {
                spawned += 1;
                let calls = Arc::clone(&calls);
                spawn_lazy(move || {
                    calls.fetch_add(1, SeqCst);
                    expected(i)
                })
            }
            // In flight for a while.
            2 => {
                spawned += 1;
                let calls = Arc::clone(&calls);
                spawn_lazy(move || {
                    calls.fetch_add(1, SeqCst);
                    thread::sleep(ms((i % 40) as u64));
                    expected(i)
                })
            }
            // Held until the readers are running.
            _ => {
                spawned += 1;
                let calls = Arc::clone(&calls);
                let release = Arc::clone(&release);
                spawn_lazy(move || {
                    calls.fetch_add(1, SeqCst);
                    release.wait();
                    expected(i)
                })
            }
        })
        .collect();
    thread::sleep(ms(10));
    let t0 = Instant::now();
    thread::scope(|s| {
        for r in 0..READERS {
            let futures = &futures;
            s.spawn(move || {
                // Each reader walks the futures in its own order, with its own access.
                for k in 0..N {
                    let i = if r % 2 == 0 {
                        (k + r * 25) % N
                    } else {
                        N - 1 - (k + r * 25) % N
                    };
                    let x = &futures[i];
                    let want = expected(i);
                    match (r + k) % 5 {
                        0 => assert_eq!(**x, want),
                        1 => assert_eq!(*Lazy::wait(x), want),
                        2 => assert_eq!(x.to_string(), want.to_string()),
                        3 => assert_eq!(x + 0, want),
                        _ => loop {
                            if let Ok(v) = Lazy::wait_timeout(x, ms(1)) {
                                assert_eq!(*v, want);
                                break;
                            }
                        },
                    }
                }
            });
        }
        thread::sleep(ms(50));
        release.wait(); // the held tasks finish while the readers are blocked on them
    });
    assert!(t0.elapsed() < Duration::from_secs(20));
    assert_eq!(calls.load(SeqCst), spawned, "a closure ran more than once");
    for (i, x) in futures.iter().enumerate() {
        assert_eq!(Lazy::get(x), Some(&expected(i)));
    }
}

#[test]
fn readers_racing_on_fresh_futures_agree() {
    // Many rounds: a batch of futures is spawned and read by all readers at once.
    for round in 0..20 {
        let futures: Vec<Lazy<String>> = (0..20)
            .map(|i| {
                spawn_lazy(move || {
                    if i % 3 == 0 {
                        thread::sleep(ms(2));
                    }
                    format!("{round}-{i}")
                })
            })
            .collect();
        thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for (i, x) in futures.iter().enumerate() {
                        assert_eq!(**x, format!("{round}-{i}"));
                    }
                });
            }
        });
    }
}

/// What a task records just before returning.
struct Returned {
    at: Mutex<Option<Instant>>,
}

#[test]
fn deadlines_racing_task_completion_are_decided_consistently() {
    const N: usize = 100;
    const READERS: usize = 8;
    let mut ready = 0;
    let mut timed_out = 0;
    for round in 0..3 {
        let mut deadlines = Vec::with_capacity(N);
        let mut returned = Vec::with_capacity(N);
        let futures: Vec<Lazy<Outcome<usize>>> = (0..N)
            .map(|i| {
                let at = Instant::now() + ms(20);
                let r = Arc::new(Returned {
                    at: Mutex::new(None),
                });
                deadlines.push(at);
                returned.push(Arc::clone(&r));
                // Tasks of 17 to 23 ms against a 20 ms deadline.
                let pause = ms(17 + (i % 7) as u64);
                spawn_lazy_with(Deadline::at(at), move || {
                    thread::sleep(pause);
                    *r.at.lock().unwrap() = Some(Instant::now());
                    i
                })
            })
            .collect();

        // Each reader reads every future, some at once, some around the deadline,
        // some after the tasks are done; it records what it saw and when.
        let seen: Vec<Vec<(Outcome<usize>, Instant)>> = thread::scope(|s| {
            let readers: Vec<_> = (0..READERS)
                .map(|r| {
                    let futures = &futures;
                    s.spawn(move || {
                        thread::sleep(ms([0, 0, 5, 15, 20, 25, 40, 80][r]));
                        let mut mine = vec![(Outcome::Timeout, Instant::now()); N];
                        for k in 0..N {
                            let i = (k * 7 + r * 13) % N;
                            mine[i] = (*futures[i], Instant::now());
                        }
                        mine
                    })
                })
                .collect();
            readers.into_iter().map(|r| r.join().unwrap()).collect()
        });

        // Let every task finish.
        let until = Instant::now() + Duration::from_secs(5);
        while returned.iter().any(|r| r.at.lock().unwrap().is_none()) {
            assert!(Instant::now() < until, "some tasks never finished");
            thread::sleep(ms(5));
        }
        thread::sleep(ms(20));

        for i in 0..N {
            let first = seen[0][i].0;
            let task_returned = returned[i].at.lock().unwrap().unwrap();
            for (r, reader) in seen.iter().enumerate() {
                let (outcome, read_at) = reader[i];
                assert_eq!(
                    outcome, first,
                    "round {round}, future {i}: reader {r} saw {outcome:?}, reader 0 saw {first:?}"
                );
                if outcome.is_timeout() {
                    assert!(
                        read_at >= deadlines[i],
                        "round {round}, future {i}: a Timeout was seen before the deadline"
                    );
                }
            }
            assert_eq!(*futures[i], first, "the outcome changed after the race");
            match first {
                Outcome::Ready(v) => {
                    ready += 1;
                    assert_eq!(v, i);
                    assert!(
                        task_returned <= deadlines[i],
                        "round {round}, future {i}: Ready, but the task returned {:?} after the deadline",
                        task_returned - deadlines[i]
                    );
                    assert!(Lazy::take_late(&futures[i]).is_none());
                }
                Outcome::Timeout => {
                    timed_out += 1;
                    let late = Lazy::take_late(&futures[i]);
                    assert!(
                        matches!(late, Some(Ok(v)) if v == i),
                        "round {round}, future {i}: timed out but its late value is not there"
                    );
                    assert!(Lazy::take_late(&futures[i]).is_none());
                }
            }
        }
    }
    eprintln!("deadline race: {ready} ready, {timed_out} timed out");
    assert_eq!(ready + timed_out, 3 * N);
}
