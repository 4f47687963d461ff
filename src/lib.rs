#![doc = include_str!("../docs/crate.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs, rust_2018_idioms, unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod lazy;
mod ops;
mod outcome;
mod panic;
mod policy;
mod spawn;
mod state;
mod task;
mod traits;

pub use crate::lazy::Lazy;
pub use crate::outcome::Outcome;
pub use crate::policy::{Deadline, NoTimeout, TimeoutPolicy};
pub use crate::spawn::{spawn_lazy, spawn_lazy_with, try_spawn_lazy, try_spawn_lazy_with};
