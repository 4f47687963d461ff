//! Transparent futures: run a closure on a background thread and use its result as if
//! it were the value. Only the first access blocks.
//!
//! ```
//! use std::time::Duration;
//! use transparent_future::{spawn_lazy, spawn_lazy_with, Deadline, Outcome};
//!
//! fn very_slow_task<T>(arg: T) -> T {
//!     std::thread::sleep(Duration::from_millis(100));
//!     arg
//! }
//!
//! let x = spawn_lazy(|| very_slow_task(1));   // returns at once; the task runs on its own thread
//! let y = spawn_lazy(|| very_slow_task(2));
//! println!("{} {}", *y, x);                   // blocks on first access only; both ran in parallel
//! let total = x + 1;                          // operators work on the future directly
//! assert_eq!(total, 2);
//!
//! let z = spawn_lazy_with(Deadline::after(Duration::from_millis(10)), || very_slow_task("a"));
//! assert!(z == Outcome::Timeout);             // the task took longer than its deadline
//! assert_eq!(z.to_string(), "Timeout");
//! ```
//!
//! This is the Io language's *transparent future*, by way of Python's `pybackground`
//! (2008), brought to Rust with types: a timeout is a value ([`Outcome::Timeout`]), a
//! panic in the task reaches the reader, and the compiler checks what may cross threads.
//!
//! # Using a future as the value
//!
//! [`Lazy<T>`] dereferences to `T`, so method calls, field access and indexing reach the
//! value; it forwards `Display`, comparisons, hashing and the operators (`x + 1`,
//! `1 + x`, `&x * &y`, `-x`, `x += 1`). The first access blocks until the task has
//! returned; every later access costs what a resolved [`OnceLock::get`](std::sync::OnceLock::get)
//! costs: one atomic load.
//!
//! ```
//! use transparent_future::spawn_lazy;
//!
//! struct Page { title: String, words: usize }
//!
//! let page = spawn_lazy(|| Page { title: "Io".into(), words: 1234 });
//! assert_eq!(page.title, "Io");            // field access
//! assert!(page.words > 1000);
//! let name = spawn_lazy(|| String::from("future"));
//! assert_eq!(name.to_uppercase(), "FUTURE"); // the value's own methods
//! let f = spawn_lazy(|| |n: i32| n * 2);
//! assert_eq!((*f)(21), 42);                // a closure held in a future
//! ```
//!
//! `Lazy` is a smart pointer: like [`Arc`](std::sync::Arc) and
//! [`LazyLock`](std::sync::LazyLock), it has no `self` methods that could shadow the
//! value's own. Its operations are associated functions: [`Lazy::wait`],
//! [`Lazy::try_get`], [`Lazy::is_ready`], [`Lazy::wait_timeout`],
//! [`Lazy::wait_deadline`], [`Lazy::into_inner`], [`Lazy::join`], [`Lazy::take_late`].
//!
//! # Timeouts
//!
//! [`spawn_lazy_with`] takes a [`TimeoutPolicy`] ([`Deadline::after`], [`Deadline::at`],
//! [`NoTimeout`] or your own) and returns a `Lazy<Outcome<T>>`. The outcome is
//! [`Outcome::Ready`] exactly when the task published its result no later than the
//! deadline, and [`Outcome::Timeout`] otherwise, whenever the first reader looks. A
//! reader blocked on a late task is released at the deadline. The task keeps running (a
//! thread cannot be killed); its late result can be collected with [`Lazy::take_late`].
//!
//! To bound one wait without deciding the outcome, use [`Lazy::wait_timeout`] or
//! [`Lazy::wait_deadline`]: the future stays pending and can be waited on again.
//!
//! ```
//! use std::time::Duration;
//! use transparent_future::{spawn_lazy, Lazy};
//!
//! let x = spawn_lazy(|| { std::thread::sleep(Duration::from_millis(200)); 5 });
//! assert_eq!(Lazy::wait_timeout(&x, Duration::from_millis(1)), None); // still pending
//! assert_eq!(*x, 5);                                                  // wait for it
//! ```
//!
//! # Panics
//!
//! A panic in the task is caught on its thread. Every access that would return the value
//! (`*x`, `Display`, operators, [`Lazy::wait`]) then panics in the reader with a message
//! that contains the task's panic message; [`Lazy::join`] returns the payload instead,
//! like [`JoinHandle::join`](std::thread::JoinHandle::join), and [`Lazy::try_wait`]
//! returns it as [`WaitError::Panicked`].
//!
//! ```
//! use transparent_future::{spawn_lazy, Lazy};
//!
//! let x = spawn_lazy(|| -> u32 { panic!("disk on fire") });
//! let err = std::panic::catch_unwind(|| *x + 1).unwrap_err();
//! assert!(err.downcast_ref::<String>().unwrap().contains("disk on fire"));
//! ```
//!
//! # Choosing an executor
//!
//! | executor | spawn + first access of a trivial task (2-core VM) | use it for |
//! | --- | --- | --- |
//! | [`ThreadPerTask`] ([`spawn_lazy`]) | 41 µs, a little less than `std::thread::spawn` + `join` (56 µs) | a few slow or blocking calls; the seed's strategy |
//! | [`ThreadPool`] (`pool.spawn_lazy`) | 0.67 µs (`rayon::spawn` + a channel: 2.8 µs); 3 M tasks/s | many small tasks; nested futures (work-helping) |
//! | [`RayonGlobal`] / `rayon::ThreadPool` (feature `rayon`) | as `rayon::spawn` | sharing threads with rayon's data parallelism |
//! | [`scope`] | a thread per task | tasks that borrow from the stack |
//! | your own [`Executor`] | whatever it costs | a runtime you already have |
//!
//! Every behaviour of `Lazy` (timeouts, panics, operators, drops) is the same on every
//! executor, and the resolved access costs the same: the executor is not on that path.
//! Measured figures are in `docs/performance.md`.
//!
//! ```
//! use transparent_future::{spawn_lazy_on, Builder, ThreadPerTask, ThreadPool};
//!
//! let pool = ThreadPool::new(2);                         // named workers, work-helping
//! let a = pool.spawn_lazy(|| 1);
//! let b = spawn_lazy_on(&ThreadPerTask, || 2);          // any executor
//! let c = Builder::new().name("io".into()).spawn(|| 3)?; // a configured thread
//! assert_eq!(a + b + *c, 6);
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! [`ThreadPerTask`] caps the number of live threads (derived from the system's limits)
//! so that too many threads is an [`io::Error`](std::io::Error) from
//! [`try_spawn_lazy`] or the [`Builder`], never the process abort std gives past the
//! memory-map limit. Cooperative cancellation ([`spawn_lazy_cancellable`],
//! [`CancelToken`], [`Lazy::cancel`]) answers the seed's warning that a timed-out task
//! cannot be killed: it cannot, but it can be asked to stop.
//!
//! # Composition
//!
//! * **Decorator form**: [`background!`] turns `fn` items and methods into functions
//!   returning `Lazy`; [`background()`] does it for a closure.
//! * **Chaining**: [`Lazy::map`] and [`Lazy::then`] run their closure on the thread that
//!   finishes the upstream task; no thread waits in between. [`Lazy::map_ready`] and
//!   [`Lazy::then_ready`] pass a timeout through and keep the deadline.
//! * **Many futures**: [`Lazy::all`] (order kept, first panic wins), [`first_ready`],
//!   [`first_ready_deadline`], [`as_completed`], and [`Lazy::all_with`] /
//!   [`first_ready_with`] for one deadline shared by a group.
//! * **Sharing**: [`Lazy::share`] gives a [`SharedLazy`], a cheap `Clone` handle that is
//!   as transparent as `Lazy`; a panic reaches every clone.
//! * **Async**: `Lazy<T>`, `&Lazy<T>` and `SharedLazy<T>` implement
//!   `std::future::IntoFuture`, so async code can `.await` a background
//!   value without blocking its executor. No async runtime is a dependency.
//!
//! ```
//! use std::time::Duration;
//! use transparent_future::{as_completed, first_ready, spawn_lazy, Lazy};
//!
//! let words = spawn_lazy(|| "a transparent future".to_string());
//! let count = Lazy::map(words, |w| w.split(' ').count());       // chaining
//! let parts = Lazy::all((1..=3).map(|i| spawn_lazy(move || i))); // many at once
//! assert_eq!(*count + parts.len(), 6);
//!
//! let racers = [50, 5].map(|ms| spawn_lazy(move || {
//!     std::thread::sleep(Duration::from_millis(ms));
//!     ms
//! }));
//! assert_eq!(first_ready(&racers).0, 1);                         // the fastest
//! let done: Vec<u64> = as_completed(racers).map(|(_, f)| *f).collect();
//! assert_eq!(done, [5, 50]);                                     // in completion order
//! ```
//!
//! # Deadlock detection
//!
//! The seed's author envied Io its deadlock detection; this crate has one that works. A
//! thread about to block without a limit on a future follows the chain "this future is
//! computed by that thread, which waits on that future, ..."; if the chain comes back
//! to the waiting thread, the wait would never end, and it is refused: implicit accesses
//! panic with a message naming the cycle, and [`Lazy::try_wait`] returns
//! [`WaitError::Deadlock`] with the [`Cycle`] as data. The future stays pending and
//! usable. [`debug::waits`] shows who waits on whom right now.
//!
//! ```
//! use std::sync::{Arc, OnceLock};
//! use transparent_future::{spawn_lazy, Lazy, SharedLazy, WaitError};
//!
//! // A task that waits on its own result can never finish: the wait is refused.
//! let slot: Arc<OnceLock<SharedLazy<&str>>> = Arc::default();
//! let own = Arc::clone(&slot);
//! let x = Lazy::share(spawn_lazy(move || {
//!     let me = own.wait();
//!     match Lazy::try_wait(SharedLazy::as_lazy(me)) {
//!         Err(WaitError::Deadlock(_)) => "refused",
//!         _ => "waited",
//!     }
//! }));
//! slot.set(x.clone()).unwrap();
//! assert_eq!(*x, "refused");
//! ```
//!
//! Only waits without a limit take part (a wait with a deadline ends by itself), and
//! the check runs only when a thread is about to sleep: the resolved access does not
//! change. Waits inside [`first_ready`], [`as_completed`] and `.await` are not in the
//! graph. See `docs/reliability.md` for the coverage and its limits.
//!
//! # Memory ordering
//!
//! Everything the task did before returning *happens-before* the return of any access
//! that observes its result, in any thread: the task publishes its result under a mutex
//! that every reader acquires before it first sees the value, and the handle's cache is
//! a `OnceLock` whose initialization happens-before every `get` that observes it. A
//! reader needs no further synchronization to see the task's writes. The same holds for
//! continuations (`map`, `then`, `all`): a continuation's closure sees everything its
//! upstream task wrote, and its readers see everything the continuation wrote.
//!
//! # Threads, drops and leaks
//!
//! [`spawn_lazy`] starts one thread per call, the seed's default strategy; the thread
//! ends when the task returns. The only thread the crate keeps is a deadline timer,
//! started when a callback (a continuation, a combinator or an `.await`) watches a
//! future with a deadline, and ended after a second with nothing to do. Dropping a pending `Lazy` never blocks: the task runs to
//! completion and its value is dropped on the task's thread. Every value is dropped
//! exactly once, including late values and values nobody read.
//!
//! `Lazy<T>` is `Send` when `T: Send` and `Sync` when `T: Send + Sync`; a closure that
//! returns a non-`Send` value (an `Rc`, say) is refused at compile time:
//!
//! ```compile_fail
//! let x = transparent_future::spawn_lazy(|| std::rc::Rc::new(5));
//! ```
//!
//! # Comparisons and operators with your own types
//!
//! The future on the left works with any type: `Lazy<Money> + Money`,
//! `lazy_money == money`. The value on the left (`Money + Lazy<Money>`), and so
//! future-with-future, needs impls that Rust's coherence rules leave to the crate that
//! owns `Money`; [`impl_reverse_ops!`] writes them. The primitives and `String` have
//! them built in, and with them `Eq`, `Ord` and `Hash` for their futures.
//!
//! # FAQ
//!
//! **Why not `std::thread::spawn` and `JoinHandle`?** A `JoinHandle` must be joined by
//! value, once, by one owner. A `Lazy` is read by reference, any number of times, from
//! any number of threads, and it is the value for every other purpose.
//!
//! **Why do `x.as_ref()` and `x.borrow()` reach the handle, not the value?** `Lazy`
//! implements `AsRef<T>` and `Borrow<T>` (as `Arc` does), and method lookup finds those
//! before the value's own `as_ref`. Write `(*x).as_ref()` for the value's.
//!
//! **Why does `Debug` not block?** So that logging a future never deadlocks; it shows
//! `Lazy(<pending>)` until the value is there. `Display` blocks, as transparency demands.
//!
//! **Can a timed-out task be stopped?** Not by force: a thread cannot be killed safely.
//! The outcome stops waiting for it; the task finishes in the background.
//!
//! # Related crates
//!
//! * [`std::thread::spawn`] and `JoinHandle`: the primitive underneath.
//! * `poll-promise`: a promise polled from a UI loop, not a transparent value.
//! * `futures::future::Shared`: shares an async result; [`SharedLazy`] is its
//!   thread-backed, transparent counterpart, and also delivers a panic to every clone.
//! * `rayon`: data parallelism on a pool; `rayon::spawn` returns nothing.
//! * `oneshot`, `crossbeam-channel`: the hand-off only, without the proxy.
//! * `once_cell` / `std::sync::OnceLock`: the cache that makes the resolved access free.
//!
//! The design (state diagram, the race between a task and a deadline, the
//! happens-before argument) is in `docs/design.md` of the repository.

#![forbid(unsafe_code)]
#![warn(missing_docs, rust_2018_idioms, unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

mod builder;
mod cancel;
mod chain;
mod deadlock;
mod decorator;
mod error;
mod executor;
mod future;
mod lazy;
mod many;
mod ops;
mod outcome;
mod panic;
mod policy;
mod pool;
#[cfg(feature = "rayon")]
mod rayon;
mod scope;
mod shared;
mod spawn;
mod state;
mod task;
mod thread_per_task;
mod timer;
mod traits;

pub use crate::builder::Builder;
pub use crate::cancel::CancelToken;
pub use crate::deadlock::debug;
pub use crate::decorator::background;
pub use crate::error::{Cycle, CycleLink, WaitError};
pub use crate::executor::{Executor, FollowUpHome, Runnable};
pub use crate::future::{LazyFuture, LazyRefFuture, SharedLazyFuture};
pub use crate::lazy::Lazy;
pub use crate::many::{
    AsCompleted, as_completed, first_ready, first_ready_deadline, first_ready_with,
};
pub use crate::outcome::Outcome;
pub use crate::policy::{Deadline, NoTimeout, TimeoutPolicy};
pub use crate::pool::ThreadPool;
#[cfg(feature = "rayon")]
pub use crate::rayon::RayonGlobal;
pub use crate::scope::{Scope, scope};
pub use crate::shared::SharedLazy;
pub use crate::spawn::{
    spawn_lazy, spawn_lazy_cancellable, spawn_lazy_cancellable_on, spawn_lazy_cancellable_with,
    spawn_lazy_cancellable_with_on, spawn_lazy_on, spawn_lazy_with, spawn_lazy_with_on,
    try_spawn_lazy, try_spawn_lazy_on, try_spawn_lazy_with, try_spawn_lazy_with_on,
};
pub use crate::thread_per_task::ThreadPerTask;
