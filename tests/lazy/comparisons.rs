//! Comparison and hashing.
//!
//! `PartialEq<U>` (`x == 3`, `s == "hi"`, `z == Outcome::Timeout`) and `PartialOrd<U>`
//! (`x < 10`) with the value, with the value on the left, and future with future;
//! `Eq`, `Ord` (sorting) and `Hash` (hash sets) for primitives and `String`; and a user
//! type opting in with `impl_reverse_ops!(Money: Add, PartialEq, PartialOrd)`.
//! (`Display` and the other formatting traits are in `tests/lazy/formatting.rs`.)

// The futures used as keys never change their hash: it is the hash of the value, which
// is fixed once the task has returned (the `OnceCell` inside is the "mutable" part).
#![allow(clippy::mutable_key_type)]

use std::cmp::Ordering;
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::ops::Add;
use std::thread;
use std::time::Duration;

use static_assertions::{assert_impl_all, assert_not_impl_any};
use transparent_future::{Deadline, Lazy, Outcome, spawn_lazy, spawn_lazy_with};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Money(i64);

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

transparent_future::impl_reverse_ops!(Money: Add, PartialEq, PartialOrd);

assert_impl_all!(Lazy<i32>: Eq, Ord, Hash);
assert_impl_all!(Lazy<u32>: Eq, Ord, Hash);
assert_impl_all!(Lazy<String>: Eq, Ord, Hash);
assert_impl_all!(Lazy<Money>: Eq, Ord, Hash, PartialEq<Money>, PartialOrd<Money>);
assert_impl_all!(Lazy<f64>: PartialEq, PartialOrd);
assert_not_impl_any!(Lazy<f64>: Eq, Ord);

fn lz<T: Send + 'static>(v: T) -> Lazy<T> {
    spawn_lazy(move || v)
}

fn hash_of<T: Hash + ?Sized>(t: &T) -> u64 {
    let mut h = DefaultHasher::new();
    t.hash(&mut h);
    h.finish()
}

#[test]
fn equality_with_the_value() {
    let x = lz(3);
    assert!(x == 3);
    assert!(x != 4);
    assert!(3 == x);
    assert!(4 != x);
    assert_eq!(x, 3);
    let s = lz(String::from("hi"));
    assert!(s == "hi");
    assert!(s != "ho");
    assert!(s == *"hi");
    let owned = String::from("hi");
    assert!(s == owned);
    assert!("hi" == s);
    assert!(*"hi" == s);
    assert!(owned == s);
    let b = lz(true);
    assert!(b == true);
    let c = lz('c');
    assert!(c == 'c');
    assert!('c' == c);
    let unit = lz(());
    assert!(unit == ());
}

#[test]
fn equality_with_outcomes() {
    let z = spawn_lazy_with(Deadline::after(Duration::from_millis(20)), || {
        thread::sleep(Duration::from_millis(300));
        "a"
    });
    let w = spawn_lazy_with(Deadline::after(Duration::from_secs(10)), || true);
    assert!(z == Outcome::Timeout);
    assert!(z != Outcome::Ready("a"));
    assert!(w == Outcome::Ready(true));
    assert!(w != Outcome::Timeout);
}

#[test]
fn ordering_with_the_value() {
    let x = lz(3);
    assert!(x < 10);
    assert!(x <= 3);
    assert!(x >= 3);
    assert!(x > -1);
    assert!(10 > x);
    assert!(2 < x);
    assert_eq!(x.partial_cmp(&4), Some(Ordering::Less));
    let f = lz(1.5_f64);
    assert!(f < 2.0 && 1.0 < f);
    let nan = lz(f64::NAN);
    assert!(nan.is_nan());
    assert_eq!(nan.partial_cmp(&f64::NAN), None);
    assert_eq!(nan.partial_cmp(&1.0), None);
    let (a, b, c) = (String::from("a"), String::from("b"), String::from("c"));
    let s = lz(b);
    assert!(s > a && s < c);
    assert!(a < s);
}

