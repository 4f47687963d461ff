//! Where tasks run: the [`Executor`] trait, the [`Runnable`] it is handed, and the
//! executors beside the crate's [`ThreadPool`](crate::ThreadPool): a thread per task
//! ([`ThreadPerTask`], the default) and rayon (`RayonGlobal` and `rayon::ThreadPool`,
//! with the cargo feature `rayon`).
//!
//! Pick one with [`Builder::on`](crate::Builder::on):
//!
//! ```
//! use transparent_future::Builder;
//! use transparent_future::executor::ThreadPerTask;
//!
//! let x = Builder::new().on(&ThreadPerTask).spawn(|| 6 * 7)?;
//! assert_eq!(*x, 42);
//! # Ok::<(), std::io::Error>(())
//! ```

pub(crate) mod pool;
#[cfg(feature = "rayon")]
mod rayon;
mod thread_per_task;

pub use self::pool::ThreadPoolBuilder;
#[cfg(feature = "rayon")]
pub use self::rayon::RayonGlobal;
pub use self::thread_per_task::ThreadPerTask;
pub use crate::core::job::{Executor, Runnable};
