//! A value whose `Drop` panics, wherever it ends up being dropped:
//! on a thread-per-task thread, on a pool worker, in the reader. The process survives,
//! every value is dropped exactly once, and other futures (and the pool's worker) keep
//! working.
//!
//! A panic in the wrong place (while another panic unwinds) would abort the process, so
//! each scenario runs in a child process: this test binary, re-run on that one test
//! with an environment variable set. The parent checks the child's exit status, that it
//! reached its end, and what it printed.

use std::io::Read;
use std::panic::catch_unwind;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{gate, panics_with, test_path};
use transparent_future::executor::ThreadPerTask;
use transparent_future::{
    Deadline, Lazy, Outcome, SharedLazy, ThreadPool, WaitError, spawn_lazy, spawn_lazy_with,
};

const CHILD: &str = "TRANSPARENT_FUTURE_HOSTILE_CHILD";
const DONE: &str = "hostile-child: reached the end";

/// What a child printed, and how it ended.
struct Child {
    success: bool,
    status: String,
    stdout: String,
    stderr: String,
}

/// Whether this process is the child for `test`.
fn is_child(test: &str) -> bool {
    std::env::var(CHILD).as_deref() == Ok(test)
}

/// Runs `test` of this binary in a child process, killed after 30 s.
fn run_child(test: &str) -> Child {
    let path = test_path(module_path!(), test);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            path.as_str(),
            "--exact",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, test)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err = thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let until = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > until {
            child.kill().unwrap();
            let _ = child.wait();
            panic!(
                "the child for {test} hung; stderr:\n{}",
                err.join().unwrap()
            );
        }
        thread::sleep(Duration::from_millis(10));
    };
    Child {
        success: status.success(),
        status: format!("{status}"),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

#[track_caller]
fn assert_survived(child: &Child, panics: &[&str]) {
    assert!(
        child.success && child.stdout.contains(DONE),
        "the child did not survive ({}):\n--- stdout\n{}\n--- stderr\n{}",
        child.status,
        child.stdout,
        child.stderr
    );
    for p in panics {
        assert!(
            child.stderr.contains(p),
            "the child never reported {p:?}:\n{}",
            child.stderr
        );
    }
}

static BOMB_DROPS: AtomicUsize = AtomicUsize::new(0);

/// A value whose `Drop` panics.
struct Bomb(&'static str);

impl Drop for Bomb {
    fn drop(&mut self) {
        BOMB_DROPS.fetch_add(1, SeqCst);
        panic!("bomb {} went off", self.0);
    }
}

#[track_caller]
fn expect_bombs(n: usize) {
    let until = Instant::now() + Duration::from_secs(10);
    while BOMB_DROPS.load(SeqCst) != n {
        assert!(
            Instant::now() < until,
            "expected {n} bombs, saw {}",
            BOMB_DROPS.load(SeqCst)
        );
        thread::sleep(Duration::from_millis(1));
    }
    thread::sleep(Duration::from_millis(20));
    assert_eq!(BOMB_DROPS.load(SeqCst), n, "a bomb was dropped twice");
}

fn wait_until<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < until, "{what}");
        thread::sleep(Duration::from_millis(1));
    }
}

// ---------------------------------------------------------------------------------
// Thread-per-task.
// ---------------------------------------------------------------------------------

