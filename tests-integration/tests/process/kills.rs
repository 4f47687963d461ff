//! Deadline kills, cancellation kills, the process group, and parent death.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use transparent_future::process::{self, ProcessPool};
use transparent_future::{Builder, Deadline, Lazy, Outcome};

use crate::support::{
    gone_within, read_pid, record_pid_and_spin, start_sleep_and_spin, temp_path, watchdog,
};

const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn a_timed_out_child_is_killed_and_reaped_shortly_after_the_deadline() {
    watchdog(LIMIT, || {
        let path = temp_path("deadline");
        let t0 = Instant::now();
        let x = process::spawn_lazy_with(
            Deadline::after(Duration::from_millis(500)),
            path.clone(),
            record_pid_and_spin,
        );
        let pid = read_pid(&path);
        assert!(x == Outcome::Timeout);
        assert!(t0.elapsed() >= Duration::from_millis(500));
        assert!(
            gone_within(pid, Duration::from_secs(2)),
            "pid {pid} still runs"
        );
        // Reaped by us: not even a zombie.
        let until = Instant::now() + Duration::from_secs(2);
        while crate::support::state(pid).is_some() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(crate::support::state(pid), None, "pid {pid} not reaped");
        let _ = std::fs::remove_file(path);
    });
}

#[test]
fn the_deadline_kills_even_when_nobody_reads() {
    watchdog(LIMIT, || {
        let path = temp_path("unread");
        let x = process::spawn_lazy_with(
            Deadline::after(Duration::from_millis(300)),
            path.clone(),
            record_pid_and_spin,
        );
        let pid = read_pid(&path);
        assert!(
            gone_within(pid, Duration::from_secs(3)),
            "pid {pid} still runs"
        );
        assert_eq!(*x, Outcome::Timeout);
        let _ = std::fs::remove_file(path);
    });
}

#[test]
fn the_tasks_own_children_die_with_it() {
    watchdog(LIMIT, || {
        let path = temp_path("grandchild");
        let x = process::spawn_lazy_with(
            Deadline::after(Duration::from_millis(300)),
            path.clone(),
            start_sleep_and_spin,
        );
        let sleeper = read_pid(&path);
        assert!(x == Outcome::Timeout);
        assert!(
            gone_within(sleeper, Duration::from_secs(2)),
            "sleep {sleeper} still runs"
        );
        let _ = std::fs::remove_file(path);
    });
}

#[test]
fn sigterm_first_with_a_grace_period() {
    watchdog(LIMIT, || {
        let path = temp_path("grace");
        let x = Builder::new()
            .timeout(Deadline::after(Duration::from_millis(200)))
            .kill_grace(Duration::from_millis(300))
            .spawn_process(path.clone(), record_pid_and_spin)
            .unwrap();
        let pid = read_pid(&path);
        assert_eq!(*x, Outcome::Timeout);
        assert!(gone_within(pid, Duration::from_secs(3)));
        let _ = std::fs::remove_file(path);
    });
}

#[test]
fn cancelling_or_dropping_kills() {
    watchdog(LIMIT, || {
        let path = temp_path("cancel");
        let x = process::spawn_lazy(path.clone(), record_pid_and_spin);
        let pid = read_pid(&path);
        Lazy::cancel(&x);
        assert!(
            gone_within(pid, Duration::from_secs(3)),
            "cancel: {pid} still runs"
        );
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| *x)).unwrap_err();
        assert!(err.downcast_ref::<String>().unwrap().contains("cancelled"));

        let path = temp_path("drop");
        let y = process::spawn_lazy(path.clone(), record_pid_and_spin);
        let pid = read_pid(&path);
        drop(y);
        assert!(
            gone_within(pid, Duration::from_secs(3)),
            "drop: {pid} still runs"
        );

        let pool = ProcessPool::new(1);
        let path = temp_path("pool-cancel");
        let z = pool.spawn_lazy(path.clone(), record_pid_and_spin);
        let pid = read_pid(&path);
        drop(z);
        assert!(
            gone_within(pid, Duration::from_secs(3)),
            "pool drop: {pid} still runs"
        );
        assert_eq!(*pool.spawn_lazy(4u8, |n: u8| n + 1), 5, "replaced");
    });
}

/// Started as a separate process by `children_exit_when_the_parent_dies`: spawns a
/// task that records its PID and spins, then waits to be killed.
#[test]
#[ignore = "a helper, run by children_exit_when_the_parent_dies"]
fn helper_parent_that_dies() {
    let Ok(path) = std::env::var("TF_PARENT_DEATH_FILE") else {
        return;
    };
    let x = process::spawn_lazy(path, record_pid_and_spin);
    std::thread::sleep(Duration::from_secs(60));
    drop(x);
}

#[test]
fn children_exit_when_the_parent_dies() {
    watchdog(LIMIT, || {
        let path = temp_path("orphan");
        let mut parent = Command::new(std::env::current_exe().unwrap())
            .args([
                "kills::helper_parent_that_dies",
                "--exact",
                "--ignored",
                "--nocapture",
                "-q",
            ])
            .env("TF_PARENT_DEATH_FILE", &path)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let child = read_pid(&path);
        assert!(!crate::support::not_running(child));
        parent.kill().unwrap();
        parent.wait().unwrap();
        let t0 = Instant::now();
        assert!(
            gone_within(child, Duration::from_secs(3)),
            "orphan {child} still runs"
        );
        assert!(
            t0.elapsed() < Duration::from_millis(1500),
            "{:?}",
            t0.elapsed()
        );
        let _ = std::fs::remove_file(path);
    });
}
