//! Futures on shared workers: `ThreadPool`, its work-helping, its work-stealing
//! queues, readers blocked on running tasks (asleep, and released at their limits),
//! races under load, a hundred thousand pending futures, and rayon as an executor
//! (cargo feature `rayon`).

#[path = "../support/mod.rs"]
mod support;

mod blocked_readers;
#[cfg(feature = "rayon")]
mod on_rayon;
mod pending_futures;
mod read_by_value;
mod stealing;
mod stress;
mod thread_pool;
mod work_helping;
