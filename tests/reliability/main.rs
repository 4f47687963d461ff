//! Hostile input and hostile values (nonsense limits, lying executors, panicking
//! drops), regressions found by the reliability review, and races under load (a
//! pool's shutdown racing submissions among them).

#[path = "../support/mod.rs"]
mod support;

mod hostile_input;
mod panicking_drops;
mod regressions;
mod shutdown_races;
mod stress;
