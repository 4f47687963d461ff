//! Starting tasks: the [`Builder`](builder::Builder), the one path every spawn takes;
//! the shorthands over it; scoped tasks; and the `background!` decorator.

pub(crate) mod background;
pub(crate) mod builder;
pub(crate) mod scope;
pub(crate) mod shorthand;
