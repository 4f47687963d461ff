//! A pool's run queues, and how its workers look for work and sleep.
//!
//! # Queues
//!
//! Each worker owns a LIFO deque (`crossbeam-deque`, as rayon-core uses): a task
//! spawned on a worker goes onto that worker's own deque, where the worker finds it
//! again first, while it is still in cache. A task spawned from any other thread goes
//! onto the pool's FIFO injector (`core/injector.rs`: a buffer under a lock, which
//! measured faster than a lock-free one for a thread submitting in bulk). A worker
//! takes tasks from the injector in batches, into a FIFO batch queue of its own, apart
//! from its deque. A worker looks for work in that order: its own deque (newest
//! first), its batch (oldest first), the injector (oldest first, taking a batch), then
//! the other workers' batches and deques (oldest first: the submissions from outside
//! are older, and in nested fork-join the oldest task is the largest piece of work).
//!
//! Tasks submitted from outside the pool therefore start in the order they were
//! submitted (on one worker; across several, in that order of taking): the batch is
//! older than the injector, and both are FIFO. A batch pushed onto the LIFO deque
//! instead would have its newest task at the deque's far end, where a fair turn (or a
//! thief) takes "the oldest"; on a one-worker pool, a task that reads an older future
//! with a bounded wait (which never runs the work it waits for) would then start before
//! that future's task and wait out its whole limit.
//!
//! Every [`FAIR_TURN`]th look goes the other way round: the submissions from outside
//! first (the batch's oldest, then the injector's), then the oldest task of the
//! worker's own deque. A task that queues itself again from a worker (an actor's drain
//! handing its worker back after a batch, any loop that yields by resubmitting) lands
//! on top of the worker's own deque and would be found first every time; without these
//! turns, the injector's tasks and the older tasks beneath it would wait until it
//! stops, however long (on a one-worker pool, for good; the old single FIFO channel put
//! such a task at the back). With them, every `FAIR_TURN`th task a worker takes is the
//! oldest submission from outside or, if there is none, its own deque's oldest. Only
//! the order of queued tasks changes: a turn is taken between tasks, never inside one,
//! so fork-join nesting is unaffected.
//!
//! A reader that runs a task itself (work-helping) claims the task's closure, so the
//! queue entry it leaves behind becomes a no-op for whoever pops it. A reader on a
//! worker first looks at the top of its own deque: in fork-join, the future it reads is
//! the one it pushed last, so it pops the entry and runs it, leaving nothing behind.
//!
//! # Sleep
//!
//! A worker that finds nothing spins a little (with backoff), then sleeps on a condvar.
//! No lost wake-up, by a store-fence-load handshake on both sides:
//!
//! * a submitter pushes, issues a `SeqCst` fence, then reads the count of sleepers and,
//!   if any, notifies one under the sleep lock;
//! * a worker about to sleep takes the sleep lock, increments the count, issues a
//!   `SeqCst` fence, then looks at every queue once more, and waits only if they are
//!   all empty (it holds the lock from the increment to the wait).
//!
//! Of the two fences, one comes first: either the submitter sees the sleeper (and its
//! notification, taken under the lock, reaches the waiting worker), or the worker's
//! last look sees the task. A submitter that sees no sleeper costs one fence and one
//! load of a line that changes only when workers fall asleep or wake.
//!
//! A task can also be out of every queue for a moment while a worker moves it: a batch
//! taken from the injector is on its way into the taker's batch queue, and a reader's
//! look at the top of its deque pops a task and pushes it back. A worker whose last
//! look falls in that moment sleeps without having seen it. So a worker that moves
//! tasks into its own queues that way is a submitter too: once they are there, it runs
//! the submitter's half of the handshake (after a batch, only when the batch left tasks
//! behind), and a sleeper comes to steal them, as the other worker must when the mover
//! then blocks.
//!
//! # Closing
//!
//! Closing (a shutdown, or the pool's last handle going) refuses new tasks and wakes
//! every worker. Submissions from other threads hold the injector's lock across their
//! check and their push, and closing sets the flag under that lock, so no task lands
//! in the injector after the close. A worker pushing onto its own deque takes no lock,
//! so its push may land just after the close: the task is accepted, and must still run even if that
//! worker then blocks on it (it may read something that task decides) while the others
//! have looked everywhere and found nothing.
//!
//! So the workers exit together: after the close, a worker whose look finds nothing
//! counts itself done (under the sleep lock) and sleeps; it is woken like any sleeper
//! by a push, uncounts itself and steals the task. Only a worker running a task can
//! push, and a done worker is running none, so once every worker is done nothing more
//! can be queued: the last one wakes the others and all exit. (A worker that exited
//! on its own last look could leave an accepted task on the deque of a worker blocked
//! on it, or miss one a worker was moving; the model `pool close vs submissions`
//! catches the first.)
//!
//! The model checks (`core/model.rs`) run this protocol with the workers' deques
//! replaced by the model's mutexes (`sync::deque`); the injector runs as it is, on
//! the model's mutex.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use crate::core::injector::Injector;
use crate::core::job::Runnable;
use crate::core::sync::atomic::{AtomicBool, AtomicUsize, Ordering, fence};
use crate::core::sync::deque::{Steal, Stealer, Worker};
use crate::core::sync::{Backoff, Condvar, Mutex, PoisonError};

