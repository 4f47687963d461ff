//! [`Builder`]: the one way a task starts. Every spawn function of the crate is a
//! shorthand over it, and every builder spawn goes through [`spawn_in`].

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Instant;

use crate::core::cancel::{CancelFlag, CancelToken};
use crate::core::job::{Executor, Placement, Runnable};
use crate::core::state::{Core, Timeout};
use crate::core::task::{Configured, Extras, Named, new_task};
use crate::executor::ThreadPerTask;
use crate::lazy::Lazy;
use crate::lazy::outcome::Outcome;
use crate::lazy::policy::TimeoutPolicy;
use crate::spawn::scope::Scope;

/// Options for starting a future, in the style of [`std::thread::Builder`]: where it
/// runs, its deadline, its name and its thread's stack size. Every combination works.
///
/// * [`on`](Builder::on): any [`Executor`] (a [`ThreadPool`](crate::ThreadPool), a
///   rayon pool, your own); without it, a new thread per task
///   ([`ThreadPerTask`]).
/// * [`timeout`](Builder::timeout): any [`TimeoutPolicy`]; the future is then a
///   `Lazy<Outcome<T>>` (the type changes at compile time, so without a timeout the
///   result stays a plain `Lazy<T>`).
/// * [`name`](Builder::name): the thread's name where a thread is started, and always
///   the task's label in deadlock cycles and [`debug::waits`](crate::debug::waits).
/// * [`stack_size`](Builder::stack_size): the stack of the thread started for the task.
///
/// The terminal methods [`spawn`](Builder::spawn),
/// [`spawn_cancellable`](Builder::spawn_cancellable) and
/// [`spawn_scoped`](Builder::spawn_scoped) return an [`io::Result`]: a thread the OS
/// refuses, one past the [live-thread cap](ThreadPerTask), an executor's refusal, or an
/// option the target cannot honour is an error the caller sees, never an abort. The
/// shorthands [`spawn_lazy`](crate::spawn_lazy), [`spawn_lazy_with`](crate::spawn_lazy_with),
/// [`ThreadPool::spawn_lazy`](crate::ThreadPool::spawn_lazy) and
/// [`Scope::spawn_lazy`] panic on refusal instead, as [`std::thread::spawn`] does over
/// its builder.
///
/// | option | thread per task (default) | [`ThreadPool`](crate::ThreadPool), rayon, other executors | [`spawn_scoped`](Builder::spawn_scoped) |
/// | --- | --- | --- | --- |
/// | `name` | thread name and task label | task label (the crate's executors); yours sees [`Runnable::name`] | thread name and task label |
/// | `stack_size` | the thread's stack | refused (`InvalidInput`) by the crate's executors; yours sees [`Runnable::stack_size`] | the thread's stack |
/// | `timeout` | yes | yes | yes |
/// | `on` | — | yes | refused (`InvalidInput`): a borrowing task runs on a scoped thread of its own |
///
/// ```
/// use std::time::Duration;
/// use transparent_future::{Builder, Deadline, Outcome, ThreadPool};
///
/// let name = Builder::new()
///     .name("fetcher")
///     .stack_size(256 * 1024)
///     .spawn(|| std::thread::current().name().map(String::from))?;
/// assert_eq!(name.as_deref(), Some("fetcher"));
///
/// let pool = ThreadPool::new(2);
/// let quick = Builder::new()
///     .on(&pool)
///     .timeout(Deadline::after(Duration::from_secs(30)))
///     .name("quick")
///     .spawn_cancellable(|token| token.is_cancelled())?;
/// assert_eq!(*quick, Outcome::Ready(false));
/// # Ok::<(), std::io::Error>(())
/// ```
#[must_use = "a Builder does nothing until you call one of its spawn methods"]
pub struct Builder<E = ThreadPerTask, P = ()> {
    /// Where the task runs: a new thread per task unless [`Builder::on`] chose another.
    executor: E,
    /// Whether [`Builder::on`] chose the executor (a scoped task cannot use one).
    chosen: bool,
    /// `()` for no deadline, else a [`TimeoutPolicy`].
    policy: P,
    name: Option<String>,
    stack_size: Option<usize>,
    #[cfg(feature = "process")]
    kill_grace: Option<std::time::Duration>,
}

