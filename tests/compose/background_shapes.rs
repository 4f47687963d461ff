//! The shapes of `fn` that `background!` accepts: each one compiles as a plain `fn`,
//! and the macro turns it into a function that runs its body on another thread and
//! returns a `Lazy` at once.
//!
//! * free functions: without `-> T` (a `Lazy<()>`), `mut` and pattern arguments,
//!   `where` clauses, generics (no bound, several bounds, bounds with generics,
//!   lifetimes, const generics, inferred and turbofished), `impl Trait` arguments and
//!   `-> impl Trait` (also nested, as in `Result<impl Trait, E>`);
//! * methods: `self`, `mut self`, `self: Arc<Self>`, `self: Box<Self>`,
//!   `fn name = name_now(&self, ..)` with the same argument shapes, associated
//!   functions without a receiver, methods of a generic `impl`;
//! * options `on(executor)` and `timeout(policy)` with these shapes;
//! * hygiene: a `const this` or `struct this` in scope does not change the expansion.

use std::fmt::{Debug, Display};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc;
use std::sync::{Arc, LazyLock, Mutex};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use transparent_future::{Deadline, Lazy, Outcome, ThreadPool, background};

use crate::support::ms;

/// One slow call.
const SLOW: Duration = Duration::from_millis(200);
/// Three overlapping slow calls end well before three sequential ones would (600 ms).
const THREE_OVERLAPPED: Duration = Duration::from_millis(550);

fn me() -> ThreadId {
    thread::current().id()
}

/// Runs `calls` (three slow calls started back to back), reads the results, and
/// asserts they overlapped.
#[track_caller]
fn assert_three_overlap<T>(calls: impl FnOnce() -> [Lazy<T>; 3]) -> [T; 3]
where
    T: Send + 'static,
{
    let t0 = Instant::now();
    let lazies = calls();
    let values = lazies.map(Lazy::into_inner);
    let took = t0.elapsed();
    assert!(
        took >= SLOW,
        "returned before the calls finished ({took:?})"
    );
    assert!(
        took < THREE_OVERLAPPED,
        "the calls did not overlap ({took:?})"
    );
    values
}

/// Waits (at most 10 s) until `x` is decided without reading it: on a pool, a reader
/// would run a task that no worker has started yet itself.
fn settle<T>(x: Lazy<T>) -> Lazy<T> {
    let until = Instant::now() + Duration::from_secs(10);
    while !Lazy::is_done(&x) && Instant::now() < until {
        thread::sleep(ms(1));
    }
    x
}

// ---------------------------------------------------------------- no `-> T`

static LOG: Mutex<Vec<(u32, ThreadId)>> = Mutex::new(Vec::new());

background! {
    /// Records its argument and the thread it ran on.
    fn record(n: u32) {
        thread::sleep(SLOW);
        LOG.lock().unwrap().push((n, me()));
    }

    fn send_to(tx: mpsc::Sender<ThreadId>) {
        tx.send(me()).unwrap();
    }
}

#[test]
fn a_function_without_a_return_type_returns_a_lazy_unit() {
    let [(), (), ()] = assert_three_overlap(|| [record(1), record(2), record(3)]);
    let log = LOG.lock().unwrap().clone();
    let mut ns: Vec<u32> = log.iter().map(|(n, _)| *n).collect();
    ns.sort_unstable();
    assert_eq!(ns, [1, 2, 3]);
    assert!(log.iter().all(|(_, id)| *id != me()));

    let (tx, rx) = mpsc::channel();
    let done: Lazy<()> = send_to(tx);
    let ran_on = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_ne!(ran_on, me());
    Lazy::into_inner(done);
}

// ---------------------------------------------------------------- argument shapes

#[derive(Debug, Clone, Copy, PartialEq)]
struct Point {
    x: i32,
    y: i32,
}

struct Pair(u8, u8);

background! {
    fn countdown(mut n: u32) -> Vec<u32> {
        let mut seen = Vec::new();
        while n > 0 {
            seen.push(n);
            n -= 1;
        }
        seen
    }

    fn add_pair((a, b): (u32, u32)) -> u32 {
        thread::sleep(SLOW);
        a + b
    }

    fn norm1(Point { x, y }: Point, [a, b]: [u8; 2], Pair(c, d): Pair) -> i64 {
        i64::from(x.abs() + y.abs()) + i64::from(a) + i64::from(b) + i64::from(c) + i64::from(d)
    }

    fn nested(((a, mut b), Point { x, .. }): ((String, String), Point), _: u8) -> String {
        b.push_str(&a);
        format!("{b}{x}")
    }

    fn renamed(Point { x: px, y: ref py }: Point) -> i32 {
        px * 10 + *py
    }

    fn with_attribute(#[allow(unused_variables)] unused: u8, used: u8) -> u8 {
        used
    }
}

