//! Memory cost of a future (the "Memory" section of `docs/performance.md`): the size of the handle,
//! and the heap allocations of creating one, against `std::thread::spawn` (which every
//! `spawn_lazy` also pays) and against a `crossbeam_channel::bounded(1)`.
//!
//! A counting global allocator wraps `System`. It counts only while the thread-local
//! flag `COUNTING` is set on the allocating thread, so allocations made concurrently by
//! the test harness, or by the spawned threads themselves, are not counted. What is
//! measured is therefore the heap cost a call puts on its *caller's* thread:
//!
//! * `std::thread::spawn` allocates, on the calling thread and through the global
//!   allocator, three blocks: the result packet (`Arc<Packet<T>>`), the boxed entry
//!   closure (the user's closure plus the packet and spawn hooks), and the boxed
//!   `ThreadInit` handed to `pthread_create`. Not counted, because they bypass the global
//!   allocator: the `Thread` handle (std allocates it with `System` directly) and the
//!   new thread's stack (`mmap`ed by libc). Whatever the new thread allocates while it
//!   runs happens on that thread, where `COUNTING` is not set.
//! * `spawn_lazy` does the same `thread::Builder::spawn`, through the default
//!   `ThreadPerTask` executor (its entry closure owns the task's `Runnable`, a 16-byte
//!   `Arc<dyn ..>`, instead of the user's zero-sized closure: 16 bytes more), plus the
//!   future's own state: one `Arc<Task<T, F>>` holding the closure and the shared state.
//!
//! The difference between the two is the future's own cost: the `Arc<Task>` plus the
//! 16 bytes by which the thread's entry closure grows.
//!
//! When libtest captures the output (without `--nocapture`), every spawn makes two more
//! small blocks on the caller (8 and 64 bytes, gone with `--nocapture`, so presumably
//! for passing the capture on to the new thread); they are the same for both, so the
//! difference does not change.
//!
//! Each measured call is made several times and must cost the same every time; the
//! warm-up before it absorbs one-time initialization (std reads `RUST_MIN_STACK` on the
//! first spawn).
//!
//! The tests are serialized by `support::serial()`, so that nothing else in this binary
//! runs while a figure is taken (the thread-local flag already isolates them; this is
//! belt and braces).

use std::mem::size_of;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::thread;

use crate::support::serial;
use crate::{ALLOCS, BYTES, COUNTING, DEALLOCS, LOG_FROM, LOGGED, REALLOCS, SIZES};
use transparent_future::executor::{Executor, Runnable};
use transparent_future::{Builder, Lazy, spawn_lazy};

/// What one call allocated on the calling thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cost {
    /// The sizes of the first `LOGGED` allocations, in order (0: none).
    sizes: [usize; LOGGED],
    allocs: usize,
    bytes: usize,
    reallocs: usize,
    deallocs: usize,
}

/// Runs `f` with counting on for this thread only, and returns its result (dropped by
/// the caller, after counting stops) and what it allocated.
fn measure<R>(f: impl FnOnce() -> R) -> (R, Cost) {
    let before = (
        ALLOCS.load(Relaxed),
        BYTES.load(Relaxed),
        REALLOCS.load(Relaxed),
        DEALLOCS.load(Relaxed),
    );
    LOG_FROM.store(before.0, Relaxed);
    for slot in &SIZES {
        slot.store(0, Relaxed);
    }
    COUNTING.with(|c| c.set(true));
    let result = f();
    COUNTING.with(|c| c.set(false));
    let cost = Cost {
        sizes: SIZES.each_ref().map(|s| s.load(Relaxed)),
        allocs: ALLOCS.load(Relaxed) - before.0,
        bytes: BYTES.load(Relaxed) - before.1,
        reallocs: REALLOCS.load(Relaxed) - before.2,
        deallocs: DEALLOCS.load(Relaxed) - before.3,
    };
    (result, cost)
}

/// Measures `f` a few times and checks that the figure is stable (no one-time
/// initialization, no noise from elsewhere), returning it.
fn stable_cost<R>(what: &str, mut f: impl FnMut() -> R, mut finish: impl FnMut(R)) -> Cost {
    let costs: Vec<Cost> = (0..5)
        .map(|_| {
            let (r, cost) = measure(&mut f);
            finish(r);
            cost
        })
        .collect();
    assert!(
        costs.windows(2).all(|w| w[0] == w[1]),
        "{what}: the cost varies between calls: {costs:?}"
    );
    costs[0]
}

/// The handle: the inline cache plus the task pointer. Goal: at most 32 bytes for
/// `Lazy<u64>`.
#[test]
fn handle_size() {
    let _serial = serial();
    let handle = size_of::<Lazy<u64>>();
    let once_lock = size_of::<std::sync::OnceLock<u64>>();
    let once_cell = size_of::<once_cell::sync::OnceCell<u64>>();
    let task = size_of::<Option<std::sync::Arc<dyn Send + Sync>>>();
    println!("size_of::<Lazy<u64>>()               = {handle} bytes");
    println!(
        "  for reference: std::sync::OnceLock<u64> = {once_lock}, \
         once_cell::sync::OnceCell<u64> = {once_cell}, Option<Arc<dyn ..>> = {task}"
    );
    assert!(
        handle <= 32,
        "Lazy<u64> is {handle} bytes, more than 32 (an inline OnceLock<u64> is {once_lock} \
         and the task pointer {task}; a once_cell OnceCell<u64> would be {once_cell}, see \
         the \"Memory\" section of docs/performance.md)"
    );
}

