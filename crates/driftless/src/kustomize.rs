//! `driftless kustomize`: renders a Kustomize directory exactly as `kubectl kustomize` does, or
//! reports conformance against the kustomize test corpus.

use anyhow::{Context, bail};
use clap::Args;
use driftless_kustomize::conformance::{
    Class, Outcome, classify_case, load_cases, load_own_cases, load_real_cases, load_skipped,
    run_case,
};
use driftless_kustomize::{DiskFs, Options, build_yaml};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Arguments of `driftless kustomize`.
#[derive(Debug, Args)]
pub struct KustomizeArgs {
    /// The directory holding the kustomization file.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Allow files outside the kustomization's directory (like `--load-restrictor
    /// LoadRestrictionsNone`).
    #[arg(long)]
    load_restrictions_none: bool,
    /// Instead of building, run every case of the kustomize conformance corpus in CORPUS (its
    /// `cases/`, `mismatch/` and `skipped.json`, or a real-repository corpus: `cases/` and
    /// `trees/`) and print pass, fail and skip per case and totals.
    #[arg(long, value_name = "CORPUS")]
    conformance_report: Option<PathBuf>,
    /// With --conformance-report: further cases to add, one directory each holding `input/`,
    /// `case.json` and `expected.yaml`.
    #[arg(long, value_name = "DIR", requires = "conformance_report")]
    own_cases: Option<PathBuf>,
}

/// Runs the command.
pub fn run(args: &KustomizeArgs) -> anyhow::Result<()> {
    if let Some(corpus) = &args.conformance_report {
        return report(corpus, args.own_cases.as_deref());
    }
    let dir =
        std::fs::canonicalize(&args.dir).with_context(|| format!("{}", args.dir.display()))?;
    // The whole filesystem is visible; load restrictions keep reads inside the kustomization.
    let fs = DiskFs::new("/");
    let options = Options {
        allow_outside_root: args.load_restrictions_none,
        ..Options::default()
    };
    let out = build_yaml(&fs, &dir.to_string_lossy(), &options)?;
    std::io::stdout().write_all(out.as_bytes())?;
    Ok(())
}

fn report(corpus: &Path, own: Option<&Path>) -> anyhow::Result<()> {
    if corpus.join("trees").is_dir() {
        return report_real(corpus);
    }
    let mut cases = Vec::new();
    let mut skipped = Vec::new();
    if corpus.join("cases").is_dir() {
        cases = load_cases(corpus)?;
        skipped = load_skipped(corpus)?;
    } else {
        println!(
            "kustomize corpus not found at {}; reporting --own-cases only",
            corpus.display()
        );
    }
    if let Some(own) = own {
        cases.extend(load_own_cases(own)?);
    }
    let (mut pass, mut fail) = (0, 0);
    for case in &cases {
        match run_case(case) {
            Outcome::Pass => {
                pass += 1;
                println!("pass {}", case.name);
            }
            Outcome::Fail(why) => {
                fail += 1;
                println!("FAIL {}: {why}", case.name);
            }
        }
    }
    for s in &skipped {
        println!("skip {} ({})", s.name, s.category);
    }
    println!(
        "total: {pass} passed, {fail} failed, {} skipped, of {} cases",
        skipped.len(),
        cases.len()
    );
    if cases.is_empty() {
        bail!("no cases found");
    }
    Ok(())
}

/// The report on a real-repository corpus: each case identical, the same objects in other bytes,
/// different objects, or an error, and the totals of each.
fn report_real(corpus: &Path) -> anyhow::Result<()> {
    let cases = load_real_cases(corpus)?;
    let mut counts = [0usize; 5];
    for case in &cases {
        let (slot, line) = match classify_case(case) {
            Class::Identical => (0, format!("pass {}", case.name)),
            Class::SameObjects(d) => (1, format!("BYTES {}: {d}", case.name)),
            Class::DifferentObjects(d) => (2, format!("OBJECTS {}: {d}", case.name)),
            Class::Error(e) => (3, format!("ERROR {}: {e}", case.name)),
            Class::WrongError(e) => (4, format!("FAIL {}: {e}", case.name)),
        };
        counts[slot] += 1;
        println!("{line}");
    }
    println!(
        "total: {} identical, {} same objects in other bytes, {} different objects, {} errors, {} error cases that built, of {} cases",
        counts[0],
        counts[1],
        counts[2],
        counts[3],
        counts[4],
        cases.len()
    );
    if cases.is_empty() {
        bail!("no cases found");
    }
    Ok(())
}
