//! rayon as an executor (cargo feature `rayon`).
//!
//! `RayonGlobal` and a `rayon::ThreadPool` run futures' tasks on rayon's threads, with
//! the core behaviours intact: values, timeouts (a reader released at the deadline, late
//! values), panics (reaching the reader, never killing a rayon thread), work-helping for
//! nested futures on a one-thread rayon pool, and every value dropped exactly once.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{
    Counted as Tracked, expect_count, ms, on_worker, panic_text, secs, test_path, within,
};
use static_assertions::assert_impl_all;
use transparent_future::executor::{Executor, RayonGlobal};
use transparent_future::{Builder, Deadline, Lazy, NoTimeout, Outcome};

assert_impl_all!(RayonGlobal: Executor, Send, Sync, Copy, Default);
assert_impl_all!(rayon::ThreadPool: Executor);

fn rayon_pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("test-rayon-{i}"))
        .build()
        .unwrap()
}

#[test]
fn rayon_global_runs_tasks_on_rayon_threads() {
    assert!(RayonGlobal.allows_helping());
    let x = Builder::new()
        .on(&RayonGlobal)
        .spawn(|| (rayon::current_thread_index(), 6 * 7))
        .unwrap();
    let (index, value) = *on_worker(&x);
    assert!(index.is_some(), "not run on a rayon thread");
    assert_eq!(value, 42);
    let y = Builder::new()
        .on(&RayonGlobal)
        .spawn(|| (1..=10).sum::<u32>())
        .unwrap();
    assert_eq!(*y, 55);
    let z = Builder::new()
        .on(&RayonGlobal)
        .timeout(NoTimeout)
        .spawn(|| "ok")
        .unwrap();
    assert_eq!(*z, Outcome::Ready("ok"));
    let many: Vec<Lazy<u64>> = (0..500u64)
        .map(|i| {
            Builder::new()
                .on(&RayonGlobal)
                .spawn(move || i * 2)
                .unwrap()
        })
        .collect();
    assert_eq!(
        many.iter().map(|x| **x).sum::<u64>(),
        2 * (0..500u64).sum::<u64>()
    );
}

#[test]
fn rayon_pool_runs_tasks_on_its_own_threads() {
    let pool = rayon_pool(2);
    let x = Builder::new()
        .on(&pool)
        .spawn(|| thread::current().name().map(String::from))
        .unwrap();
    let name = on_worker(&x).clone().unwrap();
    assert!(name.starts_with("test-rayon-"), "{name}");
    let y = Builder::new()
        .on(&pool)
        .spawn(rayon::current_num_threads)
        .unwrap();
    assert_eq!(*on_worker(&y), 2);
    let v: Vec<Lazy<usize>> = (0..200)
        .map(|i| Builder::new().on(&pool).spawn(move || i).unwrap())
        .collect();
    assert_eq!(
        v.iter().map(|x| **x).sum::<usize>(),
        (0..200).sum::<usize>()
    );
    // Operators, as everywhere.
    let a = Builder::new().on(&pool).spawn(|| 40).unwrap();
    let b = Builder::new().on(&pool).spawn(|| 2).unwrap();
    assert_eq!(&a + &b, 42);
    assert_eq!(a.to_string(), "40");
}

#[test]
fn rayon_timeouts_release_the_reader_at_the_deadline() {
    for global in [true, false] {
        let pool = rayon_pool(2);
        let t0 = Instant::now();
        let f = || {
            thread::sleep(ms(500));
            "late"
        };
        let x = if global {
            Builder::new()
                .on(&RayonGlobal)
                .timeout(Deadline::after(ms(50)))
                .spawn(f)
                .unwrap()
        } else {
            Builder::new()
                .on(&pool)
                .timeout(Deadline::after(ms(50)))
                .spawn(f)
                .unwrap()
        };
        assert_eq!(*x, Outcome::Timeout);
        let waited = t0.elapsed();
        assert!(waited >= ms(50), "{waited:?}");
        assert!(
            waited < ms(400),
            "reader not released at the deadline: {waited:?}"
        );
        let until = Instant::now() + Duration::from_secs(10);
        let late = loop {
            if let Some(late) = Lazy::take_late(&x) {
                break late;
            }
            assert!(Instant::now() < until, "the late value never came");
            thread::sleep(ms(5));
        };
        assert_eq!(late.unwrap(), "late");
        let ok = Builder::new()
            .on(&pool)
            .timeout(Deadline::after(Duration::from_secs(30)))
            .spawn(|| 1)
            .unwrap();
        assert_eq!(*ok, Outcome::Ready(1));
    }
}

