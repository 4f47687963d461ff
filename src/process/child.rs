//! The child's side: [`init`], which a re-executed child reaches first thing in `main`
//! and never leaves; the command-line marker that tells a child what it is; and the
//! guard that keeps a child that skipped `init` from spawning children of its own.

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::OnceLock;
use std::thread;
use std::time::Duration;

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::fs::FileType;
use rustix::process::{Pid, Resource, Signal};

use crate::process::ident::{self, ImageId};
use crate::process::wire::{self, Header, Kind};

/// The libtest filter that selects the test a test binary declares with
/// [`process_tests!`](crate::process_tests): in a test binary, the child runs only it.
pub const CHILD_TEST_NAME: &str = "__transparent_future_process_child";

/// The first characters of the argument that marks a child.
const MARKER: &str = "__transparent_future_child,";

/// The deepest chain of process tasks spawning process tasks.
const MAX_DEPTH: u32 = 8;

/// How often a child checks that its parent is still alive, beside the socket's
/// hang-up, which wakes it at once.
const PARENT_CHECK: Duration = Duration::from_millis(250);

/// The stack of a task that asks for none: a main thread's usual 8 MiB.
const DEFAULT_STACK: u64 = 8 << 20;

/// How a child serves: one task then exit, or tasks until the parent hangs up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Once,
    Pool,
}

/// What the command line of a child says.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Marker {
    parent: u32,
    image: ImageId,
    depth: u32,
    mode: Mode,
}

impl Marker {
    fn encode(&self) -> String {
        let mode = match self.mode {
            Mode::Once => "once",
            Mode::Pool => "pool",
        };
        format!(
            "{MARKER}{},{},{},{},{mode}",
            wire::VERSION,
            self.parent,
            self.image.encode(),
            self.depth
        )
    }

    fn decode(arg: &str) -> Option<Marker> {
        let mut parts = arg.strip_prefix(MARKER)?.split(',');
        let version: u32 = parts.next()?.parse().ok()?;
        let parent = parts.next()?.parse().ok()?;
        let image = ImageId::decode(parts.next()?)?;
        let depth = parts.next()?.parse().ok()?;
        let mode = match parts.next()? {
            "once" => Mode::Once,
            "pool" => Mode::Pool,
            _ => return None,
        };
        (version == wire::VERSION).then_some(Marker {
            parent,
            image,
            depth,
            mode,
        })
    }
}

/// This process's own marker, if it was started as a child.
fn own_marker() -> Option<&'static Marker> {
    static MARKED: OnceLock<Option<Marker>> = OnceLock::new();
    MARKED
        .get_or_init(|| {
            std::env::args_os()
                .skip(1)
                .take(3)
                .find_map(|a| a.to_str().and_then(Marker::decode))
        })
        .as_ref()
}

/// Set once a child has entered [`init`]: its tasks may spawn process tasks too.
static SERVING: OnceLock<u32> = OnceLock::new();

/// The command-line arguments of a new child spawned from this process: the test
/// filter (in a test binary, only the `process_tests!` test runs; a binary's `main`
/// never looks, since `init` comes first), the marker, and libtest's quiet options.
pub(crate) fn child_args(image: &ImageId, mode: Mode) -> io::Result<Vec<String>> {
    let depth = match (own_marker(), SERVING.get()) {
        (None, _) => 0,
        (Some(_), Some(depth)) if *depth < MAX_DEPTH => depth + 1,
        (Some(_), Some(depth)) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "transparent_future: process tasks nested {depth} deep; refusing to go \
                     deeper (a task that spawns itself forever?)"
                ),
            ));
        }
        (Some(_), None) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "transparent_future: this process was started to run a process task, but it \
                 reached a spawn without calling transparent_future::process::init() first; \
                 call it on the first line of main (in a test binary, add the line \
                 `transparent_future::process_tests!();`)",
            ));
        }
    };
    let marker = Marker {
        parent: std::process::id(),
        image: image.clone(),
        depth,
        mode,
    };
    Ok(vec![
        CHILD_TEST_NAME.to_owned(),
        marker.encode(),
        "--nocapture".to_owned(),
        "--quiet".to_owned(),
        "--test-threads=1".to_owned(),
    ])
}

