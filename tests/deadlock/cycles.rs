//! Deadlock detection on cycles of tasks.
//!
//! A thread that would block without a limit on a future whose runner (transitively)
//! waits on that thread is refused: through `Deref` and the other implicit paths with a
//! panic whose message starts with "deadlock: " and names the cycle; through
//! `Lazy::try_wait` with `Err(WaitError::Deadlock(cycle))`. The refused future stays
//! pending and usable.
//!
//! Every scenario runs under a watchdog (`bounded`), so a missed detection fails the
//! test instead of hanging it. Each task that may be refused catches the refusal and
//! returns a fallback, which breaks the cycle, so no thread is left blocked.
//! Ordered scenarios use `debug::waits()` to know that a thread is blocked before the
//! next one closes the cycle; they filter on their own (unique) closure type names.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Barrier, OnceLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{label, panic_text, secs, thread_of, within};
use transparent_future::debug::CycleLink;
use transparent_future::{
    Builder, Lazy, NoTimeout, Outcome, SharedLazy, WaitError, debug, spawn_lazy,
};

type Slot<T> = Arc<OnceLock<SharedLazy<T>>>;

/// Waits until the thread named `name` is blocked (without a limit) on a future.
#[track_caller]
fn wait_until_blocked(name: &str) {
    let quoted = name.to_string();
    let until = Instant::now() + Duration::from_secs(10);
    while !debug::waits().chains().any(|(t, _)| t == quoted) {
        assert!(Instant::now() < until, "{name} never blocked on a future");
        thread::sleep(Duration::from_millis(2));
    }
}

// ---------------------------------------------------------------------------------
// 1. A task that reads its own future.
// ---------------------------------------------------------------------------------

fn self_reader_through_deref(me: Slot<String>) -> impl FnOnce() -> String + Send + 'static {
    move || {
        let own = me.wait();
        // A method call on the value: the implicit path, which panics.
        let refused = catch_unwind(AssertUnwindSafe(|| own.len()));
        let message = panic_text(
            refused
                .expect_err("reading its own future must be refused")
                .as_ref(),
        );
        // The refusal did not poison or decide the future: it is still pending.
        assert!(
            !SharedLazy::is_done(own),
            "a refused wait decided the future"
        );
        assert!(SharedLazy::get(own).is_none());
        assert_eq!(
            Lazy::wait_timeout(SharedLazy::as_lazy(own), Duration::from_millis(5)),
            Err(WaitError::Timeout),
            "a bounded wait on a refused future is an ordinary timeout"
        );
        message
    }
}

#[test]
fn a_task_reading_its_own_future_through_deref_panics_naming_the_cycle() {
    let me: Slot<String> = Arc::default();
    let task = self_reader_through_deref(Arc::clone(&me));
    let name = "t1"; // a named task is labelled by its name
    let x = Lazy::share(Builder::new().name("t1").spawn(task).unwrap());
    me.set(x.clone()).ok().unwrap();

    let message = within(secs(20), move || (*x).clone());
    assert!(message.starts_with("deadlock: "), "{message}");
    assert_eq!(
        message,
        format!("deadlock: task {name:?} on thread \"t1\" waits on task {name:?}")
    );
}

/// What the self-reading task saw through `try_wait`.
#[derive(Debug, Clone)]
struct SelfReport {
    len: usize,
    links: Vec<CycleLink>,
    display: String,
    forever_timeout_refused: bool,
    implicit_wait_panic: String,
}

fn self_reader_through_try_wait(me: Slot<SelfReport>) -> impl FnOnce() -> SelfReport + Send {
    move || {
        let own = SharedLazy::as_lazy(me.wait());
        let cycle = match Lazy::try_wait(own) {
            Err(WaitError::Deadlock(cycle)) => cycle,
            other => panic!("expected a deadlock, got {other:?}"),
        };
        assert!(!Lazy::is_done(own));
        // A timeout too large to represent is a wait without a limit: refused too.
        let forever_timeout_refused = matches!(
            Lazy::wait_timeout(own, Duration::MAX),
            Err(WaitError::Deadlock(c)) if c == cycle
        );
        // The implicit form of the same wait panics with the cycle's message.
        let implicit_wait_panic = panic_text(
            catch_unwind(AssertUnwindSafe(|| Lazy::wait(own).len))
                .expect_err("an implicit wait on itself must be refused")
                .as_ref(),
        );
        SelfReport {
            len: cycle.len(),
            links: cycle.links().to_vec(),
            display: WaitError::Deadlock(cycle.clone()).to_string(),
            forever_timeout_refused,
            implicit_wait_panic,
        }
    }
}

