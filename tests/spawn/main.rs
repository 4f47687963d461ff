//! Ways of starting a future: `Builder`, scoped futures, cooperative cancellation and
//! user-written executors behind the `Executor` trait.

#[path = "../support/mod.rs"]
mod support;

mod builder;
mod cancel;
mod executor_trait;
mod scope;
