//! Executors issue #3, point 8: 100,000 pending futures on a pool (tasks waiting on a
//! gate) take under 25 MB of heap in total, measured with a counting allocator.
//!
//! One test in this binary, so that nothing else allocates while it measures.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use transparent_future::{Lazy, ThreadPool};

/// Counts the bytes currently allocated (live), and the highest count seen.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every method forwards to `System` with the same arguments, so the allocator
// contract is `System`'s; the counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live =
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed) + layout.size() as isize;
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded unchanged; `ptr` came from this allocator with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let delta = new_size as isize - layout.size() as isize;
        let live = LIVE.fetch_add(delta, Ordering::Relaxed) + delta;
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: forwarded unchanged; the caller upholds `realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const FUTURES: usize = 100_000;
const LIMIT: isize = 25 * 1024 * 1024;

#[test]
fn one_hundred_thousand_pending_pool_futures_fit_in_25_mb() {
    let pool = ThreadPool::new(2);
    let gate = Arc::new((Mutex::new(false), Condvar::new()));
    let before = LIVE.load(Ordering::Relaxed);

    let futures: Vec<Lazy<u64>> = (0..FUTURES as u64)
        .map(|i| {
            let gate = Arc::clone(&gate);
            pool.spawn_lazy(move || {
                let (open, cond) = &*gate;
                let mut open = open.lock().unwrap();
                while !*open {
                    open = cond.wait(open).unwrap();
                }
                i
            })
        })
        .collect();
    let pending = LIVE.load(Ordering::Relaxed) - before;
    assert!(
        futures.iter().filter(|f| Lazy::is_ready(f)).count() == 0,
        "no future may finish before the gate opens"
    );

    let (open, cond) = &*gate;
    *open.lock().unwrap() = true;
    cond.notify_all();
    let sum: u64 = futures.iter().map(|f| **f).sum();
    assert_eq!(sum, (0..FUTURES as u64).sum::<u64>());

    println!(
        "{FUTURES} pending pool futures: {:.1} MB of heap ({} bytes each, handles and queue included)",
        pending as f64 / 1e6,
        pending / FUTURES as isize
    );
    assert!(
        pending < LIMIT,
        "{FUTURES} pending futures took {pending} bytes of heap, over {LIMIT}"
    );
    drop(futures);
    drop(pool);
}