impl Builder<ThreadPerTask, ()> {
    /// A builder with the defaults: a new thread per task, no deadline, no name, the
    /// standard library's stack size.
    ///
    /// ```
    /// let x = transparent_future::Builder::new().spawn(|| 1)?;
    /// assert_eq!(*x, 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> Self {
        Builder {
            executor: ThreadPerTask,
            chosen: false,
            policy: (),
            name: None,
            stack_size: None,
            #[cfg(feature = "process")]
            kill_grace: None,
        }
    }
}

impl Default for Builder<ThreadPerTask, ()> {
    /// The same as [`Builder::new`].
    ///
    /// ```
    /// let x = transparent_future::Builder::default().spawn(|| 2)?;
    /// assert_eq!(*x, 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn default() -> Self {
        Builder::new()
    }
}

impl<E: Executor, P> Builder<E, P> {
    /// Runs the task on `executor` instead of a new thread: a reference (`&pool`, also
    /// `&*boxed` for a `Box<dyn Executor>`) or an executor by value.
    ///
    /// ```
    /// use transparent_future::{Builder, ThreadPool};
    ///
    /// let pool = ThreadPool::new(2);
    /// let x = Builder::new().on(&pool).spawn(|| 20 + 1)?;
    /// assert_eq!(x * 2, 42);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn on<X: Executor>(self, executor: X) -> Builder<X, P> {
        Builder {
            executor,
            chosen: true,
            policy: self.policy,
            name: self.name,
            stack_size: self.stack_size,
            #[cfg(feature = "process")]
            kill_grace: self.kill_grace,
        }
    }

    /// Gives the future a deadline: it becomes a `Lazy<Outcome<T>>` whose value is
    /// [`Outcome::Ready`] if the task returned no later than the policy's deadline
    /// (measured from the spawn), [`Outcome::Timeout`] otherwise. A reader blocked on a
    /// late task is released at the deadline; the task keeps running (see
    /// [`spawn_lazy_with`](crate::spawn_lazy_with)).
    ///
    /// ```
    /// use std::time::Duration;
    /// use transparent_future::{Builder, Deadline, Outcome};
    ///
    /// let x = Builder::new().timeout(Deadline::after(Duration::ZERO)).spawn(|| {
    ///     std::thread::sleep(Duration::from_millis(100));
    /// })?;
    /// assert_eq!(*x, Outcome::Timeout);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn timeout<Q: TimeoutPolicy>(self, policy: Q) -> Builder<E, Q> {
        Builder {
            executor: self.executor,
            chosen: self.chosen,
            policy,
            name: self.name,
            stack_size: self.stack_size,
            #[cfg(feature = "process")]
            kill_grace: self.kill_grace,
        }
    }

    /// Names the task: its thread's name where a thread is started for it (shown in
    /// panic messages and debuggers), and its label in deadlock cycles and
    /// [`debug::waits`](crate::debug::waits) wherever it runs. A name containing a NUL
    /// byte makes the spawn fail with [`InvalidInput`](io::ErrorKind::InvalidInput).
    ///
    /// ```
    /// let x = transparent_future::Builder::new().name("worker").spawn(|| {
    ///     std::thread::current().name().unwrap().to_string()
    /// })?;
    /// assert_eq!(*x, "worker");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the stack size, in bytes, of the thread started for the task (the OS may
    /// round it up). An executor that runs tasks on threads it already has cannot
    /// honour it: the crate's executors then refuse the spawn with
    /// [`InvalidInput`](io::ErrorKind::InvalidInput).
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

    /// The name and stack size, checked: `None` if neither was given.
    #[inline]
    fn named(&mut self) -> io::Result<Option<Box<Named>>> {
        if self.name.is_none() && self.stack_size.is_none() {
            return Ok(None);
        }
        self.named_slow()
    }

    /// [`Builder::named`] once a name or a stack size was given.
    #[cold]
    fn named_slow(&mut self) -> io::Result<Option<Box<Named>>> {
        if let Some(name) = &self.name {
            if name.contains('\0') {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "transparent_future: the task name {name:?} contains a NUL byte, \
                         which no thread name may contain"
                    ),
                ));
            }
        }
        Ok(Some(Box::new(Named {
            name: self.name.take(),
            stack_size: self.stack_size,
        })))
    }

    /// The one path every spawn takes: builds the task with its extras and hands it to
    /// the target executor.
    #[inline]
    fn spawn_in<T, F, X>(
        mut self,
        timeout: Option<Timeout<T>>,
        f: F,
        extras: X,
    ) -> io::Result<Lazy<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
        X: Extras + 'static,
    {
        let named = self.named()?;
        let core = Core::new(timeout, Placement::executor(&self.executor));
        let (source, job) = match named {
            None => new_task(core, f, extras),
            Some(options) => new_task(
                core,
                f,
                Configured {
                    options,
                    inner: extras,
                },
            ),
        };
        self.executor.execute(Runnable::new(job))?;
        Ok(Lazy::from_source(source))
    }

    /// Starts a borrowing task on a scoped thread of `scope`.
    fn spawn_scoped_in<'scope, 'env, T, F>(
        mut self,
        scope: &Scope<'scope, 'env>,
        timeout: Option<Timeout<T>>,
        f: F,
    ) -> io::Result<Lazy<T>>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'static,
    {
        if self.chosen {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "transparent_future: a scoped task borrows from the stack, so it runs on a \
                 scoped thread of its own; Builder::on cannot be combined with spawn_scoped",
            ));
        }
        let named = self.named()?.map(|options| *options).unwrap_or_default();
        scope.start(named, timeout, f)
    }
}

