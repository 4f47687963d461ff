//! Starting a child: the current executable again (`/proc/self/exe`, the very file
//! this process runs, even if the path now names another), in a process group of its
//! own, with the socket as its standard input and pipes for its output.

use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStderr, ChildStdout, Command, Stdio};

use rustix::process::{Pid, PidfdFlags, pidfd_open};

use crate::process::child::{Mode, child_args};
use crate::process::ident;

/// An environment variable naming a program (and its arguments) to start children
/// under, for debugging: `TRANSPARENT_FUTURE_CHILD_WRAPPER="valgrind -q"`.
pub(crate) const WRAPPER: &str = "TRANSPARENT_FUTURE_CHILD_WRAPPER";

/// A child just started, and the parent's ends of everything connected to it.
pub(crate) struct Launched {
    pub(crate) child: Child,
    pub(crate) pid: u32,
    /// Refers to this very process even after its PID is reused: readable once it exits.
    pub(crate) pidfd: OwnedFd,
    pub(crate) socket: UnixStream,
    pub(crate) stdout: ChildStdout,
    pub(crate) stderr: ChildStderr,
}

/// Starts a child that serves as `mode` says. Every descriptor the parent keeps is
/// close-on-exec and non-blocking.
pub(crate) fn launch(mode: Mode) -> io::Result<Launched> {
    let image = ident::image_id()?;
    let args = child_args(&image, mode)?;
    let (socket, theirs) = UnixStream::pair()?;
    let mut command = match std::env::var(WRAPPER) {
        Ok(wrapper) if !wrapper.trim().is_empty() => {
            // A tool in front of the child (valgrind, strace): it needs a path it can
            // open itself, so the executable's resolved path; the child still checks
            // that it is the same file.
            let mut words = wrapper.split_whitespace();
            let mut command = Command::new(words.next().unwrap_or_default());
            command
                .args(words)
                .arg(std::fs::read_link("/proc/self/exe")?);
            command
        }
        _ => Command::new("/proc/self/exe"),
    };
    let mut child = command
        .args(args)
        .stdin(Stdio::from(OwnedFd::from(theirs)))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own group, led by the child: a kill reaches what the task started.
        .process_group(0)
        .spawn()
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("transparent_future: could not start a child process: {e}"),
            )
        })?;
    let pid = child.id();
    // Nobody else waits for this child (the supervisor is its only reaper), so the PID
    // still names it here.
    let pidfd = match pidfd_open(Pid::from_child(&child), PidfdFlags::empty()) {
        Ok(fd) => fd,
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!(
                    "transparent_future: pidfd_open failed (Linux 5.3 or later is needed): {e}"
                ),
            ));
        }
    };
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        unreachable!("transparent_future: piped output without pipes")
    };
    socket.set_nonblocking(true)?;
    rustix::io::ioctl_fionbio(&stdout, true)?;
    rustix::io::ioctl_fionbio(&stderr, true)?;
    Ok(Launched {
        child,
        pid,
        pidfd,
        socket,
        stdout,
        stderr,
    })
}