#[test]
fn mut_and_pattern_arguments_are_accepted() {
    assert_eq!(*countdown(3), [3, 2, 1]);
    let [a, b, c] = assert_three_overlap(|| [add_pair((1, 2)), add_pair((3, 4)), add_pair((5, 6))]);
    assert_eq!((a, b, c), (3, 7, 11));
    assert_eq!(*norm1(Point { x: -3, y: 4 }, [5, 6], Pair(7, 8)), 33);
    let s = nested((("a".into(), "b".into()), Point { x: 9, y: 0 }), 0);
    assert_eq!(*s, "ba9");
    assert_eq!(*renamed(Point { x: 4, y: 2 }), 42);
    assert_eq!(*with_attribute(1, 2), 2);
}

// ---------------------------------------------------------------- where clauses

background! {
    fn joined<T>(items: Vec<T>, sep: &'static str) -> String
    where
        T: Display,
    {
        thread::sleep(SLOW);
        items.iter().map(ToString::to_string).collect::<Vec<_>>().join(sep)
    }

    fn summed<I>(items: I) -> u64 where I: IntoIterator<Item = u64> + Send + 'static, {
        items.into_iter().sum()
    }
}

#[test]
fn where_clauses_are_kept() {
    let [a, b, c] = assert_three_overlap(|| {
        [
            joined(vec![1, 2], "+"),
            joined(vec!['x'], "-"),
            joined::<u8>(vec![], ","),
        ]
    });
    assert_eq!([a.as_str(), b.as_str(), c.as_str()], ["1+2", "x", ""]);
    assert_eq!(*summed(vec![1, 2, 3]), 6);
    assert_eq!(*summed(1..=4), 10);
}

// ---------------------------------------------------------------- generics

background! {
    fn identity<T>(value: T) -> T {
        value
    }

    fn shown<T: Clone + Debug + PartialEq>(value: T) -> (String, bool) {
        let copy = value.clone();
        (format!("{value:?}"), copy == value)
    }

    fn bytes_of<T: Into<Vec<u8>>>(value: T) -> Vec<u8> {
        value.into()
    }

    fn nested_bounds<T: Into<Vec<Vec<u8>>>, U: AsRef<[Option<Vec<u8>>]>>(t: T, u: U) -> usize {
        t.into().len() + u.as_ref().iter().flatten().count()
    }

    fn applied<F: Fn(u32) -> u32, G>(f: F, g: G, n: u32) -> u32
    where
        G: FnOnce(u32) -> Vec<u32>,
    {
        g(f(n)).len() as u32
    }

    fn higher_ranked<F: for<'a> Fn(&'a str) -> &'a str>(f: F) -> String {
        let text = String::from("  trimmed  ");
        f(&text).to_string()
    }

    fn made<T: Default>() -> T {
        T::default()
    }

    fn type_size<T>() -> usize {
        std::mem::size_of::<T>()
    }

    fn first_of<const N: usize>(items: [u32; N]) -> (usize, Option<u32>) {
        (N, items.first().copied())
    }

    fn repeated<T: Clone, const N: usize>(value: T) -> [T; N] {
        std::array::from_fn(|_| value.clone())
    }

    fn static_len<'a>(text: &'a str) -> usize {
        text.len()
    }

    fn trailing_comma<A, B,>(a: A, b: B,) -> (B, A) {
        (b, a)
    }

    fn displayed(value: impl Display + Send + 'static, times: usize) -> String {
        value.to_string().repeat(times)
    }
}

