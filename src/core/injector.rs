//! A pool's injector: the FIFO queue that threads outside the pool submit to, and that
//! idle workers take batches from.
//!
//! A `VecDeque` under a mutex, with its length mirrored in an atomic so that a look
//! for work (and a worker's last look before it sleeps) takes no lock. Measured
//! against `crossbeam-deque`'s lock-free injector on the bulk benchmark (one thread
//! submitting 100,000 tasks to two workers): the lock-free one allocates a block of
//! slots per 63 tasks on the submitting thread and frees it on a worker, so the
//! submitter contends with the workers for its own allocator arena, a system call to
//! wake a blocked worker each time; a worker taking each task as it lands also shares
//! each slot's line with the submitter. Here the buffer is reused, a push is one
//! uncontended lock most of the time, and a worker takes half of what is queued at
//! once.
//!
//! The lock also decides the race between a submission and the pool's close: a push
//! holds it across its look at `closed` (see [`Injector::push`]), and the close sets
//! the flag under it, so no task lands here after the close.

use std::collections::VecDeque;

use crate::core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use crate::core::sync::deque::Worker;
use crate::core::sync::{Mutex, MutexGuard, PoisonError};

/// At most how many tasks a worker moves from the injector to its batch at once,
/// besides the one it runs (as `crossbeam-deque`'s batches).
const MAX_BATCH: usize = 32;

pub(crate) struct Injector<T> {
    queue: Mutex<VecDeque<T>>,
    /// The queue's length, written under the lock after each change and read without
    /// it.
    len: AtomicUsize,
}

impl<T> Injector<T> {
    pub(crate) fn new() -> Self {
        Injector {
            queue: Mutex::new(VecDeque::new()),
            len: AtomicUsize::new(0),
        }
    }

    /// The lock. No code that can panic runs under it (a push or pop of a moved
    /// value), so poisoning means nothing and is ignored.
    fn lock(&self) -> MutexGuard<'_, VecDeque<T>> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `value` unless `closed` is set (looked at under the lock, which the
    /// close also takes to set it): then hands it back.
    pub(crate) fn push(&self, value: T, closed: &AtomicBool) -> Result<(), T> {
        let mut queue = self.lock();
        // ORDERING: Relaxed: the lock orders this look after a close's store, made
        // under the same lock.
        if closed.load(Ordering::Relaxed) {
            return Err(value);
        }
        queue.push_back(value);
        // ORDERING: Relaxed: the submitter's SeqCst fence after the push orders this
        // store before its look at the sleepers, against a sleeper's fence and look
        // here (the handshake in `queues`); a stale read elsewhere only delays a look.
        self.len.store(queue.len(), Ordering::Relaxed);
        Ok(())
    }

    /// Sets `closed` under the lock: no push lands after this returns.
    pub(crate) fn close(&self, closed: &AtomicBool) {
        let _queue = self.lock();
        // ORDERING: SeqCst, for the workers' last look before they sleep, which reads
        // it after a SeqCst fence without taking this lock.
        closed.store(true, Ordering::SeqCst);
    }

    /// Takes the oldest task to run, and moves up to half of the rest (at most
    /// [`MAX_BATCH`]) into `dest`, a FIFO worker queue, in their order.
    pub(crate) fn take_batch(&self, dest: &Worker<T>) -> Option<T> {
        if self.is_empty() {
            return None;
        }
        let mut queue = self.lock();
        let first = queue.pop_front()?;
        let batch = queue.len().div_ceil(2).min(MAX_BATCH);
        // Out of the queue at once, into an array on the stack (no allocation), so
        // that submitters wait for the lock as briefly as possible.
        let mut moved: [Option<T>; MAX_BATCH] =
            std::array::from_fn(|i| if i < batch { queue.pop_front() } else { None });
        self.len.store(queue.len(), Ordering::Relaxed);
        drop(queue);
        for value in moved.iter_mut().filter_map(Option::take) {
            dest.push(value);
        }
        Some(first)
    }

    /// Whether the queue looks empty, without the lock.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many tasks are queued, without the lock.
    pub(crate) fn len(&self) -> usize {
        // ORDERING: Relaxed: see `push`; a look for work that misses a push made
        // after the submitter's fence is followed by the sleeper's fenced look.
        self.len.load(Ordering::Relaxed)
    }
}

#[cfg(all(test, not(transparent_future_shuttle)))]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_the_oldest_task_and_half_of_the_rest_run_oldest_first() {
        let injector = Injector::new();
        let closed = AtomicBool::new(false);
        for i in 0..11 {
            assert!(injector.push(i, &closed).is_ok());
        }
        assert_eq!(injector.len(), 11);
        let deque = Worker::new_fifo();
        assert_eq!(
            injector.take_batch(&deque),
            Some(0),
            "the oldest runs first"
        );
        // Half of the ten left, rounded up: five, in their order.
        let moved: Vec<i32> = std::iter::from_fn(|| deque.pop()).collect();
        assert_eq!(moved, [1, 2, 3, 4, 5]);
        assert_eq!(injector.len(), 5);
        assert_eq!(injector.take_batch(&deque), Some(6), "7 and 8 go with it");
        assert_eq!(injector.take_batch(&deque), Some(9), "10 goes with it");
        assert!(injector.is_empty());
        assert_eq!(injector.take_batch(&deque), None);
        let moved: Vec<i32> = std::iter::from_fn(|| deque.pop()).collect();
        assert_eq!(moved, [7, 8, 10], "in the order they were queued");
    }

    #[test]
    fn a_batch_moves_at_most_max_batch_tasks() {
        let injector = Injector::new();
        let closed = AtomicBool::new(false);
        for i in 0..1000 {
            assert!(injector.push(i, &closed).is_ok());
        }
        let deque = Worker::new_fifo();
        assert_eq!(injector.take_batch(&deque), Some(0));
        assert_eq!(deque.len(), MAX_BATCH);
        assert_eq!(injector.len(), 999 - MAX_BATCH);
    }

    #[test]
    fn a_push_after_the_close_is_handed_back() {
        let injector = Injector::new();
        let closed = AtomicBool::new(false);
        assert!(injector.push("before", &closed).is_ok());
        injector.close(&closed);
        assert!(closed.load(Ordering::SeqCst));
        assert_eq!(injector.push("after", &closed), Err("after"));
        assert_eq!(injector.len(), 1, "what was queued before stays, to be run");
    }
}