#[test]
fn a_task_reading_its_own_future_through_try_wait_gets_a_cycle_of_one() {
    let me: Slot<SelfReport> = Arc::default();
    let task = self_reader_through_try_wait(Arc::clone(&me));
    let name = "t1-try";
    let x = Lazy::share(Builder::new().name("t1-try").spawn(task).unwrap());
    me.set(x.clone()).ok().unwrap();

    let report = within(secs(20), move || (*x).clone());
    assert_eq!(report.len, 1);
    assert_eq!(report.links.len(), 1);
    assert_eq!(report.links[0].future, label(name));
    assert_eq!(thread_of(&report.links[0]), Some("t1-try"));
    let expected = format!("deadlock: task {name:?} on thread \"t1-try\" waits on task {name:?}");
    assert_eq!(report.display, expected);
    assert!(report.forever_timeout_refused);
    assert_eq!(report.implicit_wait_panic, expected);
}

// ---------------------------------------------------------------------------------
// 2. Two tasks that read each other's futures.
// ---------------------------------------------------------------------------------

/// Something a task does before it reads: wait for a gate or a barrier.
type Before = Box<dyn FnOnce() + Send>;

/// Reads the other task's future through `Deref`; on refusal reports the message and
/// returns the fallback `1`. Otherwise returns the other's value plus 100.
fn task_a(
    other: Slot<u32>,
    before: Before,
    refused: mpsc::Sender<(char, String)>,
) -> impl FnOnce() -> u32 + Send {
    move || {
        let b = other.wait();
        before();
        match catch_unwind(AssertUnwindSafe(|| **b)) {
            Ok(v) => v + 100,
            Err(p) => {
                // Still pending and usable after the refusal: a bounded wait times out.
                assert_eq!(
                    SharedLazy::wait_timeout(b, Duration::from_millis(5)),
                    Err(WaitError::Timeout)
                );
                refused.send(('a', panic_text(p.as_ref()))).unwrap();
                1
            }
        }
    }
}

/// Like `task_a`, a distinct closure type: fallback `2`, success adds 200.
fn task_b(
    other: Slot<u32>,
    before: Before,
    refused: mpsc::Sender<(char, String)>,
) -> impl FnOnce() -> u32 + Send {
    move || {
        let a = other.wait();
        before();
        match catch_unwind(AssertUnwindSafe(|| **a)) {
            Ok(v) => v + 200,
            Err(p) => {
                assert_eq!(
                    SharedLazy::wait_timeout(a, Duration::from_millis(5)),
                    Err(WaitError::Timeout)
                );
                refused.send(('b', panic_text(p.as_ref()))).unwrap();
                2
            }
        }
    }
}

#[test]
fn two_tasks_reading_each_other_the_one_closing_the_cycle_is_refused() {
    within(secs(30), || {
        let (slot_a, slot_b): (Slot<u32>, Slot<u32>) = Default::default();
        let (refused_tx, refused_rx) = mpsc::channel();
        let (go_b, wait_go_b) = mpsc::channel::<()>();

        let a = task_a(Arc::clone(&slot_b), Box::new(|| ()), refused_tx.clone());
        // b starts reading only once a is blocked on b: b closes the cycle.
        let b = task_b(
            Arc::clone(&slot_a),
            Box::new(move || wait_go_b.recv().unwrap()),
            refused_tx,
        );
        let (name_a, name_b) = ("a", "b"); // the names given to the builder label the tasks
        assert_ne!(name_a, name_b);

        let fa = Lazy::share(Builder::new().name("a").spawn(a).unwrap());
        let fb = Lazy::share(Builder::new().name("b").spawn(b).unwrap());
        slot_a.set(fa.clone()).ok().unwrap();
        slot_b.set(fb.clone()).ok().unwrap();
        // (By thread name: the racing test below blocks on futures of the same types.)
        wait_until_blocked("a");
        go_b.send(()).unwrap();

        let (who, message) = refused_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(who, 'b', "the task closing the cycle is refused");
        // Exactly one refusal: a completes with b's fallback, read through the very
        // handle b was refused on.
        assert_eq!(*fb, 2);
        assert_eq!(*fa, 102);
        assert!(
            refused_rx.try_recv().is_err(),
            "only one task may be refused"
        );

        assert!(message.starts_with("deadlock: "), "{message}");
        assert_eq!(
            message,
            format!(
                "deadlock: task {name_b:?} on thread \"b\" waits on task {name_a:?} on thread \"a\", \
                 which waits on task {name_b:?}"
            )
        );
    });
}

