//! Starting futures: the free functions, on the default thread-per-task executor or on
//! any [`Executor`].
//!
//! Every spawn function comes in the forms `name` (panics if the executor refuses the
//! task) and, where refusing is a real prospect, `try_name` (returns the refusal).

use std::io;
use std::sync::Arc;
use std::time::Instant;

use crate::cancel::{CancelFlag, CancelToken};
use crate::executor::{Executor, Placement, Runnable};
use crate::lazy::Lazy;
use crate::outcome::Outcome;
use crate::policy::TimeoutPolicy;
use crate::state::{Core, Timeout};
use crate::task::new_task;
use crate::thread_per_task::ThreadPerTask;

/// A task whose value is `f()`.
pub(crate) fn plain<F, T>(f: F, place: Placement) -> (Lazy<T>, Runnable)
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let (lazy, job) = new_task(Core::new(None, place), f, ());
    (lazy, Runnable::new(job))
}

/// A task whose value is `Outcome::Ready(f())` if on time, `Outcome::Timeout` if not.
pub(crate) fn with_policy<P, F, T>(
    policy: P,
    f: F,
    place: Placement,
) -> (Lazy<Outcome<T>>, Runnable)
where
    P: TimeoutPolicy,
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let timeout = Timeout::outcome(policy.deadline(Instant::now()));
    let (lazy, job) = new_task(Core::new(timeout, place), move || Outcome::Ready(f()), ());
    (lazy, Runnable::new(job))
}

/// A task handed a token that reports cancellation.
pub(crate) fn cancellable<F, T>(f: F, place: Placement) -> (Lazy<T>, Runnable)
where
    F: FnOnce(CancelToken) -> T + Send + 'static,
    T: Send + 'static,
{
    let flag = CancelFlag::new();
    let token = CancelToken::new(Arc::clone(&flag), None);
    let (lazy, job) = new_task(Core::new(None, place), move || f(token), flag);
    (lazy, Runnable::new(job))
}

/// A cancellable task under a timeout policy; the token also reports the deadline.
pub(crate) fn cancellable_with<P, F, T>(
    policy: P,
    f: F,
    place: Placement,
) -> (Lazy<Outcome<T>>, Runnable)
where
    P: TimeoutPolicy,
    F: FnOnce(CancelToken) -> T + Send + 'static,
    T: Send + 'static,
{
    let deadline = policy.deadline(Instant::now());
    let flag = CancelFlag::new();
    let token = CancelToken::new(Arc::clone(&flag), deadline);
    let core = Core::new(Timeout::outcome(deadline), place);
    let (lazy, job) = new_task(core, move || Outcome::Ready(f(token)), flag);
    (lazy, Runnable::new(job))
}

/// Hands `task` to `executor`; the future if it accepted.
fn submit<E: Executor + ?Sized, T>(
    executor: &E,
    (lazy, task): (Lazy<T>, Runnable),
) -> io::Result<Lazy<T>> {
    executor.execute(task)?;
    Ok(lazy)
}

#[track_caller]
fn expect_accepted<T>(submitted: io::Result<Lazy<T>>) -> Lazy<T> {
    match submitted {
        Ok(lazy) => lazy,
        Err(e) => panic!(
            "transparent_future: the executor refused a background task: {e} \
             (the try_ spawn functions return this as an error)"
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
/// If the OS refuses a thread, or the [live-thread cap](ThreadPerTask) is reached;
/// [`try_spawn_lazy`] returns that as an error instead.
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
    expect_accepted(try_spawn_lazy(f))
}

/// Like [`spawn_lazy`], but returns a refused thread as an error instead of panicking.
///
/// # Errors
///
/// The OS's refusal to create a thread, or the [live-thread cap](ThreadPerTask)
/// (`ErrorKind::WouldBlock`).
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
    submit(&ThreadPerTask, plain(f, Placement::thread()))
}

/// Runs `f` on a new background thread under a timeout policy; the future's value is
/// [`Outcome::Ready`] if `f` returned no later than the policy's deadline (measured from
/// this call), [`Outcome::Timeout`] otherwise.
///
/// A reader blocked on a late task is released at the deadline. The task keeps running
/// (a thread cannot be killed; see [`spawn_lazy_cancellable_with`] for one that can be
/// asked to stop); its late result can be collected with [`Lazy::take_late`], or is
/// dropped exactly once when both sides are done.
///
/// # Panics
///
/// If the thread is refused; see [`try_spawn_lazy_with`].
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
    expect_accepted(try_spawn_lazy_with(policy, f))
}

