//! Differential test against the reference: seeded, generated kustomization trees (bases,
//! components and an overlay over manifests of many kinds, with kustomize's generators,
//! transformers, patches of all three kinds, replacements and sort options) built by this crate
//! and by `kubectl kustomize`, compared byte for byte. Where the reference fails, the build here
//! must fail too.
//!
//! `cargo test -p driftless-kustomize --test kustomize_diff` runs 300 seeds; after `--`:
//! `--long` (10,000 seeds), `--seeds N`, `--start S`, `--seed S` (one seed, tree printed),
//! `--jobs J`, `--quiet`, `--seed S --write DIR` (writes the tree of S to DIR). `DRIFTLESS_KDIFF_SEEDS` and `DRIFTLESS_KDIFF_START` do the same as the
//! flags. Seeds listed in `tests/kustomize-diff-known.txt` may differ (the list may only
//! shrink: a listed seed that passes fails the test too); any other difference fails the test.
//! A failing seed prints the seed and the generated tree file by file, so that it can
//! become a fixed case under `tests/cases/`. Without `kubectl` on the PATH the test says so and
//! passes, unless `DRIFTLESS_KDIFF_REQUIRE` is set.

mod kdiff;

use driftless_kustomize::parse::parse_documents;
use driftless_kustomize::{DiskFs, Options, build_yaml};
use kdiff::tree::{Tree, tree};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

struct Config {
    start: u64,
    seeds: u64,
    jobs: usize,
    verbose_seed: bool,
    quiet: bool,
    /// Write the tree of `start` here and stop (for reducing a failing seed by hand).
    write: Option<PathBuf>,
}

fn config() -> Result<Config, String> {
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u64>().ok());
    let mut c = Config {
        start: env("DRIFTLESS_KDIFF_START").unwrap_or(0),
        seeds: env("DRIFTLESS_KDIFF_SEEDS").unwrap_or(300),
        jobs: std::thread::available_parallelism().map_or(2, |n| n.get().max(2)),
        verbose_seed: false,
        quiet: false,
        write: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = |what: &str| -> Result<u64, String> {
            args.next()
                .and_then(|v| v.parse().ok())
                .ok_or(format!("{what} needs a number"))
        };
        match a.as_str() {
            "--long" => c.seeds = 10_000,
            "--seeds" => c.seeds = num("--seeds")?,
            "--start" => c.start = num("--start")?,
            "--seed" => {
                c.start = num("--seed")?;
                c.seeds = 1;
                c.verbose_seed = true;
            }
            "--jobs" => c.jobs = num("--jobs")?.max(1) as usize,
            "--quiet" => c.quiet = true,
            "--write" => c.write = args.next().map(PathBuf::from),
            // What the test harness passes to every test binary.
            _ => {}
        }
    }
    Ok(c)
}

/// How one seed came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Identical,
    BothFailed,
    SameObjects,
    DifferentObjects,
    OnlyDriftlessFailed,
    OnlyReferenceFailed,
}

struct Run {
    verdict: Verdict,
    report: String,
    /// One line: the first differing lines, or the error of the side that failed.
    summary: String,
}

