//! Benchmarks of `transparent_future` against its closest peers in `std`, `once_cell`
//! and `crossbeam-channel`: reading a resolved value, spawning a task and reading it
//! once, and how late a reader is released past a deadline.
//!
//! Each comparison is one criterion group, so the peers run side by side in the same
//! run, on the same machine state. Run with
//! `cargo bench -p transparent-future-benches --bench lazy`; a single group with e.g.
//! `... --bench lazy -- '^resolved_access/'`.

use std::hint::black_box;
use std::sync::{LazyLock, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, criterion_group, criterion_main};
use once_cell::sync::OnceCell;
use transparent_future::{Deadline, Lazy, WaitError, spawn_lazy, spawn_lazy_with};

/// The deadline of the overshoot benchmarks.
const DEADLINE: Duration = Duration::from_millis(10);

/// How long the late tasks of the overshoot benchmarks sleep: well past the deadline, but short, so
/// that the threads still sleeping after their reader was released do not pile up.
const LATE_TASK: Duration = Duration::from_millis(40);

/// Reading a resolved value, against an initialized inline `OnceCell` (the
/// goal: at most 1.1x `OnceCell::get`), `OnceLock` and a forced `LazyLock`.
///
/// `black_box(&container)` each iteration keeps the compiler from hoisting the load
/// out of the loop: every iteration checks the "initialized" flag and reads the value.
fn resolved_access(c: &mut Criterion) {
    let mut g = c.benchmark_group("resolved_access");
    g.warm_up_time(Duration::from_millis(1500))
        .measurement_time(Duration::from_secs(2));

    // Resolved through the real path: spawned, then read once (waits, caches).
    let spawned = spawn_lazy(|| 7u64);
    assert_eq!(*spawned, 7);
    g.bench_function("lazy_spawned_deref", |b| b.iter(|| **black_box(&spawned)));

    // Created resolved: no task, no allocation.
    let with_value = Lazy::with_value(7u64);
    g.bench_function("lazy_with_value_deref", |b| {
        b.iter(|| **black_box(&with_value))
    });

    let cell = OnceCell::with_value(7u64);
    g.bench_function("once_cell_get", |b| {
        b.iter(|| *black_box(&cell).get().unwrap())
    });

    let lock = OnceLock::from(7u64);
    g.bench_function("std_oncelock_get", |b| {
        b.iter(|| *black_box(&lock).get().unwrap())
    });

    let lazy_lock = LazyLock::new(|| 7u64);
    LazyLock::force(&lazy_lock);
    g.bench_function("std_lazylock_deref", |b| b.iter(|| **black_box(&lazy_lock)));

    g.finish();
}

/// Spawning a trivial task and reading its result, against spawning a
/// thread and joining it (the goal: at most 1.1x).
fn spawn_and_first_access(c: &mut Criterion) {
    let mut g = c.benchmark_group("spawn_first_access");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));

    g.bench_function("spawn_lazy_deref", |b| {
        b.iter(|| {
            let x = spawn_lazy(|| black_box(1u64));
            *x
        })
    });
    g.bench_function("std_thread_spawn_join", |b| {
        b.iter(|| thread::spawn(|| black_box(1u64)).join().unwrap())
    });
    // Not a goal, an explanation: a detached thread that sends its result over a
    // channel releases the reader when the value is sent, like `spawn_lazy`, not when
    // the thread has exited, like `join`.
    g.bench_function("std_thread_spawn_channel_recv", |b| {
        b.iter(|| {
            let (tx, rx) = crossbeam_channel::bounded(1);
            thread::spawn(move || tx.send(black_box(1u64)).unwrap());
            rx.recv().unwrap()
        })
    });

    g.finish();
}

/// Time from `deadline` to now: how late the reader was released. Zero if (against
/// the contract) it was released early.
fn overshoot(deadline: Instant) -> Duration {
    Instant::now().saturating_duration_since(deadline)
}

fn late_task() -> u64 {
    thread::sleep(LATE_TASK);
    1
}

