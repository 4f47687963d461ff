//! Benchmarks of the executors against their peers: a `ThreadPool` against
//! thread-per-task and against `rayon::spawn` with a `crossbeam_channel::bounded(1)`
//! result channel per task; and our futures run on that same rayon pool (the crate's
//! `rayon` feature), which shows what the future adds to rayon's own scheduling.
//!
//! Each comparison is one criterion group, so the peers run side by side in the same
//! run. `cargo bench -p transparent-future-benches --bench executors`; one group:
//! `... --bench executors -- '^pool_spawn_first_access/'`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use once_cell::sync::OnceCell;
use transparent_future::executor::RayonGlobal;
use transparent_future::{Builder, Lazy, ThreadPool, spawn_lazy};
use transparent_future_benches::{TASKS, THREADS, rayon_pool, spawn_all_then_read};

/// Spawn plus first access of a trivial task. Goals: the pool at least 20x faster than
/// thread-per-task, and no slower than rayon with a result channel.
fn spawn_first_access(c: &mut Criterion) {
    let pool = ThreadPool::new(THREADS);
    let rayon_pool = rayon_pool();
    let mut g = c.benchmark_group("pool_spawn_first_access");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));

    g.bench_function("pool_spawn_lazy_deref", |b| {
        b.iter(|| {
            let x = pool.spawn_lazy(|| black_box(1u64));
            *x
        })
    });
    g.bench_function("rayon_spawn_bounded1_recv", |b| {
        b.iter(|| {
            let (tx, rx) = crossbeam_channel::bounded(1);
            rayon_pool.spawn(move || tx.send(black_box(1u64)).unwrap());
            rx.recv().unwrap()
        })
    });
    // Our future on the same rayon pool: the executor is rayon's, the result slot and
    // the wake-up are ours.
    g.bench_function("rayon_pool_builder_spawn_deref", |b| {
        b.iter(|| {
            let x = Builder::new()
                .on(&rayon_pool)
                .spawn(|| black_box(1u64))
                .unwrap();
            *x
        })
    });
    g.bench_function("thread_per_task_spawn_lazy_deref", |b| {
        b.iter(|| {
            let x = spawn_lazy(|| black_box(1u64));
            *x
        })
    });
    g.finish();
}

/// Throughput, 100,000 trivial tasks submitted, then all read. Goal: the pool at least
/// 2x rayon with a result channel per task. Reported in tasks per second.
fn throughput(c: &mut Criterion) {
    let pool = ThreadPool::new(THREADS);
    let rayon_pool = rayon_pool();
    let mut g = c.benchmark_group("throughput_100k");
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(6))
        .throughput(Throughput::Elements(TASKS));

    g.bench_function("pool_spawn_lazy", |b| b.iter(|| spawn_all_then_read(&pool)));
    g.bench_function("rayon_spawn_bounded1", |b| {
        b.iter(|| {
            let receivers: Vec<_> = (0..TASKS)
                .map(|i| {
                    let (tx, rx) = crossbeam_channel::bounded(1);
                    rayon_pool.spawn(move || tx.send(black_box(i)).unwrap());
                    rx
                })
                .collect();
            receivers.iter().map(|rx| rx.recv().unwrap()).sum::<u64>()
        })
    });
    g.bench_function("rayon_pool_builder_spawn", |b| {
        b.iter(|| {
            let futures: Vec<Lazy<u64>> = (0..TASKS)
                .map(|i| {
                    Builder::new()
                        .on(&rayon_pool)
                        .spawn(move || black_box(i))
                        .unwrap()
                })
                .collect();
            futures.iter().map(|x| **x).sum::<u64>()
        })
    });
    g.finish();
}

/// The resolved access is the same on every executor (the executor is not on that
/// path), against an initialized inline `OnceCell`.
fn resolved_access_by_executor(c: &mut Criterion) {
    let pool = ThreadPool::new(THREADS);
    let mut g = c.benchmark_group("resolved_access_by_executor");
    g.warm_up_time(Duration::from_millis(1500))
        .measurement_time(Duration::from_secs(2));

    let on_pool = pool.spawn_lazy(|| 7u64);
    assert_eq!(*on_pool, 7);
    let on_thread = spawn_lazy(|| 7u64);
    assert_eq!(*on_thread, 7);
    let on_rayon = Builder::new().on(&RayonGlobal).spawn(|| 7u64).unwrap();
    assert_eq!(*on_rayon, 7);
    let cell = OnceCell::with_value(7u64);

    g.bench_function("pool_lazy_deref", |b| b.iter(|| **black_box(&on_pool)));
    g.bench_function("thread_per_task_lazy_deref", |b| {
        b.iter(|| **black_box(&on_thread))
    });
    g.bench_function("rayon_global_lazy_deref", |b| {
        b.iter(|| **black_box(&on_rayon))
    });
    g.bench_function("once_cell_get", |b| {
        b.iter(|| *black_box(&cell).get().unwrap())
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = transparent_future_benches::config();
    targets = spawn_first_access, throughput, resolved_access_by_executor
}
criterion_main!(benches);
