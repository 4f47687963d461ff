//! Transparent futures: run a closure in the background and use its result as if it
//! were the value. Only the first access blocks.
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
//! # The crate in one minute
//!
//! * **Start** a future with [`spawn_lazy`] (a thread per task) or
//!   [`spawn_lazy_with`] (with a deadline); on a pool with [`ThreadPool::spawn_lazy`];
//!   borrowing from the stack inside [`scope`]; or with every option at once through
//!   [`Builder`] (executor, deadline, name, stack size, cancellation, scoped), whose
//!   spawn methods return an [`io::Result`](std::io::Result) instead of panicking.
//!   [`background!`] and [`background()`] turn functions into ones that return futures.
//! * **Read** it as the value: `*x`, `x.len()`, `x + 1`, `x == 3`, `println!("{x}")`.
//!   [`Lazy::get`] peeks without blocking, [`Lazy::is_done`] asks whether the outcome is
//!   decided, [`Lazy::try_wait`], [`Lazy::wait_timeout`] and [`Lazy::wait_deadline`]
//!   return a [`WaitError`] instead of panicking.
//! * **Complete** a future from anywhere: [`Lazy::promise`] gives a [`Promise`] that
//!   any thread sets once (a callback, an event loop); a dropped one fails its readers
//!   as a broken promise instead of leaving them waiting.
//! * **Combine** futures: [`Lazy::map`], [`Lazy::then`], [`Lazy::handle`] (sees
//!   failures too), [`Lazy::timeout`], [`Lazy::all`], [`Lazy::all_settled`],
//!   [`first_done`], [`as_completed`], [`SharedLazy`] for many owners and many
//!   continuations, and `.await` (module [`future`]).
//! * **Serve** a state from one worker: an [`Actor`] runs your calls on it one at a
//!   time, in order, each returning a future at once (Io's `@`).
//! * **Choose where it runs**: the [`executor`] module (thread per task, rayon, your
//!   own [`Executor`](executor::Executor)) and [`ThreadPool`].
//! * **Debug** a hang: a wait that would close a cycle of waits is refused, naming the
//!   cycle; [`debug::waits`] shows who waits on whom.
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
//! value's own. Its operations are associated functions, each with one meaning:
//!
//! | you want | write | returns |
//! | --- | --- | --- |
//! | the value, waiting if needed | `*x`, [`Lazy::wait`] | `&T`; panics if the task panicked |
//! | the value if it is there now | [`Lazy::get`] | `Option<&T>`, never blocks |
//! | whether the outcome is decided | [`Lazy::is_done`] | `bool`, never blocks |
//! | to wait without panicking | [`Lazy::try_wait`] | `Result<&T, WaitError>` |
//! | to wait at most a while | [`Lazy::wait_timeout`], [`Lazy::wait_deadline`] | `Result<&T, WaitError>` (`Timeout` if not there) |
//! | the value by value | [`Lazy::into_inner`], [`Lazy::join`] | `T`; `join` gives the panic payload |
//!
//! "Done" means decided: the value arrived, the deadline passed, or the task panicked.
//! "Ready" means only [`Outcome::Ready`]: the value arrived in time.
//!
//! # Timeouts
//!
//! [`spawn_lazy_with`] (or [`Builder::timeout`]) takes a [`TimeoutPolicy`]
//! ([`Deadline::after`], [`Deadline::at`], [`NoTimeout`] or your own) and gives a
//! `Lazy<Outcome<T>>`. The outcome is [`Outcome::Ready`] exactly when the task published
//! its result no later than the deadline, and [`Outcome::Timeout`] otherwise, whenever
//! the first reader looks. A reader blocked on a late task is released at the deadline.
//! The task keeps running (a thread cannot be killed); its late result can be collected
//! with [`Lazy::take_late`].
//!
//! To bound one wait without deciding the outcome, use [`Lazy::wait_timeout`] or
//! [`Lazy::wait_deadline`]: the future stays pending and can be waited on again.
//!
//! ```
//! use std::time::Duration;
//! use transparent_future::{spawn_lazy, Lazy, WaitError};
//!
//! let x = spawn_lazy(|| { std::thread::sleep(Duration::from_millis(200)); 5 });
//! assert_eq!(Lazy::wait_timeout(&x, Duration::from_millis(1)), Err(WaitError::Timeout));
//! assert_eq!(*x, 5);                                              // wait for it
//! ```
//!
//! # Panics
//!
//! A panic in the task is caught on its thread. Every access that would return the value
//! (`*x`, `Display`, operators, [`Lazy::wait`]) then panics in the reader with a message
//! that contains the task's panic message. The checked waits return
//! [`WaitError::Panicked`] with a [`TaskPanic`] that lends the original payload by
//! reference, to every reader and every [`SharedLazy`] clone; [`Lazy::join`] returns the
//! payload by value, like [`JoinHandle::join`](std::thread::JoinHandle::join).
//!
//! ```
//! use transparent_future::{spawn_lazy, Lazy, WaitError};
//!
//! let x = spawn_lazy(|| -> u32 { panic!("disk on fire") });
//! let err = std::panic::catch_unwind(|| *x + 1).unwrap_err();
//! assert!(err.downcast_ref::<String>().unwrap().contains("disk on fire"));
//! let Err(WaitError::Panicked(panic)) = Lazy::try_wait(&x) else { unreachable!() };
//! assert_eq!(panic.payload().downcast_ref::<&str>(), Some(&"disk on fire"));
//! ```
//!
//! # Spawning: one path, many options
//!
//! [`Builder`] is the one way a task starts; the shorthands are sugar over it, as
//! [`std::thread::spawn`] is over [`std::thread::Builder`].
//!
//! | shorthand (panics if refused) | the builder form (returns `io::Result`) |
//! | --- | --- |
//! | [`spawn_lazy(f)`](spawn_lazy) | `Builder::new().spawn(f)` |
//! | [`spawn_lazy_with(policy, f)`](spawn_lazy_with) | `Builder::new().timeout(policy).spawn(f)` |
//! | [`pool.spawn_lazy(f)`](ThreadPool::spawn_lazy) | `Builder::new().on(&pool).spawn(f)` |
//! | [`pool.spawn_lazy_with(policy, f)`](ThreadPool::spawn_lazy_with) | `Builder::new().on(&pool).timeout(policy).spawn(f)` |
//! | [`s.spawn_lazy(f)`](Scope::spawn_lazy) inside [`scope`] | `Builder::new().spawn_scoped(s, f)` |
//! | — | `Builder::new().spawn_cancellable(\|token\| ..)`, with any of the options above |
//!
//! ```
//! use std::time::Duration;
//! use transparent_future::{Builder, Deadline, Outcome, ThreadPool};
//! use transparent_future::executor::ThreadPerTask;
//!
//! let pool = ThreadPool::new(2);                          // named workers, work-helping
//! let a = pool.spawn_lazy(|| 1);
//! let b = Builder::new().on(&ThreadPerTask).spawn(|| 2)?; // any executor
//! let c = Builder::new().name("io").stack_size(256 * 1024).spawn(|| 3)?;
//! let d = Builder::new()
//!     .on(&pool)
//!     .timeout(Deadline::after(Duration::from_secs(30)))
//!     .spawn_cancellable(|token| if token.is_cancelled() { 0 } else { 4 })?;
//! assert_eq!(a + b + *c, 6);
//! assert_eq!(*d, Outcome::Ready(4));
//! # Ok::<(), std::io::Error>(())
//! ```
//!
#![cfg_attr(feature = "process", doc = include_str!("../docs/isolating.md"))]
#![cfg_attr(
    not(feature = "process"),
    doc = "# Isolating work in a process\n\nThe `process` feature (Linux) runs a plain \
           `fn(A) -> T` in a child process that is killed at its deadline and whose \
           crash is an error for its readers; build with it to see this section.\n"
)]
//!
//! # Choosing an executor
//!
//! | executor | spawn + first access of a trivial task (2-core VM) | use it for |
//! | --- | --- | --- |
//! | [`ThreadPerTask`](executor::ThreadPerTask) ([`spawn_lazy`]) | a little less than `std::thread::spawn` + `join` | a few slow or blocking calls; the seed's strategy |
//! | [`ThreadPool`] (`pool.spawn_lazy`) | under a microsecond, about fifty times less | many small tasks; nested futures (work-helping) |
//! | `RayonGlobal` / `rayon::ThreadPool` (feature `rayon`, in [`executor`]) | as `rayon::spawn` | sharing threads with rayon's data parallelism |
//! | [`scope`] | a thread per task | tasks that borrow from the stack |
//! | your own [`Executor`](executor::Executor) | whatever it costs | a runtime you already have |
//!
//! Every behaviour of `Lazy` (timeouts, panics, operators, drops) is the same on every
//! executor, and the resolved access costs the same: the executor is not on that path.
//! Measured figures are in `docs/performance.md` of the repository.
//!
//! Thread per task caps the number of live threads (derived from the system's limits)
//! so that too many threads is an [`io::Error`](std::io::Error) from the [`Builder`],
//! never the process abort std gives past the memory-map limit. Cooperative
//! cancellation ([`Builder::spawn_cancellable`], [`CancelToken`], [`Lazy::cancel`])
//! answers the seed's warning that a timed-out task cannot be killed: it cannot, but it
//! can be asked to stop.
//!
//! # Composition
//!
//! * **Decorator form**: [`background!`] turns `fn` items and methods into functions
//!   returning `Lazy`; [`background()`] does it for a closure.
//! * **Chaining**: [`Lazy::map`] and [`Lazy::then`] run their closure on the thread that
//!   finishes the upstream task; no thread waits in between. [`Lazy::map_ready`] and
//!   [`Lazy::then_ready`] map a value that arrived in time, pass a timeout through and
//!   keep the deadline.
//! * **Many futures**: [`Lazy::all`] (order kept, first panic wins), [`first_done`],
//!   [`first_done_timeout`], [`first_done_deadline`], [`as_completed`], and
//!   [`Lazy::all_with`] for one deadline shared by a group.
//! * **Failures and deadlines**: [`Lazy::handle`] runs however its input ended (value,
//!   panic with its payload, broken promise; a timeout is a value) and can recover;
//!   [`Lazy::recover`] replaces only a failure. [`Lazy::timeout`] puts a deadline on a
//!   future that is already running. [`Lazy::all_settled`] waits for every member of a
//!   group however each ends; [`AsCompleted::timeout`] bounds an `as_completed`
//!   iteration and reports how many were left.
//! * **Sharing**: [`Lazy::share`] gives a [`SharedLazy`], a cheap `Clone` handle that is
//!   as transparent as `Lazy`; a panic reaches every clone. [`SharedLazy::map`],
//!   [`SharedLazy::then`] and [`SharedLazy::handle`] hang several continuations on one
//!   future; awaiting or [unwrapping](SharedLazy::unwrap_or_clone) the last handle
//!   moves the value out instead of cloning it.
//! * **Async**: `Lazy<T>`, `&Lazy<T>` and `SharedLazy<T>` implement
//!   `std::future::IntoFuture` (the [`future`] module), so async code can `.await` a
//!   background value without blocking its executor. No async runtime is a dependency.
//!
//! ```
//! use std::time::Duration;
//! use transparent_future::{as_completed, first_done, spawn_lazy, Lazy};
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
//! assert_eq!(first_done(&racers).0, 1);                          // the fastest
//! let done: Vec<u64> = as_completed(racers).map(|(_, f)| *f).collect();
//! assert_eq!(done, [5, 50]);                                     // in completion order
//! ```
//!
//! # Promises: a future someone else completes
//!
//! [`Lazy::promise`] returns a [`Promise<T>`] and the [`Lazy<T>`] it completes. The
//! future is like any other (operators, combinators, `.await`, `Debug`); the promise
//! travels to whoever will have the value and is consumed by [`Promise::set`], so it
//! completes the future at most once. Dropped unset, it fails the future as a broken
//! promise: checked waits return [`WaitError::Broken`], implicit accesses panic with
//! `broken promise: ...`. [`Lazy::promise_with`] adds a deadline with the rules of a
//! task's; a value set after it comes back to the setter as `Err(value)`.
//!
//! ```
//! use std::time::Duration;
//! use transparent_future::{Deadline, Lazy, Outcome, WaitError};
//!
//! // A callback API, bridged: the callback completes the promise.
//! fn on_reply(callback: impl FnOnce(String) + Send + 'static) {
//!     std::thread::spawn(move || callback("pong".into()));
//! }
//! let (promise, reply) = Lazy::promise();
//! on_reply(move |text| { let _ = promise.set(text); });
//! assert_eq!(*reply, "pong");
//!
//! let (dropped, never) = Lazy::<u8>::promise();
//! drop(dropped);
//! assert!(matches!(Lazy::try_wait(&never), Err(WaitError::Broken(_))));
//!
//! let (late, x) = Lazy::promise_with(Deadline::after(Duration::from_millis(5)));
//! assert_eq!(*x, Outcome::Timeout);
//! assert_eq!(late.set(1), Err(1)); // the late value is the setter's again
//! ```
//!
//! # Actors
//!
//! Io turns an object into an actor with `@`: its messages queue up and run one at a
//! time on the object's own coroutine, each answering with a transparent future. An
//! [`Actor<S>`] is that, with threads: it owns a state on one worker (a thread of its
//! own with [`Actor::new`], or any executor with [`Actor::on`]); [`Actor::call`] sends
//! a closure that gets `&mut S` and returns a `Lazy` of its result at once. Calls run
//! one at a time, in the order each caller sent them; the handle is `Clone`, `Send`
//! and `Sync`. A call that panics fails its own readers and the actor serves on;
//! [`Actor::stop`] hands the state back; a call that waits on a later call of its own
//! actor is a deadlock the detector names.
//!
//! ```
//! use transparent_future::{Actor, Lazy};
//!
//! let cache = Actor::new(std::collections::HashMap::new());
//! cache.call(|m| m.insert("io", 1994));
//! let year = cache.call(|m| m.get("io").copied());
//! assert_eq!(*year, Some(1994));
//! let state = Lazy::into_inner(cache.stop());
//! assert_eq!(state.len(), 1);
//! ```
//!
//! # Coming from another library
//!
//! You want X, write Y. `x` is a `Lazy<T>`, `s` a [`SharedLazy<T>`], `pool` a
//! [`ThreadPool`], `d` a `Duration` (or any [`TimeoutPolicy`]).
//!
//! | Java `CompletableFuture` | here |
//! | --- | --- |
//! | `supplyAsync(f)`, `supplyAsync(f, executor)` | [`spawn_lazy(f)`](spawn_lazy), `Builder::new().on(&pool).spawn(f)` |
//! | `new CompletableFuture<>()`, `complete(v)` | `let (p, x) = Lazy::promise();`, [`p.set(v)`](Promise::set) |
//! | `join()`, `get()`, `get(timeout)` | `*x`, [`Lazy::try_wait`], [`Lazy::wait_timeout`] |
//! | `isDone()`, `getNow(v)` | [`Lazy::is_done`], `Lazy::get(&x).unwrap_or(&v)` |
//! | `thenApply(f)`, `thenCompose(f)` | [`Lazy::map`], [`Lazy::then`] |
//! | `thenApply` twice on one stage | [`SharedLazy::map`] on `Lazy::share(x)` |
//! | `handle(fn)`, `whenComplete(fn)` | [`Lazy::handle`] |
//! | `exceptionally(fn)` | [`Lazy::recover`] |
//! | `orTimeout(d)` | [`Lazy::timeout(x, d)`](Lazy::timeout) |
//! | `completeOnTimeout(v, d)` | `Lazy::map(Lazy::timeout(x, d), \|o\| o.unwrap_or(v))` |
//! | `allOf(..)`, `anyOf(..)` | [`Lazy::all_settled`] (or [`Lazy::all`]), [`first_done`] |
//! | `cancel(true)` | [`Lazy::cancel`] (cooperative, see [`CancelToken`]) |
//!
//! | Python `concurrent.futures` | here |
//! | --- | --- |
//! | `ThreadPoolExecutor(max_workers, thread_name_prefix)` | `ThreadPool::builder().workers(n).name_prefix(p).build()` |
//! | `executor.submit(fn)` | [`pool.spawn_lazy(f)`](ThreadPool::spawn_lazy) |
//! | `Future()`, `set_result(v)` | [`Lazy::promise`], [`Promise::set`] |
//! | `result()`, `result(timeout)` | `*x`, [`Lazy::wait_timeout`] |
//! | `exception()` | `Lazy::try_wait(&x)` → `Err(WaitError::Panicked(p))` |
//! | `done()` | [`Lazy::is_done`] |
//! | `add_done_callback(fn)` | [`Lazy::handle`] |
//! | `as_completed(fs)`, `as_completed(fs, timeout)` | [`as_completed(fs)`](as_completed), [`as_completed(fs).timeout(t)`](AsCompleted::timeout) |
//! | `wait(fs, return_when=ALL_COMPLETED)` | [`Lazy::all_settled`] |
//! | `wait(fs, return_when=FIRST_COMPLETED)` | [`first_done`] |
//! | `shutdown(wait=False)`, `shutdown(wait=True)` | [`pool.shutdown()`](ThreadPool::shutdown), `Lazy::wait(&pool.shutdown())` |
//!
//! | C++ `<future>` | here |
//! | --- | --- |
//! | `std::async(f)` | [`spawn_lazy(f)`](spawn_lazy) |
//! | `std::promise<T>`, `get_future()`, `set_value(v)` | `let (p, x) = Lazy::promise();`, [`p.set(v)`](Promise::set) |
//! | `future_errc::broken_promise` | [`WaitError::Broken`] ([`BrokenPromise`]) |
//! | `get()`, `wait_for(d)` | [`Lazy::into_inner`] or `*x`, [`Lazy::wait_timeout`] |
//! | `std::shared_future` | [`SharedLazy`] |
//!
//! | futures-rs and tokio | here |
//! | --- | --- |
//! | `oneshot::channel()` | [`Lazy::promise`]: the receiver is a value as well as a future |
//! | `FutureExt::shared()`, `Shared` | [`Lazy::share`], [`SharedLazy`] (the last handle's `.await` moves the value) |
//! | `map`, `then` | [`Lazy::map`], [`Lazy::then`] |
//! | `join_all`, `select_all` | [`Lazy::all`], [`first_done`] |
//! | `catch_unwind()` | [`Lazy::handle`], or [`Lazy::try_wait`] → `WaitError::Panicked` |
//! | `tokio::time::timeout(d, f)` | [`Lazy::timeout(x, d)`](Lazy::timeout) |
//!
//! | actors | here |
//! | --- | --- |
//! | Io's `obj @method(args)` | `actor.call(\|obj\| obj.method(args))` |
//! | Erlang's `gen_server:call(Pid, Req)`, with a timeout | [`actor.call(f)`](Actor::call), [`actor.call_with(Deadline::after(t), f)`](Actor::call_with) |
//! | actix's `addr.send(msg)`, ractor's `call!` | [`actor.call(f)`](Actor::call) |
//! | `gen_server:stop`, taking the state back | [`actor.stop()`](Actor::stop) |
//!
//! # Deadlock detection
//!
//! The seed's author envied Io its deadlock detection; this crate has one that works. A
//! thread about to block without a limit on a future follows the chain "this future is
//! computed by that thread, which waits on that future, ..."; if the chain comes back
//! to the waiting thread, the wait would never end, and it is refused: implicit accesses
//! panic with a message naming the cycle, and [`Lazy::try_wait`] returns
//! [`WaitError::Deadlock`] with the [`Cycle`](debug::Cycle) as data. The future stays
//! pending and usable. [`debug::waits`] shows who waits on whom right now. A task's
//! [`Builder::name`] labels it in both.
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
//!     match SharedLazy::try_wait(me) {
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
//! change. Waits inside [`first_done`], [`as_completed`] and `.await` are not in the
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
//! future with a deadline, and ended after a second with nothing to do. Dropping a
//! pending `Lazy` never blocks: the task runs to completion and its value is dropped on
//! the task's thread. Every value is dropped exactly once, including late values and
//! values nobody read.
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
//! **Why is the cache a `std::sync::OnceLock` and not `once_cell`?** `OnceLock` *is*
//! `once_cell::sync::OnceCell`, upstreamed into the standard library; using std's saves
//! a dependency. `once_cell` stays the benchmarks' anchor: the resolved access is
//! measured against `OnceCell::get`, and matches it.
//!
//! **Why do `x.as_ref()` and `x.borrow()` reach the handle, not the value?** `Lazy`
//! implements `AsRef<T>` and `Borrow<T>` (as `Arc` does), and method lookup finds those
//! before the value's own `as_ref`. Write `(*x).as_ref()` for the value's.
//!
//! **Why does `Debug` not block?** So that logging a future never deadlocks; it shows
//! `Lazy(<pending>)` until the value is there. `Display` blocks, as transparency demands.
//!
//! **Can a timed-out task be stopped?** Not by force: a thread cannot be killed safely.
//! The outcome stops waiting for it; the task finishes in the background. A cancellable
//! task ([`Builder::spawn_cancellable`]) sees the deadline on its [`CancelToken`].
//!
//! **Where does a pool task run?** Often on the thread that reads its future (see
//! [`ThreadPool`]): thread names and thread-locals inside pool tasks are not the
//! worker's.
//!
//! # Related crates
//!
//! * [`std::thread::spawn`] and `JoinHandle`: the primitive underneath.
//! * `poll-promise`: a promise polled from a UI loop, not a transparent value; its
//!   `Sender` is our [`Promise`].
//! * `futures::future::Shared`: shares an async result; [`SharedLazy`] is its
//!   thread-backed, transparent counterpart, and also delivers a panic to every clone.
//! * `rayon`: data parallelism on a pool; `rayon::spawn` returns nothing.
//! * `oneshot`, `crossbeam-channel`: the hand-off only, without the proxy
//!   (`crossbeam-channel` is this crate's queue and the model for its waits:
//!   `recv_timeout` / `recv_deadline` became [`Lazy::wait_timeout`] /
//!   [`Lazy::wait_deadline`]).
//! * `once_cell` / `std::sync::OnceLock`: the cache that makes the resolved access free.
//! * `static_assertions`: checks at compile time which types are `Send` and `Sync`.
//!
//! The design (layers, the state machine, the race between a task and a deadline, the
//! happens-before argument, the lock order) is in `docs/design.md` of the repository.

