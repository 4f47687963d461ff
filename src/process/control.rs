//! [`Control`]: how the rest of the program asks the thread that supervises a child to
//! stop it (the deadline was decided, or the future was cancelled), and how that thread
//! says the task is finished so that nobody asks any more.

use std::io;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use rustix::event::{EventfdFlags, eventfd};

/// Why a task's process is stopped before it answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The future's outcome was decided as a timeout.
    Timeout = 1,
    /// `Lazy::cancel`, or every handle dropped.
    Cancel = 2,
}

const RUNNING: u8 = 0;
const FINISHED: u8 = 3;

/// The shared switch of one task.
pub(crate) struct Control {
    state: AtomicU8,
    /// The supervisor's wake-up (an eventfd), while it supervises this task.
    waker: Mutex<Option<Arc<OwnedFd>>>,
}

impl Control {
    pub(crate) fn new() -> Arc<Control> {
        Arc::new(Control {
            state: AtomicU8::new(RUNNING),
            waker: Mutex::new(None),
        })
    }

    /// Asks for the task's process to be stopped, unless the task has finished or a
    /// stop was already asked; wakes the supervisor.
    pub(crate) fn stop(&self, why: Stop) {
        // ORDERING: AcqRel: the supervisor that reads the request (Acquire) sees what
        // the requester did before; only the first transition out of RUNNING counts.
        if self
            .state
            .compare_exchange(RUNNING, why as u8, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            let waker = self.waker.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(fd) = waker.as_deref() {
                let _ = rustix::io::write(fd, &1u64.to_ne_bytes());
            }
        }
    }

    /// The stop asked for, if any.
    pub(crate) fn stopped(&self) -> Option<Stop> {
        // ORDERING: Acquire, pairs with `stop`.
        match self.state.load(Ordering::Acquire) {
            1 => Some(Stop::Timeout),
            2 => Some(Stop::Cancel),
            _ => None,
        }
    }

    /// The answer is in: later stops are ignored. Returns the stop asked before, if any.
    pub(crate) fn finish(&self) -> Option<Stop> {
        // ORDERING: AcqRel, as in `stop`.
        match self.state.swap(FINISHED, Ordering::AcqRel) {
            1 => Some(Stop::Timeout),
            2 => Some(Stop::Cancel),
            _ => None,
        }
    }

    /// Routes later stops to `waker` (or to nobody, with `None`).
    pub(crate) fn attach(&self, waker: Option<Arc<OwnedFd>>) {
        *self.waker.lock().unwrap_or_else(PoisonError::into_inner) = waker;
    }
}

/// A new wake-up for a supervisor: an eventfd, non-blocking and close-on-exec.
pub(crate) fn new_waker() -> io::Result<Arc<OwnedFd>> {
    Ok(Arc::new(eventfd(
        0,
        EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK,
    )?))
}
