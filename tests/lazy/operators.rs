//! Operators.
//!
//! `Add`, `Sub`, `Mul`, `Div`, `Rem`, `BitAnd`, `BitOr`, `BitXor`, `Shl`, `Shr`, `Neg`
//! and `Not` on owned and borrowed futures (`x + 1`, `&x + 1`); the value on the left
//! (`1 + x`, `10.0 - y`) for every primitive number type; future with future (`x / y`,
//! `&x * &y`); compound assignment (`x += 1` on a future, `n += lazy` on a primitive);
//! `Lazy<Money> + Money` for a user type; and `bool` operators (`!b`, `b & true`).

use std::ops::{Add, Mul, Sub};
use std::thread;
use std::time::{Duration, Instant};

use transparent_future::{Lazy, spawn_lazy};

/// A future computed on another thread.
fn lz<T: Send + 'static>(v: T) -> Lazy<T> {
    spawn_lazy(move || v)
}

/// Every binary operator, every form, for integer types. `a` and `b` are chosen so
/// that no result overflows any type (`a op b` and shifts by `c`).
macro_rules! check_ints {
    ($($t:ty),*) => {$({
        let a: $t = 12;
        let b: $t = 5;
        let c: $t = 2;
        let what = stringify!($t);

        // Future on the left, owned and borrowed.
        assert_eq!(lz(a) + b, a + b, "{what} +");
        assert_eq!(lz(a) - b, a - b, "{what} -");
        assert_eq!(lz(a) * b, a * b, "{what} *");
        assert_eq!(lz(a) / b, a / b, "{what} /");
        assert_eq!(lz(a) % b, a % b, "{what} %");
        assert_eq!(lz(a) & b, a & b, "{what} &");
        assert_eq!(lz(a) | b, a | b, "{what} |");
        assert_eq!(lz(a) ^ b, a ^ b, "{what} ^");
        assert_eq!(lz(a) << c, a << c, "{what} <<");
        assert_eq!(lz(a) >> c, a >> c, "{what} >>");
        let x = lz(a);
        assert_eq!(&x + b, a + b, "{what} &x +");
        assert_eq!(&x - b, a - b, "{what} &x -");
        assert_eq!(&x * b, a * b, "{what} &x *");
        assert_eq!(&x / b, a / b, "{what} &x /");
        assert_eq!(&x % b, a % b, "{what} &x %");
        assert_eq!(&x & b, a & b, "{what} &x &");
        assert_eq!(&x | b, a | b, "{what} &x |");
        assert_eq!(&x ^ b, a ^ b, "{what} &x ^");
        assert_eq!(&x << c, a << c, "{what} &x <<");
        assert_eq!(&x >> c, a >> c, "{what} &x >>");
        assert_eq!(&x + &b, a + b, "{what} &x + &b");
        assert_eq!(!&x, !a, "{what} !&x");
        assert_eq!(!lz(a), !a, "{what} !x");

        // Value on the left, owned and borrowed, future owned and borrowed.
        assert_eq!(a + lz(b), a + b, "{what} a + x");
        assert_eq!(a - lz(b), a - b, "{what} a - x");
        assert_eq!(a * lz(b), a * b, "{what} a * x");
        assert_eq!(a / lz(b), a / b, "{what} a / x");
        assert_eq!(a % lz(b), a % b, "{what} a % x");
        assert_eq!(a & lz(b), a & b, "{what} a & x");
        assert_eq!(a | lz(b), a | b, "{what} a | x");
        assert_eq!(a ^ lz(b), a ^ b, "{what} a ^ x");
        assert_eq!(a << lz(c), a << c, "{what} a << x");
        assert_eq!(a >> lz(c), a >> c, "{what} a >> x");
        let y = lz(b);
        assert_eq!(a + &y, a + b, "{what} a + &y");
        assert_eq!(&a - &y, a - b, "{what} &a - &y");
        assert_eq!(&a * lz(b), a * b, "{what} &a * x");
        assert_eq!(a << &lz(c), a << c, "{what} a << &x");

        // Future with future.
        assert_eq!(lz(a) + lz(b), a + b, "{what} x + y");
        assert_eq!(lz(a) - lz(b), a - b, "{what} x - y");
        assert_eq!(lz(a) / lz(b), a / b, "{what} x / y");
        assert_eq!(&lz(a) * &lz(b), a * b, "{what} &x * &y");
        assert_eq!(&lz(a) % lz(b), a % b, "{what} &x % y");
        assert_eq!(lz(a) ^ &lz(b), a ^ b, "{what} x ^ &y");
        assert_eq!(lz(a) >> lz(c), a >> c, "{what} x >> y");

        // Compound assignment on a future.
        let mut x = lz(a);
        x += b;
        assert_eq!(*x, a + b, "{what} x += b");
        x -= b;
        x *= b;
        assert_eq!(*x, a * b, "{what} x *= b");
        x /= b;
        x %= b;
        assert_eq!(*x, a % b, "{what} x %= b");
        let mut x = lz(a);
        x &= b;
        assert_eq!(*x, a & b, "{what} x &= b");
        let mut x = lz(a);
        x |= b;
        x ^= c;
        assert_eq!(*x, (a | b) ^ c, "{what} x |= b; x ^= c");
        let mut x = lz(a);
        x <<= c;
        assert_eq!(*x, a << c, "{what} x <<= c");
        x >>= c;
        assert_eq!(*x, a, "{what} x >>= c");

        // Compound assignment on a primitive, with an owned or borrowed future.
        let mut n = a;
        n += lz(b);
        assert_eq!(n, a + b, "{what} n += x");
        n -= &lz(b);
        assert_eq!(n, a, "{what} n -= &x");
        n *= lz(b);
        n /= lz(b);
        n %= lz(b);
        assert_eq!(n, a % b, "{what} n %= x");
        let mut n = a;
        n &= lz(b);
        n |= lz(c);
        n ^= &lz(c);
        n <<= lz(c);
        n >>= &lz(c);
        assert_eq!(n, ((a & b) | c) ^ c, "{what} bit assignments");
    })*};
}

