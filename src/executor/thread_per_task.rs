//! [`ThreadPerTask`]: one OS thread per future, under a cap on live threads.

use std::io;

use crate::core::job::{Executor, Runnable};
use crate::core::sync::thread;
use crate::core::threads;

/// The seed's default strategy: every future gets an OS thread of its own, which ends
/// when the task returns. This is what [`spawn_lazy`](crate::spawn_lazy) uses.
///
/// A thread costs tens of microseconds to start and a stack; that is fine for a few
/// slow calls and wrong for thousands of small ones, where a
/// [`ThreadPool`](crate::ThreadPool) is an order of magnitude faster.
///
/// # The cap on live threads
///
/// An OS refuses threads past its limits, and on Linux the standard library *aborts the
/// process* rather than return an error once the memory-map limit is reached (at about
/// `vm.max_map_count / 4` live threads). So this executor counts the threads it has
/// running and refuses a new one past a cap: the [`Builder`](crate::Builder) returns an [`io::Error`] of kind
/// [`WouldBlock`](io::ErrorKind::WouldBlock), and [`spawn_lazy`](crate::spawn_lazy)
/// panics with a message that names the cap. The default cap is derived from the
/// system's limits on Linux (the smallest of `(vm.max_map_count - 4096) / 5`, half of
/// `kernel.threads-max` and half of the process limit `RLIMIT_NPROC`), and is 10,000
/// elsewhere; change it with [`ThreadPerTask::set_max_live_threads`].
///
/// A thread counts from the moment it is started until it has exited, not only while
/// its task runs: when the task is done, the thread hands itself to the crate's reaper
/// thread (`transparent-future-reaper`, started on demand, gone after half a second
/// with nothing to do), which joins it and only then gives its place back. So the
/// threads alive at once never outnumber the cap, and a place may come back a moment
/// after the task's result. The same holds for scoped tasks (a reaper of the scope's
/// own joins them), for follow-up work on new threads, and for every other thread
/// started under the cap.
///
/// ```
/// use transparent_future::Builder;
/// use transparent_future::executor::ThreadPerTask;
///
/// let x = Builder::new().on(&ThreadPerTask).spawn(|| 1)?;
/// assert_eq!(*x, 1);
/// assert!(ThreadPerTask::max_live_threads() >= 1);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ThreadPerTask;

impl ThreadPerTask {
    /// The cap on live threads started by thread-per-task futures.
    ///
    /// ```
    /// let cap = transparent_future::executor::ThreadPerTask::max_live_threads();
    /// assert!(cap > 0);
    /// ```
    pub fn max_live_threads() -> usize {
        threads::max_live_threads()
    }

    /// Sets the cap on live threads started by thread-per-task futures, for the whole
    /// process. Threads already running are not affected; new ones are refused while
    /// the count is at or above the cap.
    ///
    /// # Panics
    ///
    /// If `cap` is zero.
    ///
    /// ```
    /// use transparent_future::executor::ThreadPerTask;
    /// let old = ThreadPerTask::max_live_threads();
    /// ThreadPerTask::set_max_live_threads(old);
    /// assert_eq!(ThreadPerTask::max_live_threads(), old);
    /// ```
    pub fn set_max_live_threads(cap: usize) {
        assert!(
            cap > 0,
            "ThreadPerTask::set_max_live_threads: the cap must be at least 1"
        );
        threads::set_max_live_threads(cap);
    }

    /// How many threads started under the cap are alive right now: started and not yet
    /// exited. A thread whose task has returned still counts until the reaper has
    /// joined it, so once this is 0, every such thread is gone.
    ///
    /// ```
    /// use transparent_future::executor::ThreadPerTask;
    /// let _ = ThreadPerTask::live_threads(); // a snapshot; other threads may change it
    /// ```
    pub fn live_threads() -> usize {
        threads::live_threads()
    }
}

impl Executor for ThreadPerTask {
    /// Starts a thread for `task`, named and sized as the task asks
    /// ([`Runnable::name`], [`Runnable::stack_size`]).
    fn execute(&self, task: Runnable) -> io::Result<()> {
        let mut builder = thread::Builder::new();
        if let Some(name) = task.name() {
            builder = builder.name(name.to_owned());
        }
        if let Some(bytes) = task.stack_size() {
            builder = builder.stack_size(bytes);
        }
        threads::start(builder, move || task.run())
    }

    /// `false`: the task has a thread of its own, which will run it.
    fn allows_helping(&self) -> bool {
        false
    }
}
