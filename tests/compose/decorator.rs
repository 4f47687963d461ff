//! The decorator form: the `background!` macro and the
//! `background(f)` function.
//!
//! * `background! { fn name(args) -> T { body } }` writes a function returning
//!   `Lazy<T>` that runs its body in the background; attributes (`#[inline]`,
//!   `#[allow(..)]`, `#[cfg(..)]`), doc comments, visibility (`pub`, `pub(crate)` in a
//!   module) and generics (one bound each) are kept;
//! * methods whose receiver can move into the task: `self` on a `Clone` type,
//!   `self: Arc<Self>`, and `fn m = m_now(&self, ..)`;
//! * options `on(executor)` (thread-per-task, `ThreadPool`, rayon) and
//!   `timeout(policy)` (the function then returns `Lazy<Outcome<T>>`), in either order;
//! * `background(f)` wraps a one-argument closure (a tuple for more);
//! * the seed's examples, including "This also works with classes": three calls of a
//!   decorated method that sleeps and returns its argument print "3 2 1" and overlap;
//! * panics reach the reader; values and arguments are dropped exactly once.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, LazyLock};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{Drops, Gate, Tracked, ms, panic_of, within};
use transparent_future::executor::ThreadPerTask;
use transparent_future::{Deadline, Lazy, Outcome, ThreadPool, background};

const LIMIT: Duration = Duration::from_secs(20);

/// One "very slow" call of the seed (5 s there).
const SLOW: Duration = Duration::from_millis(300);

/// Whether three calls of `SLOW` overlapped: well under three times one call.
#[track_caller]
fn assert_overlapped(t0: Instant) {
    let took = t0.elapsed();
    assert!(
        took >= SLOW,
        "returned before the calls finished ({took:?})"
    );
    assert!(
        took < SLOW * 2,
        "the three calls did not overlap ({took:?})"
    );
}

// ---------------------------------------------------------------- the seed

background! {
    /// The seed's `@background def very_slow_task(arg)`.
    fn very_slow_task(arg: u32) -> u32 {
        thread::sleep(SLOW);
        arg
    }
}

#[test]
fn the_seeds_decorated_function_prints_3_2_1_after_one_call_time() {
    within(LIMIT, || {
        let t0 = Instant::now();
        let x = very_slow_task(1);
        let y = very_slow_task(2);
        let z = very_slow_task(3);
        let printed = format!("{z} {y} {x}");
        println!("{printed}");
        assert_eq!(printed, "3 2 1");
        assert_overlapped(t0);
        let _: &Lazy<u32> = &x; // the function returns a Lazy<u32>
        assert_eq!(x + y * z, 7);
    });
}

#[test]
fn the_seeds_background_of_a_function_prints_3_2_1() {
    within(LIMIT, || {
        fn plain_slow(arg: u32) -> u32 {
            thread::sleep(SLOW);
            arg
        }
        let t0 = Instant::now();
        // x = background(very_slow_task)(1)
        let x = background(plain_slow)(1);
        let y = background(plain_slow)(2);
        let z = background(plain_slow)(3);
        assert_eq!(format!("{z} {y} {x}"), "3 2 1");
        assert_overlapped(t0);
    });
}

/// The seed's `SomeClass`: a plain method, wrapped at the call site as
/// `background(my_object.method)`.
#[derive(Clone)]
struct SomeClass {
    calls: Arc<AtomicUsize>,
}

impl SomeClass {
    fn method(&self, arg: u32) -> u32 {
        self.calls.fetch_add(1, SeqCst);
        thread::sleep(SLOW);
        arg
    }
}

/// The seed's `SomeOtherClass`, whose method is decorated, in the three receiver
/// forms the macro accepts.
#[derive(Clone)]
struct SomeOtherClass {
    calls: Arc<AtomicUsize>,
}

impl SomeOtherClass {
    background! {
        /// `@background def method(self, arg)`: called as `my_other_object.method(1)`.
        fn method = method_now(&self, arg: u32) -> u32 {
            self.calls.fetch_add(1, SeqCst);
            thread::sleep(SLOW);
            arg
        }

        /// The same on a shared object.
        fn method_arc(self: Arc<Self>, arg: u32) -> u32 {
            self.calls.fetch_add(1, SeqCst);
            thread::sleep(SLOW);
            arg
        }

        /// The same consuming a clone of the object.
        fn method_owned(self, arg: u32) -> u32 {
            self.calls.fetch_add(1, SeqCst);
            thread::sleep(SLOW);
            arg
        }
    }
}