/// Benchmarks one kind of timed wait: `one_wait` does one wait and returns its
/// overshoot, and whether it timed out. Criterion gets the sum of the overshoots (so its
/// "time" is the mean overshoot per wait, averaged per sample); every single overshoot
/// is also kept, and their distribution printed, since a mean over a few waits hides
/// the tail.
///
/// A wait that did not time out means the reader was stalled for longer than the late
/// task's head start (30 ms), so the value came first: its overshoot still counts (the
/// reader was released that late), and the number of such waits is printed.
fn bench_overshoot(
    g: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    mut one_wait: impl FnMut() -> (Duration, bool),
) {
    let mut seen = Vec::new();
    let mut not_timed_out = 0;
    g.bench_function(name, |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let (over, timed_out) = one_wait();
                    seen.push(over);
                    not_timed_out += usize::from(!timed_out);
                    over
                })
                .sum()
        })
    });
    seen.sort();
    if let (Some(min), Some(max)) = (seen.first(), seen.last()) {
        let at = |q: f64| seen[((seen.len() - 1) as f64 * q).round() as usize];
        println!(
            "{name}: overshoot over {} waits (warm-up included): min {min:?}, \
             median {:?}, p90 {:?}, max {max:?}; stalled past the late task: \
             {not_timed_out}",
            seen.len(),
            at(0.5),
            at(0.9),
        );
    }
    // Let the late tasks still sleeping finish before the next benchmark starts.
    thread::sleep(LATE_TASK * 2);
}

/// How long after a 10 ms deadline a reader of a late task is released,
/// against `recv_timeout` on a channel nobody sends to, and on a channel whose sender is
/// late. Each wait takes ~10 ms, so the sample is small and flat (10 samples).
fn deadline_overshoot(c: &mut Criterion) {
    let mut g = c.benchmark_group("deadline_overshoot");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_secs(2));

    // (a) A deadline policy: `*x` returns `Outcome::Timeout` at the deadline. The
    // deadline is taken inside `spawn_lazy_with`, just after `start`; the overshoot is
    // measured from `start + 10 ms`, so it is overstated by well under a microsecond.
    bench_overshoot(&mut g, "spawn_lazy_with_deadline_deref", || {
        let start = Instant::now();
        let x = spawn_lazy_with(Deadline::after(DEADLINE), late_task);
        let timed_out = x.is_timeout();
        (overshoot(start + DEADLINE), timed_out)
    });

    // (b) A plain future, one timed wait on it.
    bench_overshoot(&mut g, "lazy_wait_timeout", || {
        let x = spawn_lazy(late_task);
        let start = Instant::now();
        let timed_out = matches!(Lazy::wait_timeout(&x, DEADLINE), Err(WaitError::Timeout));
        (overshoot(start + DEADLINE), timed_out)
    });

    // The peer: a timed receive on a channel whose sender stays alive but never sends.
    // Nothing else runs meanwhile: the process is idle for the whole 10 ms.
    let (_tx, rx) = crossbeam_channel::bounded::<u64>(1);
    bench_overshoot(&mut g, "crossbeam_recv_timeout", || {
        let start = Instant::now();
        let timed_out = rx.recv_timeout(DEADLINE).is_err();
        (overshoot(start + DEADLINE), timed_out)
    });

    // The hand-made equivalent of (b): a late producer thread that sends on a channel,
    // and a timed receive. Same background activity as (a) and (b) (a thread spawned
    // each wait, sleeping past the deadline), which matters on an idle machine: how fast
    // a sleeping thread is woken depends on how idle the CPUs are.
    bench_overshoot(&mut g, "crossbeam_recv_timeout_late_sender", || {
        let (tx, rx) = crossbeam_channel::bounded::<u64>(1);
        thread::spawn(move || {
            let _ = tx.send(late_task());
        });
        let start = Instant::now();
        let timed_out = rx.recv_timeout(DEADLINE).is_err();
        (overshoot(start + DEADLINE), timed_out)
    });

    g.finish();
}

criterion_group! {
    name = benches;
    config = transparent_future_benches::config();
    targets = resolved_access, spawn_and_first_access, deadline_overshoot
}
criterion_main!(benches);
