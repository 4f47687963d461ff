//! A reader about to sleep on an undecided future first spins a little (at most
//! 50 µs, yielding after the first rounds): it must still sleep, and still honour
//! time limits.
//!
//! * A reader blocked without a limit on a task that runs for 100 ms, on a pool worker
//!   and on a thread of its own, uses under 1% of a core while it waits: its own CPU
//!   time across the read (Linux, `/proc/thread-self/schedstat`) stays under 1 ms.
//!   The task reports that it started before the read begins, so the reader truly
//!   blocks instead of running the task itself.
//! * `Lazy::wait_timeout` with limits far shorter than a scheduler tick (and than the
//!   spin) gives up promptly, on every executor, and a future with a deadline releases
//!   its reader near the deadline.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{Exec, Gate, executors, ms, secs, within};
use transparent_future::{Deadline, Lazy, Outcome, WaitError};

/// How long the tasks of the CPU tests run.
const TASK: Duration = Duration::from_millis(100);

/// This thread's own time on a CPU so far, in nanoseconds: the first field of
/// `/proc/thread-self/schedstat`. The kernel brings the figure of a running thread up
/// to date only at scheduler events, so the thread yields first.
#[cfg(target_os = "linux")]
fn cpu_ns() -> u64 {
    thread::yield_now();
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat")
        .expect("/proc/thread-self/schedstat");
    stat.split_whitespace()
        .next()
        .and_then(|ns| ns.parse().ok())
        .unwrap_or_else(|| panic!("unreadable schedstat {stat:?}"))
}

/// Spawns (with `spawn`) a task that reports its start, then runs for [`TASK`]; waits
/// for the report, then reads the future without a limit. Returns the reader's CPU
/// time across the read and how long the read blocked.
#[cfg(target_os = "linux")]
fn read_a_running_task(
    spawn: impl FnOnce(Box<dyn FnOnce() -> u64 + Send>) -> Lazy<u64>,
) -> (Duration, Duration) {
    let (started_tx, started) = mpsc::channel();
    let x = spawn(Box::new(move || {
        started_tx.send(()).unwrap();
        thread::sleep(TASK);
        42
    }));
    started
        .recv_timeout(secs(10))
        .expect("the task never started");
    let (cpu0, t0) = (cpu_ns(), Instant::now());
    let value = *x; // the read under test: no limit, and the task is running elsewhere
    let blocked = t0.elapsed();
    let cpu = cpu_ns() - cpu0;
    assert_eq!(value, 42);
    (Duration::from_nanos(cpu), blocked)
}

#[cfg(target_os = "linux")]
#[track_caller]
fn assert_slept(what: &str, (cpu, blocked): (Duration, Duration)) {
    // The read really waited for the task (most of its 100 ms were left when it began).
    assert!(
        blocked >= ms(50),
        "{what}: the read did not block ({blocked:?})"
    );
    // 1% of the task's 100 ms.
    assert!(
        cpu < ms(1),
        "{what}: the reader used {cpu:?} of CPU while blocked for {blocked:?}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_reader_blocked_on_a_running_pool_task_uses_under_one_percent_of_a_core() {
    within(secs(20), || {
        let pool = transparent_future::ThreadPool::new(1);
        let result = read_a_running_task(|f| pool.spawn_lazy(f));
        assert_slept("pool", result);
    });
}

#[cfg(target_os = "linux")]
#[test]
fn a_reader_blocked_on_a_thread_per_task_task_uses_under_one_percent_of_a_core() {
    within(secs(20), || {
        let result = read_a_running_task(transparent_future::spawn_lazy);
        assert_slept("thread-per-task", result);
    });
}

/// Spawns on `exec` a task that blocks until `gate` opens.
fn blocked(exec: &Exec, gate: &Gate) -> Lazy<u8> {
    let (started_tx, started) = mpsc::channel();
    let g = gate.clone();
    let x = exec.spawn(move || {
        started_tx.send(()).unwrap();
        g.wait();
        7
    });
    started
        .recv_timeout(secs(10))
        .expect("the task never started");
    x
}

#[test]
fn short_bounded_waits_on_a_long_task_give_up_promptly() {
    within(secs(20), || {
        for exec in executors() {
            let gate = Gate::new();
            let _open = gate.guard();
            let x = blocked(&exec, &gate);
            for limit in [Duration::ZERO, Duration::from_micros(10), ms(1)] {
                let t0 = Instant::now();
                assert_eq!(
                    Lazy::wait_timeout(&x, limit),
                    Err(WaitError::Timeout),
                    "{}: limit {limit:?}",
                    exec.name()
                );
                let took = t0.elapsed();
                assert!(
                    took < secs(1),
                    "{}: a {limit:?} wait took {took:?}",
                    exec.name()
                );
            }
            // Many in a row: each gives up, none decides anything.
            let t0 = Instant::now();
            for _ in 0..100 {
                assert_eq!(Lazy::wait_timeout(&x, ms(1)), Err(WaitError::Timeout));
            }
            let took = t0.elapsed();
            assert!(took >= ms(100), "{}: {took:?}", exec.name());
            assert!(
                took < secs(2),
                "{}: 100 waits of 1 ms took {took:?}",
                exec.name()
            );
            assert!(!Lazy::is_done(&x));
            gate.open();
            assert_eq!(Lazy::wait_timeout(&x, secs(10)), Ok(&7), "{}", exec.name());
        }
    });
}

#[test]
fn a_deadline_releases_its_reader_near_the_deadline() {
    within(secs(20), || {
        for exec in executors() {
            let gate = Gate::new();
            let _open = gate.guard();
            for deadline in [ms(1), ms(100)] {
                let g = gate.clone();
                let t0 = Instant::now();
                let x = exec.spawn_with(Deadline::after(deadline), move || {
                    g.wait();
                    1
                });
                // An unbounded read: released at the deadline, not when the task ends.
                assert_eq!(*x, Outcome::Timeout, "{}", exec.name());
                let took = t0.elapsed();
                assert!(
                    took >= deadline,
                    "{}: released before the {deadline:?} deadline ({took:?})",
                    exec.name()
                );
                assert!(
                    took < deadline + ms(500),
                    "{}: the {deadline:?} deadline released the reader after {took:?}",
                    exec.name()
                );
            }
            // A bounded wait longer than the deadline ends at the deadline too.
            let g = gate.clone();
            let t0 = Instant::now();
            let x = exec.spawn_with(Deadline::after(ms(50)), move || {
                g.wait();
                2
            });
            assert_eq!(
                Lazy::wait_timeout(&x, secs(10)),
                Ok(&Outcome::Timeout),
                "{}",
                exec.name()
            );
            let took = t0.elapsed();
            assert!(
                took >= ms(50) && took < secs(1),
                "{}: {took:?}",
                exec.name()
            );
            gate.open();
        }
    });
}
