//! What runs where: a [`Job`] is a task's work as an executor sees it, a [`Runnable`]
//! carries one to an [`Executor`], and a [`Home`] says where a future's follow-up work
//! goes (its pool's [`Queue`], or a new thread).

use std::fmt;
use std::io;
use std::num::NonZeroU32;
use std::sync::{Arc, PoisonError as StdPoisonError, RwLock as StdRwLock, Weak};

use crate::core::panic::TaskPanic;
use crate::core::sync::{Mutex, PoisonError, thread};
use crate::core::threads;

/// Work to run once, with nothing to return: follow-up work handed to an executor.
pub(crate) type Thunk = Box<dyn FnOnce() + Send>;

/// What an executor needs from a task: something to run once.
pub(crate) trait Job: Send + Sync {
    /// Runs the closure and publishes its result. Runs the closure at most once: a
    /// second call (or a call after another thread claimed the closure) does nothing.
    fn run(&self);

    /// Called when the executor dropped the task without running it: if nobody ever
    /// claimed the closure, drop it and publish a panic naming the problem, so the
    /// readers fail with a clear message instead of waiting forever.
    fn abandon(&self);

    /// The name the task was spawned with, if any.
    fn name(&self) -> Option<&str> {
        None
    }

    /// The stack size the task's thread should have, if one was asked for.
    fn stack_size(&self) -> Option<usize> {
        None
    }

    /// The executor that accepted the task tells where its follow-up work goes.
    fn adopt(&self, _home: Home) {}
}

/// What a [`Home`] needs from a pool: a queue to push follow-up work onto. Implemented
/// by the crate's `ThreadPool`; crate-private, so the public [`Executor`] trait carries
/// no hidden items.
pub(crate) trait Queue: Send + Sync {
    /// Queues `task` to run on a worker.
    fn enqueue(&self, task: Runnable);
    /// A task of this pool (or a future that follows one) panicked and no reader saw
    /// it: hand it to the pool's panic handler, if any.
    fn unread_panic(&self, panic: TaskPanic);
}

/// The live pools, by slot: what a [`Home`] names. A home is a slot and the generation
/// of the pool that had the slot when the home was made, so that stamping a task with
/// its pool writes two numbers: no reference count of the pool's is touched on the
/// spawn path (where every worker would contend for it). Looked up only for follow-up
/// work and for unread panics. The std lock: it is never held across anything that
/// blocks, so the model checker need not see it.
static POOLS: StdRwLock<Vec<Slot>> = StdRwLock::new(Vec::new());

struct Slot {
    generation: NonZeroU32,
    /// The pool's queue while the pool lives; `None` once the slot is free.
    queue: Option<Weak<dyn Queue>>,
}

/// A pool's entry in the registry of live pools, owned by the pool: dropped with the
/// pool's last handle, after which its homes fall back to new threads. Its slot is
/// reused under a new generation, so an old home never finds a new pool.
pub(crate) struct QueueRef(PoolId);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct PoolId {
    slot: u32,
    generation: NonZeroU32,
}

impl QueueRef {
    /// Registers `queue` (a pool's, held weakly: the registry keeps no pool alive).
    pub(crate) fn register(queue: Weak<dyn Queue>) -> QueueRef {
        let mut pools = POOLS.write().unwrap_or_else(StdPoisonError::into_inner);
        let free = pools.iter().position(|slot| slot.queue.is_none());
        let id = match free {
            Some(at) => {
                let slot = &mut pools[at];
                slot.generation = slot.generation.checked_add(1).unwrap_or(NonZeroU32::MIN);
                slot.queue = Some(queue);
                PoolId {
                    slot: u32::try_from(at).expect("transparent_future: over 2^32 live pools"),
                    generation: slot.generation,
                }
            }
            None => {
                pools.push(Slot {
                    generation: NonZeroU32::MIN,
                    queue: Some(queue),
                });
                PoolId {
                    slot: u32::try_from(pools.len() - 1)
                        .expect("transparent_future: over 2^32 live pools"),
                    generation: NonZeroU32::MIN,
                }
            }
        };
        QueueRef(id)
    }

