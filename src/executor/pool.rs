//! [`ThreadPool`]: a fixed set of named worker threads fed by work-stealing queues
//! (`core::queues`), and
//! [`ThreadPoolBuilder`], its configuration (worker count, thread names, stack size,
//! a handler for panics nobody reads); shutting a pool down without blocking.

use std::fmt;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use crate::core::sync::thread::{self, JoinHandle};
use crate::core::sync::{Mutex, PoisonError};

use crate::core::job::{Executor, Home, Queue, QueueRef, Runnable, refuse_stack_size};
use crate::core::panic::TaskPanic;
use crate::core::queues::Queues;
use crate::core::threads;
use crate::lazy::Lazy;
use crate::lazy::promise::Promise;

/// The workers' default name prefix: workers are `<prefix>-0`, `<prefix>-1`, ...
const DEFAULT_PREFIX: &str = "transparent-future-worker";

/// A handler for panics that no reader saw.
type PanicHandler = Arc<dyn Fn(TaskPanic) + Send + Sync>;

/// A pool of worker threads that run futures' tasks. A task queued on a pool often
/// runs on the thread that reads its future, not on a worker: a reader that would
/// otherwise sleep on a task no worker has started runs it itself (work-helping), and
/// on a busy pool that is most reads (about 9 in 10 in our measurements). So inside a
/// pool task, `std::thread::current()`, its name and id, and thread-locals may be the
/// reader's, not a worker's; do not rely on them.
///
/// Spawning costs a heap allocation and a queue push instead of an OS thread, about
/// fifty times less (see the crate's "Choosing an executor").
///
/// * Workers are named `transparent-future-worker-N` (another prefix with
///   [`ThreadPoolBuilder::name_prefix`]). A task's panic reaches that task's readers
///   and never kills a worker; a panic no reader ever sees can go to a handler
///   ([`ThreadPoolBuilder::panic_handler`]).
/// * **Work-helping** keeps nested futures from starving the pool: a one-worker pool
///   whose task waits on another task it spawned finishes. An unbounded wait never
///   sleeps while work it depends on (a task, a continuation, the inner future of a
///   `then`, an input of `all`) sits in the queue: it runs that work itself, and a
///   reader already asleep is woken to do so when such work joins what it waits for.
///   A bounded wait (`wait_timeout`, `wait_deadline`) never helps: it must return at
///   its limit. The reader runs the
///   task to completion, so a queued task that blocks on something only the reader
///   would do later blocks the reader, as it would block a worker.
/// * `ThreadPool` is a cheap handle (`Clone` shares the same workers) and is
///   `Send + Sync`. When the last handle is dropped, the pool stops taking tasks, lets
///   every queued and running task finish, and joins its workers. **No code the crate
///   runs joins them**: a last handle dropped inside a task (any executor's, or one a
///   reader helps with), a continuation (`map`, `then`, ...), a watcher or waker, a
///   panic handler, or on a thread the crate started (a worker, a thread-per-task
///   thread, the timer), returns at once, since joining there could wait on a worker
///   that waits on the dropping code, or hold up a thread others wait on. The workers
///   still finish every queued task, then the crate's reaper thread joins them. A
///   drop during a thread's thread-local teardown (a pool kept in a `thread_local!`)
///   is safe.
/// * [`ThreadPool::shutdown`] stops the pool for every handle without blocking: new
///   submissions are refused with an error, queued tasks still run, and the returned
///   future resolves once the workers have exited.
/// * Options: [`ThreadPool::builder`] configures the pool itself; [`Builder::on`](crate::Builder::on) runs any spawn form on a pool (a name labels the task;
///   a stack size is refused, since the workers' threads already exist).
///
/// ```
/// use transparent_future::{Lazy, ThreadPool};
///
/// let pool = ThreadPool::new(2);
/// let squares: Vec<Lazy<u64>> = (0..100u64).map(|i| pool.spawn_lazy(move || i * i)).collect();
/// let sum: u64 = squares.iter().map(|x| **x).sum();
/// assert_eq!(sum, 328_350);
/// ```
#[derive(Clone)]
pub struct ThreadPool {
    shared: Arc<Shared>,
    /// This pool's entry in the registry of live pools, which its futures name for
    /// their follow-up work; dropped with the last handle (nothing keeps the pool
    /// alive).
    home: Arc<QueueRef>,
}

