//! One call to an actor: its closure and the state of its future in one allocation
//! (as a task is), and the message that carries it through the mailbox.
//!
//! A message dropped without being run (the actor stopped first, its executor refused
//! the work) fails the call's future as a broken promise, so no caller waits forever.

use std::borrow::Cow;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use crate::core::job::Placement;
use crate::core::panic::{BrokenPromise, TaskPanic};
use crate::core::state::{Core, DecidedBy, Timeout};
use crate::core::task::Source;
use crate::core::timer::Settle;
use crate::deadlock::{self, Blocker, Node};
use crate::lazy::Lazy;
use crate::lazy::promise::Promise;

/// Why a call the actor never ran has no value.
pub(crate) const STOPPED: &str = "the actor stopped before it ran this call";

/// A call as the actor sees it: something to run once with its state, or to refuse.
pub(crate) trait Envelope<S>: Send + Sync {
    /// Runs the call with exclusive access to the state and publishes its result (or
    /// its panic) to the caller's future. Runs the closure at most once.
    fn run(&self, state: &mut S);
    /// Drops the closure unrun and fails the caller's future as a broken promise.
    fn refuse(&self, broken: BrokenPromise);
}

/// The closure of one call and the state of its future.
struct Call<S, R, F> {
    core: Core<R>,
    job: Mutex<Option<F>>,
    /// The actor, for the deadlock detector: a call waits for whatever the actor's
    /// runner is doing.
    actor: Weak<dyn Node>,
    _state: PhantomData<fn(&mut S)>,
}

/// A new call of `f` on the actor `actor`, with an optional deadline: the future for
/// the caller, and the envelope for the mailbox (one allocation).
pub(crate) fn new_call<S, R, F>(
    f: F,
    timeout: Option<Timeout<R>>,
    actor: Weak<dyn Node>,
) -> (Lazy<R>, Arc<dyn Envelope<S>>)
where
    S: 'static,
    R: Send + 'static,
    F: FnOnce(&mut S) -> R + Send + 'static,
{
    let call = Arc::new(Call {
        core: Core::new(timeout, Placement::thread()),
        job: Mutex::new(Some(f)),
        actor,
        _state: PhantomData,
    });
    let source: Arc<dyn Source<R>> = call.clone();
    (Lazy::from_source(source), call)
}

impl<S, R, F> Call<S, R, F> {
    fn claim(&self) -> Option<F> {
        self.job
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

impl<S, R, F> Envelope<S> for Call<S, R, F>
where
    R: Send,
    F: FnOnce(&mut S) -> R + Send,
{
    fn run(&self, state: &mut S) {
        let Some(f) = self.claim() else {
            return;
        };
        let running = deadlock::running_task(
            std::ptr::from_ref(self).cast::<()>() as usize,
            std::any::type_name::<F>(),
            None,
        );
        let result = catch_unwind(AssertUnwindSafe(|| f(state))).map_err(TaskPanic::new);
        drop(running);
        // The actor's runner is reserved for the actor's calls: continuations of the
        // caller's future run elsewhere, never holding up the next call.
        self.core.publish_by(result, DecidedBy::Reserved);
    }

    fn refuse(&self, broken: BrokenPromise) {
        if let Some(f) = self.claim() {
            drop(f);
            self.core
                .publish_by(Err(TaskPanic::broken(broken)), DecidedBy::Reserved);
        }
    }
}

impl<S, R: Send, F: Send> Settle for Call<S, R, F> {
    fn settle(&self) -> bool {
        self.core.settle_if_due()
    }
}

impl<S, R: Send, F: Send> Node for Call<S, R, F> {
    fn label(&self) -> Cow<'static, str> {
        Cow::Borrowed("actor call")
    }

    fn blocker(&self) -> Blocker {
        if self.core.deadline().is_some() {
            // A wait through this future ends at its deadline: no deadlock.
            return Blocker::Nothing;
        }
        Blocker::Upstreams(vec![self.actor.clone()])
    }

    /// Helping a call means helping its actor: on an executor that allows it, a
    /// reader runs the actor's queued calls (this one among them) rather than sleep
    /// while they wait behind it, say, on a one-worker pool. Never for a call with a
    /// deadline, whose readers must be released at it (as for a task).
    fn help(&self) -> bool {
        self.core.deadline().is_none() && self.actor.upgrade().is_some_and(|actor| actor.help())
    }

    fn running(&self) -> bool {
        !self.decided() && self.actor.upgrade().is_some_and(|actor| actor.running())
    }

    fn decided(&self) -> bool {
        self.core.settle_if_due()
    }
}

impl<S, R: Send, F: Send> Source<R> for Call<S, R, F> {
    fn core(&self) -> &Core<R> {
        &self.core
    }
}

/// What travels through an actor's mailbox. Dropped unrun, it fails its future as a
/// broken promise.
pub(crate) struct Message<S: Send + 'static> {
    kind: Option<Kind<S>>,
}

pub(crate) enum Kind<S: Send + 'static> {
    /// Run this call.
    Call(Arc<dyn Envelope<S>>),
    /// Stop after the calls sent before, and hand the state to this promise.
    Stop(Promise<S>),
}

impl<S: Send + 'static> Message<S> {
    pub(crate) fn call(envelope: Arc<dyn Envelope<S>>) -> Self {
        Message {
            kind: Some(Kind::Call(envelope)),
        }
    }

    pub(crate) fn stop(promise: Promise<S>) -> Self {
        Message {
            kind: Some(Kind::Stop(promise)),
        }
    }

    /// What to do; the message is spent.
    pub(crate) fn open(mut self) -> Kind<S> {
        match self.kind.take() {
            Some(kind) => kind,
            None => unreachable!("transparent_future: an actor message opened twice"),
        }
    }

    /// Refuses the message: its future fails as a broken promise, for `reason`.
    pub(crate) fn refuse(mut self, reason: &str) {
        match self.kind.take() {
            Some(Kind::Call(envelope)) => envelope.refuse(BrokenPromise::new(reason.to_owned())),
            Some(Kind::Stop(promise)) => promise.break_with(format!(
                "the actor could not stop and hand its state back: {reason}"
            )),
            None => {}
        }
    }
}

impl<S: Send + 'static> Drop for Message<S> {
    fn drop(&mut self) {
        match self.kind.take() {
            Some(Kind::Call(envelope)) => envelope.refuse(BrokenPromise::new(STOPPED)),
            Some(Kind::Stop(promise)) => {
                promise.break_with(
                    "the actor had already stopped, and handed its state to an earlier stop",
                );
            }
            None => {}
        }
    }
}

/// Runs one call on the actor's worker and drops it there, catching whatever panics
/// besides the call's own closure (whose panic goes to its readers): a forwarding
/// watcher of its future that re-raises a panic, or an unread result whose `Drop`
/// panics. The actor then serves the next call, as its docs promise; the panic hook
/// has reported the panic.
pub(crate) fn serve_one<S>(call: Arc<dyn Envelope<S>>, state: &mut S) {
    let _ = catch_unwind(AssertUnwindSafe(move || {
        call.run(state);
        drop(call);
    }));
}
