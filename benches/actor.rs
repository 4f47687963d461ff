//! An actor on a thread of its own against what users write by hand today: a
//! `crossbeam_channel` request queue served by a thread, with a one-shot
//! (`crossbeam_channel::bounded(1)`) reply channel per request.
//!
//! Goals: a call plus its first access costs no more than the hand-written request
//! plus `recv`, and a million calls complete at least as fast.
//!
//! The hand-written side is given every advantage: its requests are a plain enum (no
//! boxed closure), where the actor takes any closure.
//!
//! `cargo bench -p transparent-future-benches --bench actor`; one group:
//! `... --bench actor -- '^actor_call_first_access/'`.

use std::hint::black_box;
use std::thread;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use crossbeam_channel::{Sender, bounded, unbounded};
use transparent_future::{Actor, Lazy};

/// The hand-written service's requests.
enum Request {
    Add(u64, Sender<u64>),
}

/// A hand-written service: a thread that owns the state and answers requests.
fn hand_written() -> (Sender<Request>, thread::JoinHandle<u64>) {
    let (tx, rx) = unbounded::<Request>();
    let server = thread::spawn(move || {
        let mut total = 0u64;
        for request in rx {
            match request {
                Request::Add(n, reply) => {
                    total += n;
                    let _ = reply.send(total);
                }
            }
        }
        total
    });
    (tx, server)
}

/// One call and the first access to its result.
fn call_first_access(c: &mut Criterion) {
    let mut g = c.benchmark_group("actor_call_first_access");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));

    let actor = Actor::new(0u64);
    g.bench_function("actor_call_deref", |b| {
        b.iter(|| {
            let x = actor.call(|total| {
                *total += black_box(1);
                *total
            });
            *x
        })
    });

    let (requests, server) = hand_written();
    g.bench_function("crossbeam_request_oneshot_recv", |b| {
        b.iter(|| {
            let (reply, answer) = bounded(1);
            requests.send(Request::Add(black_box(1), reply)).unwrap();
            answer.recv().unwrap()
        })
    });
    g.finish();
    drop(requests);
    server.join().unwrap();
    drop(actor.stop());
}

/// A million calls, all sent, then every result read.
fn million_calls(c: &mut Criterion) {
    const CALLS: u64 = 1_000_000;
    let mut g = c.benchmark_group("actor_million_calls");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(CALLS));

    let actor = Actor::new(0u64);
    g.bench_function("actor_calls", |b| {
        b.iter(|| {
            let results: Vec<Lazy<u64>> = (0..CALLS)
                .map(|i| {
                    actor.call(move |total| {
                        *total += i;
                        *total
                    })
                })
                .collect();
            results.iter().map(|r| **r).fold(0, u64::wrapping_add)
        })
    });

    let (requests, server) = hand_written();
    g.bench_function("crossbeam_requests_oneshots", |b| {
        b.iter(|| {
            let answers: Vec<_> = (0..CALLS)
                .map(|i| {
                    let (reply, answer) = bounded(1);
                    requests.send(Request::Add(i, reply)).unwrap();
                    answer
                })
                .collect();
            answers
                .iter()
                .map(|a| a.recv().unwrap())
                .fold(0, u64::wrapping_add)
        })
    });
    g.finish();
    drop(requests);
    server.join().unwrap();
    drop(actor.stop());
}

criterion_group!(benches, call_first_access, million_calls);
criterion_main!(benches);
