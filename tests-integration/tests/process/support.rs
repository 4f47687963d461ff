//! Watchdogs and `/proc` inspection.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Runs `f` on a thread; fails the test if it takes longer than `limit`.
pub fn watchdog<R: Send + 'static>(limit: Duration, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    let worker = thread::spawn(move || {
        let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
    });
    match rx.recv_timeout(limit) {
        Ok(Ok(r)) => {
            let _ = worker.join();
            r
        }
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("watchdog: the test did not finish within {limit:?}"),
    }
}

/// The state letter of `/proc/<pid>/stat` (`R`, `S`, `Z`, ...), `None` if gone.
pub fn state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    after.trim_start().chars().next()
}

/// The parent PID of `pid`.
pub fn ppid(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Whether `pid` no longer runs: gone, or a zombie (an orphan whose reaper is not us).
pub fn not_running(pid: u32) -> bool {
    matches!(state(pid), None | Some('Z') | Some('X'))
}

/// Waits until `pid` no longer runs; false if it still runs after `limit`.
pub fn gone_within(pid: u32, limit: Duration) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if not_running(pid) {
            return true;
        }
        thread::sleep(Duration::from_millis(10));
    }
    not_running(pid)
}

/// The children of this process, with their states.
pub fn children() -> Vec<(u32, char)> {
    let me = std::process::id();
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if ppid(pid) == Some(me) {
            if let Some(s) = state(pid) {
                out.push((pid, s));
            }
        }
    }
    out
}

/// The zombies among this process's children, after giving reaping `limit`.
pub fn zombies_after(limit: Duration) -> Vec<u32> {
    let until = Instant::now() + limit;
    loop {
        let z: Vec<u32> = children()
            .into_iter()
            .filter(|(_, s)| *s == 'Z')
            .map(|(p, _)| p)
            .collect();
        if z.is_empty() || Instant::now() >= until {
            return z;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// A fresh path in the temporary directory.
pub fn temp_path(tag: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir()
        .join(format!("tf-process-{}-{tag}-{n}", std::process::id()))
        .to_string_lossy()
        .into_owned()
}

/// Waits for a file to hold a PID, written by a task.
pub fn read_pid(path: &str) -> u32 {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(pid) = std::fs::read_to_string(path)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            return pid;
        }
        assert!(Instant::now() < until, "no PID in {path}");
        thread::sleep(Duration::from_millis(5));
    }
}

/// A task that records its PID in `path`, then spins forever.
pub fn record_pid_and_spin(path: String) -> u8 {
    std::fs::write(&path, std::process::id().to_string()).unwrap();
    loop {
        thread::sleep(Duration::from_millis(5));
    }
}

/// A task that starts `sleep 60`, records that grandchild's PID, then spins forever
/// (the kill of its process group ends the grandchild; nobody waits for it here).
#[allow(clippy::zombie_processes)]
pub fn start_sleep_and_spin(path: String) -> u8 {
    let sleeper = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    std::fs::write(&path, sleeper.id().to_string()).unwrap();
    loop {
        thread::sleep(Duration::from_millis(5));
    }
}