/// An executor that only keeps its tasks, in room reserved beforehand: spawning on it
/// allocates exactly what the future itself needs, nothing for a thread or a queue.
struct Hold(Mutex<Vec<Runnable>>);

impl Executor for Hold {
    fn execute(&self, task: Runnable) -> std::io::Result<()> {
        self.0.lock().unwrap().push(task);
        Ok(())
    }
}

/// Lets the spawned `held` tasks finish.
static RELEASE: AtomicBool = AtomicBool::new(false);

/// A trivial task that returns only once the measurement has released it.
fn held() -> u64 {
    while !RELEASE.load(SeqCst) {
        thread::yield_now();
    }
    1
}

/// Runs `f` with the held tasks released.
fn release<R>(f: impl FnOnce() -> R) -> R {
    RELEASE.store(true, SeqCst);
    let r = f();
    RELEASE.store(false, SeqCst);
    r
}

/// The heap: a ready future allocates nothing; a spawned one allocates exactly one block
/// of its own, at most 128 bytes beyond the value, on top of what the thread costs.
#[test]
fn heap_cost_of_a_future() {
    let _serial = serial();
    // Warm up once-only initialization that would otherwise be charged to the first
    // measured call.
    assert_eq!(spawn_lazy(|| 1u64).to_string(), "1");
    thread::spawn(|| 1u64).join().unwrap();
    drop(crossbeam_channel::bounded::<u64>(1));

    // A ready future allocates nothing.
    let (ready, ready_cost) = measure(|| Lazy::with_value(5u64));
    assert_eq!(*ready, 5);
    println!("Lazy::with_value(5u64)                    : {ready_cost:?}");

    // spawn_lazy of a trivial closure: the caller-side cost only (the value is read and
    // the handle dropped after counting stops).
    // The spawned threads are held until the window closes: a thread that finished at
    // once would free the parts it shares with its handle inside the measured window.
    let lazy = stable_cost(
        "spawn_lazy",
        || spawn_lazy(held),
        |x| release(|| assert_eq!(*x, 1)),
    );
    println!("spawn_lazy(|| 1u64)                  : {lazy:?}");

    // std::thread::spawn of the same closure: the thread cost every future also pays.
    let std_spawn = stable_cost(
        "thread::spawn",
        || thread::spawn(held),
        |h| release(|| assert_eq!(h.join().unwrap(), 1)),
    );
    println!("std::thread::spawn(|| 1u64)          : {std_spawn:?}");

    let own_allocs = lazy.allocs as isize - std_spawn.allocs as isize;
    let diff_bytes = lazy.bytes as isize - std_spawn.bytes as isize;
    println!(
        "thread-per-task minus std (the difference): {own_allocs} allocation(s), {diff_bytes} \
         bytes (the future's state, plus the 16-byte task pointer std's boxed thread closure \
         now carries)"
    );

    // The future's own state, alone: spawned on an executor that allocates nothing.
    let hold = Hold(Mutex::new(Vec::with_capacity(64)));
    let state = stable_cost(
        "Builder::on(Hold).spawn",
        || Builder::new().on(&hold).spawn(|| 1u64).unwrap(),
        |x| {
            hold.0.lock().unwrap().drain(..).for_each(Runnable::run);
            assert_eq!(*x, 1);
        },
    );
    let own_bytes = state.bytes as isize;
    let beyond_value = own_bytes - size_of::<u64>() as isize;
    println!(
        "future's own state (no thread, no queue): {} allocation(s), {own_bytes} bytes \
         ({beyond_value} bytes beyond size_of::<u64>())",
        state.allocs
    );

    // For comparison: a one-slot channel, the usual hand-made alternative.
    let channel = stable_cost(
        "crossbeam_channel::bounded",
        || crossbeam_channel::bounded::<u64>(1),
        drop,
    );
    println!("crossbeam_channel::bounded::<u64>(1): {channel:?}");

    assert_eq!(ready_cost.allocs, 0, "Lazy::with_value allocates");
    assert_eq!(ready_cost.reallocs, 0, "Lazy::with_value reallocates");
    assert_eq!(lazy.reallocs, 0, "spawn_lazy reallocates");
    assert_eq!(
        own_allocs, 1,
        "thread-per-task should add exactly one allocation to a thread's"
    );
    assert_eq!(
        state.allocs, 1,
        "a future's own state should be exactly one allocation"
    );
    assert!(
        beyond_value <= 128,
        "a future's own state takes {own_bytes} bytes, {beyond_value} beyond the value (> 128); \
         the allocations were {:?} (see the \"Memory\" section of docs/performance.md)",
        state.sizes
    );
}
