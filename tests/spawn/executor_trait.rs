//! The `Executor` trait with any implementation.
//!
//! A user's own executors work with every `Builder::new().on(..)` spawn (plain, with a
//! timeout, cancellable): an inline executor (the task runs inside `execute`), a queue
//! executor that runs tasks later (with and without work-helping), executors behind
//! `&`, `Arc` and `dyn`, and an executor that refuses tasks (every builder form returns
//! its error; the refused closure never runs and is dropped once).

use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{Counted as Tracked, ms, panic_text};
use static_assertions::assert_impl_all;
use transparent_future::executor::{Executor, Runnable, ThreadPerTask};
use transparent_future::{Builder, Deadline, Lazy, NoTimeout, Outcome, WaitError};

assert_impl_all!(Runnable: Send, std::fmt::Debug);
assert_impl_all!(ThreadPerTask: Executor, Send, Sync, Copy, Default);

/// Runs every task at once, on the spawning thread.
struct Inline {
    executed: AtomicUsize,
}

impl Inline {
    fn new() -> Inline {
        Inline {
            executed: AtomicUsize::new(0),
        }
    }
}

impl Executor for Inline {
    fn execute(&self, task: Runnable) -> io::Result<()> {
        self.executed.fetch_add(1, SeqCst);
        task.run();
        Ok(())
    }
}

/// Keeps tasks in a queue until somebody runs them.
struct Queue {
    tasks: Mutex<Vec<Runnable>>,
    helping: bool,
}

impl Queue {
    fn new(helping: bool) -> Queue {
        Queue {
            tasks: Mutex::new(Vec::new()),
            helping,
        }
    }

    fn len(&self) -> usize {
        self.tasks.lock().unwrap().len()
    }

    fn take_all(&self) -> Vec<Runnable> {
        std::mem::take(&mut *self.tasks.lock().unwrap())
    }
}

impl Executor for Queue {
    fn execute(&self, task: Runnable) -> io::Result<()> {
        self.tasks.lock().unwrap().push(task);
        Ok(())
    }

    fn allows_helping(&self) -> bool {
        self.helping
    }
}

/// Refuses every task.
struct Refuse;

impl Executor for Refuse {
    fn execute(&self, _task: Runnable) -> io::Result<()> {
        Err(io::Error::new(
            io::ErrorKind::ConnectionRefused,
            "the test executor says no",
        ))
    }
}

#[test]
fn inline_executor_runs_the_task_inside_spawn() {
    let exec = Inline::new();
    let me = thread::current().id();
    let x = Builder::new()
        .on(&exec)
        .spawn(move || (thread::current().id(), 21))
        .unwrap();
    // The task ran inside `execute`: the future is resolved before anybody reads it.
    assert!(Lazy::is_done(&x));
    assert_eq!(x.0, me);
    assert_eq!(x.1 * 2, 42);
    assert_eq!(exec.executed.load(SeqCst), 1);

    let y = Builder::new()
        .on(&exec)
        .timeout(Deadline::after(Duration::from_secs(30)))
        .spawn(|| "on time")
        .unwrap();
    assert!(Lazy::is_done(&y));
    assert_eq!(*y, Outcome::Ready("on time"));
    let z = Builder::new().on(&exec).spawn(|| vec![1, 2, 3]).unwrap();
    assert_eq!(z.len(), 3);
    let w = Builder::new()
        .on(&exec)
        .timeout(NoTimeout)
        .spawn(|| 7)
        .unwrap();
    assert_eq!(*w, Outcome::Ready(7));
    let c = Builder::new()
        .on(&exec)
        .spawn_cancellable(|token| token.is_cancelled())
        .unwrap();
    assert!(!*c);
    assert_eq!(exec.executed.load(SeqCst), 5);
}

