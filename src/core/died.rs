//! [`ProcessDied`]: a process task's child that ended without returning a value (killed
//! by a signal, or exited). Lives beside [`TaskPanic`](crate::TaskPanic), which carries
//! it to the readers, so that the handle's layer can turn it into a `WaitError`.

use std::error::Error;
use std::fmt;

/// A process task's child process ended without returning a value: it was killed by a
/// signal (a segfault, an abort, a stack overflow, running out of memory, `kill -9`) or
/// it exited (`std::process::exit`, a panic outside the task) before it answered.
///
/// Readers of the future panic with its [`Display`](fmt::Display) text, which names the
/// PID and the signal or exit status, e.g. `process task (pid 4242) killed by signal 11
/// (SIGSEGV)`. The checked waits return it as
/// [`WaitError::ProcessDied`](crate::WaitError::ProcessDied), and
/// [`Lazy::join`](crate::Lazy::join) returns a payload that downcasts to it.
///
/// ```
/// # transparent_future::process::init();
/// use transparent_future::{process, Lazy, WaitError};
/// use transparent_future::process::ProcessDied;
///
/// fn quit(code: i32) -> u8 {
///     std::process::exit(code)
/// }
///
/// let x = process::spawn_lazy(3, quit);
/// let Err(WaitError::ProcessDied(died)) = Lazy::try_wait(&x) else { unreachable!() };
/// assert_eq!(died.exit_code(), Some(3));
/// assert_eq!(died.signal(), None);
/// assert!(died.to_string().contains("exited with status 3"), "{died}");
///
/// let payload = Lazy::join(x).unwrap_err();
/// assert_eq!(payload.downcast_ref::<ProcessDied>().map(|d| d.exit_code()), Some(Some(3)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessDied {
    pid: u32,
    signal: Option<i32>,
    exit_code: Option<i32>,
    core_dumped: bool,
    cause: Option<String>,
    stderr_tail: String,
}

/// What the end of a dead child's standard error says about how it died, summarized:
/// a stack overflow, an allocation failure, a panic outside the task (its message),
/// or else its last line (backtraces and notes left out).
fn diagnose(stderr_tail: &str) -> Option<String> {
    let lines: Vec<&str> = stderr_tail
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let find = |needle: &str| lines.iter().rposition(|l| l.contains(needle));
    if let Some(i) = find("has overflowed its stack") {
        return Some(format!("stack overflow ({})", lines[i]));
    }
    if let Some(i) = find("memory allocation of") {
        return Some(format!("out of memory ({})", lines[i]));
    }
    if let Some(message) = find(" panicked at ").and_then(|i| lines.get(i + 1)) {
        return Some(format!("panicked outside the task: {}", clip(message)));
    }
    let noise = |l: &&&str| {
        l.starts_with("note:")
            || l.starts_with("stack backtrace")
            || l.starts_with("at ")
            || l.split(':')
                .next()
                .is_some_and(|n| n.trim().parse::<u32>().is_ok())
    };
    lines.iter().rev().find(|l| !noise(l)).map(|l| clip(l))
}

/// At most 300 bytes of `line`.
fn clip(line: &str) -> String {
    if line.len() <= 300 {
        return line.to_owned();
    }
    let mut cut = 300;
    while !line.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}...", &line[..cut])
}

impl ProcessDied {
    /// A child `pid` that ended as its wait status says; `stderr_tail` is the end of
    /// what it wrote to its standard error (for the diagnosis).
    pub(crate) fn new(
        pid: u32,
        signal: Option<i32>,
        exit_code: Option<i32>,
        core_dumped: bool,
        stderr_tail: String,
    ) -> Self {
        let cause = diagnose(&stderr_tail).or_else(|| {
            (exit_code == Some(0)).then(|| {
                "the child exited without running the task: does main call \
                 transparent_future::process::init() on its first line (in a test binary: \
                 transparent_future::process_tests!())?"
                    .to_owned()
            })
        });
        ProcessDied {
            pid,
            signal,
            exit_code,
            core_dumped,
            cause,
            stderr_tail,
        }
    }

    /// The child's process ID (no longer valid: the child has been reaped).
    ///
    /// ```
    /// # transparent_future::process::init();
    /// use transparent_future::{process, Lazy, WaitError};
    /// fn quit(code: i32) -> u8 { std::process::exit(code) }
    /// let x = process::spawn_lazy(1, quit);
    /// let Err(WaitError::ProcessDied(died)) = Lazy::try_wait(&x) else { unreachable!() };
    /// assert!(died.pid() > 1);
    /// assert!(died.to_string().contains(&format!("pid {}", died.pid())));
    /// ```
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The signal that killed the child, if one did.
    ///
    /// ```
    /// # transparent_future::process::init();
    /// use transparent_future::{process, Lazy, WaitError};
    /// fn abort(_: ()) -> u8 { std::process::abort() }
    /// let x = process::spawn_lazy((), abort);
    /// let Err(WaitError::ProcessDied(died)) = Lazy::try_wait(&x) else { unreachable!() };
    /// assert_eq!(died.signal(), Some(6));
    /// assert_eq!(died.signal_name(), Some("SIGABRT"));
    /// ```
    pub fn signal(&self) -> Option<i32> {
        self.signal
    }

