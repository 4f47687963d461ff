//! A thread-creation failure: past `ThreadPerTask`'s live-thread
//! cap, every way of starting a thread-per-task future is refused with a clear error or
//! panic, the refused closure is dropped exactly once and never runs, and nothing
//! hangs. The cap is process-global, so each test holds `support::serial()` and
//! restores the cap it found.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use crate::support::{RestoreCap, panics_with, secs, serial, wait_live, within};
use transparent_future::executor::ThreadPerTask;
use transparent_future::{
    Builder, Deadline, Lazy, ThreadPool, background, spawn_lazy, spawn_lazy_with,
};

/// Counts how often a closure's captures were dropped and whether it ran.
#[derive(Default)]
struct Probe {
    drops: AtomicUsize,
    runs: AtomicUsize,
}

struct Capture(Arc<Probe>);

impl Drop for Capture {
    fn drop(&mut self) {
        self.0.drops.fetch_add(1, SeqCst);
    }
}

fn probed(probe: &Arc<Probe>) -> impl FnOnce() -> u32 + Send + 'static {
    let capture = Capture(Arc::clone(probe));
    move || {
        capture.0.runs.fetch_add(1, SeqCst);
        1
    }
}

/// The closure was dropped exactly once and never ran.
#[track_caller]
fn refused_cleanly(probe: &Probe, what: &str) {
    assert_eq!(
        probe.runs.load(SeqCst),
        0,
        "{what}: the refused closure ran"
    );
    assert_eq!(
        probe.drops.load(SeqCst),
        1,
        "{what}: the closure was not dropped once"
    );
}

#[track_caller]
fn is_cap_error(e: &io::Error, cap: usize, what: &str) {
    assert_eq!(e.kind(), io::ErrorKind::WouldBlock, "{what}: {e}");
    let text = e.to_string();
    assert!(
        text.contains(&format!("the cap is {cap}")),
        "{what}: {text}"
    );
    assert!(
        text.contains("ThreadPerTask::set_max_live_threads"),
        "{what}: {text}"
    );
}

