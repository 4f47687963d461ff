//! The decorator form: [`background()`] for closures and [`background!`](crate::background!)
//! for `fn` items and methods.

use std::sync::Arc;

use crate::lazy::Lazy;
use crate::spawn::shorthand::spawn_lazy;

/// Wraps a one-argument function so that every call runs in the background and returns
/// a [`Lazy`] at once: the seed's `background(f)(arg)`. Pass a tuple for more
/// arguments.
///
/// # Panics
///
/// A call panics if a thread is refused, as [`spawn_lazy`] does.
///
/// ```
/// use std::time::{Duration, Instant};
/// use transparent_future::background;
///
/// let slow = background(|arg: u32| { std::thread::sleep(Duration::from_millis(200)); arg });
/// let t0 = Instant::now();
/// let (x, y, z) = (slow(1), slow(2), slow(3));
/// assert_eq!(format!("{z} {y} {x}"), "3 2 1");
/// assert!(t0.elapsed() < Duration::from_millis(550)); // the three calls overlapped
///
/// let add = background(|(a, b): (i32, i32)| a + b);
/// assert_eq!(add((2, 3)), 5);
/// ```
pub fn background<A, T, F>(f: F) -> impl Fn(A) -> Lazy<T> + Clone + Send + Sync + 'static
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

