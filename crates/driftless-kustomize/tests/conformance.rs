//! Golden conformance test: every case of the kustomize corpus (`shared/conformance/kustomize`
//! beside the repository, or `$DRIFTLESS_KUSTOMIZE_CORPUS`) and of `tests/cases/`.
//!
//! Cases listed in `tests/known-failures.txt` may fail; any other failure fails the test, and
//! so does a listed case that passes (the list may only shrink). Run with
//! `DRIFTLESS_KUSTOMIZE_WRITE_BASELINE=1` to rewrite the list after fixing cases.

use driftless_kustomize::conformance::{Outcome, load_cases, load_skipped, run_case};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

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

fn run() -> Result<bool, Box<dyn std::error::Error>> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let corpus = std::env::var_os("DRIFTLESS_KUSTOMIZE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../../../shared/conformance/kustomize"));
    let mut cases = Vec::new();
    let mut skipped = Vec::new();
    if corpus.join("cases").is_dir() {
        cases.extend(load_cases(&corpus)?);
        skipped = load_skipped(&corpus)?;
    } else {
        println!(
            "kustomize corpus not found at {} (set DRIFTLESS_KUSTOMIZE_CORPUS); running own cases only",
            corpus.display()
        );
    }
    let own = driftless_kustomize::conformance::load_own_cases(&manifest.join("tests/cases"))?;
    cases.extend(own);

    let baseline_path = manifest.join("tests/known-failures.txt");
    let baseline: BTreeSet<String> = std::fs::read_to_string(&baseline_path)
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();

    let mut failing = BTreeSet::new();
    let (mut pass, mut unexpected, mut fixed) = (0, Vec::new(), Vec::new());
    for case in &cases {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_case(case)))
            .unwrap_or_else(|_| Outcome::Fail("panicked".into()));
        match outcome {
            Outcome::Pass => {
                pass += 1;
                if baseline.contains(&case.name) {
                    fixed.push(case.name.clone());
                }
            }
            Outcome::Fail(why) => {
                failing.insert(case.name.clone());
                if !baseline.contains(&case.name) {
                    unexpected.push(format!("{}: {why}", case.name));
                }
            }
        }
    }
    if std::env::var_os("DRIFTLESS_KUSTOMIZE_WRITE_BASELINE").is_some() {
        let mut text =
            String::from("# Conformance cases known to fail; this list may only shrink.\n");
        for f in &failing {
            text.push_str(f);
            text.push('\n');
        }
        std::fs::write(&baseline_path, text)?;
        println!(
            "wrote {} known failures to {}",
            failing.len(),
            baseline_path.display()
        );
        return Ok(true);
    }
    for s in &skipped {
        println!("skipped {} ({})", s.name, s.category);
    }
    for u in &unexpected {
        println!("FAIL {u}");
    }
    for f in &fixed {
        println!("FIXED {f} (passes now: remove it from tests/known-failures.txt)");
    }
    println!(
        "kustomize conformance: {pass} passed, {} failed ({} known), {} skipped, of {} cases",
        failing.len(),
        failing.len() - unexpected.len(),
        skipped.len(),
        cases.len()
    );
    Ok(unexpected.is_empty() && fixed.is_empty())
}
