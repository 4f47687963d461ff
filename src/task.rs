//! A task: the closure and the shared state of its future, in one allocation.
//!
//! The handle ([`crate::Lazy`]) sees a task as a [`Source`] of values; an executor sees
//! it as a [`Job`] to run. Both are the same `Arc<Task<T, F>>`, so a future costs one
//! heap allocation whatever runs it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Mutex, PoisonError};

use crate::state::Core;

/// What a handle needs from its task: the shared state.
pub(crate) trait Source<T>: Send + Sync {
    fn core(&self) -> &Core<T>;
}

/// What an executor needs from a task: something to run once.
pub(crate) trait Job: Send + Sync {
    /// Runs the closure and publishes its result. Runs the closure at most once: a
    /// second call (or a call after another thread claimed the closure) does nothing.
    fn run(&self);
}

pub(crate) struct Task<T, F> {
    core: Core<T>,
    /// The closure until somebody claims it to run it.
    job: Mutex<Option<F>>,
}

impl<T, F> Task<T, F>
where
    F: FnOnce() -> T,
{
    pub(crate) fn new(core: Core<T>, f: F) -> Self {
        Task {
            core,
            job: Mutex::new(Some(f)),
        }
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
}
