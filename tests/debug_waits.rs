//! `transparent_future::debug::waits()`: who waits on whom right
//! now.
//!
//! The registry is process-global, so this file holds a single test: no other test of
//! this binary can block on a future meanwhile, and the counts are exact.

mod support;

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use support::{secs, within};
use transparent_future::debug::CycleLink;
use transparent_future::{Builder, Lazy, WaitError, debug, spawn_lazy};

fn link(type_name: &str, thread: &str) -> CycleLink {
    CycleLink {
        future: format!("task {type_name:?}"),
        thread: Some(thread.to_string()),
    }
}

fn loader_task(rx: mpsc::Receiver<u32>) -> impl FnOnce() -> u32 + Send + 'static {
    move || rx.recv().unwrap()
}

fn parser_task(input: Lazy<u32>) -> impl FnOnce() -> u32 + Send + 'static {
    move || *input * 2
}

#[test]
fn waits_shows_the_blocked_threads_and_their_chains_then_nothing() {
    within(secs(30), || {
        let idle = debug::waits();
        assert_eq!(idle.blocked_threads(), 0, "{idle}");
        assert_eq!(idle.chains().count(), 0);
        assert_eq!(idle.to_string(), "no thread is blocked on a future");

        // dbg-main waits on the parser (thread dbg-parser), which waits on the loader
        // (thread dbg-loader), which waits on a channel (not a future).
        let (feed, rx) = mpsc::channel();
        let loader = loader_task(rx);
        let loader_name = "dbg-loader"; // a named task is labelled by its name
        let loaded = Builder::new().name("dbg-loader").spawn(loader).unwrap();
        let parser = parser_task(loaded);
        let parser_name = "dbg-parser";
        let parsed = Builder::new().name("dbg-parser").spawn(parser).unwrap();
        let main = thread::Builder::new()
            .name("dbg-main".into())
            .spawn(move || *parsed + 1)
            .unwrap();

        let until = Instant::now() + Duration::from_secs(10);
        let snapshot = loop {
            let s = debug::waits();
            // Both readers blocked, and the loader's own thread has claimed its task
            // (on a loaded machine it may start after the readers block).
            if s.blocked_threads() == 2
                && s.to_string().matches("on thread \"dbg-loader\"").count() == 2
            {
                break s;
            }
            assert!(Instant::now() < until, "expected two blocked threads:\n{s}");
            thread::sleep(Duration::from_millis(2));
        };

        let mut chains: Vec<(String, Vec<CycleLink>)> = snapshot
            .chains()
            .map(|(t, c)| (t.to_string(), c.to_vec()))
            .collect();
        chains.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            chains,
            [
                (
                    "dbg-main".to_string(),
                    vec![
                        link(parser_name, "dbg-parser"),
                        link(loader_name, "dbg-loader")
                    ]
                ),
                (
                    "dbg-parser".to_string(),
                    vec![link(loader_name, "dbg-loader")]
                ),
            ]
        );

        let text = snapshot.to_string();
        assert!(text.contains("thread \"dbg-main\"\n"), "{text}");
        assert!(text.contains("thread \"dbg-parser\"\n"), "{text}");
        // The tree: each step one level deeper.
        let main_tree = format!(
            "thread \"dbg-main\"\n\
             └─ waits on task {parser_name:?} on thread \"dbg-parser\"\n   \
             └─ waits on task {loader_name:?} on thread \"dbg-loader\"\n"
        );
        assert!(
            text.contains(&main_tree),
            "{text}\n--- expected ---\n{main_tree}"
        );
        let parser_tree = format!(
            "thread \"dbg-parser\"\n└─ waits on task {loader_name:?} on thread \"dbg-loader\"\n"
        );
        assert!(text.contains(&parser_tree), "{text}");
        assert!(
            !text.contains("dbg-loader\"\n└"),
            "the loader waits on no future"
        );

        // A snapshot is a value: it does not change when the waits do.
        let copy = snapshot.clone();
        feed.send(20).unwrap();
        assert_eq!(main.join().unwrap(), 41);
        assert_eq!(copy, snapshot);

        // Everything finished: nobody is blocked any more.
        let after = debug::waits();
        assert_eq!(after.blocked_threads(), 0, "{after}");
        assert_eq!(after.to_string(), "no thread is blocked on a future");

        // A derived future shows as a step without a thread of its own.
        let (feed, rx) = mpsc::channel::<u32>();
        let mapped = Lazy::map(
            Builder::new()
                .name("dbg-source")
                .spawn(move || rx.recv().unwrap())
                .unwrap(),
            |v| v + 1,
        );
        let reader = thread::Builder::new()
            .name("dbg-map-reader".into())
            .spawn(move || *mapped)
            .unwrap();
        let until = Instant::now() + Duration::from_secs(10);
        let snapshot = loop {
            let s = debug::waits();
            if s.blocked_threads() == 1 {
                break s;
            }
            assert!(Instant::now() < until, "expected one blocked thread:\n{s}");
            thread::sleep(Duration::from_millis(2));
        };
        let (thread, chain) = snapshot.chains().next().unwrap();
        assert_eq!(thread, "dbg-map-reader");
        assert_eq!(chain.len(), 2, "{snapshot}");
        assert_eq!(chain[0].future, "map");
        assert_eq!(chain[0].thread, None);
        assert_eq!(chain[1].thread.as_deref(), Some("dbg-source"));
        assert!(
            snapshot
                .to_string()
                .contains("└─ waits on map\n   └─ waits on task "),
            "{snapshot}"
        );
        feed.send(1).unwrap();
        assert_eq!(reader.join().unwrap(), 2);
        assert_eq!(debug::waits().blocked_threads(), 0);

        // Waits with a limit are not in the registry.
        let (feed, rx) = mpsc::channel::<u32>();
        let slow = spawn_lazy(move || rx.recv().unwrap());
        assert_eq!(
            Lazy::wait_timeout(&slow, Duration::from_millis(20)),
            Err(WaitError::Timeout)
        );
        assert_eq!(debug::waits().blocked_threads(), 0);
        feed.send(3).unwrap();
        assert_eq!(*slow, 3);
    });
}