#[test]
fn the_seeds_class_example_with_a_wrapped_method_prints_3_2_1() {
    within(LIMIT, || {
        let my_object = SomeClass {
            calls: Arc::default(),
        };
        let method = {
            let o = my_object.clone();
            background(move |arg| o.method(arg))
        };
        let t0 = Instant::now();
        let x = method(1);
        let y = method(2);
        let z = method(3);
        let printed = format!("{z} {y} {x}");
        println!("{printed}");
        assert_eq!(printed, "3 2 1");
        assert_overlapped(t0);
        assert_eq!(my_object.calls.load(SeqCst), 3);
    });
}

#[test]
fn the_seeds_class_example_with_a_decorated_method_prints_3_2_1() {
    within(LIMIT, || {
        let my_other_object = SomeOtherClass {
            calls: Arc::default(),
        };
        let t0 = Instant::now();
        let x = my_other_object.method(1);
        let y = my_other_object.method(2);
        let z = my_other_object.method(3);
        let printed = format!("{z} {y} {x}");
        println!("{printed}");
        assert_eq!(printed, "3 2 1");
        assert_overlapped(t0);
        assert_eq!(my_other_object.calls.load(SeqCst), 3);
        // The plain version is there too, and runs here.
        let t0 = Instant::now();
        assert_eq!(my_other_object.method_now(4), 4);
        assert!(t0.elapsed() >= SLOW);
    });
}

#[test]
fn the_seeds_class_example_with_arc_and_owned_receivers_prints_3_2_1() {
    within(LIMIT, || {
        let shared = Arc::new(SomeOtherClass {
            calls: Arc::default(),
        });
        let t0 = Instant::now();
        let x = shared.clone().method_arc(1);
        let y = shared.clone().method_arc(2);
        let z = shared.clone().method_arc(3);
        assert_eq!(format!("{z} {y} {x}"), "3 2 1");
        assert_overlapped(t0);

        let t0 = Instant::now();
        let x = (*shared).clone().method_owned(1);
        let y = (*shared).clone().method_owned(2);
        let z = (*shared).clone().method_owned(3);
        assert_eq!(format!("{z} {y} {x}"), "3 2 1");
        assert_overlapped(t0);
        assert_eq!(shared.calls.load(SeqCst), 6);
    });
}

// ---------------------------------------------------------------- what is kept

background! {
    /// Compiled out: if the macro dropped this `cfg`, the second `twin` below would
    /// be a duplicate definition.
    #[cfg(any())]
    fn twin() -> u8 {
        1
    }
    #[cfg(all())]
    #[inline]
    fn twin() -> u8 {
        2
    }

    /// Never called: without its `allow` this would fail the `-D warnings` build.
    #[allow(dead_code)]
    fn never_called(n: u64) -> u64 {
        n
    }

    #[inline(never)]
    #[allow(clippy::too_many_arguments, clippy::needless_pass_by_value)]
    fn many_args(a: u8, b: u16, c: u32, d: u64, e: i8, f: i16, g: i32, h: String) -> String {
        format!("{a}{b}{c}{d}{e}{f}{g}{h}")
    }

    fn no_args() -> &'static str {
        "none"
    }
}

mod shop {
    use transparent_future::background;

    background! {
        /// Public.
        pub fn price(item: &'static str) -> u32 {
            item.len() as u32 * 100
        }

        /// Crate-visible.
        pub(crate) fn stock(item: &'static str) -> u32 {
            transparent_future::Lazy::into_inner(helper(item))
        }

        /// Private: only for this module.
        fn helper(item: &'static str) -> u32 {
            item.len() as u32
        }
    }

    #[derive(Clone)]
    pub struct Till(pub u32);

    impl Till {
        background! {
            pub fn total = total_now(&self, extra: u32) -> u32 {
                self.0 + extra
            }
            pub(crate) fn doubled(self, times: u32) -> u32 {
                self.0 * 2 * times
            }
        }
    }

    /// Uses the private function from inside its module.
    pub fn stock_via_helper(item: &'static str) -> u32 {
        *helper(item)
    }
}

