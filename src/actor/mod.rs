//! [`Actor<S>`]: Io's `@` the Rust way. A state owned by one background worker; every
//! call returns a transparent future at once, and calls run one at a time, in the
//! order they were sent, with exclusive access to the state.
//!
//! The top layer: an actor is built from the handle (`lazy`), the executors and the
//! engine below. `call.rs` is one call (its closure and its future in one allocation,
//! and the mailbox message); `dedicated.rs` the actor on a thread of its own;
//! `pooled.rs` the actor on any executor, drained by one job at a time.

use std::borrow::Cow;
use std::fmt;
use std::io;
use std::sync::{Arc, Weak};
use std::time::Instant;

use crossbeam_channel::Sender;

mod call;
mod dedicated;
mod pooled;

use self::call::{Message, new_call};
use self::dedicated::Worker;
use self::pooled::Pooled;
use crate::core::job::Executor;
use crate::core::state::Timeout;
use crate::deadlock::Node;
use crate::lazy::Lazy;
use crate::lazy::outcome::Outcome;
use crate::lazy::policy::TimeoutPolicy;

/// An object with its own worker: Io's actors (`obj @method`), Erlang's
/// `gen_server:call`, actix's `Addr::send`, ractor's `call!`, as transparent futures.
///
/// The actor owns a state `S`. [`Actor::call`] sends it a closure that gets
/// `&mut S` and returns at once with a [`Lazy`] of the closure's result; the caller
/// goes on and blocks only when it reads the result. Calls run one at a time, in the
/// order each caller sent them, each with exclusive access to the state: no lock for
/// the user to hold, no data race to think about.
///
/// * **Where it runs**: [`Actor::new`] starts a thread of its own for the actor;
///   [`Actor::on`] runs it on any [`Executor`] (a [`ThreadPool`](crate::ThreadPool), a
///   rayon pool, ...), never two calls of one actor at once, whatever the executor's
///   threads. On an executor that allows work-helping, a reader waiting on a call may
///   run the actor's queued calls itself (so a one-worker pool whose task calls an
///   actor on the same pool does not starve).
/// * **Sharing**: `Actor<S>` is `Clone` (every clone is the same actor) and is
///   `Send + Sync` when `S: Send`, so many threads call one actor through clones or an
///   `Arc`.
/// * **Deadlines**: [`Actor::call_with`] gives a `Lazy<Outcome<R>>` with the rules of a
///   task's deadline (Erlang's `gen_server:call` timeout): readers are released at the
///   deadline. The call itself still runs when its turn comes (its effect on the state
///   happens), and a late result stays collectable with [`Lazy::take_late`].
/// * **A call that panics** fails its own future (its readers see the panic, as for a
///   task), and the actor **keeps serving** the calls after it, with the state as the
///   panic left it, as an Erlang caller sees an exit while a supervised server goes on,
///   and as a non-poisoning lock (`parking_lot`'s) hands the data on. Keep the state
///   consistent at every point where a call may panic, or check it in the next call.
/// * **Ending**: when the last handle is dropped, the queued calls still run, then the
///   worker ends and the state is dropped (on the actor's thread, for [`Actor::new`]).
///   [`Actor::stop`] ends it explicitly and hands the state back, as a future. A call
///   the actor never runs (sent after a stop, or refused by its executor) fails as a
///   broken promise ([`WaitError::Broken`](crate::WaitError::Broken)): no caller waits
///   forever.
/// * **Deadlock**: a call that, running on the actor, waits on a later call of the same
///   actor can never finish; the wait is refused, naming the cycle (the waiting call
///   then panics, which fails that call only). A state that holds a handle to its own
///   actor keeps it alive: stop such an actor with [`Actor::stop`].
/// * **Continuations** of a call's future ([`Lazy::map`], ...) never run on the
///   actor's worker: they would hold up the calls behind them.
///
/// ```
/// use transparent_future::{Actor, Lazy};
///
/// #[derive(Default)]
/// struct Inventory { items: Vec<String> }
///
/// let store = Actor::new(Inventory::default());
/// store.call(|s| s.items.push("apple".into()));        // fire and forget
/// let count = store.call(|s| { s.items.push("pear".into()); s.items.len() });
/// let first = store.call(|s| s.items[0].clone());
/// assert_eq!(count + 0, 2);                            // transparent: the value
/// assert_eq!(*first, "apple");
///
/// let state = Lazy::into_inner(store.stop());          // stop and take the state back
/// assert_eq!(state.items, ["apple", "pear"]);
/// ```
pub struct Actor<S: Send + 'static> {
    mailbox: Mailbox<S>,
}

enum Mailbox<S: Send + 'static> {
    /// On a thread of its own: a channel to it, and what the worker shares.
    Thread {
        sender: Sender<Message<S>>,
        worker: Arc<Worker>,
    },
    /// On an executor.
    Executor(Arc<Pooled<S>>),
}

