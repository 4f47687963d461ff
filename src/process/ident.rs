//! Naming a `fn` in another process: the only module of the crate with `unsafe` code.
//!
//! A child is the same executable as its parent, so a function sits at the same
//! distance from any other function of the image in both processes, whatever address
//! the image was loaded at. The parent sends two such distances, measured from
//! [`anchor`]: the typed entry point `entry::<A, T>` (monomorphized by the parent's
//! spawn call, so it exists in the image) and the task's `fn(A) -> T`. The child adds
//! them to its own `anchor` and calls the entry, which calls the `fn`.
//!
//! What makes that sound, checked before any call (a failed check is a
//! [`Reply::Error`], never a call):
//!
//! 1. **Same image.** `/proc/self/maps` names the file (device and inode) whose
//!    executable mapping holds `anchor`. The parent sends its own; the child compares.
//!    The parent starts the child from `/proc/self/exe` (the very inode it runs), and
//!    Linux refuses writes to a file that is being executed (`ETXTBSY`), so the same
//!    inode means the same bytes, hence the same layout. The parent also refuses when
//!    the image holding `anchor` is not its main executable (a dynamic library could be
//!    rewritten in place).
//! 2. **Inside the image's code.** Both targets must fall inside an executable mapping
//!    of that same file, in the parent (when measuring) and in the child (when adding).
//! 3. **The right types.** The distances come in pairs that the parent's generic code
//!    measured together, `entry::<A, T>` with an `f: fn(A) -> T` of the same `A` and
//!    `T`; the entry also compares `type_name::<A>()` and `type_name::<T>()` with the
//!    names the parent sent, and a mismatch is an error. A socket only the parent holds
//!    carries the header, so nobody else can pair them differently.
//!
//! Everything else of the process executor is safe code (the crate is
//! `#![deny(unsafe_code)]`; this module alone is allowed).

#![allow(unsafe_code)]

use std::any::type_name;
use std::io::{self, Read};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::process::typed;
use crate::process::wire::{Header, Reply};

/// The signature of every typed entry point.
type Entry = fn(&Header, &[u8]) -> Reply;

/// The fixed point distances are measured from. Never called.
#[inline(never)]
fn anchor(_: &Header, _: &[u8]) -> Reply {
    Reply::Error("transparent_future: the anchor function was called".into())
}

fn anchor_addr() -> usize {
    anchor as Entry as usize
}

/// Which file an image is: the device and inode `/proc/self/maps` shows for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImageId {
    pub(crate) dev: String,
    pub(crate) inode: u64,
}

impl ImageId {
    /// As it travels in the child's command line.
    pub(crate) fn encode(&self) -> String {
        format!("{}/{}", self.dev, self.inode)
    }

    pub(crate) fn decode(s: &str) -> Option<ImageId> {
        let (dev, inode) = s.split_once('/')?;
        Some(ImageId {
            dev: dev.to_owned(),
            inode: inode.parse().ok()?,
        })
    }
}

/// The executable image that holds this crate's code: its identity, its path and the
/// address ranges of its executable mappings.
#[derive(Debug, Clone)]
struct Image {
    id: ImageId,
    path: String,
    code: Vec<(usize, usize)>,
}

impl Image {
    fn contains(&self, addr: usize) -> bool {
        self.code
            .iter()
            .any(|&(start, end)| start <= addr && addr < end)
    }
}

