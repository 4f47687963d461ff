//! The child's typed side of a task: decode the argument, run the `fn` with its panic
//! caught, encode the result. Safe code, called by the entry point in `ident`.

use std::any::type_name;
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::core::panic::panic_message;
use crate::process::wire::Reply;

/// Runs `f` on the argument in `arg` and encodes what happened as the reply.
pub(crate) fn run<A, T>(f: fn(A) -> T, arg: &[u8]) -> Reply
where
    A: DeserializeOwned,
    T: Serialize,
{
    let arg: A = match postcard::from_bytes(arg) {
        Ok(arg) => arg,
        Err(e) => {
            return Reply::Error(format!(
                "the child could not deserialize the argument as {}: {e}",
                type_name::<A>()
            ));
        }
    };
    match catch_unwind(AssertUnwindSafe(move || f(arg))) {
        Ok(value) => match postcard::to_allocvec(&value) {
            Ok(bytes) => Reply::Value(bytes),
            Err(e) => Reply::Error(format!(
                "the child could not serialize the result ({}): {e}",
                type_name::<T>()
            )),
        },
        Err(payload) => {
            let message = panic_message(payload.as_ref()).to_owned();
            // A payload whose drop panics must not take the answer down with it.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            Reply::Panic(message)
        }
    }
}
