//! Crashes are data: each way a child dies has its own message, and the checked waits
//! and `join` carry a `ProcessDied`.

use std::time::Duration;

use transparent_future::process::{self, ProcessDied};
use transparent_future::{Lazy, WaitError};

use crate::support::watchdog;

const LIMIT: Duration = Duration::from_secs(30);

fn segfault(_: ()) -> u8 {
    // SAFETY: none; this is the crash under test, in a child process.
    #[allow(unsafe_code)]
    unsafe {
        std::ptr::null_mut::<u8>().write_volatile(1);
    }
    0
}

fn abort(_: ()) -> u8 {
    std::process::abort()
}

#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let pad = std::hint::black_box([depth; 64]);
    recurse(pad[3] + 1) + pad[0]
}

fn overflow(_: ()) -> u64 {
    recurse(0)
}

fn exit3(_: ()) -> u8 {
    std::process::exit(3)
}

fn out_of_memory(_: ()) -> usize {
    let limit = 256 << 20;
    rustix::process::setrlimit(
        rustix::process::Resource::As,
        rustix::process::Rlimit {
            current: Some(limit),
            maximum: Some(limit),
        },
    )
    .unwrap();
    let v = vec![1u8; 1 << 30];
    v.len()
}

fn died(x: &Lazy<impl Sized>) -> ProcessDied {
    match Lazy::try_wait(x) {
        Err(WaitError::ProcessDied(d)) => d,
        Err(other) => panic!("expected a death, got {other}"),
        Ok(_) => panic!("expected a death, got a value"),
    }
}

fn reader_message(x: &Lazy<impl Sized + Send + Sync>) -> String {
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = Lazy::wait(x);
    }))
    .unwrap_err();
    err.downcast_ref::<String>().cloned().unwrap()
}

#[test]
fn each_way_of_dying_has_its_own_message() {
    watchdog(LIMIT, || {
        let segv = process::spawn_lazy((), segfault);
        let abrt = process::spawn_lazy((), abort);
        let stack = process::spawn_lazy((), overflow);
        let exit = process::spawn_lazy((), exit3);
        let oom = process::spawn_lazy((), out_of_memory);

        let d = died(&segv);
        assert_eq!((d.signal(), d.signal_name()), (Some(11), Some("SIGSEGV")));
        let m = reader_message(&segv);
        assert!(
            m.contains(&format!("process task (pid {})", d.pid())),
            "{m}"
        );
        assert!(m.contains("killed by signal 11 (SIGSEGV)"), "{m}");

        let d = died(&abrt);
        assert_eq!(d.signal(), Some(6));
        let m = reader_message(&abrt);
        assert!(m.contains("killed by signal 6 (SIGABRT)"), "{m}");
        assert!(
            !m.contains("stack overflow") && !m.contains("out of memory"),
            "{m}"
        );

        let d = died(&stack);
        assert_eq!(d.signal(), Some(6));
        assert!(d.cause().unwrap().starts_with("stack overflow"), "{d}");
        assert!(
            reader_message(&stack).contains("SIGABRT), ")
                || reader_message(&stack).contains("(SIGABRT): stack overflow")
        );

        let d = died(&exit);
        assert_eq!((d.signal(), d.exit_code()), (None, Some(3)));
        assert!(reader_message(&exit).contains("exited with status 3 without returning a value"));

        let d = died(&oom);
        assert_eq!(d.signal(), Some(6));
        assert!(d.cause().unwrap().starts_with("out of memory"), "{d}");
        assert!(reader_message(&oom).contains("out of memory (memory allocation of"));

        let messages = [&segv, &abrt, &exit]
            .iter()
            .map(|x| reader_message(*x))
            .chain([reader_message(&stack), reader_message(&oom)])
            .map(|m| m.split_once(") ").unwrap().1.to_owned())
            .collect::<std::collections::HashSet<_>>();
        assert_eq!(messages.len(), 5, "{messages:?}");

        let payload = Lazy::join(segv).unwrap_err();
        let d = payload.downcast_ref::<ProcessDied>().unwrap();
        assert_eq!(d.signal(), Some(11));
        assert!(!d.core_dumped() || d.to_string().contains("core dumped"));
    });
}
