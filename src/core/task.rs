//! A task: the closure and the shared state of its future, in one allocation.
//!
//! The handle (`Lazy`) sees a task as a [`Source`] of values; an executor sees
//! it as a job to run, wrapped in a [`Runnable`](crate::executor::Runnable). Both are the same
//! `Arc<Task<T, F>>`, so a future costs one heap allocation whatever runs it.

use std::borrow::Cow;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Weak};
use std::thread::ThreadId;

use crate::core::cancel::CancelFlag;
use crate::core::job::{Home, Job, Once};
use crate::core::nudge;
use crate::core::panic::TaskPanic;
use crate::core::queues;
use crate::core::state::{Core, DecidedBy, TaskResult};
use crate::core::sync::{Mutex, MutexGuard, PoisonError};
use crate::core::timer::Settle;
use crate::deadlock::{self, Blocker, Node};

/// What a handle needs from its task: the shared state, and a way to run the task on
/// the reader's own thread if nobody has started it (work-helping).
pub(crate) trait Source<T>: Settle + Node {
    fn core(&self) -> &Core<T>;

    /// Asks a cancellable task to stop (no effect on others). On a derived future,
    /// asks the futures it consumed to stop (see `Remote`).
    fn request_cancel(&self) {}

    /// The handle was dropped unread: nobody can read this future any more. A task is
    /// asked to stop, as by [`Source::request_cancel`]; a derived future also lets go
    /// of what it kept alive for its readers (a `SharedLazy` clone).
    fn release(&self) {
        self.request_cancel();
    }

    /// Whether the work this future waits for can change after a reader went to sleep
    /// (a derived future links new inputs, or has follow-up work queued): such a
    /// reader sleeps so that [`nudge::ring`] wakes it to help again.
    fn relinks(&self) -> bool {
        false
    }

    /// The follow-up work that computes this future is queued as `job`: a derived
    /// future records it for its readers to run (no effect on others).
    fn queued(&self, _job: Arc<Once>) {}

    /// The reader holds the only reference to this future (no queue, no watcher, no
    /// other handle can see it): runs the task here, if a reader may and nobody has
    /// claimed it, and hands its result straight back, with no claim, publication or
    /// take through the state's locks. `None` leaves everything as it was.
    fn run_alone(&mut self) -> Option<TaskResult<T>> {
        None
    }
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
    /// Claimed by this thread (what the deadlock detector follows while the outcome
    /// is undecided; it stays recorded after the task publishes).
    Running(ThreadId),
    /// Dropped unrun (the executor abandoned it).
    Finished,
}

