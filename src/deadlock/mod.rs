//! Deadlock detection: the wait-for registry and the cycle check.
//!
//! Every future is a node. A task's node records the thread running it (from the
//! moment the closure is claimed until it returns); a derived future's node (a `map`,
//! `then`, `all` or scoped task) records the futures it needs, or the thread computing
//! it. A thread that is about to block *without a limit* on a future records the edge
//! "this thread waits on that future" here, after following the graph from that future:
//! through its runner thread to the future that thread waits on, and so on. If the walk
//! comes back to the waiting thread, the wait would never end, and it is refused.
//!
//! The check and the insertion happen under one lock, so two threads cannot each add
//! half of a cycle: whichever inserts second sees the other's edge. Only unbounded
//! waits take part (a wait with a deadline ends by itself), so nothing here is on the
//! resolved fast path, nor on any wait that could end.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex, PoisonError, Weak};
use std::thread::{self, ThreadId};

pub(crate) mod cycle;
pub mod debug;

use self::cycle::{Cycle, CycleLink};

/// What must happen for a future to be decided, as far as the detector can tell.
pub(crate) enum Blocker {
    /// Nothing to follow: decided, not started yet, or between steps.
    Nothing,
    /// A thread is computing it (named by [`thread_name`] in messages).
    Runner(ThreadId),
    /// It waits for these futures (a derived future).
    Upstreams(Vec<Weak<dyn Node>>),
}

/// A future as a node of the wait-for graph.
pub(crate) trait Node: Send + Sync {
    /// How the future is named in a cycle's message.
    fn label(&self) -> Cow<'static, str>;
    /// What it is waiting for right now.
    fn blocker(&self) -> Blocker;
    /// Work-helping: runs, on this thread, the work this future waits for if no thread
    /// has started it and its executor allows it; returns whether it ran something.
    /// Never blocks on other threads.
    fn help(&self) -> bool;
    /// Whether the future, undecided, will be decided without this thread's help: a
    /// thread computes it (or every undecided piece of work it waits for) right now,
    /// or no reader may run its work anyway.
    fn running(&self) -> bool;
    /// Whether the outcome is decided (a passed deadline is decided by looking).
    fn decided(&self) -> bool {
        false
    }
    /// Cancellation reaching this future through a derived future that consumed it:
    /// asks its task to stop, if it is cancellable (no effect by default).
    fn cancel_work(&self) {}
    /// The derived future that consumed this one has no handle left: nobody can read
    /// this one either. Cancels it by default.
    fn release_work(&self) {
        self.cancel_work();
    }
}

/// A thread blocked without a limit, and on what.
struct Waiter {
    on: Weak<dyn Node>,
    thread_name: String,
}

static WAITS: LazyLock<Mutex<HashMap<ThreadId, Waiter>>> = LazyLock::new(Mutex::default);

/// The names of the live threads that have run a task, computed a future or waited on
/// one, by id: what a message calls a runner that is named only by its id. A thread
/// registers on its first use of [`current_thread`] and leaves when it exits.
static NAMES: LazyLock<Mutex<HashMap<ThreadId, String>>> = LazyLock::new(Mutex::default);

/// This thread's entry in [`NAMES`], removed when the thread exits.
struct Me(ThreadId);

impl Me {
    fn register() -> Me {
        let thread = thread::current();
        let name = match thread.name() {
            Some(name) => name.to_owned(),
            None => format!("{:?}", thread.id()),
        };
        NAMES
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(thread.id(), name);
        Me(thread.id())
    }
}

impl Drop for Me {
    fn drop(&mut self) {
        NAMES
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.0);
    }
}

