//! Draws `docs/performance.svg` from the benches' own criterion output, so that anyone
//! can regenerate the chart on their machine:
//!
//! ```sh
//! cargo bench -p transparent-future-benches --bench pool
//! cargo bench -p transparent-future-benches --bench lazy -- '^(resolved_access|spawn_first_access)/'
//! cargo run -p transparent-future-benches --bin chart --release -- \
//!     [--criterion-dir target/criterion] [--out docs/performance.svg]
//! ```
//!
//! It reads the median of each contender from
//! `<criterion dir>/<group>/<bench>/new/estimates.json` (see [`COMPARISONS`]), writes a
//! horizontal grouped bar chart as SVG and prints the same figures as a Markdown table on
//! stdout. A missing estimate skips its bar (or its whole comparison) with a note on
//! stderr; no estimate at all is an error.
//!
//! No plotting dependency: the chart is a few rectangles and text lines at computed
//! positions, which is less code to write by hand (and to read) than to adapt a plotting
//! crate's axes, scales and font handling to, and it keeps the workspace's build and
//! dependency tree as they are. The only parsing needed, criterion's `estimates.json`,
//! goes through `serde_json`, which criterion already pulls in.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{SystemTime, UNIX_EPOCH};

/// Which side of a comparison a contender is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    /// `transparent-future`.
    Ours,
    /// The peer that the comparison's ratio divides by.
    Anchor,
    /// Another peer, shown for context.
    Peer,
}

/// One contender: a criterion bench id within its comparison's group.
struct Contender {
    /// The bench id as criterion stores it (`ours/pool` is the directory `ours/pool/`).
    id: &'static str,
    side: Side,
}

/// One comparison: a panel of the chart, one bar per contender.
struct Comparison {
    /// The criterion group, the first directory under the criterion dir.
    group: &'static str,
    /// The panel's heading.
    title: &'static str,
    /// What is measured, after the heading.
    what: &'static str,
    contenders: &'static [Contender],
}

const fn ours(id: &'static str) -> Contender {
    Contender {
        id,
        side: Side::Ours,
    }
}
const fn anchor(id: &'static str) -> Contender {
    Contender {
        id,
        side: Side::Anchor,
    }
}
const fn peer(id: &'static str) -> Contender {
    Contender {
        id,
        side: Side::Peer,
    }
}

/// Every comparison the chart draws, in order. To add one, add a row: the group and bench
/// ids are those of `benchmark_group(..)` and `bench_function(..)` in the bench files.
const COMPARISONS: &[Comparison] = &[
    Comparison {
        group: "bulk_100k",
        title: "bulk_100k",
        what: "100,000 trivial tasks spawned, then every result read (floor: an Arc through an injector)",
        contenders: &[
            ours("ours_pool_spawn_lazy"),
            anchor("rayon_scope_slots"),
            peer("tokio_spawn_await"),
            peer("floor_alloc_share_inject"),
        ],
    },
    Comparison {
        group: "fib_24",
        title: "fib_24",
        what: "nested fork-join, 75,024 forks (floor: an Arc through a deque, one thread)",
        contenders: &[
            ours("ours_pool_future_per_fork"),
            anchor("rayon_join"),
            peer("floor_alloc_share_queue_one_thread"),
        ],
    },
    Comparison {
        group: "fib_30",
        title: "fib_30",
        what: "nested fork-join, 1,346,268 forks (floor: an Arc through a deque, one thread)",
        contenders: &[
            ours("ours_pool_future_per_fork"),
            anchor("rayon_join"),
            peer("floor_alloc_share_queue_one_thread"),
        ],
    },
    Comparison {
        group: "dir_tree",
        title: "dir_tree",
        what: "total size of the files under a directory tree",
        contenders: &[ours("ours_pool_future_per_dir"), anchor("rayon_par_iter")],
    },
    Comparison {
        group: "wake_up",
        title: "wake_up, pool",
        what: "publish to a blocked reader's return, on a pool worker",
        contenders: &[ours("ours/pool"), anchor("crossbeam_bounded1/rayon_pool")],
    },
    Comparison {
        group: "wake_up",
        title: "wake_up, thread",
        what: "publish to a blocked reader's return, a thread per task",
        contenders: &[
            ours("ours/thread_per_task"),
            anchor("crossbeam_bounded1/std_thread"),
        ],
    },
    Comparison {
        group: "resolved_access",
        title: "resolved_access",
        what: "reading a resolved value",
        contenders: &[ours("lazy_spawned_deref"), anchor("once_cell_get")],
    },
    Comparison {
        group: "spawn_first_access",
        title: "spawn_first_access",
        what: "spawning a trivial task and reading it once",
        contenders: &[ours("spawn_lazy_deref"), anchor("std_thread_spawn_join")],
    },
];