    /// The home of the tasks this pool accepts.
    pub(crate) fn home(&self) -> Home {
        Home { pool: Some(self.0) }
    }
}

impl Drop for QueueRef {
    fn drop(&mut self) {
        let mut pools = POOLS.write().unwrap_or_else(StdPoisonError::into_inner);
        let released = pools[self.0.slot as usize].queue.take();
        drop(pools);
        // A `Weak`: dropping it runs no pool code, but outside the lock all the same.
        drop(released);
    }
}

/// Where follow-up work of a task goes (a continuation whose input is already there):
/// the task's pool if it is still alive, else a new thread. Eight bytes, `Copy`.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(crate) struct Home {
    pool: Option<PoolId>,
}

impl Home {
    /// Follow-up work on new threads.
    pub(crate) fn thread() -> Self {
        Home::default()
    }

    /// The home as one word, for a state to keep in an atomic (0: a new thread).
    pub(crate) fn to_bits(self) -> u64 {
        match self.pool {
            None => 0,
            Some(id) => (u64::from(id.slot) << 32) | u64::from(id.generation.get()),
        }
    }

    /// The home that [`Home::to_bits`] gave `bits`.
    pub(crate) fn from_bits(bits: u64) -> Self {
        let generation = NonZeroU32::new((bits & u64::from(u32::MAX)) as u32);
        Home {
            pool: generation.map(|generation| PoolId {
                slot: (bits >> 32) as u32,
                generation,
            }),
        }
    }

    /// The pool's queue, if this home is a pool that is still alive.
    fn queue(&self) -> Option<Arc<dyn Queue>> {
        let id = self.pool?;
        let pools = POOLS.read().unwrap_or_else(StdPoisonError::into_inner);
        let slot = pools.get(id.slot as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        slot.queue.as_ref()?.upgrade()
    }

    /// Where a downstream future fed by a task living here goes: follow-ups stay on
    /// the same pool; nothing to help (the downstream has no closure of its own).
    pub(crate) fn follower(&self) -> Placement {
        Placement {
            home: *self,
            helpable: false,
        }
    }

    /// Reports a panic that no reader saw to the pool's handler (nothing without a
    /// pool, or once the pool is gone).
    pub(crate) fn unread_panic(&self, panic: TaskPanic) {
        if let Some(pool) = self.queue() {
            pool.unread_panic(panic);
        }
    }

    /// Runs follow-up work: on the pool if there is one, else on a new thread (under
    /// the live-thread cap). A refused thread drops the task, which fails its readers
    /// with a clear panic. Returns whether the work went to a pool's queue, where it may
    /// wait behind busy workers (a thread of its own starts it at once).
    pub(crate) fn submit(&self, task: Runnable) -> bool {
        match self.queue() {
            Some(pool) => {
                pool.enqueue(task);
                true
            }
            None => {
                let _ = threads::start(thread::Builder::new(), move || task.run());
                false
            }
        }
    }
}

/// Where a new task runs, as far as the crate needs to know: its [`Home`], and whether
/// a waiting reader may run it itself (work-helping).
#[derive(Clone, Default)]
pub(crate) struct Placement {
    pub(crate) home: Home,
    pub(crate) helpable: bool,
}

impl Placement {
    /// A thread of its own: no helping, follow-ups on new threads.
    pub(crate) fn thread() -> Self {
        Placement::default()
    }