#[test]
fn generic_functions_are_inferred_and_turbofished() {
    // `identity` has no bound: `Send + 'static` is all the macro adds.
    let x: Lazy<u8> = identity(1);
    assert_eq!(*x + *identity::<u8>(2), 3);
    assert_eq!(*identity::<String>("s".into()), "s");
    assert_eq!(*shown(vec![1]), ("[1]".to_string(), true));
    assert_eq!(*shown::<&str>("q"), ("\"q\"".to_string(), true));
    assert_eq!(*bytes_of("ab"), b"ab");
    assert_eq!(*bytes_of::<String>("cd".into()), b"cd");
    assert_eq!(
        *nested_bounds(vec![vec![1u8]], vec![Some(vec![2u8]), None]),
        2
    );
    assert_eq!(*applied(|n| n + 1, |n| vec![0; n as usize], 2), 3);
    assert_eq!(*higher_ranked(str::trim), "trimmed");
    let zero: Lazy<u64> = made();
    assert_eq!(*zero, 0);
    assert_eq!(*made::<String>(), "");
    assert_eq!(*type_size::<u64>(), 8);
    assert_eq!(*type_size::<(u8, u32)>(), 8);
    assert_eq!(*first_of([7, 8, 9]), (3, Some(7)));
    assert_eq!(*first_of::<0>([]), (0, None));
    assert_eq!(*repeated::<char, 3>('z'), ['z'; 3]);
    let four: Lazy<[u8; 4]> = repeated(1);
    assert_eq!(*four, [1; 4]);
    assert_eq!(*static_len("four"), 4);
    assert_eq!(*trailing_comma(1, "b"), ("b", 1));
    assert_eq!(*displayed(4.5, 2), "4.54.5");
}

#[test]
fn generic_calls_overlap() {
    let [a, b, c] = assert_three_overlap(|| {
        [
            joined(vec![1.5], ""),
            joined::<&str>(vec!["a", "b"], ""),
            joined(Vec::<u8>::new(), ""),
        ]
    });
    assert_eq!([a, b, c], ["1.5", "ab", ""]);
}

// ---------------------------------------------------------------- `-> impl Trait`

background! {
    /// `(0..n)` gets its item type from the `impl Iterator<Item = u32>`: the body is
    /// checked against the exact signature.
    fn evens(n: u32) -> impl Iterator<Item = u32> + Send + 'static {
        thread::sleep(SLOW);
        (0..n).filter(|i| i % 2 == 0)
    }

    fn labelled<T: Display>(value: T, (open, close): (char, char)) -> impl Display {
        format!("{open}{value}{close}")
    }

    fn parsed(text: &'static str) -> Result<impl Debug + PartialEq<u16>, String> {
        text.parse::<u16>().map_err(|e| e.to_string())
    }

    fn adder<const N: u32>(mut base: u32) -> impl Fn(u32) -> u32 + Send {
        base += N;
        move |x| x + base
    }

    fn ran_on() -> (impl Debug + PartialEq<ThreadId>, ThreadId) {
        (me(), me())
    }
}

#[test]
fn impl_trait_return_types_are_accepted() {
    let [a, b, c] = assert_three_overlap(|| [evens(5), evens(1), evens(0)]);
    assert_eq!(a.collect::<Vec<_>>(), [0, 2, 4]);
    assert_eq!(b.collect::<Vec<_>>(), [0]);
    assert_eq!(c.count(), 0);
    assert_eq!(labelled(7, ('<', '>')).to_string(), "<7>");
    assert_eq!(labelled::<&str>("x", ('[', ']')).to_string(), "[x]");
    match Lazy::into_inner(parsed("42")) {
        Ok(v) => assert!(v == 42u16, "{v:?}"),
        Err(e) => panic!("{e}"),
    }
    assert!(parsed("no").is_err());
    let add = Lazy::into_inner(adder::<10>(1));
    assert_eq!(add(100), 111);
    let (a, b) = Lazy::into_inner(ran_on());
    assert_eq!(a, b);
    assert_ne!(b, me());
}

// ---------------------------------------------------------------- methods

#[derive(Clone, Debug)]
struct Counter {
    name: String,
    calls: Arc<AtomicUsize>,
}

impl Counter {
    fn new(name: &str) -> Counter {
        Counter {
            name: name.into(),
            calls: Arc::new(AtomicUsize::new(0)),
        }
    }

