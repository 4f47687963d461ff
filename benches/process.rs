//! Process tasks against the OS floor and against threads, side by side in one run.
//!
//! * `process_fresh`: `process::spawn_lazy` + first access of a trivial task in a new
//!   child, against `std::process::Command` starting this same executable, which exits
//!   at once, and waiting for it. Goal: at most 1.2x the `Command`.
//! * `process_pool_round_trip`: `ProcessPool::spawn_lazy` + first access on a warm
//!   worker, against `ThreadPool::spawn_lazy` + first access. Goal: at most 50 µs.
//!
//! `cargo bench -p transparent-future-benches --bench process`.

use std::hint::black_box;
use std::process::Command;
use std::time::Duration;

use criterion::{Criterion, criterion_group};
use transparent_future::ThreadPool;
use transparent_future::process::{self, ProcessPool};

/// Set in the environment of the `Command` baseline: the child exits at once.
const EXIT_AT_ONCE: &str = "TF_BENCH_EXIT_AT_ONCE";

fn trivial(x: u64) -> u64 {
    x + 1
}

fn fresh(c: &mut Criterion) {
    let exe = std::env::current_exe().unwrap();
    let mut g = c.benchmark_group("process_fresh");
    g.sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    g.bench_function("process_spawn_lazy_deref", |b| {
        b.iter(|| *process::spawn_lazy(black_box(1u64), trivial))
    });
    g.bench_function("command_status_same_exe", |b| {
        b.iter(|| {
            Command::new(&exe)
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

fn main() {
    process::init(); // first line: a child runs its task here and exits
    if std::env::var_os(EXIT_AT_ONCE).is_some() {
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
