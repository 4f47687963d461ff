//! Side-by-side benchmarks of `transparent-future` against its peers.