#[test]
fn two_tasks_racing_to_read_each_other_exactly_one_is_refused_every_time() {
    for round in 0..20 {
        within(secs(30), move || {
            let (slot_a, slot_b): (Slot<u32>, Slot<u32>) = Default::default();
            let (refused_tx, refused_rx) = mpsc::channel();
            let start = Arc::new(Barrier::new(2));
            let (sa, sb) = (Arc::clone(&start), Arc::clone(&start));
            let a = task_a(
                Arc::clone(&slot_b),
                Box::new(move || {
                    sa.wait();
                }),
                refused_tx.clone(),
            );
            let b = task_b(
                Arc::clone(&slot_a),
                Box::new(move || {
                    sb.wait();
                }),
                refused_tx,
            );
            let fa = Lazy::share(Builder::new().name("race-a").spawn(a).unwrap());
            let fb = Lazy::share(Builder::new().name("race-b").spawn(b).unwrap());
            slot_a.set(fa.clone()).ok().unwrap();
            slot_b.set(fb.clone()).ok().unwrap();

            let (va, vb) = (*fa, *fb);
            let refusals: Vec<(char, String)> = refused_rx.try_iter().collect();
            assert_eq!(refusals.len(), 1, "round {round}: {refusals:?}");
            match refusals[0].0 {
                'a' => assert_eq!((va, vb), (1, 201), "round {round}"),
                'b' => assert_eq!((va, vb), (102, 2), "round {round}"),
                _ => unreachable!(),
            }
            let message = &refusals[0].1;
            assert!(message.starts_with("deadlock: "), "{message}");
            assert!(message.contains("on thread \"race-a\""), "{message}");
            assert!(message.contains("on thread \"race-b\""), "{message}");
        });
    }
}

// ---------------------------------------------------------------------------------
// 3. Rings of three and five.
// ---------------------------------------------------------------------------------

/// What one member of a ring saw.
#[derive(Debug)]
enum Seen {
    Value(u32),
    Refused(Vec<CycleLink>, String),
}

/// A ring of `n` named tasks, task `i` reading task `i + 1` with `try_wait`. With
/// `ordered`, task `i` starts reading only once task `i - 1` is blocked, so the last
/// task closes the cycle; otherwise all start at once. A refused task returns 0; the
/// others return what they read plus one.
fn ring(prefix: &'static str, n: usize, ordered: bool) -> (Vec<u32>, Vec<Seen>) {
    let slots: Vec<Slot<u32>> = (0..n).map(|_| Arc::default()).collect();
    let (seen_tx, seen_rx) = mpsc::channel();
    let barrier = Arc::new(Barrier::new(n));
    let mut gates = Vec::new();
    let mut futures = Vec::new();
    for i in 0..n {
        let next = Arc::clone(&slots[(i + 1) % n]);
        let seen_tx = seen_tx.clone();
        let barrier = Arc::clone(&barrier);
        let (gate_tx, gate_rx) = mpsc::channel::<()>();
        gates.push(gate_tx);
        let f = Builder::new()
            .name(format!("{prefix}-{i}"))
            .spawn(move || {
                let next = SharedLazy::as_lazy(next.wait());
                if ordered {
                    gate_rx.recv().unwrap();
                } else {
                    barrier.wait();
                }
                let (seen, value) = match Lazy::try_wait(next) {
                    Ok(v) => (Seen::Value(*v), *v + 1),
                    Err(WaitError::Deadlock(cycle)) => {
                        assert!(!Lazy::is_done(next));
                        (Seen::Refused(cycle.links().to_vec(), cycle.to_string()), 0)
                    }
                    Err(other) => panic!("unexpected {other:?}"),
                };
                seen_tx.send((i, seen)).unwrap();
                value
            })
            .unwrap();
        futures.push(Lazy::share(f));
    }
    for (slot, f) in slots.iter().zip(&futures) {
        slot.set(f.clone()).ok().unwrap();
    }
    if ordered {
        for (i, gate) in gates.iter().enumerate() {
            gate.send(()).unwrap();
            if i + 1 < n {
                // Task i is blocked on task i + 1 before task i + 1 may read.
                wait_until_blocked(&format!("{prefix}-{i}"));
            }
        }
    } else {
        for gate in &gates {
            let _ = gate.send(());
        }
    }
    let values = futures.iter().map(|f| **f).collect();
    let mut seen: Vec<(usize, Seen)> = seen_rx.try_iter().collect();
    seen.sort_by_key(|(i, _)| *i);
    assert_eq!(seen.len(), n);
    (values, seen.into_iter().map(|(_, s)| s).collect())
}