fn thread_per_task_scenario() {
    let live = ThreadPerTask::live_threads();

    // Nobody holds the future when the task returns: dropped on the task's thread,
    // which dies of it; its slot under the cap is released all the same.
    let (open, wait) = gate();
    let x = spawn_lazy(move || {
        wait();
        Bomb("unheld")
    });
    drop(x);
    open.send(()).unwrap();
    expect_bombs(1);
    wait_until("the panicking thread kept its slot", || {
        (ThreadPerTask::live_threads() == live).then_some(())
    });

    // Published, never read, the reader drops the handle last: the reader's drop
    // panics (and can catch it).
    let y = spawn_lazy(|| Bomb("unread"));
    wait_until("never ready", || Lazy::is_done(&y).then_some(()));
    thread::sleep(Duration::from_millis(20)); // the task's thread lets go of it
    panics_with("bomb unread went off", move || drop(y));
    expect_bombs(2);

    // Read, cached, then dropped by the reader.
    let z = spawn_lazy(|| Bomb("read"));
    assert_eq!(z.0, "read");
    panics_with("bomb read went off", move || drop(z));
    expect_bombs(3);

    // A late value nobody collects, dropped on the task's thread.
    let (open, wait) = gate();
    let late = spawn_lazy_with(Deadline::after(Duration::from_millis(10)), move || {
        wait();
        Bomb("late")
    });
    assert!(matches!(*late, Outcome::Timeout));
    drop(late);
    open.send(()).unwrap();
    expect_bombs(4);

    // A value gathered by `all` after another input panicked: dropped by the gatherer,
    // on the value's task thread.
    let (open, wait) = gate();
    let first = spawn_lazy(|| -> Bomb { panic!("first input failed") });
    let second = spawn_lazy(move || {
        wait();
        Bomb("gathered")
    });
    let all = Lazy::all([first, second]);
    panics_with("first input failed", || all.len());
    open.send(()).unwrap();
    expect_bombs(5);

    // A map whose closure drops the value: the map's panic.
    let mapped = Lazy::map(spawn_lazy(|| Bomb("mapped")), |b| {
        drop(b);
        1
    });
    panics_with("bomb mapped went off", || *mapped);
    expect_bombs(6);

    // Everything else still works.
    assert_eq!(*spawn_lazy(|| 2) + 1, 3);
    let others: Vec<_> = (0..8).map(|i| spawn_lazy(move || i)).collect();
    assert_eq!(others.iter().map(|x| **x).sum::<i32>(), 28);
}

#[test]
fn a_panicking_drop_on_a_thread_per_task_thread_or_in_the_reader_is_survived() {
    const NAME: &str = "a_panicking_drop_on_a_thread_per_task_thread_or_in_the_reader_is_survived";
    if is_child(NAME) {
        thread_per_task_scenario();
        println!("{DONE}");
        return;
    }
    let child = run_child(NAME);
    assert_survived(
        &child,
        &[
            "bomb unheld went off",
            "bomb late went off",
            "bomb gathered went off",
        ],
    );
}

// ---------------------------------------------------------------------------------
// Pool.
// ---------------------------------------------------------------------------------

fn pool_scenario() {
    let pool = ThreadPool::new(1);
    // Dropped by the worker (nobody holds the future): caught, the worker lives on.
    for i in 0..3 {
        let (open, wait) = gate();
        let x = pool.spawn_lazy(move || {
            wait();
            Bomb("on the worker")
        });
        drop(x);
        open.send(()).unwrap();
        expect_bombs(i + 1);
        let worker = pool.spawn_lazy(|| thread::current().name().map(String::from));
        let worker = Lazy::wait_timeout(&worker, Duration::from_secs(10)).cloned();
        assert_eq!(
            worker,
            Ok(Some("transparent-future-worker-0".to_string())),
            "the worker died or hung"
        );
    }

    // Read on the pool, dropped by the reader.
    let y = pool.spawn_lazy(|| Bomb("pool read"));
    assert_eq!(y.0, "pool read");
    panics_with("bomb pool read went off", move || drop(y));
    expect_bombs(4);

    // Gathered after a failure, on the worker.
    let (open, wait) = gate();
    let all = Lazy::all([
        pool.spawn_lazy(|| -> Bomb { panic!("pool input failed") }),
        pool.spawn_lazy(move || {
            wait();
            Bomb("pool gathered")
        }),
    ]);
    match Lazy::wait_timeout(&all, Duration::from_secs(10)) {
        Err(WaitError::Panicked(p)) => assert_eq!(p.message(), "pool input failed"),
        other => panic!("expected the input's panic, got {:?}", other.map(Vec::len)),
    }
    open.send(()).unwrap();
    expect_bombs(5);

    // The pool still runs tasks, then shuts down normally.
    let values: Vec<_> = (0..4).map(|i| pool.spawn_lazy(move || i * 2)).collect();
    assert_eq!(values.iter().map(|v| **v).collect::<Vec<_>>(), [0, 2, 4, 6]);
    drop(values);
    drop(pool);
}

