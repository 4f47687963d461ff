//! Memory costs, measured with a counting global allocator: the heap a future puts on
//! its caller's thread, the heap that many pending pool futures take, and the heap
//! that repeated watches of futures with a deadline leave (`timer_heap`).
//!
//! The allocator is process-wide, so it is the only one of this binary and every test
//! here holds `support::serial()` while it takes its figures.
//!
//! `Counting` wraps `System` and keeps two sets of figures:
//!
//! * per thread, on demand: while the thread-local flag `COUNTING` is set on the
//!   allocating thread, it counts allocations, bytes, reallocations and deallocations,
//!   and logs the sizes of the first few allocations (`future_cost`);
//! * always: the bytes currently allocated (`LIVE`) and the highest figure seen
//!   (`PEAK`), over all threads (`pending_pool_heap`).

#[path = "../support/mod.rs"]
mod support;

mod future_cost;
mod pending_pool_heap;
mod timer_heap;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering::Relaxed};

/// `System`, counting the allocations made on a thread while its `COUNTING` is set,
/// and the live bytes of the whole process.
struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);
static REALLOCS: AtomicUsize = AtomicUsize::new(0);
static DEALLOCS: AtomicUsize = AtomicUsize::new(0);

/// The sizes of the first counted allocations of a measured call (the rest are only
/// counted), to show where the bytes go.
const LOGGED: usize = 8;
static SIZES: [AtomicUsize; LOGGED] = [const { AtomicUsize::new(0) }; LOGGED];
static LOG_FROM: AtomicUsize = AtomicUsize::new(0);

/// The bytes currently allocated (live) by the whole process, and the highest count
/// seen.
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

thread_local! {
    // `const`-initialized and without a destructor: reading it never allocates and
    // works at any point of a thread's life, so it is safe to use inside the allocator.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn counting() -> bool {
    COUNTING.try_with(Cell::get).unwrap_or(false)
}

/// Counts one allocation of `size` bytes, and logs its size if there is room.
fn record(size: usize) {
    let n = ALLOCS.fetch_add(1, Relaxed);
    BYTES.fetch_add(size, Relaxed);
    if let Some(slot) = SIZES.get(n.wrapping_sub(LOG_FROM.load(Relaxed))) {
        slot.store(size, Relaxed);
    }
}

/// Adds `delta` bytes to the live count and raises the peak if needed.
fn live(delta: isize) {
    let now = LIVE.fetch_add(delta, Relaxed) + delta;
    PEAK.fetch_max(now, Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees (and the caller's obligations) carry over; the counting touches
// only atomics and a const thread-local, and never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if counting() {
            record(layout.size());
        }
        live(layout.size() as isize);
        // SAFETY: forwarded as is; the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if counting() {
            record(layout.size());
        }
        live(layout.size() as isize);
        // SAFETY: forwarded as is; the caller upholds `alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if counting() {
            REALLOCS.fetch_add(1, Relaxed);
            BYTES.fetch_add(new_size.saturating_sub(layout.size()), Relaxed);
        }
        live(new_size as isize - layout.size() as isize);
        // SAFETY: forwarded as is; `ptr` was allocated by `System` through this
        // allocator with `layout`, as the caller guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if counting() {
            DEALLOCS.fetch_add(1, Relaxed);
        }
        LIVE.fetch_sub(layout.size() as isize, Relaxed);
        // SAFETY: forwarded as is; `ptr` was allocated by `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;