// Many threads call one actor: the handle is `Send + Sync` whenever the state can
// move to the worker.
static_assertions::assert_impl_all!(Actor<Vec<u8>>: Send, Sync, Clone);
static_assertions::assert_impl_all!(Actor<std::cell::Cell<u8>>: Send, Sync);

/// How an actor is named in deadlock cycles: `actor "<state type>"`.
fn label<S>() -> Cow<'static, str> {
    Cow::Owned(format!("actor {:?}", std::any::type_name::<S>()))
}

impl<S: Send + 'static> Actor<S> {
    /// An actor that owns `state` on a thread of its own, named
    /// `transparent-future-actor` (counted under the
    /// [live-thread cap](crate::executor::ThreadPerTask) while it lives).
    ///
    /// # Panics
    ///
    /// If the thread is refused; [`Actor::try_new`] returns that as an error.
    ///
    /// ```
    /// let counter = transparent_future::Actor::new(0_u64);
    /// for _ in 0..10 {
    ///     counter.call(|n| *n += 1);
    /// }
    /// assert_eq!(*counter.call(|n| *n), 10);
    /// ```
    #[track_caller]
    pub fn new(state: S) -> Self {
        match Actor::try_new(state) {
            Ok(actor) => actor,
            Err(e) => panic!("transparent_future: Actor::new could not start its thread: {e}"),
        }
    }

    /// An actor on a thread of its own, or why the thread could not start (the state
    /// is then dropped).
    ///
    /// # Errors
    ///
    /// The OS's refusal to create a thread, or the live-thread cap
    /// ([`WouldBlock`](io::ErrorKind::WouldBlock)).
    ///
    /// ```
    /// let log = transparent_future::Actor::try_new(Vec::<String>::new())?;
    /// log.call(|lines| lines.push("started".into()));
    /// assert_eq!(*log.call(|lines| lines.len()), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_new(state: S) -> io::Result<Self> {
        let (sender, worker) = dedicated::start(state, label::<S>)?;
        Ok(Actor {
            mailbox: Mailbox::Thread { sender, worker },
        })
    }

    /// An actor that owns `state` and runs its calls on `executor` (a clone of it is
    /// kept): a [`ThreadPool`](crate::ThreadPool), [`ThreadPerTask`](crate::executor::ThreadPerTask),
    /// an `Arc` of a rayon pool, your own. Many actors can share one pool; calls of one
    /// actor never run at the same time. A busy actor hands its worker back to the
    /// executor after a batch of calls, so that other work gets a turn.
    ///
    /// If the executor refuses the actor's work (a pool that was shut down), the calls
    /// waiting fail as broken promises that name the executor's error.
    ///
    /// ```
    /// use transparent_future::{Actor, Lazy, ThreadPool};
    ///
    /// let pool = ThreadPool::new(2);
    /// let accounts: Vec<Actor<i64>> = (0..4).map(|_| Actor::on(&pool, 100)).collect();
    /// let moved: Vec<Lazy<i64>> = accounts.iter().map(|a| a.call(|balance| { *balance -= 30; *balance })).collect();
    /// assert!(moved.iter().all(|b| **b == 70));
    /// ```
    pub fn on<E>(executor: &E, state: S) -> Self
    where
        E: Executor + Clone + Send + Sync + 'static,
    {
        Actor {
            mailbox: Mailbox::Executor(Pooled::new(executor, state, label::<S>)),
        }
    }

    /// Sends `f` to the actor and returns the future of its result at once. `f` runs
    /// on the actor's worker with `&mut` access to the state, after every call sent
    /// before it (by this thread, or by any thread before this one), and before every
    /// call sent after it.
    ///
    /// A panic in `f` fails this future only (its readers see the panic, payload
    /// included); the actor goes on with the next call. If the actor never runs `f`
    /// (it was stopped first), the future fails as a broken promise.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use transparent_future::Actor;
    ///
    /// let totals = Arc::new(Actor::new(std::collections::HashMap::<String, u32>::new()));
    /// let threads: Vec<_> = (0..4).map(|i| {
    ///     let totals = Arc::clone(&totals);
    ///     std::thread::spawn(move || {
    ///         totals.call(move |t| *t.entry(format!("k{}", i % 2)).or_default() += 1);
    ///     })
    /// }).collect();
    /// threads.into_iter().for_each(|t| t.join().unwrap());
    /// assert_eq!(*totals.call(|t| t["k0"] + t["k1"]), 4);
    /// ```
    pub fn call<R, F>(&self, f: F) -> Lazy<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut S) -> R + Send + 'static,
    {
        let (lazy, envelope) = new_call(f, None, self.node());
        self.post(Message::call(envelope));
        lazy
    }

    /// Like [`Actor::call`], under a deadline measured from now by `policy`: the future
    /// is [`Outcome::Ready`] if the call returned by the deadline, [`Outcome::Timeout`]
    /// otherwise, with the rules of a task's deadline (Erlang's `gen_server:call` with
    /// a timeout). The call still runs when its turn comes; a late result can be taken
    /// with [`Lazy::take_late`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use transparent_future::{Actor, Deadline, Outcome};
    ///
    /// let slow = Actor::new(());
    /// let busy = slow.call(|_| std::thread::sleep(Duration::from_millis(300)));
    /// let answer = slow.call_with(Deadline::after(Duration::from_millis(10)), |_| 42);
    /// assert_eq!(*answer, Outcome::Timeout); // queued behind the busy call
    /// let quick = slow.call_with(Deadline::after(Duration::from_secs(30)), |_| 7);
    /// assert_eq!(*quick, Outcome::Ready(7));
    /// # drop(busy);
    /// ```
    pub fn call_with<P, R, F>(&self, policy: P, f: F) -> Lazy<Outcome<R>>
    where
        P: TimeoutPolicy,
        R: Send + 'static,
        F: FnOnce(&mut S) -> R + Send + 'static,
    {
        let deadline = policy.deadline(Instant::now());
        let timeout: Option<Timeout<Outcome<R>>> = Timeout::outcome(deadline);
        let (lazy, envelope) =
            new_call(move |s: &mut S| Outcome::Ready(f(s)), timeout, self.node());
        self.post(Message::call(envelope));
        lazy
    }

    /// Stops the actor after the calls sent before this one, and returns the future of
    /// its state, handed back once those calls have run. Calls sent afterwards (through
    /// other clones) are refused: their futures fail as broken promises. The worker
    /// ends (an actor's own thread exits).
    ///
    /// If the actor had already stopped (another clone stopped it), the returned
    /// future fails as a broken promise: the state went to the first stop.
    ///
    /// ```
    /// use transparent_future::{Actor, Lazy, WaitError};
    ///
    /// let actor = Actor::new(vec![1]);
    /// let other = actor.clone();
    /// actor.call(|v| v.push(2));
    /// let state = actor.stop();
    /// assert_eq!(*state, [1, 2]);
    /// let late = other.call(|v| v.len());
    /// assert!(matches!(Lazy::try_wait(&late), Err(WaitError::Broken(_))));
    /// assert!(other.is_stopped());
    /// ```
    pub fn stop(self) -> Lazy<S> {
        let (promise, state) = Lazy::promise();
        self.post(Message::stop(promise));
        state
    }

    /// Whether the actor has stopped (through [`Actor::stop`] on any clone): further
    /// calls fail as broken promises. A snapshot: another clone may stop it right after.
    ///
    /// ```
    /// let actor = transparent_future::Actor::new(0);
    /// assert!(!actor.is_stopped());
    /// ```
    pub fn is_stopped(&self) -> bool {
        match &self.mailbox {
            Mailbox::Thread { worker, .. } => worker.is_stopped(),
            Mailbox::Executor(pooled) => pooled.is_stopped(),
        }
    }

    /// The actor as a node of the deadlock detector's graph.
    fn node(&self) -> Weak<dyn Node> {
        match &self.mailbox {
            Mailbox::Thread { worker, .. } => {
                let node: Arc<dyn Node> = worker.clone();
                Arc::downgrade(&node)
            }
            Mailbox::Executor(pooled) => {
                let node: Arc<dyn Node> = pooled.clone();
                Arc::downgrade(&node)
            }
        }
    }

    fn post(&self, message: Message<S>) {
        match &self.mailbox {
            // A closed channel (the actor stopped) hands the message back: dropping it
            // fails its future as a broken promise.
            Mailbox::Thread { sender, .. } => {
                if let Err(refused) = sender.send(message) {
                    drop(refused.into_inner());
                }
            }
            Mailbox::Executor(pooled) => pooled.post(message),
        }
    }
}