struct Shared {
    /// The workers' queues; closed once the pool is shut down (or being dropped),
    /// which lets the workers drain them and exit.
    queues: Arc<Queues>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    size: usize,
    /// Called with a panic of this pool's tasks that no reader saw. Asserted
    /// unwind-safe so that a pool stays `UnwindSafe` as it was: the pool keeps none of
    /// the handler's state, and calls it under `catch_unwind`.
    panic_handler: Option<AssertUnwindSafe<PanicHandler>>,
    /// The workers still running, and who waits for them to exit.
    exit: Arc<Exit>,
}

/// The workers still running, and the futures that resolve once none is.
struct Exit {
    state: Mutex<ExitState>,
}

struct ExitState {
    live: usize,
    waiters: Vec<Promise<()>>,
    /// The workers' handles, left by a drop that may not join them: the last worker
    /// out hands them to the reaper.
    orphans: Vec<JoinHandle<()>>,
}

impl Exit {
    /// A future that resolves once every worker has exited.
    fn when_exited(&self) -> Lazy<()> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.live == 0 {
            return Lazy::with_value(());
        }
        let (promise, exited) = Lazy::promise();
        state.waiters.push(promise);
        exited
    }

    /// Has the reaper join `workers` once every worker has left its loop (at once if
    /// all have), so that whoever drops the pool does not wait for them.
    fn reap_when_exited(&self, workers: Vec<JoinHandle<()>>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.live > 0 {
            state.orphans.extend(workers);
            return;
        }
        drop(state);
        for worker in workers {
            threads::reap(worker);
        }
    }
}

/// Held by a worker while it runs: the last one out resolves the exit futures.
struct ExitGuard(Arc<Exit>);

impl Drop for ExitGuard {
    fn drop(&mut self) {
        let mut state = self.0.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.live -= 1;
        let (waiters, orphans) = if state.live == 0 {
            (
                std::mem::take(&mut state.waiters),
                std::mem::take(&mut state.orphans),
            )
        } else {
            (Vec::new(), Vec::new())
        };
        drop(state);
        // Every worker has left its loop: the reaper's joins are short.
        for worker in orphans {
            threads::reap(worker);
        }
        for waiter in waiters {
            // A watcher of one waiter's future may panic (a user's waker): the others
            // are still told, never left to fail as broken promises.
            let _ = catch_unwind(AssertUnwindSafe(move || {
                let _ = waiter.set(());
            }));
        }
    }
}

/// Configures a [`ThreadPool`] before it starts, as rayon's `ThreadPoolBuilder` and
/// Python's `ThreadPoolExecutor(max_workers, thread_name_prefix)` do: the number of
/// workers, their names and stack size, and a handler for task panics that nobody
/// reads.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
/// use transparent_future::{Lazy, ThreadPool};
///
/// let unread = Arc::new(Mutex::new(Vec::new()));
/// let log = Arc::clone(&unread);
/// let pool = ThreadPool::builder()
///     .workers(2)
///     .name_prefix("indexer")
///     .stack_size(512 * 1024)
///     .panic_handler(move |panic| log.lock().unwrap().push(panic.message().to_owned()))
///     .build()?;
///
/// // A bounded wait never runs the task itself, so a worker does.
/// let name = pool.spawn_lazy(|| std::thread::current().name().map(String::from));
/// let name = Lazy::wait_timeout(&name, Duration::from_secs(30)).unwrap();
/// assert!(name.as_deref().unwrap().starts_with("indexer-"));
///
/// drop(pool.spawn_lazy(|| -> u8 { panic!("nobody reads me") })); // dropped unread
/// Lazy::wait(&pool.shutdown()); // let the workers finish, without blocking anyone else
/// assert_eq!(*unread.lock().unwrap(), ["nobody reads me"]);
/// # Ok::<(), std::io::Error>(())
/// ```
#[must_use = "a ThreadPoolBuilder does nothing until you call build"]
#[derive(Default)]
pub struct ThreadPoolBuilder {
    workers: Option<usize>,
    name_prefix: Option<String>,
    stack_size: Option<usize>,
    panic_handler: Option<PanicHandler>,
}