/// The command that produces most of the data, named when none is found.
const BENCH_COMMAND: &str = "cargo bench -p transparent-future-benches --bench pool";

/// A measured contender.
#[derive(Clone, Debug)]
struct Bar {
    label: String,
    side: Side,
    /// Criterion's median, nanoseconds per iteration.
    ns: f64,
}

/// A comparison with the contenders that were found.
#[derive(Clone, Debug)]
struct Panel {
    title: String,
    what: String,
    bars: Vec<Bar>,
}

impl Panel {
    fn time_of(&self, side: Side) -> Option<f64> {
        self.bars.iter().find(|b| b.side == side).map(|b| b.ns)
    }

    /// Ours ÷ anchor, if both were found.
    fn ratio(&self) -> Option<f64> {
        ratio(self.time_of(Side::Ours)?, self.time_of(Side::Anchor)?)
    }
}

/// The facts about the machine and the tree, for the footer.
struct Facts {
    cpus: Option<usize>,
    date: String,
    commit: Option<String>,
}

fn ratio(ours: f64, anchor: f64) -> Option<f64> {
    (anchor > 0.0 && ours.is_finite() && anchor.is_finite()).then(|| ours / anchor)
}

/// `ns` in the largest unit that keeps it at 1 or above, to 3 significant digits.
fn format_time(ns: f64) -> String {
    let (value, unit) = if ns >= 1e9 {
        (ns / 1e9, "s")
    } else if ns >= 1e6 {
        (ns / 1e6, "ms")
    } else if ns >= 1e3 {
        (ns / 1e3, "µs")
    } else {
        (ns, "ns")
    };
    let decimals = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else if value >= 1.0 {
        2
    } else {
        3
    };
    format!("{value:.decimals$} {unit}")
}

fn format_ratio(r: f64) -> String {
    format!("{r:.2}×")
}