#[test]
fn a_cycle_of_three_is_refused_to_the_task_closing_it() {
    let (values, seen) = within(secs(30), || ring("ring3", 3, true));
    // Task 2 closes the cycle and falls back to 0; 1 reads 0, 0 reads 1.
    assert_eq!(values, [2, 1, 0]);
    assert!(matches!(seen[0], Seen::Value(1)));
    assert!(matches!(seen[1], Seen::Value(0)));
    let Seen::Refused(links, display) = &seen[2] else {
        panic!("task 2 was not refused: {seen:?}")
    };
    // The refused task's own future first, then the one it waits on, and so on.
    let threads: Vec<_> = links.iter().map(thread_of).collect();
    assert_eq!(
        threads,
        [Some("ring3-2"), Some("ring3-0"), Some("ring3-1")],
        "{display}"
    );
    assert!(links.iter().all(|l| l.future.starts_with("task \"")));
    assert!(
        display.starts_with("task \"") && display.contains("on thread \"ring3-2\" waits on task"),
        "{display}"
    );
    assert!(
        display.contains("on thread \"ring3-0\", which waits on task")
            && display.contains("on thread \"ring3-1\", which waits on task"),
        "{display}"
    );
}

#[test]
fn a_ring_of_five_started_at_once_refuses_exactly_one_task() {
    for _ in 0..5 {
        let (values, seen) = within(secs(30), || ring("ring5", 5, false));
        let refused: Vec<usize> = (0..5)
            .filter(|&i| matches!(seen[i], Seen::Refused(..)))
            .collect();
        assert_eq!(refused.len(), 1, "{seen:?}");
        let r = refused[0];
        let Seen::Refused(links, _) = &seen[r] else {
            unreachable!()
        };
        assert_eq!(links.len(), 5);
        for (k, link) in links.iter().enumerate() {
            assert_eq!(
                thread_of(link),
                Some(format!("ring5-{}", (r + k) % 5).as_str())
            );
        }
        // Going backwards from the refused task, each value is one more.
        for k in 0..5 {
            assert_eq!(values[(r + 5 - k) % 5], k as u32);
        }
    }
}

// ---------------------------------------------------------------------------------
// 4. Cycles through a shared handle and through `Lazy::map`, `Lazy::then`, `Lazy::all`
//    and scoped tasks.
// ---------------------------------------------------------------------------------

/// Waits (unbounded) on the mapped future; falls back to 0 if refused.
fn map_reader(
    mapped: Slot<u32>,
    tx: mpsc::Sender<Result<u32, WaitError>>,
) -> impl FnOnce() -> u32 + Send {
    move || {
        let m = SharedLazy::as_lazy(mapped.wait());
        let r = Lazy::try_wait(m).copied();
        tx.send(r.clone()).unwrap();
        r.unwrap_or(0)
    }
}

