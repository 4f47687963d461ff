//! Isolating work in a process: a parser run over every file of a directory, where one
//! input makes it loop forever and another makes it abort. Each file is parsed in a
//! worker process of a `ProcessPool` with a deadline; the hang is killed at its
//! deadline, the crash is reported with its signal, and the program carries on and
//! exits cleanly.
//!
//! Run with `cargo run --example isolate --features process [DIR]`; without a
//! directory it makes a small one with the two bad inputs.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use transparent_future::process::{self, ProcessPool};
use transparent_future::{Deadline, Lazy, Outcome, WaitError};

/// A deliberately fragile parser: sums the numbers of a file. Some inputs make it hang
/// (a directive that "waits for more input" forever) or abort (a corrupt header it
/// "cannot recover from"); bad numbers make it panic.
fn parse(text: String) -> u64 {
    if text.starts_with("#include self") {
        loop {
            std::thread::sleep(Duration::from_millis(10)); // waits for itself forever
        }
    }
    if text.starts_with("\u{0}\u{0}") {
        std::process::abort(); // "corrupt header": the C library under us gives up
    }
    text.split_whitespace()
        .map(|w| {
            w.parse::<u64>()
                .unwrap_or_else(|e| panic!("bad number {w:?}: {e}"))
        })
        .sum()
}

fn sample_dir() -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("isolate-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    for (name, text) in [
        ("a.txt", "1 2 3"),
        ("b.txt", "40 2"),
        ("hang.txt", "#include self"),
        ("crash.txt", "\u{0}\u{0}header"),
        ("bad.txt", "7 eight 9"),
    ] {
        std::fs::write(dir.join(name), text)?;
    }
    Ok(dir)
}

fn main() -> std::io::Result<()> {
    process::init(); // first line: a worker process serves tasks here and never returns

    let (dir, made) = match std::env::args_os().nth(1) {
        Some(dir) => (PathBuf::from(dir), false),
        None => (sample_dir()?, true),
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();

    let t0 = Instant::now();
    let pool = ProcessPool::new(2);
    let parsed: Vec<(PathBuf, Lazy<Outcome<u64>>)> = files
        .into_iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(&path).ok()?;
            let future = pool.spawn_lazy_with(Deadline::after(Duration::from_secs(1)), text, parse);
            Some((path, future))
        })
        .collect();

    let (mut ok, mut timeouts, mut crashes, mut panics) = (0, 0, 0, 0);
    for (path, future) in &parsed {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        match Lazy::try_wait(future) {
            Ok(Outcome::Ready(sum)) => {
                ok += 1;
                println!("{name:>10}: sum {sum}");
            }
            Ok(Outcome::Timeout) => {
                timeouts += 1;
                println!("{name:>10}: timed out; its worker was killed and replaced");
            }
            Err(WaitError::ProcessDied(died)) => {
                crashes += 1;
                println!("{name:>10}: crashed: {died}");
            }
            Err(WaitError::Panicked(panic)) => {
                panics += 1;
                println!("{name:>10}: parser panicked: {}", panic.message());
            }
            Err(other) => println!("{name:>10}: {other}"),
        }
    }
    println!(
        "{ok} parsed, {timeouts} timed out, {crashes} crashed, {panics} panicked, in {:.2?}",
        t0.elapsed()
    );
    drop(pool); // ends the workers: no process is left behind
    if made {
        std::fs::remove_dir_all(dir)?;
    }
    Ok(())
}