/// Lets this process run process tasks. Call it on the first line of `main`.
///
/// In the program you started, it returns at once (it only reads the command line). In
/// a child that the [`process`](crate::process) spawns re-executed, it runs the task
/// (or, in a [`ProcessPool`](crate::process::ProcessPool) worker, task after task)
/// and exits the process: it never returns there. That is why it must come before
/// anything `main` does that a child should not do again (parse arguments, print,
/// open files, start threads).
///
/// A child that skips it (a `main` that forgot the call) fails its spawn with a clear
/// error, never a hang or a child spawning children: its own spawns are refused and the
/// parent's reader sees the child exit with that message.
///
/// In a test binary (`cargo test`'s integration tests, where libtest owns `main`), add
/// the line `transparent_future::process_tests!();` to the test crate instead; in a
/// doctest, call `init()` first in the example.
///
/// ```
/// transparent_future::process::init(); // a child runs its task here and exits
///
/// fn square(x: u64) -> u64 {
///     x * x
/// }
/// let n = transparent_future::process::spawn_lazy(12, square);
/// assert_eq!(*n, 144);
/// ```
pub fn init() {
    let Some(marker) = own_marker() else {
        return;
    };
    let code = match serve(marker) {
        Ok(()) => 0,
        Err(e) => {
            let _ = writeln!(io::stderr(), "transparent_future: process child: {e}");
            CHILD_FAILED
        }
    };
    std::process::exit(code)
}

/// The exit status of a child that could not serve (not started by a parent of this
/// crate, a broken socket, a corrupt frame).
const CHILD_FAILED: i32 = 125;

fn serve(marker: &Marker) -> io::Result<()> {
    let socket = take_socket()?;
    if rustix::process::getppid() != Pid::from_raw(marker.parent as i32) {
        // The parent died before we got here: nobody waits for an answer.
        return Ok(());
    }
    let _ = SERVING.set(marker.depth);
    watch_parent(&socket, marker.parent)?;
    // Buffered: a task's header and argument frames arrive in one read.
    let mut input = BufReader::with_capacity(1 << 16, &socket);
    let mut next = read_task(&mut input)?;
    let on_main = main_thread_fits();
    while let Some(task) = next {
        let image = &marker.image;
        let mode = marker.mode;
        if on_main && task.0.stack_size == 0 && task.0.name.is_empty() {
            // No stack or name asked for, and this is a program's main thread with a
            // main thread's stack: the task runs right here, no thread to start.
            let reply = ident::call(image, &task.0, &task.1);
            wire::write_frame(&socket, reply.kind(), reply.payload())?;
            next = match mode {
                Mode::Once => None,
                Mode::Pool => read_task(&mut input)?,
            };
            continue;
        }
        // Otherwise the task runs on a thread with the stack and name it asked for; that
        // thread also reads the next task and runs it too if it asks for the same, so a
        // pool worker starts no thread per task.
        let config = (task.0.stack_size, task.0.name.clone());
        let socket = &socket;
        let input = &mut input;
        next = thread::scope(|scope| {
            runner(&config)
                .spawn_scoped(scope, move || -> io::Result<_> {
                    let mut task = task;
                    loop {
                        let reply = ident::call(image, &task.0, &task.1);
                        wire::write_frame(socket, reply.kind(), reply.payload())?;
                        if mode == Mode::Once {
                            return Ok(None);
                        }
                        match read_task(input)? {
                            Some(t) if (t.0.stack_size, &t.0.name) == (config.0, &config.1) => {
                                task = t;
                            }
                            other => return Ok(other),
                        }
                    }
                })?
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the task thread panicked")))
        })?;
    }
    Ok(())
}