/// Waits (unbounded) on the other task; falls back to 0 if refused.
fn plain_reader(
    other: Slot<u32>,
    tx: mpsc::Sender<Result<u32, WaitError>>,
) -> impl FnOnce() -> u32 + Send {
    move || {
        let o = SharedLazy::as_lazy(other.wait());
        let r = Lazy::try_wait(o).copied();
        tx.send(r.clone()).unwrap();
        r.unwrap_or(0) + 10
    }
}

/// A (thread "<p>-a") waits on `map(B)`; B (thread "<p>-b") waits on A. `a_first`
/// decides who blocks first; the other closes the cycle.
#[allow(clippy::type_complexity)]
fn map_cycle(
    p: &str,
    a_first: bool,
) -> (
    String,
    String,
    Result<u32, WaitError>,
    Result<u32, WaitError>,
    u32,
    u32,
) {
    let (slot_a, slot_m): (Slot<u32>, Slot<u32>) = Default::default();
    let (tx_a, rx_a) = mpsc::channel();
    let (tx_b, rx_b) = mpsc::channel();
    let (go_a, gate_a) = mpsc::channel::<()>();
    let (go_b, gate_b) = mpsc::channel::<()>();
    let inner_a = map_reader(Arc::clone(&slot_m), tx_a);
    let inner_b = plain_reader(Arc::clone(&slot_a), tx_b);
    let a = move || {
        gate_a.recv().unwrap();
        inner_a()
    };
    let b = move || {
        gate_b.recv().unwrap();
        inner_b()
    };
    let (name_a, name_b) = (format!("{p}-a"), format!("{p}-b"));
    let fa = Lazy::share(Builder::new().name(format!("{p}-a")).spawn(a).unwrap());
    let fb = Builder::new().name(format!("{p}-b")).spawn(b).unwrap();
    let mapped = Lazy::share(Lazy::map(fb, |v| v * 2));
    slot_a.set(fa.clone()).ok().unwrap();
    slot_m.set(mapped.clone()).ok().unwrap();
    if a_first {
        go_a.send(()).unwrap();
        wait_until_blocked(&format!("{p}-a"));
        go_b.send(()).unwrap();
    } else {
        go_b.send(()).unwrap();
        wait_until_blocked(&format!("{p}-b"));
        go_a.send(()).unwrap();
    }
    let ra = rx_a.recv_timeout(Duration::from_secs(10)).unwrap();
    let rb = rx_b.recv_timeout(Duration::from_secs(10)).unwrap();
    (name_a.to_string(), name_b.to_string(), ra, rb, *fa, *mapped)
}

#[test]
fn a_cycle_through_map_and_a_shared_handle_is_refused_to_the_closing_reader_of_the_map() {
    let (name_a, name_b, ra, rb, a, mapped) = within(secs(30), || map_cycle("mapx", false));
    // B blocked on A first; A, reading map(B), closes the cycle.
    let Err(WaitError::Deadlock(cycle)) = &ra else {
        panic!("A was not refused: {ra:?}")
    };
    assert_eq!(cycle.len(), 3);
    assert_eq!(
        cycle.to_string(),
        format!(
            "task {name_a:?} on thread \"mapx-a\" waits on map, which waits on task {name_b:?} \
             on thread \"mapx-b\", which waits on task {name_a:?}"
        )
    );
    assert_eq!(
        cycle.links()[1].thread,
        None,
        "the map has no thread of its own"
    );
    // A fell back to 0; B read it and returned 10; the map doubled that.
    assert_eq!(rb, Ok(0));
    assert_eq!((a, mapped), (0, 20));
}

#[test]
fn a_cycle_through_map_is_refused_to_the_task_the_map_waits_on() {
    let (name_a, name_b, ra, rb, a, mapped) = within(secs(30), || map_cycle("mapy", true));
    // A blocked on map(B) first; B, reading A, closes the cycle.
    let Err(WaitError::Deadlock(cycle)) = &rb else {
        panic!("B was not refused: {rb:?}")
    };
    assert_eq!(
        cycle.to_string(),
        format!(
            "task {name_b:?} on thread \"mapy-b\" waits on task {name_a:?} on thread \"mapy-a\", \
             which waits on map, which waits on task {name_b:?}"
        )
    );
    assert_eq!(cycle.len(), 3);
    // B fell back to 0 + 10; the map gave A 20.
    assert_eq!(ra, Ok(20));
    assert_eq!((a, mapped), (20, 20));
}

