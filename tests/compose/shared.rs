//! Shared results: `Lazy::share` and `SharedLazy<T>`.
//!
//! * `Lazy::share` gives a handle whose `Clone` is cheap (it never waits, the task runs
//!   once) and whose clones all see the same value;
//! * each clone is transparent like a `Lazy`: `Deref`, `Display`, `==`, `<`, the
//!   operators (`shared + 1`, `1 + shared`, `&a * &b`), `Hash`/`Eq`/`Ord` for the
//!   primitives;
//! * a panic in the task reaches every clone (8 clones on 8 threads all panic with the
//!   message), and a deadline releases every clone's reader;
//! * the value lives until the last clone is dropped, and is dropped exactly once;
//! * `SharedLazy::try_unwrap`, `ptr_eq`, `handles`;
//! * on every executor.

// The comparisons are spelled out on purpose, and a `SharedLazy` key's value never
// changes once it is there.
#![allow(clippy::nonminimal_bool, clippy::mutable_key_type)]

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{Drops, Gate, executors, ms, panic_of, within};
use transparent_future::{
    Deadline, Lazy, Outcome, SharedLazy, WaitError, spawn_lazy, spawn_lazy_with,
};

const LIMIT: Duration = Duration::from_secs(20);

#[test]
fn clones_are_cheap_and_share_one_value_computed_once() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            let runs = Arc::new(AtomicUsize::new(0));
            let gate = Gate::new();
            let _open = gate.guard();
            let (r, g) = (Arc::clone(&runs), gate.clone());
            let shared = Lazy::share(e.spawn(move || {
                r.fetch_add(1, SeqCst);
                g.wait();
                vec!["verbose", "color"]
            }));
            // Cloning a pending handle does not wait.
            let t0 = Instant::now();
            let clones: Vec<SharedLazy<Vec<&str>>> = (0..100).map(|_| shared.clone()).collect();
            assert!(t0.elapsed() < ms(500), "{name}: clone waited");
            assert_eq!(SharedLazy::handles(&shared), 101, "{name}");
            assert!(clones.iter().all(|c| SharedLazy::ptr_eq(c, &shared)));
            assert!(!SharedLazy::is_done(&clones[7]));
            assert_eq!(SharedLazy::get(&clones[7]), None);
            assert_eq!(
                SharedLazy::wait_timeout(&clones[7], ms(20)),
                Err(WaitError::Timeout)
            );
            assert_eq!(format!("{:?}", clones[3]), "SharedLazy(<pending>)");

            let readers: Vec<_> = clones
                .into_iter()
                .take(8)
                .map(|c| thread::spawn(move || c.len() + c[1].len()))
                .collect();
            gate.open();
            for r in readers {
                assert_eq!(r.join().unwrap(), 7, "{name}");
            }
            assert_eq!(runs.load(SeqCst), 1, "{name}: the task ran more than once");
            assert_eq!(SharedLazy::handles(&shared), 1, "{name}");
            assert_eq!(*SharedLazy::wait(&shared), ["verbose", "color"]);
            assert_eq!(format!("{shared:?}"), r#"SharedLazy(["verbose", "color"])"#);
            // Another share of an equal value is not the same future.
            let other = Lazy::share(e.spawn(|| vec!["verbose", "color"]));
            assert!(!SharedLazy::ptr_eq(&shared, &other));
            assert!(shared == *other);
        });
    }
}

