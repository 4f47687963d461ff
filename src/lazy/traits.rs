//! The value's standard traits, forwarded through the handle: formatting, comparison,
//! hashing, borrowing and iteration. Each forwarding impl blocks until the value is
//! there, except `Debug`, which never blocks.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use crate::lazy::{Lazy, Peek};

impl<T: fmt::Debug> fmt::Debug for Lazy<T> {
    /// Never blocks: shows `Lazy(value)` once the value is there, `Lazy(<pending>)`
    /// before, `Lazy(<panicked>)` if the task panicked (as `LazyLock` does), and
    /// `Lazy(<broken promise>)` if its [`Promise`](crate::Promise) was dropped unset.
    ///
    /// ```
    /// use transparent_future::{spawn_lazy, Lazy};
    ///
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// let x = spawn_lazy(move || { rx.recv().unwrap(); 5 });
    /// assert_eq!(format!("{x:?}"), "Lazy(<pending>)");
    /// tx.send(()).unwrap();
    /// let _ = *x;
    /// assert_eq!(format!("{x:?}"), "Lazy(5)");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_tuple("Lazy");
        match Lazy::peek(self) {
            Peek::Ready(value) => d.field(value),
            Peek::Pending => d.field(&format_args!("<pending>")),
            Peek::Panicked => d.field(&format_args!("<panicked>")),
            Peek::Broken => d.field(&format_args!("<broken promise>")),
        };
        d.finish()
    }
}

/// Formatting traits that block for the value and format it as the value would.
macro_rules! forward_fmt_for {
    ($handle:ident: $($tr:ident),*) => {$(
        impl<T: fmt::$tr> fmt::$tr for $handle<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::$tr::fmt(&**self, f)
            }
        }
    )*};
}

forward_fmt_for!(Lazy: Binary, Octal, LowerHex, UpperHex, LowerExp, UpperExp);