/// Turns `fn` items into functions that run in the background and return a
/// [`Lazy`] at once, as the seed's `@background` decorator did.
///
/// Any `fn` that compiles as a plain function is accepted, with the same signature
/// except for the return type: attributes, doc comments and visibility are kept; a
/// function returning `T` returns `Lazy<T>` (or `Lazy<Outcome<T>>` with a timeout), one
/// without `-> T` returns `Lazy<()>`. Arguments move into the task, so they and the value
/// must be `Send + 'static`: the macro adds those bounds to each type parameter (and
/// `'static` to each lifetime parameter) itself.
///
/// ```
/// use std::time::{Duration, Instant};
/// use transparent_future::background;
///
/// background! {
///     /// Something slow, like downloading a page.
///     pub fn very_slow_task(arg: u32) -> u32 {
///         std::thread::sleep(Duration::from_millis(200));
///         arg
///     }
/// }
///
/// let t0 = Instant::now();
/// let (x, y, z) = (very_slow_task(1), very_slow_task(2), very_slow_task(3));
/// assert_eq!(format!("{z} {y} {x}"), "3 2 1");
/// assert!(t0.elapsed() < Duration::from_millis(550));
/// ```
///
/// # Shapes
///
/// `mut` and pattern arguments, `where` clauses, functions without a return type:
///
/// ```
/// use std::sync::mpsc;
/// use transparent_future::{background, Lazy};
///
/// struct Point { x: i32, y: i32 }
///
/// background! {
///     fn manhattan(Point { x, y }: Point, (dx, dy): (i32, i32), [scale, _]: [i32; 2]) -> i32 {
///         ((x - dx).abs() + (y - dy).abs()) * scale
///     }
///
///     fn countdown(mut n: u32, done: mpsc::Sender<Vec<u32>>) {
///         let mut seen = vec![];
///         while n > 0 { seen.push(n); n -= 1; }
///         done.send(seen).unwrap();
///     }
///
///     fn joined<T>(items: Vec<T>) -> String where T: ToString {
///         items.iter().map(T::to_string).collect::<Vec<_>>().join(",")
///     }
/// }
///
/// assert_eq!(*manhattan(Point { x: 1, y: 2 }, (4, 6), [10, 0]), 70);
/// let (tx, rx) = mpsc::channel();
/// let finished: Lazy<()> = countdown(3, tx);
/// assert_eq!(rx.recv().unwrap(), [3, 2, 1]);
/// Lazy::into_inner(finished);
/// assert_eq!(*joined(vec![1, 2]), "1,2");
/// ```
///
/// # Options
///
/// Before the functions, `on(executor)` runs them on an [`Executor`](crate::executor::Executor)
/// (an expression evaluated at each call; its reference is taken), and
/// `timeout(policy)` gives each call a deadline, so the function returns
/// `Lazy<Outcome<T>>`:
///
/// ```
/// use std::sync::LazyLock;
/// use std::time::Duration;
/// use transparent_future::{background, Deadline, Outcome, ThreadPool};
///
/// static POOL: LazyLock<ThreadPool> = LazyLock::new(|| ThreadPool::new(2));
///
/// background! {
///     on(*POOL) timeout(Deadline::after(Duration::from_millis(50)))
///     fn lookup(key: &'static str) -> usize {
///         if key == "slow" { std::thread::sleep(Duration::from_millis(500)); }
///         key.len()
///     }
/// }
///
/// assert_eq!(*lookup("fast"), Outcome::Ready(4));
/// assert_eq!(*lookup("slow"), Outcome::Timeout);
/// ```
///
/// # Generics
///
/// Type, lifetime and const parameters, with any bounds; calls infer them or take a
/// turbofish:
///
/// ```
/// use std::fmt::Debug;
///
/// transparent_future::background! {
///     fn describe<T: Clone + Debug, B: Into<Vec<u8>>>(value: T, bytes: B) -> String {
///         format!("{:?} {}", value.clone(), bytes.into().len())
///     }
///
///     fn filled<T: Default + Copy, const N: usize>() -> [T; N] {
///         [T::default(); N]
///     }
/// }
/// assert_eq!(*describe(vec![1, 2], "abc"), "[1, 2] 3");
/// assert_eq!(*filled::<u8, 3>(), [0, 0, 0]);
/// ```
///
/// # `impl Trait`
///
/// `impl Trait` arguments work when they say `+ Send + 'static`. `impl Trait` in the
/// return type (also nested, as in `Result<impl Trait, E>`) makes the body an inner
/// function with the exact signature, so the function returns `Lazy<impl Trait>`:
///
/// ```
/// transparent_future::background! {
///     fn evens(n: u32) -> impl Iterator<Item = u32> + Send {
///         (0..n).filter(|i| i % 2 == 0)
///     }
///
///     fn shown(value: impl std::fmt::Display + Send + 'static) -> String {
///         value.to_string()
///     }
/// }
/// let evens = transparent_future::Lazy::into_inner(evens(5));
/// assert_eq!(evens.collect::<Vec<_>>(), [0, 2, 4]);
/// assert_eq!(*shown(1.5), "1.5");
/// ```
///
/// # Methods
///
/// Inside an `impl` block, a receiver that can move into the task is accepted:
/// `self` and `mut self` (for a `Clone` type, call it on a clone), and `self: Arc<Self>`
/// or any other `self: Type`. For `&self` on a `Clone + Send + 'static` type, name the
/// plain version too (`fn method = method_now(&self, ...)`): the macro writes both, and
/// the background one calls the plain one on a clone of `self`. The other arguments
/// take the same shapes as in functions; associated functions without a receiver work
/// too.
///
/// ```
/// use std::sync::Arc;
/// use transparent_future::background;
///
/// #[derive(Clone)]
/// struct Greeter { greeting: String }
///
/// impl Greeter {
///     background! {
///         fn greet(self: Arc<Self>, name: &'static str) -> String {
///             format!("{} {name}", self.greeting)
///         }
///         fn shout(self, (name, times): (&'static str, usize)) -> String {
///             format!("{} {name}{}", self.greeting.to_uppercase(), "!".repeat(times))
///         }
///         fn whisper = whisper_now(&self, name: &'static str) -> String {
///             format!("{}... {name}", self.greeting.to_lowercase())
///         }
///     }
/// }
///
/// let g = Arc::new(Greeter { greeting: "Hello".into() });
/// assert_eq!(*g.clone().greet("Io"), "Hello Io");
/// assert_eq!(*(*g).clone().shout(("Io", 2)), "HELLO Io!!");
/// assert_eq!(*g.whisper("Io"), "hello... Io");
/// assert_eq!(g.whisper_now("Io"), "hello... Io");
/// ```
///
/// With `-> impl Trait`, the `name = name_now` form needs `+ use<..>` (the value must
/// not capture the borrow of `self`); a `self` receiver cannot return `impl Trait`.
///
/// # Refused
///
/// What cannot run as a task is refused with a message naming it. A `&mut self`
/// receiver (the task would outlive the borrow):
///
/// ```compile_fail
/// struct Counter(u32);
/// impl Counter {
///     transparent_future::background! {
///         fn bump(&mut self) -> u32 { self.0 += 1; self.0 }
///     }
/// }
/// ```
///
/// A plain `&self` receiver, without the `fn name = name_now(&self, ..)` form:
///
/// ```compile_fail
/// #[derive(Clone)]
/// struct Counter(u32);
/// impl Counter {
///     transparent_future::background! {
///         fn get(&self) -> u32 { self.0 }
///     }
/// }
/// ```
///
/// The `name = name_now` form with another receiver:
///
/// ```compile_fail
/// #[derive(Clone)]
/// struct Counter(u32);
/// impl Counter {
///     transparent_future::background! {
///         fn get = get_now(self) -> u32 { self.0 }
///     }
/// }
/// ```
///
/// `impl Trait` returned from a method with a `self` receiver:
///
/// ```compile_fail
/// struct Counter(u32);
/// impl Counter {
///     transparent_future::background! {
///         fn shown(self) -> impl std::fmt::Display { self.0 }
///     }
/// }
/// ```
///
/// `impl Trait` returned from the `name = name_now` form without `use<..>`:
///
/// ```compile_fail
/// #[derive(Clone)]
/// struct Counter(u32);
/// impl Counter {
///     transparent_future::background! {
///         fn shown = shown_now(&self) -> impl std::fmt::Display { self.0 }
///     }
/// }
/// ```
///
/// `async fn`, `unsafe fn`, `const fn` and `extern` functions:
///
/// ```compile_fail
/// transparent_future::background! {
///     async fn fetch() -> u32 { 1 }
/// }
/// ```
///
/// ```compile_fail
/// transparent_future::background! {
///     unsafe fn read(p: usize) -> u8 { unsafe { *(p as *const u8) } }
/// }
/// ```
///
/// ```compile_fail
/// transparent_future::background! {
///     const fn one() -> u32 { 1 }
/// }
/// ```
///
/// ```compile_fail
/// transparent_future::background! {
///     extern "C" fn one() -> u32 { 1 }
/// }
/// ```
///
/// A function that never returns, and an item that is not a function:
///
/// ```compile_fail
/// transparent_future::background! {
///     fn forever() -> ! { loop {} }
/// }
/// ```
///
/// ```compile_fail
/// transparent_future::background! {
///     struct NotAFunction;
/// }
/// ```
///
/// Arguments and values that cannot cross threads are rejected by the compiler:
///
/// ```compile_fail,E0277
/// transparent_future::background! {
///     fn shared(n: u32) -> std::rc::Rc<u32> { std::rc::Rc::new(n) }
/// }
/// ```
#[macro_export]
macro_rules! background {
    // How it works. `macro_rules` fragments cannot split a signature (a `$p:pat` may not
    // be followed by `:`, `<`/`>` are not delimiters), so each item is munched through
    // these stages, each handing the remaining tokens on:
    //
    // 1. options   `on(..)` / `timeout(..)` become `([exec] [policy])`, passed as `$o`.
    // 2. `@items`  `@split` cuts the next item at its body, the first `{ .. }` group,
    //              eight tokens a step, and hands the rest back to `@items` beside the
    //              item (not inside it), so a long block does not nest ever deeper and
    //              hit the recursion limit.
    // 3. `@item`   attributes, visibility, `fn name` or `fn name = name_now`; a
    //              qualifier (`const`, `async`, `unsafe`, `extern`) is refused here.
    // 4. `@gen`    the generics, counting `<`/`>` depth (`<<` and `>>` are one token):
    //              kept verbatim, plus the names `{[type and const parameters, for a
    //              turbofish] [type parameters] [lifetimes]}`.
    // 5. `@args`   the argument group `(..)`, kept whole.
    // 6. `@ret`    `-> T` up to `where` or the body (no `-> T` means `()`); `@wh` the
    //              `where` clause up to the body; `@scan` looks for `impl` (and `use`)
    //              anywhere in the return type, inside groups too.
    // 7. `@one`    picks the form from the receiver and the return type, or refuses
    //              with a message naming what it refuses. The arguments come twice: one
    //              copy is matched against `self` literally, the other re-emitted (its
    //              `self` is the user's token; a `self` written by the macro would be a
    //              different variable under hygiene). `@fresh` then splits the arguments
    //              at each `:` at the top level into `([attributes] [pattern] name: Type)`,
    //              where every `__background_arg` name is made in its own expansion
    //              step, so hygiene keeps them apart. The forms:
    //    * `@task` (no receiver, or `self` / `mut self` / `self: Type`): the function
    //      takes the fresh names, and a `move` closure rebinds the user's patterns
    //      (`let (pattern,) = (name,);`, so `mut`, `ref` and `_` mean what they mean in
    //      a plain `fn`) and runs the body with the return type as the closure's.
    //    * `@inner` (no receiver, `impl Trait` in the return type, which a closure cannot
    //      name): the body becomes an inner `fn` with the user's exact signature, called
    //      from the task with the fresh names and a turbofish of the parameters.
    //    * `@now` (`fn name = name_now(&self, ..)`): `name_now` is the user's method
    //      verbatim; `name` calls it on a clone of `self` with the fresh names.
    // 8. `@lazy` / `@spawn`  the return type, and the one place that calls the crate's
    //              spawn functions.
    //
    // Bounds, in the `where` clause ahead of the user's own predicates: `Send + 'static`
    // on each type parameter, on an owned receiver's type and on the return type (unless
    // it holds `impl Trait`), and `'static` on each lifetime. The return type is bounded
    // as `<Option<T> as IntoIterator>::Item`, which is `T`: written as a bare `T` it would
    // make clippy report a type parameter bounded in two places in the user's code.
    //
    // Names: local bindings are hygienic, but an identifier in a pattern still resolves
    // to a unit struct or constant of that name in scope at the call site (items are not
    // hygienic in `macro_rules`), and that holds for every binding the macro could write:
    // `let`, closure and `fn` parameters, `match` arms alike. So the expansion binds only
    // the user's own patterns and `__background_`-prefixed names (`__background_arg`,
    // `__background_this`, the inner `fn __background_body`): a user item such as
    // `const this` or `struct this` cannot turn one of them into a pattern match.

    // ---- 1. options
    (on($exec:expr) timeout($policy:expr) $($rest:tt)*) => {
        $crate::background!(@items ([$exec] [$policy]) $($rest)*);
    };
    (timeout($policy:expr) on($exec:expr) $($rest:tt)*) => {
        $crate::background!(@items ([$exec] [$policy]) $($rest)*);
    };
    (on($exec:expr) $($rest:tt)*) => {
        $crate::background!(@items ([$exec] []) $($rest)*);
    };
    (timeout($policy:expr) $($rest:tt)*) => {
        $crate::background!(@items ([] [$policy]) $($rest)*);
    };

    // ---- 2. the items: split off the next one at its body, the first `{ .. }` group,
    // eight tokens a step (the rest goes on beside this item, not inside it).
    (@items $o:tt) => {};
    (@items $o:tt $($rest:tt)+) => {
        $crate::background!(@split $o [] $($rest)+);
    };
    (@split $o:tt [$($s:tt)*] {$($b:tt)*} $($rest:tt)*) => {
        $crate::background!(@item $o $($s)* {$($b)*});
        $crate::background!(@items $o $($rest)*);
    };
    (@split $o:tt [$($s:tt)*] $t1:tt {$($b:tt)*} $($rest:tt)*) => {
        $crate::background!(@item $o $($s)* $t1 {$($b)*});
        $crate::background!(@items $o $($rest)*);
    };
    (@split $o:tt [$($s:tt)*] $t1:tt $t2:tt {$($b:tt)*} $($rest:tt)*) => {
        $crate::background!(@item $o $($s)* $t1 $t2 {$($b)*});
        $crate::background!(@items $o $($rest)*);
    };
    (@split $o:tt [$($s:tt)*] $t1:tt $t2:tt $t3:tt {$($b:tt)*} $($rest:tt)*) => {
        $crate::background!(@item $o $($s)* $t1 $t2 $t3 {$($b)*});
        $crate::background!(@items $o $($rest)*);
    };
    (@split $o:tt [$($s:tt)*] $t1:tt $t2:tt $t3:tt $t4:tt {$($b:tt)*} $($rest:tt)*) => {
        $crate::background!(@item $o $($s)* $t1 $t2 $t3 $t4 {$($b)*});
        $crate::background!(@items $o $($rest)*);
    };
    (@split $o:tt [$($s:tt)*] $t1:tt $t2:tt $t3:tt $t4:tt $t5:tt {$($b:tt)*} $($rest:tt)*) => {
        $crate::background!(@item $o $($s)* $t1 $t2 $t3 $t4 $t5 {$($b)*});
        $crate::background!(@items $o $($rest)*);
    };
    (@split $o:tt [$($s:tt)*] $t1:tt $t2:tt $t3:tt $t4:tt $t5:tt $t6:tt {$($b:tt)*}
        $($rest:tt)*
    ) => {
        $crate::background!(@item $o $($s)* $t1 $t2 $t3 $t4 $t5 $t6 {$($b)*});
        $crate::background!(@items $o $($rest)*);
    };
    (@split $o:tt [$($s:tt)*] $t1:tt $t2:tt $t3:tt $t4:tt $t5:tt $t6:tt $t7:tt {$($b:tt)*}
        $($rest:tt)*
    ) => {
        $crate::background!(@item $o $($s)* $t1 $t2 $t3 $t4 $t5 $t6 $t7 {$($b)*});
        $crate::background!(@items $o $($rest)*);
    };
    (@split $o:tt [$($s:tt)*] $t1:tt $t2:tt $t3:tt $t4:tt $t5:tt $t6:tt $t7:tt $t8:tt
        $($rest:tt)+
    ) => {
        $crate::background!(@split $o [$($s)* $t1 $t2 $t3 $t4 $t5 $t6 $t7 $t8] $($rest)+);
    };
    (@split $o:tt [$($s:tt)*] $($rest:tt)*) => {
        $crate::background!(@item $o $($s)* $($rest)*);
    };

    // ---- 3. one item: attributes, visibility, qualifiers, name
        (@item $o:tt $(#[$attr:meta])* $vis:vis const $($rest:tt)*) => {
        ::core::compile_error!(
            "background!: `const fn` is not supported: the function spawns a task at run \
             time, so it cannot be evaluated in a constant; remove `const`"
        );
    };
    (@item $o:tt $(#[$attr:meta])* $vis:vis async $($rest:tt)*) => {
        ::core::compile_error!(
            "background!: `async fn` is not supported: the function already returns a \
             `Lazy` at once, and a `Lazy` can be `.await`ed; remove `async`"
        );
    };
    (@item $o:tt $(#[$attr:meta])* $vis:vis unsafe $($rest:tt)*) => {
        ::core::compile_error!(
            "background!: `unsafe fn` is not supported: the body would run on another \
             thread, outside the caller's `unsafe` block; write a safe `fn` with an \
             `unsafe` block inside"
        );
    };
    (@item $o:tt $(#[$attr:meta])* $vis:vis extern $($rest:tt)*) => {
        ::core::compile_error!(
            "background!: `extern` functions are not supported: the function returns a \
             `Lazy`, which has no foreign ABI; call the `extern` function from a plain `fn`"
        );
    };
    (@item $o:tt $(#[$attr:meta])* $vis:vis fn $name:ident = $now:ident $($rest:tt)*) => {
        $crate::background!(@generics $o {[$(#[$attr])*] [$vis] $name [$now]} $($rest)*);
    };
    (@item $o:tt $(#[$attr:meta])* $vis:vis fn $name:ident $($rest:tt)*) => {
        $crate::background!(@generics $o {[$(#[$attr])*] [$vis] $name []} $($rest)*);
    };
    (@item $o:tt $($rest:tt)+) => {
        $crate::background!(@not_fn $($rest)+);
    };
    (@not_fn #[$attr:meta] $($rest:tt)*) => { $crate::background!(@not_fn $($rest)*); };
    (@not_fn pub ($($in:tt)*) $($rest:tt)*) => { $crate::background!(@not_fn $($rest)*); };
    (@not_fn pub $($rest:tt)*) => { $crate::background!(@not_fn $($rest)*); };
    (@not_fn $($found:tt)*) => {
        ::core::compile_error!(::core::concat!(
            "background!: expected a `fn` item (`fn name(args) -> T { body }`), after the ",
            "options `on(executor)` and `timeout(policy)`; found `",
            ::core::stringify!($($found)*),
            "`"
        ));
    };

    // ---- 4. generics: [verbatim] {[turbofish names] [type parameters] [lifetimes]}
    // [at the start of a parameter?] [depth beyond the first `<`]
    (@generics $o:tt $h:tt < $($rest:tt)*) => {
        $crate::background!(@gen $o $h [] {[] [] []} [start] [] $($rest)*);
    };
    (@generics $o:tt $h:tt $($rest:tt)*) => {
        $crate::background!(@args $o $h [] {[] [] []} $($rest)*);
    };
    (@gen $o:tt $h:tt [$($g:tt)*] $nm:tt $s:tt [] > $($rest:tt)*) => {
        $crate::background!(@args $o $h [$($g)*] $nm $($rest)*);
    };
    (@gen $o:tt $h:tt [$($g:tt)*] $nm:tt $s:tt [$d:tt] >> $($rest:tt)*) => {
        $crate::background!(@args $o $h [$($g)* >] $nm $($rest)*);
    };
    (@gen $o:tt $h:tt [$($g:tt)*] $nm:tt $s:tt [$d:tt $($ds:tt)*] > $($rest:tt)*) => {
        $crate::background!(@gen $o $h [$($g)* >] $nm $s [$($ds)*] $($rest)*);
    };
    (@gen $o:tt $h:tt [$($g:tt)*] $nm:tt $s:tt [$d:tt $e:tt $($ds:tt)*] >> $($rest:tt)*) => {
        $crate::background!(@gen $o $h [$($g)* >>] $nm $s [$($ds)*] $($rest)*);
    };
    (@gen $o:tt $h:tt [$($g:tt)*] $nm:tt $s:tt [$($ds:tt)*] < $($rest:tt)*) => {
        $crate::background!(@gen $o $h [$($g)* <] $nm $s [< $($ds)*] $($rest)*);
    };
    (@gen $o:tt $h:tt [$($g:tt)*] $nm:tt $s:tt [$($ds:tt)*] << $($rest:tt)*) => {
        $crate::background!(@gen $o $h [$($g)* <<] $nm $s [< < $($ds)*] $($rest)*);
    };
    (@gen $o:tt $h:tt [$($g:tt)*] {[$($tf:tt)*] $tp:tt $lt:tt} [start] []
        const $n:ident $($rest:tt)*
    ) => {
        $crate::background!(@gen $o $h [$($g)* const $n] {[$($tf)* $n] $tp $lt} [] []
            $($rest)*);
    };
    (@gen $o:tt $h:tt [$($g:tt)*] {$tf:tt $tp:tt [$($lt:tt)*]} [start] []
        $l:lifetime $($rest:tt)*
    ) => {
        $crate::background!(@gen $o $h [$($g)* $l] {$tf $tp [$($lt)* $l]} [] [] $($rest)*);
    };
    (@gen $o:tt $h:tt [$($g:tt)*] {[$($tf:tt)*] [$($tp:tt)*] $lt:tt} [start] []
        $n:ident $($rest:tt)*
    ) => {
        $crate::background!(@gen $o $h [$($g)* $n] {[$($tf)* $n] [$($tp)* $n] $lt} [] []
            $($rest)*);
    };
    (@gen $o:tt $h:tt [$($g:tt)*] $nm:tt $s:tt [] , $($rest:tt)*) => {
        $crate::background!(@gen $o $h [$($g)* ,] $nm [start] [] $($rest)*);
    };
    (@gen $o:tt $h:tt [$($g:tt)*] $nm:tt $s:tt $d:tt $t:tt $($rest:tt)*) => {
        $crate::background!(@gen $o $h [$($g)* $t] $nm $s $d $($rest)*);
    };
    (@gen $o:tt {$x:tt $v:tt $name:ident $now:tt} $g:tt $nm:tt $s:tt $d:tt) => {
        ::core::compile_error!(::core::concat!(
            "background!: unclosed `<` in the generics of `fn ",
            ::core::stringify!($name),
            "`"
        ));
    };

    // ---- 5. the arguments, kept whole
    (@args $o:tt $h:tt $g:tt $nm:tt ($($a:tt)*) $($rest:tt)*) => {
        $crate::background!(@ret $o $h $g $nm ($($a)*) $($rest)*);
    };
    (@args $o:tt {$x:tt $v:tt $name:ident $now:tt} $g:tt $nm:tt $($rest:tt)*) => {
        ::core::compile_error!(::core::concat!(
            "background!: expected the argument list `(..)` of `fn ",
            ::core::stringify!($name),
            "` after its name and generics"
        ));
    };

    // ---- 6. the return type, the `where` clause and the body; then `@scan` looks for
    // `impl` (and `use<..>`) anywhere in the return type, groups included.
    (@ret $o:tt $h:tt $g:tt $nm:tt $a:tt -> $($rest:tt)*) => {
        $crate::background!(@rty $o $h $g $nm $a [] $($rest)*);
    };
    (@ret $o:tt $h:tt $g:tt $nm:tt $a:tt where $($rest:tt)*) => {
        $crate::background!(@wh $o $h $g $nm $a [()] [] $($rest)*);
    };
    (@ret $o:tt $h:tt $g:tt $nm:tt $a:tt {$($b:tt)*}) => {
        $crate::background!(@one $o $h $g $nm $a $a [()] [] {$($b)*} []);
    };
    (@ret $o:tt {$x:tt $v:tt $name:ident $now:tt} $g:tt $nm:tt $a:tt $($rest:tt)*) => {
        ::core::compile_error!(::core::concat!(
            "background!: expected `-> T`, `where` or the body `{ .. }` after the arguments ",
            "of `fn ",
            ::core::stringify!($name),
            "`"
        ));
    };
    (@rty $o:tt $h:tt $g:tt $nm:tt $a:tt $r:tt where $($rest:tt)*) => {
        $crate::background!(@wh $o $h $g $nm $a $r [] $($rest)*);
    };
    (@rty $o:tt $h:tt $g:tt $nm:tt $a:tt [$($r:tt)*] {$($b:tt)*}) => {
        $crate::background!(@scan [@one $o $h $g $nm $a $a [$($r)*] [] {$($b)*}] [] []
            $($r)*);
    };
    (@rty $o:tt $h:tt $g:tt $nm:tt $a:tt [$($r:tt)*] $t:tt $($rest:tt)*) => {
        $crate::background!(@rty $o $h $g $nm $a [$($r)* $t] $($rest)*);
    };
    (@rty $o:tt {$x:tt $v:tt $name:ident $now:tt} $($rest:tt)*) => {
        ::core::compile_error!(::core::concat!(
            "background!: expected the body `{ .. }` of `fn ",
            ::core::stringify!($name),
            "`"
        ));
    };
    (@wh $o:tt $h:tt $g:tt $nm:tt $a:tt [$($r:tt)*] $w:tt {$($b:tt)*}) => {
        $crate::background!(@scan [@one $o $h $g $nm $a $a [$($r)*] $w {$($b)*}] [] []
            $($r)*);
    };
    (@wh $o:tt $h:tt $g:tt $nm:tt $a:tt $r:tt [$($w:tt)*] $t:tt $($rest:tt)*) => {
        $crate::background!(@wh $o $h $g $nm $a $r [$($w)* $t] $($rest)*);
    };
    (@wh $o:tt {$x:tt $v:tt $name:ident $now:tt} $($rest:tt)*) => {
        ::core::compile_error!(::core::concat!(
            "background!: expected the body `{ .. }` of `fn ",
            ::core::stringify!($name),
            "` after its `where` clause"
        ));
    };
    (@scan [$($k:tt)*] [$($i:tt)?] [$($u:tt)?]) => {
        $crate::background!($($k)* [$($i)? $($u)?]);
    };
    (@scan $k:tt $i:tt $u:tt impl $($r:tt)*) => {
        $crate::background!(@scan $k [impl] $u $($r)*);
    };
    (@scan $k:tt $i:tt $u:tt use $($r:tt)*) => {
        $crate::background!(@scan $k $i [use] $($r)*);
    };
    (@scan $k:tt $i:tt $u:tt ($($x:tt)*) $($r:tt)*) => {
        $crate::background!(@scan $k $i $u $($x)* $($r)*);
    };
    (@scan $k:tt $i:tt $u:tt [$($x:tt)*] $($r:tt)*) => {
        $crate::background!(@scan $k $i $u $($x)* $($r)*);
    };
    (@scan $k:tt $i:tt $u:tt {$($x:tt)*} $($r:tt)*) => {
        $crate::background!(@scan $k $i $u $($x)* $($r)*);
    };
    (@scan $k:tt $i:tt $u:tt $t:tt $($r:tt)*) => {
        $crate::background!(@scan $k $i $u $($r)*);
    };

    // ---- 7. one item: `@one $o $head [generics] {names} (args) (args) [ret] [where]
    // {body} [impl?]`. The arguments come twice: the first copy is matched against `self`
    // literally, the second is re-emitted (its `self` is the user's token, which the
    // user's body can see). Refusals first, then the three forms.
    (@one $o:tt $h:tt $g:tt $nm:tt $a:tt $va:tt [!] $w:tt $b:tt $f:tt) => {
        ::core::compile_error!(
            "background!: the return type `!` is not supported: a background task must end \
             with a value to wait for; return `()` or a value"
        );
    };
    (@one $o:tt $h:tt $g:tt $nm:tt (& $($l:lifetime)? mut self $($y:tt)*) $($x:tt)*) => {
        $crate::background!(@mut_self);
    };
    (@one $o:tt $h:tt $g:tt $nm:tt ($(mut)? self : & $($l:lifetime)? mut $($y:tt)*)
        $($x:tt)*
    ) => {
        $crate::background!(@mut_self);
    };
    // `fn name = name_now(&self, ..)`: the plain method is the user's; `impl Trait` in its
    // return type must not capture the borrow of `self` (edition 2024 captures it unless
    // told otherwise by `use<..>`), since the value outlives it.
    (@one $o:tt {$at:tt $v:tt $name:ident [$now:ident]} $g:tt $nm:tt
        (& $($l:lifetime)? self $($y:tt)*) $va:tt $r:tt $w:tt $b:tt [impl]
    ) => {
        ::core::compile_error!(::core::concat!(
            "background!: `impl Trait` in the return type of `fn ",
            ::core::stringify!($name),
            " = ",
            ::core::stringify!($now),
            "(&self, ..)` needs `+ use<..>` naming what it captures without the lifetime of ",
            "`&self` (e.g. `-> impl Display + use<>`, or `use<T>` with type parameters): ",
            "the value outlives the borrow of `self`"
        ));
    };
    (@one $o:tt {$at:tt $v:tt $name:ident [$now:ident]} $g:tt $nm:tt
        (& $($l:lifetime)? self $($y:tt)*)
        (& $($l2:lifetime)? $s:ident $(, $($a:tt)*)?) [$($r:tt)*] $w:tt $b:tt []
    ) => {
        $crate::background!(@fresh
            [@now $o {$at $v $name [$now]} $g $nm (& $($l2)? $s $(, $($a)*)?)
                [& $($l2)? $s] [$($r)*] $w $b
                [<::core::option::Option<$($r)*> as ::core::iter::IntoIterator>::Item:
                    ::core::marker::Send + 'static,]]
            [] [] [] $($($a)*)?
        );
    };
    (@one $o:tt {$at:tt $v:tt $name:ident [$now:ident]} $g:tt $nm:tt
        (& $($l:lifetime)? self $($y:tt)*)
        (& $($l2:lifetime)? $s:ident $(, $($a:tt)*)?) $r:tt $w:tt $b:tt [impl use]
    ) => {
        $crate::background!(@fresh
            [@now $o {$at $v $name [$now]} $g $nm (& $($l2)? $s $(, $($a)*)?)
                [& $($l2)? $s] $r $w $b []]
            [] [] [] $($($a)*)?
        );
    };
    (@one $o:tt {$at:tt $v:tt $name:ident [$now:ident]} $($x:tt)*) => {
        ::core::compile_error!(::core::concat!(
            "background!: the `fn ",
            ::core::stringify!($name),
            " = ",
            ::core::stringify!($now),
            "(&self, ..)` form needs a `&self` receiver: it calls `",
            ::core::stringify!($now),
            "` on a clone of `self`"
        ));
    };
    (@one $o:tt $h:tt $g:tt $nm:tt (& $($l:lifetime)? self $($y:tt)*) $($x:tt)*) => {
        $crate::background!(@ref_self);
    };
    (@one $o:tt $h:tt $g:tt $nm:tt ($(mut)? self : & $($y:tt)*) $($x:tt)*) => {
        $crate::background!(@ref_self);
    };
    // Owned receivers: `self`, `mut self`, `self: Type`, `mut self: Type`.
    (@one $o:tt $h:tt $g:tt $nm:tt ($(mut)? self $($y:tt)*) $va:tt $r:tt $w:tt $b:tt
        [impl $($u:tt)?]
    ) => {
        ::core::compile_error!(
            "background!: `impl Trait` in the return type is not supported with a `self` \
             receiver (the task's closure cannot name it): write the concrete type, or use \
             the `fn name = name_now(&self, ..)` form"
        );
    };
    (@one $o:tt $h:tt $g:tt $nm:tt ($(mut)? self : $($y:tt)*)
        (mut $s:ident : $t:ty $(, $($a:tt)*)?) $r:tt $w:tt $b:tt []
    ) => {
        $crate::background!(@fresh
            [@task $o $h $g $nm [mut $s: $t,] [$t: ::core::marker::Send + 'static,] $r $w $b]
            [] [] [] $($($a)*)?);
    };
    (@one $o:tt $h:tt $g:tt $nm:tt ($(mut)? self : $($y:tt)*)
        ($s:ident : $t:ty $(, $($a:tt)*)?) $r:tt $w:tt $b:tt []
    ) => {
        $crate::background!(@fresh
            [@task $o $h $g $nm [$s: $t,] [$t: ::core::marker::Send + 'static,] $r $w $b]
            [] [] [] $($($a)*)?);
    };
    (@one $o:tt $h:tt $g:tt $nm:tt ($(mut)? self $($y:tt)*)
        (mut $s:ident $(, $($a:tt)*)?) $r:tt $w:tt $b:tt []
    ) => {
        $crate::background!(@fresh
            [@task $o $h $g $nm [mut $s,] [Self: ::core::marker::Send + 'static,] $r $w $b]
            [] [] [] $($($a)*)?);
    };
    (@one $o:tt $h:tt $g:tt $nm:tt ($(mut)? self $($y:tt)*)
        ($s:ident $(, $($a:tt)*)?) $r:tt $w:tt $b:tt []
    ) => {
        $crate::background!(@fresh
            [@task $o $h $g $nm [$s,] [Self: ::core::marker::Send + 'static,] $r $w $b]
            [] [] [] $($($a)*)?);
    };
    // No receiver.
    (@one $o:tt $h:tt $g:tt $nm:tt $a:tt ($($va:tt)*) $r:tt $w:tt $b:tt [impl $($u:tt)?]) => {
        $crate::background!(@fresh [@inner $o $h $g $nm ($($va)*) $r $w $b] [] [] []
            $($va)*);
    };
    (@one $o:tt $h:tt $g:tt $nm:tt $a:tt ($($va:tt)*) $r:tt $w:tt $b:tt []) => {
        $crate::background!(@fresh [@task $o $h $g $nm [] [] $r $w $b] [] [] [] $($va)*);
    };

    (@mut_self) => {
        ::core::compile_error!(
            "background!: `&mut self` receivers are not supported: the task outlives the \
             borrow; take `self` or `self: Arc<Self>` (with interior mutability) instead"
        );
    };
    (@ref_self) => {
        ::core::compile_error!(
            "background!: a `&self` receiver needs the `fn name = name_now(&self, ..)` form: \
             the task outlives the borrow, so the macro writes the plain method `name_now` \
             and calls it on a clone of `self`; or take `self: Arc<Self>`"
        );
    };

    // Fresh names for the arguments: [continuation] [done] [attributes] [pattern so far]
    // arguments. Each done argument is `([attributes] [pattern] fresh_name: Type)`.
    (@fresh $k:tt $d:tt [$($at:tt)*] [] # [$($m:tt)*] $($rest:tt)*) => {
        $crate::background!(@fresh $k $d [$($at)* #[$($m)*]] [] $($rest)*);
    };
    (@fresh $k:tt [$($d:tt)*] $at:tt [$($p:tt)+] : $t:ty , $($rest:tt)*) => {
        $crate::background!(@fresh $k [$($d)* ($at [$($p)+] __background_arg: $t)] [] []
            $($rest)*);
    };
    (@fresh $k:tt [$($d:tt)*] $at:tt [$($p:tt)+] : $t:ty) => {
        $crate::background!(@fresh $k [$($d)* ($at [$($p)+] __background_arg: $t)] [] []);
    };
    (@fresh [$($k:tt)*] $d:tt [] []) => {
        $crate::background!($($k)* $d);
    };
    (@fresh $k:tt $d:tt $at:tt [$($p:tt)*] $t:tt $($rest:tt)*) => {
        $crate::background!(@fresh $k $d $at [$($p)* $t] $($rest)*);
    };
    (@fresh $k:tt $d:tt $at:tt [$($p:tt)*]) => {
        ::core::compile_error!(::core::concat!(
            "background!: expected `: Type` after the argument `",
            ::core::stringify!($($p)*),
            "`"
        ));
    };

    // The task form: the arguments under fresh names, rebound to the user's patterns
    // inside the `move` closure that runs the body (so `ref`, `mut` and `_` patterns mean
    // there what they mean in a plain `fn`).
    (@task $o:tt {[$($attr:tt)*] [$vis:vis] $name:ident []} [$($g:tt)*]
        {$tf:tt [$($tp:ident)*] [$($lt:lifetime)*]} [$($recv:tt)*] [$($wb:tt)*] [$($r:tt)*]
        [$($w:tt)*] {$($b:tt)*} [$(([$($at:tt)*] [$($p:tt)*] $n:ident : $t:ty))*]
    ) => {
        $($attr)*
        $vis fn $name<$($g)*>($($recv)* $($($at)* $n: $t),*)
            -> $crate::background!(@lazy $o [$($r)*])
        where
            $($tp: ::core::marker::Send + 'static,)*
            $($lt: 'static,)*
            <::core::option::Option<$($r)*> as ::core::iter::IntoIterator>::Item: ::core::marker::Send + 'static,
            $($wb)*
            $($w)*
        {
            $crate::background!(@spawn $o move || -> $($r)* {
                $($($at)* let ($($p)*,) = ($n,);)*
                { $($b)* }
            })
        }
    };

    // The inner-fn form, for `impl Trait` in the return type of a function.
    (@inner $o:tt {[$($attr:tt)*] [$vis:vis] $name:ident []} [$($g:tt)*]
        {[$($tf:ident)*] [$($tp:ident)*] [$($lt:lifetime)*]} ($($a:tt)*) [$($r:tt)*]
        [$($w:tt)*] {$($b:tt)*} [$(([$($at:tt)*] $p:tt $n:ident : $t:ty))*]
    ) => {
        $($attr)*
        $vis fn $name<$($g)*>($($($at)* $n: $t),*) -> $crate::background!(@lazy $o [$($r)*])
        where
            $($tp: ::core::marker::Send + 'static,)*
            $($lt: 'static,)*
            $($w)*
        {
            fn __background_body<$($g)*>($($a)*) -> $($r)* where $($w)* { $($b)* }
            $crate::background!(@spawn $o move || __background_body::<$($tf),*>($($n),*))
        }
    };

    // The `name = name_now(&self, ..)` form.
    (@now $o:tt {[$($attr:tt)*] [$vis:vis] $name:ident [$now:ident]} [$($g:tt)*]
        {[$($tf:ident)*] [$($tp:ident)*] [$($lt:lifetime)*]} ($($a:tt)*)
        [& $($rl:lifetime)? $s:ident] [$($r:tt)*] [$($w:tt)*] {$($b:tt)*} [$($wb:tt)*]
        [$(([$($at:tt)*] $p:tt $n:ident : $t:ty))*]
    ) => {
        $($attr)*
        $vis fn $now<$($g)*>($($a)*) -> $($r)* where $($w)* { $($b)* }

        $($attr)*
        $vis fn $name<$($g)*>(& $($rl)? $s $(, $($at)* $n: $t)*)
            -> $crate::background!(@lazy $o [$($r)*])
        where
            Self: ::core::clone::Clone + ::core::marker::Send + 'static,
            $($tp: ::core::marker::Send + 'static,)*
            $($lt: 'static,)*
            $($wb)*
            $($w)*
        {
            let __background_this = ::core::clone::Clone::clone($s);
            $crate::background!(@spawn $o move || {
                Self::$now::<$($tf),*>(&__background_this $(, $n)*)
            })
        }
    };

    // ---- 8. the return type and the spawn call for each combination of options
    (@lazy ([$($e:tt)*] []) [$($r:tt)*]) => { $crate::Lazy<$($r)*> };
    (@lazy ([$($e:tt)*] [$p:expr]) [$($r:tt)*]) => { $crate::Lazy<$crate::Outcome<$($r)*>> };
    (@spawn ([] []) $f:expr) => { $crate::spawn_lazy($f) };
    (@spawn ([$e:expr] []) $f:expr) => {
        match $crate::Builder::new().on(&$e).spawn($f) {
            ::core::result::Result::Ok(lazy) => lazy,
            ::core::result::Result::Err(e) => ::core::panic!(
                "transparent_future: a background! function could not start its task: {}", e
            ),
        }
    };
    (@spawn ([] [$p:expr]) $f:expr) => { $crate::spawn_lazy_with($p, $f) };
    (@spawn ([$e:expr] [$p:expr]) $f:expr) => {
        match $crate::Builder::new().on(&$e).timeout($p).spawn($f) {
            ::core::result::Result::Ok(lazy) => lazy,
            ::core::result::Result::Err(e) => ::core::panic!(
                "transparent_future: a background! function could not start its task: {}", e
            ),
        }
    };

    // ---- 1'. no options: the items themselves
    ($($items:tt)*) => {
        $crate::background!(@items ([] []) $($items)*);
    };
}
