//! The one module with `unsafe` (naming a `fn` in the child) runs under valgrind: the
//! parent starts its children under it (`TRANSPARENT_FUTURE_CHILD_WRAPPER`), and any
//! error valgrind reports fails the test.

use std::process::{Command, Stdio};
use std::time::Duration;

use transparent_future::process::{self, ProcessPool};

use crate::support::{temp_path, watchdog};

#[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
struct Row {
    name: String,
    values: Vec<i64>,
}

fn total(row: Row) -> (String, i64) {
    (row.name, row.values.iter().sum())
}

/// Run by `the_unsafe_path_is_clean_under_valgrind` in a process whose children run
/// under valgrind.
#[test]
#[ignore = "a helper, run by the_unsafe_path_is_clean_under_valgrind"]
fn helper_tasks_under_valgrind() {
    let row = || Row {
        name: "r".into(),
        values: vec![1, 2, 3],
    };
    assert_eq!(*process::spawn_lazy(row(), total), ("r".to_string(), 6));
    let pool = ProcessPool::new(1);
    assert_eq!(*pool.spawn_lazy(row(), total), ("r".to_string(), 6));
    assert_eq!(*pool.spawn_lazy(5u8, |n: u8| n + 1), 6);
}

#[test]
fn the_unsafe_path_is_clean_under_valgrind() {
    if Command::new("valgrind").arg("--version").output().is_err() {
        eprintln!("valgrind is not installed: skipped (CI installs it)");
        return;
    }
    watchdog(Duration::from_secs(120), || {
        let log = temp_path("valgrind-log");
        let wrapper = format!("valgrind -q --error-exitcode=1 --leak-check=no --log-file={log}.%p");
        let out = Command::new(std::env::current_exe().unwrap())
            .args([
                "valgrind::helper_tasks_under_valgrind",
                "--exact",
                "--ignored",
                "-q",
            ])
            .env("TRANSPARENT_FUTURE_CHILD_WRAPPER", wrapper)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let dir = std::path::Path::new(&log).parent().unwrap().to_owned();
        let prefix = std::path::Path::new(&log)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let logs: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
            .map(|e| e.path())
            .collect();
        assert!(logs.len() >= 2, "valgrind ran no child: {logs:?}");
        for path in logs {
            let text = std::fs::read_to_string(&path).unwrap();
            let _ = std::fs::remove_file(&path);
            assert!(
                text.trim().is_empty(),
                "valgrind reported, in {path:?}:\n{text}"
            );
        }
    });
}
