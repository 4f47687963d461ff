//! Futures computed in a child process (feature `process`, Linux): a task that can be
//! killed at its deadline, and whose crash is an error for its readers, never the
//! caller's death.
//!
//! A process task is a plain `fn(A) -> T` whose argument and result are serde types. It
//! runs in a child that is this executable started again, so `main` must begin with
//! [`init`] (a child runs its task there and exits). The future is an ordinary
//! [`Lazy`](crate::Lazy): transparent, with timeouts, combinators and `.await`.
//!
//! | shorthand (panics if refused) | the builder form (returns `io::Result`) |
//! | --- | --- |
//! | [`process::spawn_lazy(arg, f)`](spawn_lazy) | `Builder::new().spawn_process(arg, f)` |
//! | [`process::spawn_lazy_with(policy, arg, f)`](spawn_lazy_with) | `Builder::new().timeout(policy).spawn_process(arg, f)` |
//! | [`pool.spawn_lazy(arg, f)`](ProcessPool::spawn_lazy) | `Builder::new().spawn_process_on(&pool, arg, f)` |
//! | [`pool.spawn_lazy_with(policy, arg, f)`](ProcessPool::spawn_lazy_with) | `Builder::new().timeout(policy).spawn_process_on(&pool, arg, f)` |
//!
//! The builder adds [`name`](crate::Builder::name) (the task thread's name in the
//! child), [`stack_size`](crate::Builder::stack_size) (that thread's stack; 8 MiB by
//! default) and [`kill_grace`](crate::Builder::kill_grace) (SIGTERM, then SIGKILL after
//! a grace period). [`Builder::on`](crate::Builder::on) does not apply (an error).
//!
//! What readers see:
//!
//! | the task | readers (`*x`) | checked waits ([`Lazy::try_wait`](crate::Lazy::try_wait)) | [`Lazy::join`](crate::Lazy::join) |
//! | --- | --- | --- | --- |
//! | returns | the value | `Ok` | `Ok` |
//! | panics | panic `background task panicked: <msg>` | [`WaitError::Panicked`](crate::WaitError::Panicked) | `Err(String)` |
//! | dies (signal, exit) | panic `process task (pid N) killed by signal 11 (SIGSEGV)` | [`WaitError::ProcessDied`](crate::WaitError::ProcessDied) | `Err(ProcessDied)` |
//! | passes its deadline | [`Outcome::Timeout`](crate::Outcome::Timeout); the child is killed | `Ok(&Outcome::Timeout)` | `Ok(Outcome::Timeout)` |
//! | is cancelled ([`Lazy::cancel`](crate::Lazy::cancel), every handle dropped) | the child is killed; a read panics with "cancelled" | `Panicked` | `Err(String)` |
//!
//! In a test binary, where libtest owns `main`, one line in the test crate does what
//! `init` does in a binary: [`process_tests!`](crate::process_tests).
//!
//! See the crate docs, "Isolating work in a process", for the guarantees (kills,
//! reaping, parent death) and `docs/design.md` for how they are kept.

#[cfg(not(target_os = "linux"))]
compile_error!(
    "transparent_future: the `process` feature supports Linux only for now (it relies on \
     pidfd, /proc/self/exe and /proc/self/maps); build without it on this target"
);

mod child;
mod control;
mod future;
mod ident;
mod launch;
mod pool;
mod shorthand;
mod spawn;
mod supervise;
mod typed;
mod wire;

pub use self::child::{CHILD_TEST_NAME, init};
pub use self::pool::ProcessPool;
pub use self::shorthand::{spawn_lazy, spawn_lazy_with};
pub use crate::core::died::ProcessDied;

/// Lets the tests of a test binary run process tasks: the one line a test crate
/// (`tests/*.rs`, or the `main.rs` of a test folder) needs, at its top level.
///
/// A test binary's `main` belongs to libtest, so [`init`](crate::process::init) cannot be its
/// first line. This macro declares a test named
/// [`CHILD_TEST_NAME`](crate::process::CHILD_TEST_NAME) that calls `init`: in the test
/// run itself it passes at once, and a child started for a task runs only it (the
/// child's command line selects it), so the task runs there and the child exits.
///
/// ```
/// // tests/isolation.rs
/// transparent_future::process_tests!();
///
/// fn double(x: u32) -> u32 {
///     2 * x
/// }
///
/// #[cfg_attr(test, test)] // in the test crate: #[test]
/// fn doubles_in_a_child() {
///     assert_eq!(*transparent_future::process::spawn_lazy(21, double), 42);
/// }
/// # fn main() {
/// #     transparent_future::process::init(); // a doctest has a `main` of its own
/// #     doubles_in_a_child();
/// # }
/// ```
///
#[macro_export]
macro_rules! process_tests {
    () => {
        #[test]
        fn __transparent_future_process_child() {
            $crate::process::init();
        }
    };
}