/// A builder's options taken apart, for spawn paths outside this module (the process
/// executor).
#[cfg(feature = "process")]
pub(crate) struct Parts<P> {
    pub(crate) on_executor: bool,
    pub(crate) policy: P,
    pub(crate) name: Option<String>,
    pub(crate) stack_size: Option<usize>,
    pub(crate) kill_grace: Option<std::time::Duration>,
}

#[cfg(feature = "process")]
impl<E: Executor, P> Builder<E, P> {
    /// Takes the builder apart; the name is checked as every spawn checks it.
    pub(crate) fn into_parts(mut self) -> io::Result<Parts<P>> {
        let named = self.named()?;
        Ok(Parts {
            on_executor: self.chosen,
            policy: self.policy,
            name: named.as_ref().and_then(|n| n.name.clone()),
            stack_size: self.stack_size,
            kill_grace: self.kill_grace,
        })
    }

    /// For process tasks: when the future's outcome is decided as a timeout or it is
    /// cancelled, send SIGTERM to the task's process group first and SIGKILL only
    /// after `grace` (as Python's `pebble` does), instead of SIGKILL at once. No effect
    /// on thread tasks, which cannot be killed.
    ///
    /// ```
    /// # transparent_future::process::init();
    /// use std::time::Duration;
    /// use transparent_future::{Builder, Deadline, Outcome};
    ///
    /// fn spin(_: ()) -> u8 {
    ///     loop {
    ///         std::thread::sleep(Duration::from_millis(10));
    ///     }
    /// }
    /// let x = Builder::new()
    ///     .timeout(Deadline::after(Duration::from_millis(100)))
    ///     .kill_grace(Duration::from_millis(200))
    ///     .spawn_process((), spin)?;
    /// assert_eq!(*x, Outcome::Timeout);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "process")))]
    pub fn kill_grace(mut self, grace: std::time::Duration) -> Self {
        self.kill_grace = Some(grace);
        self
    }
}

