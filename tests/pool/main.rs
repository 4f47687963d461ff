//! Futures on shared workers: `ThreadPool`, its work-helping, races under load, a
//! hundred thousand pending futures, and rayon as an executor (cargo feature `rayon`).

#[path = "../support/mod.rs"]
mod support;

#[cfg(feature = "rayon")]
mod on_rayon;
mod pending_futures;
mod stress;
mod thread_pool;
mod work_helping;
