//! The soak: a million futures (20,000 with `--quick`) across the executors, with
//! timeouts, panics, cancellations, chains and drops mixed in, checking every outcome
//! and every drop as it goes, then checking that memory and threads come back.
//!
//! ```text
//! cargo run --release --example soak                      # full: 1,000,000 futures
//! cargo run --release --example soak -- --quick           # CI: 20,000 futures
//! cargo run --release --features rayon --example soak     # rayon's global pool too
//! cargo build --release --example soak && valgrind --tool=memcheck --leak-check=full \
//!     --errors-for-leak-kinds=definite --error-exitcode=1 target/release/examples/soak --quick
//! ```
//!
//! (Without `--errors-for-leak-kinds=definite`, memcheck also counts two "possibly
//! lost" blocks as errors: std's main-thread handle and the deadlock registry's hash
//! table, both reachable only through interior pointers; see `docs/reliability.md`.)
//!
//! Options: `--quick`, `--futures N`, `--batch N` (futures alive at once), `--seed N`.
//!
//! Futures run on a `ThreadPool` of 2 workers (most), on thread-per-task (2%: a thread
//! is slow to start), and on rayon's global pool with `--features rayon` (a third).
//! Each is one of: a plain value; a value under a generous or a tight deadline (with
//! the late value collected with `Lazy::take_late` for a quarter of the timeouts); a
//! panicking task (read with `*x` or `Lazy::join`); a cancellable task looping until
//! `Lazy::cancel` stops it; a `map_ready` under a tight deadline, a `map`, a `then` or
//! an `all`; or a future dropped before anyone reads it. Every value is a `Tracked`
//! counted by a global ledger; a few are shared (`SharedLazy`) and read by two threads.
//! Batches of 25,000 futures (2,000 with `--quick`) are alive at once, read by two
//! reader threads; half the batches are read in reverse order.
//!
//! Checked, exiting non-zero on any violation:
//!
//! * values: each read gives the value its task computed; a panic's message (or
//!   `join`'s payload) is the task's; a cancelled loop returns what it returned;
//! * deadlines: `Timeout` is never seen before the deadline, a `Ready` value was made
//!   no later than it, and a late value arrives, once, with the right value;
//! * drops: after each batch, once its tasks are done, every value made has been
//!   dropped exactly once (`created == dropped`, never `dropped > created`);
//! * memory: VmRSS after everything is dropped is within `RSS_TOLERANCE_MIB` (16 MiB)
//!   of VmRSS after the warm-up batch, the baseline (the allocator keeps some freed
//!   memory in its per-thread arenas; a leak of 24 bytes per future in the full run
//!   exceeds it), and in runs of 200,000 futures or more VmRSS grows by
//!   at most `HALF_GROWTH_TOLERANCE_MIB` (4 MiB) over the second half of the run (a
//!   leak grows with the count). VmHWM reports the peak. Under valgrind (detected by
//!   its `LD_PRELOAD`) VmRSS is valgrind's own, so these checks are skipped there.
//! * threads: the process's thread count (`/proc/self/status`) returns to the
//!   baseline taken before the run (rayon's global pool is started before it: it is
//!   long-lived by design; the crate's timer thread exits a second after its last
//!   deadline and is waited for), and no thread-per-task thread is left.
//!
//! The expected panics are silenced by a panic hook that only counts them.

use std::io::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed, Ordering::SeqCst};
use std::thread;
use std::time::{Duration, Instant};

use transparent_future::executor::{Executor, ThreadPerTask};
use transparent_future::{Builder, CancelToken, Deadline, Lazy, Outcome, SharedLazy, ThreadPool};

/// Spawns on any executor, panicking on refusal (none of the soak's executors refuses).
fn spawn_on<T, F>(exec: &dyn Executor, f: F) -> Lazy<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    Builder::new()
        .on(&exec)
        .spawn(f)
        .expect("the executor accepted the task")
}

/// `spawn_on` under a timeout policy.
fn spawn_with_on<T, F>(exec: &dyn Executor, policy: Deadline, f: F) -> Lazy<Outcome<T>>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    Builder::new()
        .on(&exec)
        .timeout(policy)
        .spawn(f)
        .expect("the executor accepted the task")
}