#[test]
fn a_clone_is_transparent_like_a_lazy() {
    within(LIMIT, || {
        let a = Lazy::share(spawn_lazy(|| 6_i32));
        let b = Lazy::share(spawn_lazy(|| 7_i32));
        assert_eq!(*a, 6);
        assert_eq!(a.pow(2), 36); // the value's own methods
        assert_eq!(format!("[{a:>4}] {b:03} {:x}", a.clone()), "[   6] 007 6");
        assert!(a == 6 && a != 7 && 6 == a);
        assert!(a < 7 && a > 5 && 5 < a);
        assert!(a < b && b > a && a != b);
        assert_eq!(a.clone() + 1, 7); // shared + 1
        assert_eq!(1 + a.clone(), 7); // 1 + shared
        assert_eq!(&a * &b, 42); // &a * &b
        assert_eq!(&a * 2, 12);
        assert_eq!(2 * &a, 12);
        assert_eq!(-&a, -6);
        assert_eq!(-a.clone(), -6);
        assert_eq!(a.clone() - b.clone(), -1);
        let mut n = 10;
        n += &a;
        n -= b.clone();
        assert_eq!(n, 9);

        // Hash, Eq and Ord for the primitives: equal values are equal keys.
        let set: HashSet<SharedLazy<i32>> = [a.clone(), Lazy::share(spawn_lazy(|| 6)), b.clone()]
            .into_iter()
            .collect();
        assert_eq!(set.len(), 2);
        assert!(set.contains(&a));
        let mut map = HashMap::new();
        map.insert(a.clone(), "six");
        assert_eq!(map.get(&Lazy::share(Lazy::with_value(6))), Some(&"six"));
        let sorted: BTreeSet<SharedLazy<i32>> = [b.clone(), a.clone()].into_iter().collect();
        assert_eq!(sorted.into_iter().map(|s| *s).collect::<Vec<_>>(), [6, 7]);

        // Non-primitives: Deref, comparisons, by-value operators through a clone.
        let s = Lazy::share(spawn_lazy(|| String::from("transparent")));
        assert_eq!(s.len(), 11);
        assert!(s == "transparent");
        assert!(*s == "transparent");
        assert_eq!(s.clone() + " future", "transparent future");
        assert_eq!(*s, "transparent", "the shared value itself is unchanged");
        let words: Vec<char> = s.chars().take(3).collect();
        assert_eq!(words, ['t', 'r', 'a']);
        let v = Lazy::share(spawn_lazy(|| vec![1, 2, 3]));
        assert_eq!((&v).into_iter().sum::<i32>(), 6);
        assert_eq!(v[2], 3);
        let as_ref: &Vec<i32> = v.as_ref();
        assert_eq!(as_ref.len(), 3);
    });
}

#[test]
fn a_panic_reaches_every_clone_on_every_thread() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            let gate = Gate::new();
            let _open = gate.guard();
            let g = gate.clone();
            let shared = Lazy::share(e.spawn(move || -> u64 {
                g.wait();
                panic!("shared disk on fire")
            }));
            let readers: Vec<_> = (0..8)
                .map(|i| {
                    let c = shared.clone();
                    thread::spawn(move || match i % 4 {
                        0 => panic_of(|| *c + 1),
                        1 => panic_of(|| c.to_string()),
                        2 => panic_of(|| *SharedLazy::wait(&c)),
                        _ => panic_of(|| c == 3),
                    })
                })
                .collect();
            thread::sleep(ms(30)); // let them block first
            gate.open();
            for r in readers {
                let msg = r.join().unwrap();
                assert!(msg.contains("shared disk on fire"), "{name}: {msg}");
            }
            // And every later read, on any clone.
            assert!(panic_of(|| *shared.clone()).contains("shared disk on fire"));
            assert_eq!(format!("{shared:?}"), "SharedLazy(<panicked>)");
            // The last handle gives back the future, whose join has the payload.
            let only = SharedLazy::try_unwrap(shared).expect("the last handle");
            let payload = Lazy::join(only).unwrap_err();
            assert_eq!(payload.downcast_ref::<&str>(), Some(&"shared disk on fire"));
        });
    }
}