impl<T, F, X> Task<T, F, X> {
    /// Claims the closure for this thread, if nobody has.
    fn claim(&self) -> Option<F> {
        let mut job = self.job.lock().unwrap_or_else(PoisonError::into_inner);
        match std::mem::replace(&mut *job, JobState::Finished) {
            JobState::Unclaimed(f) => {
                *job = JobState::Running(deadlock::current_thread());
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
        if self.core.settle_if_due() {
            // Decided: its runner (still recorded) waits for nothing on its behalf.
            return Blocker::Nothing;
        }
        match &*self.job.lock().unwrap_or_else(PoisonError::into_inner) {
            JobState::Running(thread) => Blocker::Runner(*thread),
            JobState::Unclaimed(_) | JobState::Finished => Blocker::Nothing,
        }
    }

    /// Work-helping: runs the task here if its executor allows it, it has no deadline,
    /// and no thread has claimed it yet.
    fn help(&self) -> bool {
        self.core.may_help()
            && (queues::run_if_on_top(std::ptr::from_ref(self).cast::<()>()) || self.run_claimed())
    }

    /// A claimed closure runs to its end (and publishes) without this thread's help;
    /// so does one that no reader may run (a thread of its own, or a deadline).
    fn running(&self) -> bool {
        match &*self.job.lock().unwrap_or_else(PoisonError::into_inner) {
            // The runner stays recorded after it publishes: decided is not running.
            JobState::Running(_) => !self.core.settle_if_due(),
            JobState::Unclaimed(_) => !self.core.may_help(),
            JobState::Finished => false,
        }
    }

    fn decided(&self) -> bool {
        self.core.settle_if_due()
    }

    fn cancel_work(&self) {
        self.extras.request_cancel();
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

    fn run_alone(&mut self) -> Option<TaskResult<T>> {
        if !self.core.may_help() || !self.core.unwatched() {
            // A deadline the reader must be released at, or watchers that must run
            // when the outcome is decided: the shared path decides it.
            return None;
        }
        let job = self.job.get_mut().unwrap_or_else(PoisonError::into_inner);
        match std::mem::replace(job, JobState::Finished) {
            JobState::Unclaimed(f) => Some(self.run_closure(f)),
            other => {
                *job = other;
                None
            }
        }
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
            let result = self.run_closure(f);
            // The job stays `Running` (one lock fewer per task): once the outcome is
            // published, `blocker` and `running` look at the state first.
            self.core.publish(result);
            true
        } else {
            false
        }
    }

    /// Runs the claimed closure on this thread, marked as running this task for the
    /// deadlock detector. The closure is consumed here; a panic is caught and becomes
    /// the future's result, so it reaches the readers and never the executor.
    fn run_closure(&self, f: F) -> TaskResult<T> {
        let _running = deadlock::running_task(
            std::ptr::from_ref(self).cast::<()>() as usize,
            std::any::type_name::<F>(),
            self.extras.name(),
        );
        catch_unwind(AssertUnwindSafe(f)).map_err(TaskPanic::new)
    }
}

/// The state of a future whose closure is not stored here: it runs elsewhere (on a
/// scoped thread, which may borrow, or as a continuation) and only publishes here.
pub(crate) struct Remote<T> {
    core: Core<T>,
    /// What the future is, for the deadlock detector's messages.
    label: Cow<'static, str>,
    /// What it waits for now: for the deadlock detector, for readers that help, and
    /// for cancellation.
    link: Mutex<Linked>,
}

struct Linked {
    link: Link,
    /// Cancellation was requested: inputs linked from now on are asked to stop too (a
    /// `then`'s inner future, linked after its closure returns).
    cancelled: bool,
    /// Every handle is gone (dropped unread, or its consumer's were): nobody will
    /// read the outcome, so follow-up work dropped unrun fails nobody.
    released: bool,
    /// What the future keeps alive until it is published or released: the clone of
    /// a `SharedLazy` it reads (so that the shared future lives, and is not cancelled,
    /// while a derived handle may still need it).
    keep: Option<Box<dyn Send + Sync>>,
}

enum Link {
    Nothing,
    Runner(ThreadId),
    /// The futures it waits for. `owned`: consumed by this future (`map`, `then`,
    /// `all` take their inputs), so that cancelling this future cancels them; not for
    /// a `SharedLazy`'s continuation, whose input other handles still read.
    Upstreams {
        nodes: Vec<Weak<dyn Node>>,
        owned: bool,
    },
    /// Its input is decided and its follow-up work (a continuation's closure) is
    /// queued on an executor: a reader may claim and run the job itself.
    Queued(Arc<Once>),
}

impl Link {
    fn upstreams(nodes: &[Weak<dyn Node>]) -> Vec<Arc<dyn Node>> {
        nodes.iter().filter_map(Weak::upgrade).collect()
    }
}

impl<T> Remote<T> {
    pub(crate) fn core(&self) -> &Core<T> {
        &self.core
    }

    fn lock_link(&self) -> MutexGuard<'_, Linked> {
        self.link.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A copy of what the future waits for now (taken out of the lock, so that helping
    /// never runs a task under it).
    fn blocker_link(&self) -> Link {
        match &self.lock_link().link {
            Link::Nothing => Link::Nothing,
            Link::Runner(thread) => Link::Runner(*thread),
            Link::Upstreams { nodes, owned } => Link::Upstreams {
                nodes: nodes.clone(),
                owned: *owned,
            },
            Link::Queued(job) => Link::Queued(Arc::clone(job)),
        }
    }

    /// Links the future to `link`; if it was cancelled, asks newly linked inputs that
    /// it owns to stop (outside the lock).
    fn set_link(&self, link: Link) {
        let mut linked = self.lock_link();
        let cancel = match (&link, linked.cancelled) {
            (Link::Upstreams { nodes, owned: true }, true) => nodes.clone(),
            _ => Vec::new(),
        };
        linked.link = link;
        drop(linked);
        for node in Link::upstreams(&cancel) {
            node.cancel_work();
        }
    }

    /// The current thread computes this future from now on.
    pub(crate) fn computing_here(&self) {
        self.set_link(Link::Runner(deadlock::current_thread()));
    }

    /// This future waits for `upstreams` from now on, inputs it consumed.
    pub(crate) fn needs(&self, upstreams: Vec<Weak<dyn Node>>) {
        self.set_link(Link::Upstreams {
            nodes: upstreams,
            owned: true,
        });
    }

    /// This future waits for `upstreams` from now on, inputs other handles still read
    /// (a `SharedLazy`'s): cancelling this future does not reach them.
    fn reads(&self, upstreams: Vec<Weak<dyn Node>>) {
        self.set_link(Link::Upstreams {
            nodes: upstreams,
            owned: false,
        });
    }

    /// Its input is decided and `job` (its follow-up work) is queued: readers may run
    /// it. Recorded only while nobody has claimed the job (a claimed job has moved the
    /// link on, or will, under this same lock: the job's first act is to link).
    pub(crate) fn queued(&self, job: Arc<Once>) {
        let mut linked = self.lock_link();
        if job.unclaimed() {
            linked.link = Link::Queued(job);
        }
    }

    /// Every handle is gone: cancels as [`Remote::cancel`] does, lets go of what it
    /// kept alive, and releases the inputs it consumed in turn (their only reader
    /// was this future).
    fn release(&self) {
        let mut linked = self.lock_link();
        linked.cancelled = true;
        linked.released = true;
        let kept = linked.keep.take();
        let release = match &linked.link {
            Link::Upstreams { nodes, owned: true } => nodes.clone(),
            _ => Vec::new(),
        };
        drop(linked);
        // Outside the lock: the last clone of a shared future may drop its value.
        drop(kept);
        for node in Link::upstreams(&release) {
            node.release_work();
        }
    }

    /// Cancellation: asks the inputs it consumed to stop, now and when it links more.
    fn cancel(&self) {
        let mut linked = self.lock_link();
        linked.cancelled = true;
        let cancel = match &linked.link {
            Link::Upstreams { nodes, owned: true } => nodes.clone(),
            _ => Vec::new(),
        };
        drop(linked);
        for node in Link::upstreams(&cancel) {
            node.cancel_work();
        }
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
        link: Mutex::new(Linked {
            link: Link::Nothing,
            cancelled: false,
            released: false,
            keep: None,
        }),
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
        match &self.lock_link().link {
            // A queued job is work nobody has started, as an unclaimed task.
            Link::Nothing | Link::Queued(_) => Blocker::Nothing,
            Link::Runner(thread) => Blocker::Runner(*thread),
            Link::Upstreams { nodes, .. } => Blocker::Upstreams(nodes.clone()),
        }
    }

    /// A derived future has no closure of its own to run: helping it means running
    /// its queued follow-up job, or helping the futures it waits for (so a `map` or
    /// `all` read inside a one-worker pool runs its queued inputs rather than starve).
    /// With several inputs (`all`), only while none of them is running: a running
    /// input may panic, which decides `all`, while this thread is busy with another
    /// one (perhaps one that waits for what this thread would do next). That is no
    /// starvation: when a running input finishes, `all` wakes its sleeping readers
    /// (`core::nudge`), which then help the inputs still queued. Never through a
    /// future with a deadline: its readers must be released at the deadline, and a
    /// helper running the input could not be (a `map` of a `Lazy::timeout` would
    /// otherwise run the bounded input on the reader's thread, past the deadline).
    fn help(&self) -> bool {
        if self.core.deadline().is_some() {
            return false;
        }
        match self.blocker_link() {
            Link::Queued(job) => job.help(),
            Link::Upstreams { nodes, .. } => {
                let nodes = Link::upstreams(&nodes);
                let several = nodes.len() > 1;
                let one_runs = || several && nodes.iter().any(|n| n.running());
                if one_runs() {
                    return false;
                }
                let mut ran = false;
                for node in &nodes {
                    // An input's panic decides `all`: the rest is not needed now.
                    if self.core.settle_if_due() {
                        break;
                    }
                    // Looked at again only after a step ran something (another thread
                    // may have started an input meanwhile).
                    if node.help() {
                        ran = true;
                        if one_runs() {
                            break;
                        }
                    }
                }
                ran
            }
            Link::Runner(_) | Link::Nothing => false,
        }
    }

    /// Undecided, and computed by a thread now, or waiting only for inputs that are.
    fn running(&self) -> bool {
        if self.core.settle_if_due() {
            return false;
        }
        match self.blocker_link() {
            Link::Runner(_) => true,
            Link::Upstreams { nodes, .. } => {
                let pending: Vec<_> = Link::upstreams(&nodes)
                    .into_iter()
                    .filter(|n| !n.decided())
                    .collect();
                !pending.is_empty() && pending.iter().all(|n| n.running())
            }
            Link::Queued(job) => !job.unclaimed(),
            Link::Nothing => false,
        }
    }

    fn decided(&self) -> bool {
        self.core.settle_if_due()
    }

    fn cancel_work(&self) {
        self.cancel();
    }

    fn release_work(&self) {
        self.release();
    }
}

impl<T: Send> Source<T> for Remote<T> {
    fn core(&self) -> &Core<T> {
        &self.core
    }

    /// Cancelling a derived future asks the inputs it consumed to stop (a `map`'s
    /// input, `then`'s input and then its inner future, every input of `all`), through
    /// any depth of derived futures; a `SharedLazy`'s input only when its own last
    /// handle goes.
    fn request_cancel(&self) {
        self.cancel();
    }

    /// The handle was dropped unread: as a cancellation, and what the future kept
    /// alive (a `SharedLazy` clone) is let go, so that a shared future is cancelled
    /// once every clone and every derived handle is gone.
    fn release(&self) {
        Remote::release(self);
    }

    fn relinks(&self) -> bool {
        true
    }

    fn queued(&self, job: Arc<Once>) {
        Remote::queued(self, job);
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
            let kept = {
                let mut linked = remote.lock_link();
                linked.link = Link::Nothing;
                linked.keep.take()
            };
            remote.core().publish_by(result, by);
            drop(kept);
        }
    }

    /// Keeps `kept` alive until the future is published or every handle is gone (a
    /// `SharedLazy` clone the future reads).
    pub(crate) fn keep(&self, kept: Box<dyn Send + Sync>) {
        if let Some(remote) = &self.remote {
            remote.lock_link().keep = Some(kept);
        }
    }

    /// The current thread computes the future from now on (a continuation's closure).
    pub(crate) fn computing_here(&self) {
        if let Some(remote) = &self.remote {
            remote.computing_here();
        }
    }

    /// The future waits for `upstreams` from now on: inputs it consumed (cancelling
    /// the future cancels them).
    pub(crate) fn needs(&self, upstreams: Vec<Weak<dyn Node>>) {
        if let Some(remote) = &self.remote {
            remote.needs(upstreams);
        }
    }

    /// The future waits for `upstream` from now on, an input other handles still read
    /// (a `SharedLazy`'s): cancelling this future does not cancel it.
    pub(crate) fn reads(&self, upstream: Vec<Weak<dyn Node>>) {
        if let Some(remote) = &self.remote {
            remote.reads(upstream);
        }
    }

    /// The future waits for `upstreams` from now on, linked after readers may have
    /// gone to sleep on it (a `then`'s inner future): wakes them to help again.
    pub(crate) fn relink(&self, upstreams: Vec<Weak<dyn Node>>) {
        self.needs(upstreams);
        nudge::ring();
    }
}

impl<T: Send + 'static> Drop for Publisher<T> {
    fn drop(&mut self) {
        if let Some(remote) = self.remote.take() {
            let (released, kept) = {
                let mut linked = remote.lock_link();
                linked.link = Link::Nothing;
                (linked.released, linked.keep.take())
            };
            drop(kept);
            if released {
                // Nobody can read the future: nothing to fail, nothing to report.
                return;
            }
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
