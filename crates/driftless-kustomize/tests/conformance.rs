//! Golden conformance test, over three sets of cases:
//!
//! - the kustomize corpus (`shared/conformance/kustomize` beside the repository, or
//!   `$DRIFTLESS_KUSTOMIZE_CORPUS`) and the project's own `tests/cases/`, with known failures in
//!   `tests/known-failures.txt`;
//! - the real-repository corpus (`shared/conformance/kustomize-real` beside the repository, or
//!   `$DRIFTLESS_KUSTOMIZE_REAL_CORPUS`), built in the reference's default (legacy) order, with
//!   known failures in `tests/known-failures-real.txt`.
//!
//! A failing case that is not listed fails the test, and so does a listed case that passes (the
//! lists may only shrink). Under CI (`CI` set) a missing corpus fails the test. Run with
//! `DRIFTLESS_KUSTOMIZE_WRITE_BASELINE=1` to rewrite the lists after fixing cases.

use driftless_kustomize::conformance::{
    Case, Class, load_cases, load_own_cases, load_real_cases, load_skipped,
};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("conformance: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The corpus directory: `$var`, or `shared/conformance/<name>` beside the repository.
fn corpus(var: &str, name: &str) -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../../../shared/conformance").join(name))
}

fn missing(dir: &Path, var: &str) -> Result<()> {
    let msg = format!("corpus not found at {} (set {var})", dir.display());
    if std::env::var_os("CI").is_some() {
        return Err(msg.into());
    }
    println!("{msg}; skipping it");
    Ok(())
}

fn run() -> Result<bool> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let write = std::env::var_os("DRIFTLESS_KUSTOMIZE_WRITE_BASELINE").is_some();

    let upstream = corpus("DRIFTLESS_KUSTOMIZE_CORPUS", "kustomize");
    let mut cases = Vec::new();
    if upstream.join("cases").is_dir() {
        cases.extend(load_cases(&upstream)?);
        for s in load_skipped(&upstream)? {
            println!("skipped {} ({})", s.name, s.category);
        }
    } else {
        missing(&upstream, "DRIFTLESS_KUSTOMIZE_CORPUS")?;
    }
    cases.extend(load_own_cases(&manifest.join("tests/cases"))?);
    let ok = check(
        "kustomize conformance",
        &cases,
        &manifest.join("tests/known-failures.txt"),
        write,
    )?;

    let real = corpus("DRIFTLESS_KUSTOMIZE_REAL_CORPUS", "kustomize-real");
    let real_ok = if real.join("cases").is_dir() {
        check(
            "kustomize real-repository conformance",
            &load_real_cases(&real)?,
            &manifest.join("tests/known-failures-real.txt"),
            write,
        )?
    } else {
        missing(&real, "DRIFTLESS_KUSTOMIZE_REAL_CORPUS")?;
        true
    };
    Ok(ok && real_ok)
}

/// Runs `cases` against the known failures in `baseline`; prints the differences and counts.
fn check(label: &str, cases: &[Case], baseline: &Path, write: bool) -> Result<bool> {
    let known: BTreeSet<String> = std::fs::read_to_string(baseline)
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    let mut failing = BTreeSet::new();
    let (mut unexpected, mut fixed) = (Vec::new(), Vec::new());
    let mut counts = [0usize; 5];
    for case in cases {
        let class = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            driftless_kustomize::conformance::classify_case(case)
        }))
        .unwrap_or_else(|_| Class::Error("panicked".into()));
        let (slot, why) = match class {
            Class::Identical => (0, None),
            Class::SameObjects(d) => (1, Some(format!("same objects, other bytes: {d}"))),
            Class::DifferentObjects(d) => (2, Some(format!("different objects: {d}"))),
            Class::Error(e) => (3, Some(format!("error: {e}"))),
            Class::WrongError(e) => (4, Some(e)),
        };
        counts[slot] += 1;
        match why {
            None if known.contains(&case.name) => fixed.push(case.name.clone()),
            None => {}
            Some(why) => {
                failing.insert(case.name.clone());
                if !known.contains(&case.name) {
                    unexpected.push(format!("{}: {why}", case.name));
                }
            }
        }
    }
    if write {
        let mut text =
            String::from("# Conformance cases known to fail; this list may only shrink.\n");
        for f in &failing {
            text.push_str(f);
            text.push('\n');
        }
        std::fs::write(baseline, text)?;
        println!(
            "wrote {} known failures to {}",
            failing.len(),
            baseline.display()
        );
        return Ok(true);
    }
    for u in &unexpected {
        println!("FAIL {u}");
    }
    for f in &fixed {
        println!(
            "FIXED {f} (passes now: remove it from {})",
            baseline.display()
        );
    }
    println!(
        "{label}: {} identical, {} same objects in other bytes, {} different objects, {} errors, {} error cases that did not fail as expected, of {} cases",
        counts[0],
        counts[1],
        counts[2],
        counts[3],
        counts[4],
        cases.len()
    );
    println!(
        "{label}: {} passed, {} failed ({} known)",
        counts[0],
        failing.len(),
        failing.len() - unexpected.len(),
    );
    Ok(unexpected.is_empty() && fixed.is_empty())
}