#[test]
fn attributes_docs_and_visibility_are_kept() {
    within(LIMIT, || {
        assert_eq!(*twin(), 2);
        assert_eq!(*many_args(1, 2, 3, 4, 5, 6, 7, "8".into()), "12345678");
        assert_eq!(*no_args(), "none");
        assert_eq!(*shop::price("tea"), 300);
        assert_eq!(*shop::stock("coffee"), 6);
        assert_eq!(shop::stock_via_helper("milk"), 4);
        let till = shop::Till(10);
        assert_eq!(*till.total(5), 15);
        assert_eq!(till.total_now(1), 11);
        assert_eq!(*till.clone().doubled(3), 60);
    });
}

// ---------------------------------------------------------------- generics

background! {
    fn describe<T: std::fmt::Debug>(value: T) -> String {
        format!("{value:?}")
    }

    fn largest<T: PartialOrd>(items: Vec<T>) -> Option<T> {
        items.into_iter().reduce(|a, b| if b > a { b } else { a })
    }

    fn pair<A: std::fmt::Display, B: Into<String>>(a: A, b: B,) -> String {
        format!("{a}-{}", b.into())
    }
}

#[derive(Clone)]
struct Formatter {
    prefix: String,
}

impl Formatter {
    background! {
        fn show = show_now<T: std::fmt::Debug>(&self, value: T) -> String {
            format!("{}{value:?}", self.prefix)
        }
        fn show_arc<T: std::fmt::Display>(self: Arc<Self>, value: T) -> String {
            format!("{}{value}", self.prefix)
        }
    }
}

#[test]
fn generics_with_one_bound_each_are_kept() {
    within(LIMIT, || {
        assert_eq!(*describe(vec![1, 2]), "[1, 2]");
        assert_eq!(*describe("text"), "\"text\"");
        let big: Lazy<Option<f64>> = largest(vec![1.5, 9.25, 3.0]);
        assert_eq!(*big, Some(9.25));
        assert_eq!(*largest(Vec::<u8>::new()), None);
        assert_eq!(*pair(7, "seven"), "7-seven");
        let f = Formatter {
            prefix: "> ".into(),
        };
        assert_eq!(*f.show(Some(3)), "> Some(3)");
        assert_eq!(f.show_now('c'), "> 'c'");
        assert_eq!(*Arc::new(f).show_arc(4.5), "> 4.5");
    });
}

// ---------------------------------------------------------------- options

static POOL: LazyLock<ThreadPool> = LazyLock::new(|| ThreadPool::new(3));
static POOL_LOOKUPS: AtomicUsize = AtomicUsize::new(0);

/// The pool, counting how often the macro evaluates its `on(..)` expression.
fn counted_pool() -> &'static ThreadPool {
    POOL_LOOKUPS.fetch_add(1, SeqCst);
    &POOL
}

/// Waits (at most 10 s) until `x` is decided without reading it: a reader would run a
/// task no worker has started yet itself (work-helping), off the executor.
fn settle<T>(x: &Lazy<T>) -> &Lazy<T> {
    let until = Instant::now() + Duration::from_secs(10);
    while !Lazy::is_done(x) && Instant::now() < until {
        thread::sleep(ms(1));
    }
    x
}

fn thread_name() -> String {
    thread::current().name().unwrap_or("<unnamed>").to_string()
}

background! {
    on(*POOL)
    fn on_pool(arg: u32) -> (u32, String) {
        thread::sleep(SLOW);
        (arg, thread_name())
    }
}

background! {
    on(counted_pool())
    fn on_counted_pool() -> String {
        thread_name()
    }
}

background! {
    on(ThreadPerTask)
    fn on_threads(arg: u32) -> (u32, String) {
        (arg, thread_name())
    }
}

background! {
    timeout(Deadline::after(ms(150)))
    fn lookup(key: &'static str) -> usize {
        if key == "slow" {
            thread::sleep(ms(1500));
        }
        key.len()
    }
}

background! {
    on(*POOL) timeout(Deadline::after(ms(150)))
    fn pool_lookup(gate: Gate) -> (u8, String) {
        gate.wait();
        (1, thread_name())
    }
}

background! {
    timeout(Deadline::after(Duration::from_secs(30))) on(*POOL)
    fn pool_lookup_swapped(arg: u8) -> (u8, String) {
        (arg, thread_name())
    }
}

#[derive(Clone)]
struct Service {
    name: &'static str,
}

