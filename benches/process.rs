//! Process tasks against the OS floor and against threads, side by side in one run.
//!
//! * `process_fresh`: `process::spawn_lazy` + first access of a trivial task in a new
//!   child, against `std::process::Command` starting this same executable the same way
//!   (`/proc/self/exe`, five arguments), which exits at once, and waiting for it.
//!   Goal: at most 1.2x the `Command`. The process task's time ends at its value; the
//!   child's exit and reaping run on its supervisor thread meanwhile, so on a loaded
//!   machine their CPU time still weighs on the next iterations.
//! * `process_pool_round_trip`: `ProcessPool::spawn_lazy` + first access on a warm
//!   worker, against `ThreadPool::spawn_lazy` + first access. Goal: at most 50 µs.
//!
//! `cargo bench -p transparent-future-benches --bench process`.
//!
//! Criterion runs one side for seconds, then the other, so on a small shared machine a
//! burst of load lands on one side only. With `TF_BENCH_INTERLEAVED=1` in the
//! environment the bench instead alternates batches of the two sides of each group and
//! prints the median over rounds of each side and of their ratio (about 5 s).

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use transparent_future::ThreadPool;
use transparent_future::process::{self, ProcessPool};

/// Set in the environment of the `Command` baseline: the child exits at once.
const EXIT_AT_ONCE: &str = "TF_BENCH_EXIT_AT_ONCE";

/// As many arguments as a child of a process task gets, and as long.
const ANCHOR_ARGS: [&str; 5] = [
    "__transparent_future_bench_anchor",
    "__transparent_future_bench_anchor,1,12345,fe:00/1234567,0,once",
    "--nocapture",
    "--quiet",
    "--test-threads=1",
];

fn trivial(x: u64) -> u64 {
    x + 1
}

fn fresh(c: &mut Criterion) {
    let mut g = c.benchmark_group("process_fresh");
    g.sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    g.bench_function("process_spawn_lazy_deref", |b| {
        b.iter(|| *process::spawn_lazy(black_box(1u64), trivial))
    });
    g.bench_function("command_status_same_exe", |b| {
        b.iter(|| {
            Command::new("/proc/self/exe")
                .args(ANCHOR_ARGS)
                .env(EXIT_AT_ONCE, "1")
                .status()
                .unwrap()
                .success()
        })
    });
    g.finish();
}

fn pool(c: &mut Criterion) {
    let procs = ProcessPool::new(1);
    let threads = ThreadPool::new(1);
    assert_eq!(*procs.spawn_lazy(1u64, trivial), 2); // warm: the worker is up
    let mut g = c.benchmark_group("process_pool_round_trip");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    g.bench_function("process_pool_spawn_lazy_deref", |b| {
        b.iter(|| *procs.spawn_lazy(black_box(1u64), trivial))
    });
    g.bench_function("thread_pool_spawn_lazy_deref", |b| {
        b.iter(|| *threads.spawn_lazy(|| trivial(black_box(1u64))))
    });
    g.finish();
}

criterion_group!(benches, fresh, pool);

/// Mean time per call of a batch of `n` calls of `f`, in microseconds.
fn batch(n: u32, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed().as_secs_f64() * 1e6 / f64::from(n)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Alternates `rounds` batches of `n` calls of `a` and of `b` (after one round that is
/// not counted); prints the medians of each and of `a / b`.
fn interleave(what: &str, rounds: usize, n: u32, mut a: impl FnMut(), mut b: impl FnMut()) {
    let (mut xs, mut ys, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..=rounds {
        let (x, y) = (batch(n, &mut a), batch(n, &mut b));
        if round > 0 {
            xs.push(x);
            ys.push(y);
            ratios.push(x / y);
        }
    }
    println!(
        "{what}: {:.1} µs against {:.1} µs, ratio {:.2} (medians of {rounds} rounds)",
        median(&mut xs),
        median(&mut ys),
        median(&mut ratios)
    );
}

fn interleaved() {
    let anchor = || {
        let status = Command::new("/proc/self/exe")
            .args(ANCHOR_ARGS)
            .env(EXIT_AT_ONCE, "1")
            .status()
            .unwrap();
        assert!(status.success());
    };
    interleave(
        "process_fresh: spawn_lazy + *x against Command to completion",
        300,
        2,
        || assert_eq!(*process::spawn_lazy(black_box(1u64), trivial), 2),
        anchor,
    );
    let procs = ProcessPool::new(1);
    let threads = ThreadPool::new(1);
    assert_eq!(*procs.spawn_lazy(1u64, trivial), 2);
    interleave(
        "process_pool_round_trip: ProcessPool against ThreadPool",
        100,
        200,
        || assert_eq!(*procs.spawn_lazy(black_box(1u64), trivial), 2),
        || assert_eq!(*threads.spawn_lazy(|| trivial(black_box(1u64))), 2),
    );
}

fn main() {
    process::init(); // first line: a child runs its task here and exits
    if std::env::var_os(EXIT_AT_ONCE).is_some() {
        return;
    }
    if std::env::var_os("TF_BENCH_INTERLEAVED").is_some() {
        interleaved();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
