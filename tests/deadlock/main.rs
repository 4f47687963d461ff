//! Deadlock detection: cycles of tasks are refused to the wait closing them, waits
//! that would end are never refused, and a pool's queued tasks are helped instead.
//!
//! The scenarios read `debug::waits()` only for the threads and futures they name
//! themselves, so they can share a binary; the test that checks the registry's totals
//! has a binary of its own (`tests/debug_waits.rs`).

#[path = "../support/mod.rs"]
mod support;

mod cycles;
mod no_false_positives;
mod pool;