    /// Any executor: helping as it allows; follow-ups on new threads until the
    /// executor says otherwise when it accepts the task (a `ThreadPool` keeps them).
    pub(crate) fn executor<E: Executor + ?Sized>(executor: &E) -> Self {
        Placement {
            home: Home::thread(),
            helpable: executor.allows_helping(),
        }
    }
}

/// A job that runs one callback: follow-up work handed to an executor. Whoever claims
/// the callback first runs it: the executor, or a reader of the future it computes
/// (which records the job, so that waiting on that future can run it: work-helping).
pub(crate) struct Once(Mutex<Option<Thunk>>);

impl Once {
    /// Runs the callback here if nobody has claimed it; returns whether it did.
    pub(crate) fn help(&self) -> bool {
        let claimed = self.0.lock().unwrap_or_else(PoisonError::into_inner).take();
        match claimed {
            Some(callback) => {
                callback();
                true
            }
            None => false,
        }
    }

    /// Whether nobody has claimed the callback yet.
    pub(crate) fn unclaimed(&self) -> bool {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }
}

impl Job for Once {
    fn run(&self) {
        self.help();
    }

    /// Follow-up work publishes to its own future; if it is dropped unrun, that future
    /// is failed by the callback's owner, so nothing more to do here.
    fn abandon(&self) {
        let claimed = self.0.lock().unwrap_or_else(PoisonError::into_inner).take();
        drop(claimed);
    }
}

/// Wraps a callback as a task for an executor.
pub(crate) fn runnable(callback: Thunk) -> Runnable {
    queued(callback).1
}

/// Wraps a callback as a task for an executor, and keeps a handle on it: the future the
/// callback computes records the job, so that its readers can run it themselves.
pub(crate) fn queued(callback: Thunk) -> (Arc<Once>, Runnable) {
    let job = Arc::new(Once(Mutex::new(Some(callback))));
    (Arc::clone(&job), Runnable::new(job))
}

/// A task ready to run: the closure of one future, with the state it publishes to.
///
/// An [`Executor`] receives one and calls [`Runnable::run`] once, on whatever thread it
/// likes. It is `Send + 'static` and carries its closure inline (one allocation per
/// future, shared with the handle). If a reader has already run the task itself
/// (work-helping), `run` returns at once.
///
/// ```
/// use std::io;
/// use transparent_future::Builder;
/// use transparent_future::executor::{Executor, Runnable};
///
/// /// Runs every task on the calling thread, at once.
/// struct Inline;
///
/// impl Executor for Inline {
///     fn execute(&self, task: Runnable) -> io::Result<()> {
///         task.run();
///         Ok(())
///     }
/// }
///
/// let x = Builder::new().on(&Inline).spawn(|| 2 + 2)?;
/// assert_eq!(*x, 4);
/// # Ok::<(), io::Error>(())
/// ```
pub struct Runnable(Option<Arc<dyn Job>>);

impl Runnable {
    pub(crate) fn new(job: Arc<dyn Job>) -> Self {
        Runnable(Some(job))
    }

    /// Runs the task and publishes its result to its future. A panic in the task is
    /// caught and delivered to the future's readers; `run` itself returns normally.
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use transparent_future::Builder;
    /// use transparent_future::executor::{Executor, Runnable};
    ///
    /// struct Queue(mpsc::Sender<Runnable>);
    /// impl Executor for Queue {
    ///     fn execute(&self, task: Runnable) -> std::io::Result<()> {
    ///         self.0.send(task).map_err(std::io::Error::other)
    ///     }
    ///     fn allows_helping(&self) -> bool { false } // only the queue's owner runs tasks
    /// }
    ///
    /// let (tx, rx) = mpsc::channel();
    /// let x = Builder::new().on(&Queue(tx)).spawn(|| "ran")?;
    /// rx.recv().unwrap().run();
    /// assert_eq!(*x, "ran");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn run(mut self) {
        // A task runs code for the crate, to the drop of its state: a drop in it must
        // not join threads.
        let _crate_code = threads::crate_code();
        if let Some(job) = self.0.take() {
            job.run();
        }
    }

