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
    /// A thread is computing it.
    Runner(thread::Thread),
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

thread_local! {
    static ME: ThreadId = thread::current().id();
    /// The tasks this thread is running right now, innermost last (nested by
    /// work-helping): each node's address and label.
    static RUNNING: std::cell::RefCell<Vec<(usize, Cow<'static, str>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// This thread's id, without touching the `Thread` handle's reference count.
pub(crate) fn current_thread() -> ThreadId {
    ME.with(|me| *me)
}

/// Marks this thread as running the task `node` (labelled `label`) until the guard
/// is dropped.
pub(crate) fn running_task(node: usize, label: Cow<'static, str>) -> RunningGuard {
    RUNNING.with(|r| r.borrow_mut().push((node, label)));
    RunningGuard(())
}

/// Whether this thread is running a task (its own executor's or one it helps with).
/// `false` during thread-local teardown, when no task runs any more (a drop in a
/// thread-local destructor may ask; it must not panic).
pub(crate) fn in_task() -> bool {
    RUNNING
        .try_with(|r| !r.borrow().is_empty())
        .unwrap_or(false)
}

/// The task this thread is running innermost, if any.
fn innermost_task() -> Option<(usize, Cow<'static, str>)> {
    RUNNING.with(|r| r.borrow().last().cloned())
}

pub(crate) struct RunningGuard(());

impl Drop for RunningGuard {
    fn drop(&mut self) {
        RUNNING.with(|r| r.borrow_mut().pop());
    }
}

/// A thread's name, or its id if it has none.
fn thread_name(thread: &thread::Thread) -> String {
    match thread.name() {
        Some(name) => name.to_owned(),
        None => format!("{:?}", thread.id()),
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
            thread_name: thread_name(&thread::current()),
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
    runner: Option<thread::Thread>,
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
            Blocker::Runner(thread) => {
                let id = thread.id();
                path.push(step(Some(thread)));
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
            runner: self.runner.clone(),
        }
    }
}

/// Builds the cycle's description: the future `me` is computing first, then the one
/// it waits on, and so on around the cycle.
fn cycle_from(mut path: Vec<Step>) -> Cycle {
    // The last step is a future this thread runs. If it is the task this thread runs
    // innermost, it starts the cycle; if the thread has since started another task
    // (by work-helping), that inner task is the one waiting, and starts the cycle.
    let me = thread::current();
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
                thread: step.runner.as_ref().map(thread_name),
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
                Some(t) => Blocker::Runner(t.clone()),
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