/// Every how many looks for work a worker first looks at the oldest queued tasks (its
/// batch's, the injector's, then its own deque's oldest), so that a task that keeps
/// queueing itself on top of its own deque cannot hold off the others (see the
/// module's notes).
const FAIR_TURN: u32 = 4;

/// A pool's queues: one injector, one deque per worker, and the workers' sleep.
pub(crate) struct Queues {
    injector: Injector<Runnable>,
    /// The other ends of the workers' deques, by worker index.
    stealers: Vec<Stealer<Runnable>>,
    /// The other ends of the workers' batches (tasks taken from the injector), by
    /// worker index.
    batch_stealers: Vec<Stealer<Runnable>>,
    /// Set once the pool is closed, under the injector's lock. Read under that lock
    /// by submissions onto the injector (so that none lands after the close), and
    /// without it by the workers and their own submissions.
    closed: AtomicBool,
    sleep: Sleep,
}

// A panic cannot leave the queues half-changed: the deques are lock-free structures
// that a panicking task never touches mid-operation, and every lock here ignores
// poisoning and guards a buffer or a count that no code able to panic changes midway
// (the injector's queue, the sleep lock's count of done workers). So a pool holding
// its queues stays unwind-safe, as it was with a channel.
impl std::panic::UnwindSafe for Queues {}
impl std::panic::RefUnwindSafe for Queues {}

/// The workers' sleep: a count of sleepers, and a condvar they wait on.
struct Sleep {
    /// Taken to fall asleep and to wake a sleeper. Counts the workers that found
    /// nothing to do after the close and wait for the others ("done"; they all exit
    /// once every worker is).
    lock: Mutex<usize>,
    cond: Condvar,
    sleepers: AtomicUsize,
}

/// What the current thread is, if it is a worker: its pool's queues, its index, its
/// own deque and its batch.
struct Local {
    queues: Arc<Queues>,
    index: usize,
    /// The tasks this worker spawned (LIFO: newest first).
    deque: Worker<Runnable>,
    /// The tasks it took from the injector and has not run yet (FIFO: oldest first,
    /// for it and for thieves, so that tasks submitted from outside start in the
    /// order they were submitted).
    batch: Worker<Runnable>,
    /// Looks for work so far, for the fair turns.
    looks: Cell<u32>,
}

#[cfg(not(transparent_future_shuttle))]
std::thread_local! {
    static LOCAL: RefCell<Option<Local>> = const { RefCell::new(None) };
}
#[cfg(transparent_future_shuttle)]
shuttle::thread_local! {
    static LOCAL: RefCell<Option<Local>> = RefCell::new(None);
}

/// A worker's deque and batch, to hand to [`Queues::work`] on the worker's thread.
pub(crate) struct WorkerDeque {
    deque: Worker<Runnable>,
    batch: Worker<Runnable>,
}

impl Queues {
    /// Queues for `workers` workers, and each worker's deque and batch.
    pub(crate) fn new(workers: usize) -> (Arc<Queues>, Vec<WorkerDeque>) {
        let deques: Vec<WorkerDeque> = (0..workers)
            .map(|_| WorkerDeque {
                deque: Worker::new_lifo(),
                batch: Worker::new_fifo(),
            })
            .collect();
        let queues = Queues {
            injector: Injector::new(),
            stealers: deques.iter().map(|d| d.deque.stealer()).collect(),
            batch_stealers: deques.iter().map(|d| d.batch.stealer()).collect(),
            closed: AtomicBool::new(false),
            sleep: Sleep {
                lock: Mutex::new(0),
                cond: Condvar::new(),
                sleepers: AtomicUsize::new(0),
            },
        };
        (Arc::new(queues), deques)
    }