thread_local! {
    static ME: Me = Me::register();
    /// The task this thread is running innermost right now (tasks nest by
    /// work-helping). `Copy`, so that marking a task costs a few stores: no
    /// destructor to register, nothing to drop.
    static RUNNING: Cell<Option<Innermost>> = const { Cell::new(None) };
    /// The names of the named tasks among those this thread runs, innermost last.
    static NAMED: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A task a thread runs: its node's address, and what its label is made of.
#[derive(Clone, Copy)]
struct Innermost {
    node: usize,
    type_name: &'static str,
    /// Whether the label is the innermost name in `NAMED` rather than `type_name`.
    named: bool,
}

/// This thread's id, without touching the `Thread` handle's reference count (a
/// runner is recorded by id: no reference count is shared with the threads that read
/// its futures). During the thread's own teardown, the id from its handle.
pub(crate) fn current_thread() -> ThreadId {
    ME.try_with(|me| me.0)
        .unwrap_or_else(|_| thread::current().id())
}

/// Marks this thread as running the task `node` until the guard is dropped. The task
/// is labelled by its `name` if it has one, else by its closure's `type_name`.
#[inline]
pub(crate) fn running_task(
    node: usize,
    type_name: &'static str,
    name: Option<&str>,
) -> RunningGuard {
    if let Some(name) = name {
        NAMED.with_borrow_mut(|names| names.push(name.to_owned()));
    }
    RunningGuard(RUNNING.replace(Some(Innermost {
        node,
        type_name,
        named: name.is_some(),
    })))
}

/// Whether this thread is running a task (its own executor's or one it helps with).
/// `false` during thread-local teardown, when no task runs any more (a drop in a
/// thread-local destructor may ask; it must not panic).
pub(crate) fn in_task() -> bool {
    RUNNING.try_with(|r| r.get().is_some()).unwrap_or(false)
}

/// The task this thread is running innermost, if any: its node and label.
fn innermost_task() -> Option<(usize, Cow<'static, str>)> {
    let innermost = RUNNING.with(Cell::get)?;
    let name = if innermost.named {
        NAMED.with_borrow(|names| names.last().cloned())
    } else {
        None
    };
    Some((
        innermost.node,
        name.map_or(Cow::Borrowed(innermost.type_name), Cow::Owned),
    ))
}

/// Marks a task as running on this thread; holds the task it interrupted (by
/// work-helping), if any, to mark again when dropped.
pub(crate) struct RunningGuard(Option<Innermost>);

impl Drop for RunningGuard {
    #[inline]
    fn drop(&mut self) {
        // During the thread's teardown there is nothing left to mark.
        let ended = RUNNING.try_with(|r| r.replace(self.0)).ok().flatten();
        if ended.is_some_and(|ended| ended.named) {
            let _ = NAMED.try_with(|names| names.borrow_mut().pop());
        }
    }
}

/// A live thread's name, or its id if it has none (or has exited).
fn thread_name(id: ThreadId) -> String {
    match NAMES
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&id)
    {
        Some(name) => name.clone(),
        None => format!("{id:?}"),
    }
}

/// How a task's closure type is shown: `task "<type name>"`.
pub(crate) fn task_label(type_name: &str) -> String {
    format!("task {type_name:?}")
}

/// The edge "this thread waits on a future", removed when dropped.
pub(crate) struct WaitGuard {
    me: ThreadId,
}

impl Drop for WaitGuard {
    fn drop(&mut self) {
        WAITS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.me);
    }
}

/// Records that this thread is about to block without a limit on `future`, or
/// refuses with the cycle that blocking would close.
pub(crate) fn enter_wait(future: &Arc<dyn Node>) -> Result<WaitGuard, Cycle> {
    let me = current_thread();
    let mut waits = WAITS.lock().unwrap_or_else(PoisonError::into_inner);
    // The nodes the walk upgraded are dropped only after the lock is released: one of
    // them may be the last reference to a task, whose value's `Drop` could wait.
    let mut visited = Vec::new();
    let found = find_path_to(&waits, future, me, &mut visited);
    if let Some(path) = found {
        drop(waits);
        drop(visited);
        return Err(cycle_from(path));
    }
    waits.insert(
        me,
        Waiter {
            on: Arc::downgrade(future),
            thread_name: thread_name(me),
        },
    );
    drop(waits);
    drop(visited);
    Ok(WaitGuard { me })
}

