//! 10,000 pending thread-per-task futures, and the cap's error path.
//!
//! 10,000 thread-per-task futures with 64 KiB stacks (`Builder::stack_size`) are all
//! blocked on one gate at the same time, then released: every value is correct, and the
//! live-thread count goes back to zero. With the cap set to exactly 10,000, the next
//! thread is refused with `WouldBlock` (a message naming the cap) while they all run.
//! The cap and the live count are process-global: the test holds `support::serial()`.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{RestoreCap, serial};
use transparent_future::executor::ThreadPerTask;
use transparent_future::{Builder, Lazy};

const N: usize = 10_000;

type Gate = Arc<(Mutex<bool>, Condvar)>;

#[test]
fn ten_thousand_blocked_thread_per_task_futures() {
    let _serial = serial();
    let t0 = Instant::now();
    let old = ThreadPerTask::max_live_threads();
    assert!(
        old >= N,
        "the system's cap {old} is below {N}: cannot run this test"
    );
    let _restore = RestoreCap(old);
    ThreadPerTask::set_max_live_threads(N);

    let gate: Gate = Arc::new((Mutex::new(false), Condvar::new()));
    let waiting = Arc::new(AtomicUsize::new(0));
    let mut futures: Vec<Lazy<usize>> = Vec::with_capacity(N);
    let spawned = (0..N).try_for_each(|i| {
        let gate = Arc::clone(&gate);
        let waiting = Arc::clone(&waiting);
        let x = Builder::new().stack_size(64 * 1024).spawn(move || {
            waiting.fetch_add(1, SeqCst);
            let mut open = gate.0.lock().unwrap();
            while !*open {
                open = gate.1.wait(open).unwrap();
            }
            drop(open);
            i * 2
        })?;
        futures.push(x);
        Ok::<(), io::Error>(())
    });
    if let Err(e) = spawned {
        // Let what started finish before failing, so no thread is left blocked.
        *gate.0.lock().unwrap() = true;
        gate.1.notify_all();
        panic!("spawn {} of {N} refused: {e}", futures.len());
    }
    assert_eq!(ThreadPerTask::live_threads(), N);

    // All 10,000 are blocked at the gate at once.
    let until = Instant::now() + Duration::from_secs(15);
    while waiting.load(SeqCst) < N {
        assert!(
            Instant::now() < until,
            "only {} of {N} threads reached the gate",
            waiting.load(SeqCst)
        );
        thread::sleep(Duration::from_millis(5));
    }
    assert!(!Lazy::is_done(&futures[0]));

    // The cap is reached: the next thread is refused, by every form.
    let err = Builder::new()
        .spawn(|| 0)
        .expect_err("a thread past the cap was accepted");
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    assert!(err.to_string().contains(&format!("cap is {N}")), "{err}");
    let err = Builder::new()
        .stack_size(64 * 1024)
        .spawn(|| 0)
        .expect_err("a thread past the cap was accepted");
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    let panicked = std::panic::catch_unwind(|| transparent_future::spawn_lazy(|| 0));
    assert!(panicked.is_err(), "spawn_lazy past the cap did not panic");

    // Open the gate: every value is right, and every thread gives its place back.
    *gate.0.lock().unwrap() = true;
    gate.1.notify_all();
    let sum: usize = futures.iter().map(|x| **x).sum();
    assert_eq!(sum, N * (N - 1));
    drop(futures);
    // A place comes back once its thread has exited and been joined, not when its task
    // returns: 10,000 exits take a while on a loaded 2-core machine.
    let until = Instant::now() + Duration::from_secs(60);
    while ThreadPerTask::live_threads() > 0 {
        assert!(
            Instant::now() < until,
            "{} threads still live",
            ThreadPerTask::live_threads()
        );
        thread::sleep(Duration::from_millis(5));
    }
    let again = Builder::new()
        .spawn(|| 1)
        .expect("refused after the threads ended");
    assert_eq!(*again, 1);
    assert!(
        t0.elapsed() < Duration::from_secs(90),
        "took {:?}",
        t0.elapsed()
    );
}
