//! Operators on futures: `x + 1`, `&x * y`, `1 + x`, `-x`, `x += 1`.
//!
//! Two kinds of impl cover every case Rust's coherence rules allow:
//!
//! * generic impls with the future on the left (`Lazy<T> op U` and `&Lazy<T> op U`),
//!   for every `U` that `T` (or `&T`) combines with, user types included;
//! * impls with the value on the left (`P op Lazy<P>`, and the borrowed forms), generated
//!   for each primitive `P` by macro. Through the generic impls these also give
//!   future-with-future (`Lazy<P> op Lazy<P>`).
//!
//! A user type gets the first kind for free, and the second with
//! [`impl_reverse_ops!`](crate::impl_reverse_ops) in its own crate.

use std::ops::{
    Add, AddAssign, BitAnd, BitAndAssign, BitOr, BitOrAssign, BitXor, BitXorAssign, Div, DivAssign,
    Mul, MulAssign, Neg, Not, Rem, RemAssign, Shl, ShlAssign, Shr, ShrAssign, Sub, SubAssign,
};

use crate::lazy::Lazy;
use crate::lazy::shared::SharedLazy;

/// The generic impls with the future on the left, owned and borrowed, plus the
/// compound assignment through `DerefMut`.
macro_rules! lazy_lhs {
    ($($tr:ident $m:ident $tra:ident $ma:ident;)*) => {$(
        impl<T, U> $tr<U> for Lazy<T>
        where
            T: $tr<U>,
        {
            type Output = <T as $tr<U>>::Output;

            /// Blocks until the value is there, then applies the operator to it by value.
            fn $m(self, rhs: U) -> Self::Output {
                $tr::$m(Lazy::into_inner(self), rhs)
            }
        }

        impl<'a, T, U> $tr<U> for &'a Lazy<T>
        where
            &'a T: $tr<U>,
        {
            type Output = <&'a T as $tr<U>>::Output;

            /// Blocks until the value is there, then applies the operator to a borrow.
            fn $m(self, rhs: U) -> Self::Output {
                $tr::$m(Lazy::wait(self), rhs)
            }
        }

        impl<T, U> $tra<U> for Lazy<T>
        where
            T: $tra<U>,
        {
            /// Blocks until the value is there, then updates it in place.
            fn $ma(&mut self, rhs: U) {
                $tra::$ma(&mut **self, rhs);
            }
        }
    )*};
}

lazy_lhs! {
    Add add AddAssign add_assign;
    Sub sub SubAssign sub_assign;
    Mul mul MulAssign mul_assign;
    Div div DivAssign div_assign;
    Rem rem RemAssign rem_assign;
    BitAnd bitand BitAndAssign bitand_assign;
    BitOr bitor BitOrAssign bitor_assign;
    BitXor bitxor BitXorAssign bitxor_assign;
    Shl shl ShlAssign shl_assign;
    Shr shr ShrAssign shr_assign;
}

macro_rules! lazy_unary {
    ($($tr:ident $m:ident;)*) => {$(
        impl<T: $tr> $tr for Lazy<T> {
            type Output = <T as $tr>::Output;

            /// Blocks until the value is there, then applies the operator to it by value.
            fn $m(self) -> Self::Output {
                $tr::$m(Lazy::into_inner(self))
            }
        }

        impl<'a, T> $tr for &'a Lazy<T>
        where
            &'a T: $tr,
        {
            type Output = <&'a T as $tr>::Output;

            /// Blocks until the value is there, then applies the operator to a borrow.
            fn $m(self) -> Self::Output {
                $tr::$m(Lazy::wait(self))
            }
        }
    )*};
}

lazy_unary! {
    Neg neg;
    Not not;
}

/// The future-on-the-left impls for the shared handle: by value through a clone of
/// the value (the value is shared), by reference as for `Lazy`.
macro_rules! shared_lhs {
    ($($tr:ident $m:ident;)*) => {$(
        impl<T, U> $tr<U> for SharedLazy<T>
        where
            T: Clone + $tr<U>,
        {
            type Output = <T as $tr<U>>::Output;

            /// Blocks until the value is there, then applies the operator to a clone.
            fn $m(self, rhs: U) -> Self::Output {
                $tr::$m(SharedLazy::wait(&self).clone(), rhs)
            }
        }

        impl<'a, T, U> $tr<U> for &'a SharedLazy<T>
        where
            &'a T: $tr<U>,
        {
            type Output = <&'a T as $tr<U>>::Output;

            /// Blocks until the value is there, then applies the operator to a borrow.
            fn $m(self, rhs: U) -> Self::Output {
                $tr::$m(SharedLazy::wait(self), rhs)
            }
        }
    )*};
}

