//! Thread-safety markers.
//!
//! `Lazy<T>` is `Send` when `T` is `Send`, and `Sync` when `T` is `Send + Sync`, like the
//! value it wraps; so are `Outcome<T>` and `Lazy<Outcome<T>>` (and, likewise, unwind
//! safety). Checked at compile time
//! with `static_assertions`, and at run time by moving and sharing futures across
//! threads.

use std::cell::Cell;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::rc::Rc;
use std::sync::Arc;
use std::thread;

use static_assertions::{assert_impl_all, assert_not_impl_any};
use transparent_future::{Deadline, Lazy, NoTimeout, Outcome, spawn_lazy, spawn_lazy_with};

assert_impl_all!(Lazy<u64>: Send, Sync);
assert_impl_all!(Lazy<String>: Send, Sync);
assert_impl_all!(Lazy<Vec<u8>>: Send, Sync);
assert_impl_all!(Lazy<Cell<u8>>: Send);
assert_not_impl_any!(Lazy<Cell<u8>>: Sync);
assert_not_impl_any!(Lazy<Rc<u8>>: Send, Sync);
assert_not_impl_any!(Lazy<std::sync::MutexGuard<'static, u8>>: Send);

assert_impl_all!(Outcome<u64>: Send, Sync);
assert_impl_all!(Outcome<Cell<u8>>: Send);
assert_not_impl_any!(Outcome<Cell<u8>>: Sync);
assert_not_impl_any!(Outcome<Rc<u8>>: Send, Sync);

assert_impl_all!(Lazy<Outcome<u64>>: Send, Sync);
assert_impl_all!(Lazy<Outcome<Cell<u8>>>: Send);
assert_not_impl_any!(Lazy<Outcome<Cell<u8>>>: Sync);
assert_not_impl_any!(Lazy<Outcome<Rc<u8>>>: Send, Sync);

// Unwind safety follows the value too, so `catch_unwind(|| *x)` needs no wrapper.
assert_impl_all!(Lazy<u64>: UnwindSafe, RefUnwindSafe);
assert_not_impl_any!(Lazy<Cell<u8>>: RefUnwindSafe);

assert_impl_all!(Deadline: Send, Sync, Copy);
assert_impl_all!(NoTimeout: Send, Sync, Copy);

#[test]
fn a_future_moves_to_another_thread() {
    let x = spawn_lazy(|| String::from("moved"));
    let len = thread::spawn(move || x.len()).join().unwrap();
    assert_eq!(len, 5);
}

#[test]
fn a_send_but_not_sync_value_can_be_moved_and_read() {
    let x = spawn_lazy(|| Cell::new(3_u8));
    let got = thread::spawn(move || {
        x.set(x.get() + 1);
        x.get()
    })
    .join()
    .unwrap();
    assert_eq!(got, 4);
}

#[test]
fn a_future_is_shared_by_reference_between_threads() {
    let x = spawn_lazy(|| vec![1_u64, 2, 3]);
    let sums: Vec<u64> = thread::scope(|s| {
        let readers: Vec<_> = (0..4).map(|_| s.spawn(|| x.iter().sum())).collect();
        readers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    assert_eq!(sums, [6, 6, 6, 6]);

    let shared = Arc::new(spawn_lazy_with(
        Deadline::after(std::time::Duration::MAX),
        || 7,
    ));
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let shared = Arc::clone(&shared);
            thread::spawn(move || *shared == Outcome::Ready(7))
        })
        .collect();
    for h in handles {
        assert!(h.join().unwrap());
    }
}