#[test]
fn inline_executor_delivers_panics_to_the_reader() {
    let exec = Inline::new();
    // `execute` itself returns normally: the panic is caught inside `Runnable::run`.
    let x = Builder::new()
        .on(&exec)
        .spawn(|| -> u32 { panic!("inline-boom-31") })
        .unwrap();
    let err = catch_unwind(AssertUnwindSafe(|| *x + 1)).unwrap_err();
    assert!(panic_text(err.as_ref()).contains("inline-boom-31"));
    let y = Builder::new()
        .on(&exec)
        .spawn(|| -> u32 { panic!("inline-boom-32") })
        .unwrap();
    let payload = Lazy::join(y).unwrap_err();
    assert_eq!(panic_text(payload.as_ref()), "inline-boom-32");
}

#[test]
fn queue_executor_without_helping_runs_tasks_only_when_the_owner_does() {
    let exec = Queue::new(false);
    let runs = Arc::new(AtomicUsize::new(0));
    let r = Arc::clone(&runs);
    let x = Builder::new()
        .on(&exec)
        .spawn(move || {
            r.fetch_add(1, SeqCst);
            thread::current().id()
        })
        .unwrap();
    assert_eq!(exec.len(), 1);
    assert!(!Lazy::is_done(&x));
    assert_eq!(Lazy::get(&x), None);
    // A bounded wait gives up: nobody runs the task.
    assert_eq!(Lazy::wait_timeout(&x, ms(30)), Err(WaitError::Timeout));
    assert_eq!(runs.load(SeqCst), 0);

    // The queue's owner runs it on a thread of its own, later; a blocked reader wakes.
    let tasks = exec.take_all();
    let runner = thread::spawn(move || {
        thread::sleep(ms(30));
        let id = thread::current().id();
        for t in tasks {
            t.run();
        }
        id
    });
    let ran_on = *x; // blocks until the runner has run it; the reader did not help
    let runner_id = runner.join().unwrap();
    assert_eq!(ran_on, runner_id);
    assert_ne!(ran_on, thread::current().id());
    assert_eq!(runs.load(SeqCst), 1);
}

#[test]
fn queue_executor_with_helping_lets_the_reader_run_the_task_once() {
    let exec = Queue::new(true);
    let runs = Arc::new(AtomicUsize::new(0));
    let r = Arc::clone(&runs);
    let x = Builder::new()
        .on(&exec)
        .spawn(move || {
            r.fetch_add(1, SeqCst);
            thread::current().id()
        })
        .unwrap();
    // Nobody drains the queue: the reader runs the task itself instead of sleeping.
    assert_eq!(*x, thread::current().id());
    assert_eq!(runs.load(SeqCst), 1);
    // The queued `Runnable` still gets run by its owner: that does nothing now.
    for t in exec.take_all() {
        t.run();
    }
    assert_eq!(runs.load(SeqCst), 1, "a task's closure ran twice");
    assert_eq!(*x, thread::current().id());
}

#[test]
fn queue_executor_late_run_after_a_deadline_gives_a_late_value() {
    for helping in [false, true] {
        let exec = Queue::new(helping);
        let t0 = Instant::now();
        let x = Builder::new()
            .on(&exec)
            .timeout(Deadline::after(ms(50)))
            .spawn(|| "late")
            .unwrap();
        // Nobody runs the task; with a deadline even a helping executor's reader does
        // not run it (it could not be released at the deadline): it is released then.
        assert_eq!(*x, Outcome::Timeout);
        let waited = t0.elapsed();
        assert!(waited >= ms(50), "released before the deadline: {waited:?}");
        assert!(
            waited < ms(1500),
            "released long after the deadline: {waited:?}"
        );
        assert!(Lazy::take_late(&x).is_none());
        for t in exec.take_all() {
            t.run();
        }
        assert_eq!(*x, Outcome::Timeout);
        assert_eq!(Lazy::take_late(&x).map(|r| r.unwrap()), Some("late"));
    }
}