    /// The name the task was given with [`Builder::name`](crate::Builder::name), if
    /// any. An executor that starts a thread per task names the thread with it.
    ///
    /// ```
    /// use std::io;
    /// use transparent_future::Builder;
    /// use transparent_future::executor::{Executor, Runnable};
    ///
    /// struct Named;
    /// impl Executor for Named {
    ///     fn execute(&self, task: Runnable) -> io::Result<()> {
    ///         let mut thread = std::thread::Builder::new();
    ///         if let Some(name) = task.name() {
    ///             thread = thread.name(name.to_owned());
    ///         }
    ///         thread.spawn(move || task.run()).map(drop)
    ///     }
    ///     fn allows_helping(&self) -> bool { false } // its thread runs it, never a reader
    /// }
    ///
    /// let x = Builder::new().on(&Named).name("indexer").spawn(|| {
    ///     std::thread::current().name().map(String::from)
    /// })?;
    /// assert_eq!(x.as_deref(), Some("indexer"));
    /// # Ok::<(), io::Error>(())
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.0.as_deref().and_then(|job| job.name())
    }

    /// The stack size asked for with [`Builder::stack_size`](crate::Builder::stack_size),
    /// if any. An executor that starts a thread per task gives the thread this stack;
    /// one that runs tasks on threads it already has cannot honour it, and should refuse
    /// the task with an [`io::Error`] of kind [`InvalidInput`](io::ErrorKind::InvalidInput),
    /// as [`ThreadPool`](crate::ThreadPool) does.
    ///
    /// ```
    /// use transparent_future::{Builder, ThreadPool};
    ///
    /// let pool = ThreadPool::new(1);
    /// let refused = Builder::new().on(&pool).stack_size(1 << 20).spawn(|| 1);
    /// assert_eq!(refused.unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
    /// ```
    pub fn stack_size(&self) -> Option<usize> {
        self.0.as_deref().and_then(|job| job.stack_size())
    }

    /// The address of the task's state, to recognise it in a queue.
    /// Drops this reference to the task without abandoning it: for a reader that took
    /// the task off a queue to run it through its own reference.
    pub(crate) fn dismiss(mut self) {
        drop(self.0.take());
    }

    pub(crate) fn job_ptr(&self) -> Option<*const ()> {
        self.0.as_ref().map(|job| Arc::as_ptr(job).cast::<()>())
    }

    /// Sends the task's follow-up work (continuations of its future) to `home`.
    pub(crate) fn adopt(&self, home: Home) {
        if let Some(job) = &self.0 {
            job.adopt(home);
        }
    }

    /// The task as a boxed closure, for executors that take one.
    ///
    /// ```
    /// use transparent_future::Builder;
    /// use transparent_future::executor::{Executor, Runnable};
    ///
    /// struct Std;
    /// impl Executor for Std {
    ///     fn execute(&self, task: Runnable) -> std::io::Result<()> {
    ///         std::thread::Builder::new().spawn(task.into_boxed()).map(drop)
    ///     }
    /// }
    /// assert_eq!(*Builder::new().on(&Std).spawn(|| 5)?, 5);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_boxed(self) -> Box<dyn FnOnce() + Send + 'static> {
        Box::new(move || self.run())
    }
}

impl Drop for Runnable {
    /// A task dropped without being run (an executor that discarded it) fails its
    /// readers with a panic naming the problem, rather than leaving them waiting.
    fn drop(&mut self) {
        if let Some(job) = self.0.take() {
            job.abandon();
        }
    }
}

impl fmt::Debug for Runnable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runnable").finish_non_exhaustive()
    }
}

/// Refuses a task that asks for a stack size, for executors whose threads already
/// exist.
pub(crate) fn refuse_stack_size(task: &Runnable, executor: &str) -> io::Result<()> {
    match task.stack_size() {
        None => Ok(()),
        Some(bytes) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "transparent_future: {executor} runs tasks on threads it already has, so it \
                 cannot give a task a stack of {bytes} bytes; Builder::stack_size applies \
                 only where a thread is started for the task (thread per task)"
            ),
        )),
    }
}