/// Escapes text for an XML text node or a double-quoted attribute.
fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a Markdown table cell.
fn escape_cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// The UTC calendar date `YYYY-MM-DD` of `secs` seconds after the Unix epoch (Howard
/// Hinnant's `civil_from_days`).
fn utc_date(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Criterion's median for `group/id`, in nanoseconds; `Err` says why there is none.
fn read_median(dir: &Path, group: &str, id: &str) -> Result<f64, String> {
    let mut path = dir.join(group);
    path.extend(id.split('/'));
    path.push("new");
    path.push("estimates.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    json["median"]["point_estimate"]
        .as_f64()
        .ok_or_else(|| format!("{}: no median.point_estimate", path.display()))
}

/// The panels whose estimates were found, with a note on stderr for each missing one.
fn load(dir: &Path) -> Vec<Panel> {
    let mut panels = Vec::new();
    for c in COMPARISONS {
        if !dir.join(c.group).is_dir() {
            eprintln!(
                "chart: skipping comparison {:?}: no {}",
                c.title,
                dir.join(c.group).display()
            );
            continue;
        }
        let mut bars = Vec::new();
        for k in c.contenders {
            match read_median(dir, c.group, k.id) {
                Ok(ns) => bars.push(Bar {
                    label: k.id.to_string(),
                    side: k.side,
                    ns,
                }),
                Err(why) => eprintln!("chart: skipping {}/{}: {why}", c.group, k.id),
            }
        }
        if bars.is_empty() {
            eprintln!("chart: skipping comparison {:?}: no estimates", c.title);
            continue;
        }
        panels.push(Panel {
            title: c.title.to_string(),
            what: c.what.to_string(),
            bars,
        });
    }
    panels
}

/// The Markdown table of the figures: comparison, contender, median, ratio to anchor.
fn markdown(panels: &[Panel]) -> String {
    let mut s = String::from(
        "| Comparison | Contender | Median | Ratio to anchor |\n|---|---|---:|---:|\n",
    );
    for p in panels {
        let anchor = p.time_of(Side::Anchor);
        for (i, b) in p.bars.iter().enumerate() {
            let comparison = if i == 0 {
                escape_cell(&p.title)
            } else {
                String::new()
            };
            let mut contender = format!("`{}`", escape_cell(&b.label));
            match b.side {
                Side::Ours => contender.push_str(" (ours)"),
                Side::Anchor => contender.push_str(" (anchor)"),
                Side::Peer => {}
            }
            let r = anchor
                .and_then(|a| ratio(b.ns, a))
                .map_or_else(|| "n/a".to_string(), |r| format!("{r:.2}"));
            let _ = writeln!(
                s,
                "| {comparison} | {contender} | {} | {r} |",
                format_time(b.ns)
            );
        }
    }
    s
}

// Layout of the SVG, in pixels.
const WIDTH: f64 = 900.0;
const MARGIN: f64 = 20.0;
/// The right edge of the contenders' labels; the bars start just after it.
const LABEL_RIGHT: f64 = 300.0;
const BAR_LEFT: f64 = 310.0;
/// The longest bar, leaving room for its time label within the width.
const BAR_MAX: f64 = 470.0;
const BAR_HEIGHT: f64 = 16.0;
const ROW: f64 = 22.0;
const OURS_COLOUR: &str = "#1f77b4";
const PEER_COLOUR: &str = "#ff7f0e";
const ANCHOR_STROKE: &str = "#7a3a00";
const FONT: &str = "DejaVu Sans, Verdana, Helvetica, Arial, sans-serif";

fn text(svg: &mut String, x: f64, y: f64, attrs: &str, content: &str) {
    let _ = writeln!(
        svg,
        r#"<text x="{x:.1}" y="{y:.1}" {attrs}>{}</text>"#,
        escape_xml(content)
    );
}

/// The fill and extra attributes of a bar (or legend swatch) of `side`: ours and peers
/// differ by colour, the anchor is a peer with a dark outline.
fn bar_style(side: Side) -> (&'static str, String) {
    match side {
        Side::Ours => (OURS_COLOUR, String::new()),
        Side::Anchor => (
            PEER_COLOUR,
            format!(r#" stroke="{ANCHOR_STROKE}" stroke-width="2""#),
        ),
        Side::Peer => (PEER_COLOUR, String::new()),
    }
}

fn swatch(svg: &mut String, x: f64, y: f64, side: Side) {
    let (fill, stroke) = bar_style(side);
    let _ = writeln!(
        svg,
        r#"<rect x="{x:.1}" y="{y:.1}" width="14" height="14" fill="{fill}"{stroke}/>"#
    );
}

/// The chart: a heading, a legend, one panel per comparison with its bars scaled to its
/// own slowest contender, and a footer with the machine's facts.
fn render_svg(panels: &[Panel], facts: &Facts) -> String {
    let bars: usize = panels.iter().map(|p| p.bars.len()).sum();
    let panels_top = 128.0;
    let panel_gap = 14.0;
    let heading = 22.0;
    let panels_height: f64 = panels.len() as f64 * (heading + panel_gap) + bars as f64 * ROW;
    let height = panels_top + panels_height + 44.0;

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="{FONT}" font-size="12">"#
    );
    let _ = writeln!(
        svg,
        r#"<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="white"/>"#
    );
    text(
        &mut svg,
        MARGIN,
        30.0,
        r##"font-size="18" font-weight="bold" fill="#222""##,
        "transparent-future against its peers: median time per iteration",
    );
    text(
        &mut svg,
        MARGIN,
        52.0,
        r##"fill="#444""##,
        "Shorter is faster. Each comparison's bars are scaled to its own slowest contender, not to one axis:",
    );
    text(
        &mut svg,
        MARGIN,
        68.0,
        r##"fill="#444""##,
        "times differ by orders of magnitude between comparisons. Ratio = ours ÷ anchor; below 1.00× ours is faster.",
    );

    let legend_y = 88.0;
    let mut x = MARGIN;
    for (side, label) in [
        (Side::Ours, "transparent-future (ours)"),
        (Side::Peer, "peer"),
        (Side::Anchor, "peer the ratio divides by (anchor)"),
    ] {
        swatch(&mut svg, x, legend_y, side);
        text(
            &mut svg,
            x + 20.0,
            legend_y + 11.5,
            r##"fill="#222""##,
            label,
        );
        x += 20.0 + 7.2 * label.chars().count() as f64 + 24.0;
    }

    let mut y = panels_top;
    for p in panels {
        // The heading: title and what is measured on the left, the ratio on the right.
        let _ = writeln!(
            svg,
            r##"<line x1="{MARGIN}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#ddd"/>"##,
            y - 16.0,
            WIDTH - MARGIN,
            y - 16.0
        );
        let _ = writeln!(
            svg,
            r##"<text x="{MARGIN}" y="{y:.1}" fill="#222"><tspan font-weight="bold" font-size="13">{}</tspan><tspan dx="8" fill="#555">{}</tspan></text>"##,
            escape_xml(&p.title),
            escape_xml(&p.what)
        );
        let ratio = p.ratio().map_or_else(
            || "ours ÷ anchor: n/a".to_string(),
            |r| format!("ours ÷ anchor = {}", format_ratio(r)),
        );
        text(
            &mut svg,
            WIDTH - MARGIN,
            y,
            r##"text-anchor="end" font-weight="bold" fill="#222""##,
            &ratio,
        );
        y += heading - 12.0;

        let max = p.bars.iter().map(|b| b.ns).fold(0.0, f64::max);
        for b in &p.bars {
            let len = if max > 0.0 {
                (b.ns / max * BAR_MAX).max(1.0)
            } else {
                1.0
            };
            let (fill, stroke) = bar_style(b.side);
            let label = match b.side {
                Side::Anchor => format!("{} (anchor)", b.label),
                _ => b.label.clone(),
            };
            let mid = y + BAR_HEIGHT / 2.0 + 4.0;
            text(
                &mut svg,
                LABEL_RIGHT,
                mid,
                r##"text-anchor="end" fill="#222""##,
                &label,
            );
            let _ = writeln!(
                svg,
                r#"<rect x="{BAR_LEFT}" y="{:.1}" width="{len:.1}" height="{BAR_HEIGHT}" fill="{fill}"{stroke}/>"#,
                y + 1.0
            );
            text(
                &mut svg,
                BAR_LEFT + len + 6.0,
                mid,
                r##"fill="#222""##,
                &format_time(b.ns),
            );
            y += ROW;
        }
        y += panel_gap + 12.0;
    }

    let cpus = facts
        .cpus
        .map_or_else(|| "unknown".to_string(), |n| n.to_string());
    let commit = facts
        .commit
        .as_deref()
        .map_or_else(String::new, |c| format!(", commit {c}"));
    text(
        &mut svg,
        MARGIN,
        height - 28.0,
        r##"fill="#555""##,
        &format!(
            "Drawn {} on a machine with {cpus} CPUs (available_parallelism){commit}; criterion medians.",
            facts.date
        ),
    );
    text(
        &mut svg,
        MARGIN,
        height - 12.0,
        r##"fill="#555""##,
        "Regenerate: the benches, then cargo run -p transparent-future-benches --bin chart --release (benches/README.md).",
    );
    svg.push_str("</svg>\n");
    svg
}

fn git_commit(root: &Path) -> Option<String> {
    let out = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(root)
        .output()
        .ok()?;
    let commit = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !commit.is_empty()).then_some(commit)
}

/// The workspace root: this package's parent directory.
fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map_or_else(|| manifest.join(".."), Path::to_path_buf)
}