/// `spawn_on` for a cancellable task.
fn spawn_cancellable_on<T, F>(exec: &dyn Executor, f: F) -> Lazy<T>
where
    T: Send + 'static,
    F: FnOnce(CancelToken) -> T + Send + 'static,
{
    Builder::new()
        .on(&exec)
        .spawn_cancellable(f)
        .expect("the executor accepted the task")
}

/// How far VmRSS may stay above the baseline once everything is dropped.
const RSS_TOLERANCE_MIB: u64 = 16;
/// How much VmRSS may grow over the second half of a run of 200,000 futures or more
/// (8 bytes leaked per future over 500,000 futures would be 4 MB).
const HALF_GROWTH_TOLERANCE_MIB: u64 = 4;

/// Under valgrind, VmRSS is valgrind's (shadow memory and all) and says nothing about
/// ours; its leak check stands in for the memory checks.
fn under_valgrind() -> bool {
    std::env::var("LD_PRELOAD").is_ok_and(|p| p.contains("vgpreload"))
}

// ---------------------------------------------------------------------------------
// The ledger: every value made and dropped.
// ---------------------------------------------------------------------------------

static CREATED: AtomicU64 = AtomicU64::new(0);
static DROPPED: AtomicU64 = AtomicU64::new(0);
/// Panics raised (expected ones included), counted by the hook.
static PANICS: AtomicU64 = AtomicU64::new(0);
static UNEXPECTED_PANICS: AtomicU64 = AtomicU64::new(0);

/// A value that counts itself, and remembers when it was made (just before its task
/// returned it).
struct Tracked {
    v: u64,
    made: Instant,
}

impl Tracked {
    fn new(v: u64) -> Tracked {
        CREATED.fetch_add(1, Relaxed);
        Tracked {
            v,
            made: Instant::now(),
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        DROPPED.fetch_add(1, Relaxed);
    }
}

fn silence_expected_panics() {
    std::panic::set_hook(Box::new(|info| {
        PANICS.fetch_add(1, Relaxed);
        let text = payload_text(info.payload());
        if !text.contains("soak boom") {
            UNEXPECTED_PANICS.fetch_add(1, Relaxed);
            let _ = writeln!(std::io::stderr(), "unexpected panic: {info}");
        }
    }));
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string payload>".to_string()
    }
}

// ---------------------------------------------------------------------------------
// Measurements.
// ---------------------------------------------------------------------------------

