//! Spawning a trivial task and reading it once (the `spawn_first_access` group of
//! `lazy.rs`) again, measured so that machine noise hits both sides alike: batches of
//! `spawn_lazy` + first access and of `std::thread::spawn` + `join` (and of a detached
//! thread + channel) alternate, and the ratio is taken per round, then the median over
//! rounds. Criterion runs one side for seconds, then the other, so a burst of load from
//! other processes lands on one side only; on a small shared machine that moves the
//! ratio by ±20%. Run with
//! `cargo bench -p transparent-future-benches --bench spawn_interleaved` (about 3 s).

use std::hint::black_box;
use std::thread;
use std::time::Instant;

use transparent_future::spawn_lazy;

/// Spawns per batch.
const BATCH: u32 = 100;
/// Rounds measured, after `WARM_UP` rounds that are not.
const ROUNDS: usize = 40;
const WARM_UP: usize = 3;

/// Mean time per spawn of one batch of `f`, in microseconds.
fn batch(f: impl Fn() -> u64) -> f64 {
    let start = Instant::now();
    for _ in 0..BATCH {
        black_box(f());
    }
    start.elapsed().as_secs_f64() * 1e6 / f64::from(BATCH)
}

/// The `q` quantile of `v` (nearest rank).
fn quantile(v: &[f64], q: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * q).round() as usize]
}

fn median(v: &[f64]) -> f64 {
    quantile(v, 0.5)
}

fn main() {
    // `cargo bench -- --list` lists every bench target's benchmarks: list, don't run.
    if std::env::args().any(|a| a == "--list") {
        println!("spawn_interleaved: benchmark");
        return;
    }
    let lazy = || *spawn_lazy(|| black_box(1u64));
    let join = || thread::spawn(|| black_box(1u64)).join().unwrap();
    let channel = || {
        let (tx, rx) = crossbeam_channel::bounded(1);
        thread::spawn(move || tx.send(black_box(1u64)).unwrap());
        rx.recv().unwrap()
    };

    let (mut t_lazy, mut t_join, mut t_channel) = (vec![], vec![], vec![]);
    let (mut r_join, mut r_channel) = (vec![], vec![]);
    for round in 0..WARM_UP + ROUNDS {
        let (a, b, c) = (batch(lazy), batch(join), batch(channel));
        if round >= WARM_UP {
            t_lazy.push(a);
            t_join.push(b);
            t_channel.push(c);
            r_join.push(a / b);
            r_channel.push(a / c);
        }
    }
    println!(
        "spawn + first access, interleaved ({ROUNDS} rounds of {BATCH} spawns each; \
         median [p10 p90] over rounds):"
    );
    for (name, v) in [
        ("spawn_lazy + *x (us)", &t_lazy),
        ("std::thread::spawn + join (us)", &t_join),
        ("std::thread::spawn + channel (us)", &t_channel),
        ("ratio spawn_lazy / spawn+join", &r_join),
        ("ratio spawn_lazy / spawn+channel", &r_channel),
    ] {
        println!(
            "  {name:34} {:8.3} [{:.3} {:.3}]",
            median(v),
            quantile(v, 0.1),
            quantile(v, 0.9)
        );
    }
}
