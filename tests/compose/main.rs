//! Composing futures: chains (`map`, `then`), many futures at once (`all`,
//! `first_done`, `as_completed`), shared results and the decorator form (every `fn`
//! shape `background!` accepts), on every executor.

#[path = "../support/mod.rs"]
mod support;

mod background_shapes;
mod chain;
mod decorator;
mod many;
mod shared;