shared_lhs! {
    Add add; Sub sub; Mul mul; Div div; Rem rem;
    BitAnd bitand; BitOr bitor; BitXor bitxor; Shl shl; Shr shr;
}

macro_rules! shared_unary {
    ($($tr:ident $m:ident;)*) => {$(
        impl<T: Clone + $tr> $tr for SharedLazy<T> {
            type Output = <T as $tr>::Output;
            fn $m(self) -> Self::Output {
                $tr::$m(SharedLazy::wait(&self).clone())
            }
        }

        impl<'a, T> $tr for &'a SharedLazy<T>
        where
            &'a T: $tr,
        {
            type Output = <&'a T as $tr>::Output;
            fn $m(self) -> Self::Output {
                $tr::$m(SharedLazy::wait(self))
            }
        }
    )*};
}

shared_unary! {
    Neg neg;
    Not not;
}

/// The value-on-the-left impls for a `Copy` primitive and a handle `H` (`Lazy` or
/// `SharedLazy`): `P op H<P>`, `P op &H<P>`, `&P op H<P>`, `&P op &H<P>`, and
/// `P op= H<P>` / `P op= &H<P>`. The value is copied out of the handle.
macro_rules! primitive_rhs {
    ($h:ident; $tr:ident $m:ident $tra:ident $ma:ident: $($p:ty),*) => {$(
        impl $tr<$h<$p>> for $p {
            type Output = <$p as $tr>::Output;
            fn $m(self, rhs: $h<$p>) -> Self::Output {
                $tr::$m(self, *rhs)
            }
        }
        impl $tr<&$h<$p>> for $p {
            type Output = <$p as $tr>::Output;
            fn $m(self, rhs: &$h<$p>) -> Self::Output {
                $tr::$m(self, **rhs)
            }
        }
        impl $tr<$h<$p>> for &$p {
            type Output = <$p as $tr>::Output;
            fn $m(self, rhs: $h<$p>) -> Self::Output {
                $tr::$m(*self, *rhs)
            }
        }
        impl $tr<&$h<$p>> for &$p {
            type Output = <$p as $tr>::Output;
            fn $m(self, rhs: &$h<$p>) -> Self::Output {
                $tr::$m(*self, **rhs)
            }
        }
        impl $tra<$h<$p>> for $p {
            fn $ma(&mut self, rhs: $h<$p>) {
                $tra::$ma(self, *rhs);
            }
        }
        impl $tra<&$h<$p>> for $p {
            fn $ma(&mut self, rhs: &$h<$p>) {
                $tra::$ma(self, **rhs);
            }
        }
    )*};
}

macro_rules! primitives {
    ($h:ident; ints: $($i:ty),*; floats: $($f:ty),*) => {
        primitive_rhs!($h; Add add AddAssign add_assign: $($i,)* $($f),*);
        primitive_rhs!($h; Sub sub SubAssign sub_assign: $($i,)* $($f),*);
        primitive_rhs!($h; Mul mul MulAssign mul_assign: $($i,)* $($f),*);
        primitive_rhs!($h; Div div DivAssign div_assign: $($i,)* $($f),*);
        primitive_rhs!($h; Rem rem RemAssign rem_assign: $($i,)* $($f),*);
        primitive_rhs!($h; BitAnd bitand BitAndAssign bitand_assign: $($i,)* bool);
        primitive_rhs!($h; BitOr bitor BitOrAssign bitor_assign: $($i,)* bool);
        primitive_rhs!($h; BitXor bitxor BitXorAssign bitxor_assign: $($i,)* bool);
        primitive_rhs!($h; Shl shl ShlAssign shl_assign: $($i),*);
        primitive_rhs!($h; Shr shr ShrAssign shr_assign: $($i),*);
        reverse_cmp!($h; $($i,)* $($f,)* bool, char, (), String);
    };
}

/// `P == H<P>` and `P < H<P>` for a handle `H`, through its `Deref`.
macro_rules! reverse_cmp {
    ($h:ident; $($p:ty),* $(,)?) => {$(
        impl PartialEq<$h<$p>> for $p {
            fn eq(&self, other: &$h<$p>) -> bool {
                *self == **other
            }
        }
        impl PartialOrd<$h<$p>> for $p {
            fn partial_cmp(&self, other: &$h<$p>) -> Option<std::cmp::Ordering> {
                self.partial_cmp(&**other)
            }
        }
    )*};
}

primitives! {
    Lazy;
    ints: i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize;
    floats: f32, f64
}

primitives! {
    SharedLazy;
    ints: i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize;
    floats: f32, f64
}

