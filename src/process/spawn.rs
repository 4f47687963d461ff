//! Starting process tasks: the [`Builder`]'s process terminal methods (the fallible
//! forms) and the fresh child's supervisor. The shorthands are in `shorthand`.

use std::any::type_name;
use std::io;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::core::job::Executor;
use crate::core::state::Timeout;
use crate::core::sync::thread;
use crate::core::threads;
use crate::lazy::Lazy;
use crate::lazy::outcome::Outcome;
use crate::lazy::policy::TimeoutPolicy;
use crate::process::child::Mode;
use crate::process::future::new_job;
use crate::process::ident;
use crate::process::launch::launch;
use crate::process::pool::ProcessPool;
use crate::process::supervise::ChildProc;
use crate::process::wire::Header;
use crate::spawn::builder::{Builder, Parts};

/// Where a process task runs.
enum Target<'p> {
    Fresh,
    Pool(&'p ProcessPool),
}

/// Encodes the task and starts it: the one path of every process spawn.
fn start<A, T, U, P>(
    parts: Parts<P>,
    target: Target<'_>,
    timeout: Option<Timeout<U>>,
    arg: A,
    f: fn(A) -> T,
    wrap: fn(T) -> U,
) -> io::Result<Lazy<U>>
where
    A: Serialize + DeserializeOwned,
    T: Serialize + DeserializeOwned + Send + 'static,
    U: Send + 'static,
{
    if parts.on_executor {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "transparent_future: a process task runs in a child process, not on an \
             executor; Builder::on cannot be combined with spawn_process (use \
             spawn_process_on with a ProcessPool)",
        ));
    }
    // Serialized here, on the caller's thread, so that a failure is this call's error.
    let arg = postcard::to_allocvec(&arg).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "transparent_future: the process task's argument ({}) could not be \
                 serialized: {e}",
                type_name::<A>()
            ),
        )
    })?;
    let (entry, func) = ident::locate(f)?;
    let header = Header {
        entry,
        func,
        arg_type: type_name::<A>().to_owned(),
        result_type: type_name::<T>().to_owned(),
        stack_size: parts.stack_size.map_or(0, |s| s as u64),
        name: parts.name.clone().unwrap_or_default(),
    }
    .encode();
    match target {
        Target::Pool(pool) => {
            let grace = parts.kill_grace.or(pool.kill_grace_setting());
            let (lazy, job) = new_job(header, arg, timeout, grace, wrap);
            pool.submit(job)?;
            Ok(lazy)
        }
        Target::Fresh => {
            let (lazy, mut job) = new_job(header, arg, timeout, parts.kill_grace, wrap);
            let proc = ChildProc::new(launch(Mode::Once)?)?;
            // From this thread, now: the child need not wait for its supervisor.
            job.send_now(&proc);
            // A refused thread drops the closure, hence the child: killed and reaped.
            supervise(
                parts.name.as_deref(),
                Box::new(move || {
                    let mut proc = proc;
                    if job.run_on(&mut proc) {
                        proc.retire(Mode::Once);
                    }
                }),
            )?;
            Ok(lazy)
        }
    }
}

/// The supervision of one fresh child, run on a supervising thread.
type Supervision = Box<dyn FnOnce() + Send>;

/// How long a supervising thread whose child is gone waits for the next one.
const KEEP_IDLE: Duration = Duration::from_secs(1);

/// Supervising threads waiting for a child: a claim on one of them is a decrement.
static IDLE: AtomicUsize = AtomicUsize::new(0);

/// Where a spawn hands its child to an idle supervising thread.
fn handoff() -> &'static (Sender<Supervision>, Receiver<Supervision>) {
    static HANDOFF: OnceLock<(Sender<Supervision>, Receiver<Supervision>)> = OnceLock::new();
    HANDOFF.get_or_init(crossbeam_channel::unbounded)
}

/// Takes one idle supervising thread, if there is one.
fn claim_idle() -> bool {
    // ORDERING: AcqRel: a claim and a retirement race for the same count; the work
    // itself travels through the channel, which orders it.
    IDLE.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
        .is_ok()
}

/// Runs `work` on a supervising thread. The thread of an unnamed task is kept for
/// [`KEEP_IDLE`] after its child is gone and takes the next unnamed spawn's child, so
/// that a program spawning task after task does not start (and end) a thread for each
/// (a clone, a stack and a malloc arena to map and unmap, on the CPU the children
/// need). A named task's supervisor bears its name, and ends with its child.
fn supervise(name: Option<&str>, work: Supervision) -> io::Result<()> {
    let builder = thread::Builder::new().stack_size(256 * 1024);
    if let Some(name) = name {
        return threads::start(builder.name(format!("{name} (process)")), work);
    }
    if claim_idle() {
        // The receiver lives as long as the program: the send cannot fail.
        let _ = handoff().0.send(work);
        return Ok(());
    }
    threads::start(
        builder.name("transparent-future-process".into()),
        move || {
            work();
            serve_idle();
        },
    )
}

/// Waits for more children to supervise, and gives up after [`KEEP_IDLE`] without one.
fn serve_idle() {
    let queue = &handoff().1;
    loop {
        // ORDERING: Release, pairs with the claim's Acquire.
        IDLE.fetch_add(1, Ordering::Release);
        let work = loop {
            match queue.recv_timeout(KEEP_IDLE) {
                Ok(work) => break work,
                // Retire unless every idle thread has been claimed: then a child is on
                // its way to one of them, and this one waits for it too.
                Err(_) if claim_idle() => return,
                Err(_) => {}
            }
        };
        work();
    }
}