impl ThreadPoolBuilder {
    /// The defaults: one worker per available core, workers named
    /// `transparent-future-worker-N`, the standard library's stack size, no panic
    /// handler.
    ///
    /// ```
    /// let pool = transparent_future::executor::ThreadPoolBuilder::new().build()?;
    /// assert!(pool.workers() >= 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> Self {
        ThreadPoolBuilder::default()
    }

    /// The number of worker threads (at least one).
    ///
    /// ```
    /// let pool = transparent_future::ThreadPool::builder().workers(3).build()?;
    /// assert_eq!(pool.workers(), 3);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = Some(workers);
        self
    }

    /// Names the workers `<prefix>-0`, `<prefix>-1`, ... (Python's
    /// `thread_name_prefix`). Thread names show in panic messages, debuggers and
    /// [`debug::waits`](crate::debug::waits); a prefix with a NUL byte makes
    /// [`build`](ThreadPoolBuilder::build) fail with
    /// [`InvalidInput`](io::ErrorKind::InvalidInput).
    ///
    /// ```
    /// use transparent_future::ThreadPool;
    ///
    /// let pool = ThreadPool::builder().workers(1).name_prefix("db").build()?;
    /// let done = pool.shutdown(); // the worker runs what is queued, then exits
    /// # transparent_future::Lazy::wait(&done);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.name_prefix = Some(prefix.into());
        self
    }

    /// The stack size, in bytes, of every worker thread (the OS may round it up). A
    /// task cannot ask for its own stack on a pool: its thread already exists.
    ///
    /// ```
    /// let pool = transparent_future::ThreadPool::builder().workers(1).stack_size(4 << 20).build()?;
    /// assert_eq!(*pool.spawn_lazy(|| 1), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// Calls `handler` with every panic of the pool's tasks (and of the futures that
    /// follow them, `map`, `then`, ...) that no reader ever saw: the future was dropped
    /// without being read, or its task panicked after its deadline and the late panic
    /// was never taken (rayon's `panic_handler`, the "exception was never retrieved"
    /// report of Python's asyncio). A panic that a reader saw is not reported: it
    /// reached someone.
    ///
    /// The handler runs once per unread panic, when the last reference to the future's
    /// state goes: on a worker, or on the thread that dropped the future. A panic in
    /// the handler itself is caught (the panic hook reports it) and does not harm the
    /// pool.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use transparent_future::{Lazy, ThreadPool};
    ///
    /// let reported = Arc::new(AtomicUsize::new(0));
    /// let count = Arc::clone(&reported);
    /// let pool = ThreadPool::builder()
    ///     .workers(1)
    ///     .panic_handler(move |_| { count.fetch_add(1, Ordering::SeqCst); })
    ///     .build()?;
    /// let read = pool.spawn_lazy(|| -> u8 { panic!("seen") });
    /// assert!(Lazy::try_wait(&read).is_err()); // a reader saw this one
    /// drop(read);
    /// drop(pool.spawn_lazy(|| -> u8 { panic!("unseen") }));
    /// Lazy::wait(&pool.shutdown());
    /// assert_eq!(reported.load(Ordering::SeqCst), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn panic_handler<H>(mut self, handler: H) -> Self
    where
        H: Fn(TaskPanic) + Send + Sync + 'static,
    {
        self.panic_handler = Some(Arc::new(handler));
        self
    }

    /// Starts the pool's workers.
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](io::ErrorKind::InvalidInput) for zero workers, more than the
    /// [live-thread cap](crate::executor::ThreadPerTask) allows, or a name prefix with
    /// a NUL byte; the OS's refusal to create a thread.
    ///
    /// ```
    /// use transparent_future::ThreadPool;
    ///
    /// let err = ThreadPool::builder().workers(0).build().unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// ```
    pub fn build(self) -> io::Result<ThreadPool> {
        let workers = self
            .workers
            .unwrap_or_else(|| thread::available_parallelism().map_or(1, |n| n.get()));
        if workers == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "transparent_future: a ThreadPool needs at least one worker",
            ));
        }
        let cap = threads::max_live_threads();
        if workers > cap {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "transparent_future: a ThreadPool of {workers} workers is more threads \
                     than the system allows a process ({cap}, see ThreadPerTask)"
                ),
            ));
        }
        let prefix = self.name_prefix.as_deref().unwrap_or(DEFAULT_PREFIX);
        if prefix.contains('\0') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "transparent_future: the worker name prefix {prefix:?} contains a NUL \
                     byte, which no thread name may contain"
                ),
            ));
        }
        let (queues, deques) = Queues::new(workers);
        let shared = Shared {
            queues: Arc::clone(&queues),
            workers: Mutex::new(Vec::new()),
            size: workers,
            panic_handler: self.panic_handler.map(AssertUnwindSafe),
            exit: Arc::new(Exit {
                state: Mutex::new(ExitState {
                    live: 0,
                    waiters: Vec::new(),
                    orphans: Vec::new(),
                }),
            }),
        };
        for (i, deque) in deques.into_iter().enumerate() {
            let queues = Arc::clone(&queues);
            let mut thread = thread::Builder::new().name(format!("{prefix}-{i}"));
            if let Some(bytes) = self.stack_size {
                thread = thread.stack_size(bytes);
            }
            shared
                .exit
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .live += 1;
            let guard = ExitGuard(Arc::clone(&shared.exit));
            // On error the guard comes back inside the dropped closure, and dropping
            // `shared` closes the queue and joins the workers already started.
            let handle = thread.spawn(move || {
                threads::mark_crate_thread();
                let _exit = guard;
                queues.work(i, deque, run);
            })?;
            shared
                .workers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(handle);
        }
        let shared = Arc::new(shared);
        let queue: Arc<dyn Queue> = shared.clone();
        let home = Arc::new(QueueRef::register(Arc::downgrade(&queue)));
        Ok(ThreadPool { shared, home })
    }
}

