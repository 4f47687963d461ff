//! The wire between a parent and a child: frames on one Unix stream socket (the child's
//! standard input), and the header that names the task.
//!
//! A frame is a kind byte, a little-endian `u64` length and that many bytes. The parent
//! sends [`Kind::Header`] (the postcard-encoded [`Header`]) then [`Kind::Arg`] (the
//! postcard-encoded argument); the child answers with one of [`Kind::Value`] (the
//! postcard-encoded result), [`Kind::Panic`] (the panic message, UTF-8) or
//! [`Kind::Error`] (why the task could not run, UTF-8). The argument and result are
//! separate frames, written as they are, so a 64 MiB value is never copied into a
//! bigger buffer.

use std::io::{self, IoSlice, Read};
use std::os::fd::AsFd;

use rustix::net::{SendAncillaryBuffer, SendFlags};

/// The version of this protocol; a child of another version refuses the task.
pub(crate) const VERSION: u32 = 1;

/// The size of a frame's head: the kind byte and the length.
pub(crate) const HEAD: usize = 9;

/// What a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Header = 1,
    Arg = 2,
    Value = 3,
    Panic = 4,
    Error = 5,
}

impl Kind {
    fn from_byte(b: u8) -> io::Result<Kind> {
        Ok(match b {
            1 => Kind::Header,
            2 => Kind::Arg,
            3 => Kind::Value,
            4 => Kind::Panic,
            5 => Kind::Error,
            _ => return Err(corrupt(format!("unknown frame kind {b}"))),
        })
    }
}

fn corrupt(what: String) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("transparent_future: corrupt process frame: {what}"),
    )
}

/// The head of a frame of `kind` with `len` bytes.
pub(crate) fn head(kind: Kind, len: usize) -> [u8; HEAD] {
    let mut h = [0; HEAD];
    h[0] = kind as u8;
    h[1..].copy_from_slice(&(len as u64).to_le_bytes());
    h
}

/// Parses a frame's head.
pub(crate) fn parse_head(h: &[u8]) -> io::Result<(Kind, usize)> {
    let kind = Kind::from_byte(h[0])?;
    let mut len = [0; 8];
    len.copy_from_slice(&h[1..HEAD]);
    let len = usize::try_from(u64::from_le_bytes(len))
        .map_err(|_| corrupt("a frame longer than memory".into()))?;
    Ok((kind, len))
}

