//! A test binary that forgot `transparent_future::process_tests!()`: a spawn is a clear
//! error for its reader, never a hang, and a child that reaches a spawn without `init`
//! refuses it instead of spawning children of its own.

use std::time::Duration;

use transparent_future::process;
use transparent_future::{Lazy, WaitError};

fn double(x: u32) -> u32 {
    2 * x
}

/// Its name contains the filter a child's command line carries, so a child runs it:
/// there it reaches this spawn without `init`, which must be refused.
#[test]
fn __transparent_future_process_child_without_init() {
    // In the child, this spawn panics (refused); in the parent, it starts that child.
    let x = process::spawn_lazy(21, double);
    let died = match Lazy::wait_timeout(&x, Duration::from_secs(30)) {
        Err(WaitError::ProcessDied(d)) => d,
        Err(WaitError::Timeout) => panic!("a spawn without init hung"),
        other => panic!("a spawn without init must end in a clear error, not {other:?}"),
    };
    // The child ran this very test, whose spawn was refused: it failed with status 101.
    assert_eq!(died.exit_code(), Some(101), "{died}");
    assert!(
        died.to_string()
            .contains("transparent_future::process::init()"),
        "{died}"
    );
}
