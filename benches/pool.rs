//! The pool against rayon's and tokio's own best tools, tried as a new user would:
//!
//! * `bulk_100k`: 100,000 trivial tasks spawned, then every result read: our
//!   `ThreadPool::spawn_lazy`, `rayon::scope` spawning into result slots, tokio's
//!   `spawn` + `.await` on a two-worker runtime; and the floor of a task that is a
//!   shared heap object submitted from outside through a queue, with nothing else.
//! * `fib_24`, `fib_30`: nested fork-join, a pool future per left branch read after
//!   computing the right one (75,024 and 1,346,268 forks), against `rayon::join`; and
//!   the floor of a fork that is a shared heap object passed through a deque, on one
//!   thread.
//! * `dir_tree`: the total size of the files under a real directory tree, a future per
//!   subdirectory, against rayon's `par_iter` over the subdirectories.
//! * `wake_up`: a reader blocked on a task that is already running, woken when the task
//!   publishes after 30 µs of work: the time from the publish to the reader's return,
//!   against a `crossbeam_channel::bounded(1)` receiver blocked on a sender doing the
//!   same. On a pool worker and on a thread of its own.
//!
//! Every pool has two workers, the number of cores of the machine the goals were set on.
//! `cargo bench -p transparent-future-benches --bench pool`; one group:
//! `... --bench pool -- '^fib_24/'`. The directory tree is `TF_BENCH_DIR`, else
//! `/usr/include`, else this repository.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rayon::prelude::*;
use transparent_future::{Lazy, ThreadPool, spawn_lazy};
use transparent_future_benches::{TASKS, THREADS, rayon_pool, spawn_all_then_read};

/// Our pool, shared by every closure as a `'static` reference (as a program that keeps
/// one pool for its lifetime would write it).
static POOL: LazyLock<ThreadPool> = LazyLock::new(|| ThreadPool::new(THREADS));

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(THREADS)
        .build()
        .unwrap()
}

fn bulk(c: &mut Criterion) {
    let pool = &*POOL;
    let rayon = rayon_pool();
    let tokio = tokio_runtime();
    let mut g = c.benchmark_group("bulk_100k");
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(TASKS));

    g.bench_function("ours_pool_spawn_lazy", |b| {
        b.iter(|| spawn_all_then_read(pool))
    });
    g.bench_function("rayon_scope_slots", |b| {
        b.iter(|| {
            let mut slots = vec![0u64; TASKS as usize];
            rayon.scope(|s| {
                for (i, slot) in slots.iter_mut().enumerate() {
                    s.spawn(move |_| *slot = black_box(i as u64));
                }
            });
            slots.iter().sum::<u64>()
        })
    });
    g.bench_function("floor_alloc_share_inject", |b| {
        let floor = InjectFloor::start();
        b.iter(|| floor.round());
    });
    g.bench_function("tokio_spawn_await", |b| {
        b.iter(|| {
            tokio.block_on(async {
                let handles: Vec<_> = (0..TASKS)
                    .map(|i| tokio::spawn(async move { black_box(i) }))
                    .collect();
                let mut sum = 0;
                for h in handles {
                    sum += h.await.unwrap();
                }
                sum
            })
        })
    });
    g.finish();
}

/// A task's state in the bulk floor: the result, and padding to the size of ours.
type FloorTask = Arc<(AtomicU64, [u64; 13])>;

/// The floor of any design in which a task is a heap object shared with its future and
/// submitted from outside the pool: per task, the submitting thread allocates a state
/// of the size of ours (an `Arc` of 112 bytes), shares it (a clone), pushes the clone
/// onto a `crossbeam-deque` injector that two threads take from one at a time, each
/// writing the result into the state; then the submitter reads every result, spinning
/// until it is there. No claim, no publication protocol, no sleep, no wake-up: the two
/// consumers spin while the bench runs. What our pool adds on top is the rest of
/// `ours_pool_spawn_lazy`.
struct InjectFloor {
    injector: Arc<crossbeam_deque::Injector<FloorTask>>,
    stop: Arc<AtomicBool>,
    consumers: Vec<std::thread::JoinHandle<()>>,
}

