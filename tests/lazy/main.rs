//! `Lazy<T>` itself: blocking on first access, using a future as its value (deref,
//! operators, comparisons, formatting), constructors, panics, deadlines and timeouts,
//! drops, memory ordering and thread-safety markers.

#[path = "../support/mod.rs"]
mod support;

mod access;
mod comparisons;
mod constructors;
mod deadlines;
mod deref;
mod drop_once;
mod formatting;
mod happens_before;
mod operators;
mod outcome;
mod panics;
mod seed_selftest;
mod send_sync;
mod timeouts;