#[test]
fn future_with_future() {
    assert!(lz(3) == lz(3));
    assert!(lz(3) != lz(4));
    assert!(lz(3_u8) < lz(4_u8));
    assert!(lz(2.5_f32) > lz(-1.0_f32));
    assert!(lz(String::from("x")) == lz(String::from("x")));
    assert!(lz(String::from("a")) < lz(String::from("b")));
    assert_eq!(lz(1_u64).cmp(&lz(2_u64)), Ordering::Less);
    assert_eq!(lz(5_i128).cmp(&Lazy::with_value(5_i128)), Ordering::Equal);
    assert_eq!(lz(7).max(lz(9)), 9);
}

#[test]
fn sorting_futures() {
    let mut v: Vec<Lazy<i32>> = [5_i32, -2, 9, 0, 3]
        .into_iter()
        .map(|n| {
            spawn_lazy(move || {
                thread::sleep(Duration::from_millis((n.unsigned_abs() * 5).into()));
                n
            })
        })
        .collect();
    v.push(Lazy::with_value(1));
    v.sort();
    let sorted: Vec<i32> = v.iter().map(|x| **x).collect();
    assert_eq!(sorted, [-2, 0, 1, 3, 5, 9]);
    assert_eq!(v, [-2, 0, 1, 3, 5, 9]);

    let mut words: Vec<Lazy<String>> = ["pear", "apple", "fig"]
        .into_iter()
        .map(|w| lz(w.to_string()))
        .collect();
    words.sort();
    assert_eq!(words, ["apple", "fig", "pear"]);

    let set: BTreeSet<Lazy<u16>> = [3, 1, 2, 1].into_iter().map(lz).collect();
    assert_eq!(set.iter().map(|x| **x).collect::<Vec<_>>(), [1, 2, 3]);
}

#[test]
fn hashing_futures() {
    let set: HashSet<Lazy<u32>> = [1, 2, 2, 3, 1].into_iter().map(lz).collect();
    assert_eq!(set.len(), 3);
    assert!(set.contains(&Lazy::with_value(2)));
    assert!(!set.contains(&Lazy::with_value(4)));
    assert_eq!(hash_of(&lz(5_u32)), hash_of(&5_u32));

    let words: HashSet<Lazy<String>> = ["a", "b", "a"]
        .into_iter()
        .map(|w| lz(w.to_string()))
        .collect();
    assert_eq!(words.len(), 2);
    assert!(words.contains(&Lazy::with_value(String::from("b"))));
    assert_eq!(hash_of(&lz(String::from("k"))), hash_of(&String::from("k")));

    let mut counts: HashMap<Lazy<String>, u32> = HashMap::new();
    for w in ["x", "y", "x"] {
        *counts.entry(lz(w.to_string())).or_default() += 1;
    }
    assert_eq!(counts[&Lazy::with_value(String::from("x"))], 2);
}

#[test]
fn a_user_type_with_impl_reverse_ops() {
    let a = lz(Money(5));
    let b = lz(Money(7));
    assert!(a < b); // future with future
    assert!(a != b);
    assert!(a == lz(Money(5)));
    assert!(a == Money(5)); // future on the left
    assert!(Money(5) == a); // value on the left
    assert!(Money(6) > a);
    assert!(Money(8) >= b && Money(7) <= b);
    assert!(b > Money(1));
    assert_eq!(Money(1) + lz(Money(2)), Money(3));
    assert_eq!(lz(Money(1)) + Money(2), Money(3));

    let mut purse = vec![lz(Money(3)), Lazy::with_value(Money(1)), lz(Money(2))];
    purse.sort();
    assert_eq!(purse, [Money(1), Money(2), Money(3)]);
    let set: HashSet<Lazy<Money>> = [lz(Money(1)), lz(Money(1))].into_iter().collect();
    assert_eq!(set.len(), 1);
}
