//! A promise completes its future once, from any thread; a dropped one breaks it; a
//! promised future works wherever a spawned one does.

use std::time::{Duration, Instant};

use transparent_future::{
    BrokenPromise, Deadline, Lazy, Outcome, Promise, SharedLazy, WaitError, as_completed,
    first_done, spawn_lazy,
};

use crate::common::{Counted, block_on, count, counter};
use crate::support::{panic_text, secs, within};

#[test]
fn a_value_set_on_another_thread_reaches_every_kind_of_read() {
    within(secs(10), || {
        let (promise, x): (Promise<String>, Lazy<String>) = Lazy::promise();
        assert_eq!(Lazy::get(&x), None);
        assert!(!Lazy::is_done(&x));
        assert_eq!(format!("{x:?}"), "Lazy(<pending>)");
        let setter = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            promise.set("promised".to_string()).unwrap();
        });
        assert_eq!(x.len(), 8); // blocks until set
        assert_eq!(*x, "promised");
        assert_eq!(format!("{x:?}"), "Lazy(\"promised\")");
        assert_eq!(Lazy::try_wait(&x), Ok(&"promised".to_string()));
        setter.join().unwrap();
    });
}

#[test]
fn a_set_before_any_read_is_there_at_once() {
    let (promise, x) = Lazy::promise();
    promise.set(5).unwrap();
    assert!(Lazy::is_done(&x));
    assert_eq!(Lazy::get(&x), Some(&5));
    assert_eq!(x * 2, 10);
}

#[test]
fn a_dropped_promise_fails_a_blocked_reader_instead_of_hanging() {
    // The reader blocks first; the completer is dropped on another thread later.
    let (text, waited) = within(secs(10), || {
        let (promise, x) = Lazy::<u32>::promise();
        let t0 = Instant::now();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            drop(promise);
        });
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| *x)).unwrap_err();
        (panic_text(err.as_ref()), t0.elapsed())
    });
    assert_eq!(
        text,
        "broken promise: the Promise was dropped without a value"
    );
    assert!(
        waited >= Duration::from_millis(40),
        "it did wait for the drop"
    );
}

#[test]
fn checked_waits_report_a_broken_promise_as_its_own_error() {
    within(secs(10), || {
        let (promise, x) = Lazy::<u8>::promise();
        drop(promise);
        let expected = WaitError::Broken(match Lazy::try_wait(&x) {
            Err(WaitError::Broken(b)) => b,
            other => panic!("expected a broken promise, got {other:?}"),
        });
        assert_eq!(
            Lazy::wait_timeout(&x, Duration::from_secs(5)),
            Err(expected.clone())
        );
        assert_eq!(
            Lazy::wait_deadline(&x, Instant::now() + Duration::from_secs(5)),
            Err(expected.clone())
        );
        let WaitError::Broken(b) = &expected else {
            unreachable!()
        };
        assert_eq!(b.reason(), "the Promise was dropped without a value");
        assert!(std::error::Error::source(&expected).is_some());
        assert!(Lazy::is_done(&x), "a broken promise is decided");
        assert_eq!(format!("{x:?}"), "Lazy(<broken promise>)");
        // `get` panics, as every access that would return the value does.
        let e =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Lazy::get(&x))).unwrap_err();
        assert!(panic_text(e.as_ref()).starts_with("broken promise"));
        // `join` gives the BrokenPromise as the payload.
        let payload = Lazy::join(x).unwrap_err();
        assert_eq!(
            payload
                .downcast_ref::<BrokenPromise>()
                .map(BrokenPromise::reason),
            Some("the Promise was dropped without a value")
        );
    });
}

#[test]
fn a_promise_dropped_while_its_thread_unwinds_breaks_the_future() {
    within(secs(10), || {
        let (promise, x) = Lazy::<u8>::promise();
        let _ = std::thread::spawn(move || {
            let _held = promise;
            panic!("the completer's thread died");
        })
        .join();
        assert!(matches!(Lazy::try_wait(&x), Err(WaitError::Broken(_))));
    });
}

#[test]
fn is_closed_tells_the_completer_that_nobody_can_read() {
    let (promise, x) = Lazy::<u8>::promise();
    let mapped = Lazy::map(x, |v| v + 1); // a continuation still waits on it
    assert!(!promise.is_closed());
    drop(mapped);
    // The continuation stays registered on the promised state (it is not cancelled
    // by dropping its own future), so the state is still read by it.
    assert!(!promise.is_closed());
    promise.set(1).unwrap();

    let (promise, x) = Lazy::<u8>::promise();
    drop(x);
    assert!(promise.is_closed());
    assert_eq!(
        promise.set(9),
        Ok(()),
        "set still succeeds; the value is dropped"
    );
    let (promise, x) = Lazy::<u8>::promise();
    drop(x);
    assert_eq!(format!("{promise:?}"), "Promise { closed: true, .. }");
}

#[test]
fn a_value_nobody_reads_is_dropped_exactly_once() {
    let drops = counter();
    let (promise, x) = Lazy::promise();
    drop(x);
    promise.set(Counted::new(1, &drops)).unwrap();
    assert_eq!(count(&drops), 1);

    let (promise, x) = Lazy::promise();
    promise.set(Counted::new(2, &drops)).unwrap();
    assert_eq!(x.id, 2);
    assert_eq!(count(&drops), 1, "cached in the handle, not dropped");
    drop(x);
    assert_eq!(count(&drops), 2);

    let (promise, x) = Lazy::promise();
    promise.set(Counted::new(3, &drops)).unwrap();
    let owned = Lazy::into_inner(x);
    assert_eq!(count(&drops), 2);
    drop(owned);
    assert_eq!(count(&drops), 3);
}

