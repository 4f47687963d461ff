//! [`ProcessPool`]: N reusable child processes, each supervised by a thread of the pool.

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use crate::process::child::Mode;
use crate::process::future::{Finished, Job};
use crate::process::launch::launch;
use crate::process::supervise::ChildProc;

/// How long a worker waits before it tries again to start a child the OS refused.
const RETRY: Duration = Duration::from_millis(100);

/// `u64::MAX` in `grace_ms`: no grace, SIGKILL at once.
const NO_GRACE: u64 = u64::MAX;

struct Settings {
    /// 0: never recycle.
    recycle_after: AtomicUsize,
    grace_ms: AtomicU64,
}

/// A pool of reusable worker processes for process tasks, in the manner of Python's
/// `pebble.ProcessPool`: each worker is this executable started again (see
/// [`process::init`](crate::process::init)), kept running between tasks.
///
/// * A worker that crashes, or is killed because its task's deadline passed or its
///   future was cancelled, is replaced at once; only the future of the task it was
///   running fails. The pool never breaks as a whole.
/// * A worker takes its task's answer as soon as it arrives (its supervising thread
///   reads it and publishes the future), so a future that nobody reads never holds a
///   worker up.
/// * [`recycle_after`](ProcessPool::recycle_after) replaces each worker after a number
///   of tasks (leaky code, fragmented heaps).
/// * Dropping the pool lets the workers finish the queued tasks, then ends them.
///
/// A round trip costs tens of microseconds, against a millisecond or two for a fresh
/// child ([`process::spawn_lazy`](crate::process::spawn_lazy)).
///
/// ```
/// # transparent_future::process::init();
/// use std::time::Duration;
/// use transparent_future::{Deadline, Lazy, Outcome, WaitError};
/// use transparent_future::process::ProcessPool;
///
/// fn parse(text: String) -> u64 {
///     match text.as_str() {
///         "hang" => loop { std::thread::sleep(Duration::from_millis(10)) },
///         "crash" => std::process::abort(),
///         _ => text.parse().unwrap_or(0),
///     }
/// }
///
/// let pool = ProcessPool::new(2);
/// let ok = pool.spawn_lazy("41".to_string(), parse);
/// let hung = pool.spawn_lazy_with(Deadline::after(Duration::from_millis(200)), "hang".into(), parse);
/// let crashed = pool.spawn_lazy("crash".to_string(), parse);
/// assert_eq!(*ok + 1, 42);
/// assert_eq!(*hung, Outcome::Timeout);                 // killed; the worker is replaced
/// assert!(matches!(Lazy::try_wait(&crashed), Err(WaitError::ProcessDied(_))));
/// assert_eq!(*pool.spawn_lazy("7".to_string(), parse), 7); // the pool carries on
/// ```
pub struct ProcessPool {
    queue: Option<Sender<Job>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    settings: Arc<Settings>,
    size: usize,
}

impl ProcessPool {
    /// A pool of `workers` child processes, started now (in the background).
    ///
    /// # Panics
    ///
    /// If `workers` is 0 or a supervising thread cannot be started;
    /// [`ProcessPool::try_new`] returns those as errors.
    ///
    /// ```
    /// # transparent_future::process::init();
    /// let pool = transparent_future::process::ProcessPool::new(2);
    /// assert_eq!(pool.workers(), 2);
    /// ```
    #[track_caller]
    pub fn new(workers: usize) -> ProcessPool {
        match ProcessPool::try_new(workers) {
            Ok(pool) => pool,
            Err(e) => panic!("{e}"),
        }
    }