#[test]
fn past_the_live_thread_cap_every_spawn_is_refused_clearly_and_nothing_is_lost() {
    let _serial = serial();
    let _restore = RestoreCap(ThreadPerTask::max_live_threads());
    within(secs(60), || {
        wait_live(0);
        ThreadPerTask::set_max_live_threads(2);
        assert_eq!(ThreadPerTask::max_live_threads(), 2);

        // Two running tasks fill the cap.
        let (open_a, gate_a) = mpsc::channel::<()>();
        let (open_b, gate_b) = mpsc::channel::<()>();
        let a = spawn_lazy(move || gate_a.recv().map(|()| 10).unwrap_or(0));
        let b = Builder::new()
            .name("cap-b")
            .spawn(move || gate_b.recv().map(|()| 20).unwrap_or(0))
            .unwrap();
        wait_live(2);

        // The Builder and the try_ forms return the refusal.
        let probe = Arc::new(Probe::default());
        let e = Builder::new()
            .name("refused")
            .spawn(probed(&probe))
            .map(|_| ())
            .unwrap_err();
        is_cap_error(&e, 2, "Builder::spawn");
        assert!(
            e.to_string()
                .contains("2 thread-per-task threads are running"),
            "{e}"
        );
        refused_cleanly(&probe, "Builder::spawn");

        let probe = Arc::new(Probe::default());
        let e = Builder::new()
            .timeout(Deadline::after(Duration::from_secs(60)))
            .spawn(probed(&probe))
            .map(|_| ())
            .unwrap_err();
        is_cap_error(&e, 2, "Builder::spawn_with");
        refused_cleanly(&probe, "Builder::spawn_with");

        let probe = Arc::new(Probe::default());
        let f = probed(&probe);
        let e = Builder::new()
            .spawn_cancellable(move |_| f())
            .map(|_| ())
            .unwrap_err();
        is_cap_error(&e, 2, "Builder::spawn_cancellable");
        refused_cleanly(&probe, "Builder::spawn_cancellable");

        let probe = Arc::new(Probe::default());
        let e = Builder::new()
            .spawn(probed(&probe))
            .map(|_| ())
            .unwrap_err();
        is_cap_error(&e, 2, "Builder::spawn");
        refused_cleanly(&probe, "Builder::spawn");

        let probe = Arc::new(Probe::default());
        let e = Builder::new()
            .timeout(Deadline::after(Duration::MAX))
            .spawn(probed(&probe))
            .map(|_| ())
            .unwrap_err();
        is_cap_error(&e, 2, "Builder::timeout(..).spawn");
        refused_cleanly(&probe, "Builder::timeout(..).spawn");

        // The panicking forms name the cap.
        let probe = Arc::new(Probe::default());
        let text = panics_with("the cap is 2", || spawn_lazy(probed(&probe)));
        assert!(text.contains("the background task was refused"), "{text}");
        assert!(text.contains("Builder's spawn methods"), "{text}");
        refused_cleanly(&probe, "spawn_lazy");

        let probe = Arc::new(Probe::default());
        panics_with("the cap is 2", || {
            spawn_lazy_with(Deadline::after(Duration::from_secs(1)), probed(&probe))
        });
        refused_cleanly(&probe, "spawn_lazy_with");

        let probe = Arc::new(Probe::default());
        let f = probed(&probe);
        panics_with("the cap is 2", || {
            Builder::new().spawn_cancellable(move |_| f()).unwrap()
        });
        refused_cleanly(&probe, "Builder::spawn_cancellable");

        let slow = background(|n: u32| n + 1);
        panics_with("the cap is 2", || slow(1));

        // Scoped tasks count against the same cap.
        let data = [1, 2, 3];
        let scoped = transparent_future::scope(|s| {
            Builder::new().spawn_scoped(s, || data.len()).map(|n| *n)
        });
        is_cap_error(&scoped.unwrap_err(), 2, "Builder::spawn_scoped");
        panics_with("Scope::spawn_lazy: the background task was refused", || {
            transparent_future::scope(|s| *s.spawn_lazy(|| data.len()))
        });

        // Follow-up work needing a thread of its own is refused too: its readers fail
        // with a clear panic instead of waiting forever, and the closure never runs.
        let probe = Arc::new(Probe::default());
        let f = probed(&probe);
        let mapped = Lazy::map(Lazy::with_value(1u32), move |v| v + f());
        let text = panics_with("dropped without running", || *mapped);
        assert!(text.contains("the follow-up work of a future"), "{text}");
        refused_cleanly(&probe, "Lazy::map on a ready future");

        // Continuations of a pending task run on the task's own thread: no new thread.
        let a_plus = Lazy::map(a, |v| v + 1);
        // A pool's threads are not thread-per-task threads: a pool still works.
        let pool = ThreadPool::new(1);
        assert_eq!(*pool.spawn_lazy(|| 5), 5);

        // Refusals did not leak slots.
        assert_eq!(ThreadPerTask::live_threads(), 2);
        open_a.send(()).unwrap();
        open_b.send(()).unwrap();
        assert_eq!(*a_plus, 11);
        assert_eq!(*b, 20);
        wait_live(0);

        // With room again, spawning works.
        assert_eq!(*spawn_lazy(|| 3), 3);
        // (A thread holds its slot until it has fully finished, a little after its
        // readers see the value.)
        wait_live(0);
        ThreadPerTask::set_max_live_threads(1);
        let one = spawn_lazy(|| 4);
        assert_eq!(*one, 4);
    });
}

/// Hostile input to the cap itself: a cap of zero is refused, and the cap stays as it
/// was. (With the other tests of the cap, since it reads the process-wide cap.)
#[test]
fn a_live_thread_cap_of_zero_is_refused_and_the_cap_is_unchanged() {
    let _serial = serial();
    let before = ThreadPerTask::max_live_threads();
    panics_with("the cap must be at least 1", || {
        ThreadPerTask::set_max_live_threads(0)
    });
    assert_eq!(ThreadPerTask::max_live_threads(), before);
}