// No `unsafe` anywhere: forbidden outright, except with the feature `process`, where the
// one module that names a `fn` in a child process (`process/ident.rs`) allows it for two
// documented casts and the rest of the crate still denies it.
#![cfg_attr(not(feature = "process"), forbid(unsafe_code))]
#![cfg_attr(feature = "process", deny(unsafe_code))]
#![warn(missing_docs, rust_2018_idioms, unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

// The layers, listed alphabetically (rustfmt's order). Bottom first they are: deadlock,
// core, lazy, executor, compose, spawn, then actor and process on top; each uses only
// the layers below it (see docs/design.md, checked in CI).
mod actor; // objects with a worker of their own: Actor, calls, mailboxes
mod compose; // futures from futures: map/then, all, first_done, as_completed, .await
mod core; // the engine: state machine, task, jobs and homes, threads, timer
mod deadlock; // the wait-for registry and cycle search
pub mod executor; // where tasks run: the Executor trait, thread per task, pool, rayon
mod lazy; // the handle and its vocabulary: Lazy, SharedLazy, Outcome, policies, errors
#[cfg(feature = "process")]
#[cfg_attr(docsrs, doc(cfg(feature = "process")))]
pub mod process; // futures computed in a child process, killed at their deadline
mod spawn; // starting tasks: Builder, the shorthands, scope, background!

pub use crate::actor::Actor;
pub use crate::compose::future;
pub use crate::compose::many::{
    AsCompleted, AsCompletedUntil, as_completed, first_done, first_done_deadline,
    first_done_timeout,
};
pub use crate::core::cancel::CancelToken;
pub use crate::core::panic::{BrokenPromise, TaskPanic};
pub use crate::deadlock::debug;
pub use crate::executor::pool::ThreadPool;
pub use crate::lazy::Lazy;
pub use crate::lazy::error::WaitError;
pub use crate::lazy::outcome::Outcome;
pub use crate::lazy::policy::{Deadline, NoTimeout, TimeoutPolicy};
pub use crate::lazy::promise::Promise;
pub use crate::lazy::shared::SharedLazy;
pub use crate::spawn::background::background;
pub use crate::spawn::builder::Builder;
pub use crate::spawn::scope::{Scope, scope};
pub use crate::spawn::shorthand::{spawn_lazy, spawn_lazy_with};