/// Where criterion writes, as criterion itself decides: `CRITERION_HOME`, else
/// `$CARGO_TARGET_DIR/criterion`, else the workspace's `target/criterion`.
fn default_criterion_dir(root: &Path) -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        PathBuf::from(home)
    } else if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        PathBuf::from(target).join("criterion")
    } else {
        root.join("target").join("criterion")
    }
}

const USAGE: &str = "\
usage: cargo run -p transparent-future-benches --bin chart --release -- \\
           [--criterion-dir DIR] [--out FILE]

Draws the benches' criterion medians as an SVG chart and prints them as a Markdown table.
  --criterion-dir DIR  where criterion wrote its estimates (default: $CRITERION_HOME,
                       else $CARGO_TARGET_DIR/criterion, else <workspace>/target/criterion)
  --out FILE           the SVG to write (default: <workspace>/docs/performance.svg)";

struct Args {
    criterion_dir: PathBuf,
    out: PathBuf,
}

fn parse_args(root: &Path, mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        criterion_dir: default_criterion_dir(root),
        out: root.join("docs").join("performance.svg"),
    };
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg, None),
        };
        let slot = match flag.as_str() {
            "--criterion-dir" => &mut parsed.criterion_dir,
            "--out" => &mut parsed.out,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        };
        let value = inline
            .or_else(|| args.next())
            .ok_or_else(|| format!("{flag} needs a value"))?;
        *slot = PathBuf::from(value);
    }
    Ok(parsed)
}