impl<T: fmt::Display> fmt::Display for Lazy<T> {
    /// Blocks until the value is there, then formats it exactly as the value would
    /// (width, precision and flags included).
    ///
    /// ```
    /// let x = transparent_future::spawn_lazy(|| 2.5_f64);
    /// assert_eq!(format!("[{x:>6.2}]"), "[  2.50]");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T, U> PartialEq<U> for Lazy<T>
where
    T: PartialEq<U>,
    U: ?Sized,
{
    /// Compares the value with anything the value compares with: `x == 3`,
    /// `s == "hi"`, `z == Outcome::Timeout`. Blocks until the value is there.
    ///
    /// ```
    /// use transparent_future::spawn_lazy;
    /// let s = spawn_lazy(|| String::from("hi"));
    /// assert!(s == "hi");
    /// let x = spawn_lazy(|| 3);
    /// assert!(x == 3 && x != 4);
    /// assert!(x == spawn_lazy(|| 3)); // future with future, for the primitives
    /// ```
    fn eq(&self, other: &U) -> bool {
        **self == *other
    }
}

impl<T, U> PartialOrd<U> for Lazy<T>
where
    T: PartialOrd<U>,
    U: ?Sized,
{
    /// Orders the value against anything the value orders against: `x < 10`.
    ///
    /// ```
    /// let x = transparent_future::spawn_lazy(|| 3);
    /// assert!(x < 10 && x >= 3);
    /// ```
    fn partial_cmp(&self, other: &U) -> Option<Ordering> {
        (**self).partial_cmp(other)
    }
}

impl<T> Eq for Lazy<T> where T: Eq + PartialEq<Lazy<T>> {}

impl<T> Ord for Lazy<T>
where
    T: Ord + PartialEq<Lazy<T>> + PartialOrd<Lazy<T>>,
{
    /// Orders two futures by their values; available where `T` compares with
    /// `Lazy<T>` (the primitives, `String`, and user types that opt in with
    /// [`impl_reverse_ops!`](crate::impl_reverse_ops)).
    ///
    /// ```
    /// use transparent_future::{spawn_lazy, Lazy};
    /// let mut v = vec![spawn_lazy(|| 3), Lazy::with_value(1), spawn_lazy(|| 2)];
    /// v.sort();
    /// assert_eq!(v, [1, 2, 3]);
    /// ```
    fn cmp(&self, other: &Self) -> Ordering {
        (**self).cmp(&**other)
    }
}

impl<T: Hash> Hash for Lazy<T> {
    /// Hashes the value (blocking until it is there), consistently with `T`'s `Eq`.
    ///
    /// ```
    /// use std::collections::HashSet;
    /// use transparent_future::spawn_lazy;
    /// let set: HashSet<_> = [spawn_lazy(|| 1), spawn_lazy(|| 1)].into_iter().collect();
    /// assert_eq!(set.len(), 1);
    /// ```
    fn hash<H: Hasher>(&self, state: &mut H) {
        (**self).hash(state);
    }
}

impl<T> AsRef<T> for Lazy<T> {
    /// Blocks until the value is there and borrows it.
    ///
    /// ```
    /// fn len(s: impl AsRef<String>) -> usize { s.as_ref().len() }
    /// assert_eq!(len(transparent_future::spawn_lazy(|| "abc".to_string())), 3);
    /// ```
    fn as_ref(&self) -> &T {
        self
    }
}

impl<T> Borrow<T> for Lazy<T> {
    /// Blocks until the value is there and borrows it.
    ///
    /// ```
    /// use std::borrow::Borrow;
    /// let x = transparent_future::spawn_lazy(|| 9);
    /// let b: &i32 = x.borrow();
    /// assert_eq!(*b, 9);
    /// ```
    fn borrow(&self) -> &T {
        self
    }
}

impl<'a, T> IntoIterator for &'a Lazy<T>
where
    &'a T: IntoIterator,
{
    type Item = <&'a T as IntoIterator>::Item;
    type IntoIter = <&'a T as IntoIterator>::IntoIter;

    /// Iterates over the value, as `for item in &value` would.
    ///
    /// ```
    /// let v = transparent_future::spawn_lazy(|| vec![1, 2, 3]);
    /// let mut sum = 0;
    /// for item in &v { sum += item; }
    /// assert_eq!(sum, 6);
    /// ```
    fn into_iter(self) -> Self::IntoIter {
        Lazy::wait(self).into_iter()
    }
}

/// The same forwarding for the shared handle, with the same semantics as `Lazy`'s
/// (each impl blocks until the value is there).
mod shared {
    use super::*;
    use crate::lazy::shared::SharedLazy;

    forward_fmt_for!(SharedLazy: Display, Binary, Octal, LowerHex, UpperHex, LowerExp, UpperExp);

    impl<T: PartialEq<U>, U: ?Sized> PartialEq<U> for SharedLazy<T> {
        fn eq(&self, other: &U) -> bool {
            **self == *other
        }
    }

    impl<T: PartialOrd<U>, U: ?Sized> PartialOrd<U> for SharedLazy<T> {
        fn partial_cmp(&self, other: &U) -> Option<Ordering> {
            (**self).partial_cmp(other)
        }
    }

    impl<T> Eq for SharedLazy<T> where T: Eq + PartialEq<SharedLazy<T>> {}

    impl<T> Ord for SharedLazy<T>
    where
        T: Ord + PartialEq<SharedLazy<T>> + PartialOrd<SharedLazy<T>>,
    {
        fn cmp(&self, other: &Self) -> Ordering {
            (**self).cmp(&**other)
        }
    }

    impl<T: Hash> Hash for SharedLazy<T> {
        fn hash<H: Hasher>(&self, state: &mut H) {
            (**self).hash(state);
        }
    }

    impl<T> AsRef<T> for SharedLazy<T> {
        fn as_ref(&self) -> &T {
            self
        }
    }

    impl<T> Borrow<T> for SharedLazy<T> {
        fn borrow(&self) -> &T {
            self
        }
    }

    impl<'a, T> IntoIterator for &'a SharedLazy<T>
    where
        &'a T: IntoIterator,
    {
        type Item = <&'a T as IntoIterator>::Item;
        type IntoIter = <&'a T as IntoIterator>::IntoIter;

        fn into_iter(self) -> Self::IntoIter {
            SharedLazy::wait(self).into_iter()
        }
    }
}