/// Negation for the signed integer types.
macro_rules! check_neg {
    ($($t:ty),*) => {$({
        let a: $t = 12;
        assert_eq!(-lz(a), -a, "-x for {}", stringify!($t));
        assert_eq!(-&lz(a), -a, "-&x for {}", stringify!($t));
        assert_eq!(lz(-a) * -1, a, "x * -1 for {}", stringify!($t));
    })*};
}

/// Arithmetic and negation for the floating-point types, values exact in binary.
macro_rules! check_floats {
    ($($t:ty),*) => {$({
        let a: $t = 12.0;
        let b: $t = 5.0;
        let what = stringify!($t);
        assert_eq!(lz(a) + b, a + b, "{what} x + b");
        assert_eq!(&lz(a) - b, a - b, "{what} &x - b");
        assert_eq!(lz(a) * b, a * b, "{what} x * b");
        assert_eq!(lz(a) / b, a / b, "{what} x / b");
        assert_eq!(lz(a) % b, a % b, "{what} x % b");
        assert_eq!(10.0 - lz(b), 10.0 - b, "{what} 10.0 - y");
        assert_eq!(a + lz(b), a + b, "{what} a + y");
        assert_eq!(a * &lz(b), a * b, "{what} a * &y");
        assert_eq!(&a / lz(b), a / b, "{what} &a / y");
        assert_eq!(&a % &lz(b), a % b, "{what} &a % &y");
        assert_eq!(lz(a) / lz(b), a / b, "{what} x / y");
        assert_eq!(&lz(a) * &lz(b), a * b, "{what} &x * &y");
        assert_eq!(-lz(a), -a, "{what} -x");
        assert_eq!(-&lz(a), -a, "{what} -&x");
        let mut x = lz(a);
        x += b;
        x *= 2.0;
        assert_eq!(*x, (a + b) * 2.0, "{what} x += b; x *= 2");
        let mut n = a;
        n -= lz(b);
        n /= &lz(b);
        assert_eq!(n, (a - b) / b, "{what} n -= x; n /= &x");
    })*};
}

#[test]
fn integer_operators_in_every_form() {
    check_ints!(
        i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize
    );
}

#[test]
fn signed_negation() {
    check_neg!(i8, i16, i32, i64, i128, isize);
}

#[test]
fn float_operators_in_every_form() {
    check_floats!(f32, f64);
}

#[test]
fn untyped_literals_work_on_either_side() {
    let x = lz(3);
    assert_eq!(&x + 1, 4);
    assert_eq!(1 + &x, 4);
    assert_eq!(10 - &x, 7);
    assert_eq!(x * 2, 6);
    let y = lz(2.5);
    assert_eq!(10.0 - &y, 7.5);
    assert_eq!(&y * 2.0, 5.0);
    assert_eq!(y / 0.5, 5.0);
}

#[test]
fn an_operator_blocks_until_the_value_is_there() {
    let t0 = Instant::now();
    let x = spawn_lazy(|| {
        thread::sleep(Duration::from_millis(150));
        20
    });
    assert_eq!(x + 1, 21);
    assert!(t0.elapsed() >= Duration::from_millis(150));
}

#[test]
fn bool_operators() {
    assert!(!lz(false));
    assert!(!!lz(true));
    let b = lz(true);
    assert!(!(!&b));
    assert!(&b & true);
    assert!(!(&b & false));
    assert!(&b | false);
    assert!(!(&b ^ true));
    assert!(true & lz(true));
    assert!(false | &lz(true));
    assert!(true ^ lz(false));
    assert!(lz(true) & lz(true));
    assert!(!(lz(true) ^ lz(true)));
    let mut f = lz(true);
    f &= false;
    assert!(!*f);
    f |= true;
    f ^= true;
    assert!(f == false);
    let mut t = true;
    t &= lz(false);
    assert!(!t);
    t |= &lz(true);
    assert!(t);
    t ^= lz(true);
    assert!(!t);
}

#[test]
fn operators_on_non_copy_values() {
    assert_eq!(lz(String::from("ab")) + "cd", "abcd");
    let mut s = lz(String::from("x"));
    s += "y";
    s += String::from("z").as_str();
    assert_eq!(*s, "xyz");
}

#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
struct Money(i64);

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0 - rhs.0)
    }
}

impl Mul<i64> for Money {
    type Output = Money;
    fn mul(self, k: i64) -> Money {
        Money(self.0 * k)
    }
}

impl std::ops::AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        self.0 += rhs.0;
    }
}

transparent_future::impl_reverse_ops!(Money: Add, Sub, PartialEq, PartialOrd);

#[test]
fn a_user_type() {
    assert_eq!(lz(Money(5)) + Money(1), Money(6)); // future on the left: built in
    assert_eq!(lz(Money(5)) - Money(1), Money(4));
    assert_eq!(lz(Money(5)) * 3, Money(15)); // with another right-hand type
    assert_eq!(Money(1) + lz(Money(5)), Money(6)); // value on the left: the macro
    assert_eq!(Money(10) - lz(Money(4)), Money(6));
    assert_eq!(lz(Money(2)) + lz(Money(3)), Money(5)); // future with future
    let mut m = lz(Money(1));
    m += Money(2);
    assert_eq!(*m, Money(3));
    assert!(lz(Money(1)) < Money(2));
    assert!(Money(3) > lz(Money(2)));
}