impl<E: Executor> Builder<E, ()> {
    /// Starts `f` and returns its future at once.
    ///
    /// # Errors
    ///
    /// The OS's refusal to create a thread, the [live-thread cap](ThreadPerTask)
    /// (`WouldBlock`), a name with a NUL byte or an option the executor cannot honour
    /// (`InvalidInput`), or whatever [`Executor::execute`] returned.
    ///
    /// ```
    /// let x = transparent_future::Builder::new().spawn(|| "hi")?;
    /// assert_eq!(*x, "hi");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// The closure and its result must be able to cross threads:
    ///
    /// ```compile_fail
    /// let x = transparent_future::Builder::new().spawn(|| std::rc::Rc::new(1));
    /// ```
    pub fn spawn<F, T>(self, f: F) -> io::Result<Lazy<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.spawn_in(None, f, ())
    }

    /// Starts a cancellable task: `f` is handed a [`CancelToken`] that reports
    /// cancellation once [`Lazy::cancel`] is called or every handle to the future has
    /// been dropped (nobody can read the result any more).
    ///
    /// **Through combinators.** A future consumed by [`Lazy::map`], [`Lazy::then`],
    /// [`Lazy::all`] (and the other combinators that take their input by value:
    /// `map_ready`, `then_ready`, `all_settled`, `all_with`, `handle`, `recover`,
    /// `timeout`) has no other reader than the derived future, so the derived future
    /// stands for it: [`Lazy::cancel`] on the derived future, or dropping it unread,
    /// asks every task it consumed to stop, through any depth of derived futures, and
    /// also the future a `then`'s closure returned (even if the cancellation came
    /// while that closure ran). The derived future still resolves to whatever its
    /// inputs and closures produce. A [`SharedLazy`](crate::SharedLazy) is not
    /// consumed by its continuations: cancelling one of them never cancels it, and it
    /// is asked to stop only once every clone *and* every derived handle
    /// (`SharedLazy::map`, ... and whatever consumed those) is gone, or when
    /// [`Lazy::cancel`] is called on it through
    /// [`SharedLazy::as_lazy`](crate::SharedLazy::as_lazy).
    ///
    /// # Errors
    ///
    /// As [`Builder::spawn`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use transparent_future::{Builder, Lazy};
    ///
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let x = Builder::new().spawn_cancellable(move |token| {
    ///     while !token.is_cancelled() {
    ///         std::thread::sleep(Duration::from_millis(1));
    ///     }
    ///     tx.send("stopped").unwrap();
    /// })?;
    /// drop(x); // nobody can read the result any more: the task is asked to stop
    /// assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok("stopped"));
    ///
    /// // Through a combinator: the map stands for the task it consumed.
    /// let polls = Builder::new().spawn_cancellable(|token| {
    ///     let mut n = 0_u32;
    ///     while !token.is_cancelled() {
    ///         n += 1;
    ///         std::thread::sleep(Duration::from_millis(1));
    ///     }
    ///     n
    /// })?;
    /// let doubled = Lazy::map(polls, |n| n * 2);
    /// Lazy::cancel(&doubled); // reaches the task
    /// assert!(*doubled >= 2 || *doubled == 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn spawn_cancellable<F, T>(self, f: F) -> io::Result<Lazy<T>>
    where
        F: FnOnce(CancelToken) -> T + Send + 'static,
        T: Send + 'static,
    {
        let flag = CancelFlag::new();
        let token = CancelToken::new(Arc::clone(&flag), None);
        self.spawn_in(None, move || f(token), flag)
    }

    /// Starts `f`, which may borrow anything that outlives the [`scope`](crate::scope),
    /// on a scoped thread; `scope` waits for it before it returns.
    ///
    /// # Errors
    ///
    /// As [`Builder::spawn`]; also `InvalidInput` if the builder was given an executor
    /// with [`Builder::on`] (a borrowing task runs on a scoped thread of its own).
    ///
    /// ```
    /// use transparent_future::{scope, Builder};
    ///
    /// let data = vec![1, 2, 3];
    /// let n = scope(|s| Builder::new().name("counter").spawn_scoped(s, || data.len()).map(|n| *n))?;
    /// assert_eq!(n, 3);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn spawn_scoped<'scope, 'env, F, T>(
        self,
        scope: &Scope<'scope, 'env>,
        f: F,
    ) -> io::Result<Lazy<T>>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'static,
    {
        self.spawn_scoped_in(scope, None, f)
    }
}