#[test]
fn a_deadline_releases_the_readers_of_every_clone() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            let gate = Gate::new();
            let _open = gate.guard();
            let g = gate.clone();
            let t0 = Instant::now();
            let shared = Lazy::share(e.spawn_with(Deadline::after(ms(150)), move || {
                g.wait();
                1
            }));
            let readers: Vec<_> = (0..4)
                .map(|_| {
                    let c = shared.clone();
                    thread::spawn(move || (*c == Outcome::Timeout, t0.elapsed()))
                })
                .collect();
            for r in readers {
                let (timed_out, took) = r.join().unwrap();
                assert!(timed_out, "{name}");
                assert!(took >= ms(140) && took < ms(1500), "{name}: {took:?}");
            }
            assert_eq!(shared.to_string(), "Timeout");
        });
    }
}

#[test]
fn the_value_lives_until_the_last_clone_and_is_dropped_once() {
    for exec in executors() {
        let name = exec.name();
        let e = exec.clone();
        within(LIMIT, move || {
            // Read, then the clones dropped one by one on several threads.
            let drops = Drops::new();
            let d = drops.clone();
            let shared = Lazy::share(e.spawn(move || d.track(9)));
            let clones: Vec<_> = (0..6).map(|_| shared.clone()).collect();
            assert_eq!(shared.value, 9);
            drop(shared);
            for c in clones {
                assert_eq!(drops.count(), 0, "{name}: dropped while a clone is alive");
                assert_eq!(c.value, 9, "{name}");
                thread::spawn(move || drop(c)).join().unwrap();
            }
            drops.expect(1);

            // Never read.
            let drops = Drops::new();
            let d = drops.clone();
            let shared = Lazy::share(e.spawn(move || d.track(1)));
            let clone = shared.clone();
            drop(shared);
            thread::sleep(ms(30));
            assert_eq!(drops.count(), 0, "{name}");
            drop(clone);
            drops.expect(1);

            // Every clone dropped while the task is still running.
            let gate = Gate::new();
            let _open = gate.guard();
            let drops = Drops::new();
            let (g, d) = (gate.clone(), drops.clone());
            let shared = Lazy::share(e.spawn(move || {
                g.wait();
                d.track(2)
            }));
            let clones: Vec<_> = (0..4).map(|_| shared.clone()).collect();
            drop(shared);
            drop(clones);
            gate.open();
            drops.expect(1);

            // try_unwrap gives the future back to the last owner; into_inner moves the
            // value out (still one drop).
            let drops = Drops::new();
            let d = drops.clone();
            let shared = Lazy::share(e.spawn(move || d.track(3)));
            let clone = shared.clone();
            let shared = SharedLazy::try_unwrap(shared).expect_err("two handles");
            assert_eq!(SharedLazy::handles(&shared), 2);
            assert_eq!(clone.value, 3, "{name}");
            drop(clone);
            assert_eq!(SharedLazy::handles(&shared), 1);
            let lazy = SharedLazy::try_unwrap(shared).expect("the last handle");
            let value = Lazy::into_inner(lazy);
            assert_eq!(value.value, 3);
            assert_eq!(drops.count(), 0);
            drop(value);
            drops.expect(1);
        });
    }
}

#[test]
fn shared_from_a_ready_value_and_from_conversion() {
    let a: SharedLazy<u8> = Lazy::with_value(4).into();
    assert!(SharedLazy::is_done(&a));
    assert_eq!(SharedLazy::get(&a), Some(&4));
    assert_eq!(*a, 4);
    let b = SharedLazy::from(spawn_lazy(|| 5_u8));
    assert_eq!(
        SharedLazy::wait_deadline(&b, Instant::now() + Duration::from_secs(10)),
        Ok(&5)
    );
    assert_eq!(*SharedLazy::as_lazy(&b), 5);
    let t = Lazy::share(spawn_lazy_with(
        Deadline::after(Duration::from_secs(30)),
        || 1,
    ));
    assert_eq!(*t, Outcome::Ready(1));
    // A shared value can feed a chain through a clone of it.
    let mapped = Lazy::map(spawn_lazy(|| 1), {
        let b = b.clone();
        move |v| v + *b
    });
    assert_eq!(*mapped, 6);
}
