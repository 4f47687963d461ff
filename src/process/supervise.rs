//! Supervising one child: sending it a task, taking its answer as soon as it arrives,
//! forwarding its output, stopping it (SIGTERM then SIGKILL to its process group, or
//! SIGKILL at once), and reaping it.
//!
//! One thread owns a child and is its only reaper; it alone signals it, and only
//! before it reaps it. An unreaped child (even a zombie) keeps its PID and its group ID
//! from being reused, so no signal can reach another process. Waiting uses `poll` on
//! the socket, the output pipes, a pidfd (readable when the child exits) and an
//! eventfd (a stop request), so the supervisor reacts to each at once.

use std::io::{self, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::ExitStatusExt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::{Child, ExitStatus};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::process::{Pid, Signal};

use crate::core::died::ProcessDied;
use crate::process::child::Mode;
use crate::process::control::{Control, Stop, new_waker};
use crate::process::launch::Launched;
use crate::process::wire::{self, FrameReader, Kind, Reply};

/// How much of a child's standard error is kept for the diagnosis of its death.
const TAIL: usize = 4096;

/// How long a child that answered may take to exit before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(2);

/// How a task's exchange with its child ended.
pub(crate) enum Ended {
    /// The child answered (it may still be running: a pool worker waits for more).
    Reply(Reply),
    /// The child ended without answering, on its own. It has been reaped.
    Died(ProcessDied),
    /// The child was stopped as asked. It has been reaped.
    Stopped(Stop, u32),
    /// The child broke the protocol; it has been killed and reaped.
    Broken(io::Error),
}

/// Text from one of the child's output pipes, forwarded to ours.
struct Output {
    pipe: Option<OwnedFd>,
    stderr: bool,
    /// Bytes of a UTF-8 character split across two reads.
    partial: Vec<u8>,
    tail: String,
}

impl Output {
    fn new(pipe: OwnedFd, stderr: bool) -> Self {
        Output {
            pipe: Some(pipe),
            stderr,
            partial: Vec::new(),
            tail: String::new(),
        }
    }

    /// Reads what the pipe has; forwards it. Closes the pipe at its end.
    fn pump(&mut self) {
        let mut buf = [0u8; 8192];
        loop {
            let Some(pipe) = &self.pipe else { return };
            match rustix::io::read(pipe, &mut buf) {
                Ok(0) => {
                    self.pipe = None;
                    return;
                }
                Ok(n) => self.forward(&buf[..n]),
                Err(rustix::io::Errno::INTR) => {}
                Err(_) => return, // WouldBlock: nothing more now
            }
        }
    }

    fn forward(&mut self, bytes: &[u8]) {
        self.partial.extend_from_slice(bytes);
        let complete = match std::str::from_utf8(&self.partial) {
            Ok(_) => self.partial.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => self.partial.len(),
        };
        let text = String::from_utf8_lossy(&self.partial[..complete]).into_owned();
        self.partial.drain(..complete);
        // `print!` and `eprint!` so that a test harness captures a child's output like
        // the test's own; a closed terminal must not end the supervisor.
        let stderr = self.stderr;
        let _ = catch_unwind(AssertUnwindSafe(|| {
            if stderr {
                eprint!("{text}");
            } else {
                print!("{text}");
                let _ = io::stdout().flush();
            }
        }));
        if stderr {
            self.tail.push_str(&text);
            if self.tail.len() > TAIL {
                let mut cut = self.tail.len() - TAIL;
                while !self.tail.is_char_boundary(cut) {
                    cut += 1;
                }
                self.tail.drain(..cut);
            }
        }
    }
}

/// The heads of a task's two frames.
fn task_heads(header: &[u8], arg: &[u8]) -> [[u8; wire::HEAD]; 2] {
    [
        wire::head(Kind::Header, header.len()),
        wire::head(Kind::Arg, arg.len()),
    ]
}

/// A live child and the parent's ends of its connections.
pub(crate) struct ChildProc {
    child: Child,
    pid: u32,
    pidfd: OwnedFd,
    socket: UnixStream,
    stdout: Output,
    stderr: Output,
    reader: FrameReader,
    waker: Arc<OwnedFd>,
    /// Set once the child has exited (and then been reaped).
    status: Option<ExitStatus>,
}

impl ChildProc {
    pub(crate) fn new(mut launched: Launched) -> io::Result<ChildProc> {
        let waker = match new_waker() {
            Ok(waker) => waker,
            Err(e) => {
                // Never leave the child behind: it is not reaped by anyone else.
                let _ = launched.child.kill();
                let _ = launched.child.wait();
                return Err(e);
            }
        };
        let Launched {
            child,
            pid,
            pidfd,
            socket,
            stdout,
            stderr,
        } = launched;
        Ok(ChildProc {
            child,
            pid,
            pidfd,
            socket,
            stdout: Output::new(OwnedFd::from(stdout), false),
            stderr: Output::new(OwnedFd::from(stderr), true),
            reader: FrameReader::default(),
            waker,
            status: None,
        })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// Forgets what the child wrote to its standard error so far (a new task starts).
    pub(crate) fn clear_tail(&mut self) {
        self.stderr.tail.clear();
    }

    /// Whether the child has exited (without waiting).
    pub(crate) fn exited(&self) -> bool {
        let mut fds = [PollFd::new(&self.pidfd, PollFlags::IN)];
        let zero = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        matches!(poll(&mut fds, Some(&zero)), Ok(n) if n > 0)
    }

    /// Signals the child's whole process group. Only called while the child is not
    /// reaped (`status` is `None`): its group ID cannot have been reused.
    fn signal_group(&self, signal: Signal) {
        if self.status.is_none() {
            let pgid = Pid::from_raw(self.pid as i32);
            if let Some(pgid) = pgid {
                let _ = rustix::process::kill_process_group(pgid, signal);
            }
        }
    }

    /// After the child exited: kills what is left of its group (the task's own
    /// children), then reaps it. Idempotent.
    fn reap(&mut self) -> ExitStatus {
        if let Some(status) = self.status {
            return status;
        }
        self.signal_group(Signal::KILL);
        let status = loop {
            match self.child.wait() {
                Ok(status) => break status,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // Not our child any more (SIGCHLD ignored by the program?): nothing to
                // reap, and nothing more to signal.
                Err(_) => break ExitStatus::from_raw(0),
            }
        };
        self.status = Some(status);
        status
    }

    /// Kills the child and its group, and reaps it.
    pub(crate) fn kill(&mut self) {
        self.signal_group(Signal::KILL);
        self.reap();
    }

    /// Ends a child that has answered its last task: a pool worker is told by the
    /// socket's shutdown (a one-task child exits by itself after its answer, and its
    /// parent-watch thread need not wake for the hang-up); waits a little for it to
    /// exit while forwarding its output, then kills what is left and reaps it.
    pub(crate) fn retire(mut self, mode: Mode) {
        if mode == Mode::Pool {
            let _ = self.socket.shutdown(std::net::Shutdown::Both);
        }
        let until = Instant::now() + EXIT_GRACE;
        // The pidfd and the output pipes only: the shut-down socket would wake every
        // poll at once, a busy loop for as long as the child takes to exit.
        while Instant::now() < until {
            if self.wait_events(Some(until), None).2 {
                break;
            }
        }
        self.stdout.pump();
        self.stderr.pump();
        self.kill();
    }

    /// Polls the child's descriptors until something happens or `until` passes;
    /// forwards output. The socket is watched as `socket` says (not at all with `None`:
    /// once shut down it would report a hang-up at every call). Returns (socket
    /// readable, socket writable, child exited).
    fn wait_events(
        &mut self,
        until: Option<Instant>,
        socket: Option<PollFlags>,
    ) -> (bool, bool, bool) {
        let timeout = until.map(|u| {
            let left = u.saturating_duration_since(Instant::now());
            Timespec {
                tv_sec: left.as_secs() as _,
                tv_nsec: left.subsec_nanos() as _,
            }
        });
        let never = Arc::clone(&self.waker);
        let out_fd = self.stdout.pipe.as_ref().map(|f| f.as_fd());
        let err_fd = self.stderr.pipe.as_ref().map(|f| f.as_fd());
        let mut fds = Vec::with_capacity(5);
        fds.push(PollFd::new(&self.pidfd, PollFlags::IN));
        fds.push(PollFd::new(&*never, PollFlags::IN));
        for fd in [out_fd, err_fd].into_iter().flatten() {
            fds.push(PollFd::from_borrowed_fd(fd, PollFlags::IN));
        }
        if let Some(flags) = socket {
            fds.push(PollFd::new(&self.socket, flags));
        }
        let _ = poll(&mut fds, timeout.as_ref());
        let any = PollFlags::IN | PollFlags::HUP | PollFlags::ERR;
        let exited = fds[0].revents().intersects(any);
        let woken = fds[1].revents().contains(PollFlags::IN);
        let mut next = 2;
        let mut ready = |present: bool| {
            let r = present && fds[next].revents().intersects(any);
            next += usize::from(present);
            r
        };
        let out_ready = ready(out_fd.is_some());
        let err_ready = ready(err_fd.is_some());
        let (readable, writable) = match socket {
            Some(_) => {
                let revents = fds[next].revents();
                (
                    revents.intersects(any),
                    revents.intersects(PollFlags::OUT | PollFlags::ERR | PollFlags::HUP),
                )
            }
            None => (false, false),
        };
        drop(fds);
        if woken {
            let mut drained = [0u8; 8];
            let _ = rustix::io::read(&*never, &mut drained);
        }
        if out_ready {
            self.stdout.pump();
        }
        if err_ready {
            self.stderr.pump();
        }
        (readable, writable, exited)
    }

    /// Reads what the socket has; returns a complete answer if there is one, and
    /// whether the socket reached its end.
    fn receive(&mut self) -> io::Result<(Option<Reply>, bool)> {
        let mut eof = false;
        loop {
            match self.reader.fill(&mut self.socket) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                // An answer is complete: no need for another read that would block.
                Ok(_) if self.reader.has_frame() => break,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                    eof = true;
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        match self.reader.frame()? {
            Some((kind, payload)) => Ok((Some(Reply::from_frame(kind, payload)?), eof)),
            None => Ok((None, eof)),
        }
    }

    /// Sends what the socket takes right now of a task's frames (`header` and `arg`,
    /// already encoded), without waiting, and returns how far it got, for
    /// [`exchange`](Self::exchange) to go on from. A fresh child's spawn calls it on the
    /// caller's thread, so that the child finds its task as soon as it is ready instead
    /// of waiting for its supervising thread to be scheduled (on a loaded machine, often
    /// longer than the child takes to start). A failure is left to `exchange`, which
    /// meets it again and sees the child's end.
    pub(crate) fn send_now(&self, header: &[u8], arg: &[u8]) -> (usize, usize) {
        let heads = task_heads(header, arg);
        let parts: [&[u8]; 4] = [&heads[0], header, &heads[1], arg];
        let mut at = (0, 0);
        loop {
            match wire::sendmsg_parts(&self.socket, &parts, &mut at) {
                Ok(true) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Ok(false) | Err(_) => return at,
            }
        }
    }

    /// Sends one task (`header` and `arg`, already encoded; from position `sent`, what
    /// [`send_now`](Self::send_now) sent, or `(0, 0)`) and supervises the child until it
    /// answers, dies, or is stopped as `control` asks. At `deadline`, calls `settle`
    /// (which decides the future's timeout, and so asks for the stop). A stop sends
    /// SIGTERM to the group and SIGKILL after `grace`, or SIGKILL at once.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn exchange(
        &mut self,
        header: &[u8],
        arg: &[u8],
        sent: (usize, usize),
        control: &Control,
        mut deadline: Option<Instant>,
        settle: &dyn Fn(),
        grace: Option<Duration>,
    ) -> Ended {
        let heads = task_heads(header, arg);
        let parts: [&[u8]; 4] = [&heads[0], header, &heads[1], arg];
        let mut at = sent;
        let mut sending = at.0 < parts.len();
        control.attach(Some(self.waker.clone()));
        let mut stop: Option<Stop> = None;
        let mut kill_at: Option<Instant> = None;
        let ended = loop {
            if stop.is_none() {
                if let Some(why) = control.stopped() {
                    stop = Some(why);
                    match grace {
                        Some(g) if !g.is_zero() => {
                            self.signal_group(Signal::TERM);
                            kill_at = Some(Instant::now() + g);
                        }
                        _ => self.signal_group(Signal::KILL),
                    }
                }
            }
            if kill_at.is_some_and(|at| Instant::now() >= at) {
                self.signal_group(Signal::KILL);
                kill_at = None;
            }
            if deadline.is_some_and(|d| Instant::now() > d) {
                deadline = None;
                settle();
                continue;
            }
            let wake = match (deadline, kill_at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let mut flags = PollFlags::IN;
            if sending {
                flags |= PollFlags::OUT;
            }
            let (readable, writable, exited) = self.wait_events(wake, Some(flags));
            if writable && sending {
                // Header and argument frames leave together, in as few `sendmsg` as the
                // socket's buffer allows.
                loop {
                    match wire::sendmsg_parts(&self.socket, &parts, &mut at) {
                        Ok(true) => {}
                        Ok(false) => {
                            sending = false;
                            break;
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        // The child is gone or closed its end: its exit tells why.
                        Err(_) => {
                            sending = false;
                            break;
                        }
                    }
                }
            }
            if readable || exited {
                match self.receive() {
                    Ok((Some(reply), _)) => break Ended::Reply(reply),
                    Ok((None, _)) => {}
                    Err(e) => {
                        self.kill();
                        break Ended::Broken(e);
                    }
                }
            }
            if exited {
                let status = self.reap();
                break match stop {
                    Some(why) => Ended::Stopped(why, self.pid()),
                    None => Ended::Died(self.died(status)),
                };
            }
        };
        control.attach(None);
        ended
    }

    /// The death of the child, from its status and what it wrote last.
    fn died(&self, status: ExitStatus) -> ProcessDied {
        ProcessDied::new(
            self.pid(),
            status.signal(),
            status.code(),
            status.core_dumped(),
            self.stderr.tail.clone(),
        )
    }
}

impl Drop for ChildProc {
    /// A child is never left behind: killed and reaped if still there.
    fn drop(&mut self) {
        if self.status.is_none() {
            self.kill();
        }
    }
}
