//! Process tasks: values, kills at the deadline, crashes as data, the pool, payloads,
//! (de)serialization failures, many threads, parent death, and the unsafe path under
//! valgrind. Every test runs under a watchdog; `/proc` is checked for leftovers.

// The one line a test binary needs: children started for tasks run only this test.
transparent_future::process_tests!();

mod support;

mod crashes;
mod kills;
mod leaks;
mod pool;
mod valgrind;
mod values;
