//! Scoped futures: tasks that borrow from the caller's stack.

use std::borrow::Cow;
use std::fmt;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, PoisonError};

use crate::core::job::Placement;
use crate::core::panic::TaskPanic;
use crate::core::state::{Core, Timeout};
use crate::core::sync::thread;
use crate::core::task::{Named, new_remote};
use crate::core::threads::{self, ScopedReaper};
use crate::deadlock;
use crate::lazy::Lazy;

/// Runs `f` with a [`Scope`] whose futures may borrow anything that outlives the call,
/// on top of [`std::thread::scope`]. Returns only after every task spawned in the scope
/// has finished.
///
/// A task's panic reaches its readers, as everywhere. A panic leaves a scope only by
/// being read: if a task panicked, before or after its deadline, and no reader saw
/// that panic, `scope` panics once all tasks have finished (as `std::thread::scope`
/// does for a thread that panicked and was not joined). Read means: an access panicked
/// with it (`*x`, ...), a checked wait ([`Lazy::try_wait`], ...), [`Lazy::join`] or
/// [`Lazy::take_late`] returned it, or a failure-aware continuation
/// ([`Lazy::handle`], [`Lazy::recover`], [`Lazy::all_settled`]) received it, on the
/// task's own future or on any future it reached through `map`, `then`, `all` or
/// `SharedLazy`. A combinator passing it on does not read it: a panic that went into
/// a `map` whose future nobody read makes `scope` panic.
///
/// ```
/// use transparent_future::{scope, Lazy};
///
/// // Read (here by `try_wait`): `scope` returns.
/// let n = scope(|s| {
///     let bad = s.spawn_lazy(|| -> u8 { panic!("seen") });
///     assert!(Lazy::try_wait(&bad).is_err());
///     7
/// });
/// assert_eq!(n, 7);
///
/// // Never read, although passed into a `map`: `scope` panics.
/// let unread = std::panic::catch_unwind(|| {
///     scope(|s| {
///         let bad = s.spawn_lazy(|| -> u8 { panic!("unseen") });
///         drop(Lazy::map(bad, |v| v + 1));
///     })
/// });
/// assert!(unread.is_err());
/// ```
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
/// A deadline (`Builder::new().timeout(policy).spawn_scoped(s, f)`, see
/// [`Builder::spawn_scoped`](crate::Builder::spawn_scoped)) releases the reader, as everywhere, but it
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
    F: for<'scope> FnOnce(&Scope<'scope, 'env>) -> R,
{
    let registry = Arc::new(Registry::default());
    let result = thread::scope(|inner| {
        let scope = Scope {
            inner,
            registry: Arc::clone(&registry),
            reaper: Arc::new(ScopedReaper::new()),
        };
        f(&scope)
    });
    // Every task has finished (`thread::scope` waited for them): every panic is here,
    // and every read that happened in the scope's threads happened before this check.
    let panics = std::mem::take(
        &mut *registry
            .panics
            .lock()
            .unwrap_or_else(PoisonError::into_inner),
    );
    if let Some(unread) = panics.iter().find(|panic| !panic.was_read()) {
        panic!("a scoped background task panicked: {unread}");
    }
    result
}

/// The panics of a scope's tasks, on time or late, checked at its end.
#[derive(Default)]
struct Registry {
    panics: Mutex<Vec<TaskPanic>>,
}

/// A scope to spawn borrowing futures in; [`scope`] hands its closure a `&Scope`, as
/// [`std::thread::scope`] does. A clone is the same scope: a task that spawns more
/// tasks takes a clone along (`let s2 = s.clone();` before a `move` closure).
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
    /// Joins the scope's finished threads, so that each keeps its place under the
    /// live-thread cap until it is gone.
    reaper: Arc<ScopedReaper<'scope>>,
}

impl<'scope> Scope<'scope, '_> {
    /// Starts a task on a scoped thread of its own (the builder's one path for
    /// borrowing tasks).
    pub(crate) fn start<T, F>(
        &self,
        named: Named,
        timeout: Option<Timeout<T>>,
        f: F,
    ) -> io::Result<Lazy<T>>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'static,
    {
        let label = match &named.name {
            Some(name) => Cow::Owned(deadlock::task_label(name)),
            None => Cow::Borrowed("scoped task"),
        };
        let remote = new_remote(Core::new(timeout, Placement::thread()), label);
        let lazy = Lazy::from_source(remote.clone());
        let publisher = Arc::clone(&remote);
        let mut thread = thread::Builder::new();
        if let Some(name) = named.name.clone() {
            thread = thread.name(name);
        }
        if let Some(bytes) = named.stack_size {
            thread = thread.stack_size(bytes);
        }
        let registry = Arc::clone(&self.registry);
        threads::start_scoped(thread, self.inner, &self.reaper, move || {
            publisher.computing_here();
            let running = deadlock::running_task(
                Arc::as_ptr(&publisher).cast::<()>() as usize,
                std::any::type_name::<F>(),
                named.name.as_deref(),
            );
            let result = catch_unwind(AssertUnwindSafe(f)).map_err(TaskPanic::new);
            drop(running);
            if let Err(panic) = &result {
                // Kept before it is published (on time or late), so that the scope
                // checks it whichever way it goes.
                registry
                    .panics
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(panic.clone());
            }
            publisher.needs(Vec::new());
            publisher.core().publish(result);
        })?;
        Ok(lazy)
    }
}

impl fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope").finish_non_exhaustive()
    }
}
