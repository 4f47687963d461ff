//! An actor on a thread of its own: the thread owns the state and serves the mailbox,
//! a channel, in order, until a stop message or until every handle is gone.

use std::borrow::Cow;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::ThreadId;

use crossbeam_channel::{Receiver, Sender};

use crate::actor::call::{Kind, Message, serve_one};
use crate::core::sync;
use crate::core::threads;
use crate::deadlock::{self, Blocker, Node};

/// The name of an actor's own thread.
const THREAD_NAME: &str = "transparent-future-actor";

/// What every handle and the worker share: who runs the calls (for the deadlock
/// detector) and whether the actor has stopped.
pub(crate) struct Worker {
    /// The actor's thread while it serves; `None` before it starts and after it ends.
    runner: Mutex<Option<ThreadId>>,
    stopped: AtomicBool,
    label: fn() -> Cow<'static, str>,
}

impl Worker {
    pub(crate) fn is_stopped(&self) -> bool {
        // ORDERING: Acquire pairs with the worker's Release when it stops: a handle
        // that sees the flag also sees that the state was handed back.
        self.stopped.load(Ordering::Acquire)
    }

    fn set_runner(&self, runner: Option<ThreadId>) {
        *self.runner.lock().unwrap_or_else(PoisonError::into_inner) = runner;
    }
}

/// Starts the actor's thread, which owns `state` from now on.
pub(crate) fn start<S: Send + 'static>(
    state: S,
    label: fn() -> Cow<'static, str>,
) -> io::Result<(Sender<Message<S>>, Arc<Worker>)> {
    let (tx, rx) = crossbeam_channel::unbounded();
    let worker = Arc::new(Worker {
        runner: Mutex::new(None),
        stopped: AtomicBool::new(false),
        label,
    });
    let shared = Arc::clone(&worker);
    threads::start(
        sync::thread::Builder::new().name(THREAD_NAME.into()),
        move || {
            serve(state, &rx, &shared);
        },
    )?;
    Ok((tx, worker))
}

/// The actor's thread: runs the calls in the order they arrived.
fn serve<S: Send + 'static>(mut state: S, mailbox: &Receiver<Message<S>>, worker: &Worker) {
    worker.set_runner(Some(deadlock::current_thread()));
    // Every handle gone (the channel is empty and disconnected): the queued calls have
    // run; the state is dropped here, on the actor's thread.
    while let Ok(message) = mailbox.recv() {
        match message.open() {
            Kind::Call(call) => serve_one(call, &mut state),
            Kind::Stop(promise) => {
                // ORDERING: Release, see `Worker::is_stopped`.
                worker.stopped.store(true, Ordering::Release);
                worker.set_runner(None);
                // Calls sent after the stop are refused: they are dropped with the
                // channel once this receiver is gone (their senders see it closed).
                let _ = promise.set(state);
                return;
            }
        }
    }
    worker.set_runner(None);
    // ORDERING: Release, see `Worker::is_stopped`.
    worker.stopped.store(true, Ordering::Release);
}

impl Node for Worker {
    fn label(&self) -> Cow<'static, str> {
        (self.label)()
    }

    fn blocker(&self) -> Blocker {
        match &*self.runner.lock().unwrap_or_else(PoisonError::into_inner) {
            Some(thread) => Blocker::Runner(*thread),
            None => Blocker::Nothing,
        }
    }

    /// The calls run on the actor's thread only.
    fn help(&self) -> bool {
        false
    }

    fn running(&self) -> bool {
        self.runner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }
}