    /// Queues `task`, or hands it back if the pool is closed: onto the current
    /// thread's own deque if it is one of these workers, else onto the injector.
    pub(crate) fn push(self: &Arc<Self>, task: Runnable) -> Result<(), Runnable> {
        let task = match self.push_local(task) {
            Ok(()) => {
                self.sleep.notify_one();
                return Ok(());
            }
            Err(task) => task,
        };
        self.injector.push(task, &self.closed)?;
        self.sleep.notify_one();
        Ok(())
    }

    /// Pushes onto this thread's own deque if it is one of these workers and the pool
    /// is open; otherwise hands the task back.
    fn push_local(self: &Arc<Self>, task: Runnable) -> Result<(), Runnable> {
        LOCAL.with(|local| {
            let local = local.borrow();
            match local.as_ref() {
                Some(local)
                    if Arc::ptr_eq(&local.queues, self)
                        // ORDERING: Acquire pairs with the close's store: a task
                        // pushed after the close is seen as refused (a task pushed
                        // just before runs: the workers exit only together, once
                        // none is running a task; see the module's notes).
                        && !self.closed.load(Ordering::Acquire) =>
                {
                    local.deque.push(task);
                    Ok(())
                }
                _ => Err(task),
            }
        })
    }

    /// Whether the pool is closed.
    pub(crate) fn is_closed(&self) -> bool {
        // ORDERING: Acquire pairs with the close's store (any order would do for a
        // report; this is the one the workers use).
        self.closed.load(Ordering::Acquire)
    }

    /// Closes the queues: from now on [`Queues::push`] refuses tasks; the workers run
    /// what is queued, then exit together. Closing again does nothing more.
    pub(crate) fn close(&self) {
        self.injector.close(&self.closed);
        self.sleep.notify_all();
    }

    /// How many tasks are queued (entries that a reader has already run included).
    pub(crate) fn len(&self) -> usize {
        self.injector.len()
            + self
                .stealers
                .iter()
                .chain(&self.batch_stealers)
                .map(Stealer::len)
                .sum::<usize>()
    }

    /// A worker's loop, on the worker's thread: runs tasks until the queues are closed
    /// and every worker has found them empty. `run` runs one task.
    pub(crate) fn work(self: &Arc<Self>, index: usize, deque: WorkerDeque, run: impl Fn(Runnable)) {
        LOCAL.with(|local| {
            *local.borrow_mut() = Some(Local {
                queues: Arc::clone(self),
                index,
                deque: deque.deque,
                batch: deque.batch,
                looks: Cell::new(0),
            });
        });
        loop {
            if let Some(task) = self.find_spinning() {
                run(task);
                continue;
            }
            if !self.sleep() {
                break;
            }
        }
        // The deque is empty (every worker's last look found nothing in any deque):
        // nothing is dropped unrun with it.
        let local = LOCAL.with(|local| local.borrow_mut().take());
        drop(local);
    }

    /// Looks for a task, spinning with backoff a few rounds before giving up.
    fn find_spinning(&self) -> Option<Runnable> {
        let backoff = Backoff::new();
        loop {
            if let Some(task) = self.find() {
                return Some(task);
            }
            if backoff.is_completed() {
                return None;
            }
            backoff.snooze();
        }
    }

    /// One look for a task, from this worker: its own deque, its batch, the injector,
    /// the others (every [`FAIR_TURN`]th look, its batch, the injector and its own
    /// deque's oldest first).
    fn find(&self) -> Option<Runnable> {
        LOCAL.with(|local| {
            let local = local.borrow();
            let local = local.as_ref()?;
            let looks = local.looks.get().wrapping_add(1);
            local.looks.set(looks);
            if looks % FAIR_TURN == 0 {
                // A fair turn: the oldest work first, the submissions from outside
                // (its batch is older than the injector), then this worker's own
                // (taken from the old end, as a thief would).
                if let Some(task) = local.batch.pop() {
                    return Some(task);
                }
                if let Some(task) = self.take_batch(local) {
                    return Some(task);
                }
                if let Some(task) = retrying(|| self.stealers[local.index].steal()) {
                    return Some(task);
                }
            }
            if let Some(task) = local.deque.pop() {
                return Some(task);
            }
            if let Some(task) = local.batch.pop() {
                return Some(task);
            }
            if let Some(task) = self.take_batch(local) {
                return Some(task);
            }
            let n = self.stealers.len();
            (1..n).find_map(|k| {
                let other = (local.index + k) % n;
                retrying(|| self.batch_stealers[other].steal())
                    .or_else(|| retrying(|| self.stealers[other].steal()))
            })
        })
    }

