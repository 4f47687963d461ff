//! A task: the closure and the shared state of its future, in one allocation.
//!
//! The handle (`Lazy`) sees a task as a [`Source`] of values; an executor sees
//! it as a job to run, wrapped in a [`Runnable`](crate::executor::Runnable). Both are the same
//! `Arc<Task<T, F>>`, so a future costs one heap allocation whatever runs it.

use std::borrow::Cow;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Weak};
use std::thread;

use crate::core::cancel::CancelFlag;
use crate::core::job::{Home, Job};
use crate::core::panic::TaskPanic;
use crate::core::state::{Core, DecidedBy, TaskResult};
use crate::core::sync::{Mutex, PoisonError};
use crate::core::timer::Settle;
use crate::deadlock::{self, Blocker, Node};

/// What a handle needs from its task: the shared state, and a way to run the task on
/// the reader's own thread if nobody has started it (work-helping).
pub(crate) trait Source<T>: Settle + Node {
    fn core(&self) -> &Core<T>;

    /// Asks a cancellable task to stop (no effect on others).
    fn request_cancel(&self) {}
}

/// What a task carries beyond its closure and state: a cancellation flag, a name and a
/// stack size, each only if it was asked for. A type parameter, so that a plain task
/// pays no space for them.
pub(crate) trait Extras: Send + Sync {
    /// Asks the task to stop (no effect unless it is cancellable).
    fn request_cancel(&self) {}
    /// The name the task was given, if any.
    fn name(&self) -> Option<&str> {
        None
    }
    /// The stack size asked for the task's thread, if any.
    fn stack_size(&self) -> Option<usize> {
        None
    }
}

impl Extras for () {}

impl Extras for Arc<CancelFlag> {
    fn request_cancel(&self) {
        self.cancel();
    }
}

/// A name and a stack size, as a [`Builder`](crate::Builder) was given them.
#[derive(Debug, Default)]
pub(crate) struct Named {
    pub(crate) name: Option<String>,
    pub(crate) stack_size: Option<usize>,
}

/// Extras `X` plus a name or a stack size, boxed: one word in the task.
pub(crate) struct Configured<X> {
    pub(crate) options: Box<Named>,
    pub(crate) inner: X,
}

impl<X: Extras> Extras for Configured<X> {
    fn request_cancel(&self) {
        self.inner.request_cancel();
    }
    fn name(&self) -> Option<&str> {
        self.options.name.as_deref()
    }
    fn stack_size(&self) -> Option<usize> {
        self.options.stack_size
    }
}

pub(crate) struct Task<T, F, X = ()> {
    core: Core<T>,
    /// The closure until somebody claims it; then the thread running it.
    job: Mutex<JobState<F>>,
    extras: X,
}

enum JobState<F> {
    Unclaimed(F),
    /// Being run by this thread (what the deadlock detector follows).
    Running(thread::Thread),
    Finished,
}

impl<T, F, X> Task<T, F, X> {
    /// Claims the closure for this thread, if nobody has.
    fn claim(&self) -> Option<F> {
        let mut job = self.job.lock().unwrap_or_else(PoisonError::into_inner);
        match std::mem::replace(&mut *job, JobState::Finished) {
            JobState::Unclaimed(f) => {
                *job = JobState::Running(thread::current());
                Some(f)
            }
            other => {
                *job = other;
                None
            }
        }
    }

    fn finish(&self) {
        *self.job.lock().unwrap_or_else(PoisonError::into_inner) = JobState::Finished;
    }
}

/// Builds a task around `f`: its source (for a handle) and the job to hand to an
/// executor, the same allocation.
pub(crate) fn new_task<T, F, X>(
    core: Core<T>,
    f: F,
    extras: X,
) -> (Arc<dyn Source<T>>, Arc<dyn Job>)
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
    X: Extras + 'static,
{
    let task = Arc::new(Task {
        core,
        job: Mutex::new(JobState::Unclaimed(f)),
        extras,
    });
    (task.clone(), task)
}

impl<T, F, X> Settle for Task<T, F, X>
where
    T: Send,
    F: FnOnce() -> T + Send,
    X: Extras,
{
    fn settle(&self) -> bool {
        self.core.settle_if_due()
    }
}

