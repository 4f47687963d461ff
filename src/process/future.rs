//! The future of a process task: a `Lazy` fed by the thread that supervises the child
//! (a "remote" state and its publisher), whose cancellation stops the child, and whose
//! deadline decision stops it too. Also how each way a task can end reaches readers.

use std::any::type_name;
use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;

use crate::core::job::Placement;
use crate::core::panic::TaskPanic;
use crate::core::state::{Core, DecidedBy, TaskResult, Timeout};
use crate::core::task::{Publisher, Source};
use crate::core::timer::Settle;
use crate::deadlock::{Blocker, Node};
use crate::lazy::Lazy;
use crate::process::control::{Control, Stop};
use crate::process::supervise::{ChildProc, Ended};
use crate::process::wire::Reply;

/// A process task's state as its handle sees it: the remote state, plus the control
/// that a cancellation (`Lazy::cancel`, every handle dropped) stops the child through.
struct ProcessSource<T: Send + 'static> {
    inner: Arc<dyn Source<T>>,
    control: Arc<Control>,
}

impl<T: Send + 'static> Settle for ProcessSource<T> {
    fn settle(&self) -> bool {
        self.inner.settle()
    }
}

impl<T: Send + 'static> Node for ProcessSource<T> {
    fn label(&self) -> Cow<'static, str> {
        self.inner.label()
    }
    fn blocker(&self) -> Blocker {
        // A child process never waits on a future of this process: no cycle runs
        // through it.
        Blocker::Nothing
    }
    fn help(&self) -> bool {
        false
    }
    /// The child (or its supervisor) decides it; no reader can help.
    fn running(&self) -> bool {
        !self.decided()
    }

    fn decided(&self) -> bool {
        self.inner.core().settle_if_due()
    }

    /// A process task consumed by `map`, `then` or `all` is stopped when the derived
    /// future is cancelled or dropped unread, as when its own handle is.
    fn cancel_work(&self) {
        self.control.stop(Stop::Cancel);
    }
}

impl<T: Send + 'static> Source<T> for ProcessSource<T> {
    fn core(&self) -> &Core<T> {
        self.inner.core()
    }
    fn request_cancel(&self) {
        self.control.stop(Stop::Cancel);
    }
}

/// How a task ended, as the supervisor hands it to the future.
pub(crate) enum Finished {
    Ended(Ended),
    /// The task never reached a child (it could not be started): why.
    NotStarted(String),
}

/// One task, encoded and ready for a child, with everything that concerns its future.
pub(crate) struct Job {
    pub(crate) header: Vec<u8>,
    pub(crate) arg: Vec<u8>,
    pub(crate) control: Arc<Control>,
    pub(crate) deadline: Option<Instant>,
    pub(crate) grace: Option<Duration>,
    /// How much of the task's frames was sent before its supervisor took over.
    sent: (usize, usize),
    settle: Arc<dyn Settle>,
    deliver: Box<dyn FnOnce(Finished) + Send>,
}

impl Job {
    /// Whether the task no longer needs running: cancelled, or its deadline decided.
    pub(crate) fn is_moot(&self) -> bool {
        self.settle.settle(); // decides a passed deadline, which asks for the stop
        self.control.stopped().is_some()
    }

    /// Sends what the socket of `proc` takes now of the task, on this thread (see
    /// [`ChildProc::send_now`]).
    pub(crate) fn send_now(&mut self, proc: &ChildProc) {
        self.sent = proc.send_now(&self.header, &self.arg);
    }

    /// Runs the task on `proc` and delivers how it ended. Returns whether the child is
    /// still alive and usable.
    pub(crate) fn run_on(self, proc: &mut ChildProc) -> bool {
        let settle = Arc::clone(&self.settle);
        let ended = proc.exchange(
            &self.header,
            &self.arg,
            self.sent,
            &self.control,
            self.deadline,
            &move || {
                settle.settle();
            },
            self.grace,
        );
        let alive = matches!(ended, Ended::Reply(_));
        self.finish(Finished::Ended(ended));
        alive
    }

    /// Delivers how the task ended to its future.
    pub(crate) fn finish(self, finished: Finished) {
        self.control.finish();
        (self.deliver)(finished);
    }
}

/// A new process future, and its job (without the child): `timeout` as the builder
/// gave it, `wrap` turns the task's `T` into the future's value.
pub(crate) fn new_job<T, U>(
    header: Vec<u8>,
    arg: Vec<u8>,
    timeout: Option<Timeout<U>>,
    grace: Option<Duration>,
    wrap: fn(T) -> U,
) -> (Lazy<U>, Job)
where
    T: DeserializeOwned + Send + 'static,
    U: Send + 'static,
{
    let deadline = timeout.as_ref().map(|t| t.at);
    let core = Core::new(timeout, Placement::thread());
    let (inner, publisher) = Publisher::new(core, "process task");
    let control = Control::new();
    let source = Arc::new(ProcessSource {
        inner,
        control: Arc::clone(&control),
    });
    // A decided outcome while the child runs can only be the deadline's (the task's
    // own answer marks the control finished first): stop the child then.
    let stopper = Arc::clone(&control);
    let _ = source
        .core()
        .watch(Box::new(move |_| stopper.stop(Stop::Timeout)), false);
    let deliver = move |finished: Finished| {
        let result = result_of::<T, U>(finished, wrap);
        // Decided on the supervisor's thread, which must not run user code (a
        // continuation would hold up the child's reaping, or a pool's worker): user
        // callbacks go to threads of their own, as after a deadline.
        publisher.publish(result, DecidedBy::Deadline);
    };
    let settle: Arc<dyn Settle> = source.clone();
    let job = Job {
        header,
        arg,
        control,
        deadline,
        grace,
        sent: (0, 0),
        settle,
        deliver: Box::new(deliver),
    };
    (Lazy::from_source(source), job)
}

/// What the readers of a task that ended so see.
fn result_of<T: DeserializeOwned, U>(finished: Finished, wrap: fn(T) -> U) -> TaskResult<U> {
    let fail = |message: String| Err(TaskPanic::new(Box::new(message)));
    match finished {
        Finished::Ended(Ended::Reply(Reply::Value(bytes))) => {
            match postcard::from_bytes::<T>(&bytes) {
                Ok(value) => Ok(wrap(value)),
                Err(e) => fail(format!(
                    "transparent_future: the process task's result could not be deserialized \
                 as {}: {e}",
                    type_name::<T>()
                )),
            }
        }
        Finished::Ended(Ended::Reply(Reply::Panic(message))) => fail(message),
        Finished::Ended(Ended::Reply(Reply::Error(why))) => fail(format!(
            "transparent_future: the process task could not run: {why}"
        )),
        Finished::Ended(Ended::Died(died)) => Err(TaskPanic::died(died)),
        Finished::Ended(Ended::Stopped(Stop::Timeout, pid)) => fail(format!(
            "transparent_future: the process task (pid {pid}) was killed at its deadline"
        )),
        Finished::Ended(Ended::Stopped(Stop::Cancel, pid)) => fail(format!(
            "transparent_future: the process task (pid {pid}) was cancelled and killed"
        )),
        Finished::Ended(Ended::Broken(e)) => fail(format!(
            "transparent_future: the process task's child broke the protocol and was \
             killed: {e}"
        )),
        Finished::NotStarted(why) => fail(format!(
            "transparent_future: the process task could not start: {why}"
        )),
    }
}
