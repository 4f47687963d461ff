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
/// Attributes, doc comments and visibility are kept. Write the return type as the
/// value's type; the generated function returns `Lazy<T>` (or `Lazy<Outcome<T>>` with
/// a timeout). Arguments move into the task, so they must be `Send + 'static`.
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
/// Type parameters with one bound each are accepted; the macro adds
/// `Send + 'static`:
///
/// ```
/// transparent_future::background! {
///     fn describe<T: std::fmt::Debug>(value: T) -> String {
///         format!("{value:?}")
///     }
/// }
/// assert_eq!(*describe(vec![1, 2]), "[1, 2]");
/// ```
///
/// # Methods
///
/// Inside an `impl` block, a receiver that can move into the task is accepted:
/// `self` (for a `Clone` type, call it on a clone) and `self: Arc<Self>`. For `&self`
/// on a `Clone + Send + 'static` type, name the plain version too
/// (`fn method = method_now(&self, ...)`): the macro writes both, and the background one
/// calls the plain one on a clone of `self`.
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
///         fn shout(self, name: &'static str) -> String {
///             format!("{} {name}!", self.greeting.to_uppercase())
///         }
///         fn whisper = whisper_now(&self, name: &'static str) -> String {
///             format!("{}... {name}", self.greeting.to_lowercase())
///         }
///     }
/// }
///
/// let g = Arc::new(Greeter { greeting: "Hello".into() });
/// assert_eq!(*g.clone().greet("Io"), "Hello Io");
/// assert_eq!(*(*g).clone().shout("Io"), "HELLO Io!");
/// assert_eq!(*g.whisper("Io"), "hello... Io");
/// assert_eq!(g.whisper_now("Io"), "hello... Io");
/// ```
#[macro_export]
macro_rules! background {
    // Options first: `on(expr)` and/or `timeout(expr)`.
    (on($exec:expr) timeout($policy:expr) $($rest:tt)*) => {
        $crate::background!(@items [$exec] [$policy] $($rest)*);
    };
    (timeout($policy:expr) on($exec:expr) $($rest:tt)*) => {
        $crate::background!(@items [$exec] [$policy] $($rest)*);
    };
    (on($exec:expr) $($rest:tt)*) => {
        $crate::background!(@items [$exec] [] $($rest)*);
    };
    (timeout($policy:expr) $($rest:tt)*) => {
        $crate::background!(@items [] [$policy] $($rest)*);
    };

    // The items, one at a time. Receivers are captured from the input (`self` is
    // hygienic in macros): `self: Arc<Self>` is an ordinary typed first argument.
    (@items [$($e:expr)?] [$($p:expr)?]) => {};
    (@items [$($e:expr)?] [$($p:expr)?]
        $(#[$attr:meta])*
        $vis:vis fn $name:ident $(<$($g:ident : $b:path),+ $(,)?>)?
            ($s:ident $(, $arg:ident : $ty:ty)* $(,)?) -> $ret:ty $body:block
        $($rest:tt)*
    ) => {
        $(#[$attr])*
        $vis fn $name $(<$($g: $b + ::core::marker::Send + 'static),+>)?
            ($s $(, $arg: $ty)*) -> $crate::background!(@ret [$($p)?] $ret)
        {
            $crate::background!(@spawn [$($e)?] [$($p)?] move || -> $ret { $body })
        }
        $crate::background!(@items [$($e)?] [$($p)?] $($rest)*);
    };
    (@items [$($e:expr)?] [$($p:expr)?]
        $(#[$attr:meta])*
        $vis:vis fn $name:ident = $now:ident $(<$($g:ident : $b:path),+ $(,)?>)?
            (& $s:ident $(, $arg:ident : $ty:ty)* $(,)?) -> $ret:ty $body:block
        $($rest:tt)*
    ) => {
        $(#[$attr])*
        $vis fn $now $(<$($g: $b),+>)? (&$s $(, $arg: $ty)*) -> $ret $body

        $(#[$attr])*
        $vis fn $name $(<$($g: $b + ::core::marker::Send + 'static),+>)?
            (&$s $(, $arg: $ty)*) -> $crate::background!(@ret [$($p)?] $ret)
        {
            let this = ::core::clone::Clone::clone($s);
            $crate::background!(@spawn [$($e)?] [$($p)?] move || -> $ret {
                this.$now($($arg),*)
            })
        }
        $crate::background!(@items [$($e)?] [$($p)?] $($rest)*);
    };
    (@items [$($e:expr)?] [$($p:expr)?]
        $(#[$attr:meta])*
        $vis:vis fn $name:ident $(<$($g:ident : $b:path),+ $(,)?>)?
            ($($arg:ident : $ty:ty),* $(,)?) -> $ret:ty $body:block
        $($rest:tt)*
    ) => {
        $(#[$attr])*
        $vis fn $name $(<$($g: $b + ::core::marker::Send + 'static),+>)?
            ($($arg: $ty),*) -> $crate::background!(@ret [$($p)?] $ret)
        {
            $crate::background!(@spawn [$($e)?] [$($p)?] move || -> $ret { $body })
        }
        $crate::background!(@items [$($e)?] [$($p)?] $($rest)*);
    };

    (@items [$($e:expr)?] [$($p:expr)?] $($rest:tt)+) => {
        ::core::compile_error!(concat!(
            "background!: expected `fn name(args) -> T { body }`, optionally with a ",
            "`self`, `self: Arc<Self>` or `fn name = name_now(&self, ..)` receiver, ",
            "after the options `on(executor)` and `timeout(policy)`; found: ",
            stringify!($($rest)+)
        ));
    };

    // The return type and the spawn call for each combination of options.
    (@ret [] $ret:ty) => { $crate::Lazy<$ret> };
    (@ret [$p:expr] $ret:ty) => { $crate::Lazy<$crate::Outcome<$ret>> };
    (@spawn [] [] $f:expr) => { $crate::spawn_lazy($f) };
    (@spawn [$e:expr] [] $f:expr) => {
        match $crate::Builder::new().on(&$e).spawn($f) {
            ::core::result::Result::Ok(lazy) => lazy,
            ::core::result::Result::Err(e) => ::core::panic!(
                "transparent_future: a background! function could not start its task: {}", e
            ),
        }
    };
    (@spawn [] [$p:expr] $f:expr) => { $crate::spawn_lazy_with($p, $f) };
    (@spawn [$e:expr] [$p:expr] $f:expr) => {
        match $crate::Builder::new().on(&$e).timeout($p).spawn($f) {
            ::core::result::Result::Ok(lazy) => lazy,
            ::core::result::Result::Err(e) => ::core::panic!(
                "transparent_future: a background! function could not start its task: {}", e
            ),
        }
    };

    // No options: the items themselves.
    ($($items:tt)*) => {
        $crate::background!(@items [] [] $($items)*);
    };
}