impl<S: Send + 'static> Clone for Actor<S> {
    /// Another handle to the same actor.
    ///
    /// ```
    /// let a = transparent_future::Actor::new(1);
    /// let b = a.clone();
    /// b.call(|n| *n += 1);
    /// assert_eq!(*a.call(|n| *n), 2);
    /// ```
    fn clone(&self) -> Self {
        Actor {
            mailbox: match &self.mailbox {
                Mailbox::Thread { sender, worker } => Mailbox::Thread {
                    sender: sender.clone(),
                    worker: Arc::clone(worker),
                },
                Mailbox::Executor(pooled) => Mailbox::Executor(Arc::clone(pooled)),
            },
        }
    }
}

impl<S: Send + 'static> fmt::Debug for Actor<S> {
    /// `Actor { state: "<type>", worker: "thread" | "executor", stopped: bool }`.
    ///
    /// ```
    /// let a = transparent_future::Actor::new(0_u8);
    /// assert_eq!(format!("{a:?}"), r#"Actor { state: "u8", worker: "thread", stopped: false }"#);
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Actor")
            .field("state", &std::any::type_name::<S>())
            .field(
                "worker",
                &match self.mailbox {
                    Mailbox::Thread { .. } => "thread",
                    Mailbox::Executor(_) => "executor",
                },
            )
            .field("stopped", &self.is_stopped())
            .finish()
    }
}