impl<T, F, X> Node for Task<T, F, X>
where
    T: Send,
    F: FnOnce() -> T + Send,
    X: Extras,
{
    fn label(&self) -> Cow<'static, str> {
        match self.extras.name() {
            Some(name) => Cow::Owned(deadlock::task_label(name)),
            None => Cow::Owned(deadlock::task_label(std::any::type_name::<F>())),
        }
    }

    fn blocker(&self) -> Blocker {
        if self.core.deadline().is_some() {
            // A wait through this future ends at its deadline: no deadlock.
            return Blocker::Nothing;
        }
        match &*self.job.lock().unwrap_or_else(PoisonError::into_inner) {
            JobState::Running(thread) => Blocker::Runner(thread.clone()),
            JobState::Unclaimed(_) | JobState::Finished => Blocker::Nothing,
        }
    }

    /// Work-helping: runs the task here if its executor allows it, it has no deadline,
    /// and no thread has claimed it yet.
    fn help(&self) -> bool {
        self.core.may_help() && self.run_claimed()
    }

    fn unstarted(&self) -> bool {
        matches!(
            *self.job.lock().unwrap_or_else(PoisonError::into_inner),
            JobState::Unclaimed(_)
        )
    }

    fn running(&self) -> bool {
        matches!(
            *self.job.lock().unwrap_or_else(PoisonError::into_inner),
            JobState::Running(_)
        )
    }

    fn idle_worker(&self) -> bool {
        self.core.home().has_idle_worker()
    }
}

impl<T, F, X> Source<T> for Task<T, F, X>
where
    T: Send,
    F: FnOnce() -> T + Send,
    X: Extras,
{
    fn core(&self) -> &Core<T> {
        &self.core
    }

    fn request_cancel(&self) {
        self.extras.request_cancel();
    }
}

impl<T, F, X> Job for Task<T, F, X>
where
    T: Send,
    F: FnOnce() -> T + Send,
    X: Extras,
{
    fn run(&self) {
        self.run_claimed();
    }

    fn name(&self) -> Option<&str> {
        self.extras.name()
    }

    fn stack_size(&self) -> Option<usize> {
        self.extras.stack_size()
    }

    fn adopt(&self, home: Home) {
        self.core.adopt(home);
    }

    fn abandon(&self) {
        if let Some(f) = self.claim() {
            self.finish();
            drop(f);
            self.core.publish(Err(TaskPanic::new(Box::new(
                "the executor dropped the task without running it",
            ))));
        }
    }
}

impl<T, F, X> Task<T, F, X>
where
    T: Send,
    F: FnOnce() -> T + Send,
    X: Extras,
{
    /// Runs the closure if this thread claims it; returns whether it did.
    fn run_claimed(&self) -> bool {
        if let Some(f) = self.claim() {
            // The closure is consumed here; a panic is caught and becomes the
            // future's result, so it reaches the readers and never the executor.
            let running = deadlock::running_task(
                std::ptr::from_ref(self).cast::<()>() as usize,
                match self.extras.name() {
                    Some(name) => Cow::Owned(name.to_owned()),
                    None => Cow::Borrowed(std::any::type_name::<F>()),
                },
            );
            let result = catch_unwind(AssertUnwindSafe(f)).map_err(TaskPanic::new);
            self.finish();
            drop(running);
            self.core.publish(result);
            true
        } else {
            false
        }
    }
}

/// The state of a future whose closure is not stored here: it runs elsewhere (on a
/// scoped thread, which may borrow, or as a continuation) and only publishes here.
pub(crate) struct Remote<T> {
    core: Core<T>,
    /// What the future is, for the deadlock detector's messages.
    label: Cow<'static, str>,
    /// What it waits for now, for the deadlock detector.
    link: Mutex<Link>,
}

enum Link {
    Nothing,
    Runner(thread::Thread),
    Upstreams(Vec<Weak<dyn Node>>),
}

impl<T> Remote<T> {
    pub(crate) fn core(&self) -> &Core<T> {
        &self.core
    }

    /// A copy of what the future waits for now (taken out of the lock, so that helping
    /// never runs a task under it).
    fn blocker_link(&self) -> Link {
        match &*self.link.lock().unwrap_or_else(PoisonError::into_inner) {
            Link::Nothing => Link::Nothing,
            Link::Runner(thread) => Link::Runner(thread.clone()),
            Link::Upstreams(up) => Link::Upstreams(up.clone()),
        }
    }

    fn set_link(&self, link: Link) {
        *self.link.lock().unwrap_or_else(PoisonError::into_inner) = link;
    }

    /// The current thread computes this future from now on.
    pub(crate) fn computing_here(&self) {
        self.set_link(Link::Runner(thread::current()));
    }

    /// This future waits for `upstreams` from now on.
    pub(crate) fn needs(&self, upstreams: Vec<Weak<dyn Node>>) {
        self.set_link(Link::Upstreams(upstreams));
    }
}

