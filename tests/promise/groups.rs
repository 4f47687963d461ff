//! Groups that wait for every member however it ends, `as_completed` under a deadline,
//! and a shared value moved out through its last handle.

use std::time::{Duration, Instant};

use transparent_future::{
    Deadline, Lazy, Outcome, SharedLazy, WaitError, as_completed, spawn_lazy, spawn_lazy_with,
};

use crate::common::{Counted, block_on, count, counter};
use crate::support::{secs, within};

#[test]
fn all_settled_reports_every_member_in_input_order_however_it_ended() {
    within(secs(10), || {
        let (broken, never) = Lazy::<u32>::promise();
        let members = vec![
            spawn_lazy(|| {
                std::thread::sleep(Duration::from_millis(50));
                1
            }),
            spawn_lazy(|| -> u32 { panic!("second failed") }),
            never,
            spawn_lazy(|| 4),
        ];
        let all = Lazy::all_settled(members);
        drop(broken);
        assert_eq!(all.len(), 4);
        assert_eq!(all[0], Ok(1), "a failure did not end the wait early");
        assert!(matches!(&all[1], Err(WaitError::Panicked(p)) if p.message() == "second failed"));
        assert!(matches!(&all[2], Err(WaitError::Broken(_))));
        assert_eq!(all[3], Ok(4));
    });
}

#[test]
fn all_settled_waits_for_the_slowest_even_after_a_failure() {
    within(secs(10), || {
        let t0 = Instant::now();
        let all = Lazy::all_settled([
            spawn_lazy(|| -> u8 { panic!("fast failure") }),
            spawn_lazy(|| {
                std::thread::sleep(Duration::from_millis(150));
                2
            }),
        ]);
        assert_eq!(all[1], Ok(2));
        assert!(t0.elapsed() >= Duration::from_millis(140));
    });
}

#[test]
fn all_settled_sees_timeouts_as_values_and_takes_a_group_deadline() {
    within(secs(10), || {
        let members = [
            spawn_lazy_with(Deadline::after(Duration::from_millis(10)), || {
                std::thread::sleep(Duration::from_millis(500));
            }),
            spawn_lazy_with(Deadline::after(Duration::from_secs(30)), || {}),
        ];
        let all = Lazy::all_settled(members);
        assert_eq!(*all, [Ok(Outcome::Timeout), Ok(Outcome::Ready(()))]);

        let slow = spawn_lazy(|| {
            std::thread::sleep(Duration::from_millis(500));
            1
        });
        let group = Lazy::timeout(
            Lazy::all_settled([slow, spawn_lazy(|| 2)]),
            Duration::from_millis(20),
        );
        assert_eq!(*group, Outcome::Timeout);
        assert_eq!(*Lazy::all_settled(Vec::<Lazy<u8>>::new()), []);
    });
}

#[test]
fn all_settled_drops_every_value_exactly_once() {
    let drops = counter();
    let members: Vec<_> = (0..6)
        .map(|i| {
            let d = drops.clone();
            spawn_lazy(move || {
                if i == 3 {
                    panic!("three");
                }
                Counted::new(i, &d)
            })
        })
        .collect();
    let all = Lazy::all_settled(members);
    assert_eq!(all.iter().filter(|r| r.is_ok()).count(), 5);
    drop(all);
    assert_eq!(count(&drops), 5);
}

#[test]
fn as_completed_under_a_deadline_yields_the_quick_ones_and_reports_the_rest() {
    within(secs(10), || {
        let futures = [2_000, 10, 20, 2_000].map(|ms| {
            spawn_lazy(move || {
                std::thread::sleep(Duration::from_millis(ms));
                ms
            })
        });
        let t0 = Instant::now();
        let mut it = as_completed(futures).timeout(Duration::from_millis(400));
        let done: Vec<(usize, u64)> = it.by_ref().map(|(i, f)| (i, *f)).collect();
        let waited = t0.elapsed();
        assert_eq!(done, [(1, 10), (2, 20)]);
        assert!(
            waited >= Duration::from_millis(390),
            "it waited until the deadline: {waited:?}"
        );
        assert!(
            waited < Duration::from_millis(1_800),
            "and not for the slow ones: {waited:?}"
        );
        assert!(it.timed_out());
        assert_eq!(it.unfinished(), 2);
        assert!(it.next().is_none(), "fused");
        let left: Vec<usize> = it.into_unfinished().into_iter().map(|(i, _)| i).collect();
        assert_eq!(left, [0, 3]);
    });
}

#[test]
fn as_completed_under_a_deadline_ends_early_when_everything_is_done() {
    within(secs(10), || {
        let t0 = Instant::now();
        let mut it = as_completed((0..4).map(|i| spawn_lazy(move || i)))
            .deadline(Instant::now() + Duration::from_secs(30));
        assert_eq!(it.by_ref().count(), 4);
        assert!(!it.timed_out());
        assert_eq!(it.unfinished(), 0);
        assert!(t0.elapsed() < Duration::from_secs(10));
        let mut none = as_completed(Vec::<Lazy<u8>>::new()).timeout(Duration::from_secs(1));
        assert!(none.next().is_none());
        assert!(!none.timed_out());
    });
}

#[test]
fn as_completed_under_a_deadline_still_sees_members_decided_by_their_own_deadlines() {
    within(secs(10), || {
        let member = spawn_lazy_with(Deadline::after(Duration::from_millis(20)), || {
            std::thread::sleep(Duration::from_secs(2));
        });
        let mut it = as_completed([member]).timeout(Duration::from_secs(30));
        let (_, f) = it.next().unwrap();
        assert_eq!(*f, Outcome::Timeout);
    });
}

#[test]
fn a_shared_value_awaited_through_its_last_handle_is_moved_not_cloned() {
    within(secs(10), || {
        let (drops, clones) = (counter(), counter());
        let (d, c) = (drops.clone(), clones.clone());
        let shared = Lazy::share(spawn_lazy(move || Counted::with_clones(1, &d, &c)));
        let value = block_on(async move { shared.await });
        assert_eq!(value.id, 1);
        assert_eq!(
            count(&clones),
            0,
            "futures-rs Shared makes no clone here; neither do we"
        );
        drop(value);
        assert_eq!(count(&drops), 1);

        let (d, c) = (drops.clone(), clones.clone());
        let a = Lazy::share(spawn_lazy(move || Counted::with_clones(2, &d, &c)));
        let b = a.clone();
        let first = block_on(async move { a.await });
        assert_eq!(count(&clones), 1, "another handle still holds it: cloned");
        let second = block_on(async move { b.await });
        assert_eq!(count(&clones), 1, "the last handle moved it out");
        drop((first, second));
        assert_eq!(count(&drops), 3);
    });
}

#[test]
fn a_shared_value_unwrapped_through_its_last_handle_is_moved_not_cloned() {
    let (drops, clones) = (counter(), counter());
    let (d, c) = (drops.clone(), clones.clone());
    let a = Lazy::share(spawn_lazy(move || Counted::with_clones(3, &d, &c)));
    let b = a.clone();
    let first = SharedLazy::unwrap_or_clone(a);
    let second = SharedLazy::unwrap_or_clone(b);
    assert_eq!((first.id, second.id), (3, 3));
    assert_eq!(count(&clones), 1);
    drop((first, second));
    assert_eq!(count(&drops), 2);

    let failed = Lazy::share(spawn_lazy(|| -> String { panic!("gone") }));
    let e = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        SharedLazy::unwrap_or_clone(failed)
    }))
    .unwrap_err();
    assert!(crate::support::panic_text(e.as_ref()).contains("gone"));
}