    background! {
        /// `self`, with a pattern argument and no return type.
        pub fn bump(self, (by, pause): (usize, Duration)) {
            thread::sleep(pause);
            self.calls.fetch_add(by, SeqCst);
        }

        /// `mut self`, with a generic argument and a `where` clause.
        fn renamed<S>(mut self, suffix: S) -> Counter
        where
            S: Display,
        {
            self.name = format!("{}{suffix}", self.name);
            self
        }

        /// `self: Arc<Self>`, with a `mut` argument.
        fn arc_name(self: Arc<Self>, mut times: usize) -> (String, ThreadId) {
            let mut out = String::new();
            while times > 0 {
                out.push_str(&self.name);
                times -= 1;
            }
            thread::sleep(SLOW);
            (out, me())
        }

        /// `self: Box<Self>`, with a struct pattern.
        fn boxed(self: Box<Self>, Point { x, y }: Point) -> String {
            format!("{}@{x},{y}", self.name)
        }

        /// `&self`, through a plain twin: patterns, generics, no return type.
        fn tally = tally_now<T: Into<usize>>(&self, (a, b): (T, T), mut extra: usize) {
            extra += a.into() + b.into();
            self.calls.fetch_add(extra, SeqCst);
        }

        /// `&self`, through a plain twin, returning `impl Trait`.
        pub(crate) fn label = label_now(&self, [open, close]: [char; 2]) -> impl Display + use<> {
            format!("{open}{}{close}", self.name)
        }

        /// No receiver: an associated function that names `Self`.
        fn make(name: &'static str) -> Self {
            thread::sleep(SLOW);
            Self::new(name)
        }
    }
}

#[test]
fn methods_take_every_receiver_form_with_the_new_argument_shapes() {
    let c = Counter::new("c");
    let [(), (), ()] = assert_three_overlap(|| {
        [
            c.clone().bump((1, SLOW)),
            c.clone().bump((2, SLOW)),
            c.clone().bump((3, SLOW)),
        ]
    });
    assert_eq!(c.calls.load(SeqCst), 6);

    assert_eq!(c.clone().renamed('!').name, "c!");
    assert_eq!(c.clone().renamed::<u8>(2).name, "c2");

    let arc = Arc::new(Counter::new("ab"));
    let [x, y, z] = assert_three_overlap(|| {
        [
            arc.clone().arc_name(0),
            arc.clone().arc_name(1),
            arc.clone().arc_name(2),
        ]
    });
    assert_eq!(
        [x.0.as_str(), y.0.as_str(), z.0.as_str()],
        ["", "ab", "abab"]
    );
    assert!([x.1, y.1, z.1].iter().all(|id| *id != me()));

    assert_eq!(
        *Box::new(Counter::new("b")).boxed(Point { x: 1, y: 2 }),
        "b@1,2"
    );

    let t = Counter::new("t");
    Lazy::into_inner(t.tally((1u8, 2u8), 3));
    assert_eq!(t.calls.load(SeqCst), 6);
    t.tally_now((4u16, 0u16), 0);
    assert_eq!(t.calls.load(SeqCst), 10);
    Lazy::into_inner(t.tally::<usize>((0, 0), 1));
    assert_eq!(t.calls.load(SeqCst), 11);

    assert_eq!(t.label(['(', ')']).to_string(), "(t)");
    assert_eq!(t.label_now(['<', '>']).to_string(), "<t>");

    let [a, b, c] =
        assert_three_overlap(|| [Counter::make("1"), Counter::make("2"), Counter::make("3")]);
    assert_eq!([a.name, b.name, c.name], ["1", "2", "3"]);
}

/// A generic `impl`: the macro bounds the receiver's and the return type, so the
/// type parameter of the `impl` needs no `Send + 'static` of its own.
#[derive(Clone)]
struct Wrapper<T>(T);

impl<T> Wrapper<T> {
    background! {
        fn unwrapped(self) -> T {
            self.0
        }

        fn shared(self: Arc<Self>) -> usize {
            Arc::strong_count(&self)
        }
    }
}

#[test]
fn methods_of_a_generic_impl_are_accepted() {
    assert_eq!(*Wrapper(String::from("w")).unwrapped(), "w");
    assert_eq!(*Wrapper(5u8).unwrapped(), 5);
    assert!(*Arc::new(Wrapper(1)).shared() >= 1);
}

// ---------------------------------------------------------------- options

static POOL: LazyLock<ThreadPool> = LazyLock::new(|| ThreadPool::new(3));

fn on_pool() -> bool {
    thread::current()
        .name()
        .is_some_and(|n| n.starts_with("transparent-future-worker-"))
}

