//! Tests that read process-wide thread state: the process's thread count
//! (`/proc/self/status`), `ThreadPerTask::live_threads()` and the live-thread cap
//! (`ThreadPerTask::set_max_live_threads`).
//!
//! Any thread another test starts would change these figures, so every test of this
//! binary holds `support::serial()` for its whole run, and nothing else runs here; the
//! tests that compare exact thread counts take it through `support::alone()`, which
//! also waits for the threads of the test before them to be gone.

#[path = "../support/mod.rs"]
mod support;

mod cap;
mod cap_refusals;
mod exit;
mod many_pending_futures;
mod pool_workers;
mod ten_thousand;
