//! The seed's "Example Usage" (pybackground, 2008) as a Rust program: run it first.
//!
//! ```text
//! cargo run --release --example background
//! ```
//!
//! Every slow call sleeps for `SLOW` (the seed slept five seconds; we sleep one), so
//! three calls that finish in the time of one show that they ran at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use transparent_future::{Deadline, Lazy, Outcome, spawn_lazy, spawn_lazy_with};

const SLOW: Duration = Duration::from_millis(1000);

/// Something slow, like downloading a web page.
fn very_slow_task<T>(arg: T) -> T {
    std::thread::sleep(SLOW);
    arg
}

/// A shared object whose method is slow.
struct SomeClass {
    greeting: String,
}

impl SomeClass {
    fn method(&self, arg: u32) -> String {
        std::thread::sleep(SLOW);
        format!("{} {arg}", self.greeting)
    }
}

/// The decorator form, written as a closure: every call runs in the background.
fn background<A, T, F>(f: F) -> impl Fn(A) -> Lazy<T>
where
    F: Fn(A) -> T + Send + Sync + 'static,
    A: Send + 'static,
    T: Send + 'static,
{
    let f = Arc::new(f);
    move |arg| {
        let f = Arc::clone(&f);
        spawn_lazy(move || f(arg))
    }
}

fn main() {
    // No timeouts: three slow calls finish in the time of one.
    let t0 = Instant::now();
    let x = spawn_lazy(|| very_slow_task(1));
    let y = spawn_lazy(|| very_slow_task(2));
    let z = spawn_lazy(|| very_slow_task(3));
    println!("{z} {y} {x}"); // blocks until all three are there: 3 2 1
    println!("  elapsed {:.2?} (each call takes {SLOW:?})", t0.elapsed());

    // The values are used as if they were plain numbers.
    let total = x + *y + 1;
    println!("x + y + 1 = {total}");

    // Methods on a shared object.
    let t0 = Instant::now();
    let obj = Arc::new(SomeClass {
        greeting: "hello".to_string(),
    });
    let calls: Vec<Lazy<String>> = (1..=3)
        .map(|i| {
            let obj = Arc::clone(&obj);
            spawn_lazy(move || obj.method(i))
        })
        .collect();
    println!("{} / {} / {}", calls[2], calls[1], calls[0]);
    println!("  elapsed {:.2?}", t0.elapsed());

    // The decorator form, written as a closure.
    let t0 = Instant::now();
    let slow = background(very_slow_task::<u32>);
    let (x, y, z) = (slow(1), slow(2), slow(3));
    println!("{z} {y} {x}");
    println!("  elapsed {:.2?}", t0.elapsed());

    // Timeouts: the first call gives up after a fifth of the task, the second waits.
    let t0 = Instant::now();
    let x = spawn_lazy_with(Deadline::after(SLOW / 5), || very_slow_task("foobar1"));
    let y = spawn_lazy_with(Deadline::after(SLOW * 6 / 5), || very_slow_task("foobar2"));
    println!("x == Timeout: {}", x == Outcome::Timeout);
    println!(
        "  elapsed {:.2?} (released at the deadline, not when the task ended)",
        t0.elapsed()
    );
    println!("{x} {y}"); // Timeout foobar2
    println!("  elapsed {:.2?}", t0.elapsed());
}