#[test]
fn a_cycle_through_then_and_the_future_it_returned_is_refused() {
    let (message, a_value, then_value) = within(secs(30), || {
        let slot_a: Slot<u32> = Arc::default();
        let slot_then: Slot<u32> = Arc::default();
        let (msg_tx, msg_rx) = mpsc::channel();
        let (go_a, gate_a) = mpsc::channel::<()>();
        let st = Arc::clone(&slot_then);
        // A (thread "then-a") waits on then(B, |_| C) once C is blocked on A.
        let fa = Builder::new()
            .name("then-a")
            .spawn(move || {
                gate_a.recv().unwrap();
                match Lazy::try_wait(SharedLazy::as_lazy(st.wait())) {
                    Ok(v) => *v,
                    Err(e) => {
                        msg_tx.send(e.to_string()).unwrap();
                        5
                    }
                }
            })
            .unwrap();
        let fa = Lazy::share(fa);
        slot_a.set(fa.clone()).ok().unwrap();
        let sa = Arc::clone(&slot_a);
        let then = Lazy::then(spawn_lazy(|| 1u32), move |v| {
            Builder::new()
                .name("then-c")
                .spawn(move || **sa.wait() + v)
                .unwrap()
        });
        let then = Lazy::share(then);
        slot_then.set(then.clone()).ok().unwrap();
        wait_until_blocked("then-c");
        go_a.send(()).unwrap();
        let message = msg_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        (message, *fa, *then)
    });
    // A fell back to 5; C read it and added B's 1.
    assert_eq!((a_value, then_value), (5, 6));
    assert!(message.starts_with("deadlock: task \""), "{message}");
    assert!(
        message.contains("on thread \"then-a\" waits on then, which waits on task"),
        "{message}"
    );
    assert!(
        message.contains("on thread \"then-c\", which waits on task"),
        "{message}"
    );
}

#[test]
fn a_cycle_through_all_is_refused() {
    let (cycle, all_value) = within(secs(30), || {
        let slot_a: Slot<u32> = Arc::default();
        let slot_all: Slot<Vec<u32>> = Arc::default();
        let (tx, rx) = mpsc::channel();
        let s_all = Arc::clone(&slot_all);
        let (go_a, gate_a) = mpsc::channel::<()>();
        let fa = Builder::new()
            .name("all-a")
            .spawn(move || {
                gate_a.recv().unwrap();
                match Lazy::try_wait(SharedLazy::as_lazy(s_all.wait())) {
                    Ok(v) => v.iter().sum(),
                    Err(WaitError::Deadlock(c)) => {
                        tx.send(c).unwrap();
                        7
                    }
                    Err(e) => panic!("{e}"),
                }
            })
            .unwrap();
        let fa = Lazy::share(fa);
        slot_a.set(fa.clone()).ok().unwrap();
        let sa = Arc::clone(&slot_a);
        let reads_a = Builder::new()
            .name("all-c")
            .spawn(move || **sa.wait() + 1)
            .unwrap();
        let all = Lazy::share(Lazy::all([spawn_lazy(|| 100u32), reads_a]));
        slot_all.set(all.clone()).ok().unwrap();
        // all-c blocks on A, then A reads all([..., all-c]) and closes the cycle.
        wait_until_blocked("all-c");
        go_a.send(()).unwrap();
        let cycle = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        (cycle, (*all).clone())
    });
    assert_eq!(all_value, [100, 8]);
    assert_eq!(cycle.len(), 3);
    assert_eq!(thread_of(&cycle.links()[0]), Some("all-a"));
    assert_eq!(cycle.links()[1].future, "all");
    assert_eq!(thread_of(&cycle.links()[2]), Some("all-c"));
}