fn main() -> ExitCode {
    let c = match config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kustomize_diff: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(dir) = &c.write {
        return match write_tree(&tree(c.start), dir) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("kustomize_diff: {}: {e}", dir.display());
                ExitCode::FAILURE
            }
        };
    }
    if Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_err()
    {
        println!("kustomize_diff: kubectl is not on the PATH; differential test skipped");
        return if std::env::var_os("DRIFTLESS_KDIFF_REQUIRE").is_some() {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        };
    }
    let root = std::env::temp_dir().join(format!("driftless-kdiff-{}", std::process::id()));
    let next = AtomicU64::new(c.start);
    let end = c.start + c.seeds;
    let results: Mutex<Vec<(u64, Run)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..c.jobs {
            s.spawn(|| {
                loop {
                    let seed = next.fetch_add(1, Ordering::SeqCst);
                    if seed >= end {
                        break;
                    }
                    let run = run_seed(seed, &root.join(seed.to_string()), c.verbose_seed);
                    if let Ok(mut r) = results.lock() {
                        r.push((seed, run));
                    }
                }
            });
        }
    });
    let _ = std::fs::remove_dir_all(&root);
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by_key(|(s, _)| *s);
    let count = |v: Verdict| results.iter().filter(|(_, r)| r.verdict == v).count();
    let failing: Vec<&(u64, Run)> = results
        .iter()
        .filter(|(_, r)| !matches!(r.verdict, Verdict::Identical | Verdict::BothFailed))
        .collect();
    let baseline_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(BASELINE);
    let known: BTreeSet<u64> = std::fs::read_to_string(&baseline_path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .filter(|s| (c.start..end).contains(s))
        .collect();
    // Trees in full for the first few new differences; one line for the others.
    let mut shown = 0;
    for (seed, run) in &failing {
        let new = !known.contains(seed);
        if c.verbose_seed || (!c.quiet && new && shown < 3) {
            shown += 1;
            println!("{}", run.report);
        } else {
            println!(
                "seed {seed}: {:?}: {} (--seed {seed} prints the tree)",
                run.verdict, run.summary
            );
        }
    }
    if c.verbose_seed && failing.is_empty() {
        for (_, run) in &results {
            println!("{}", run.report);
        }
    }
    println!(
        "kustomize diff: seeds {}..{}: {} identical, {} failed in both, {} same objects in other bytes, {} different objects, {} failed only here, {} failed only in the reference",
        c.start,
        end,
        count(Verdict::Identical),
        count(Verdict::BothFailed),
        count(Verdict::SameObjects),
        count(Verdict::DifferentObjects),
        count(Verdict::OnlyDriftlessFailed),
        count(Verdict::OnlyReferenceFailed),
    );
    let failing_seeds: BTreeSet<u64> = failing.iter().map(|(s, _)| *s).collect();
    if !failing_seeds.is_empty() {
        println!(
            "failing seeds: {}",
            failing_seeds
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    if std::env::var_os("DRIFTLESS_KDIFF_WRITE_BASELINE").is_some() {
        let mut text = String::from(BASELINE_HEADER);
        for (seed, run) in &failing {
            text.push_str(&format!("{seed} {:?}\n", run.verdict));
        }
        return match std::fs::write(&baseline_path, text) {
            Ok(()) => {
                println!("wrote {} known differences to {BASELINE}", failing.len());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("kustomize_diff: {}: {e}", baseline_path.display());
                ExitCode::FAILURE
            }
        };
    }
    let new: Vec<u64> = failing_seeds.difference(&known).copied().collect();
    let fixed: Vec<u64> = known.difference(&failing_seeds).copied().collect();
    println!(
        "{} of the failing seeds are known ({BASELINE}), {} new, {} known ones pass now",
        failing_seeds.len() - new.len(),
        new.len(),
        fixed.len()
    );
    for s in &new {
        println!("NEW DIFFERENCE seed {s}");
    }
    for s in &fixed {
        println!("FIXED seed {s} (passes now: remove it from {BASELINE})");
    }
    if new.is_empty() && fixed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Seeds known to differ, one a line (`<seed> <verdict>`); the list may only shrink. Rewrite
/// it with `DRIFTLESS_KDIFF_WRITE_BASELINE=1` after a fix, or after a change of the generator
/// (which changes every tree).
const BASELINE: &str = "tests/kustomize-diff-known.txt";

const BASELINE_HEADER: &str = "# Seeds of tests/kustomize_diff.rs whose trees differ from kubectl kustomize v5.5.0 today.\n# The list may only shrink; each is a difference to reduce into a case under tests/cases and fix.\n";

fn write_tree(t: &Tree, dir: &Path) -> std::io::Result<()> {
    for (path, data) in &t.files {
        let p = dir.join(path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(p, data)?;
    }
    std::fs::create_dir_all(dir.join(&t.build_dir))
}

fn run_seed(seed: u64, dir: &PathBuf, always_report: bool) -> Run {
    let t = tree(seed);
    if let Err(e) = write_tree(&t, dir) {
        return Run {
            verdict: Verdict::DifferentObjects,
            report: format!(
                "seed {seed}: could not write the tree to {}: {e}",
                dir.display()
            ),
            summary: "could not write the tree".into(),
        };
    }
    let reference = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir.join(&t.build_dir))
        .output();
    let ours = build_yaml(
        &DiskFs::new(dir),
        &format!("/{}", t.build_dir),
        &Options::default(),
    );
    let _ = std::fs::remove_dir_all(dir);
    let (ref_out, ref_err) = match &reference {
        Ok(o) if o.status.success() => (
            Some(String::from_utf8_lossy(&o.stdout).into_owned()),
            String::new(),
        ),
        Ok(o) => (None, String::from_utf8_lossy(&o.stderr).trim().to_string()),
        Err(e) => (None, format!("kubectl did not run: {e}")),
    };
    let verdict = match (&ref_out, &ours) {
        (Some(want), Ok(got)) if want == got => Verdict::Identical,
        (Some(want), Ok(got)) => {
            let a = parse_documents(want, "reference");
            let b = parse_documents(got, "driftless");
            match (a, b) {
                (Ok(a), Ok(b)) if a == b => Verdict::SameObjects,
                _ => Verdict::DifferentObjects,
            }
        }
        (Some(_), Err(_)) => Verdict::OnlyDriftlessFailed,
        (None, Ok(_)) => Verdict::OnlyReferenceFailed,
        (None, Err(_)) => Verdict::BothFailed,
    };
    let mut report = String::new();
    if always_report || !matches!(verdict, Verdict::Identical | Verdict::BothFailed) {
        report.push_str(&format!("===== seed {seed}: {verdict:?}\n{}", t.listing()));
        match (&ref_out, &ours) {
            (Some(want), Ok(got)) => report.push_str(&difference(want, got)),
            _ => {
                report.push_str(&format!(
                    "----- reference: {}\n",
                    ref_out
                        .as_deref()
                        .map_or(format!("error: {ref_err}"), |_| "built".into())
                ));
                report.push_str(&format!(
                    "----- driftless: {}\n",
                    match &ours {
                        Ok(_) => "built".to_string(),
                        Err(e) => format!("error: {e}"),
                    }
                ));
            }
        }
    }
    let summary = match (&ref_out, &ours) {
        (Some(want), Ok(got)) => {
            let i = want
                .lines()
                .zip(got.lines())
                .take_while(|(a, b)| a == b)
                .count();
            format!(
                "line {}: {:?} / {:?}",
                i + 1,
                want.lines().nth(i).unwrap_or(""),
                got.lines().nth(i).unwrap_or("")
            )
        }
        (Some(_), Err(e)) => format!("driftless: {e}"),
        (None, _) => format!("reference: {}", ref_err.lines().last().unwrap_or("")),
    };
    Run {
        verdict,
        report,
        summary,
    }
}

/// The first differing line with some context, and both outputs around it.
fn difference(want: &str, got: &str) -> String {
    let w: Vec<&str> = want.split_inclusive('\n').collect();
    let g: Vec<&str> = got.split_inclusive('\n').collect();
    let i = w.iter().zip(&g).take_while(|(a, b)| a == b).count();
    let from = i.saturating_sub(3);
    let mut s = format!("----- first difference at output line {}\n", i + 1);
    s.push_str("--- reference\n");
    for l in w.iter().skip(from).take(8) {
        s.push_str(&format!("{l:?}\n"));
    }
    s.push_str("--- driftless\n");
    for l in g.iter().skip(from).take(8) {
        s.push_str(&format!("{l:?}\n"));
    }
    s
}
