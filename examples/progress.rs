//! A progress display driven by `as_completed` over real work.
//!
//! ```text
//! cargo run --release --example progress
//! ```
//!
//! Counts the primes below two million in forty chunks on a `ThreadPool`, and redraws
//! a progress bar each time a chunk finishes, in completion order. A second run
//! gives the same work a deadline for the whole iteration and reports how many
//! chunks were left unfinished.

use std::io::Write;
use std::time::{Duration, Instant};

use transparent_future::{Lazy, ThreadPool, as_completed};

const LIMIT: u64 = 2_000_000;
const CHUNKS: u64 = 40;

fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    let mut d = 2;
    while d * d <= n {
        if n % d == 0 {
            return false;
        }
        d += 1;
    }
    true
}

/// The primes in one chunk of `0..LIMIT`.
fn count_chunk(i: u64) -> u64 {
    let size = LIMIT / CHUNKS;
    (i * size..(i + 1) * size).filter(|&n| is_prime(n)).count() as u64
}

fn draw(done: usize, total: usize, primes: u64, started: Instant) {
    let width = 40;
    let filled = done * width / total;
    print!(
        "\r[{}{}] {done:>2}/{total} chunks, {primes:>6} primes, {:>5.1?}",
        "#".repeat(filled),
        " ".repeat(width - filled),
        started.elapsed()
    );
    let _ = std::io::stdout().flush();
}

fn main() {
    let pool = ThreadPool::default();
    let started = Instant::now();
    let chunks: Vec<Lazy<u64>> = (0..CHUNKS)
        .map(|i| pool.spawn_lazy(move || count_chunk(i)))
        .collect();
    let total = chunks.len();
    let mut primes = 0;
    draw(0, total, primes, started);
    for (done, (_, chunk)) in as_completed(chunks).enumerate() {
        primes += *chunk; // decided: reading it does not block
        draw(done + 1, total, primes, started);
    }
    println!("\n{primes} primes below {LIMIT}");

    // The same work under a deadline for the whole iteration.
    let started = Instant::now();
    let chunks: Vec<Lazy<u64>> = (0..CHUNKS)
        .map(|i| pool.spawn_lazy(move || count_chunk(i)))
        .collect();
    let mut it = as_completed(chunks).timeout(Duration::from_millis(100));
    let mut done = 0;
    let mut partial = 0;
    for (_, chunk) in it.by_ref() {
        partial += *chunk;
        done += 1;
        draw(done, total, partial, started);
    }
    println!();
    if it.timed_out() {
        println!(
            "stopped at the deadline: {} chunks unfinished, {partial} primes counted so far",
            it.unfinished()
        );
    } else {
        println!("all chunks finished within the deadline: {partial} primes");
    }
}