/// Whether a task with the default stack (a main thread's 8 MiB) can run on the calling
/// thread: it is the process's main thread (a binary's `main`, or a doctest's; in a test
/// binary `init` runs on a test thread with a small stack), and the stack limit lets it
/// grow to at least 8 MiB.
fn main_thread_fits() -> bool {
    let main = rustix::thread::gettid() == rustix::process::getpid();
    let limit = rustix::process::getrlimit(Resource::Stack).current;
    main && limit.is_none_or(|bytes| bytes >= DEFAULT_STACK)
}

/// Reads the next task; `None` when the parent hung up between tasks.
fn read_task(socket: &mut impl Read) -> io::Result<Option<(Header, Vec<u8>)>> {
    let Some((Kind::Header, header)) = wire::read_frame(socket)? else {
        return Ok(None);
    };
    let header = Header::decode(&header)?;
    let Some((Kind::Arg, arg)) = wire::read_frame(socket)? else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "a task header without its argument",
        ));
    };
    Ok(Some((header, arg)))
}

/// A thread for tasks of this stack size and name.
fn runner((stack_size, name): &(u64, String)) -> thread::Builder {
    let stack = match usize::try_from(*stack_size) {
        Ok(0) => DEFAULT_STACK as usize, // a main thread's usual stack: a task is a program
        Ok(bytes) => bytes,
        Err(_) => usize::MAX,
    };
    thread::Builder::new()
        .stack_size(stack)
        .name(if name.is_empty() {
            "process-task".to_owned()
        } else {
            name.clone()
        })
}

/// Takes the socket the parent passed as standard input, and puts `/dev/null` there
/// instead, so that a task that reads its standard input cannot eat the protocol.
fn take_socket() -> io::Result<UnixStream> {
    let stdin = io::stdin();
    let stat = rustix::fs::fstat(&stdin)?;
    if FileType::from_raw_mode(stat.st_mode) != FileType::Socket {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "started with a transparent_future child's arguments, but standard input is \
             not the parent's socket: this process was not started by transparent_future",
        ));
    }
    let socket = rustix::io::fcntl_dupfd_cloexec(&stdin, 3)?;
    rustix::stdio::dup2_stdin(File::open("/dev/null")?)?;
    Ok(UnixStream::from(socket))
}

/// Ends this child, and everything it started, once the parent is gone: when the
/// socket hangs up (at once) or the parent PID changes (within a quarter second).
/// (`PR_SET_PDEATHSIG` is not used: it follows the parent's thread that started the
/// child, not the parent process, and it would kill only this process, orphaning the
/// task's own children.)
fn watch_parent(socket: &UnixStream, parent: u32) -> io::Result<()> {
    let socket = socket.try_clone()?;
    let parent = Pid::from_raw(parent as i32);
    thread::Builder::new()
        .name("transparent-future-parent-watch".into())
        .stack_size(64 * 1024)
        .spawn(move || {
            let timeout = Timespec {
                tv_sec: 0,
                tv_nsec: PARENT_CHECK.as_nanos() as _,
            };
            loop {
                let mut fds = [PollFd::new(&socket, PollFlags::RDHUP)];
                let _ = poll(&mut fds, Some(&timeout));
                let hung_up = fds[0]
                    .revents()
                    .intersects(PollFlags::RDHUP | PollFlags::HUP | PollFlags::ERR);
                if hung_up || rustix::process::getppid() != parent {
                    // This child leads its own process group: take the task's children
                    // along.
                    let _ = rustix::process::kill_current_process_group(Signal::KILL);
                    std::process::exit(CHILD_FAILED);
                }
            }
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_round_trips_and_other_arguments_are_not_markers() {
        let m = Marker {
            parent: 12,
            image: ImageId {
                dev: "fd:01".into(),
                inode: 99,
            },
            depth: 2,
            mode: Mode::Pool,
        };
        assert_eq!(Marker::decode(&m.encode()), Some(m));
        assert_eq!(Marker::decode("--nocapture"), None);
        assert_eq!(
            Marker::decode("__transparent_future_child,99,1,a/1,0,once"),
            None
        );
    }
}