impl<E: Executor, P: TimeoutPolicy> Builder<E, P> {
    /// Starts `f` under the builder's timeout policy; the future's value is
    /// [`Outcome::Ready`] if `f` returned no later than the deadline,
    /// [`Outcome::Timeout`] otherwise.
    ///
    /// # Errors
    ///
    /// As [`Builder::spawn`](Builder#method.spawn).
    ///
    /// ```
    /// use std::time::Duration;
    /// use transparent_future::{Builder, Deadline, Outcome};
    ///
    /// let x = Builder::new().timeout(Deadline::after(Duration::from_secs(30))).spawn(|| 1)?;
    /// assert_eq!(*x, Outcome::Ready(1));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn spawn<F, T>(self, f: F) -> io::Result<Lazy<Outcome<T>>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let timeout = Timeout::outcome(self.policy.deadline(Instant::now()));
        self.spawn_in(timeout, move || Outcome::Ready(f()), ())
    }

    /// Starts a cancellable task under the builder's timeout policy: the token also
    /// reports cancellation once the deadline has passed.
    ///
    /// # Errors
    ///
    /// As [`Builder::spawn`](Builder#method.spawn).
    ///
    /// ```
    /// use std::time::Duration;
    /// use transparent_future::{Builder, Deadline, Outcome};
    ///
    /// let x = Builder::new()
    ///     .timeout(Deadline::after(Duration::from_millis(20)))
    ///     .spawn_cancellable(|token| {
    ///         while !token.is_cancelled() {
    ///             std::thread::sleep(Duration::from_millis(1));
    ///         }
    ///     })?;
    /// assert_eq!(*x, Outcome::Timeout); // the deadline passed; the task stopped soon after
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn spawn_cancellable<F, T>(self, f: F) -> io::Result<Lazy<Outcome<T>>>
    where
        F: FnOnce(CancelToken) -> T + Send + 'static,
        T: Send + 'static,
    {
        let deadline = self.policy.deadline(Instant::now());
        let flag = CancelFlag::new();
        let token = CancelToken::new(Arc::clone(&flag), deadline);
        self.spawn_in(
            Timeout::outcome(deadline),
            move || Outcome::Ready(f(token)),
            flag,
        )
    }

    /// Starts a borrowing task (see [`Builder::spawn_scoped`](Builder#method.spawn_scoped))
    /// under the builder's timeout policy. The deadline releases readers; the scope
    /// still waits for the task before it returns.
    ///
    /// # Errors
    ///
    /// As [`Builder::spawn_scoped`](Builder#method.spawn_scoped).
    ///
    /// ```
    /// use std::time::Duration;
    /// use transparent_future::{scope, Builder, Deadline, Outcome};
    ///
    /// let data = [1u8; 16];
    /// let outcome = scope(|s| {
    ///     let x = Builder::new()
    ///         .timeout(Deadline::after(Duration::from_millis(10)))
    ///         .spawn_scoped(s, || {
    ///             std::thread::sleep(Duration::from_millis(100));
    ///             data.len()
    ///         })?;
    ///     Ok::<_, std::io::Error>(*x)
    /// })?;
    /// assert_eq!(outcome, Outcome::Timeout);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn spawn_scoped<'scope, 'env, F, T>(
        self,
        scope: &Scope<'scope, 'env>,
        f: F,
    ) -> io::Result<Lazy<Outcome<T>>>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'static,
    {
        let timeout = Timeout::outcome(self.policy.deadline(Instant::now()));
        self.spawn_scoped_in(scope, timeout, move || Outcome::Ready(f()))
    }
}

impl<E, P> fmt::Debug for Builder<E, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("executor", &std::any::type_name::<E>())
            .field("name", &self.name)
            .field("stack_size", &self.stack_size)
            .finish_non_exhaustive()
    }
}

/// Panics with a refusal, for the shorthands.
#[track_caller]
pub(crate) fn expect_spawned<T>(spawned: io::Result<Lazy<T>>, what: &str) -> Lazy<T> {
    match spawned {
        Ok(lazy) => lazy,
        Err(e) => panic!(
            "transparent_future: {what}: the background task was refused: {e} \
             (Builder's spawn methods return this as an error)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Discard;
    impl Executor for Discard {
        fn execute(&self, task: Runnable) -> io::Result<()> {
            drop(task);
            Ok(())
        }
    }

    #[test]
    fn a_task_dropped_unrun_fails_its_readers_instead_of_hanging() {
        let x = Builder::new().on(&Discard).spawn(|| 1).unwrap();
        let payload = Lazy::join(x).unwrap_err();
        assert_eq!(
            payload.downcast_ref::<&str>(),
            Some(&"the executor dropped the task without running it")
        );
        let y = Builder::new().on(&Discard).spawn(|| 1).unwrap();
        let err = std::panic::catch_unwind(|| *y).unwrap_err();
        assert!(
            err.downcast_ref::<String>()
                .unwrap()
                .contains("without running it")
        );
    }

    #[test]
    fn a_name_with_a_nul_byte_is_an_error_not_a_panic() {
        let err = Builder::new().name("bad\0name").spawn(|| 1).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("NUL"), "{err}");
    }
}