impl InjectFloor {
    fn start() -> InjectFloor {
        let injector = Arc::new(crossbeam_deque::Injector::<FloorTask>::new());
        let stop = Arc::new(AtomicBool::new(false));
        let consumers = (0..THREADS)
            .map(|_| {
                let (injector, stop) = (Arc::clone(&injector), Arc::clone(&stop));
                std::thread::spawn(move || {
                    let backoff = crossbeam_utils::Backoff::new();
                    while !stop.load(Ordering::Relaxed) {
                        match injector.steal() {
                            crossbeam_deque::Steal::Success(task) => {
                                task.0.store(task.1[0] + 1, Ordering::Release);
                                backoff.reset();
                            }
                            _ => backoff.snooze(),
                        }
                    }
                })
            })
            .collect();
        InjectFloor {
            injector,
            stop,
            consumers,
        }
    }

    fn round(&self) -> u64 {
        let tasks: Vec<FloorTask> = (0..TASKS)
            .map(|i| {
                let task = Arc::new((AtomicU64::new(0), [i; 13]));
                self.injector.push(Arc::clone(&task));
                task
            })
            .collect();
        let mut sum = 0;
        for task in &tasks {
            loop {
                let done = task.0.load(Ordering::Acquire);
                if done != 0 {
                    sum += done;
                    break;
                }
                std::hint::spin_loop();
            }
        }
        sum
    }
}

impl Drop for InjectFloor {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for consumer in self.consumers.drain(..) {
            consumer.join().unwrap();
        }
    }
}

/// fib(n) with a pool future for the left branch, read after the right one.
fn fib_ours(n: u32) -> u64 {
    if n < 2 {
        return u64::from(n);
    }
    let left = POOL.spawn_lazy(move || fib_ours(n - 1));
    let right = fib_ours(n - 2);
    Lazy::into_inner(left) + right
}

fn fib_rayon(n: u32) -> u64 {
    if n < 2 {
        return u64::from(n);
    }
    let (left, right) = rayon::join(|| fib_rayon(n - 1), || fib_rayon(n - 2));
    left + right
}

/// The floor of any design in which a fork is a shared heap object handed through a
/// queue: the left branch allocates a state of the size of ours (an `Arc` of 128
/// bytes), shares it (a clone), pushes it onto a work-stealing deque and pops it back,
/// all on one thread, with no claim, no publication and no wake-up. What a pool future
/// adds on top is the rest of `ours_pool_future_per_fork`.
fn fib_floor(n: u32, deque: &crossbeam_deque::Worker<Arc<[u64; 14]>>) -> u64 {
    if n < 2 {
        return u64::from(n);
    }
    let state = Arc::new([u64::from(n); 14]);
    deque.push(Arc::clone(&state));
    let right = fib_floor(n - 2, deque);
    let popped = deque.pop().expect("the deque holds what this call pushed");
    let left = fib_floor(n - 1, deque) + popped[0] - u64::from(n);
    drop(state);
    left + right
}

fn fib(c: &mut Criterion, n: u32, samples: usize, secs: u64) {
    let rayon = rayon_pool();
    let expected = if n == 24 { 46_368 } else { 832_040 };
    let mut g = c.benchmark_group(format!("fib_{n}"));
    g.sample_size(samples)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(secs));
    g.bench_function("ours_pool_future_per_fork", |b| {
        b.iter(|| {
            let x = POOL.spawn_lazy(move || fib_ours(black_box(n)));
            let x = Lazy::into_inner(x);
            assert_eq!(x, expected);
            x
        })
    });
    g.bench_function("rayon_join", |b| {
        b.iter(|| {
            let x = rayon.install(|| fib_rayon(black_box(n)));
            assert_eq!(x, expected);
            x
        })
    });
    let deque = crossbeam_deque::Worker::new_lifo();
    g.bench_function("floor_alloc_share_queue_one_thread", |b| {
        b.iter(|| {
            let x = fib_floor(black_box(n), &deque);
            assert_eq!(x, expected);
            x
        })
    });
    g.finish();
}

fn fib_24(c: &mut Criterion) {
    fib(c, 24, 30, 4);
}

fn fib_30(c: &mut Criterion) {
    fib(c, 30, 10, 8);
}

fn tree_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("TF_BENCH_DIR") {
        return dir.into();
    }
    let include = Path::new("/usr/include");
    if include.is_dir() {
        return include.to_path_buf();
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The files and subdirectories of `dir` (symbolic links are not followed).
fn entries(dir: &Path) -> (u64, Vec<PathBuf>) {
    let mut bytes = 0;
    let mut subdirs = Vec::new();
    let Ok(read) = std::fs::read_dir(dir) else {
        return (0, subdirs);
    };
    for entry in read.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            subdirs.push(entry.path());
        } else if kind.is_file() {
            bytes += entry.metadata().map_or(0, |m| m.len());
        }
    }
    (bytes, subdirs)
}

