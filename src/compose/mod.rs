//! Futures made from futures: chaining (`map`, `then`), groups (`all`, `first_done`,
//! `as_completed`) and `.await`. None of them parks a thread in between: each
//! registers a callback on the futures it waits for.

pub(crate) mod chain;
pub mod future;
pub(crate) mod handle;
pub(crate) mod many;
pub(crate) mod shared;
pub(crate) mod timeout;