#[test]
fn a_panicking_drop_on_a_pool_worker_is_survived_and_the_worker_lives_on() {
    const NAME: &str = "a_panicking_drop_on_a_pool_worker_is_survived_and_the_worker_lives_on";
    if is_child(NAME) {
        pool_scenario();
        println!("{DONE}");
        return;
    }
    let child = run_child(NAME);
    assert_survived(
        &child,
        &["bomb on the worker went off", "bomb pool gathered went off"],
    );
}

// ---------------------------------------------------------------------------------
// Shared handles and values taken out.
// ---------------------------------------------------------------------------------

fn shared_scenario() {
    // The last of several clones: only its drop panics.
    let x = Lazy::share(spawn_lazy(|| Bomb("shared")));
    let clones: Vec<SharedLazy<Bomb>> = (0..4).map(|_| x.clone()).collect();
    assert_eq!(clones[2].0, "shared");
    drop(clones);
    assert_eq!(BOMB_DROPS.load(SeqCst), 0);
    panics_with("bomb shared went off", move || drop(x));
    expect_bombs(1);

    // Taken out by value: the panic is where the owner drops it.
    let v = Lazy::into_inner(spawn_lazy(|| Bomb("owned")));
    panics_with("bomb owned went off", move || drop(v));
    expect_bombs(2);

    // A late value collected with take_late.
    let (open, wait) = gate();
    let late = spawn_lazy_with(Deadline::after(Duration::from_millis(5)), move || {
        wait();
        Bomb("collected")
    });
    assert!(matches!(*late, Outcome::Timeout));
    open.send(()).unwrap();
    let value = wait_until("no late value", || Lazy::take_late(&late));
    panics_with("bomb collected went off", move || drop(value));
    drop(late);
    expect_bombs(3);
}

#[test]
fn a_panicking_drop_of_a_shared_or_taken_value_is_survived() {
    const NAME: &str = "a_panicking_drop_of_a_shared_or_taken_value_is_survived";
    if is_child(NAME) {
        shared_scenario();
        println!("{DONE}");
        return;
    }
    let child = run_child(NAME);
    assert_survived(&child, &["bomb shared went off", "bomb collected went off"]);
}

// ---------------------------------------------------------------------------------
// Bugs.
// ---------------------------------------------------------------------------------

/// A task whose value is the pool's last handle: the worker drops the value after the
/// task, outside the `running_task` guard, so `Shared::drop` joins every worker,
/// itself included, and std panics "failed to join thread: Resource deadlock avoided"
/// (caught by the worker loop; the process survives). The pool documents that it does
/// not join when dropped from inside a task; the check (`deadlock::in_task`) misses
/// code that runs on a worker outside a task: values dropped after the task, and
/// follow-up work (see `hostile_input.rs`).
#[test]
fn a_pool_dropped_as_a_tasks_value_on_its_own_worker_does_not_join_itself() {
    const NAME: &str = "a_pool_dropped_as_a_tasks_value_on_its_own_worker_does_not_join_itself";
    if is_child(NAME) {
        let pool = ThreadPool::new(1);
        let (open, wait) = gate();
        let last = pool.clone();
        let x = pool.spawn_lazy(move || {
            wait();
            last
        });
        let after = pool.spawn_lazy(|| 5);
        drop(pool);
        drop(x);
        open.send(()).unwrap();
        assert_eq!(Lazy::wait_timeout(&after, Duration::from_secs(10)), Ok(&5));
        thread::sleep(Duration::from_millis(100));
        println!("{DONE}");
        return;
    }
    let child = run_child(NAME);
    assert_survived(&child, &[]);
    assert!(
        !child.stderr.contains("failed to join thread"),
        "the worker joined itself:\n{}",
        child.stderr
    );
}

