//! `ThreadPerTask` and its cap on live threads.
//!
//! `ThreadPerTask` is the executor behind `spawn_lazy`: one thread per future, counted
//! by `ThreadPerTask::live_threads()`. Past the cap set with
//! `ThreadPerTask::set_max_live_threads(n)`, a thread is refused: every `Builder`
//! spawn (`spawn`, `spawn_cancellable`, `spawn_scoped`, with or without a timeout, on
//! the default executor or `on(&ThreadPerTask)`) returns an `Err` of kind `WouldBlock`
//! whose message names the cap, and the shorthands (`spawn_lazy`, `spawn_lazy_with`,
//! `Scope::spawn_lazy`) panic with a clear message; the refused closure never runs and is
//! dropped once. The default cap is derived from the system's limits.
//!
//! The cap and the live count are process-global, so every test in this file holds
//! `support::serial()` (through `Exclusive`) and restores the cap it found.

use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, MutexGuard};
use std::thread;
use std::time::Duration;

use crate::support::{Counted as Tracked, Gate, panic_text, serial, wait_live};
use transparent_future::executor::ThreadPerTask;
use transparent_future::{Builder, Deadline, Lazy, NoTimeout, spawn_lazy, spawn_lazy_with};

/// Holds `serial()`, waits until no thread-per-task thread is left from an earlier test,
/// and restores the cap when dropped (also when the test fails).
struct Exclusive {
    cap: usize,
    _serial: MutexGuard<'static, ()>,
}

impl Exclusive {
    fn new() -> Exclusive {
        let serial = serial();
        let cap = ThreadPerTask::max_live_threads();
        ThreadPerTask::set_max_live_threads(cap);
        wait_live(0);
        Exclusive {
            cap,
            _serial: serial,
        }
    }
}

impl Drop for Exclusive {
    fn drop(&mut self) {
        ThreadPerTask::set_max_live_threads(self.cap);
    }
}

#[track_caller]
fn assert_cap_error(result: io::Result<impl Sized>, cap: usize, what: &str) {
    let err = match result {
        Ok(_) => panic!("{what}: accepted past the cap of {cap}"),
        Err(e) => e,
    };
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock, "{what}: {err}");
    let msg = err.to_string();
    assert!(msg.contains(&format!("cap is {cap}")), "{what}: {msg}");
    assert!(msg.contains("set_max_live_threads"), "{what}: {msg}");
}

#[track_caller]
fn assert_cap_panic<R>(f: impl FnOnce() -> R, cap: usize, what: &str) {
    let err = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(_) => panic!("{what}: accepted past the cap of {cap}"),
        Err(e) => e,
    };
    let msg = panic_text(err.as_ref());
    assert!(msg.contains("refused"), "{what}: {msg}");
    assert!(msg.contains(&format!("cap is {cap}")), "{what}: {msg}");
}