/// One step of a path through the graph: a future and the thread computing it.
struct Step {
    node: usize,
    label: Cow<'static, str>,
    runner: Option<ThreadId>,
}

/// Follows the graph from `start`; the path to a future that `me` is computing, if any.
fn find_path_to(
    waits: &HashMap<ThreadId, Waiter>,
    start: &Arc<dyn Node>,
    me: ThreadId,
    visited: &mut Vec<Arc<dyn Node>>,
) -> Option<Vec<Step>> {
    // Depth-first, remembering each node's path. The graph is small (one edge per
    // blocked thread), and a visited set ends the walk on any cycle not through `me`.
    let mut stack: Vec<(Arc<dyn Node>, Vec<Step>)> = vec![(Arc::clone(start), Vec::new())];
    let mut seen: HashSet<*const ()> = HashSet::new();
    while let Some((node, mut path)) = stack.pop() {
        let addr = Arc::as_ptr(&node).cast::<()>();
        if !seen.insert(addr) {
            visited.push(node);
            continue;
        }
        let step = |runner| Step {
            node: addr as usize,
            label: node.label(),
            runner,
        };
        match node.blocker() {
            Blocker::Nothing => {}
            Blocker::Runner(id) => {
                path.push(step(Some(id)));
                if id == me {
                    visited.push(node);
                    // The nodes still queued are dropped by the caller, after the lock.
                    visited.extend(stack.into_iter().map(|(n, _)| n));
                    return Some(path);
                }
                if let Some(next) = waits.get(&id).and_then(|w| w.on.upgrade()) {
                    stack.push((next, path));
                }
            }
            Blocker::Upstreams(upstreams) => {
                for up in upstreams.iter().filter_map(Weak::upgrade) {
                    let mut p: Vec<Step> = path.iter().map(Step::copy).collect();
                    p.push(step(None));
                    stack.push((up, p));
                }
            }
        }
        visited.push(node);
    }
    None
}

impl Step {
    fn copy(&self) -> Step {
        Step {
            node: self.node,
            label: self.label.clone(),
            runner: self.runner,
        }
    }
}

