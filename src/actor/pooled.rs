//! An actor on an executor: the mailbox is a queue, and a *drain* (a job on the
//! executor) runs the queued calls. At most one drain holds the actor at a time, so
//! two calls of one actor never run at once, whatever the executor's threads.
//!
//! The claim is a small state machine under the mailbox lock: `Idle` (nothing queued,
//! no drain pending), `Queued` (a drain job is on its way to the executor, or a reader
//! may help by draining here) and `Running` (one thread drains). A call that finds the
//! actor `Idle` sets it `Queued` and submits a drain; a drain runs only after moving
//! `Queued` to `Running`, so a job that arrives after a helper has done its work finds
//! nothing to claim and returns. After a batch of calls a drain hands the actor back to
//! the executor (`Queued` again), so that one busy actor cannot hold a pool's worker
//! forever.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::thread::ThreadId;

use crate::actor::call::{Kind, Message, serve_one};
use crate::core::job::{Executor, Runnable, runnable};
use crate::deadlock::{self, Blocker, Node};
use crate::lazy::promise::Promise;

/// How many calls a drain runs before it hands the actor back to the executor.
const BATCH: usize = 256;

/// An actor living on an executor.
pub(crate) struct Pooled<S: Send + 'static> {
    mailbox: Mutex<Mailbox<S>>,
    /// The state: locked only by the drain that holds the claim, so never waited for.
    state: Mutex<Option<S>>,
    /// The thread draining right now, for the deadlock detector.
    runner: Mutex<Option<ThreadId>>,
    executor: Box<dyn Executor + Send + Sync>,
    /// Whether a reader waiting on a call may drain the actor itself.
    helpable: bool,
    label: fn() -> Cow<'static, str>,
    /// This actor, to hand it back to the executor after a batch.
    me: Weak<Pooled<S>>,
}

/// How a drain ended.
enum End<S: Send + 'static> {
    /// Nothing left: the actor is idle.
    Empty,
    /// A batch ran and more is queued: a new drain must be submitted.
    HandBack,
    /// A stop message: the state goes to the promise, the rest is refused.
    Stopped(Promise<S>, Option<S>, VecDeque<Message<S>>),
}

struct Mailbox<S: Send + 'static> {
    queue: VecDeque<Message<S>>,
    claim: Claim,
    stopped: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Claim {
    Idle,
    Queued,
    Running,
}

/// A drain job on its way to the executor. Dropped unrun (an executor that discarded
/// it), it fails the queued calls instead of leaving their callers waiting.
struct Ticket<S: Send + 'static>(Option<Arc<Pooled<S>>>);

impl<S: Send + 'static> Ticket<S> {
    fn run(mut self) {
        if let Some(actor) = self.0.take() {
            if actor.claim() {
                actor.drain();
            }
        }
    }
}

thread_local! {
    /// While this thread hands a drain to an executor: whether the executor dropped it
    /// meanwhile (so that the submitter fails the queue with the executor's own error).
    static SUBMITTING: Cell<Option<bool>> = const { Cell::new(None) };
}

impl<S: Send + 'static> Drop for Ticket<S> {
    fn drop(&mut self) {
        if let Some(actor) = self.0.take() {
            let during_submit = SUBMITTING.with(|s| match s.get() {
                Some(_) => {
                    s.set(Some(true));
                    true
                }
                None => false,
            });
            if !during_submit {
                actor.abandon("the actor's executor dropped its work without running it");
            }
        }
    }
}