/// Builds a future fed by a closure that runs elsewhere; `label` names it.
pub(crate) fn new_remote<T: Send + 'static>(
    core: Core<T>,
    label: Cow<'static, str>,
) -> Arc<Remote<T>> {
    Arc::new(Remote {
        core,
        label,
        link: Mutex::new(Link::Nothing),
    })
}

impl<T: Send> Settle for Remote<T> {
    fn settle(&self) -> bool {
        self.core.settle_if_due()
    }
}

impl<T: Send> Node for Remote<T> {
    fn label(&self) -> Cow<'static, str> {
        self.label.clone()
    }

    fn blocker(&self) -> Blocker {
        if self.core.deadline().is_some() {
            // A wait through this future ends at its deadline: no deadlock.
            return Blocker::Nothing;
        }
        match &*self.link.lock().unwrap_or_else(PoisonError::into_inner) {
            Link::Nothing => Blocker::Nothing,
            Link::Runner(thread) => Blocker::Runner(thread.clone()),
            Link::Upstreams(up) => Blocker::Upstreams(up.clone()),
        }
    }

    /// A derived future has no closure of its own to run: helping it means helping the
    /// futures it waits for (so a `map` or `all` read inside a one-worker pool runs its
    /// queued inputs rather than starve). With several inputs (`all`), only while none
    /// of them is running and no worker is idle: a running input may finish first (or
    /// panic, which decides `all`), an idle worker will start the queued ones at once,
    /// and this thread, busy with one input, would answer late. Never through a future
    /// with a deadline: its readers must be released at the deadline, and a helper
    /// running the input could not be (a `map` of a `Lazy::timeout` would otherwise
    /// run the bounded input on the reader's thread, past the deadline).
    fn help(&self) -> bool {
        if self.core.deadline().is_some() {
            return false;
        }
        let mut ran = false;
        if let Link::Upstreams(up) = self.blocker_link() {
            let nodes: Vec<Arc<dyn Node>> = up.iter().filter_map(Weak::upgrade).collect();
            for node in &nodes {
                if nodes.len() > 1 && nodes.iter().any(|n| n.running() || n.idle_worker()) {
                    break;
                }
                ran |= node.help();
            }
        }
        ran
    }

    fn unstarted(&self) -> bool {
        match self.blocker_link() {
            Link::Upstreams(up) => up
                .iter()
                .filter_map(Weak::upgrade)
                .all(|node| node.unstarted()),
            Link::Runner(_) | Link::Nothing => false,
        }
    }

    fn running(&self) -> bool {
        match self.blocker_link() {
            Link::Runner(_) => true,
            Link::Upstreams(up) => up.iter().filter_map(Weak::upgrade).any(|n| n.running()),
            Link::Nothing => false,
        }
    }

    fn idle_worker(&self) -> bool {
        self.core.home().has_idle_worker()
    }
}

impl<T: Send> Source<T> for Remote<T> {
    fn core(&self) -> &Core<T> {
        &self.core
    }
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
    /// A new downstream future (its source, for a handle) and the right to publish its
    /// result.
    pub(crate) fn new(core: Core<T>, kind: &'static str) -> (Arc<dyn Source<T>>, Publisher<T>) {
        let remote = new_remote(core, Cow::Borrowed(kind));
        (
            remote.clone(),
            Publisher {
                remote: Some(remote),
            },
        )
    }

    /// Publishes the downstream's result, decided as `by` says (the decision this
    /// publication forwards).
    pub(crate) fn publish(mut self, result: TaskResult<T>, by: DecidedBy) {
        if let Some(remote) = self.remote.take() {
            remote.set_link(Link::Nothing);
            remote.core().publish_by(result, by);
        }
    }

    /// The current thread computes the future from now on (a continuation's closure).
    pub(crate) fn computing_here(&self) {
        if let Some(remote) = &self.remote {
            remote.computing_here();
        }
    }

    /// The future waits for `upstreams` from now on.
    pub(crate) fn needs(&self, upstreams: Vec<Weak<dyn Node>>) {
        if let Some(remote) = &self.remote {
            remote.needs(upstreams);
        }
    }
}

impl<T: Send + 'static> Drop for Publisher<T> {
    fn drop(&mut self) {
        if let Some(remote) = self.remote.take() {
            remote.set_link(Link::Nothing);
            // Dropped wherever the follow-up work was lost (perhaps on the timer
            // thread): user code downstream goes to a thread of its own.
            remote.core().publish_by(
                Err(TaskPanic::new(Box::new(
                    "the follow-up work of a future was dropped without running",
                ))),
                DecidedBy::Deadline,
            );
        }
    }
}
