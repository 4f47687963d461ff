//! Actors: a state owned by one worker, calls that return transparent futures, in
//! order, one at a time; on a thread of their own or on an executor.

#[path = "../support/mod.rs"]
mod support;

mod calls;
mod deadlock;
mod lifecycle;
mod panicking_drops;
mod pooled;