#[test]
fn rayon_deadline_counts_time_queued_behind_a_busy_thread() {
    let pool = rayon_pool(1);
    let (started_tx, started) = mpsc::channel();
    let (go_tx, go) = mpsc::channel::<()>();
    let blocker = Builder::new()
        .on(&pool)
        .spawn(move || {
            started_tx.send(()).unwrap();
            go.recv().unwrap();
        })
        .unwrap();
    started.recv_timeout(Duration::from_secs(10)).unwrap();
    let t0 = Instant::now();
    let quick = Builder::new()
        .on(&pool)
        .timeout(Deadline::after(ms(40)))
        .spawn(|| 1)
        .unwrap();
    assert_eq!(*quick, Outcome::Timeout);
    assert!(t0.elapsed() < ms(1000));
    go_tx.send(()).unwrap();
    on_worker(&blocker);
}

#[test]
fn rayon_panics_reach_the_reader_and_the_threads_survive() {
    let pool = rayon_pool(1);
    let before = *on_worker(
        &Builder::new()
            .on(&pool)
            .spawn(|| thread::current().id())
            .unwrap(),
    );
    for exec in 0..2 {
        let bad = if exec == 0 {
            Builder::new()
                .on(&RayonGlobal)
                .spawn(move || -> u32 { panic!("rayon-boom-{exec}") })
                .unwrap()
        } else {
            Builder::new()
                .on(&pool)
                .spawn(move || -> u32 { panic!("rayon-boom-{exec}") })
                .unwrap()
        };
        let err = catch_unwind(AssertUnwindSafe(|| *on_worker(&bad) + 1)).unwrap_err();
        assert!(panic_text(err.as_ref()).contains(&format!("rayon-boom-{exec}")));
        let bad2 = Builder::new()
            .on(&pool)
            .spawn(|| -> u8 { panic!("joined") })
            .unwrap();
        on_worker_panics(&bad2);
        assert_eq!(panic_text(Lazy::join(bad2).unwrap_err().as_ref()), "joined");
    }
    // Panics with a deadline, too.
    let x = Builder::new()
        .on(&pool)
        .timeout(Deadline::after(Duration::from_secs(30)))
        .spawn(|| -> u8 { panic!("rayon-policy-boom") })
        .unwrap();
    let err = catch_unwind(AssertUnwindSafe(|| on_worker(&x).is_ready())).unwrap_err();
    assert!(panic_text(err.as_ref()).contains("rayon-policy-boom"));
    // The same rayon thread goes on running tasks.
    let after = *on_worker(
        &Builder::new()
            .on(&pool)
            .spawn(|| thread::current().id())
            .unwrap(),
    );
    assert_eq!(before, after);
    assert_eq!(
        *on_worker(&Builder::new().on(&RayonGlobal).spawn(|| 3).unwrap()),
        3
    );
}

fn on_worker_panics<T>(x: &Lazy<T>) {
    let r = catch_unwind(AssertUnwindSafe(|| {
        on_worker(x);
    }));
    assert!(r.is_err(), "expected the task to panic");
}

#[test]
fn nested_futures_on_a_one_thread_rayon_pool_finish() {
    within(secs(20), || {
        let pool = Arc::new(rayon_pool(1));
        fn sum(pool: &Arc<rayon::ThreadPool>, depth: u32) -> u64 {
            if depth == 0 {
                return 1;
            }
            let p = Arc::clone(pool);
            let inner = Builder::new()
                .on(&**pool)
                .spawn(move || sum(&p, depth - 1))
                .unwrap();
            *inner + u64::from(depth)
        }
        let p = Arc::clone(&pool);
        let x = Builder::new().on(&*pool).spawn(move || sum(&p, 8)).unwrap();
        assert_eq!(*on_worker(&x), 1 + (1..=8).sum::<u64>());
    });
}