impl Service {
    background! {
        on(*POOL) timeout(Deadline::after(Duration::from_secs(30)))
        fn call = call_now(&self, arg: u32) -> String {
            format!("{}:{arg}:{}", self.name, thread_name())
        }
        fn call_arc(self: Arc<Self>, arg: u32) -> String {
            format!("{}:{arg}:{}", self.name, thread_name())
        }
    }
}

#[test]
fn on_runs_the_calls_on_the_given_executor() {
    within(LIMIT, || {
        let t0 = Instant::now();
        let calls = [on_pool(1), on_pool(2), on_pool(3)];
        calls.iter().for_each(|c| {
            settle(c);
        });
        let got: Vec<u32> = calls.iter().map(|c| c.0).collect();
        assert_eq!(got, [1, 2, 3]);
        assert_overlapped(t0); // three workers
        for c in &calls {
            assert!(c.1.starts_with("transparent-future-worker-"), "{}", c.1);
        }

        let (arg, name) = Lazy::into_inner(on_threads(5));
        assert_eq!((arg, name.as_str()), (5, "<unnamed>"));

        // The expression is evaluated at each call.
        let before = POOL_LOOKUPS.load(SeqCst);
        for _ in 0..3 {
            assert!(settle(&on_counted_pool()).starts_with("transparent-future-worker-"));
        }
        assert_eq!(POOL_LOOKUPS.load(SeqCst) - before, 3);
    });
}

#[test]
fn timeout_makes_the_function_return_an_outcome_and_releases_at_the_deadline() {
    within(LIMIT, || {
        let fast: Lazy<Outcome<usize>> = lookup("fast");
        assert_eq!(*fast, Outcome::Ready(4));
        let t0 = Instant::now();
        let slow = lookup("slow");
        assert!(slow == Outcome::Timeout);
        let took = t0.elapsed();
        assert!(took >= ms(140) && took < ms(1200), "{took:?}");
        assert_eq!(slow.to_string(), "Timeout");

        // Both options, in either order.
        let gate = Gate::new();
        let _open = gate.guard();
        let t0 = Instant::now();
        assert_eq!(*pool_lookup(gate.clone()), Outcome::Timeout);
        assert!(t0.elapsed() < ms(1200), "{:?}", t0.elapsed());
        gate.open();
        let swapped = pool_lookup_swapped(9);
        settle(&swapped);
        match Lazy::into_inner(swapped) {
            Outcome::Ready((9, name)) => assert!(name.starts_with("transparent-future-worker-")),
            other => panic!("unexpected {other:?}"),
        }

        // Options on methods.
        let s = Service { name: "svc" };
        let r: Lazy<Outcome<String>> = s.call(1);
        settle(&r);
        let text = Lazy::into_inner(r).expect("in time");
        assert!(
            text.starts_with("svc:1:transparent-future-worker-"),
            "{text}"
        );
        assert!(s.call_now(2).starts_with("svc:2:"));
        let r = Arc::new(s).call_arc(3);
        settle(&r);
        assert!(
            matches!(&*r, Outcome::Ready(t) if t.starts_with("svc:3:transparent-future-worker-"))
        );
    });
}

#[cfg(feature = "rayon")]
mod on_rayon {
    use super::*;

    static RAYON: LazyLock<rayon::ThreadPool> = LazyLock::new(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap()
    });

    background! {
        on(*RAYON)
        fn on_rayon(arg: u32) -> (u32, Option<usize>) {
            thread::sleep(SLOW);
            (arg, RAYON.current_thread_index())
        }
    }

    background! {
        on(transparent_future::executor::RayonGlobal)
        fn on_rayon_global(arg: u32) -> (u32, bool) {
            (arg, rayon::current_thread_index().is_some())
        }
    }

    background! {
        on(*RAYON) timeout(Deadline::after(ms(150)))
        fn rayon_lookup(gate: Gate) -> u8 {
            gate.wait();
            1
        }
    }

    #[test]
    fn on_rayon_runs_the_calls_on_rayon() {
        within(LIMIT, || {
            let t0 = Instant::now();
            let (x, y, z) = (on_rayon(1), on_rayon(2), on_rayon(3));
            settle(&x);
            settle(&y);
            settle(&z);
            assert_eq!(format!("{} {} {}", z.0, y.0, x.0), "3 2 1");
            assert_overlapped(t0);
            assert!(x.1.is_some() && y.1.is_some() && z.1.is_some());
            assert_eq!(*settle(&on_rayon_global(4)), (4, true));
            let gate = Gate::new();
            let _open = gate.guard();
            let t0 = Instant::now();
            assert_eq!(*rayon_lookup(gate.clone()), Outcome::Timeout);
            assert!(t0.elapsed() < ms(1200));
        });
    }
}