fn main() -> ExitCode {
    let root = workspace_root();
    let args = match parse_args(&root, std::env::args().skip(1)) {
        Ok(args) => args,
        Err(why) if why.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(why) => {
            eprintln!("chart: {why}\n{USAGE}");
            return ExitCode::from(2);
        }
    };

    let dir = &args.criterion_dir;
    let panels = if dir.is_dir() { load(dir) } else { Vec::new() };
    if panels.is_empty() {
        eprintln!(
            "chart: no criterion estimates found under {}.\n\
             Run the benches first, e.g. `{BENCH_COMMAND}` \
             (and `--bench lazy` for resolved_access and spawn_first_access), \
             or pass --criterion-dir.",
            args.criterion_dir.display()
        );
        return ExitCode::FAILURE;
    }

    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let facts = Facts {
        cpus: std::thread::available_parallelism().ok().map(|n| n.get()),
        date: utc_date(secs),
        commit: git_commit(&root),
    };
    let svg = render_svg(&panels, &facts);
    // (No `if let .. && let ..`: the member's rust-version, 1.86, predates let chains.)
    if let Some(parent) = args.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        if let Err(e) = std::fs::create_dir_all(parent) {
            eprintln!("chart: cannot create {}: {e}", parent.display());
            return ExitCode::FAILURE;
        }
    }
    if let Err(e) = std::fs::write(&args.out, svg) {
        eprintln!("chart: cannot write {}: {e}", args.out.display());
        return ExitCode::FAILURE;
    }
    print!("{}", markdown(&panels));
    eprintln!("chart: wrote {}", args.out.display());
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_entries() -> Vec<Panel> {
        vec![Panel {
            title: "fib_24".into(),
            what: "a & b < c".into(),
            bars: vec![
                Bar {
                    label: "ours_pool_future_per_fork".into(),
                    side: Side::Ours,
                    ns: 1_500_000.0,
                },
                Bar {
                    label: "rayon_join".into(),
                    side: Side::Anchor,
                    ns: 1_000_000.0,
                },
            ],
        }]
    }

    #[test]
    fn formats_times_in_their_unit() {
        assert_eq!(format_time(0.5551), "0.555 ns");
        assert_eq!(format_time(47.12), "47.1 ns");
        assert_eq!(format_time(432_817.8), "433 µs");
        assert_eq!(format_time(1_500_000.0), "1.50 ms");
        assert_eq!(format_time(2.5e9), "2.50 s");
    }

    #[test]
    fn ratio_is_ours_over_anchor() {
        assert_eq!(two_entries()[0].ratio(), Some(1.5));
        assert_eq!(ratio(1.0, 0.0), None);
        assert_eq!(format_ratio(0.874), "0.87×");
    }

    #[test]
    fn escapes_xml() {
        assert_eq!(
            escape_xml(r#"a & b < c > "d" 'e'"#),
            "a &amp; b &lt; c &gt; &quot;d&quot; &apos;e&apos;"
        );
    }

    #[test]
    fn dates_are_utc_calendar_days() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(951_782_400), "2000-02-29");
        assert_eq!(utc_date(1_704_067_199), "2023-12-31");
        assert_eq!(utc_date(1_704_067_200), "2024-01-01");
    }

    #[test]
    fn svg_of_two_entries_has_the_labels() {
        let facts = Facts {
            cpus: Some(2),
            date: "2024-01-01".into(),
            commit: Some("abc1234".into()),
        };
        let svg = render_svg(&two_entries(), &facts);
        assert!(svg.starts_with("<svg "));
        assert!(svg.ends_with("</svg>\n"));
        for label in [
            "ours_pool_future_per_fork",
            "rayon_join (anchor)",
            "1.50 ms",
            "1.00 ms",
            "ours ÷ anchor = 1.50×",
            "a &amp; b &lt; c",
            "2 CPUs",
            "2024-01-01",
            "abc1234",
        ] {
            assert!(svg.contains(label), "{label:?} not in the SVG");
        }
        assert!(!svg.contains("a & b"));
        let table = markdown(&two_entries());
        assert!(table.contains("| fib_24 | `ours_pool_future_per_fork` (ours) | 1.50 ms | 1.50 |"));
        assert!(table.contains("|  | `rayon_join` (anchor) | 1.00 ms | 1.00 |"));
    }
}