#[test]
fn the_cap_refuses_threads_with_would_block() {
    let _x = Exclusive::new();
    let cap = 3;
    ThreadPerTask::set_max_live_threads(cap);
    assert_eq!(ThreadPerTask::max_live_threads(), cap);

    let gate = Gate::default();
    let running: Vec<Lazy<usize>> = (0..cap)
        .map(|i| {
            let g = gate.clone();
            spawn_lazy(move || {
                g.wait();
                i
            })
        })
        .collect();
    assert_eq!(ThreadPerTask::live_threads(), cap);

    let drops = Arc::new(AtomicUsize::new(0));
    let ran = Arc::new(AtomicUsize::new(0));
    let task = |drops: &Arc<AtomicUsize>, ran: &Arc<AtomicUsize>| {
        let t = Tracked(Arc::clone(drops), 0);
        let r = Arc::clone(ran);
        move || {
            let _t = t;
            r.fetch_add(1, SeqCst);
            1
        }
    };
    assert_cap_error(
        Builder::new().spawn(task(&drops, &ran)),
        cap,
        "Builder::spawn",
    );
    assert_cap_error(
        Builder::new().timeout(NoTimeout).spawn(task(&drops, &ran)),
        cap,
        "Builder::timeout(..).spawn",
    );
    assert_cap_error(
        Builder::new().on(&ThreadPerTask).spawn(task(&drops, &ran)),
        cap,
        "Builder::on(..).spawn",
    );
    assert_cap_error(
        Builder::new()
            .on(&ThreadPerTask)
            .timeout(NoTimeout)
            .spawn(task(&drops, &ran)),
        cap,
        "Builder::on(..).timeout(..).spawn",
    );
    assert_cap_error(
        Builder::new().spawn(task(&drops, &ran)),
        cap,
        "Builder::spawn",
    );
    assert_cap_error(
        Builder::new()
            .name("refused")
            .stack_size(64 * 1024)
            .timeout(Deadline::after(Duration::from_secs(1)))
            .spawn(task(&drops, &ran)),
        cap,
        "Builder::spawn_with",
    );
    let t = task(&drops, &ran);
    assert_cap_error(
        Builder::new().spawn_cancellable(move |_token| t()),
        cap,
        "Builder::spawn_cancellable",
    );
    transparent_future::scope(|s| {
        let t = task(&drops, &ran);
        assert_cap_error(
            Builder::new().spawn_scoped(s, t),
            cap,
            "Builder::spawn_scoped",
        );
        let t = task(&drops, &ran);
        assert_cap_panic(|| s.spawn_lazy(t), cap, "Scope::spawn_lazy");
    });

    assert_cap_panic(|| spawn_lazy(task(&drops, &ran)), cap, "spawn_lazy");
    assert_cap_panic(
        || spawn_lazy_with(NoTimeout, task(&drops, &ran)),
        cap,
        "spawn_lazy_with",
    );
    assert_cap_error(
        Builder::new().on(&ThreadPerTask).spawn(task(&drops, &ran)),
        cap,
        "Builder::on(&ThreadPerTask).spawn",
    );
    let t = task(&drops, &ran);
    assert_cap_error(
        Builder::new().spawn_cancellable(move |_token| t()),
        cap,
        "Builder::spawn_cancellable",
    );
    let t = task(&drops, &ran);
    assert_cap_error(
        Builder::new()
            .timeout(NoTimeout)
            .spawn_cancellable(move |_token| t()),
        cap,
        "Builder::timeout(..).spawn_cancellable",
    );

    // Nothing refused ran; everything it captured was dropped, once.
    assert_eq!(ran.load(SeqCst), 0);
    assert_eq!(drops.load(SeqCst), 14);
    // The refusals did not leak places under the cap.
    assert_eq!(ThreadPerTask::live_threads(), cap);

    // Once the running tasks end, threads are accepted again.
    gate.open();
    assert_eq!(running.iter().map(|x| **x).sum::<usize>(), 3);
    wait_live(0);
    let again = Builder::new().spawn(|| 5).expect("refused below the cap");
    assert_eq!(*again, 5);
    let b = Builder::new().spawn(|| 6).expect("refused below the cap");
    assert_eq!(*b, 6);
}

#[test]
fn raising_the_cap_admits_more_and_lowering_it_spares_running_threads() {
    let _x = Exclusive::new();
    ThreadPerTask::set_max_live_threads(1);
    let gate = Gate::default();
    let g = gate.clone();
    let first = spawn_lazy(move || {
        g.wait();
        1
    });
    assert_cap_error(Builder::new().spawn(|| 2), 1, "at the cap of 1");
    ThreadPerTask::set_max_live_threads(2);
    let g = gate.clone();
    let second = Builder::new()
        .spawn(move || {
            g.wait();
            2
        })
        .expect("refused under a raised cap");
    assert_eq!(ThreadPerTask::live_threads(), 2);
    // Lowering the cap below the running count refuses new threads, kills nothing.
    ThreadPerTask::set_max_live_threads(1);
    assert_cap_error(Builder::new().spawn(|| 3), 1, "over a lowered cap");
    gate.open();
    assert_eq!(*first + *second, 3);
    wait_live(0);
    assert_eq!(*spawn_lazy(|| 4), 4);
}

