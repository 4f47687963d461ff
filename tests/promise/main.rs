//! Promises (futures that someone else completes) and the continuations and groups
//! that see every way a future can end: `Lazy::handle`/`recover`, `SharedLazy`'s
//! chaining, `Lazy::timeout`, `Lazy::all_settled`, `as_completed` with a deadline, and
//! a `SharedLazy` moved out through its last handle.

#[path = "../support/mod.rs"]
mod support;

mod common;
mod completers;
mod continuations;
mod groups;
mod promises;
mod races;