fn read_image() -> io::Result<Image> {
    // One read into a buffer that fits a usual map (a file of size 0 would otherwise be
    // read in growing steps from 32 bytes: a dozen system calls).
    let mut bytes = Vec::with_capacity(64 << 10);
    std::fs::File::open("/proc/self/maps")?.read_to_end(&mut bytes)?;
    let maps = String::from_utf8_lossy(&bytes);
    let anchor = anchor_addr();
    let mut code = Vec::new();
    for line in maps.lines() {
        let mut fields = line.split_ascii_whitespace();
        let (Some(range), Some(perms), Some(_offset), Some(dev), Some(inode)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            continue;
        };
        let path = fields.collect::<Vec<_>>().join(" ");
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end), Ok(inode)) = (
            usize::from_str_radix(start, 16),
            usize::from_str_radix(end, 16),
            inode.parse::<u64>(),
        ) else {
            continue;
        };
        if perms.contains('x') && inode != 0 {
            code.push((start, end, dev.to_owned(), inode, path));
        }
    }
    let Some((_, _, dev, inode, path)) = code
        .iter()
        .find(|(start, end, ..)| *start <= anchor && anchor < *end)
        .cloned()
    else {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "transparent_future: the crate's code is not in a file-backed executable mapping",
        ));
    };
    let code = code
        .into_iter()
        .filter(|(_, _, d, i, _)| *d == dev && *i == inode)
        .map(|(start, end, ..)| (start, end))
        .collect();
    Ok(Image {
        id: ImageId { dev, inode },
        path,
        code,
    })
}

/// The image, read once and read again when an address is not found in it.
static IMAGE: Mutex<Option<Arc<Image>>> = Mutex::new(None);

fn image(refresh: bool) -> io::Result<Arc<Image>> {
    let mut cached = IMAGE.lock().unwrap_or_else(PoisonError::into_inner);
    if refresh || cached.is_none() {
        *cached = Some(Arc::new(read_image()?));
    }
    cached
        .clone()
        .ok_or_else(|| io::Error::other("transparent_future: no image"))
}

/// The identity of the image that holds the crate, for the child to compare. Checked
/// once: the executable a process runs does not change.
pub(crate) fn image_id() -> io::Result<ImageId> {
    static CHECKED: OnceLock<ImageId> = OnceLock::new();
    if let Some(id) = CHECKED.get() {
        return Ok(id.clone());
    }
    let image = image(false)?;
    let exe = std::fs::read_link("/proc/self/exe")?;
    let path = image.path.trim_end_matches(" (deleted)");
    if exe.as_os_str() != path && exe.as_os_str() != image.path.as_str() {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!(
                "transparent_future: process tasks need the crate linked into the \
                 executable itself, but its code is in {path:?}, not in {exe:?}"
            ),
        ));
    }
    Ok(CHECKED.get_or_init(|| image.id.clone()).clone())
}

/// The distance of `addr` from the anchor, checked to lie in the image's code.
fn distance(addr: usize, what: impl FnOnce() -> String) -> io::Result<i64> {
    let mut image = image(false)?;
    if !image.contains(addr) {
        image = image_refreshed()?;
    }
    if !image.contains(addr) {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!(
                "transparent_future: {} at {addr:#x} is not in the executable's code \
                 (a function of a dynamic library?); a process task must be a fn of the \
                 executable itself",
                what()
            ),
        ));
    }
    Ok((addr as i64).wrapping_sub(anchor_addr() as i64))
}

fn image_refreshed() -> io::Result<Arc<Image>> {
    image(true)
}

/// The parent's side: the distances of `entry::<A, T>` and of `f` from the anchor.
pub(crate) fn locate<A, T>(f: fn(A) -> T) -> io::Result<(i64, i64)>
where
    A: DeserializeOwned,
    T: Serialize,
{
    let entry = distance(entry::<A, T> as Entry as usize, || {
        "the typed entry point".to_owned()
    })?;
    let func = distance(f as usize, || {
        format!("the task fn({}) -> {}", type_name::<A>(), type_name::<T>())
    })?;
    Ok((entry, func))
}

