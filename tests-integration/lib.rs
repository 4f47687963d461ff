//! Tests of `transparent-future` that need the peers' crates; see `tests/`.
