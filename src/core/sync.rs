//! The crate's synchronization and clock, in one place: every lock, condvar,
//! thread, channel and clock reading that the state machine, the timer and the pool
//! use comes from here.
//!
//! * By default these are the standard library's types (and `crossbeam-channel`),
//!   re-exported as they are: the facade compiles to exactly the same code, with no
//!   wrapper and no cost ([`now`] and [`wait_timeout`] are `#[inline]` one-liners).
//! * Built with `RUSTFLAGS="--cfg transparent_future_shuttle"`, they come from the
//!   `shuttle` model checker, which then controls every interleaving, and the clock is
//!   virtual: [`now`] returns a model time that only moves forward, one tick at a time
//!   as the scheduler chooses, or up to the end of a timed wait that times out. The
//!   models (`core/model.rs`) run in that build only; see `docs/design.md` ("What is
//!   model-checked").
//!
//! Only the instants the crate reads come from the facade: the type stays
//! [`std::time::Instant`] in both builds, so the public API does not change.

pub(crate) use std::sync::PoisonError;
pub(crate) use std::time::{Duration, Instant};

#[cfg(not(transparent_future_shuttle))]
pub(crate) use crossbeam_channel as channel;
#[cfg(not(transparent_future_shuttle))]
pub(crate) use crossbeam_deque as deque;
#[cfg(not(transparent_future_shuttle))]
pub(crate) use crossbeam_utils::Backoff;
#[cfg(not(transparent_future_shuttle))]
pub(crate) use std::sync::atomic;
#[cfg(not(transparent_future_shuttle))]
pub(crate) use std::sync::{Condvar, Mutex, MutexGuard};
#[cfg(not(transparent_future_shuttle))]
pub(crate) use std::thread;

#[cfg(transparent_future_shuttle)]
pub(crate) use model::{Backoff, channel, deque, now, thread, wait_timeout};
#[cfg(transparent_future_shuttle)]
pub(crate) use shuttle::sync::atomic;
#[cfg(transparent_future_shuttle)]
pub(crate) use shuttle::sync::{Condvar, Mutex, MutexGuard};

/// The current instant: [`Instant::now`], or the model's virtual time.
#[cfg(not(transparent_future_shuttle))]
#[inline]
pub(crate) fn now() -> Instant {
    Instant::now()
}

/// Waits on `cond` for at most `dur` (a notification, a spurious wake-up or the end of
/// `dur`, as [`Condvar::wait_timeout`]); the caller checks its condition again.
/// `guard` locks `mutex` (the model unlocks and relocks it by hand).
#[cfg(not(transparent_future_shuttle))]
#[inline]
pub(crate) fn wait_timeout<'a, T>(
    cond: &Condvar,
    _mutex: &'a Mutex<T>,
    guard: MutexGuard<'a, T>,
    dur: Duration,
) -> MutexGuard<'a, T> {
    cond.wait_timeout(guard, dur)
        .unwrap_or_else(PoisonError::into_inner)
        .0
}

/// How long to sleep from `now` so that a clock read on waking is past `at` (by the
/// one rule of [`passed`]): a sleep that ends exactly at `at` would find the deadline
/// not passed yet, and sleep again for nothing.
pub(crate) fn until_past(at: Instant, now: Instant) -> Duration {
    at.saturating_duration_since(now) + Duration::from_nanos(1)
}

/// Whether `deadline` has passed at the clock reading `now`: strictly later. The one
/// comparison every part of the crate that decides a timeout uses (the state when a
/// task publishes or a reader looks, the timer when it picks what to settle), so that
/// two equal readings never disagree.
#[inline]
pub(crate) fn passed(deadline: Instant, now: Instant) -> bool {
    now > deadline
}

/// The model's parts: shuttle's threads, a channel built from its mutex and condvar,
/// and the virtual clock.
#[cfg(transparent_future_shuttle)]
mod model {
    use std::cell::Cell;
    use std::time::{Duration, Instant};

    use shuttle::rand::Rng;
    use shuttle::sync::{Condvar, Mutex, MutexGuard};

    thread_local! {
        // Shuttle runs every model thread of an execution on the test's own OS thread,
        // so this is the one clock of the execution. `None` until the first reading.
        static BASE: Cell<Option<Instant>> = const { Cell::new(None) };
        static ELAPSED: Cell<Duration> = const { Cell::new(Duration::ZERO) };
    }

