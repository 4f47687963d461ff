//! Promises as bridges from callback APIs and event loops.

use std::collections::HashMap;
use std::sync::mpsc;
use std::time::Duration;

use transparent_future::{Lazy, Promise, WaitError, first_done};

use crate::support::{secs, within};

/// A callback API: reports on its own thread, through a closure.
fn fetch_with_callback(key: u32, done: impl FnOnce(Result<String, String>) + Send + 'static) {
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(u64::from(key % 4) * 5));
        if key == 13 {
            done(Err("unlucky".into()));
        } else {
            done(Ok(format!("value-{key}")));
        }
    });
}

/// The bridge: a transparent future of the callback's result.
fn fetch(key: u32) -> Lazy<Result<String, String>> {
    let (promise, result) = Lazy::promise();
    fetch_with_callback(key, move |r| {
        let _ = promise.set(r);
    });
    result
}

#[test]
fn a_callback_api_becomes_transparent_futures() {
    within(secs(10), || {
        let results: Vec<_> = [1, 2, 13, 4].into_iter().map(fetch).collect();
        assert_eq!(results[0].as_deref(), Ok("value-1"));
        assert_eq!(*results[2], Err("unlucky".to_string()));
        let all = Lazy::all(results);
        assert_eq!(all.iter().filter(|r| r.is_ok()).count(), 3);
    });
}

#[test]
fn an_event_loop_completes_promises_by_id_and_breaks_the_rest_when_it_ends() {
    within(secs(10), || {
        enum Event {
            Subscribe(u32, Promise<String>),
            Reply(u32, String),
            Quit,
        }
        let (events, inbox) = mpsc::channel();
        let event_loop = std::thread::spawn(move || {
            let mut waiting: HashMap<u32, Promise<String>> = HashMap::new();
            for event in inbox {
                match event {
                    Event::Subscribe(id, p) => {
                        waiting.insert(id, p);
                    }
                    Event::Reply(id, text) => {
                        if let Some(p) = waiting.remove(&id) {
                            p.set(text).unwrap();
                        }
                    }
                    Event::Quit => break,
                }
            }
            // Leaving drops the unanswered promises: their readers fail, never hang.
        });
        let mut answers = Vec::new();
        for id in 0..3 {
            let (p, answer) = Lazy::promise();
            events.send(Event::Subscribe(id, p)).unwrap();
            answers.push(answer);
        }
        events.send(Event::Reply(1, "one".into())).unwrap();
        assert_eq!(first_done(&answers), (1, &"one".to_string()));
        events.send(Event::Quit).unwrap();
        event_loop.join().unwrap();
        assert!(matches!(
            Lazy::try_wait(&answers[0]),
            Err(WaitError::Broken(_))
        ));
        assert!(matches!(
            Lazy::try_wait(&answers[2]),
            Err(WaitError::Broken(_))
        ));
    });
}

#[test]
fn continuations_registered_before_the_value_run_on_the_setting_thread() {
    within(secs(10), || {
        let (p, x) = Lazy::<u8>::promise();
        let ran_on = Lazy::map(x, |_| std::thread::current().id());
        let setter = std::thread::spawn(move || {
            p.set(1).unwrap();
            std::thread::current().id()
        });
        let setter_id = setter.join().unwrap();
        assert_eq!(
            *ran_on, setter_id,
            "as Java's complete runs its dependent stages"
        );
    });
}

#[test]
fn continuations_of_a_broken_promise_never_run_on_the_dropping_thread() {
    within(secs(10), || {
        let (p, x) = Lazy::<u8>::promise();
        let ran_on = Lazy::handle(x, |r| (r.is_err(), std::thread::current().id()));
        let dropper = std::thread::spawn(move || {
            drop(p);
            std::thread::current().id()
        });
        let dropper_id = dropper.join().unwrap();
        let (failed, on) = *ran_on;
        assert!(failed);
        assert_ne!(on, dropper_id);
    });
}
