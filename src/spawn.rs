//! Starting futures: the free functions that run a closure on its own thread.

use std::io;
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use crate::lazy::Lazy;
use crate::outcome::Outcome;
use crate::policy::TimeoutPolicy;
use crate::state::{Core, Timeout};
use crate::task::{Job, Task};

/// Builds a task and its handle: one allocation holding the closure and the state.
pub(crate) fn task<T, F>(f: F, timeout: Option<Timeout<T>>) -> (Lazy<T>, Arc<dyn Job>)
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let task = Arc::new(Task::new(Core::new(timeout), f));
    (Lazy::from_source(task.clone()), task)
}

/// Builds a task whose outcome follows `policy`, measured from now.
pub(crate) fn task_with<P, F, T>(policy: P, f: F) -> (Lazy<Outcome<T>>, Arc<dyn Job>)
where
    P: TimeoutPolicy,
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let timeout = policy.deadline(Instant::now()).map(|at| Timeout {
        at,
        value: || Outcome::Timeout,
    });
    task(move || Outcome::Ready(f()), timeout)
}

/// Runs `job` on a new thread of its own.
fn start_thread(job: Arc<dyn Job>) -> io::Result<()> {
    thread::Builder::new().spawn(move || job.run()).map(drop)
}

#[track_caller]
fn expect_thread<T>(spawned: io::Result<T>) -> T {
    match spawned {
        Ok(lazy) => lazy,
        Err(e) => panic!(
            "transparent_future: the OS refused a thread for a background task ({e}); \
             use try_spawn_lazy to handle this as an error"
        ),
    }
}

/// Runs `f` on a new background thread and returns its future at once.
///
/// The first access to the result blocks until `f` has returned; later accesses are
/// free. A panic in `f` reaches the readers (see [`Lazy`]).
///
/// # Panics
///
/// If the operating system refuses to create a thread; [`try_spawn_lazy`] returns that
/// as an error instead.
///
/// ```
/// use std::time::{Duration, Instant};
/// use transparent_future::spawn_lazy;
///
/// fn very_slow_task(arg: u32) -> u32 {
///     std::thread::sleep(Duration::from_millis(200));
///     arg
/// }
///
/// let t0 = Instant::now();
/// let x = spawn_lazy(|| very_slow_task(1));
/// let y = spawn_lazy(|| very_slow_task(2));
/// assert_eq!(format!("{} {}", *y, x), "2 1");   // both ran at once
/// assert!(t0.elapsed() < Duration::from_millis(390));
/// let total = x + 1;
/// assert_eq!(total, 2);
/// ```
///
/// The closure and its result must be able to cross threads:
///
/// ```compile_fail
/// use std::rc::Rc;
/// let x = transparent_future::spawn_lazy(|| Rc::new(1)); // Rc is not Send
/// ```
#[track_caller]
pub fn spawn_lazy<F, T>(f: F) -> Lazy<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    expect_thread(try_spawn_lazy(f))
}

/// Like [`spawn_lazy`], but returns the operating system's refusal to create a thread
/// as an error instead of panicking.
///
/// ```
/// let x = transparent_future::try_spawn_lazy(|| 6 * 7)?;
/// assert_eq!(*x, 42);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn try_spawn_lazy<F, T>(f: F) -> io::Result<Lazy<T>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let (lazy, job) = task(f, None);
    start_thread(job)?;
    Ok(lazy)
}

/// Runs `f` on a new background thread under a timeout policy; the future's value is
/// [`Outcome::Ready`] if `f` returned no later than the policy's deadline (measured from
/// this call), [`Outcome::Timeout`] otherwise.
///
/// A reader blocked on a late task is released at the deadline. The task keeps running
/// (a thread cannot be killed); its late result can be collected with
/// [`Lazy::take_late`], or is dropped exactly once when both sides are done.
///
/// # Panics
///
/// If the operating system refuses to create a thread; see [`try_spawn_lazy_with`].
///
/// ```
/// use std::time::Duration;
/// use transparent_future::{spawn_lazy_with, Deadline, Outcome};
///
/// let z = spawn_lazy_with(Deadline::after(Duration::from_millis(50)), || {
///     std::thread::sleep(Duration::from_secs(2));
///     "a"
/// });
/// assert!(z == Outcome::Timeout);
/// assert_eq!(z.to_string(), "Timeout");
/// ```
#[track_caller]
pub fn spawn_lazy_with<P, F, T>(policy: P, f: F) -> Lazy<Outcome<T>>
where
    P: TimeoutPolicy,
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    expect_thread(try_spawn_lazy_with(policy, f))
}

/// Like [`spawn_lazy_with`], but returns the operating system's refusal to create a
/// thread as an error instead of panicking.
///
/// ```
/// use transparent_future::{try_spawn_lazy_with, NoTimeout, Outcome};
///
/// let x = try_spawn_lazy_with(NoTimeout, || 1)?;
/// assert_eq!(*x, Outcome::Ready(1));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn try_spawn_lazy_with<P, F, T>(policy: P, f: F) -> io::Result<Lazy<Outcome<T>>>
where
    P: TimeoutPolicy,
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let (lazy, job) = task_with(policy, f);
    start_thread(job)?;
    Ok(lazy)
}