    /// One tick of the virtual clock.
    pub(crate) const TICK: Duration = Duration::from_millis(1);

    fn base() -> Instant {
        BASE.with(|b| {
            let base = b.get().unwrap_or_else(Instant::now);
            b.set(Some(base));
            base
        })
    }

    /// Restarts the virtual clock at zero (each execution of a model calls it first).
    #[cfg(test)]
    pub(crate) fn reset_clock() {
        ELAPSED.with(|e| e.set(Duration::ZERO));
    }

    /// The virtual time: the scheduler chooses whether a tick passes before this read,
    /// so two reads may be equal, or one tick apart.
    pub(crate) fn now() -> Instant {
        if shuttle::rand::thread_rng().gen_bool(0.5) {
            ELAPSED.with(|e| e.set(e.get() + TICK));
        }
        base() + ELAPSED.with(Cell::get)
    }

    /// Moves the virtual clock forward to `at` (never back).
    fn advance_to(at: Instant) {
        let target = at.saturating_duration_since(base());
        ELAPSED.with(|e| e.set(e.get().max(target)));
    }

    /// A timed wait: lets the other threads run, then either times out (the clock
    /// moves to the end of the wait) or returns as a notified or spurious wake-up, as
    /// the scheduler chooses. A timed waiter never blocks in the model, so the model
    /// cannot report a timed wait as a deadlock; an untimed wait is shuttle's own.
    pub(crate) fn wait_timeout<'a, T>(
        _cond: &Condvar,
        mutex: &'a Mutex<T>,
        guard: MutexGuard<'a, T>,
        dur: Duration,
    ) -> MutexGuard<'a, T> {
        let end = now() + dur;
        drop(guard);
        shuttle::thread::yield_now();
        if shuttle::rand::thread_rng().gen_bool(0.5) {
            advance_to(end);
        }
        mutex
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) mod thread {
        //! Shuttle's threads, with the builder methods the crate calls. Scoped threads
        //! stay the standard library's (outside the model).
        use std::io;

        pub(crate) use shuttle::thread::{JoinHandle, yield_now};
        #[cfg(test)]
        pub(crate) use shuttle::thread::{sleep, spawn};
        pub(crate) use std::thread::{Scope, ScopedJoinHandle, available_parallelism, scope};

        /// `std::thread::Builder` with a model thread behind `spawn`.
        #[derive(Debug)]
        pub(crate) struct Builder {
            name: Option<String>,
            stack_size: Option<usize>,
        }

        impl Builder {
            pub(crate) fn new() -> Self {
                Builder {
                    name: None,
                    stack_size: None,
                }
            }
            pub(crate) fn name(mut self, name: String) -> Self {
                self.name = Some(name);
                self
            }
            pub(crate) fn stack_size(mut self, bytes: usize) -> Self {
                self.stack_size = Some(bytes);
                self
            }
            pub(crate) fn spawn<F, T>(self, f: F) -> io::Result<JoinHandle<T>>
            where
                F: FnOnce() -> T + Send + 'static,
                T: Send + 'static,
            {
                let mut b = shuttle::thread::Builder::new();
                if let Some(name) = self.name {
                    b = b.name(name);
                }
                b.spawn(f)
            }
            pub(crate) fn spawn_scoped<'scope, 'env, F, T>(
                self,
                scope: &'scope Scope<'scope, 'env>,
                f: F,
            ) -> io::Result<ScopedJoinHandle<'scope, T>>
            where
                F: FnOnce() -> T + Send + 'scope,
                T: Send + 'scope,
            {
                let mut b = std::thread::Builder::new();
                if let Some(name) = self.name {
                    b = b.name(name);
                }
                if let Some(bytes) = self.stack_size {
                    b = b.stack_size(bytes);
                }
                b.spawn_scoped(scope, f)
            }
        }
    }

    /// `crossbeam_utils::Backoff` in the model: every snooze is a scheduling point,
    /// and the backoff completes after a few, so a spin never loops unboundedly.
    ///
    /// A snooze is a busy spin, as crossbeam's first snoozes are, not a yield: it is
    /// an atomic load of the model (where the scheduler may switch threads), not
    /// `yield_now`, which the PCT scheduler answers by dropping the spinner to the
    /// lowest priority. So PCT can also run a worker's whole look-then-sleep (or
    /// look-then-exit) path while another thread stands still between two steps.
    pub(crate) struct Backoff {
        snoozes: std::cell::Cell<u32>,
        spin: shuttle::sync::atomic::AtomicBool,
    }

    impl Backoff {
        pub(crate) fn new() -> Self {
            Backoff {
                snoozes: std::cell::Cell::new(0),
                spin: shuttle::sync::atomic::AtomicBool::new(false),
            }
        }
        pub(crate) fn snooze(&self) {
            self.snoozes.set(self.snoozes.get() + 1);
            // ORDERING: any: the load is only a scheduling point of the model (shuttle
            // treats every atomic access as sequentially consistent anyway).
            self.spin.load(std::sync::atomic::Ordering::SeqCst);
        }
        pub(crate) fn is_completed(&self) -> bool {
            self.snoozes.get() >= 2
        }
    }

    pub(crate) mod deque {
        //! `crossbeam-deque`'s work-stealing deques in the model: each is a mutex of
        //! the model around a `VecDeque`, with the same API and the same ends (a
        //! LIFO worker pops what it pushed last, a FIFO one what it pushed first;
        //! stealers take the oldest). The pool's injector is the crate's own, built
        //! on this facade's mutex: the model runs its real code. Every operation is a
        //! scheduling point, so the model explores the pool's protocol around the
        //! deques; the deques' own lock-free code is `crossbeam-deque`'s, tested
        //! there.
        use std::collections::VecDeque;
        use std::sync::{Arc, PoisonError};

        use shuttle::sync::Mutex;

        /// What a steal found.
        pub(crate) enum Steal<T> {
            Empty,
            Success(T),
            #[allow(dead_code)] // crossbeam's third answer; the model never gives it
            Retry,
        }

        impl<T> Steal<T> {
            pub(crate) fn success(self) -> Option<T> {
                match self {
                    Steal::Success(t) => Some(t),
                    _ => None,
                }
            }
            pub(crate) fn is_retry(&self) -> bool {
                matches!(self, Steal::Retry)
            }
        }

        type Shared<T> = Arc<Mutex<VecDeque<T>>>;

        fn lock<T>(q: &Mutex<VecDeque<T>>) -> shuttle::sync::MutexGuard<'_, VecDeque<T>> {
            q.lock().unwrap_or_else(PoisonError::into_inner)
        }

        /// The owner's end of a LIFO deque.
        pub(crate) struct Worker<T> {
            queue: Shared<T>,
            /// Whether the owner pops the oldest (FIFO) rather than the newest.
            fifo: bool,
        }

        impl<T> Worker<T> {
            pub(crate) fn new_lifo() -> Self {
                Worker {
                    queue: Arc::default(),
                    fifo: false,
                }
            }
            pub(crate) fn new_fifo() -> Self {
                Worker {
                    queue: Arc::default(),
                    fifo: true,
                }
            }
            pub(crate) fn push(&self, value: T) {
                lock(&self.queue).push_back(value);
            }
            pub(crate) fn pop(&self) -> Option<T> {
                let mut queue = lock(&self.queue);
                if self.fifo {
                    queue.pop_front()
                } else {
                    queue.pop_back()
                }
            }
            pub(crate) fn stealer(&self) -> Stealer<T> {
                Stealer(Arc::clone(&self.queue))
            }
            pub(crate) fn is_empty(&self) -> bool {
                lock(&self.queue).is_empty()
            }
        }

        /// Another thread's end of a worker's deque: takes the oldest.
        pub(crate) struct Stealer<T>(Shared<T>);

        impl<T> Stealer<T> {
            pub(crate) fn steal(&self) -> Steal<T> {
                match lock(&self.0).pop_front() {
                    Some(value) => Steal::Success(value),
                    None => Steal::Empty,
                }
            }
            pub(crate) fn is_empty(&self) -> bool {
                lock(&self.0).is_empty()
            }
            pub(crate) fn len(&self) -> usize {
                lock(&self.0).len()
            }
        }
    }

    pub(crate) mod channel {
        //! An unbounded multi-producer multi-consumer channel made of the model's
        //! mutex and condvar, with the part of `crossbeam-channel`'s API the crate uses.
        use std::collections::VecDeque;
        use std::sync::{Arc, PoisonError};
        use std::time::Instant;

        use shuttle::sync::{Condvar, Mutex, MutexGuard};

        struct State<T> {
            queue: VecDeque<T>,
            senders: usize,
            receivers: usize,
        }

        struct Chan<T> {
            state: Mutex<State<T>>,
            cond: Condvar,
        }

        impl<T> Chan<T> {
            fn lock(&self) -> MutexGuard<'_, State<T>> {
                self.state.lock().unwrap_or_else(PoisonError::into_inner)
            }
        }

        pub(crate) struct Sender<T>(Arc<Chan<T>>);
        pub(crate) struct Receiver<T>(Arc<Chan<T>>);

        #[derive(Debug)]
        pub(crate) struct SendError<T>(pub(crate) T);
        impl<T> SendError<T> {
            pub(crate) fn into_inner(self) -> T {
                self.0
            }
        }
        #[derive(Debug, PartialEq, Eq)]
        pub(crate) enum TryRecvError {
            Empty,
            Disconnected,
        }
        #[derive(Debug, PartialEq, Eq)]
        pub(crate) enum RecvTimeoutError {
            Timeout,
            Disconnected,
        }

        pub(crate) fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
            let chan = Arc::new(Chan {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    senders: 1,
                    receivers: 1,
                }),
                cond: Condvar::new(),
            });
            (Sender(Arc::clone(&chan)), Receiver(chan))
        }

        impl<T> Sender<T> {
            pub(crate) fn send(&self, value: T) -> Result<(), SendError<T>> {
                let mut state = self.0.lock();
                if state.receivers == 0 {
                    return Err(SendError(value));
                }
                state.queue.push_back(value);
                drop(state);
                self.0.cond.notify_one();
                Ok(())
            }
        }

        impl<T> Clone for Sender<T> {
            fn clone(&self) -> Self {
                self.0.lock().senders += 1;
                Sender(Arc::clone(&self.0))
            }
        }

        impl<T> Drop for Sender<T> {
            fn drop(&mut self) {
                let mut state = self.0.lock();
                state.senders -= 1;
                let last = state.senders == 0;
                drop(state);
                if last {
                    self.0.cond.notify_all();
                }
            }
        }

        impl<T> Receiver<T> {
            pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
                let mut state = self.0.lock();
                match state.queue.pop_front() {
                    Some(value) => Ok(value),
                    None if state.senders == 0 => Err(TryRecvError::Disconnected),
                    None => Err(TryRecvError::Empty),
                }
            }
            pub(crate) fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
                let mut state = self.0.lock();
                loop {
                    if let Some(value) = state.queue.pop_front() {
                        return Ok(value);
                    }
                    if state.senders == 0 {
                        return Err(RecvTimeoutError::Disconnected);
                    }
                    let now = super::now();
                    if now >= deadline {
                        return Err(RecvTimeoutError::Timeout);
                    }
                    state = super::wait_timeout(&self.0.cond, &self.0.state, state, deadline - now);
                }
            }
        }

        impl<T> Clone for Receiver<T> {
            fn clone(&self) -> Self {
                self.0.lock().receivers += 1;
                Receiver(Arc::clone(&self.0))
            }
        }

        impl<T> Drop for Receiver<T> {
            fn drop(&mut self) {
                self.0.lock().receivers -= 1;
            }
        }
    }
}

#[cfg(all(test, transparent_future_shuttle))]
pub(crate) use model::{TICK, reset_clock};

#[cfg(all(test, not(transparent_future_shuttle)))]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_passes_only_at_a_strictly_later_reading_and_a_sleep_reaches_one() {
        let at = Instant::now();
        assert!(!passed(at, at), "an equal reading is on time");
        assert!(!passed(at, at - Duration::from_nanos(1)));
        assert!(passed(at, at + Duration::from_nanos(1)));
        // Sleeping `until_past` from any reading at or before the deadline ends past it.
        for now in [at, at - Duration::from_millis(3)] {
            assert!(passed(at, now + until_past(at, now)));
        }
        assert_eq!(
            until_past(at, at + Duration::from_secs(1)),
            Duration::from_nanos(1)
        );
    }
}
