//! Turning callback APIs into transparent futures with promises.
//!
//! ```text
//! cargo run --example callbacks
//! ```
//!
//! Two kinds of legacy API: one that reports each result through a closure, on a
//! thread of its own, and an event loop that reports through `std::sync::mpsc`
//! events. A `Promise` bridges each into a `Lazy`, which the rest of the program reads
//! as the value, combines, and times out like any other future.

use std::collections::HashMap;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use transparent_future::{Deadline, Lazy, Outcome, Promise, WaitError};

// ---------------------------------------------------------------------------------
// A callback API: `lookup` answers later, on a thread of its own, through `done`.

fn lookup(host: &str, done: impl FnOnce(Result<[u8; 4], String>) + Send + 'static) {
    let host = host.to_owned();
    thread::spawn(move || {
        thread::sleep(Duration::from_millis(20 * host.len() as u64));
        match host.as_str() {
            "localhost" => done(Ok([127, 0, 0, 1])),
            "example.org" => done(Ok([93, 184, 215, 14])),
            _ => done(Err(format!("{host}: no such host"))),
        }
    });
}

/// The bridge: the callback's result as a transparent future.
fn resolve(host: &str) -> Lazy<Result<[u8; 4], String>> {
    let (promise, address) = Lazy::promise();
    lookup(host, move |result| {
        // `set` only fails for a deadline promise whose deadline has passed.
        let _ = promise.set(result);
    });
    address
}

// ---------------------------------------------------------------------------------
// An event API: a device thread that sends readings as events, tagged by request id.

enum Event {
    Reading { request: u32, celsius: f64 },
    Shutdown,
}

/// A device that answers requests 1 and 2, ignores 3, then shuts down.
fn start_device(events: mpsc::Sender<Event>) {
    thread::spawn(move || {
        for (request, celsius) in [(2, 21.5), (1, 19.0)] {
            thread::sleep(Duration::from_millis(30));
            let _ = events.send(Event::Reading { request, celsius });
        }
        thread::sleep(Duration::from_millis(30));
        let _ = events.send(Event::Shutdown);
    });
}

/// Routes events to the promises waiting for them. When the device shuts down, the
/// unanswered promises are dropped: their readers fail as broken promises, never hang.
fn route(events: mpsc::Receiver<Event>, waiting: mpsc::Receiver<(u32, Promise<f64>)>) {
    thread::spawn(move || {
        let mut pending: HashMap<u32, Promise<f64>> = HashMap::new();
        for event in events {
            pending.extend(waiting.try_iter());
            match event {
                Event::Reading { request, celsius } => {
                    if let Some(promise) = pending.remove(&request) {
                        let _ = promise.set(celsius);
                    }
                }
                Event::Shutdown => break,
            }
        }
    });
}

fn main() {
    // Callbacks: three lookups run at once; the results are read as values.
    let hosts = ["localhost", "example.org", "nowhere.invalid"];
    let addresses: Vec<_> = hosts.iter().map(|h| resolve(h)).collect();
    for (host, address) in hosts.iter().zip(&addresses) {
        match &**address {
            Ok(ip) => println!("{host:>16} -> {}.{}.{}.{}", ip[0], ip[1], ip[2], ip[3]),
            Err(e) => println!("{host:>16} -> error: {e}"),
        }
    }
    let found = Lazy::all(addresses);
    println!(
        "{} of {} hosts resolved",
        found.iter().filter(|a| a.is_ok()).count(),
        hosts.len()
    );

    // Events: a promise per request, completed by the router.
    let (events_tx, events) = mpsc::channel();
    let (register, waiting) = mpsc::channel();
    let readings: Vec<Lazy<f64>> = (1..=3)
        .map(|request| {
            let (promise, reading) = Lazy::promise();
            register.send((request, promise)).unwrap();
            reading
        })
        .collect();
    route(events, waiting);
    start_device(events_tx);
    for (request, reading) in (1..=3).zip(&readings) {
        match Lazy::try_wait(reading) {
            Ok(celsius) => println!("request {request}: {celsius:.1} °C"),
            Err(WaitError::Broken(b)) => println!("request {request}: no answer ({b})"),
            Err(e) => println!("request {request}: {e}"),
        }
    }

    // A deadline on a callback: the answer either comes in time, or the completer
    // gets its value back.
    let (promise, quick) = Lazy::promise_with(Deadline::after(Duration::from_millis(10)));
    let late_answer = thread::spawn(move || {
        thread::sleep(Duration::from_millis(50));
        promise.set("slow answer")
    });
    assert_eq!(*quick, Outcome::Timeout);
    println!(
        "timed out; the completer got back {:?}",
        late_answer.join().unwrap()
    );
}
