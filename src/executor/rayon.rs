//! Running futures on rayon (cargo feature `rayon`).

use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::core::job::{Executor, Runnable, refuse_stack_size};

/// Runs a task on a rayon thread. A task's own panic already goes to its readers; this
/// also catches a panic while dropping what the task left behind (a value whose `Drop`
/// panics, dropped here because nobody holds its future), which rayon's default panic
/// handler would turn into a process abort. The panic hook has reported it.
fn run_on_rayon(task: Runnable) {
    let _ = catch_unwind(AssertUnwindSafe(move || task.run()));
}

/// Runs tasks on rayon's global thread pool (cargo feature `rayon`).
///
/// Use it to share threads with rayon's data parallelism. A reader on a rayon worker
/// that waits for a task no worker has started runs the task itself (work-helping), so
/// waiting inside rayon does not starve it. A `rayon::ThreadPool` is an executor too.
///
/// ```
/// use transparent_future::Builder;
/// use transparent_future::executor::RayonGlobal;
///
/// let x = Builder::new().on(&RayonGlobal).spawn(|| (1..=10).sum::<u32>())?;
/// assert_eq!(*x, 55);
///
/// let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
/// let y = Builder::new().on(&pool).spawn(|| 2)?;
/// assert_eq!(*y, 2);
/// # Ok::<(), std::io::Error>(())
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "rayon")))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RayonGlobal;

impl Executor for RayonGlobal {
    fn execute(&self, task: Runnable) -> io::Result<()> {
        refuse_stack_size(&task, "rayon's global pool")?;
        rayon::spawn(move || run_on_rayon(task));
        Ok(())
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "rayon")))]
impl Executor for rayon::ThreadPool {
    fn execute(&self, task: Runnable) -> io::Result<()> {
        refuse_stack_size(&task, "a rayon pool")?;
        self.spawn(move || run_on_rayon(task));
        Ok(())
    }
}