#[test]
fn scoped_tasks_reading_each_other_are_refused_once() {
    let results = within(secs(30), || {
        let slots: [OnceLock<SharedLazy<u32>>; 2] = Default::default();
        let barrier = Barrier::new(2);
        transparent_future::scope(|s| {
            let reader = |me: usize| {
                let (slots, barrier) = (&slots, &barrier);
                move || {
                    barrier.wait();
                    match Lazy::try_wait(SharedLazy::as_lazy(slots[1 - me].wait())) {
                        Ok(v) => *v + 1,
                        Err(WaitError::Deadlock(c)) => {
                            assert_eq!(c.len(), 2);
                            assert!(c.links().iter().all(|l| l.future == "scoped task"));
                            assert!(c.to_string().starts_with("scoped task on thread "));
                            0
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
            };
            let x = Lazy::share(s.spawn_lazy(reader(0)));
            let y = Lazy::share(s.spawn_lazy(reader(1)));
            slots[0].set(x.clone()).ok().unwrap();
            slots[1].set(y.clone()).ok().unwrap();
            let mut r = [*x, *y];
            r.sort_unstable();
            r
        })
    });
    assert_eq!(results, [0, 1]);
}

/// A deadline-free `Outcome` future (`NoTimeout`) takes part in detection like any
/// other: a task reading its own one is refused.
#[test]
fn a_future_without_deadline_spawned_with_a_policy_is_checked_too() {
    let me: Slot<Outcome<usize>> = Arc::default();
    let m = Arc::clone(&me);
    let x = Builder::new()
        .name("policy-self")
        .timeout(NoTimeout)
        .spawn(
            move || match Lazy::try_wait(SharedLazy::as_lazy(m.wait())) {
                Err(WaitError::Deadlock(c)) => c.len(),
                other => panic!("expected a deadlock, got {other:?}"),
            },
        )
        .unwrap();
    let x = Lazy::share(x);
    me.set(x.clone()).ok().unwrap();
    let v = within(secs(20), move || *x);
    assert_eq!(v, Outcome::Ready(1));
}

// ---------------------------------------------------------------------------------
// Bugs.
// ---------------------------------------------------------------------------------

/// `Lazy::then_ready`'s continuation never records the thread running `f` (unlike
/// `map`, `map_ready` and `then`, it does not call `computing_here`), so while `f`
/// runs, the downstream node still points at its (finished) upstream and the walk stops
/// there: a cycle through `f` is not detected and both threads block forever.
///
/// When this fails, the two blocked threads ("tr-a" and the upstream's thread) stay
/// blocked until the test process exits: a real deadlock cannot be broken from outside.
#[test]
fn a_cycle_through_then_ready_is_detected() {
    let outcome = within(secs(5), || {
        let slot_a: Slot<u32> = Arc::default();
        let slot_r: Slot<Outcome<u32>> = Arc::default();
        let (tx, rx) = mpsc::channel();
        let sr = Arc::clone(&slot_r);
        let tx_a = tx.clone();
        let a = Builder::new()
            .name("tr-a")
            .spawn(move || {
                let r = Lazy::try_wait(SharedLazy::as_lazy(sr.wait())).copied();
                tx_a.send(("a", r.is_err())).unwrap();
                7
            })
            .unwrap();
        let a = Lazy::share(a);
        slot_a.set(a.clone()).ok().unwrap();
        let b = Builder::new()
            .name("tr-b")
            .timeout(NoTimeout)
            .spawn(|| {
                thread::sleep(Duration::from_millis(100));
                1u32
            })
            .unwrap();
        let sa = Arc::clone(&slot_a);
        let r = Lazy::then_ready(b, move |v| {
            // Runs on "tr-b" once B returned: waits on A, which waits on this future.
            let refused = Lazy::try_wait(SharedLazy::as_lazy(sa.wait())).is_err();
            tx.send(("f", refused)).unwrap();
            Lazy::with_value(v)
        });
        slot_r.set(Lazy::share(r)).ok().unwrap();
        let first = rx
            .recv_timeout(Duration::from_secs(4))
            .expect("neither side returned: the cycle went undetected");
        let second = rx
            .recv_timeout(Duration::from_secs(4))
            .expect("one side never returned");
        (first, second, *a)
    });
    let (first, second, _) = outcome;
    assert!(
        first.1 ^ second.1,
        "exactly one side must be refused: {first:?} {second:?}"
    );
}
