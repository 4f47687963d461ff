//! Scoped futures: tasks that borrow from the caller's stack.

use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Instant;

use crate::executor::Placement;
use crate::lazy::Lazy;
use crate::outcome::Outcome;
use crate::policy::TimeoutPolicy;
use crate::state::{Core, Timeout};
use crate::task::{Remote, new_remote};
use crate::thread_per_task;

/// Runs `f` with a [`Scope`] whose futures may borrow anything that outlives the call,
/// on top of [`std::thread::scope`]. Returns only after every task spawned in the scope
/// has finished.
///
/// A task's panic reaches its readers, as everywhere. If a task panicked and its panic
/// was not taken with [`Lazy::join`], `scope` panics once all tasks have finished, as
/// `std::thread::scope` does for a thread that panicked and was not joined.
///
/// ```
/// let data = vec![1, 2, 3, 4];
/// let text = String::from("borrowed, not moved");
/// let total = transparent_future::scope(|s| {
///     let n = s.spawn_lazy(|| data.len());
///     let sum = s.spawn_lazy(|| data.iter().sum::<i32>());
///     let words = s.spawn_lazy(|| text.split(' ').count());
///     *sum as usize + n * 10 + *words
/// });
/// assert_eq!(total, 10 + 40 + 3);
/// assert_eq!(data.len(), 4); // still ours
/// ```
///
/// # Timeouts in a scope
///
/// A deadline ([`Scope::spawn_lazy_with`]) releases the reader, as everywhere, but it
/// cannot release the scope: the borrow must end before `scope` returns, so `scope`
/// still waits for a late task to finish.
///
/// # The result must own its data
///
/// The closure may borrow; its result is `'static` (it may outlive the scope inside its
/// future). Return owned data, or indices into what you borrowed.
#[track_caller]
pub fn scope<'env, F, R>(f: F) -> R
where
    F: for<'scope> FnOnce(Scope<'scope, 'env>) -> R,
{
    let registry = Arc::new(Registry::default());
    let result = thread::scope(|inner| {
        f(Scope {
            inner,
            registry: Arc::clone(&registry),
        })
    });
    let tasks = std::mem::take(
        &mut *registry
            .tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner),
    );
    if let Some(message) = tasks.iter().find_map(|task| task.unjoined_panic()) {
        panic!("a scoped background task panicked: {message}");
    }
    result
}

/// The tasks of a scope, checked for panics at its end.
#[derive(Default)]
struct Registry {
    tasks: Mutex<Vec<Arc<dyn ScopedTask>>>,
}

trait ScopedTask: Send + Sync {
    /// The reader's panic message if the task panicked and nobody joined it.
    fn unjoined_panic(&self) -> Option<String>;
}

impl<T: Send> ScopedTask for Remote<T> {
    fn unjoined_panic(&self) -> Option<String> {
        self.core().panic_payload_message()
    }
}

/// A scope to spawn borrowing futures in; see [`scope`]. A clone is the same scope,
/// so a task can capture one to spawn more.
///
/// ```
/// let words = ["a", "bb", "ccc"];
/// let lens = transparent_future::scope(|s| {
///     let s2 = s.clone();
///     let outer = s.spawn_lazy(move || {
///         let inner = s2.spawn_lazy(move || words[2].len()); // a task spawning a task
///         *inner + words[1].len()
///     });
///     *outer
/// });
/// assert_eq!(lens, 5);
/// ```
#[derive(Clone)]
pub struct Scope<'scope, 'env> {
    inner: &'scope thread::Scope<'scope, 'env>,
    registry: Arc<Registry>,
}

impl<'scope> Scope<'scope, '_> {
    /// Starts a task on a scoped thread of its own.
    fn start<T, F>(&self, f: F, timeout: Option<Timeout<T>>) -> io::Result<Lazy<T>>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'static,
    {
        let (lazy, remote) = new_remote(Core::new(timeout, Placement::thread()), "scoped task");
        let publisher = Arc::clone(&remote);
        thread_per_task::start_scoped(self.inner, move || {
            publisher.computing_here();
            let running = crate::deadlock::running_task(
                Arc::as_ptr(&publisher).cast::<()>() as usize,
                std::any::type_name::<F>(),
            );
            let result = catch_unwind(AssertUnwindSafe(f));
            drop(running);
            publisher.needs(Vec::new());
            publisher.core().publish(result);
        })?;
        self.registry
            .tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(remote);
        Ok(lazy)
    }

    /// Runs `f`, which may borrow from outside the scope, on a new thread.
    ///
    /// # Panics
    ///
    /// If the thread is refused; see [`Scope::try_spawn_lazy`].
    ///
    /// ```
    /// let v = vec![3, 1, 2];
    /// let max = transparent_future::scope(|s| *s.spawn_lazy(|| *v.iter().max().unwrap()));
    /// assert_eq!(max, 3);
    /// ```
    #[track_caller]
    pub fn spawn_lazy<F, T>(&self, f: F) -> Lazy<T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'static,
    {
        match self.try_spawn_lazy(f) {
            Ok(lazy) => lazy,
            Err(e) => panic!("transparent_future: a scoped background task was refused: {e}"),
        }
    }

    /// Like [`Scope::spawn_lazy`], but returns a refused thread as an error.
    ///
    /// # Errors
    ///
    /// The OS's refusal to create the thread, or the [live-thread
    /// cap](crate::ThreadPerTask).
    ///
    /// ```
    /// let v = vec![1, 2];
    /// let n = transparent_future::scope(|s| s.try_spawn_lazy(|| v.len()).map(|n| *n))?;
    /// assert_eq!(n, 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_spawn_lazy<F, T>(&self, f: F) -> io::Result<Lazy<T>>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'static,
    {
        self.start(f, None)
    }

    /// Runs `f` on a new thread under a timeout policy. The deadline releases readers;
    /// the scope still waits for the task (see [`scope`]).
    ///
    /// # Panics
    ///
    /// If the thread is refused.
    ///
    /// ```
    /// use std::time::Duration;
    /// use transparent_future::{Deadline, Outcome};
    ///
    /// let data = [1u8; 16];
    /// let outcome = transparent_future::scope(|s| {
    ///     let x = s.spawn_lazy_with(Deadline::after(Duration::from_millis(10)), || {
    ///         std::thread::sleep(Duration::from_millis(100));
    ///         data.len()
    ///     });
    ///     *x
    /// });
    /// assert_eq!(outcome, Outcome::Timeout);
    /// ```
    #[track_caller]
    pub fn spawn_lazy_with<P, F, T>(&self, policy: P, f: F) -> Lazy<Outcome<T>>
    where
        P: TimeoutPolicy,
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'static,
    {
        let timeout = Timeout::outcome(policy.deadline(Instant::now()));
        match self.start(move || Outcome::Ready(f()), timeout) {
            Ok(lazy) => lazy,
            Err(e) => panic!("transparent_future: a scoped background task was refused: {e}"),
        }
    }
}