/// Builds the cycle's description: the future `me` is computing first, then the one
/// it waits on, and so on around the cycle.
fn cycle_from(mut path: Vec<Step>) -> Cycle {
    // The last step is a future this thread runs. If it is the task this thread runs
    // innermost, it starts the cycle; if the thread has since started another task
    // (by work-helping), that inner task is the one waiting, and starts the cycle.
    let me = current_thread();
    match (innermost_task(), path.last()) {
        (Some((inner, label)), Some(last)) if inner != last.node => path.insert(
            0,
            Step {
                node: inner,
                label: Cow::Owned(task_label(&label)),
                runner: Some(me),
            },
        ),
        _ => {
            if let Some(last) = path.pop() {
                path.insert(0, last);
            }
        }
    }
    Cycle {
        links: path
            .into_iter()
            .map(|step| CycleLink {
                future: step.label.into_owned(),
                thread: step.runner.map(thread_name),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A future computed by `runner`.
    struct Fake {
        label: &'static str,
        runner: Option<thread::Thread>,
        upstreams: Vec<Weak<dyn Node>>,
    }

    impl Node for Fake {
        fn label(&self) -> Cow<'static, str> {
            Cow::Borrowed(self.label)
        }
        fn blocker(&self) -> Blocker {
            match &self.runner {
                Some(t) => Blocker::Runner(t.id()),
                None if !self.upstreams.is_empty() => Blocker::Upstreams(self.upstreams.clone()),
                None => Blocker::Nothing,
            }
        }
        fn help(&self) -> bool {
            false
        }
        fn running(&self) -> bool {
            self.runner.is_some()
        }
    }

    fn node(label: &'static str, runner: Option<thread::Thread>) -> Arc<dyn Node> {
        Arc::new(Fake {
            label,
            runner,
            upstreams: Vec::new(),
        })
    }

    /// A thread handle that is not the current thread.
    fn other_thread() -> thread::Thread {
        thread::spawn(thread::current).join().unwrap()
    }

    #[test]
    fn a_runner_is_named_while_it_lives_and_by_its_id_once_it_exits() {
        let (id, named) = thread::Builder::new()
            .name("named-runner".into())
            .spawn(|| {
                let id = current_thread();
                (id, thread_name(id))
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(named, "named-runner");
        // The thread's entry left with it (its thread-locals are gone once joined).
        assert!(!NAMES.lock().unwrap().contains_key(&id));
        assert_eq!(thread_name(id), format!("{id:?}"));
    }

    #[test]
    fn the_innermost_running_task_is_restored_when_a_nested_one_ends() {
        assert!(!in_task());
        let outer = running_task(1, "outer_type", Some("outer name"));
        {
            let _inner = running_task(2, "inner_type", None);
            assert_eq!(innermost_task(), Some((2, Cow::Borrowed("inner_type"))));
        }
        assert_eq!(
            innermost_task(),
            Some((1, Cow::Owned("outer name".to_owned())))
        );
        assert!(in_task());
        drop(outer);
        assert_eq!(innermost_task(), None);
        assert!(!in_task());
        assert!(NAMED.with_borrow(Vec::is_empty), "no name left behind");
    }

    #[test]
    fn a_future_run_by_the_waiting_thread_is_a_cycle_of_one() {
        let me = thread::current();
        let own = node("own", Some(me.clone()));
        let mut visited = Vec::new();
        let path = find_path_to(&HashMap::new(), &own, me.id(), &mut visited).unwrap();
        assert_eq!(path.len(), 1);
        assert_eq!(cycle_from(path).len(), 1);
    }

    #[test]
    fn the_walk_follows_runner_threads_through_their_waits() {
        let me = thread::current();
        let t1 = other_thread();
        // I wait on A (run by t1); t1 waits on B, which I run: a cycle of two.
        let a = node("A", Some(t1.clone()));
        let b = node("B", Some(me.clone()));
        let mut waits = HashMap::new();
        waits.insert(
            t1.id(),
            Waiter {
                on: Arc::downgrade(&b),
                thread_name: "t1".into(),
            },
        );
        let mut visited = Vec::new();
        let cycle = cycle_from(find_path_to(&waits, &a, me.id(), &mut visited).unwrap());
        let labels: Vec<&str> = cycle.links().iter().map(|l| l.future.as_str()).collect();
        assert_eq!(
            labels,
            ["B", "A"],
            "starts with the future this thread runs"
        );
        // Without t1's wait there is no cycle.
        let mut visited = Vec::new();
        assert!(find_path_to(&HashMap::new(), &a, me.id(), &mut visited).is_none());
    }

    #[test]
    fn a_derived_future_leads_the_walk_to_its_upstreams_and_a_cycle_elsewhere_ends_it() {
        let me = thread::current();
        let (t1, t2) = (other_thread(), other_thread());
        let mine = node("mine", Some(me.clone()));
        let derived: Arc<dyn Node> = Arc::new(Fake {
            label: "map",
            runner: None,
            upstreams: vec![Arc::downgrade(&mine)],
        });
        let mut visited = Vec::new();
        let path = find_path_to(&HashMap::new(), &derived, me.id(), &mut visited).unwrap();
        assert_eq!(
            path.len(),
            2,
            "through the map to the task this thread runs"
        );

        // t1 and t2 wait on each other's futures: a cycle not through this thread is
        // walked once and ends without a report.
        let x = node("X", Some(t1.clone()));
        let y = node("Y", Some(t2.clone()));
        let mut waits = HashMap::new();
        waits.insert(
            t1.id(),
            Waiter {
                on: Arc::downgrade(&y),
                thread_name: "t1".into(),
            },
        );
        waits.insert(
            t2.id(),
            Waiter {
                on: Arc::downgrade(&x),
                thread_name: "t2".into(),
            },
        );
        let mut visited = Vec::new();
        assert!(find_path_to(&waits, &x, me.id(), &mut visited).is_none());
    }
}