    /// A pool of `workers` child processes, or why it cannot be made.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `workers` is 0; the OS's refusal of a supervising thread.
    ///
    /// ```
    /// # transparent_future::process::init();
    /// use transparent_future::process::ProcessPool;
    /// assert_eq!(ProcessPool::try_new(0).unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
    /// assert!(ProcessPool::try_new(1).is_ok());
    /// ```
    pub fn try_new(workers: usize) -> io::Result<ProcessPool> {
        if workers == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "transparent_future: a ProcessPool needs at least one worker",
            ));
        }
        let (tx, rx) = crossbeam_channel::unbounded();
        let settings = Arc::new(Settings {
            recycle_after: AtomicUsize::new(0),
            grace_ms: AtomicU64::new(NO_GRACE),
        });
        let mut handles = Vec::with_capacity(workers);
        for index in 0..workers {
            let rx = rx.clone();
            let settings = Arc::clone(&settings);
            let handle = thread::Builder::new()
                .name(format!("transparent-future-process-pool-{index}"))
                .stack_size(256 * 1024)
                .spawn(move || work(&rx, &settings))?;
            handles.push(handle);
        }
        Ok(ProcessPool {
            queue: Some(tx),
            workers: Mutex::new(handles),
            settings,
            size: workers,
        })
    }

    /// Replaces each worker after it has run `tasks` tasks (0: never, the default).
    ///
    /// ```
    /// # transparent_future::process::init();
    /// use transparent_future::process::ProcessPool;
    /// fn pid(_: ()) -> u32 { std::process::id() }
    /// let pool = ProcessPool::new(1).recycle_after(1);
    /// let (a, b) = (pool.spawn_lazy((), pid), pool.spawn_lazy((), pid));
    /// assert_ne!(*a, *b); // a new worker for each task
    /// ```
    pub fn recycle_after(self, tasks: usize) -> Self {
        // ORDERING: Relaxed: a standalone setting.
        self.settings.recycle_after.store(tasks, Ordering::Relaxed);
        self
    }

    /// When a task is stopped (deadline or cancellation), sends SIGTERM to its worker's
    /// process group first and SIGKILL only after `grace` (the default is SIGKILL at
    /// once). [`Builder::kill_grace`](crate::Builder::kill_grace) overrides it per
    /// task.
    ///
    /// ```
    /// # transparent_future::process::init();
    /// use std::time::Duration;
    /// use transparent_future::process::ProcessPool;
    /// let pool = ProcessPool::new(1).kill_grace(Duration::from_millis(500));
    /// # drop(pool);
    /// ```
    pub fn kill_grace(self, grace: Duration) -> Self {
        let ms = u64::try_from(grace.as_millis()).unwrap_or(NO_GRACE - 1);
        // ORDERING: Relaxed: a standalone setting.
        self.settings.grace_ms.store(ms, Ordering::Relaxed);
        self
    }

    /// The number of workers.
    ///
    /// ```
    /// # transparent_future::process::init();
    /// assert_eq!(transparent_future::process::ProcessPool::new(3).workers(), 3);
    /// ```
    pub fn workers(&self) -> usize {
        self.size
    }

    /// The pool's grace setting, for a task that has none of its own.
    pub(crate) fn kill_grace_setting(&self) -> Option<Duration> {
        // ORDERING: Relaxed: a standalone setting.
        match self.settings.grace_ms.load(Ordering::Relaxed) {
            NO_GRACE => None,
            ms => Some(Duration::from_millis(ms)),
        }
    }

    /// Queues a task for the next free worker.
    pub(crate) fn submit(&self, job: Job) -> io::Result<()> {
        let queue = self
            .queue
            .as_ref()
            .ok_or_else(|| io::Error::other("closed"))?;
        queue.send(job).map_err(|e| {
            e.into_inner()
                .finish(Finished::NotStarted("the pool's workers are gone".into()));
            io::Error::other("transparent_future: the ProcessPool's workers are gone")
        })
    }
}

/// A worker: keeps one child running, and runs queued tasks on it, one at a time.
fn work(queue: &Receiver<Job>, settings: &Settings) {
    let mut child: Option<ChildProc> = None;
    let mut served = 0;
    loop {
        // Start the next child before the next task arrives, so the task need not wait.
        if child.is_none() {
            child = launch(Mode::Pool).and_then(ChildProc::new).ok();
        }
        let Ok(job) = queue.recv() else { break };
        if job.is_moot() {
            job.finish(Finished::NotStarted(
                "it was cancelled, or its deadline passed, before a worker took it".into(),
            ));
            continue;
        }
        // A worker that died while idle (killed from outside) is replaced first.
        if child.as_ref().is_some_and(ChildProc::exited) {
            child = None;
        }
        let mut proc = match child.take() {
            Some(proc) => proc,
            None => match launch(Mode::Pool).and_then(ChildProc::new) {
                Ok(proc) => proc,
                Err(e) => {
                    job.finish(Finished::NotStarted(format!("no worker process: {e}")));
                    thread::sleep(RETRY);
                    continue;
                }
            },
        };
        proc.clear_tail();
        if job.run_on(&mut proc) {
            served += 1;
            // ORDERING: Relaxed: a standalone setting.
            let limit = settings.recycle_after.load(Ordering::Relaxed);
            if limit != 0 && served >= limit {
                proc.retire(Mode::Pool);
                served = 0;
            } else {
                child = Some(proc);
            }
        } else {
            served = 0; // dead or killed (and reaped): replaced at the top
        }
    }
    if let Some(proc) = child {
        proc.retire(Mode::Pool);
    }
}

impl Drop for ProcessPool {
    /// Lets the workers finish the queued tasks, then ends their processes and waits
    /// for them (not when dropped on one of its own threads, which cannot wait for
    /// itself).
    fn drop(&mut self) {
        drop(self.queue.take());
        let workers = std::mem::take(
            self.workers
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner),
        );
        let me = thread::current().id();
        if workers.iter().any(|w| w.thread().id() == me) {
            return;
        }
        for worker in workers {
            let _ = worker.join();
        }
    }
}

impl fmt::Debug for ProcessPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessPool")
            .field("workers", &self.size)
            .finish_non_exhaustive()
    }
}