/// Like [`spawn_lazy_with`], but returns a refused thread as an error.
///
/// # Errors
///
/// As [`try_spawn_lazy`].
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
    submit(&ThreadPerTask, with_policy(policy, f, Placement::thread()))
}

/// Runs `f` on `executor` and returns its future at once.
///
/// # Panics
///
/// If the executor refuses the task; see [`try_spawn_lazy_on`].
///
/// ```
/// use transparent_future::{spawn_lazy_on, ThreadPool};
///
/// let pool = ThreadPool::new(2);
/// let x = spawn_lazy_on(&pool, || 20 + 1);
/// assert_eq!(x * 2, 42);
/// ```
#[track_caller]
pub fn spawn_lazy_on<E, F, T>(executor: &E, f: F) -> Lazy<T>
where
    E: Executor + ?Sized,
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    expect_accepted(try_spawn_lazy_on(executor, f))
}

/// Like [`spawn_lazy_on`], but returns the executor's refusal as an error.
///
/// # Errors
///
/// Whatever [`Executor::execute`] returned.
///
/// ```
/// use transparent_future::{try_spawn_lazy_on, ThreadPerTask};
/// let x = try_spawn_lazy_on(&ThreadPerTask, || 1)?;
/// assert_eq!(*x, 1);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn try_spawn_lazy_on<E, F, T>(executor: &E, f: F) -> io::Result<Lazy<T>>
where
    E: Executor + ?Sized,
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    submit(executor, plain(f, Placement::executor(executor)))
}

/// Runs `f` on `executor` under a timeout policy (see [`spawn_lazy_with`]).
///
/// # Panics
///
/// If the executor refuses the task; see [`try_spawn_lazy_with_on`].
///
/// ```
/// use std::time::Duration;
/// use transparent_future::{spawn_lazy_with_on, Deadline, Outcome, ThreadPool};
///
/// let pool = ThreadPool::new(1);
/// let x = spawn_lazy_with_on(&pool, Deadline::after(Duration::from_secs(30)), || 1);
/// assert_eq!(*x, Outcome::Ready(1));
/// ```
#[track_caller]
pub fn spawn_lazy_with_on<E, P, F, T>(executor: &E, policy: P, f: F) -> Lazy<Outcome<T>>
where
    E: Executor + ?Sized,
    P: TimeoutPolicy,
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    expect_accepted(try_spawn_lazy_with_on(executor, policy, f))
}

/// Like [`spawn_lazy_with_on`], but returns the executor's refusal as an error.
///
/// # Errors
///
/// Whatever [`Executor::execute`] returned.
///
/// ```
/// use transparent_future::{try_spawn_lazy_with_on, NoTimeout, Outcome, ThreadPerTask};
/// let x = try_spawn_lazy_with_on(&ThreadPerTask, NoTimeout, || 1)?;
/// assert_eq!(*x, Outcome::Ready(1));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn try_spawn_lazy_with_on<E, P, F, T>(
    executor: &E,
    policy: P,
    f: F,
) -> io::Result<Lazy<Outcome<T>>>
where
    E: Executor + ?Sized,
    P: TimeoutPolicy,
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    submit(
        executor,
        with_policy(policy, f, Placement::executor(executor)),
    )
}