/// A field of `/proc/self/status` in its own unit (kB for memory).
fn status(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

fn rss_kib() -> u64 {
    status("VmRSS:")
}

fn hwm_kib() -> u64 {
    status("VmHWM:")
}

fn threads() -> u64 {
    status("Threads:")
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Waits (at most `limit`) for `done`.
fn wait_for(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + limit;
    while !done() {
        if Instant::now() > until {
            return false;
        }
        thread::sleep(Duration::from_millis(1));
    }
    true
}

// ---------------------------------------------------------------------------------
// The mix.
// ---------------------------------------------------------------------------------

/// SplitMix64: a future's choices from its index.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[derive(Default)]
struct Stats {
    futures: u64,
    on_pool: u64,
    on_threads: u64,
    on_rayon: u64,
    values: u64,
    ready: u64,
    timeouts: u64,
    late_collected: u64,
    generous_timeouts: u64,
    panics_read: u64,
    cancelled: u64,
    chains: u64,
    dropped_unread: u64,
    shared_reads: u64,
    violations: Vec<String>,
}

impl Stats {
    fn violation(&mut self, what: String) {
        if self.violations.len() < 50 {
            self.violations.push(what);
        }
    }

    /// Adds a reader's counts (the spawn counts stay with the spawner).
    fn absorb(&mut self, other: Stats) {
        self.values += other.values;
        self.ready += other.ready;
        self.timeouts += other.timeouts;
        self.late_collected += other.late_collected;
        self.generous_timeouts += other.generous_timeouts;
        self.panics_read += other.panics_read;
        self.cancelled += other.cancelled;
        self.shared_reads += other.shared_reads;
        for v in other.violations {
            self.violation(v);
        }
    }
}

/// A future waiting to be checked.
enum Pending {
    Value {
        x: Lazy<Tracked>,
        want: u64,
        how: u64,
    },
    Timed {
        x: Lazy<Outcome<Tracked>>,
        want: u64,
        lo: Instant,
        hi: Instant,
        generous: bool,
        collect_late: bool,
    },
    Panic {
        x: Lazy<Tracked>,
        message: String,
        join: bool,
    },
    Cancelled {
        x: Lazy<Tracked>,
        want: u64,
    },
    All {
        x: Lazy<Vec<Tracked>>,
        want: Vec<u64>,
    },
    /// Read by both reader threads at once.
    Shared {
        x: SharedLazy<Tracked>,
        want: u64,
    },
}

/// The executors of a run, and which one a future goes to.
struct Executors {
    pool: ThreadPool,
    rayon_share: u64,
}

impl Executors {
    /// Pool, thread-per-task or rayon, by a number in 0..100.
    fn pick(&self, r: u64, stats: &mut Stats) -> &dyn Executor {
        if r < 2 {
            stats.on_threads += 1;
            return &ThreadPerTask;
        }
        if r < 2 + self.rayon_share {
            stats.on_rayon += 1;
            #[cfg(feature = "rayon")]
            return &transparent_future::executor::RayonGlobal;
        }
        stats.on_pool += 1;
        &self.pool
    }
}

/// A short task: spins (or sleeps) for `us` microseconds, then returns `v`.
fn work(v: u64, us: u64) -> Tracked {
    if us > 0 {
        let until = Instant::now() + Duration::from_micros(us);
        if us > 100 {
            thread::sleep(Duration::from_micros(us));
        }
        while Instant::now() < until {
            std::hint::spin_loop();
        }
    }
    Tracked::new(v)
}

/// Spawns future number `i`.
fn spawn_one(i: u64, seed: u64, ex: &Executors, stats: &mut Stats) -> Option<Pending> {
    let r = mix(i ^ seed);
    let kind = r % 100;
    let exec = ex.pick((r >> 8) % 100, stats);
    let v = r >> 16;
    stats.futures += 1;
    Some(match kind {
        // A plain value.
        0..=39 => {
            let us = (r >> 40) % 4;
            Pending::Value {
                x: spawn_on(exec, move || work(v, us)),
                want: v,
                how: (r >> 50) % 4,
            }
        }
        // A generous deadline (a timeout here is legal but unexpected), or a tight one
        // (a few hundred microseconds, for a task of about as long).
        40..=59 => {
            let generous = kind < 48;
            let d = if generous {
                Duration::from_secs(10)
            } else {
                Duration::from_micros((r >> 40) % 300)
            };
            let us = if generous { 0 } else { (r >> 48) % 300 };
            let before = Instant::now();
            let x = spawn_with_on(exec, Deadline::after(d), move || work(v, us));
            let after = Instant::now();
            Pending::Timed {
                x,
                want: v,
                lo: before + d,
                hi: after + d,
                generous,
                collect_late: (r >> 58) % 4 == 0,
            }
        }
        // A panic.
        60..=67 => {
            let message = format!("soak boom {i}");
            let m = message.clone();
            Pending::Panic {
                x: spawn_on(exec, move || -> Tracked { panic!("{m}") }),
                message,
                join: (r >> 40) % 2 == 0,
            }
        }
        // A cancellable loop, cancelled at once; it returns its value once it sees
        // the request (bounded, so a lost request fails instead of hanging).
        68..=73 => {
            let x = spawn_cancellable_on(exec, move |token: CancelToken| {
                let until = Instant::now() + Duration::from_secs(10);
                while !token.is_cancelled() && Instant::now() < until {
                    thread::yield_now();
                }
                Tracked::new(if token.is_cancelled() { v } else { !v })
            });
            Lazy::cancel(&x);
            Pending::Cancelled { x, want: v }
        }
        // A map_ready under a tight deadline (the timer decides watched deadlines), a
        // map, a then, or an all.
        74..=77 => {
            stats.chains += 1;
            let d = Duration::from_micros((r >> 40) % 300);
            let us = (r >> 48) % 300;
            let before = Instant::now();
            let up = spawn_with_on(exec, Deadline::after(d), move || work(v, us));
            let after = Instant::now();
            Pending::Timed {
                x: Lazy::map_ready(up, |t| Tracked::new(t.v.wrapping_mul(5))),
                want: v.wrapping_mul(5),
                lo: before + d,
                hi: after + d,
                generous: false,
                // `take_late` after a timed-out upstream is a known bug
                // (tests/reliability_bugs.rs).
                collect_late: false,
            }
        }
        78..=81 => {
            stats.chains += 1;
            let up = spawn_on(exec, move || work(v, 0));
            Pending::Value {
                x: Lazy::map(up, |t| Tracked::new(t.v.wrapping_mul(3))),
                want: v.wrapping_mul(3),
                how: 0,
            }
        }
        82..=85 => {
            stats.chains += 1;
            let up = spawn_on(exec, move || work(v, 0));
            let pool = ex.pool.clone();
            Pending::Value {
                x: Lazy::then(up, move |t| {
                    let w = t.v ^ 1;
                    pool.spawn_lazy(move || Tracked::new(w))
                }),
                want: v ^ 1,
                how: 1,
            }
        }
        86..=87 => Pending::Shared {
            x: Lazy::share(spawn_on(exec, move || work(v, (r >> 40) % 20))),
            want: v,
        },
        88..=89 => {
            stats.chains += 1;
            let parts: Vec<Lazy<Tracked>> = (0..3)
                .map(|k| spawn_on(exec, move || work(v.wrapping_add(k), 0)))
                .collect();
            Pending::All {
                x: Lazy::all(parts),
                want: (0..3).map(|k| v.wrapping_add(k)).collect(),
            }
        }
        // Dropped before anyone reads it: sometimes pending, sometimes a late one.
        _ => {
            stats.dropped_unread += 1;
            if kind % 2 == 0 {
                drop(spawn_on(exec, move || work(v, (r >> 40) % 50)));
            } else {
                drop(spawn_with_on(
                    exec,
                    Deadline::after(Duration::ZERO),
                    move || work(v, 10),
                ));
            }
            return None;
        }
    })
}

/// Reads and checks one future (dropping it, unless it waits for a late value).
fn check(p: Pending, stats: &mut Stats, late: &mut Vec<(Lazy<Outcome<Tracked>>, u64)>) {
    match p {
        Pending::Value { x, want, how } => {
            let got = match how {
                0 => x.v,
                1 => Lazy::into_inner(x).v,
                2 => match Lazy::try_wait(&x) {
                    Ok(t) => t.v,
                    Err(e) => {
                        stats.violation(format!("try_wait failed: {e}"));
                        return;
                    }
                },
                _ => match Lazy::join(x) {
                    Ok(t) => t.v,
                    Err(p) => {
                        stats.violation(format!("join: a panic {}", payload_text(p.as_ref())));
                        return;
                    }
                },
            };
            stats.values += 1;
            if got != want {
                stats.violation(format!("value {got}, expected {want}"));
            }
        }
        Pending::Timed {
            x,
            want,
            lo,
            hi,
            generous,
            collect_late,
        } => {
            let outcome: &Outcome<Tracked> = &x;
            let released_at = Instant::now();
            match outcome {
                Outcome::Ready(t) => {
                    stats.ready += 1;
                    if t.v != want {
                        stats.violation(format!("Ready({}), expected {want}", t.v));
                    }
                    if t.made > hi {
                        stats.violation(format!(
                            "Ready though the value was made {:?} after the deadline",
                            t.made - hi
                        ));
                    }
                }
                Outcome::Timeout => {
                    stats.timeouts += 1;
                    if generous {
                        stats.generous_timeouts += 1;
                    }
                    if released_at < lo {
                        stats.violation(format!(
                            "Timeout seen {:?} before the deadline",
                            lo - released_at
                        ));
                    }
                    if collect_late {
                        late.push((x, want));
                    }
                }
            }
        }
        Pending::Panic { x, message, join } => {
            stats.panics_read += 1;
            let got = if join {
                match Lazy::join(x) {
                    Ok(_) => None,
                    Err(p) => Some(payload_text(p.as_ref())),
                }
            } else {
                catch_unwind(AssertUnwindSafe(|| x.v))
                    .err()
                    .map(|p| payload_text(p.as_ref()))
            };
            match got {
                Some(text) if join && text == message => {}
                Some(text) if !join && text.contains(&message) => {}
                other => stats.violation(format!("expected the panic {message:?}, got {other:?}")),
            }
        }
        Pending::Cancelled { x, want } => {
            stats.cancelled += 1;
            if x.v != want {
                stats.violation("a cancelled loop never saw its cancellation".to_string());
            }
        }
        Pending::Shared { x, want } => {
            stats.shared_reads += 1;
            if x.v != want {
                stats.violation(format!("shared value {}, expected {want}", x.v));
            }
        }
        Pending::All { x, want } => {
            stats.values += 1;
            let got: Vec<u64> = x.iter().map(|t| t.v).collect();
            if got != want {
                stats.violation(format!("all gave {got:?}, expected {want:?}"));
            }
        }
    }
}

/// Collects the late values of timed-out futures: each arrives once, with its value.
fn collect_late(late: Vec<(Lazy<Outcome<Tracked>>, u64)>, stats: &mut Stats) {
    for (x, want) in late {
        let mut got = None;
        let arrived = wait_for(Duration::from_secs(10), || {
            got = Lazy::take_late(&x);
            got.is_some()
        });
        match got {
            Some(Ok(t)) if t.v == want => stats.late_collected += 1,
            Some(Ok(t)) => stats.violation(format!("late value {}, expected {want}", t.v)),
            Some(Err(p)) => {
                stats.violation(format!("late panic {}", payload_text(p.as_ref())));
            }
            None if !arrived => stats.violation("a late value never arrived".to_string()),
            None => {}
        }
        if Lazy::take_late(&x).is_some() {
            stats.violation("a late value was taken twice".to_string());
        }
    }
}

/// One batch: spawn, read and check, drop; then the ledger must balance.
fn batch(range: std::ops::Range<u64>, seed: u64, ex: &Executors, stats: &mut Stats) {
    let pending: Vec<Pending> = range
        .filter_map(|i| spawn_one(i, seed, ex, stats))
        .collect();
    // Two reader threads (this one and another) share the batch; a shared future goes
    // to both. Half the batches are read in reverse order, so readers also wait on
    // queued work.
    let (mut mine, mut theirs) = (Vec::new(), Vec::new());
    for (k, p) in pending.into_iter().enumerate() {
        if let Pending::Shared { x, want } = &p {
            theirs.push(Pending::Shared {
                x: x.clone(),
                want: *want,
            });
            mine.push(p);
        } else if k % 2 == 0 {
            mine.push(p);
        } else {
            theirs.push(p);
        }
    }
    if seed & 1 == 1 {
        mine.reverse();
        theirs.reverse();
    }
    let read = |list: Vec<Pending>| {
        let mut stats = Stats::default();
        let mut late = Vec::new();
        for p in list {
            check(p, &mut stats, &mut late);
        }
        (stats, late)
    };
    let ((my_stats, mut late), (their_stats, their_late)) = thread::scope(|s| {
        let other = s.spawn(|| read(theirs));
        let mine = read(mine);
        (
            mine,
            other.join().expect("the second reader does not panic"),
        )
    });
    stats.absorb(my_stats);
    stats.absorb(their_stats);
    late.extend(their_late);
    collect_late(late, stats);
    let balanced = wait_for(Duration::from_secs(20), || {
        CREATED.load(SeqCst) == DROPPED.load(SeqCst)
    });
    let (created, dropped) = (CREATED.load(SeqCst), DROPPED.load(SeqCst));
    if dropped > created {
        stats.violation(format!("{dropped} values dropped but only {created} made"));
    } else if !balanced {
        stats.violation(format!(
            "{} values never dropped 20 s after their batch ({created} made)",
            created - dropped
        ));
    }
}

// ---------------------------------------------------------------------------------
// The run.
// ---------------------------------------------------------------------------------

struct Options {
    futures: u64,
    batch: u64,
    seed: u64,
    quick: bool,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        futures: 1_000_000,
        batch: 25_000,
        seed: 0x50A4,
        quick: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            args.next()
                .and_then(|v| v.replace('_', "").parse().ok())
                .ok_or(format!("{name} needs a number"))
        };
        match a.as_str() {
            "--quick" => {
                o.quick = true;
                o.futures = 20_000;
                o.batch = 2_000;
            }
            "--futures" => o.futures = number("--futures")?,
            "--batch" => o.batch = number("--batch")?.max(1),
            "--seed" => o.seed = number("--seed")?,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(o)
}

fn main() -> ExitCode {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("soak: {e}\nusage: soak [--quick] [--futures N] [--batch N] [--seed N]");
            return ExitCode::from(2);
        }
    };
    silence_expected_panics();
    let t0 = Instant::now();

    // rayon's global pool lives as long as the process: start it before the baseline.
    #[cfg(feature = "rayon")]
    let rayon_share = {
        use std::sync::Arc;
        use std::sync::atomic::AtomicBool;
        let started = Arc::new(AtomicBool::new(false));
        let s = Arc::clone(&started);
        rayon::spawn(move || s.store(true, SeqCst));
        wait_for(Duration::from_secs(10), || started.load(SeqCst));
        33
    };
    #[cfg(not(feature = "rayon"))]
    let rayon_share = 0;
    let threads_baseline = threads();
    let rss_start = rss_kib();

    let ex = Executors {
        pool: ThreadPool::new(2),
        rayon_share,
    };
    let mut stats = Stats::default();
    // A warm-up batch: the allocator's arenas and the timer are set up, so the
    // baseline for the return of memory is taken with them.
    let warmup = o.batch.min(o.futures);
    batch(0..warmup, o.seed, &ex, &mut stats);
    let rss_baseline = rss_kib();
    println!(
        "soak: {} futures in batches of {} (seed {:#x}); executors: pool(2), \
         thread-per-task 2%{}",
        o.futures,
        o.batch,
        o.seed,
        if rayon_share > 0 { ", rayon 33%" } else { "" }
    );
    println!(
        "start: VmRSS {:.1} MiB, threads {threads_baseline}; after warm-up: VmRSS {:.1} MiB",
        mib(rss_start),
        mib(rss_baseline)
    );

    let mut next = warmup;
    let mut rss_max_sampled = rss_baseline;
    let report_every = (o.futures / 10).max(o.batch);
    let mut next_report = report_every;
    let mut k = 0u64;
    // VmRSS at the first batch past half the run, and at the end of the run: a leak
    // grows with the count of futures, so the second half must not grow.
    let mut rss_half = None;
    let mut rss_last = rss_baseline;
    while next < o.futures {
        let end = (next + o.batch).min(o.futures);
        batch(next..end, o.seed.wrapping_add(k), &ex, &mut stats);
        k += 1;
        next = end;
        let rss = rss_kib();
        rss_max_sampled = rss_max_sampled.max(rss);
        rss_last = rss;
        if rss_half.is_none() && next >= o.futures / 2 {
            rss_half = Some(rss);
        }
        if next >= next_report || next == o.futures {
            next_report += report_every;
            println!(
                "  {next:>9} futures  {:>6.1} s  VmRSS {:>6.1} MiB  VmHWM {:>6.1} MiB  threads {}",
                t0.elapsed().as_secs_f64(),
                mib(rss),
                mib(hwm_kib()),
                threads()
            );
        }
        if stats.violations.len() >= 50 {
            break;
        }
    }
    let elapsed = t0.elapsed();

    // Everything dropped: the pool joins its workers; the timer thread exits a second
    // after its last deadline; rayon's threads stay (counted in the baseline).
    drop(ex);
    let threads_back = wait_for(Duration::from_secs(10), || {
        threads() <= threads_baseline && ThreadPerTask::live_threads() == 0
    });
    let rss_end = rss_kib();
    let hwm = hwm_kib();
    let (created, dropped) = (CREATED.load(SeqCst), DROPPED.load(SeqCst));

    println!(
        "futures {} (pool {}, thread-per-task {}, rayon {}) in {:.1} s",
        stats.futures,
        stats.on_pool,
        stats.on_threads,
        stats.on_rayon,
        elapsed.as_secs_f64()
    );
    println!(
        "  values read {}  Ready {}  Timeout {} (of generous deadlines: {})  late collected {}",
        stats.values, stats.ready, stats.timeouts, stats.generous_timeouts, stats.late_collected
    );
    println!(
        "  shared reads {}  panics read {}  cancelled {}  chains {}  dropped unread {}  \
         panics raised {}",
        stats.shared_reads,
        stats.panics_read,
        stats.cancelled,
        stats.chains,
        stats.dropped_unread,
        PANICS.load(SeqCst)
    );
    println!("  values made {created}, dropped {dropped}");
    println!(
        "memory: VmRSS start {:.1} MiB, baseline (after warm-up) {:.1} MiB, peak VmHWM {:.1} MiB \
         (max sampled VmRSS {:.1} MiB), after everything dropped {:.1} MiB \
         ({:+.1} MiB vs baseline, tolerance {RSS_TOLERANCE_MIB} MiB)",
        mib(rss_start),
        mib(rss_baseline),
        mib(hwm),
        mib(rss_max_sampled),
        mib(rss_end),
        mib(rss_end) - mib(rss_baseline)
    );
    let half_checked = o.futures >= 200_000 && !under_valgrind();
    if let Some(half) = rss_half {
        println!(
            "  second half of the run: VmRSS {:.1} MiB -> {:.1} MiB ({:+.1} MiB, tolerance \
             {HALF_GROWTH_TOLERANCE_MIB} MiB{})",
            mib(half),
            mib(rss_last),
            mib(rss_last) - mib(half),
            if half_checked {
                ""
            } else {
                ", not checked below 200,000 futures"
            }
        );
    }
    println!(
        "threads: baseline {threads_baseline}, after {} (thread-per-task live {})",
        threads(),
        ThreadPerTask::live_threads()
    );

    let mut failures = stats.violations;
    if created != dropped {
        failures.push(format!("{created} values made, {dropped} dropped"));
    }
    if let Some(half) = rss_half.filter(|_| half_checked) {
        if rss_last > half + HALF_GROWTH_TOLERANCE_MIB * 1024 {
            failures.push(format!(
                "VmRSS grew from {:.1} MiB to {:.1} MiB over the second half of the run",
                mib(half),
                mib(rss_last)
            ));
        }
    }
    if under_valgrind() {
        println!("(under valgrind: the VmRSS check is skipped; valgrind's leak check applies)");
    } else if rss_end > rss_baseline + RSS_TOLERANCE_MIB * 1024 {
        failures.push(format!(
            "VmRSS {:.1} MiB after everything was dropped, more than {RSS_TOLERANCE_MIB} MiB \
             above the baseline {:.1} MiB",
            mib(rss_end),
            mib(rss_baseline)
        ));
    }
    if !threads_back {
        failures.push(format!(
            "{} threads 10 s after the end, baseline {threads_baseline}",
            threads()
        ));
    }
    let unexpected = UNEXPECTED_PANICS.load(SeqCst);
    if unexpected > 0 {
        failures.push(format!("{unexpected} unexpected panics"));
    }
    if failures.is_empty() {
        println!("soak: OK");
        ExitCode::SUCCESS
    } else {
        for f in &failures {
            println!("VIOLATION: {f}");
        }
        println!("soak: FAILED ({} violations)", failures.len());
        ExitCode::FAILURE
    }
}