#[test]
fn a_promised_future_works_with_operators_shared_handles_and_combinators() {
    within(secs(10), || {
        let (p1, a) = Lazy::promise();
        let (p2, b) = Lazy::promise();
        p1.set(40).unwrap();
        p2.set(2).unwrap();
        assert_eq!(&a + &b, 42);
        assert!(a > 39 && b == 2);
        assert_eq!(format!("{a}/{b:>3}"), "40/  2");

        let (p, shared) = Lazy::<Vec<u8>>::promise();
        let shared = Lazy::share(shared);
        let clone = shared.clone();
        let reader = std::thread::spawn(move || clone.len());
        p.set(vec![1, 2, 3]).unwrap();
        assert_eq!(reader.join().unwrap(), 3);
        assert_eq!(SharedLazy::wait(&shared), &[1, 2, 3]);

        let (p, x) = Lazy::promise();
        let chained = Lazy::then(Lazy::map(x, |v: u32| v * 2), |v| spawn_lazy(move || v + 1));
        p.set(10).unwrap();
        assert_eq!(*chained, 21);

        let (ps, xs): (Vec<_>, Vec<_>) = (0..5).map(|_| Lazy::<usize>::promise()).unzip();
        let all = Lazy::all(xs);
        for (i, p) in ps.into_iter().enumerate().rev() {
            p.set(i).unwrap();
        }
        assert_eq!(*all, [0, 1, 2, 3, 4]);

        let (slow, never) = Lazy::<&str>::promise();
        let (fast, soon) = Lazy::promise();
        let racers = [never, soon];
        std::thread::spawn(move || fast.set("fast").unwrap());
        assert_eq!(first_done(&racers), (1, &"fast"));
        drop(slow);

        let (ps, xs): (Vec<_>, Vec<_>) = (0..3).map(|_| Lazy::<usize>::promise()).unzip();
        let mut it = as_completed(xs);
        let mut ps: Vec<Option<Promise<usize>>> = ps.into_iter().map(Some).collect();
        let mut order = Vec::new();
        for i in [2, 0, 1] {
            ps[i].take().unwrap().set(i * 10).unwrap();
            let (j, f) = it.next().unwrap();
            order.push((j, *f));
        }
        assert_eq!(order, [(2, 20), (0, 0), (1, 10)]);
    });
}

#[test]
fn a_promised_future_can_be_awaited_and_wakes_its_task() {
    within(secs(10), || {
        let (p, x) = Lazy::promise();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            p.set(String::from("awaited")).unwrap();
        });
        assert_eq!(block_on(async move { x.await }), "awaited");

        let (p, x) = Lazy::<u8>::promise();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            drop(p);
        });
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            block_on(async { *(&x).await })
        }))
        .unwrap_err();
        assert!(panic_text(err.as_ref()).contains("broken promise"));
    });
}

#[test]
fn a_deadline_promise_set_in_time_is_ready() {
    let (p, x) = Lazy::promise_with(Deadline::after(Duration::from_secs(30)));
    assert_eq!(p.set(3), Ok(()));
    assert_eq!(*x, Outcome::Ready(3));
}

#[test]
fn a_late_value_returns_to_the_completer_exactly_once_and_is_dropped_once() {
    within(secs(10), || {
        let drops = counter();
        let (p, x) = Lazy::promise_with(Deadline::after(Duration::from_millis(20)));
        let t0 = Instant::now();
        assert!(x.is_timeout());
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "released at the deadline"
        );
        let back = p.set(Counted::new(7, &drops)).unwrap_err();
        assert_eq!(back.id, 7);
        assert_eq!(count(&drops), 0, "handed back whole, not dropped inside");
        assert!(
            Lazy::take_late(&x).is_none(),
            "the late value went back, not into the future"
        );
        drop(back);
        drop(x);
        assert_eq!(count(&drops), 1);
    });
}

#[test]
fn a_late_set_before_any_reader_looked_is_still_a_timeout() {
    let (p, x) = Lazy::promise_with(Deadline::after(Duration::from_millis(5)));
    std::thread::sleep(Duration::from_millis(30));
    assert_eq!(
        p.set("late"),
        Err("late"),
        "the setter decides the timeout itself"
    );
    assert_eq!(*x, Outcome::Timeout);
}

#[test]
fn a_broken_deadline_promise_before_the_deadline_is_broken_and_after_it_a_timeout() {
    let (p, x) = Lazy::<u8>::promise_with(Deadline::after(Duration::from_secs(30)));
    drop(p);
    assert!(matches!(Lazy::try_wait(&x), Err(WaitError::Broken(_))));

    let (p, x) = Lazy::<u8>::promise_with(Deadline::after(Duration::from_millis(5)));
    assert_eq!(*x, Outcome::Timeout);
    drop(p);
    assert_eq!(*x, Outcome::Timeout, "the outcome stays the timeout");
}

#[test]
fn a_deadline_promise_wakes_an_await_and_a_continuation_at_the_deadline() {
    within(secs(10), || {
        let (p, x) = Lazy::<u8>::promise_with(Deadline::after(Duration::from_millis(30)));
        let seen = Lazy::map(x, |o| o.is_timeout());
        assert!(*seen, "the timer decided the timeout with nobody reading");
        drop(p);
        let (p, x) = Lazy::<u8>::promise_with(Deadline::after(Duration::from_millis(30)));
        assert_eq!(block_on(async move { x.await }), Outcome::Timeout);
        assert_eq!(p.set(1), Err(1));
    });
}