/// Anything that can run a task: a thread per task, a pool, rayon, or your own.
///
/// `execute` is handed each task once and should eventually call [`Runnable::run`]; a
/// task dropped unrun makes its readers panic with "the executor dropped the task
/// without running it". An `Err` tells
/// the spawner the task was refused; the `try_` spawn functions return it and the
/// others panic with it.
///
/// ```
/// use std::io;
/// use transparent_future::{Builder, Deadline, Outcome};
/// use transparent_future::executor::{Executor, Runnable};
///
/// struct OwnThread;
/// impl Executor for OwnThread {
///     fn execute(&self, task: Runnable) -> io::Result<()> {
///         std::thread::Builder::new().name("mine".into()).spawn(move || task.run()).map(drop)
///     }
/// }
///
/// let x = Builder::new()
///     .on(&OwnThread)
///     .timeout(Deadline::after(std::time::Duration::from_secs(30)))
///     .spawn(|| 1)?;
/// assert_eq!(*x, Outcome::Ready(1));
/// # Ok::<(), io::Error>(())
/// ```
pub trait Executor {
    /// Runs `task`, now or later, on some thread.
    fn execute(&self, task: Runnable) -> io::Result<()>;

    /// Whether a reader that would otherwise sleep until a task of this executor has
    /// finished may run the task itself when no thread has started it yet
    /// (work-helping). This keeps nested futures from starving a pool. Return `false`
    /// if tasks must run on the executor's own threads. Defaults to `true`.
    ///
    /// ```
    /// use transparent_future::ThreadPool;
    /// use transparent_future::executor::{Executor, ThreadPerTask};
    /// assert!(!ThreadPerTask.allows_helping());
    /// assert!(ThreadPool::new(1).allows_helping());
    /// ```
    fn allows_helping(&self) -> bool {
        true
    }
}

impl<E: Executor + ?Sized> Executor for &E {
    fn execute(&self, task: Runnable) -> io::Result<()> {
        (**self).execute(task)
    }
    fn allows_helping(&self) -> bool {
        (**self).allows_helping()
    }
}

impl<E: Executor + ?Sized> Executor for Arc<E> {
    fn execute(&self, task: Runnable) -> io::Result<()> {
        (**self).execute(task)
    }
    fn allows_helping(&self) -> bool {
        (**self).allows_helping()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Dummy;

    impl Queue for Dummy {
        fn enqueue(&self, task: Runnable) {
            drop(task);
        }
        fn unread_panic(&self, _panic: TaskPanic) {}
    }

    fn registered() -> (Arc<dyn Queue>, QueueRef) {
        let queue: Arc<dyn Queue> = Arc::new(Dummy);
        let entry = QueueRef::register(Arc::downgrade(&queue));
        (queue, entry)
    }

    #[test]
    fn a_home_finds_its_pool_while_the_pool_lives_and_never_a_later_one() {
        let (queue, entry) = registered();
        let home = entry.home();
        assert_eq!(Home::from_bits(home.to_bits()), home, "one word, both ways");
        assert_ne!(home.to_bits(), 0, "0 is a thread's home");
        let found = home.queue().expect("the pool lives");
        assert!(Arc::ptr_eq(&found, &queue));
        drop(found);

        drop(entry);
        assert!(home.queue().is_none(), "the pool's entry is gone");

        // A pool registered now may reuse the slot, under a new generation: the old
        // home must not find it.
        let (_later, later_entry) = registered();
        assert_ne!(later_entry.home(), home);
        assert!(home.queue().is_none());
        assert!(later_entry.home().queue().is_some());
    }

    #[test]
    fn a_thread_home_has_no_pool() {
        assert_eq!(Home::thread().to_bits(), 0);
        assert_eq!(Home::from_bits(0), Home::thread());
        assert!(Home::thread().queue().is_none());
    }
}