impl fmt::Debug for ThreadPoolBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPoolBuilder")
            .field("workers", &self.workers)
            .field("name_prefix", &self.name_prefix)
            .field("stack_size", &self.stack_size)
            .field("panic_handler", &self.panic_handler.is_some())
            .finish()
    }
}

// A pool is shared between threads by design, and can be used across `catch_unwind`.
static_assertions::assert_impl_all!(ThreadPool: Send, Sync, Clone);
static_assertions::assert_impl_all!(ThreadPool: std::panic::UnwindSafe, std::panic::RefUnwindSafe);

impl ThreadPool {
    /// A pool of `workers` threads.
    ///
    /// # Panics
    ///
    /// If `workers` is zero, more than the live-thread cap, or the OS refuses a thread;
    /// [`ThreadPool::try_new`] returns these as errors.
    ///
    /// ```
    /// let pool = transparent_future::ThreadPool::new(4);
    /// assert_eq!(pool.workers(), 4);
    /// ```
    #[track_caller]
    pub fn new(workers: usize) -> Self {
        match ThreadPool::try_new(workers) {
            Ok(pool) => pool,
            Err(e) => panic!("transparent_future: ThreadPool::new({workers}): {e}"),
        }
    }

    /// A pool of `workers` threads, or why it cannot be made.
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](io::ErrorKind::InvalidInput) for zero workers or more than the
    /// [live-thread cap](crate::executor::ThreadPerTask) allows; the OS's refusal to
    /// create a thread.
    ///
    /// ```
    /// use transparent_future::ThreadPool;
    ///
    /// let pool = ThreadPool::try_new(2)?;
    /// assert_eq!(*pool.spawn_lazy(|| 1), 1);
    /// assert_eq!(ThreadPool::try_new(0).unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_new(workers: usize) -> io::Result<Self> {
        ThreadPoolBuilder::new().workers(workers).build()
    }

    /// A [`ThreadPoolBuilder`], to configure the pool before it starts.
    ///
    /// ```
    /// let pool = transparent_future::ThreadPool::builder().workers(2).name_prefix("io").build()?;
    /// assert_eq!(pool.workers(), 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn builder() -> ThreadPoolBuilder {
        ThreadPoolBuilder::new()
    }

    /// Stops the pool, for every handle, without blocking (Python's
    /// `shutdown(wait=False)`): from now on [`Executor::execute`] refuses new tasks
    /// with an error (so [`Builder::on`](crate::Builder::on) returns it and
    /// [`ThreadPool::spawn_lazy`] panics with it); every task already queued still runs,
    /// and the follow-up work of those tasks (continuations) runs on new threads.
    ///
    /// Returns a future that resolves once every worker has finished its last task and
    /// exited: wait for it (`Lazy::wait`, `Lazy::wait_timeout`, `.await`) or drop it.
    /// Calling `shutdown` again is harmless and returns another such future. (Waiting
    /// for it from one of the pool's own tasks would wait for that task's own worker:
    /// it never ends.)
    ///
    /// ```
    /// use std::time::Duration;
    /// use transparent_future::{Builder, Lazy, ThreadPool};
    ///
    /// let pool = ThreadPool::new(2);
    /// let queued = pool.spawn_lazy(|| { std::thread::sleep(Duration::from_millis(50)); 7 });
    /// let exited = pool.shutdown();                 // returns at once
    /// assert!(pool.is_shut_down());
    /// let refused = Builder::new().on(&pool).spawn(|| 1).unwrap_err();
    /// assert!(refused.to_string().contains("shut down"));
    /// assert_eq!(*queued, 7);                       // what was queued still ran
    /// assert!(Lazy::wait_timeout(&exited, Duration::from_secs(30)).is_ok());
    /// ```
    pub fn shutdown(&self) -> Lazy<()> {
        // The workers drain the queues, then exit.
        self.shared.queues.close();
        self.shared.exit.when_exited()
    }

    /// Whether [`ThreadPool::shutdown`] was called on this pool (through any handle).
    ///
    /// ```
    /// let pool = transparent_future::ThreadPool::new(1);
    /// assert!(!pool.is_shut_down());
    /// drop(pool.shutdown());
    /// assert!(pool.is_shut_down());
    /// ```
    pub fn is_shut_down(&self) -> bool {
        self.shared.queues.is_closed()
    }

    /// The number of worker threads.
    ///
    /// ```
    /// assert_eq!(transparent_future::ThreadPool::new(3).workers(), 3);
    /// ```
    pub fn workers(&self) -> usize {
        self.shared.size
    }

    // `spawn_lazy` and `spawn_lazy_with` live with the other shorthands, in
    // `spawn/shorthand.rs`: they are sugar over the `Builder`, which sits above the
    // executors.
}

