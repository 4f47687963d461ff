//! Using a future as its value.
//!
//! `Deref` reaches the value's methods and fields and calls a closure held in a future
//! (`(*f)(args)`); `DerefMut` mutates it in place (`v.push(..)`); `AsRef<T>`,
//! `Borrow<T>`, `IntoIterator for &Lazy<T>` and indexing (`x[0]`) forward to the value.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::thread;
use std::time::Instant;

use crate::support::ms;
use transparent_future::{Lazy, spawn_lazy};

#[derive(Debug, Clone, PartialEq)]
struct Point {
    x: i32,
    y: i32,
}

impl Point {
    fn norm1(&self) -> i32 {
        self.x.abs() + self.y.abs()
    }
}

#[test]
fn method_calls_reach_the_value() {
    let s = spawn_lazy(|| String::from("Hello"));
    assert_eq!(s.len(), 5);
    assert_eq!(s.to_uppercase(), "HELLO");
    assert!(s.starts_with("He"));
    let v = spawn_lazy(|| vec![3, 1, 2]);
    assert_eq!(v.iter().sum::<i32>(), 6);
    assert_eq!(v.first(), Some(&3));
    let p = spawn_lazy(|| Point { x: -3, y: 4 });
    assert_eq!(p.norm1(), 7);
}

#[test]
fn field_access_reaches_the_value() {
    let p = spawn_lazy(|| {
        thread::sleep(ms(50));
        Point { x: 1, y: 2 }
    });
    assert_eq!(p.x + p.y, 3);
    let Point { x, y } = &*p;
    assert_eq!((*x, *y), (1, 2));
    let t = spawn_lazy(|| (1, "two"));
    assert_eq!(t.1, "two");
}

#[test]
fn deref_coercion_to_str_and_slices() {
    fn shout(s: &str) -> String {
        s.to_uppercase()
    }
    fn total(xs: &[u8]) -> u32 {
        xs.iter().map(|x| u32::from(*x)).sum()
    }
    let s = spawn_lazy(|| String::from("abc"));
    assert_eq!(shout(&s), "ABC");
    let v = spawn_lazy(|| vec![1_u8, 2, 3]);
    assert_eq!(total(&v), 6);
    assert_eq!(&v[..], &[1, 2, 3]);
    assert_eq!(&v[1..], &[2, 3]);
}

#[test]
fn a_future_holding_a_boxed_closure_can_be_called() {
    let f: Lazy<Box<dyn Fn(i32) -> i32 + Send + Sync>> = spawn_lazy(|| {
        thread::sleep(ms(30));
        let k = 10;
        Box::new(move |a| a * k) as Box<dyn Fn(i32) -> i32 + Send + Sync>
    });
    assert_eq!((*f)(4), 40);
    assert_eq!((*f)(-1), -10);
}

#[test]
fn a_future_holding_a_plain_closure_can_be_called() {
    let f = spawn_lazy(|| |a: i32, b: i32| a * 100 + b);
    assert_eq!((*f)(1, 2), 102);
    let g = spawn_lazy(|| String::from);
    assert_eq!((*g)("x"), "x");
}

#[test]
fn deref_mut_mutates_in_place() {
    let mut v = spawn_lazy(|| {
        thread::sleep(ms(50));
        vec![1]
    });
    let t0 = Instant::now();
    v.push(2);
    assert!(t0.elapsed() >= ms(40), "DerefMut did not wait for the task");
    v.push(3);
    assert_eq!(*v, [1, 2, 3]);
    v[0] = 10;
    assert_eq!(v[0], 10);

    let mut p = spawn_lazy(|| Point { x: 1, y: 1 });
    p.x = 5;
    assert_eq!(*p, Point { x: 5, y: 1 });

    let mut s = spawn_lazy(String::new);
    s.push_str("grown");
    assert_eq!(*s, "grown");

    let mut n = spawn_lazy(|| 1);
    *n += 1;
    *n *= 10;
    assert_eq!(*n, 20);
    assert_eq!(Lazy::into_inner(n), 20);
}

#[test]
fn as_ref_borrows_the_value() {
    fn len(s: impl AsRef<String>) -> usize {
        s.as_ref().len()
    }
    assert_eq!(len(spawn_lazy(|| String::from("abcd"))), 4);
    let v = spawn_lazy(|| vec![1, 2]);
    let r: &Vec<i32> = AsRef::<Vec<i32>>::as_ref(&v);
    assert_eq!(r, &[1, 2]);
}

#[test]
fn borrow_borrows_the_value() {
    fn count<B: Borrow<String>>(items: &[B]) -> usize {
        items.iter().map(|b| b.borrow().len()).sum()
    }
    let items = [
        spawn_lazy(|| String::from("ab")),
        Lazy::with_value(String::from("c")),
    ];
    assert_eq!(count(&items), 3);
    let x = spawn_lazy(|| 9_i32);
    let b: &i32 = Borrow::<i32>::borrow(&x);
    assert_eq!(*b, 9);
}

#[test]
fn borrowed_futures_iterate_like_the_value() {
    let v = spawn_lazy(|| vec![1, 2, 3]);
    let mut sum = 0;
    for item in &v {
        sum += item;
    }
    assert_eq!(sum, 6);
    let doubled: Vec<i32> = (&v).into_iter().map(|x| x * 2).collect();
    assert_eq!(doubled, [2, 4, 6]);

    let m = spawn_lazy(|| HashMap::from([("a", 1), ("b", 2)]));
    let mut pairs: Vec<(&str, i32)> = (&m).into_iter().map(|(k, v)| (*k, *v)).collect();
    pairs.sort();
    assert_eq!(pairs, [("a", 1), ("b", 2)]);
}

#[test]
fn indexing_reaches_the_value() {
    let v = spawn_lazy(|| vec![10, 20, 30]);
    assert_eq!(v[0], 10);
    assert_eq!(v[2], 30);
    let m = spawn_lazy(|| HashMap::from([(String::from("k"), 5)]));
    assert_eq!(m["k"], 5);
    let s = spawn_lazy(|| String::from("hello"));
    assert_eq!(&s[1..3], "el");
}

#[test]
fn nested_futures_deref_twice() {
    let xx = spawn_lazy(|| spawn_lazy(|| -5_i32));
    assert_eq!(**xx, -5);
    assert_eq!(xx.abs(), 5);
}

#[test]
fn the_values_own_as_ref_is_reached_through_an_explicit_deref() {
    // `AsRef<T>` for `Lazy<T>` is a method of the handle, so `x.as_ref()` finds it
    // before the value's inherent `as_ref` (as with `Arc`); `(*x).as_ref()` reaches the
    // value's own.
    let x = spawn_lazy(|| Some(String::from("v")));
    let handle_as_ref: &Option<String> = x.as_ref();
    assert_eq!(handle_as_ref.as_deref(), Some("v"));
    let values_as_ref: Option<&String> = (*x).as_ref();
    assert_eq!(values_as_ref.map(String::len), Some(1));
}