impl<E: Executor> Builder<E, ()> {
    /// Runs `f(arg)` in a new child process and returns its future at once: the
    /// fallible form of [`process::spawn_lazy`](crate::process::spawn_lazy).
    ///
    /// `arg` is serialized here, on the caller's thread; the child is this executable
    /// started again, which must call [`process::init`](crate::process::init) first
    /// thing in `main`. The builder's [`name`](Builder::name) names the task's thread
    /// in the child, [`stack_size`](Builder::stack_size) sets that thread's stack
    /// (8 MiB by default, a main thread's), and [`kill_grace`](Builder::kill_grace)
    /// sends SIGTERM before SIGKILL when the task is stopped.
    ///
    /// # Errors
    ///
    /// The argument fails to serialize (`InvalidInput`); the OS refuses a process or a
    /// supervising thread; the builder has an executor ([`Builder::on`];
    /// `InvalidInput`); `f` is not in the executable's own code (`Unsupported`); or this
    /// process is a child that skipped `init` (`InvalidInput`).
    ///
    /// ```
    /// # transparent_future::process::init();
    /// use transparent_future::Builder;
    ///
    /// fn words(text: String) -> usize {
    ///     text.split_whitespace().count()
    /// }
    /// let n = Builder::new().name("count").spawn_process("a b c".to_string(), words)?;
    /// assert_eq!(*n, 3);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "process")))]
    pub fn spawn_process<A, T>(self, arg: A, f: fn(A) -> T) -> io::Result<Lazy<T>>
    where
        A: Serialize + DeserializeOwned,
        T: Serialize + DeserializeOwned + Send + 'static,
    {
        start(self.into_parts()?, Target::Fresh, None, arg, f, |t| t)
    }

    /// Runs `f(arg)` on a worker of `pool` and returns its future at once: the fallible
    /// form of [`ProcessPool::spawn_lazy`].
    ///
    /// # Errors
    ///
    /// As [`Builder::spawn_process`]; also if the pool has shut down.
    ///
    /// ```
    /// # transparent_future::process::init();
    /// use transparent_future::Builder;
    /// use transparent_future::process::ProcessPool;
    ///
    /// fn double(x: u32) -> u32 {
    ///     2 * x
    /// }
    /// let pool = ProcessPool::new(1);
    /// let x = Builder::new().spawn_process_on(&pool, 21, double)?;
    /// assert_eq!(*x, 42);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "process")))]
    pub fn spawn_process_on<A, T>(
        self,
        pool: &ProcessPool,
        arg: A,
        f: fn(A) -> T,
    ) -> io::Result<Lazy<T>>
    where
        A: Serialize + DeserializeOwned,
        T: Serialize + DeserializeOwned + Send + 'static,
    {
        start(self.into_parts()?, Target::Pool(pool), None, arg, f, |t| t)
    }
}

impl<E: Executor, P: TimeoutPolicy> Builder<E, P> {
    /// Runs `f(arg)` in a new child process under the builder's timeout policy: the
    /// fallible form of [`process::spawn_lazy_with`](crate::process::spawn_lazy_with).
    /// When the outcome is decided as [`Outcome::Timeout`], the child and its process
    /// group are killed and reaped.
    ///
    /// # Errors
    ///
    /// As [`Builder::spawn_process`](Builder#method.spawn_process).
    ///
    /// ```
    /// # transparent_future::process::init();
    /// use std::time::Duration;
    /// use transparent_future::{Builder, Deadline, Outcome};
    ///
    /// fn forever(_: ()) -> u8 {
    ///     loop {
    ///         std::hint::spin_loop();
    ///     }
    /// }
    /// let x = Builder::new()
    ///     .timeout(Deadline::after(Duration::from_millis(200)))
    ///     .spawn_process((), forever)?;
    /// assert_eq!(*x, Outcome::Timeout); // and the child is gone
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "process")))]
    pub fn spawn_process<A, T>(self, arg: A, f: fn(A) -> T) -> io::Result<Lazy<Outcome<T>>>
    where
        A: Serialize + DeserializeOwned,
        T: Serialize + DeserializeOwned + Send + 'static,
    {
        let parts = self.into_parts()?;
        let timeout = Timeout::outcome(parts.policy.deadline(Instant::now()));
        start(parts, Target::Fresh, timeout, arg, f, Outcome::Ready)
    }

    /// Runs `f(arg)` on a worker of `pool` under the builder's timeout policy (counted
    /// from this call, time in the queue included). A worker whose task times out is
    /// killed and replaced.
    ///
    /// # Errors
    ///
    /// As [`Builder::spawn_process_on`](Builder#method.spawn_process_on).
    ///
    /// ```
    /// # transparent_future::process::init();
    /// use std::time::Duration;
    /// use transparent_future::{Builder, Deadline, Outcome};
    /// use transparent_future::process::ProcessPool;
    ///
    /// fn double(x: u32) -> u32 {
    ///     2 * x
    /// }
    /// let pool = ProcessPool::new(1);
    /// let x = Builder::new()
    ///     .timeout(Deadline::after(Duration::from_secs(60)))
    ///     .spawn_process_on(&pool, 4, double)?;
    /// assert_eq!(*x, Outcome::Ready(8));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "process")))]
    pub fn spawn_process_on<A, T>(
        self,
        pool: &ProcessPool,
        arg: A,
        f: fn(A) -> T,
    ) -> io::Result<Lazy<Outcome<T>>>
    where
        A: Serialize + DeserializeOwned,
        T: Serialize + DeserializeOwned + Send + 'static,
    {
        let parts = self.into_parts()?;
        let timeout = Timeout::outcome(parts.policy.deadline(Instant::now()));
        start(parts, Target::Pool(pool), timeout, arg, f, Outcome::Ready)
    }
}