fn tree_ours(dir: PathBuf) -> u64 {
    let (bytes, subdirs) = entries(&dir);
    let below: Vec<Lazy<u64>> = subdirs
        .into_iter()
        .map(|d| POOL.spawn_lazy(move || tree_ours(d)))
        .collect();
    bytes + below.into_iter().map(Lazy::into_inner).sum::<u64>()
}

fn tree_rayon(dir: PathBuf) -> u64 {
    let (bytes, subdirs) = entries(&dir);
    bytes + subdirs.into_par_iter().map(tree_rayon).sum::<u64>()
}

fn tree_serial(dir: PathBuf) -> u64 {
    let (bytes, subdirs) = entries(&dir);
    bytes + subdirs.into_iter().map(tree_serial).sum::<u64>()
}

fn dir_tree(c: &mut Criterion) {
    let rayon = rayon_pool();
    let root = tree_root();
    let expected = tree_serial(root.clone());
    let mut g = c.benchmark_group("dir_tree");
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    g.bench_function("ours_pool_future_per_dir", |b| {
        b.iter(|| {
            let root = root.clone();
            let total = Lazy::into_inner(POOL.spawn_lazy(move || tree_ours(root)));
            assert_eq!(total, expected);
            total
        })
    });
    g.bench_function("rayon_par_iter", |b| {
        b.iter(|| {
            let total = rayon.install(|| tree_rayon(root.clone()));
            assert_eq!(total, expected);
            total
        })
    });
    g.finish();
}

/// How long a task works before it publishes.
const WORK: Duration = Duration::from_micros(30);

fn spin_for(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

/// Runs `iters` rounds of: start a task (by `start`) that signals it has begun, works
/// for [`WORK`], notes the instant and publishes; wait until it has begun; block on
/// the result (by `read`); sum the time from the noted instant to the read's return.
fn wake_rounds<H>(
    iters: u64,
    start: impl Fn(Box<dyn FnOnce() -> Instant + Send>) -> H,
    read: impl Fn(H) -> Instant,
) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let begun = std::sync::Arc::new(AtomicBool::new(false));
        let flag = begun.clone();
        let handle = start(Box::new(move || {
            flag.store(true, Ordering::Release);
            spin_for(WORK);
            Instant::now()
        }));
        while !begun.load(Ordering::Acquire) {
            std::hint::spin_loop();
        }
        let published = read(handle);
        total += Instant::now().saturating_duration_since(published);
    }
    total
}

fn wake_up(c: &mut Criterion) {
    let pool = &*POOL;
    let rayon = rayon_pool();
    let mut g = c.benchmark_group("wake_up");
    g.sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    g.bench_function(BenchmarkId::new("ours", "pool"), |b| {
        b.iter_custom(|iters| {
            wake_rounds(iters, |work| pool.spawn_lazy(work), |x: Lazy<Instant>| *x)
        })
    });
    g.bench_function(BenchmarkId::new("crossbeam_bounded1", "rayon_pool"), |b| {
        b.iter_custom(|iters| {
            wake_rounds(
                iters,
                |work| {
                    let (tx, rx) = crossbeam_channel::bounded(1);
                    rayon.spawn(move || tx.send(work()).unwrap());
                    rx
                },
                |rx| rx.recv().unwrap(),
            )
        })
    });
    g.bench_function(BenchmarkId::new("ours", "thread_per_task"), |b| {
        b.iter_custom(|iters| wake_rounds(iters, spawn_lazy, |x: Lazy<Instant>| *x))
    });
    g.bench_function(BenchmarkId::new("crossbeam_bounded1", "std_thread"), |b| {
        b.iter_custom(|iters| {
            wake_rounds(
                iters,
                |work| {
                    let (tx, rx) = crossbeam_channel::bounded(1);
                    let thread = std::thread::spawn(move || tx.send(work()).unwrap());
                    (rx, thread)
                },
                |(rx, thread)| {
                    let published = rx.recv().unwrap();
                    let woke = Instant::now();
                    thread.join().unwrap();
                    // The join is not part of the wake-up: count to the `recv`.
                    published + Instant::now().saturating_duration_since(woke)
                },
            )
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = transparent_future_benches::config();
    targets = bulk, fib_24, fib_30, dir_tree, wake_up
}
criterion_main!(benches);
