//! A task: the closure and the shared state of its future, in one allocation.
//!
//! The handle ([`crate::Lazy`]) sees a task as a [`Source`] of values; an executor sees
//! it as a job to run, wrapped in a [`Runnable`](crate::Runnable). Both are the same
//! `Arc<Task<T, F>>`, so a future costs one heap allocation whatever runs it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, PoisonError};

use crate::executor::Runnable;
use crate::lazy::Lazy;
use crate::state::{Callback, Core};

/// A future's state seen without its value type: what the deadline timer needs.
pub(crate) trait Settle: Send + Sync {
    /// Decides the outcome if the deadline has passed (running the watchers).
    fn settle(&self);
}

/// What a handle needs from its task: the shared state, and a way to run the task on
/// the reader's own thread if nobody has started it (work-helping).
pub(crate) trait Source<T>: Settle {
    fn core(&self) -> &Core<T>;

    /// Runs the task here if no thread has claimed it yet; does nothing otherwise.
    fn run_here(&self);
}

/// What an executor needs from a task: something to run once.
pub(crate) trait Job: Send + Sync {
    /// Runs the closure and publishes its result. Runs the closure at most once: a
    /// second call (or a call after another thread claimed the closure) does nothing.
    fn run(&self);

    /// Called when the executor dropped the task without running it: if nobody ever
    /// claimed the closure, drop it and publish a panic naming the problem, so the
    /// readers fail with a clear message instead of waiting forever.
    fn abandon(&self);
}

pub(crate) struct Task<T, F> {
    core: Core<T>,
    /// The closure until somebody claims it to run it.
    job: Mutex<Option<F>>,
}

/// Builds a task around `f` and returns its handle and the job to hand to an executor.
pub(crate) fn new_task<T, F>(core: Core<T>, f: F) -> (Lazy<T>, Arc<dyn Job>)
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let task = Arc::new(Task {
        core,
        job: Mutex::new(Some(f)),
    });
    (Lazy::from_source(task.clone()), task)
}

impl<T, F> Settle for Task<T, F>
where
    T: Send,
    F: FnOnce() -> T + Send,
{
    fn settle(&self) {
        self.core.poll();
    }
}

impl<T, F> Source<T> for Task<T, F>
where
    T: Send,
    F: FnOnce() -> T + Send,
{
    fn core(&self) -> &Core<T> {
        &self.core
    }

    fn run_here(&self) {
        self.run();
    }
}

impl<T, F> Job for Task<T, F>
where
    T: Send,
    F: FnOnce() -> T + Send,
{
    fn run(&self) {
        let claimed = self
            .job
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(f) = claimed {
            // The closure is consumed here; a panic is caught and becomes the
            // future's result, so it reaches the readers and never the executor.
            let result = catch_unwind(AssertUnwindSafe(f));
            self.core.publish(result);
        }
    }

    fn abandon(&self) {
        let claimed = self
            .job
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(f) = claimed {
            drop(f);
            self.core.publish(Err(Box::new(
                "the executor dropped the task without running it",
            )));
        }
    }
}

/// The state of a future whose closure is not stored here: it runs elsewhere (on a
/// scoped thread, which may borrow) and only publishes its result to this state.
pub(crate) struct Remote<T> {
    core: Core<T>,
}

impl<T> Remote<T> {
    pub(crate) fn core(&self) -> &Core<T> {
        &self.core
    }
}

/// Builds a future fed by a closure that runs elsewhere.
pub(crate) fn new_remote<T: Send + 'static>(core: Core<T>) -> (Lazy<T>, Arc<Remote<T>>) {
    let remote = Arc::new(Remote { core });
    (Lazy::from_source(remote.clone()), remote)
}

impl<T: Send> Settle for Remote<T> {
    fn settle(&self) {
        self.core.poll();
    }
}

impl<T: Send> Source<T> for Remote<T> {
    fn core(&self) -> &Core<T> {
        &self.core
    }

    /// Nothing to run here: the closure lives on its own thread.
    fn run_here(&self) {}
}

/// A job that runs one callback: follow-up work handed to an executor.
struct Once(Mutex<Option<Callback>>);

impl Job for Once {
    fn run(&self) {
        let claimed = self.0.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(callback) = claimed {
            callback();
        }
    }

    /// Follow-up work publishes to its own future; if it is dropped unrun, that future
    /// is failed by the callback's owner, so nothing more to do here.
    fn abandon(&self) {
        let claimed = self.0.lock().unwrap_or_else(PoisonError::into_inner).take();
        drop(claimed);
    }
}

/// Wraps a callback as a task for an executor.
pub(crate) fn runnable(callback: Callback) -> Runnable {
    Runnable::new(Arc::new(Once(Mutex::new(Some(callback)))))
}

/// The right to publish a downstream future's result (a continuation or a
/// combinator). Publishing consumes it; dropping it unpublished (follow-up work that
/// could not run) fails the future with a panic naming the problem, so its readers
/// never wait forever.
pub(crate) struct Publisher<T: Send + 'static> {
    remote: Option<Arc<Remote<T>>>,
}

impl<T: Send + 'static> Publisher<T> {
    /// A new downstream future and the right to publish its result.
    pub(crate) fn new(core: Core<T>) -> (Lazy<T>, Publisher<T>) {
        let (lazy, remote) = new_remote(core);
        (
            lazy,
            Publisher {
                remote: Some(remote),
            },
        )
    }

    pub(crate) fn publish(mut self, result: crate::state::TaskResult<T>) {
        if let Some(remote) = self.remote.take() {
            remote.core().publish(result);
        }
    }
}

impl<T: Send + 'static> Drop for Publisher<T> {
    fn drop(&mut self) {
        if let Some(remote) = self.remote.take() {
            remote.core().publish(Err(Box::new(
                "the follow-up work of a future was dropped without running",
            )));
        }
    }
}
