//! [`Builder`]: thread-per-task futures with a name, a stack size and a deadline.

use std::io;
use std::thread;

use crate::cancel::CancelToken;
use crate::executor::{Placement, Runnable};
use crate::lazy::Lazy;
use crate::outcome::Outcome;
use crate::policy::TimeoutPolicy;
use crate::spawn;
use crate::thread_per_task;

/// Configures the thread of a thread-per-task future, like [`std::thread::Builder`].
///
/// Every `spawn` returns an [`io::Result`]: a thread the OS refuses, or one past the
/// [live-thread cap](crate::ThreadPerTask), is an error the caller sees, never an abort.
///
/// ```
/// use std::time::Duration;
/// use transparent_future::{Builder, Deadline, Outcome};
///
/// let name = Builder::new()
///     .name("fetcher".into())
///     .stack_size(64 * 1024)
///     .spawn(|| std::thread::current().name().map(String::from))?;
/// assert_eq!(name.as_deref(), Some("fetcher"));
///
/// let quick = Builder::new().spawn_with(Deadline::after(Duration::from_secs(30)), || 1)?;
/// assert_eq!(*quick, Outcome::Ready(1));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Default)]
#[must_use = "a Builder does nothing until you call one of its spawn methods"]
pub struct Builder {
    name: Option<String>,
    stack_size: Option<usize>,
}

impl Builder {
    /// A builder with the standard library's defaults: no name, the default stack size.
    ///
    /// ```
    /// let x = transparent_future::Builder::new().spawn(|| 1)?;
    /// assert_eq!(*x, 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> Self {
        Builder::default()
    }

    /// Names the task's thread (shown in panic messages and debuggers).
    ///
    /// ```
    /// let x = transparent_future::Builder::new().name("worker".into()).spawn(|| {
    ///     std::thread::current().name().unwrap().to_string()
    /// })?;
    /// assert_eq!(*x, "worker");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn name(mut self, name: String) -> Self {
        self.name = Some(name);
        self
    }

    /// Sets the task thread's stack size in bytes (the OS may round it up).
    ///
    /// ```
    /// let x = transparent_future::Builder::new().stack_size(64 * 1024).spawn(|| 1)?;
    /// assert_eq!(*x, 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    fn start(self, task: Runnable) -> io::Result<()> {
        let mut builder = thread::Builder::new();
        if let Some(name) = self.name {
            builder = builder.name(name);
        }
        if let Some(bytes) = self.stack_size {
            builder = builder.stack_size(bytes);
        }
        thread_per_task::start(builder, task)
    }

    /// Runs `f` on a new thread configured by this builder.
    ///
    /// # Errors
    ///
    /// The OS's refusal to create the thread, or the live-thread cap.
    ///
    /// ```
    /// let x = transparent_future::Builder::new().spawn(|| "hi")?;
    /// assert_eq!(*x, "hi");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn spawn<F, T>(self, f: F) -> io::Result<Lazy<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (lazy, task) = spawn::plain(f, Placement::thread());
        self.start(task)?;
        Ok(lazy)
    }

    /// Runs `f` on a new thread configured by this builder, under a timeout policy (see
    /// [`spawn_lazy_with`](crate::spawn_lazy_with)).
    ///
    /// # Errors
    ///
    /// The OS's refusal to create the thread, or the live-thread cap.
    ///
    /// ```
    /// use std::time::Duration;
    /// use transparent_future::{Builder, Deadline, Outcome};
    /// let x = Builder::new().spawn_with(Deadline::after(Duration::ZERO), || {
    ///     std::thread::sleep(Duration::from_millis(100));
    /// })?;
    /// assert_eq!(*x, Outcome::Timeout);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn spawn_with<P, F, T>(self, policy: P, f: F) -> io::Result<Lazy<Outcome<T>>>
    where
        P: TimeoutPolicy,
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (lazy, task) = spawn::with_policy(policy, f, Placement::thread());
        self.start(task)?;
        Ok(lazy)
    }

    /// Runs a cancellable task on a new thread configured by this builder (see
    /// [`spawn_lazy_cancellable`](crate::spawn_lazy_cancellable)).
    ///
    /// # Errors
    ///
    /// The OS's refusal to create the thread, or the live-thread cap.
    ///
    /// ```
    /// use transparent_future::{Builder, Lazy};
    /// let x = Builder::new().spawn_cancellable(|token| {
    ///     while !token.is_cancelled() { std::thread::yield_now(); }
    ///     "stopped"
    /// })?;
    /// Lazy::cancel(&x);
    /// assert_eq!(*x, "stopped");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn spawn_cancellable<F, T>(self, f: F) -> io::Result<Lazy<T>>
    where
        F: FnOnce(CancelToken) -> T + Send + 'static,
        T: Send + 'static,
    {
        let (lazy, task) = spawn::cancellable(f, Placement::thread());
        self.start(task)?;
        Ok(lazy)
    }
}
