//! Count the words and lines of every file under a directory, one future per file, on a
//! `ThreadPool` and then with a thread per file, and print both times.
//!
//! ```text
//! cargo run --release --example pool [DIR]      # DIR defaults to this crate's source tree
//! ```

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use transparent_future::{Lazy, ThreadPool, spawn_lazy};

/// Words and lines of one file (0, 0 for a file that is not text or can't be read).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counts {
    words: usize,
    lines: usize,
}

fn count(path: &Path) -> Counts {
    match std::fs::read_to_string(path) {
        Ok(text) => Counts {
            words: text.split_whitespace().count(),
            lines: text.lines().count(),
        },
        Err(_) => Counts::default(),
    }
}

/// Every file under `dir`, skipping `target` and hidden directories.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        match entry.file_type() {
            Ok(t) if t.is_dir() => files(&path, out),
            Ok(t) if t.is_file() => out.push(path),
            _ => {}
        }
    }
}

/// Spawns one future per file with `spawn`, then sums them; returns the total and time.
fn run(paths: &[PathBuf], spawn: impl Fn(PathBuf) -> Lazy<Counts>) -> (Counts, Duration) {
    let t0 = Instant::now();
    let futures: Vec<Lazy<Counts>> = paths.iter().cloned().map(spawn).collect();
    let total = futures.iter().fold(Counts::default(), |acc, c| Counts {
        words: acc.words + c.words, // each access blocks only until that file is done
        lines: acc.lines + c.lines,
    });
    (total, t0.elapsed())
}

fn main() {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    let mut paths = Vec::new();
    files(&dir, &mut paths);
    println!("{} files under {}", paths.len(), dir.display());

    // Read everything once so that neither run pays for a cold page cache.
    let warm: usize = paths.iter().map(|p| count(p).words).sum();

    let pool = ThreadPool::default();
    let (on_pool, pool_time) = run(&paths, |p| pool.spawn_lazy(move || count(&p)));
    let (per_thread, thread_time) = run(&paths, |p| spawn_lazy(move || count(&p)));
    assert_eq!(on_pool, per_thread, "both executors must agree");
    assert_eq!(on_pool.words, warm, "and agree with a sequential count");

    println!("{} words, {} lines", on_pool.words, on_pool.lines);
    println!("ThreadPool ({} workers): {pool_time:.2?}", pool.workers());
    println!("thread per file:         {thread_time:.2?}");
    if !pool_time.is_zero() {
        println!(
            "the pool took {:.2}x the time of a thread per file",
            pool_time.as_secs_f64() / thread_time.as_secs_f64()
        );
    }
}