// ---------------------------------------------------------------- background(f)

#[test]
fn background_wraps_a_one_argument_closure_and_tuples_for_more() {
    within(LIMIT, || {
        let add = background(|(a, b): (i32, i32)| a + b);
        assert_eq!(add((2, 3)), 5);
        let greet = background(|(greeting, name, times): (&'static str, String, usize)| {
            format!("{greeting} {name}").repeat(times)
        });
        assert_eq!(*greet(("hi", "io".into(), 2)), "hi iohi io");
        let unit = background(|(): ()| 7);
        assert_eq!(*unit(()), 7);

        // The wrapper is Clone + Send + Sync: call it from many threads at once.
        let slow = background(|arg: u32| {
            thread::sleep(SLOW);
            arg * 2
        });
        let t0 = Instant::now();
        let handles: Vec<_> = (0..3)
            .map(|i| {
                let slow = slow.clone();
                thread::spawn(move || slow(i))
            })
            .collect();
        let results: Vec<Lazy<u32>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(results.iter().map(|r| **r).collect::<Vec<_>>(), [0, 2, 4]);
        assert_overlapped(t0);
    });
}

// ---------------------------------------------------------------- panics and drops

background! {
    fn explode(what: &'static str) -> u32 {
        panic!("decorated {what} exploded")
    }
}

background! {
    timeout(Deadline::after(Duration::from_secs(30)))
    fn explode_in_time(what: &'static str) -> u32 {
        panic!("timed {what} exploded")
    }
}

background! {
    fn consume(arg: Tracked, out: Drops) -> Tracked {
        out.track(arg.value + 1)
    }
}

#[test]
fn panics_in_decorated_functions_and_wrapped_closures_reach_the_reader() {
    within(LIMIT, || {
        let x = explode("fn");
        assert!(panic_of(|| *x + 1).contains("decorated fn exploded"));
        let payload = Lazy::join(explode("fn")).unwrap_err();
        assert_eq!(
            payload.downcast_ref::<String>().map(String::as_str),
            Some("decorated fn exploded")
        );
        let y = explode_in_time("fn");
        assert!(panic_of(|| y.is_ready()).contains("timed fn exploded"));
        let f = background(|n: u32| -> u32 { panic!("closure {n} exploded") });
        assert!(panic_of(|| *f(3)).contains("closure 3 exploded"));
        // The wrapper still works after a call panicked.
        assert!(panic_of(|| *f(4)).contains("closure 4 exploded"));
    });
}

#[test]
fn arguments_results_and_captures_are_dropped_exactly_once() {
    within(LIMIT, || {
        let (args, outs) = (Drops::new(), Drops::new());
        let r = consume(args.track(1), outs.clone());
        assert_eq!(r.value, 2);
        args.expect(1); // the argument, consumed by the body
        assert_eq!(outs.count(), 0);
        drop(r);
        outs.expect(1);

        // A result nobody reads.
        let (args, outs) = (Drops::new(), Drops::new());
        drop(consume(args.track(1), outs.clone()));
        args.expect(1);
        outs.expect(1);

        // background(f): results, and the closure's captures once the wrapper and
        // every call are gone.
        let (captured, made) = (Drops::new(), Drops::new());
        let owned = captured.track(10);
        let m = made.clone();
        let wrapper = background(move |n: u32| {
            let owned = &owned; // capture the whole value, not just its field
            m.track(n + owned.value)
        });
        let calls: Vec<Lazy<Tracked>> = (0..3).map(&wrapper).collect();
        assert_eq!(calls.iter().map(|c| c.value).sum::<u32>(), 33);
        drop(wrapper);
        drop(calls);
        made.expect(3);
        captured.expect(1);

        // Pending calls dropped before they finish.
        let gate = Gate::new();
        let _open = gate.guard();
        let made = Drops::new();
        let (g, m) = (gate.clone(), made.clone());
        let wrapper = background(move |n: u32| {
            g.wait();
            m.track(n)
        });
        drop((wrapper(1), wrapper(2)));
        gate.open();
        made.expect(2);
    });
}