/// The child's side: finds the entry point the header names and calls it, if the
/// checks above hold.
pub(crate) fn call(parent: &ImageId, header: &Header, arg: &[u8]) -> Reply {
    let image = match image(false) {
        Ok(image) => image,
        Err(e) => return Reply::Error(format!("the child cannot read its own image: {e}")),
    };
    if image.id != *parent {
        return Reply::Error(format!(
            "the child runs another executable ({:?}) than its parent ({:?}); it was \
             replaced between the two starts",
            image.id, parent
        ));
    }
    let anchor = anchor_addr();
    let entry = anchor.wrapping_add_signed(header.entry as isize);
    let func = anchor.wrapping_add_signed(header.func as isize);
    if !image.contains(entry) || !image.contains(func) {
        return Reply::Error(
            "the task's entry point or fn lies outside the executable's code".into(),
        );
    }
    // SAFETY: `entry` is `anchor + d`, where the parent measured `d` as the distance
    // from its `anchor` to its `entry::<A, T>` (an `Entry`), in the same image: same
    // device and inode, checked just above, and an executing file cannot change
    // (ETXTBSY), so the layout is identical and `entry` is the address of this
    // process's own `entry::<A, T>`. It also lies inside the image's executable code,
    // checked above. So it is a valid function of type `Entry`.
    let entry = unsafe { std::mem::transmute::<usize, Entry>(entry) };
    entry(header, arg)
}

/// The typed entry point: checks the types the parent named, then runs the `fn`.
fn entry<A, T>(header: &Header, arg: &[u8]) -> Reply
where
    A: DeserializeOwned,
    T: Serialize,
{
    if header.arg_type != type_name::<A>() || header.result_type != type_name::<T>() {
        return Reply::Error(format!(
            "type mismatch: the parent sent fn({}) -> {}, the child's entry point is \
             for fn({}) -> {}",
            header.arg_type,
            header.result_type,
            type_name::<A>(),
            type_name::<T>()
        ));
    }
    let func = anchor_addr().wrapping_add_signed(header.func as isize);
    // SAFETY: `call` checked that `func` lies in the executable code of the same image
    // as the parent's. The parent measured `header.func` from an `f: fn(A) -> T`
    // together with `header.entry` from `entry::<A, T>` for the same `A` and `T`: this
    // function is that entry (see `call`), so `func` is this process's copy of that
    // very `fn(A) -> T`.
    let f = unsafe { std::mem::transmute::<usize, fn(A) -> T>(func) };
    typed::run(f, arg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn double(x: u32) -> u32 {
        x * 2
    }

    #[test]
    fn the_image_is_this_executable_and_a_located_fn_runs_here() {
        let id = image_id().unwrap();
        assert_eq!(ImageId::decode(&id.encode()), Some(id.clone()));
        let (entry, func) = locate(double as fn(u32) -> u32).unwrap();
        let header = Header {
            entry,
            func,
            arg_type: type_name::<u32>().into(),
            result_type: type_name::<u32>().into(),
            stack_size: 0,
            name: String::new(),
        };
        let arg = postcard::to_allocvec(&21u32).unwrap();
        let reply = call(&id, &header, &arg);
        assert_eq!(reply, Reply::Value(postcard::to_allocvec(&42u32).unwrap()));
    }

    #[test]
    fn a_type_mismatch_or_another_image_is_an_error_not_a_call() {
        let id = image_id().unwrap();
        let (entry, func) = locate(double as fn(u32) -> u32).unwrap();
        let mut header = Header {
            entry,
            func,
            arg_type: "u64".into(),
            result_type: type_name::<u32>().into(),
            stack_size: 0,
            name: String::new(),
        };
        let arg = postcard::to_allocvec(&21u32).unwrap();
        assert!(matches!(call(&id, &header, &arg), Reply::Error(e) if e.contains("type mismatch")));
        header.arg_type = type_name::<u32>().into();
        let other = ImageId {
            dev: id.dev.clone(),
            inode: id.inode + 1,
        };
        assert!(
            matches!(call(&other, &header, &arg), Reply::Error(e) if e.contains("another executable"))
        );
        header.entry = i64::MAX / 2;
        assert!(matches!(call(&id, &header, &arg), Reply::Error(e) if e.contains("outside")));
    }
}
