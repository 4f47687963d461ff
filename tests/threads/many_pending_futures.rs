//! Waiting for many pending pool futures needs no thread per future and no polling
//! loop: 200 pending pool futures are waited for (`first_done_deadline`,
//! `first_done`, `as_completed`) without 200 threads and without the waiting thread
//! using CPU, and they all finish once their gate opens. Moved here from the
//! composition tests because they count the process's threads.

#![cfg(target_os = "linux")]

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{Gate, ms, serial, thread_count, within};
use transparent_future::{Lazy, ThreadPool, as_completed, first_done, first_done_deadline};

const LIMIT: Duration = Duration::from_secs(20);

/// The calling thread's kernel id.
#[cfg(target_os = "linux")]
fn my_tid() -> u64 {
    let link = std::fs::read_link("/proc/thread-self").unwrap();
    link.file_name().unwrap().to_str().unwrap().parse().unwrap()
}

/// CPU time (user + system, in clock ticks) of thread `tid` of this process.
#[cfg(target_os = "linux")]
fn cpu_ticks(tid: u64) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).unwrap();
    // The fields after the parenthesized name: state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn waiting_for_200_pending_pool_futures_uses_no_thread_per_future_and_no_polling() {
    let _serial = serial();
    within(LIMIT, || {
        let pool = ThreadPool::new(2);
        let gate = Gate::new();
        let _open = gate.guard();
        let futures: Vec<Lazy<usize>> = (0..200)
            .map(|i| {
                let g = gate.clone();
                pool.spawn_lazy(move || {
                    g.wait();
                    i
                })
            })
            .collect();
        let futures = std::sync::Arc::new(futures);
        let before = thread_count();

        // The deadline form (no work-helping): registers a callback on each future and
        // sleeps once.
        let (tid_tx, tid_rx) = mpsc::channel();
        let fs = std::sync::Arc::clone(&futures);
        let waiter = thread::spawn(move || {
            tid_tx.send(my_tid()).unwrap();
            first_done_deadline(&fs, Instant::now() + Duration::from_secs(15)).map(|(i, v)| (i, *v))
        });
        let tid = tid_rx.recv().unwrap();
        thread::sleep(ms(100));
        let cpu_before = cpu_ticks(tid);
        thread::sleep(ms(500));
        let cpu_during = cpu_ticks(tid) - cpu_before;
        let during = thread_count();
        assert!(
            during < before + 40,
            "threads grew from {before} to {during} while waiting for 200 futures"
        );
        assert!(
            cpu_during <= 5,
            "the waiting thread used {cpu_during} ticks in 500 ms"
        );
        gate.open();
        let (i, v) = waiter.join().unwrap().expect("a future was ready");
        assert_eq!(i, v);

        // first_done and as_completed over them, now done: nothing grows either.
        assert!(first_done(&futures).0 < 200);
        let futures = std::sync::Arc::try_unwrap(futures).unwrap();
        let mut seen: Vec<usize> = as_completed(futures).map(|(i, f)| *f - i).collect();
        seen.dedup();
        assert_eq!(seen, [0]);
        assert!(thread_count() < before + 40);
    });
}

#[cfg(target_os = "linux")]
#[test]
fn first_done_and_as_completed_over_200_gated_pool_futures_finish_once_opened() {
    let _serial = serial();
    within(LIMIT, || {
        let pool = ThreadPool::new(2);
        let gate = Gate::new();
        let _open = gate.guard();
        let make = |gate: &Gate| -> Vec<Lazy<usize>> {
            (0..200)
                .map(|i| {
                    let g = gate.clone();
                    pool.spawn_lazy(move || {
                        g.wait();
                        i
                    })
                })
                .collect()
        };
        let before = thread_count();
        let first = make(&gate);
        let rest = make(&gate);
        let waiter = thread::spawn(move || {
            let (i, v) = first_done(&first);
            assert_eq!(i, *v);
            let mut n = 0;
            for (i, f) in as_completed(rest) {
                assert_eq!(i, *f);
                n += 1;
            }
            n
        });
        thread::sleep(ms(300));
        let during = thread_count();
        assert!(
            during < before + 40,
            "threads grew from {before} to {during}"
        );
        gate.open();
        assert_eq!(waiter.join().unwrap(), 200);
    });
}