macro_rules! str_eq {
    ($($h:ident),*) => {$(
        impl PartialEq<$h<String>> for str {
            fn eq(&self, other: &$h<String>) -> bool {
                *self == **other
            }
        }

        impl PartialEq<$h<String>> for &str {
            fn eq(&self, other: &$h<String>) -> bool {
                **self == **other
            }
        }
    )*};
}

str_eq!(Lazy, SharedLazy);

/// Implements the value-on-the-left operators and comparisons for your own type, so
/// that `value op future` and `future op future` work as they do for the primitives.
///
/// Rust's coherence rules let the crate give `Lazy<T> op U` for every `T` (the future
/// on the left), but `U op Lazy<T>` only where the crate owns `U`. For your type `M`,
/// the impls are yours to write, and this macro writes them: list the traits `M`
/// implements, among `Add`, `Sub`, `Mul`, `Div`, `Rem`, `BitAnd`, `BitOr`, `BitXor`,
/// `Shl`, `Shr`, `PartialEq` and `PartialOrd`. The generated binary operators take the
/// future by value (`M op Lazy<M>`); with `PartialEq` and `PartialOrd`, `Lazy<M>` also
/// gets `Eq`, `Ord` and `Hash` wherever `M` has them.
///
/// ```
/// use std::ops::Add;
/// use transparent_future::{impl_reverse_ops, spawn_lazy};
///
/// #[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
/// struct Money(i64);
///
/// impl Add for Money {
///     type Output = Money;
///     fn add(self, rhs: Money) -> Money { Money(self.0 + rhs.0) }
/// }
///
/// impl_reverse_ops!(Money: Add, PartialEq, PartialOrd);
///
/// let a = spawn_lazy(|| Money(5));
/// let b = spawn_lazy(|| Money(7));
/// assert!(a < b);                         // future with future
/// assert_eq!(Money(1) + a, Money(6));     // value on the left
/// assert_eq!(b + Money(1), Money(8));     // future on the left: always available
/// ```
#[macro_export]
macro_rules! impl_reverse_ops {
    ($ty:ty : $($tr:ident),+ $(,)?) => {
        $( $crate::impl_reverse_ops!(@one $ty, $tr); )+
    };
    (@one $ty:ty, Add) => { $crate::impl_reverse_ops!(@bin $ty, Add, add); };
    (@one $ty:ty, Sub) => { $crate::impl_reverse_ops!(@bin $ty, Sub, sub); };
    (@one $ty:ty, Mul) => { $crate::impl_reverse_ops!(@bin $ty, Mul, mul); };
    (@one $ty:ty, Div) => { $crate::impl_reverse_ops!(@bin $ty, Div, div); };
    (@one $ty:ty, Rem) => { $crate::impl_reverse_ops!(@bin $ty, Rem, rem); };
    (@one $ty:ty, BitAnd) => { $crate::impl_reverse_ops!(@bin $ty, BitAnd, bitand); };
    (@one $ty:ty, BitOr) => { $crate::impl_reverse_ops!(@bin $ty, BitOr, bitor); };
    (@one $ty:ty, BitXor) => { $crate::impl_reverse_ops!(@bin $ty, BitXor, bitxor); };
    (@one $ty:ty, Shl) => { $crate::impl_reverse_ops!(@bin $ty, Shl, shl); };
    (@one $ty:ty, Shr) => { $crate::impl_reverse_ops!(@bin $ty, Shr, shr); };
    (@one $ty:ty, PartialEq) => {
        impl ::core::cmp::PartialEq<$crate::Lazy<$ty>> for $ty {
            fn eq(&self, other: &$crate::Lazy<$ty>) -> bool {
                *self == *$crate::Lazy::wait(other)
            }
        }
    };
    (@one $ty:ty, PartialOrd) => {
        impl ::core::cmp::PartialOrd<$crate::Lazy<$ty>> for $ty {
            fn partial_cmp(
                &self,
                other: &$crate::Lazy<$ty>,
            ) -> ::core::option::Option<::core::cmp::Ordering> {
                ::core::cmp::PartialOrd::partial_cmp(self, $crate::Lazy::wait(other))
            }
        }
    };
    (@bin $ty:ty, $tr:ident, $m:ident) => {
        impl ::core::ops::$tr<$crate::Lazy<$ty>> for $ty {
            type Output = <$ty as ::core::ops::$tr>::Output;
            fn $m(self, rhs: $crate::Lazy<$ty>) -> Self::Output {
                ::core::ops::$tr::$m(self, $crate::Lazy::into_inner(rhs))
            }
        }
    };
}