/// Runs `f` on a new background thread, handing it a [`CancelToken`] that reports
/// cancellation once [`Lazy::cancel`] is called or every handle to the future has been
/// dropped.
///
/// # Panics
///
/// If the thread is refused, as [`spawn_lazy`].
///
/// ```
/// use std::time::Duration;
/// use transparent_future::spawn_lazy_cancellable;
///
/// let (tx, rx) = std::sync::mpsc::channel();
/// let x = spawn_lazy_cancellable(move |token| {
///     while !token.is_cancelled() {
///         std::thread::sleep(Duration::from_millis(1));
///     }
///     tx.send("stopped").unwrap();
/// });
/// drop(x); // nobody can read the result any more: the task is asked to stop
/// assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok("stopped"));
/// ```
#[track_caller]
pub fn spawn_lazy_cancellable<F, T>(f: F) -> Lazy<T>
where
    F: FnOnce(CancelToken) -> T + Send + 'static,
    T: Send + 'static,
{
    spawn_lazy_cancellable_on(&ThreadPerTask, f)
}

/// Like [`spawn_lazy_cancellable`], under a timeout policy: the token also reports
/// cancellation once the deadline has passed.
///
/// # Panics
///
/// If the thread is refused, as [`spawn_lazy`].
///
/// ```
/// use std::time::Duration;
/// use transparent_future::{spawn_lazy_cancellable_with, Deadline, Outcome};
///
/// let x = spawn_lazy_cancellable_with(Deadline::after(Duration::from_millis(20)), |token| {
///     let mut rounds = 0;
///     while !token.is_cancelled() {
///         rounds += 1;
///         std::thread::sleep(Duration::from_millis(1));
///     }
///     rounds
/// });
/// assert_eq!(*x, Outcome::Timeout); // the deadline passed; the task stopped soon after
/// ```
#[track_caller]
pub fn spawn_lazy_cancellable_with<P, F, T>(policy: P, f: F) -> Lazy<Outcome<T>>
where
    P: TimeoutPolicy,
    F: FnOnce(CancelToken) -> T + Send + 'static,
    T: Send + 'static,
{
    spawn_lazy_cancellable_with_on(&ThreadPerTask, policy, f)
}

/// Runs a cancellable task (see [`spawn_lazy_cancellable`]) on `executor`.
///
/// # Panics
///
/// If the executor refuses the task.
///
/// ```
/// use transparent_future::{spawn_lazy_cancellable_on, Lazy, ThreadPool};
///
/// let pool = ThreadPool::new(1);
/// let x = spawn_lazy_cancellable_on(&pool, |token| {
///     while !token.is_cancelled() { std::thread::yield_now(); }
///     1
/// });
/// Lazy::cancel(&x);
/// assert_eq!(*x, 1);
/// ```
#[track_caller]
pub fn spawn_lazy_cancellable_on<E, F, T>(executor: &E, f: F) -> Lazy<T>
where
    E: Executor + ?Sized,
    F: FnOnce(CancelToken) -> T + Send + 'static,
    T: Send + 'static,
{
    expect_accepted(submit(
        executor,
        cancellable(f, Placement::executor(executor)),
    ))
}

/// Runs a cancellable task under a timeout policy (see
/// [`spawn_lazy_cancellable_with`]) on `executor`.
///
/// # Panics
///
/// If the executor refuses the task.
///
/// ```
/// use std::time::Duration;
/// use transparent_future::{spawn_lazy_cancellable_with_on, Deadline, Outcome, ThreadPool};
///
/// let pool = ThreadPool::new(1);
/// let x = spawn_lazy_cancellable_with_on(&pool, Deadline::after(Duration::from_secs(30)), |t| {
///     t.is_cancelled()
/// });
/// assert_eq!(*x, Outcome::Ready(false));
/// ```
#[track_caller]
pub fn spawn_lazy_cancellable_with_on<E, P, F, T>(executor: &E, policy: P, f: F) -> Lazy<Outcome<T>>
where
    E: Executor + ?Sized,
    P: TimeoutPolicy,
    F: FnOnce(CancelToken) -> T + Send + 'static,
    T: Send + 'static,
{
    let task = cancellable_with(policy, f, Placement::executor(executor));
    expect_accepted(submit(executor, task))
}