impl<S: Send + 'static> Pooled<S> {
    pub(crate) fn new<E>(executor: &E, state: S, label: fn() -> Cow<'static, str>) -> Arc<Self>
    where
        E: Executor + Clone + Send + Sync + 'static,
    {
        Arc::new_cyclic(|me| Pooled {
            mailbox: Mutex::new(Mailbox {
                queue: VecDeque::new(),
                claim: Claim::Idle,
                stopped: false,
            }),
            state: Mutex::new(Some(state)),
            runner: Mutex::new(None),
            helpable: executor.allows_helping(),
            executor: Box::new(executor.clone()),
            label,
            me: me.clone(),
        })
    }

    fn mailbox(&self) -> MutexGuard<'_, Mailbox<S>> {
        self.mailbox.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.mailbox().stopped
    }

    /// Queues a message; submits a drain if the actor was idle. A message for a
    /// stopped actor is refused (its future fails as a broken promise).
    pub(crate) fn post(self: &Arc<Self>, message: Message<S>) {
        let mut mailbox = self.mailbox();
        if mailbox.stopped {
            drop(mailbox);
            drop(message); // refused, outside the lock
            return;
        }
        mailbox.queue.push_back(message);
        if mailbox.claim != Claim::Idle {
            return; // a drain is pending or running: it will get to this message
        }
        mailbox.claim = Claim::Queued;
        drop(mailbox);
        self.submit();
    }

    /// Hands a drain to the executor; if it refuses, fails what is queued.
    fn submit(self: &Arc<Self>) {
        let ticket = Ticket(Some(Arc::clone(self)));
        let outer = SUBMITTING.with(|s| s.replace(Some(false)));
        let submitted = self.executor.execute(drain_job(ticket));
        let dropped = SUBMITTING.with(|s| s.replace(outer)) == Some(true);
        match submitted {
            Err(e) => self.abandon(&format!("the actor's executor refused to run it: {e}")),
            Ok(()) if dropped => {
                self.abandon("the actor's executor dropped its work without running it");
            }
            Ok(()) => {}
        }
    }

    /// Fails every queued message, if no drain holds the actor.
    fn abandon(&self, reason: &str) {
        let mut mailbox = self.mailbox();
        if mailbox.claim != Claim::Queued {
            return; // a helper or another drain holds it, or nothing is pending
        }
        mailbox.claim = Claim::Idle;
        let refused = std::mem::take(&mut mailbox.queue);
        drop(mailbox);
        for message in refused {
            message.refuse(reason);
        }
    }

    /// Takes the actor for this thread if a drain is pending and nobody runs it.
    fn claim(&self) -> bool {
        let mut mailbox = self.mailbox();
        if mailbox.claim == Claim::Queued {
            mailbox.claim = Claim::Running;
            true
        } else {
            false
        }
    }

    fn set_runner(&self, runner: Option<ThreadId>) {
        *self.runner.lock().unwrap_or_else(PoisonError::into_inner) = runner;
    }

    /// Runs queued calls, one at a time, in order, on this thread (which holds the
    /// claim). Releases the claim when the queue is empty; after a batch with more
    /// queued, hands the actor back to the executor (a new drain, submitted like any
    /// task; a `ThreadPool` gives the oldest queued work a turn between such drains),
    /// so that other work gets a turn.
    fn drain(&self) {
        self.set_runner(Some(deadlock::current_thread()));
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let mut ran = 0;
        let end = loop {
            let mut mailbox = self.mailbox();
            if ran >= BATCH && !mailbox.queue.is_empty() {
                mailbox.claim = Claim::Queued;
                break End::HandBack;
            }
            let Some(message) = mailbox.queue.pop_front() else {
                mailbox.claim = Claim::Idle;
                break End::Empty;
            };
            drop(mailbox);
            match message.open() {
                Kind::Call(call) => match state.as_mut() {
                    Some(state) => serve_one(call, state),
                    None => unreachable!("transparent_future: a running actor without a state"),
                },
                Kind::Stop(promise) => {
                    let mut mailbox = self.mailbox();
                    mailbox.stopped = true;
                    mailbox.claim = Claim::Idle;
                    let refused = std::mem::take(&mut mailbox.queue);
                    break End::Stopped(promise, state.take(), refused);
                }
            }
            ran += 1;
        };
        drop(state);
        self.set_runner(None);
        // Outside every lock from here: a promise's continuations may run, refused
        // calls' futures fail as broken promises.
        match end {
            End::Empty => {}
            End::HandBack => {
                if let Some(me) = self.me.upgrade() {
                    me.submit();
                }
            }
            End::Stopped(promise, state, refused) => {
                match state {
                    Some(state) => {
                        let _ = promise.set(state);
                    }
                    None => unreachable!("transparent_future: an actor stopped twice"),
                }
                drop(refused);
            }
        }
    }
}

/// The drain as a job for the executor.
fn drain_job<S: Send + 'static>(ticket: Ticket<S>) -> Runnable {
    runnable(Box::new(move || ticket.run()))
}

impl<S: Send + 'static> Node for Pooled<S> {
    fn label(&self) -> Cow<'static, str> {
        (self.label)()
    }

    fn blocker(&self) -> Blocker {
        match &*self.runner.lock().unwrap_or_else(PoisonError::into_inner) {
            Some(thread) => Blocker::Runner(*thread),
            None => Blocker::Nothing,
        }
    }

    /// A reader waiting on a call drains the actor here if a drain is pending and no
    /// thread runs one (and the executor allows helping).
    fn help(&self) -> bool {
        if !self.helpable || !self.claim() {
            return false;
        }
        self.drain();
        true
    }

    fn running(&self) -> bool {
        self.runner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }
}
