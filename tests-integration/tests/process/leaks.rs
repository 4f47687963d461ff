//! No zombie, no leaked descriptor, no stray process after a mix of outcomes; fresh
//! children from many threads at once.

use std::time::Duration;

use transparent_future::process::{self, ProcessPool};
use transparent_future::{Deadline, Lazy, Outcome};

use crate::support::{children, watchdog, zombies_after};

const LIMIT: Duration = Duration::from_secs(30);

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn work(kind: u8) -> u8 {
    match kind {
        0 => 1,
        1 => loop {
            std::thread::sleep(Duration::from_millis(5));
        },
        2 => std::process::abort(),
        3 => panic!("task panic"),
        _ => std::process::exit(4),
    }
}

/// Run alone in a process of its own by `no_zombie_descriptor_or_stray_after_a_mix_of_outcomes`,
/// so that no other test's children or descriptors are counted.
#[test]
#[ignore = "a helper, run by no_zombie_descriptor_or_stray_after_a_mix_of_outcomes"]
fn helper_mix_of_outcomes() {
    watchdog(LIMIT, || {
        let fds_before = open_fds();
        {
            let pool = ProcessPool::new(2);
            let mut futures = Vec::new();
            for round in 0..3 {
                for kind in 0..5u8 {
                    // Only the spinning task may time out, even after a wait in the queue.
                    let d = Deadline::after(match kind {
                        1 => Duration::from_millis(200 + 50 * round),
                        _ => Duration::from_secs(25),
                    });
                    futures.push(process::spawn_lazy_with(d, kind, work));
                    futures.push(pool.spawn_lazy_with(d, kind, work));
                }
            }
            for (i, x) in futures.iter().enumerate() {
                match (i / 2) % 5 {
                    0 => assert_eq!(*x, Outcome::Ready(1)),
                    1 => assert_eq!(*x, Outcome::Timeout),
                    _ => assert!(Lazy::try_wait(x).is_err()),
                }
            }
        } // the pool is dropped: its workers end
        let z = zombies_after(Duration::from_secs(3));
        assert!(z.is_empty(), "zombies: {z:?}");
        let until = std::time::Instant::now() + Duration::from_secs(3);
        while !children().is_empty() && std::time::Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(children().is_empty(), "stray children: {:?}", children());
        assert_eq!(open_fds(), fds_before, "leaked descriptors");
    });
}

#[test]
fn no_zombie_descriptor_or_stray_after_a_mix_of_outcomes() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "leaks::helper_mix_of_outcomes",
            "--exact",
            "--ignored",
            "-q",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn sixty_four_threads_start_fresh_children_at_once() {
    watchdog(LIMIT, || {
        let threads: Vec<_> = (0..64u32)
            .map(|t| {
                std::thread::spawn(move || {
                    let futures: Vec<_> = (0..4u32)
                        .map(|i| process::spawn_lazy(t * 10 + i, |n: u32| n + 1))
                        .collect();
                    futures
                        .iter()
                        .enumerate()
                        .all(|(i, x)| **x == t * 10 + i as u32 + 1)
                })
            })
            .collect();
        assert!(threads.into_iter().all(|t| t.join().unwrap()));
    });
}
