//! The handle's crate-internal interface: what combinators, `.await` and the executors
//! need from a `Lazy` beyond its public API (callbacks on the outcome, helping, the
//! deadlock graph, where follow-up work goes). Kept apart from the handle itself.

use std::sync::Arc;
use std::time::Instant;

use crate::core::job::{Home, Once, queued};
use crate::core::state::{Callback, DecidedBy, TaskResult};
use crate::core::task::Source;
use crate::core::timer::{self, Settle};
use crate::deadlock::Node;
use crate::lazy::Lazy;

/// What [`Lazy::when_done`] does with a callback whose input is already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IfDecided {
    /// Call it on the current thread (it is cheap: it only forwards the result).
    RunHere,
    /// Hand it to the future's home executor (it runs user code).
    Submit,
}

impl<T: Send + 'static> Lazy<T> {
    /// Calls `k` with the task's result (value, panic payload, or the timeout value)
    /// once the outcome is decided, without blocking any thread: on the thread that
    /// decides it if that is still to come; otherwise as `if_decided` says. Returns the
    /// job if `k` was queued on an executor: the future `k` computes records it with
    /// [`Lazy::follows`], so that its readers can run it.
    #[must_use = "the future computed by the callback records a queued job (Lazy::follows)"]
    pub(crate) fn when_done<K>(mut this: Self, k: K, if_decided: IfDecided) -> Option<Arc<Once>>
    where
        K: FnOnce(TaskResult<T>, DecidedBy) + Send + 'static,
    {
        let task = match (this.value.take(), this.task.take()) {
            (Some(value), task) => {
                let home = task.map(|t| t.core().home()).unwrap_or_default();
                return run_or_submit(Box::new(move |by| k(Ok(value), by)), if_decided, &home);
            }
            (None, None) => unreachable!("transparent_future: a resolved future without a value"),
            (None, Some(task)) => task,
        };
        let source = Arc::clone(&task);
        let callback: Callback = Box::new(move |by| k(source.core().take_result(), by));
        match task.core().watch(callback, if_decided == IfDecided::Submit) {
            Ok(_) => {
                Lazy::schedule_deadline(&task);
                None
            }
            Err(callback) => run_or_submit(callback, if_decided, &task.core().home()),
        }
    }

    /// Calls `k` once the outcome is decided, without consuming the handle (the value
    /// stays for other readers): on the thread that decides it if that is still to
    /// come, otherwise as `if_decided` says. `k` reads the outcome through a handle of
    /// its own (a `SharedLazy` clone) with [`Lazy::decided`]. Returns the job if `k`
    /// was queued, as [`Lazy::when_done`] does.
    #[must_use = "the future computed by the callback records a queued job (Lazy::follows)"]
    pub(crate) fn when_decided<K>(this: &Self, k: K, if_decided: IfDecided) -> Option<Arc<Once>>
    where
        K: FnOnce(DecidedBy) + Send + 'static,
    {
        let callback: Callback = Box::new(k);
        let task = match (this.value.get(), this.task.as_ref()) {
            (Some(_), task) => {
                let home = task.map(|t| t.core().home()).unwrap_or_default();
                return run_or_submit(callback, if_decided, &home);
            }
            (None, None) => unreachable!("transparent_future: a resolved future without a value"),
            (None, Some(task)) => task,
        };
        match task.core().watch(callback, if_decided == IfDecided::Submit) {
            Ok(_) => {
                Lazy::schedule_deadline(task);
                None
            }
            Err(callback) => run_or_submit(callback, if_decided, &task.core().home()),
        }
    }

    /// This (derived) future is computed by `job`, queued on an executor (see
    /// [`Lazy::when_done`]): recorded so that a reader that would wait for it runs it
    /// instead, should the executor's threads all be busy (they may be waiting on it).
    pub(crate) fn follows(this: &Self, job: Option<Arc<Once>>) {
        if let (Some(job), Some(task)) = (job, this.task.as_ref()) {
            task.queued(job);
        }
    }

    /// Registers `callback` to run when this future's outcome is decided; `Err` gives
    /// it back if it already is. Keeps the deadline, if any, on the timer.
    pub(crate) fn watch(this: &Self, callback: Callback) -> Result<u64, Callback> {
        if this.value.get().is_some() {
            return Err(callback);
        }
        let Some(task) = this.task.as_ref() else {
            return Err(callback);
        };
        let id = task.core().watch(callback, false)?;
        Lazy::schedule_deadline(task);
        Ok(id)
    }

    /// Removes a watcher registered with [`Lazy::watch`] that has not run.
    pub(crate) fn unwatch(this: &Self, id: u64) {
        if let Some(task) = this.task.as_ref() {
            task.core().unwatch(id);
        }
    }

    /// A watched future with a deadline must be decided at the deadline even if no
    /// reader looks: the timer settles it then (one timer entry per future).
    fn schedule_deadline(task: &Arc<dyn Source<T>>) {
        if let Some(at) = task.core().claim_timer() {
            let settle: Arc<dyn Settle> = task.clone();
            timer::schedule(at, Arc::downgrade(&settle));
        }
    }

    /// Runs the work of this future on this thread if that is allowed and nobody has
    /// started it; returns whether it ran something (the caller looks again, and helps
    /// again: a step can queue the next). Never blocks on another thread.
    pub(crate) fn help(this: &Self) -> bool {
        match this.task.as_ref() {
            Some(task) if this.value.get().is_none() => task.help(),
            _ => false,
        }
    }

    /// Whether this future, undecided, will be decided without this thread's help: a
    /// thread computes it (or all the work it waits for) now.
    pub(crate) fn running(this: &Self) -> bool {
        match this.task.as_ref() {
            Some(task) if this.value.get().is_none() => {
                !task.core().settle_if_due() && task.running()
            }
            _ => false,
        }
    }

    /// This future as a node of the deadlock detector's graph (`None` once resolved).
    pub(crate) fn node(this: &Self) -> Option<std::sync::Weak<dyn Node>> {
        if this.value.get().is_some() {
            return None;
        }
        let node: Arc<dyn Node> = this.task.clone()?;
        Some(Arc::downgrade(&node))
    }

    /// The future's deadline, if it was spawned with one.
    pub(crate) fn deadline(this: &Self) -> Option<Instant> {
        this.task.as_ref().and_then(|t| t.core().deadline())
    }

    /// Where follow-up work of this future runs.
    pub(crate) fn home(this: &Self) -> Home {
        this.task
            .as_ref()
            .map(|t| t.core().home())
            .unwrap_or_default()
    }
}

/// Runs a callback whose input is already decided. Both ways run it where user code
/// may run: here (the caller is a thread that may, never a deadline's), or on the
/// future's home executor; then the job is returned, for the downstream to record.
fn run_or_submit(callback: Callback, if_decided: IfDecided, home: &Home) -> Option<Arc<Once>> {
    match if_decided {
        IfDecided::RunHere => {
            callback(DecidedBy::Task);
            None
        }
        IfDecided::Submit => {
            let (job, runnable) = queued(Box::new(move || callback(DecidedBy::Task)));
            // Only a queue can leave it waiting behind busy workers (perhaps behind
            // its own readers): a thread of its own starts it at once.
            home.submit(runnable).then_some(job)
        }
    }
}