    /// The name of the signal that killed the child (`"SIGSEGV"`), if one did and it is
    /// a standard one.
    ///
    /// ```
    /// # transparent_future::process::init();
    /// use transparent_future::{process, Lazy, WaitError};
    /// fn abort(_: ()) -> u8 { std::process::abort() }
    /// let x = process::spawn_lazy((), abort);
    /// let Err(WaitError::ProcessDied(died)) = Lazy::try_wait(&x) else { unreachable!() };
    /// assert!(died.to_string().contains("killed by signal 6 (SIGABRT)"), "{died}");
    /// ```
    pub fn signal_name(&self) -> Option<&'static str> {
        self.signal.and_then(signal_name)
    }

    /// The child's exit status, if it exited rather than being killed.
    ///
    /// ```
    /// # transparent_future::process::init();
    /// use transparent_future::{process, Lazy, WaitError};
    /// fn quit(code: i32) -> u8 { std::process::exit(code) }
    /// let x = process::spawn_lazy(7, quit);
    /// let Err(WaitError::ProcessDied(died)) = Lazy::try_wait(&x) else { unreachable!() };
    /// assert_eq!(died.exit_code(), Some(7));
    /// ```
    pub fn exit_code(&self) -> Option<i32> {
        self.exit_code
    }

    /// Whether the kernel wrote a core dump (it depends on the `ulimit -c` in force).
    ///
    /// ```
    /// # transparent_future::process::init();
    /// use transparent_future::{process, Lazy, WaitError};
    /// fn quit(code: i32) -> u8 { std::process::exit(code) }
    /// let x = process::spawn_lazy(2, quit);
    /// let Err(WaitError::ProcessDied(died)) = Lazy::try_wait(&x) else { unreachable!() };
    /// assert!(!died.core_dumped()); // an exit never dumps core
    /// ```
    pub fn core_dumped(&self) -> bool {
        self.core_dumped
    }

    /// What the end of the child's standard error says about its death: `"stack
    /// overflow (...)"`, `"out of memory (...)"`, or its last line; `None` if it wrote
    /// nothing.
    ///
    /// ```
    /// # transparent_future::process::init();
    /// use transparent_future::{process, Lazy, WaitError};
    /// fn complain(_: ()) -> u8 {
    ///     eprintln!("config file missing");
    ///     std::process::exit(2)
    /// }
    /// let x = process::spawn_lazy((), complain);
    /// let Err(WaitError::ProcessDied(died)) = Lazy::try_wait(&x) else { unreachable!() };
    /// assert_eq!(died.cause(), Some("config file missing"));
    /// ```
    pub fn cause(&self) -> Option<&str> {
        self.cause.as_deref()
    }

    /// The last few kilobytes the child wrote to its standard error while it ran this
    /// task (everything it wrote is also forwarded to the parent's standard error).
    ///
    /// ```
    /// # transparent_future::process::init();
    /// use transparent_future::{process, Lazy, WaitError};
    /// fn complain(_: ()) -> u8 {
    ///     eprintln!("first");
    ///     eprintln!("second");
    ///     std::process::exit(2)
    /// }
    /// let x = process::spawn_lazy((), complain);
    /// let Err(WaitError::ProcessDied(died)) = Lazy::try_wait(&x) else { unreachable!() };
    /// assert!(died.stderr_tail().ends_with("first\nsecond\n"));
    /// ```
    pub fn stderr_tail(&self) -> &str {
        &self.stderr_tail
    }
}

impl fmt::Display for ProcessDied {
    /// `process task (pid N) killed by signal S (NAME)[, core dumped][: cause]`, or
    /// `process task (pid N) exited with status C without returning a value[: cause]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "process task (pid {}) ", self.pid)?;
        match (self.signal, self.exit_code) {
            (Some(signal), _) => {
                write!(f, "killed by signal {signal}")?;
                if let Some(name) = signal_name(signal) {
                    write!(f, " ({name})")?;
                }
                if self.core_dumped {
                    f.write_str(", core dumped")?;
                }
            }
            (None, Some(code)) => write!(f, "exited with status {code} without returning a value")?,
            (None, None) => f.write_str("ended without returning a value")?,
        }
        if let Some(cause) = &self.cause {
            write!(f, ": {cause}")?;
        }
        Ok(())
    }
}

impl Error for ProcessDied {}

/// The standard name of a Linux signal number.
pub(crate) fn signal_name(signal: i32) -> Option<&'static str> {
    const NAMES: [&str; 31] = [
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGVTALRM",
        "SIGPROF",
        "SIGWINCH",
        "SIGIO",
        "SIGPWR",
        "SIGSYS",
    ];
    usize::try_from(signal)
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| NAMES.get(i).copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_pid_the_signal_and_the_cause() {
        let segv = ProcessDied::new(42, Some(11), None, false, String::new());
        assert_eq!(
            segv.to_string(),
            "process task (pid 42) killed by signal 11 (SIGSEGV)"
        );
        let overflow = ProcessDied::new(
            7,
            Some(6),
            None,
            true,
            "\nthread 'x' has overflowed its stack\nfatal runtime error: stack overflow\n".into(),
        );
        assert_eq!(
            overflow.to_string(),
            "process task (pid 7) killed by signal 6 (SIGABRT), core dumped: \
             stack overflow (thread 'x' has overflowed its stack)"
        );
        let exit = ProcessDied::new(9, None, Some(3), false, "bye\n".into());
        assert_eq!(
            exit.to_string(),
            "process task (pid 9) exited with status 3 without returning a value: bye"
        );
        assert_eq!(signal_name(9), Some("SIGKILL"));
        assert_eq!(signal_name(0), None);
        assert_eq!(signal_name(64), None);
    }
}