/// `ThreadPool::try_new` promises an `io::Error` for a pool the OS cannot provide, but
/// for an absurd size it first reserves a `Vec` of that many join handles
/// (`Vec::with_capacity(workers)`), and the allocation failure aborts the process
/// ("memory allocation of 26388279066624 bytes failed", SIGABRT) before any thread is
/// asked for. Removing the reservation is not enough: the pool has no cap, so it then
/// starts threads until std aborts in a new thread ("failed to set up alternative
/// stack guard page: Cannot allocate memory", about 16,700 threads on a machine with
/// `vm.max_map_count` = 65530), the abort `ThreadPerTask`'s cap exists to prevent.
/// `try_new` should refuse a size past that same limit with an error.
#[test]
fn a_pool_too_large_to_create_is_an_error_not_an_abort() {
    const NAME: &str = "a_pool_too_large_to_create_is_an_error_not_an_abort";
    if is_child(NAME) {
        let _ = catch_unwind(|| ThreadPool::try_new(1 << 40).map(|p| p.workers()));
        println!("{DONE}");
        return;
    }
    let child = run_child(NAME);
    assert_survived(&child, &[]);
}

thread_local! {
    static POOL: std::cell::RefCell<Option<ThreadPool>> = const { std::cell::RefCell::new(None) };
}

/// On a thread of its own: keeps the pool's last handle in a `thread_local!`, before or
/// after helping with one of its tasks (a read that runs a queued task on this
/// thread), then exits, so that the pool is dropped during the thread's thread-local
/// teardown. The pool's worker goes too.
#[cfg(target_os = "linux")]
fn pool_in_a_thread_local(store_first: bool) {
    let prefix = if store_first {
        "tls-first"
    } else {
        "tls-after"
    };
    let pool = ThreadPool::builder()
        .workers(1)
        .name_prefix(prefix)
        .build()
        .unwrap();
    let t = thread::spawn(move || {
        let (open, wait) = gate();
        let (started_tx, started) = std::sync::mpsc::channel();
        let blocker = pool.spawn_lazy(move || {
            started_tx.send(()).unwrap();
            wait();
            1
        });
        // The worker is blocked: the next read runs its task here.
        started.recv().unwrap();
        let helped = pool.spawn_lazy(|| thread::current().id());
        if store_first {
            POOL.with(|p| *p.borrow_mut() = Some(pool));
            assert_eq!(*helped, thread::current().id(), "not helped");
        } else {
            assert_eq!(*helped, thread::current().id(), "not helped");
            POOL.with(|p| *p.borrow_mut() = Some(pool));
        }
        open.send(()).unwrap();
        assert_eq!(
            Lazy::wait_timeout(&blocker, Duration::from_secs(10)),
            Ok(&1)
        );
    });
    t.join().expect("the thread keeping the pool failed");
    wait_until("the pool's worker outlived the pool", || {
        crate::support::threads_named(prefix)
            .is_empty()
            .then_some(())
    });
}

#[test]
#[cfg(target_os = "linux")]
fn a_pool_kept_in_a_thread_local_is_dropped_safely_at_thread_exit() {
    const NAME: &str = "a_pool_kept_in_a_thread_local_is_dropped_safely_at_thread_exit";
    if is_child(NAME) {
        pool_in_a_thread_local(true);
        pool_in_a_thread_local(false);
        println!("{DONE}");
        return;
    }
    let child = run_child(NAME);
    assert_survived(&child, &[]);
    assert!(
        !child.stderr.contains("Thread Local Storage"),
        "a drop touched a destroyed thread-local:\n{}",
        child.stderr
    );
}
