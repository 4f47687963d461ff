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

use transparent_future::{Deadline, Lazy, Outcome, background, spawn_lazy, spawn_lazy_with};

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

/// A class whose method is decorated: every call runs in the background.
struct SomeOtherClass;

impl SomeOtherClass {
    background! {
        fn method(self: Arc<Self>, arg: u32) -> u32 {
            std::thread::sleep(SLOW);
            arg
        }
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

    // The decorator form, written as a closure: background(f)(arg).
    let t0 = Instant::now();
    let slow = background(very_slow_task::<u32>);
    let (x, y, z) = (slow(1), slow(2), slow(3));
    println!("{z} {y} {x}");
    println!("  elapsed {:.2?}", t0.elapsed());

    // A decorated method (the seed's SomeOtherClass).
    let t0 = Instant::now();
    let my_other_object = Arc::new(SomeOtherClass);
    let x = my_other_object.clone().method(1);
    let y = my_other_object.clone().method(2);
    let z = my_other_object.method(3);
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