    /// Takes the injector's oldest task to run, and a batch more into this worker's
    /// batch.
    fn take_batch(&self, local: &Local) -> Option<Runnable> {
        let batch = &local.batch;
        let task = self.injector.take_batch(batch)?;
        if !batch.is_empty() {
            // The rest of the batch was out of every queue on its way here: a worker
            // that looked meanwhile may be asleep (module's notes).
            self.sleep.notify_one();
        }
        Some(task)
    }

    /// Whether any queue holds a task.
    fn has_work(&self) -> bool {
        !self.injector.is_empty()
            || self
                .stealers
                .iter()
                .chain(&self.batch_stealers)
                .any(|s| !s.is_empty())
    }

    /// Sleeps until a submission or the close wakes this worker (or spuriously).
    /// Returns `false` when the worker is to exit: the queues are closed and every
    /// worker has found nothing to do (module's notes, "Closing").
    fn sleep(&self) -> bool {
        let sleep = &self.sleep;
        let mut done = sleep.lock.lock().unwrap_or_else(PoisonError::into_inner);
        // ORDERING: SeqCst increment and fence: the sleeper's half of the handshake in
        // the module's notes; the look below cannot miss a task whose submitter missed
        // this sleeper.
        sleep.sleepers.fetch_add(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        // ORDERING: SeqCst, ordered after the fence, as the close's store. Read before
        // the look: a close seen here comes after every push it allowed (under the
        // injector's lock), so the look sees them; a close not seen here wakes this sleeper.
        let closed = self.closed.load(Ordering::SeqCst);
        let keep = if self.has_work() {
            true
        } else if !closed {
            done = sleep
                .cond
                .wait(done)
                .unwrap_or_else(PoisonError::into_inner);
            true
        } else {
            // Closed, and nothing queued: done, unless a worker still running a task
            // queues more (its push wakes a sleeper, as before the close).
            *done += 1;
            let workers = self.stealers.len();
            if *done == workers {
                // Every worker is done: none runs a task, so none can queue one.
                sleep.cond.notify_all();
                false
            } else {
                done = sleep
                    .cond
                    .wait(done)
                    .unwrap_or_else(PoisonError::into_inner);
                if *done == workers {
                    false
                } else {
                    // Woken by a push (or spuriously): look again.
                    *done -= 1;
                    true
                }
            }
        };
        drop(done);
        // ORDERING: Relaxed: the count is read only after a submitter's fence; a
        // stale higher count costs one needless notification.
        sleep.sleepers.fetch_sub(1, Ordering::Relaxed);
        keep
    }
}

impl Sleep {
    /// Wakes one sleeping worker, if any: the submitter's half of the handshake.
    fn notify_one(&self) {
        // ORDERING: the fence orders the push before the read of the count (see the
        // module's notes); the read itself may then be Relaxed.
        fence(Ordering::SeqCst);
        if self.sleepers.load(Ordering::Relaxed) > 0 {
            let _guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
            self.cond.notify_one();
        }
    }

    /// Wakes every worker (the close).
    fn notify_all(&self) {
        let _guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        self.cond.notify_all();
    }
}

/// A steal, tried again while it asks to be retried (another thread raced it).
fn retrying(steal: impl Fn() -> Steal<Runnable>) -> Option<Runnable> {
    loop {
        let attempt = steal();
        if !attempt.is_retry() {
            return attempt.success();
        }
    }
}

/// If this thread is a worker and `job` is the task on top of its own deque (the one
/// it pushed last), pops it and runs it here; returns whether it did. A reader's fast
/// path in nested fork-join: no entry is left behind for a worker to skip.
pub(crate) fn run_if_on_top(job: *const ()) -> bool {
    match take_if_on_top(job) {
        Some(task) => {
            task.run();
            true
        }
        None => false,
    }
}

/// If this thread is a worker and `job` is the task on top of its own deque, pops it
/// and hands it to the caller (a reader about to run it some other way, or drop the
/// queue's reference to it). Otherwise leaves the deque as it was.
pub(crate) fn take_if_on_top(job: *const ()) -> Option<Runnable> {
    LOCAL.with(|local| {
        let local = local.borrow();
        let local = local.as_ref()?;
        let top = local.deque.pop()?;
        if top.job_ptr() == Some(job) {
            Some(top)
        } else {
            // Not ours: back where it was (the top of a LIFO deque). It was out of
            // every queue meanwhile: a worker that looked then may be asleep, and
            // this reader may go on to block on it (module's notes).
            local.deque.push(top);
            local.queues.sleep.notify_one();
            None
        }
    })
}