/// Writes what `send` takes, in one call, of `parts` from position `at` (a part and an
/// offset in it), and moves `at` past it: a frame's head and payload (or a header and an
/// argument frame) leave in one system call. Returns `Ok(false)` once everything is
/// written.
pub(crate) fn send_parts(
    parts: &[&[u8]],
    at: &mut (usize, usize),
    send: impl FnOnce(&[IoSlice<'_>]) -> io::Result<usize>,
) -> io::Result<bool> {
    while at.0 < parts.len() && at.1 == parts[at.0].len() {
        *at = (at.0 + 1, 0);
    }
    if at.0 == parts.len() {
        return Ok(false);
    }
    let mut slices = [IoSlice::new(&[]); 4];
    let mut count = 0;
    for (i, part) in parts[at.0..].iter().take(slices.len()).enumerate() {
        slices[i] = IoSlice::new(if i == 0 { &part[at.1..] } else { part });
        count = i + 1;
    }
    let mut n = send(&slices[..count])?;
    while n > 0 && at.0 < parts.len() {
        let step = n.min(parts[at.0].len() - at.1);
        at.1 += step;
        n -= step;
        if at.1 == parts[at.0].len() {
            *at = (at.0 + 1, 0);
        }
    }
    while at.0 < parts.len() && at.1 == parts[at.0].len() {
        *at = (at.0 + 1, 0);
    }
    Ok(at.0 < parts.len())
}

/// Sends `parts` on a socket with `MSG_NOSIGNAL` (a closed peer is an error, never a
/// SIGPIPE), as much as one `sendmsg` takes.
pub(crate) fn sendmsg_parts(
    socket: &impl AsFd,
    parts: &[&[u8]],
    at: &mut (usize, usize),
) -> io::Result<bool> {
    send_parts(parts, at, |slices| {
        rustix::net::sendmsg(
            socket,
            slices,
            &mut SendAncillaryBuffer::default(),
            SendFlags::NOSIGNAL,
        )
        .map_err(io::Error::from)
    })
}

/// Writes a whole frame on a blocking socket, head and payload in one `sendmsg` as
/// long as the socket takes them: the child's side.
pub(crate) fn write_frame(socket: &impl AsFd, kind: Kind, payload: &[u8]) -> io::Result<()> {
    let head = head(kind, payload.len());
    let parts: [&[u8]; 2] = [&head, payload];
    let mut at = (0, 0);
    loop {
        match sendmsg_parts(socket, &parts, &mut at) {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Reads a whole frame (blocking): the child's side, through a buffer, so that a small
/// task (its header and argument frames) arrives in one read. `None` at a clean end of
/// stream (the parent closed the socket between tasks).
pub(crate) fn read_frame(r: &mut impl Read) -> io::Result<Option<(Kind, Vec<u8>)>> {
    let mut h = [0; HEAD];
    let mut got = 0;
    while got < HEAD {
        match r.read(&mut h[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let (kind, len) = parse_head(&h)?;
    // Grow as the bytes arrive beyond 64 KiB: a corrupt length cannot reserve memory up
    // front.
    let mut payload = Vec::with_capacity(len.min(1 << 16));
    let read = r.take(len as u64).read_to_end(&mut payload)?;
    if read != len {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(Some((kind, payload)))
}

/// What the child needs to run a task, besides its argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    /// Where the typed entry point is, as an offset from the crate's anchor function.
    pub(crate) entry: i64,
    /// Where the task's `fn` is, as an offset from the same anchor.
    pub(crate) func: i64,
    /// `std::any::type_name` of the argument and result types, checked by the entry.
    pub(crate) arg_type: String,
    pub(crate) result_type: String,
    /// The stack of the thread that runs the task in the child; 0 for the default.
    pub(crate) stack_size: u64,
    /// The task's name (its thread's name in the child); empty for none.
    pub(crate) name: String,
}

type HeaderWire<'a> = (u32, i64, i64, &'a str, &'a str, u64, &'a str);
type HeaderOwned = (u32, i64, i64, String, String, u64, String);

impl Header {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let wire: HeaderWire<'_> = (
            VERSION,
            self.entry,
            self.func,
            &self.arg_type,
            &self.result_type,
            self.stack_size,
            &self.name,
        );
        // A tuple of integers and strings always serializes.
        postcard::to_allocvec(&wire).unwrap_or_default()
    }

    pub(crate) fn decode(bytes: &[u8]) -> io::Result<Header> {
        let (version, entry, func, arg_type, result_type, stack_size, name): HeaderOwned =
            postcard::from_bytes(bytes).map_err(|e| corrupt(format!("task header: {e}")))?;
        if version != VERSION {
            return Err(corrupt(format!(
                "protocol version {version}, this child speaks {VERSION}"
            )));
        }
        Ok(Header {
            entry,
            func,
            arg_type,
            result_type,
            stack_size,
            name,
        })
    }
}

/// What the child answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reply {
    /// The postcard-encoded result.
    Value(Vec<u8>),
    /// The task panicked with this message.
    Panic(String),
    /// The task could not run, or its result could not be sent: why.
    Error(String),
}

impl Reply {
    pub(crate) fn kind(&self) -> Kind {
        match self {
            Reply::Value(_) => Kind::Value,
            Reply::Panic(_) => Kind::Panic,
            Reply::Error(_) => Kind::Error,
        }
    }

    pub(crate) fn payload(&self) -> &[u8] {
        match self {
            Reply::Value(v) => v,
            Reply::Panic(s) | Reply::Error(s) => s.as_bytes(),
        }
    }

    /// The reply carried by a frame, if it is one.
    pub(crate) fn from_frame(kind: Kind, payload: Vec<u8>) -> io::Result<Reply> {
        let text = |p: Vec<u8>| String::from_utf8_lossy(&p).into_owned();
        match kind {
            Kind::Value => Ok(Reply::Value(payload)),
            Kind::Panic => Ok(Reply::Panic(text(payload))),
            Kind::Error => Ok(Reply::Error(text(payload))),
            Kind::Header | Kind::Arg => Err(corrupt(format!("a child sent a {kind:?} frame"))),
        }
    }
}

/// Reassembles frames from bytes that arrive in pieces (the parent's non-blocking
/// side).
#[derive(Default)]
pub(crate) struct FrameReader {
    /// `buf[..filled]` holds received bytes; the rest is room for the next read.
    buf: Vec<u8>,
    filled: usize,
}

impl FrameReader {
    /// Reads what `r` has now into the buffer; returns the count (0: end of stream).
    /// `WouldBlock` passes through.
    pub(crate) fn fill(&mut self, r: &mut impl Read) -> io::Result<usize> {
        if self.buf.len() - self.filled < 1 << 16 {
            // Room for the rest of the frame being received (in steps of at most
            // 16 MiB: a corrupt length cannot reserve memory up front), or 64 KiB.
            let room = match self.expected() {
                Some(total) => total.saturating_sub(self.filled).clamp(1 << 16, 16 << 20),
                None => 1 << 16,
            };
            self.buf.resize(self.filled + room, 0);
        }
        let n = r.read(&mut self.buf[self.filled..])?;
        self.filled += n;
        Ok(n)
    }

    /// The length of the frame being received, once its head is in.
    fn expected(&self) -> Option<usize> {
        (self.filled >= HEAD)
            .then(|| parse_head(&self.buf[..HEAD]).ok())
            .flatten()
            .map(|(_, len)| len.saturating_add(HEAD))
    }

    /// Whether a complete frame is in the buffer.
    pub(crate) fn has_frame(&self) -> bool {
        self.expected().is_some_and(|total| self.filled >= total)
    }

    /// The first complete frame, taken out of the buffer. A small frame is copied out
    /// and the buffer kept for the next one (no allocation of a new 64 KiB buffer per
    /// round trip); a large one takes the buffer with it (no copy of a big value).
    pub(crate) fn frame(&mut self) -> io::Result<Option<(Kind, Vec<u8>)>> {
        if self.filled < HEAD {
            return Ok(None);
        }
        let (kind, len) = parse_head(&self.buf[..HEAD])?;
        let total = len.saturating_add(HEAD);
        if self.filled < total {
            return Ok(None);
        }
        if total <= 1 << 16 {
            let payload = self.buf[HEAD..total].to_vec();
            self.buf.copy_within(total..self.filled, 0);
            self.filled -= total;
            return Ok(Some((kind, payload)));
        }
        let rest = self.buf[total..self.filled].to_vec();
        let mut frame = std::mem::take(&mut self.buf);
        frame.truncate(total);
        frame.drain(..HEAD);
        self.filled = rest.len();
        self.buf = rest;
        Ok(Some((kind, frame)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_round_trips_and_another_version_is_refused() {
        let h = Header {
            entry: -12,
            func: 345,
            arg_type: "u64".into(),
            result_type: "alloc::string::String".into(),
            stack_size: 1 << 20,
            name: "parse".into(),
        };
        assert_eq!(Header::decode(&h.encode()).unwrap(), h);
        let mut bad = h.encode();
        bad[0] = 99;
        assert!(Header::decode(&bad).is_err());
    }

    #[test]
    fn frames_reassemble_from_pieces() {
        let mut bytes = Vec::new();
        for (kind, payload) in [(Kind::Value, &b"hello"[..]), (Kind::Panic, &b"boom"[..])] {
            let mut at = (0, 0);
            let h = head(kind, payload.len());
            // One byte at a time: every partial write moves the position right.
            while send_parts(&[&h, payload], &mut at, |s| {
                let first = s.iter().find(|s| !s.is_empty()).unwrap();
                bytes.push(first[0]);
                Ok(1)
            })
            .unwrap()
            {}
        }
        let mut reader = FrameReader::default();
        let mut frames = Vec::new();
        for piece in bytes.chunks(3) {
            reader.fill(&mut &piece[..]).unwrap();
            while let Some(f) = reader.frame().unwrap() {
                frames.push(f);
            }
        }
        assert_eq!(
            frames,
            [
                (Kind::Value, b"hello".to_vec()),
                (Kind::Panic, b"boom".to_vec())
            ]
        );
        let mut r = &bytes[..];
        assert_eq!(
            read_frame(&mut r).unwrap(),
            Some((Kind::Value, b"hello".to_vec()))
        );
        assert_eq!(
            read_frame(&mut r).unwrap(),
            Some((Kind::Panic, b"boom".to_vec()))
        );
        assert_eq!(read_frame(&mut r).unwrap(), None);
    }
}