#[test]
fn rayon_cancellation_reaches_the_task() {
    let pool = rayon_pool(2);
    let (started_tx, started) = mpsc::channel();
    let x = Builder::new()
        .on(&pool)
        .spawn_cancellable(move |token| {
            started_tx.send(()).unwrap();
            let t0 = Instant::now();
            while !token.is_cancelled() && t0.elapsed() < Duration::from_secs(10) {
                thread::sleep(ms(1));
            }
            token.is_cancelled()
        })
        .unwrap();
    started.recv_timeout(Duration::from_secs(10)).unwrap();
    Lazy::cancel(&x);
    assert!(*on_worker(&x));
}

#[test]
fn rayon_drops_every_value_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let pool = rayon_pool(2);
    let mut expected = 0;
    for global in [true, false] {
        let spawn = |f: Box<dyn FnOnce() -> Tracked + Send>| {
            if global {
                Builder::new().on(&RayonGlobal).spawn(f).unwrap()
            } else {
                Builder::new().on(&pool).spawn(f).unwrap()
            }
        };
        // Read, then dropped with the future.
        let read: Vec<Lazy<Tracked>> = (0..20)
            .map(|i| {
                let d = Arc::clone(&drops);
                spawn(Box::new(move || Tracked(d, i)))
            })
            .collect();
        assert_eq!(read.iter().map(|x| x.1).sum::<u32>(), (0..20).sum::<u32>());
        drop(read);
        expected += 20;
        assert_eq!(drops.load(SeqCst), expected);
        // Never read: dropped on the rayon thread.
        for i in 0..20 {
            let d = Arc::clone(&drops);
            drop(spawn(Box::new(move || {
                thread::sleep(ms(1));
                Tracked(d, i)
            })));
        }
        expected += 20;
        expect_count(&drops, expected);
        // By value.
        let d = Arc::clone(&drops);
        let v = Lazy::into_inner(spawn(Box::new(move || Tracked(d, 7))));
        assert_eq!(v.1, 7);
        drop(v);
        expected += 1;
        assert_eq!(drops.load(SeqCst), expected);
    }
    // Late values after a timeout: one never collected, one collected.
    let d = Arc::clone(&drops);
    let uncollected = Builder::new()
        .on(&pool)
        .timeout(Deadline::after(ms(5)))
        .spawn(move || {
            thread::sleep(ms(50));
            Tracked(d, 1)
        })
        .unwrap();
    let d = Arc::clone(&drops);
    let collected = Builder::new()
        .on(&RayonGlobal)
        .timeout(Deadline::after(ms(5)))
        .spawn(move || {
            thread::sleep(ms(50));
            Tracked(d, 2)
        })
        .unwrap();
    assert!(uncollected.is_timeout() && collected.is_timeout());
    drop(uncollected);
    let until = Instant::now() + Duration::from_secs(10);
    let late = loop {
        if let Some(late) = Lazy::take_late(&collected) {
            break late.unwrap();
        }
        assert!(Instant::now() < until);
        thread::sleep(ms(2));
    };
    assert_eq!(late.1, 2);
    drop(late);
    drop(collected);
    expected += 2;
    expect_count(&drops, expected);
}

/// A value whose `Drop` panics, left unread on a rayon thread, must not take the whole
/// process down: `ThreadPool`'s workers catch such a panic, and so does a thread per
/// task (only that thread ends). Checked in a child process, since an abort cannot be
/// caught.
#[test]
fn rayon_panicking_drop_of_an_unread_value_does_not_abort() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            test_path(module_path!(), "child_panicking_drop_on_rayon").as_str(),
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env("TF_RAYON_DROP_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("child survived"),
        "child process failed: {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
}

/// The child of the test above; does nothing unless run by it.
#[test]
#[ignore = "helper run in a child process by rayon_panicking_drop_of_an_unread_value_does_not_abort"]
fn child_panicking_drop_on_rayon() {
    if std::env::var_os("TF_RAYON_DROP_CHILD").is_none() {
        return;
    }
    struct Bomb;
    impl Drop for Bomb {
        fn drop(&mut self) {
            panic!("bomb in drop");
        }
    }
    let pool = rayon_pool(1);
    let (go_tx, go) = mpsc::channel::<()>();
    let x = Builder::new()
        .on(&pool)
        .spawn(move || {
            go.recv().unwrap();
            Bomb
        })
        .unwrap();
    drop(x); // nobody holds the future: the value is dropped on the rayon thread
    go_tx.send(()).unwrap();
    let after = Builder::new().on(&pool).spawn(|| 1).unwrap();
    assert_eq!(*on_worker(&after), 1);
    thread::sleep(ms(100));
    println!("child survived");
}
