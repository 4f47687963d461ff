//! [`ThreadPool`]: a fixed set of named worker threads fed by one queue.

use std::fmt;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};

use std::sync::atomic::{AtomicUsize, Ordering};

use crossbeam_channel::{Receiver, Sender, TryRecvError};

use crate::core::job::{Executor, Home, Queue, QueueRef, Runnable, refuse_stack_size};
use crate::core::threads;
use crate::deadlock;

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
/// * Workers are named `transparent-future-worker-N`. A task's panic reaches that
///   task's readers and never kills a worker.
/// * **Work-helping** keeps nested futures from starving the pool: a one-worker pool
///   whose task waits on another task it spawned finishes. Waits on several futures at
///   once help only while none of them runs and no worker is idle. The reader runs the
///   task to completion, so a queued task that blocks on something only the reader
///   would do later blocks the reader, as it would block a worker.
/// * `ThreadPool` is a cheap handle (`Clone` shares the same workers) and is
///   `Send + Sync`. When the last handle is dropped, the pool stops taking tasks, lets
///   every queued and running task finish, and joins its workers. A pool whose last
///   handle is dropped from inside a task (its own or another executor's) does not
///   join: that could wait on a worker that waits on the dropping task. Its workers
///   still finish every queued task and then exit on their own.
/// * Options: [`Builder::on`](crate::Builder::on) runs any spawn form on a pool (a name labels the task;
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
    /// What this pool's futures refer to for their follow-up work (a weak reference to
    /// `shared`); dropped with the last handle, so that nothing keeps the pool alive.
    home: Arc<QueueRef>,
}

struct Shared {
    /// `None` only while the pool is being shut down.
    queue: Option<Sender<Runnable>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    size: usize,
    /// Workers waiting for a task (shared with them).
    idle: Arc<AtomicUsize>,
}

// A pool is shared between threads by design.
static_assertions::assert_impl_all!(ThreadPool: Send, Sync, Clone);

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
        let (queue, jobs) = crossbeam_channel::unbounded();
        let shared = Shared {
            queue: Some(queue),
            workers: Mutex::new(Vec::new()),
            size: workers,
            idle: Arc::default(),
        };
        for i in 0..workers {
            let jobs = jobs.clone();
            let idle = Arc::clone(&shared.idle);
            let handle = thread::Builder::new()
                .name(format!("transparent-future-worker-{i}"))
                .spawn(move || work(&jobs, &idle))?; // on error, dropping `shared` joins the rest
            shared
                .workers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(handle);
        }
        let shared = Arc::new(shared);
        let queue: Arc<dyn Queue> = shared.clone();
        let home = Arc::new(QueueRef(Arc::downgrade(&queue)));
        Ok(ThreadPool { shared, home })
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
    /// Whether a worker is waiting for a task: a task queued now starts at once, so a
    /// reader need not run it itself.
    fn has_idle_worker(&self) -> bool {
        // ORDERING: Relaxed: see `work`.
        self.idle.load(Ordering::Relaxed) > 0
    }

    fn enqueue(&self, task: Runnable) {
        if let Some(queue) = &self.queue {
            // The workers hold the receivers until the last handle is gone, and a
            // handle is alive here, so the queue is connected.
            let sent = queue.send(task);
            debug_assert!(sent.is_ok(), "transparent_future: pool queue disconnected");
        }
    }
}

/// A worker: run tasks until the pool is dropped and the queue is drained.
///
/// A worker counts itself idle only while the queue is empty, so a busy pool pays no
/// shared counter per task.
fn work(jobs: &Receiver<Runnable>, idle: &AtomicUsize) {
    loop {
        let task = match jobs.try_recv() {
            Ok(task) => task,
            Err(TryRecvError::Disconnected) => return,
            Err(TryRecvError::Empty) => {
                // ORDERING: Relaxed: a hint for readers deciding whether to help; a
                // stale value only means one help more or less, never a lost task.
                idle.fetch_add(1, Ordering::Relaxed);
                let next = jobs.recv();
                // ORDERING: Relaxed, as above.
                idle.fetch_sub(1, Ordering::Relaxed);
                match next {
                    Ok(task) => task,
                    Err(_) => return,
                }
            }
        };
        // A task's own panic is caught inside `run` and goes to its readers. This
        // catches a panic while dropping what the task left behind (a value whose
        // `Drop` panics, dropped here because nobody holds its future), so that the
        // worker survives it; the panic hook has already reported it.
        let _ = catch_unwind(AssertUnwindSafe(move || task.run()));
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Closing the queue lets the workers finish what is queued, then exit.
        drop(self.queue.take());
        let workers = std::mem::take(
            self.workers
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner),
        );
        let me = thread::current().id();
        if deadlock::in_task() || workers.iter().any(|w| w.thread().id() == me) {
            // Dropped from inside a task (this pool's or another's, run by a worker or
            // by a helping reader), or on one of its own workers (in a continuation,
            // or with a task's value): joining could wait on a worker that waits on
            // this very thread, or on this thread itself. The workers drain the queue
            // and exit on their own.
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
    /// pool. Refuses a task that asks for a stack size: the workers already exist.
    fn execute(&self, task: Runnable) -> io::Result<()> {
        refuse_stack_size(&task, "a ThreadPool")?;
        task.adopt(Home::pool(Arc::downgrade(&self.home)));
        self.shared.enqueue(task);
        Ok(())
    }
}

impl fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPool")
            .field("workers", &self.shared.size)
            .field("queued", &self.shared.queue.as_ref().map_or(0, Sender::len))
            .finish()
    }
}