#[test]
fn queue_executor_runs_tasks_from_another_thread_in_fifo_order() {
    let (tx, rx) = mpsc::channel::<Runnable>();
    struct Chan(mpsc::Sender<Runnable>);
    impl Executor for Chan {
        fn execute(&self, task: Runnable) -> io::Result<()> {
            self.0.send(task).map_err(io::Error::other)
        }
        fn allows_helping(&self) -> bool {
            false
        }
    }
    let order = Arc::new(Mutex::new(Vec::new()));
    let exec = Chan(tx);
    let futures: Vec<Lazy<usize>> = (0..50)
        .map(|i| {
            let order = Arc::clone(&order);
            Builder::new()
                .on(&exec)
                .spawn(move || {
                    order.lock().unwrap().push(i);
                    i * i
                })
                .unwrap()
        })
        .collect();
    drop(exec);
    let runner = thread::spawn(move || {
        for task in rx {
            task.run();
        }
    });
    let sum: usize = futures.iter().map(|x| **x).sum();
    assert_eq!(sum, (0..50).map(|i| i * i).sum::<usize>());
    runner.join().unwrap();
    assert_eq!(*order.lock().unwrap(), (0..50).collect::<Vec<_>>());
}

#[test]
fn runnable_into_boxed_runs_the_task() {
    struct Boxed;
    impl Executor for Boxed {
        fn execute(&self, task: Runnable) -> io::Result<()> {
            let job: Box<dyn FnOnce() + Send> = task.into_boxed();
            thread::Builder::new()
                .name("boxed-exec".into())
                .spawn(job)
                .map(drop)
        }
        fn allows_helping(&self) -> bool {
            false // so that the task runs on the executor's thread, not the reader's
        }
    }
    let x = Builder::new()
        .on(&Boxed)
        .spawn(|| thread::current().name().map(String::from))
        .unwrap();
    assert_eq!(x.as_deref(), Some("boxed-exec"));
    // `allows_helping` defaults to true.
    assert!(Inline::new().allows_helping());
    assert!(Refuse.allows_helping());
}

#[test]
fn executors_behind_references_arc_and_dyn() {
    let inline = Arc::new(Inline::new());
    let x = Builder::new().on(&inline).spawn(|| 1).unwrap();
    assert_eq!(*x, 1);
    let by_ref: &Inline = &inline;
    let y = Builder::new().on(&by_ref).spawn(|| 2).unwrap();
    assert_eq!(*y, 2);
    let dynamic: &dyn Executor = &*inline;
    let z = Builder::new().on(&dynamic).spawn(|| 3).unwrap();
    assert_eq!(*z, 3);
    let boxed: Box<dyn Executor + Send + Sync> = Box::new(Inline::new());
    let w = Builder::new()
        .on(&*boxed)
        .timeout(NoTimeout)
        .spawn(|| 4)
        .unwrap();
    assert_eq!(*w, Outcome::Ready(4));
    assert_eq!(inline.executed.load(SeqCst), 3);

    // `&E` and `Arc<E>` forward `allows_helping` too.
    let q = Arc::new(Queue::new(false));
    assert!(!q.allows_helping());
    let by_ref: &Queue = &q;
    assert!(!Executor::allows_helping(&by_ref));
    let x = Builder::new().on(&q).spawn(|| 5).unwrap();
    assert_eq!(Lazy::wait_timeout(&x, ms(20)), Err(WaitError::Timeout));
    for t in q.take_all() {
        t.run();
    }
    assert_eq!(*x, 5);

    // An executor chosen at run time.
    let executors: Vec<Box<dyn Executor>> = vec![Box::new(Inline::new()), Box::new(ThreadPerTask)];
    let results: Vec<Lazy<usize>> = executors
        .iter()
        .enumerate()
        .map(|(i, e)| Builder::new().on(&**e).spawn(move || i + 10).unwrap())
        .collect();
    assert_eq!(results.iter().map(|x| **x).collect::<Vec<_>>(), [10, 11]);
}