#[test]
fn a_zero_cap_is_rejected() {
    let _x = Exclusive::new();
    let before = ThreadPerTask::max_live_threads();
    let err = catch_unwind(|| ThreadPerTask::set_max_live_threads(0)).unwrap_err();
    let msg = panic_text(err.as_ref());
    assert!(msg.contains("at least 1"), "{msg}");
    assert_eq!(ThreadPerTask::max_live_threads(), before);
}

#[test]
fn the_default_cap_comes_from_the_system() {
    let x = Exclusive::new();
    assert!(x.cap >= 1);
    #[cfg(target_os = "linux")]
    {
        fn read(path: &str) -> Option<usize> {
            std::fs::read_to_string(path).ok()?.trim().parse().ok()
        }
        let nproc = std::fs::read_to_string("/proc/self/limits")
            .ok()
            .and_then(|l| {
                l.lines()
                    .find(|l| l.starts_with("Max processes"))
                    .and_then(|l| l.split_whitespace().nth(2))
                    .and_then(|n| n.parse::<usize>().ok())
            });
        let expected = [
            read("/proc/sys/vm/max_map_count").map(|m| m.saturating_sub(4096) / 5),
            read("/proc/sys/kernel/threads-max").map(|t| t / 2),
            nproc.map(|n| n / 2),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(10_000)
        .max(1);
        assert_eq!(x.cap, expected);
    }
}

#[test]
fn every_thread_per_task_future_counts_while_it_runs() {
    let _x = Exclusive::new();
    let gate = Gate::default();
    let g = || {
        let g = gate.clone();
        move || g.wait()
    };
    let a = spawn_lazy(g());
    let b = spawn_lazy_with(NoTimeout, g());
    let c = Builder::new().spawn(g()).unwrap();
    let d = Builder::new().on(&ThreadPerTask).spawn(g()).unwrap();
    let e = Builder::new().spawn(g()).unwrap();
    let f = {
        let g = g();
        Builder::new().spawn_cancellable(move |_t| g()).unwrap()
    };
    assert_eq!(ThreadPerTask::live_threads(), 6);
    let data = [1u8; 4];
    transparent_future::scope(|s| {
        let g = g();
        let scoped = s.spawn_lazy(move || {
            g();
            data.len()
        });
        // Scoped threads count under the same cap.
        assert_eq!(ThreadPerTask::live_threads(), 7);
        gate.open();
        assert_eq!(*scoped, 4);
    });
    for x in [&a, &c, &d, &e, &f] {
        Lazy::wait(x);
    }
    Lazy::wait(&b);
    // Every thread gives its place back when its task is done.
    wait_live(0);
}

#[test]
fn dropped_futures_give_their_places_back() {
    let _x = Exclusive::new();
    // A future dropped early: its task runs to the end, drops its value on its own
    // thread (once), and gives its place back; so does a timed-out one.
    let drops = Arc::new(AtomicUsize::new(0));
    for _ in 0..10 {
        let d = Arc::clone(&drops);
        drop(spawn_lazy(move || {
            thread::sleep(Duration::from_millis(5));
            Tracked(d, 0)
        }));
    }
    wait_live(0);
    assert_eq!(drops.load(SeqCst), 10);
    let x = spawn_lazy_with(Deadline::after(Duration::from_millis(5)), || {
        thread::sleep(Duration::from_millis(50));
    });
    assert!(x.is_timeout());
    drop(x);
    wait_live(0);
}

thread_local! {
    /// Makes a thread linger after its task: its destructor runs when the thread
    /// exits, after the task has returned and published.
    static LINGER: Linger = const { Linger };
}

struct Linger;

impl Drop for Linger {
    fn drop(&mut self) {
        thread::sleep(Duration::from_millis(100));
    }
}

/// With the cap at 4, 40 tasks whose threads linger 100 ms after their tasks (a
/// thread-local destructor): the threads alive at once, as `/proc/self/task` lists
/// them, never outnumber the cap, and `live_threads()` comes back to 0 only once they
/// are all gone.
#[test]
#[cfg(target_os = "linux")]
fn the_cap_counts_each_thread_until_it_has_exited() {
    use crate::support::{most_threads_named_together, threads_named};
    use std::sync::atomic::AtomicBool;

    const NAME: &str = "capped-linger";
    const CAP: usize = 4;
    let _x = Exclusive::new();
    ThreadPerTask::set_max_live_threads(CAP);

    let running = Arc::new(AtomicBool::new(true));
    let sampler = {
        let running = Arc::clone(&running);
        thread::spawn(move || {
            most_threads_named_together(NAME, CAP, Duration::from_millis(20), &running)
        })
    };
    let mut futures = Vec::new();
    let mut refusals = 0;
    for i in 0..40 {
        loop {
            let task = move || {
                LINGER.with(|_| ());
                i
            };
            match Builder::new().name(NAME).spawn(task) {
                Ok(x) => {
                    futures.push(x);
                    break;
                }
                Err(e) => {
                    assert_eq!(e.kind(), io::ErrorKind::WouldBlock, "{e}");
                    refusals += 1;
                    thread::sleep(Duration::from_millis(1));
                }
            }
        }
    }
    assert_eq!(
        futures.iter().map(|x| **x).sum::<usize>(),
        (0..40).sum::<usize>()
    );
    // Once the count says 0, no such thread is left (a moment's grace for the kernel
    // to unlist a thread that `join` has seen exit; the threads linger 100 ms).
    crate::support::wait_live(0);
    let left = threads_named(NAME).len();
    if left > 0 {
        thread::sleep(Duration::from_millis(2));
    }
    let left = threads_named(NAME);
    running.store(false, SeqCst);
    let (most, samples) = sampler.join().unwrap();
    assert!(
        left.is_empty(),
        "live_threads() is 0 with {left:?} still alive"
    );
    assert!(
        most <= CAP,
        "{most} capped threads alive at once, the cap is {CAP} ({samples} samples)"
    );
    assert!(most >= 1 && samples > 10, "the sampler saw nothing");
    assert!(
        refusals > 0,
        "the cap never refused: the test proves nothing"
    );
}

/// The same for scoped tasks, whose threads a reaper of the scope's own joins: with the
/// cap at 2, the scope's lingering threads alive at once never outnumber it, and once
/// `scope` has returned, none is left and `live_threads()` is 0.
#[test]
#[cfg(target_os = "linux")]
fn scoped_threads_count_until_they_have_exited() {
    use crate::support::{most_threads_named_together, threads_named};
    use std::sync::atomic::AtomicBool;

    const NAME: &str = "scoped-linger";
    const CAP: usize = 2;
    let _x = Exclusive::new();
    ThreadPerTask::set_max_live_threads(CAP);

    let running = AtomicBool::new(true);
    let data: Vec<usize> = (0..12).collect();
    let ((most, _), refusals) = thread::scope(|outer| {
        let sampler = outer
            .spawn(|| most_threads_named_together(NAME, CAP, Duration::from_millis(20), &running));
        let mut refusals = 0;
        let sum = transparent_future::scope(|s| {
            let mut futures = Vec::new();
            for i in &data {
                loop {
                    let task = move || {
                        LINGER.with(|_| ());
                        *i
                    };
                    match Builder::new().name(NAME).spawn_scoped(s, task) {
                        Ok(x) => {
                            futures.push(x);
                            break;
                        }
                        Err(e) => {
                            assert_eq!(e.kind(), io::ErrorKind::WouldBlock, "{e}");
                            refusals += 1;
                            thread::sleep(Duration::from_millis(1));
                        }
                    }
                }
            }
            futures.iter().map(|x| **x).sum::<usize>()
        });
        assert_eq!(sum, (0..12).sum::<usize>());
        // `scope` waited for its reaper, which joined every thread.
        assert_eq!(ThreadPerTask::live_threads(), 0);
        let left = threads_named(NAME);
        if !left.is_empty() {
            thread::sleep(Duration::from_millis(2));
        }
        let left = threads_named(NAME);
        assert!(left.is_empty(), "scope returned with {left:?} still alive");
        running.store(false, SeqCst);
        (sampler.join().unwrap(), refusals)
    });
    assert!(
        most <= CAP,
        "{most} scoped threads alive at once, the cap is {CAP}"
    );
    assert!(most >= 1, "the sampler saw nothing");
    assert!(
        refusals > 0,
        "the cap never refused: the test proves nothing"
    );
}
