//! A multi-stage job built from transparent futures: list the files under a directory,
//! read and hash each one in the background (`map`), combine every hash into one
//! digest (`all`), report the first file to finish (`first_done`), and share the
//! file list with every stage (`SharedLazy`). Per-stage timings are printed.
//!
//! ```text
//! cargo run --release --example pipeline [DIR]     # DIR defaults to this crate's tree
//! ```

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::Instant;

use transparent_future::{Lazy, SharedLazy, ThreadPool, first_done};

/// Every file under `dir`, skipping `target` and hidden directories, sorted.
fn list_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if name.to_string_lossy().starts_with('.') || name == "target" {
                continue;
            }
            match entry.file_type() {
                Ok(t) if t.is_dir() => walk(&entry.path(), out),
                Ok(t) if t.is_file() => out.push(entry.path()),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort();
    out
}

fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

fn main() {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    let pool = ThreadPool::default();
    let t0 = Instant::now();

    // Stage 1: list the files in the background; every later stage shares the list.
    let files: SharedLazy<Vec<PathBuf>> = Lazy::share(pool.spawn_lazy(move || list_files(&dir)));
    println!(
        "stage 1, listing: {} files ({:.2?})",
        files.len(),
        t0.elapsed()
    );

    // Stage 2: read each file, then hash it as soon as it is read (map: no thread
    // waits in between; the hash runs on the worker that finished the read).
    let t1 = Instant::now();
    let hashes: Vec<Lazy<(usize, u64)>> = (0..files.len())
        .map(|i| {
            let files = files.clone();
            let read = pool.spawn_lazy(move || std::fs::read(&files[i]).unwrap_or_default());
            Lazy::map(read, move |bytes| (bytes.len(), hash_bytes(&bytes)))
        })
        .collect();

    // Which file was done first? (Blocks only until one is.)
    if !hashes.is_empty() {
        let (first, (bytes, _)) = first_done(&hashes);
        println!(
            "first hashed: {} ({bytes} bytes, after {:.2?})",
            files[first].display(),
            t1.elapsed()
        );
    }

    // Stage 3: combine every hash, in order, into one digest (all: one future for
    // the whole group, resolved when the last file is hashed).
    let digest = Lazy::map(Lazy::all(hashes), |parts| {
        let total: usize = parts.iter().map(|(bytes, _)| bytes).sum();
        let mut h = DefaultHasher::new();
        parts.iter().for_each(|(_, part)| part.hash(&mut h));
        (total, h.finish())
    });
    let (total_bytes, combined) = *digest;
    println!(
        "stage 2+3, read, hash, combine: {total_bytes} bytes ({:.2?})",
        t1.elapsed()
    );
    println!("digest of {} files: {combined:016x}", files.len());
    println!("total: {:.2?} on {} workers", t0.elapsed(), pool.workers());
}
