//! The engine under every future: its state machine, the task that computes it, the
//! jobs executors run and where follow-up work goes, a pool's work-stealing queues and
//! its workers' sleep, the wake-up of readers asleep
//! when work joins what they wait for, thread start under the cap, the
//! deadline timer, cancellation flags and panics (and, with the `process` feature, the
//! death of a process task's child, which travels as a panic). Nothing here knows the handle.

pub(crate) mod cancel;
#[cfg(feature = "process")]
pub(crate) mod died;
mod injector;
pub(crate) mod job;
#[cfg(all(test, transparent_future_shuttle))]
mod model;
pub(crate) mod nudge;
pub(crate) mod panic;
pub(crate) mod queues;
pub(crate) mod state;
pub(crate) mod sync;
pub(crate) mod task;
pub(crate) mod threads;
pub(crate) mod timer;