impl Queue for Shared {
    /// Queues follow-up work; once the pool is shut down, it runs on a new thread, as
    /// it does once the pool is gone.
    fn enqueue(&self, task: Runnable) {
        if let Err(task) = self.queues.push(task) {
            Home::thread().submit(task);
        }
    }

    fn unread_panic(&self, panic: TaskPanic) {
        if let Some(handler) = &self.panic_handler {
            // A panicking handler must not take a worker (or a dropping reader) down;
            // the panic hook has reported it. It runs code for the crate: a drop in it
            // must not join threads.
            let _crate_code = threads::crate_code();
            let _ = catch_unwind(AssertUnwindSafe(|| (handler.0)(panic)));
        }
    }
}

/// How a worker runs one task.
fn run(task: Runnable) {
    // A task's own panic is caught inside `run` and goes to its readers. This catches
    // a panic while dropping what the task left behind (a value whose `Drop` panics,
    // dropped here because nobody holds its future), so that the worker survives it;
    // the panic hook has already reported it.
    let _ = catch_unwind(AssertUnwindSafe(move || task.run()));
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Closing the queues lets the workers finish what is queued, then exit.
        self.queues.close();
        let workers = std::mem::take(
            self.workers
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner),
        );
        if !threads::may_join_here() {
            // Dropped inside code the crate runs (a task of any executor, run by a
            // worker or by a helping reader; a continuation; a watcher; a panic
            // handler) or on a thread the crate started (one of these workers, a
            // thread-per-task thread, the timer): joining could wait on a worker that
            // waits on this very code, or hold up a thread others wait on. The workers
            // drain the queue, and the reaper joins them.
            self.exit.reap_when_exited(workers);
            return;
        }
        for worker in workers {
            // A worker never panics (see `work`), so there is nothing to report.
            let _ = worker.join();
        }
    }
}

impl Default for ThreadPool {
    /// One worker per available core.
    ///
    /// ```
    /// let pool = transparent_future::ThreadPool::default();
    /// assert!(pool.workers() >= 1);
    /// ```
    fn default() -> Self {
        ThreadPool::new(thread::available_parallelism().map_or(1, |n| n.get()))
    }
}

impl Executor for ThreadPool {
    /// Queues `task`; its follow-up work (continuations of its future) stays on this
    /// pool. Refuses a task that asks for a stack size (the workers already exist), and
    /// every task once the pool is [shut down](ThreadPool::shutdown).
    fn execute(&self, task: Runnable) -> io::Result<()> {
        refuse_stack_size(&task, "a ThreadPool")?;
        // Adopted before it is queued: a worker may run it at once.
        task.adopt(self.home.home());
        match self.shared.queues.push(task) {
            Ok(()) => Ok(()),
            Err(refused) => {
                // Never ours: its failure is no unread panic of this pool's.
                refused.adopt(Home::thread());
                Err(io::Error::other(
                    "transparent_future: this ThreadPool was shut down; it takes no new tasks",
                ))
            }
        }
    }
}

impl fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPool")
            .field("workers", &self.shared.size)
            .field("queued", &self.shared.queues.len())
            .field("shut_down", &self.is_shut_down())
            .finish()
    }
}
