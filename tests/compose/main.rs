//! Composing futures: chains (`map`, `then`), many futures at once (`all`,
//! `first_ready`, `as_completed`), shared results and the decorator form, on every
//! executor.

#[path = "../support/mod.rs"]
mod support;

mod chain;
mod decorator;
mod many;
mod shared;