background! {
    on(*POOL)
    fn pool_unit(tx: mpsc::Sender<bool>) {
        thread::sleep(SLOW);
        tx.send(on_pool()).unwrap();
    }

    fn pool_pattern<T: Into<u64> + Copy>((a, b): (T, T), mut n: u64) -> (u64, bool) {
        thread::sleep(SLOW);
        n += a.into() + b.into();
        (n, on_pool())
    }

    fn pool_impl(n: u32) -> impl Iterator<Item = u32> + Send {
        let pooled = on_pool();
        (0..n).filter(move |_| pooled)
    }
}

background! {
    timeout(Deadline::after(ms(150)))
    fn timed_unit(pause: Duration) {
        thread::sleep(pause);
    }

    fn timed_generic<T>(value: T, pause: Duration) -> String
    where
        T: Debug + Clone,
    {
        thread::sleep(pause);
        format!("{:?}", value.clone())
    }

    fn timed_impl(Point { x, y }: Point) -> impl Display + Send {
        x * y
    }
}

background! {
    on(*POOL) timeout(Deadline::after(Duration::from_secs(30)))
    fn both<const N: usize>(items: [u8; N]) -> (u8, usize, bool) {
        (items[0], N, on_pool())
    }
}

#[derive(Clone)]
struct Service(&'static str);

impl Service {
    background! {
        on(*POOL) timeout(Deadline::after(Duration::from_secs(30)))
        fn call = call_now<T: Display>(&self, (a, b): (T, T)) -> impl Display + use<T> {
            format!("{}:{a}{b}:{}", self.0, on_pool())
        }

        fn consume(self, mut n: u32) {
            n += 1;
            assert!(n > 0 && !self.0.is_empty());
        }
    }
}

#[test]
fn on_combines_with_the_new_shapes() {
    let (tx, rx) = mpsc::channel();
    let t0 = Instant::now();
    let units = [pool_unit(tx.clone()), pool_unit(tx.clone()), pool_unit(tx)];
    for _ in 0..3 {
        assert!(rx.recv_timeout(Duration::from_secs(10)).unwrap());
    }
    assert!(t0.elapsed() < THREE_OVERLAPPED, "{:?}", t0.elapsed());
    for unit in units {
        Lazy::into_inner(unit);
    }

    let calls = [
        pool_pattern((1u8, 2u8), 3),
        pool_pattern((4u32, 0), 0),
        pool_pattern((0u16, 0), 7),
    ];
    let got = calls.map(|c| Lazy::into_inner(settle(c)));
    assert_eq!(got, [(6, true), (4, true), (7, true)]);

    assert_eq!(Lazy::into_inner(settle(pool_impl(4))).count(), 4);
}

#[test]
fn timeout_combines_with_the_new_shapes() {
    let fast: Lazy<Outcome<()>> = timed_unit(ms(0));
    assert_eq!(*fast, Outcome::Ready(()));
    let t0 = Instant::now();
    assert_eq!(*timed_unit(ms(1500)), Outcome::Timeout);
    assert!(t0.elapsed() < ms(1200), "{:?}", t0.elapsed());

    assert_eq!(
        *timed_generic(vec!['a'], ms(0)),
        Outcome::Ready("['a']".to_string())
    );
    assert_eq!(*timed_generic::<u8>(1, ms(1500)), Outcome::Timeout);

    match Lazy::into_inner(timed_impl(Point { x: 6, y: 7 })) {
        Outcome::Ready(v) => assert_eq!(v.to_string(), "42"),
        other => panic!(
            "expected a value, got {}",
            matches!(other, Outcome::Timeout)
        ),
    }

    assert_eq!(*settle(both([9, 8, 7])), Outcome::Ready((9, 3, true)));
    assert_eq!(*settle(both::<1>([4])), Outcome::Ready((4, 1, true)));

    let s = Service("svc");
    match Lazy::into_inner(settle(s.call((1, 2)))) {
        Outcome::Ready(text) => assert_eq!(text.to_string(), "svc:12:true"),
        _ => panic!("timed out"),
    }
    assert_eq!(s.call_now(("a", "b")).to_string(), "svc:ab:false");
    assert_eq!(*settle(s.consume(1)), Outcome::Ready(()));
}

// ---------------------------------------------------------------- hygiene

/// Items named like the macro's old internal binding, in scope of every form.
mod const_this {
    use super::*;

    #[allow(non_upper_case_globals, dead_code)]
    const this: u32 = 7;
    #[allow(non_upper_case_globals, dead_code)]
    const value: u32 = 8;

    #[derive(Clone)]
    pub struct Greeter(pub &'static str);

    impl Greeter {
        background! {
            pub fn greet = greet_now(&self, (name, punct): (&'static str, char)) -> String {
                format!("{} {name}{punct}", self.0)
            }

            pub fn greet_impl = greet_impl_now<T: Display>(&self, who: T) -> impl Display + use<T> {
                format!("{} {who}", self.0)
            }

            pub fn owned(self, n: u32) -> u32 {
                n + self.0.len() as u32
            }
        }
    }

    background! {
        pub fn free(n: u32) -> u32 {
            n + this
        }

        pub fn free_impl<T: Display>(shown: T, n: u32) -> impl Display {
            format!("{shown}{}", n + this)
        }
    }
}

mod struct_this {
    use super::*;

    #[allow(non_camel_case_types, dead_code)]
    #[derive(Clone, Copy)]
    pub struct this;
    #[allow(non_camel_case_types, dead_code)]
    pub struct value;

    #[derive(Clone)]
    pub struct Greeter(pub &'static str);

    impl Greeter {
        background! {
            on(*POOL)
            pub fn greet = greet_now(&self, name: &'static str) -> String {
                format!("{} {name}", self.0)
            }
        }
    }

    background! {
        timeout(Deadline::after(Duration::from_secs(30)))
        pub fn free_impl(marker: this, n: u32) -> impl Display {
            let _unit: this = marker;
            n * 2
        }
    }
}

#[test]
fn items_named_this_in_scope_do_not_change_the_expansion() {
    let g = const_this::Greeter("hi");
    assert_eq!(*g.greet(("io", '!')), "hi io!");
    assert_eq!(g.greet_now(("io", '?')), "hi io?");
    assert_eq!(g.greet_impl(3).to_string(), "hi 3");
    assert_eq!(*g.clone().owned(1), 3);
    assert_eq!(*const_this::free(1), 8);
    assert_eq!(const_this::free_impl("n", 1).to_string(), "n8");

    let s = struct_this::Greeter("yo");
    assert_eq!(*settle(s.greet("io")), "yo io");
    match Lazy::into_inner(struct_this::free_impl(struct_this::this, 21)) {
        Outcome::Ready(v) => assert_eq!(v.to_string(), "42"),
        Outcome::Timeout => panic!("timed out"),
    }
}

// ---------------------------------------------------------------- many items

background! {
    fn m01(a: u8) -> u8 { a }
    fn m02<T: Into<Vec<u8>>>(a: T) -> usize { a.into().len() }
    fn m03((a, b): (u8, u8)) -> u8 { a + b }
    fn m04() {}
    fn m05<const N: usize>(a: [u8; N]) -> usize where [u8; N]: Debug { a.len() }
    fn m06(a: u8) -> impl Display { a }
    fn m07(mut a: Vec<u8>) -> Vec<u8> { a.push(7); a }
    fn m08<A: Clone + Debug, B: Into<Option<Vec<u8>>>>(a: A, b: B) -> usize {
        format!("{:?}", a.clone()).len() + b.into().map_or(0, |v| v.len())
    }
    fn m09(a: u8) -> Result<u8, String> { a.checked_add(1).ok_or_else(|| "overflow".into()) }
    fn m10(a: u8) -> Option<impl Display> { Some(a) }
    fn m11(Point { x, y }: Point) -> i32 { x + y }
    fn m12<T>(a: T) -> Vec<T> { vec![a] }
}

#[test]
fn a_long_block_of_items_expands() {
    assert_eq!(*m01(1), 1);
    assert_eq!(*m02("ab"), 2);
    assert_eq!(*m03((1, 2)), 3);
    Lazy::into_inner(m04());
    assert_eq!(*m05([0; 5]), 5);
    assert_eq!(m06(6).to_string(), "6");
    assert_eq!(*m07(vec![1]), [1, 7]);
    assert_eq!(*m08('x', vec![1, 2]), 5);
    assert_eq!(*m09(255), Err("overflow".to_string()));
    assert_eq!(
        Lazy::into_inner(m10(10)).map(|d| d.to_string()),
        Some("10".to_string())
    );
    assert_eq!(*m11(Point { x: 1, y: 2 }), 3);
    assert_eq!(*m12("x"), ["x"]);
}