#[test]
fn try_forms_return_the_executors_refusal() {
    let drops = Arc::new(AtomicUsize::new(0));
    let ran = Arc::new(AtomicUsize::new(0));

    let (t, r) = (Tracked(Arc::clone(&drops), 0), Arc::clone(&ran));
    let err = Builder::new()
        .on(&Refuse)
        .spawn(move || {
            let _t = t;
            r.fetch_add(1, SeqCst);
            1
        })
        .expect_err("a refused task must be an error");
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    assert!(
        err.to_string().contains("the test executor says no"),
        "{err}"
    );

    let (t, r) = (Tracked(Arc::clone(&drops), 0), Arc::clone(&ran));
    let err = Builder::new()
        .on(&Refuse)
        .timeout(Deadline::after(ms(10)))
        .spawn(move || {
            let _t = t;
            r.fetch_add(1, SeqCst);
            1
        })
        .expect_err("a refused task must be an error");
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);

    // The refused closures were never run, and what they captured was dropped once.
    assert_eq!(ran.load(SeqCst), 0);
    assert_eq!(drops.load(SeqCst), 2);
}

#[test]
fn every_builder_form_returns_the_refusal_and_drops_the_closure_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let t = Tracked(Arc::clone(&drops), 0);
    let err = Builder::new()
        .on(&Refuse)
        .spawn(move || {
            let _t = t;
            1
        })
        .expect_err("a refusal is returned");
    assert!(
        err.to_string().contains("the test executor says no"),
        "{err}"
    );
    assert_eq!(drops.load(SeqCst), 1, "the refused closure is dropped once");

    let err = Builder::new()
        .on(&Refuse)
        .timeout(NoTimeout)
        .spawn(|| 1)
        .expect_err("a refusal is returned with a timeout too");
    assert!(
        err.to_string().contains("the test executor says no"),
        "{err}"
    );

    let err = Builder::new()
        .on(&Refuse)
        .spawn_cancellable(|_token| 1)
        .expect_err("and for a cancellable task");
    assert!(
        err.to_string().contains("the test executor says no"),
        "{err}"
    );
    assert_eq!(drops.load(SeqCst), 1);
}

#[test]
fn a_scoped_spawn_refuses_an_executor_with_an_error() {
    // A borrowing task runs on a scoped thread of its own: `on` cannot apply to it.
    let err = catch_unwind(|| {
        transparent_future::scope(|s| Builder::new().on(&Refuse).spawn_scoped(s, || 1).map(|_| ()))
    })
    .expect("spawn_scoped refuses an executor without panicking");
    let refused = err.expect_err("a scoped task cannot run on an executor");
    assert_eq!(refused.kind(), std::io::ErrorKind::InvalidInput);
    assert!(refused.to_string().contains("spawn_scoped"), "{refused}");
}

#[test]
fn thread_per_task_is_the_default_and_never_helped() {
    // `ThreadPerTask` does not let readers run its tasks: each has its own thread.
    assert!(!ThreadPerTask.allows_helping());
    let main = thread::current().id();
    // Three tasks and the reader meet at a barrier: each task had a thread of its own,
    // running at the same time as the others.
    let barrier = Arc::new(std::sync::Barrier::new(4));
    let futures: Vec<Lazy<thread::ThreadId>> = (0..3)
        .map(|i| {
            let b = Arc::clone(&barrier);
            let f = move || {
                b.wait();
                thread::current().id()
            };
            match i {
                0 => transparent_future::spawn_lazy(f),
                1 => Builder::new().on(&ThreadPerTask).spawn(f).unwrap(),
                _ => Builder::new().spawn(f).unwrap(),
            }
        })
        .collect();
    barrier.wait();
    let ids: Vec<_> = futures.iter().map(|x| **x).collect();
    assert!(ids.iter().all(|id| *id != main));
    assert_ne!(ids[0], ids[1]);
    assert_ne!(ids[1], ids[2]);
    assert_ne!(ids[0], ids[2]);
    // The default threads are unnamed, unlike a pool's workers.
    let name = transparent_future::spawn_lazy(|| thread::current().name().map(String::from));
    assert_eq!(*name, None);
}
