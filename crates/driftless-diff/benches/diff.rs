//! Throughput of `diff_object` on recorded fixtures, in the steady state (manifest vs an
//! unchanged live object) and with drift. Prints figures; asserts nothing.
//!
//! Run: `cargo bench -p driftless-diff --bench diff`

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use driftless_diff::{DiffOptions, IgnoreRule, diff_object};
use serde_json::Value;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn load(file: &str) -> Result<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(file);
    Ok(serde_saphyr::from_str(&std::fs::read_to_string(path)?)?)
}

fn measure(label: &str, desired: &Value, live: &Value, opts: &DiffOptions) -> Result<()> {
    const ROUNDS: u32 = 2_000;
    // Warm up once, then time the rounds.
    diff_object(Some(desired), Some(live), opts)?;
    let start = Instant::now();
    for _ in 0..ROUNDS {
        black_box(diff_object(
            Some(black_box(desired)),
            Some(black_box(live)),
            opts,
        )?);
    }
    let per = start.elapsed() / ROUNDS;
    println!("{label:<48} {:>8.1} µs/object", per.as_secs_f64() * 1e6);
    Ok(())
}

fn main() -> Result<()> {
    let manifest = load("deployment/manifest.yaml")?;
    let applied = load("deployment/live-applied.yaml")?;
    let edited = load("deployment/live-edited.yaml")?;
    let secret = load("secret/manifest.yaml")?;
    let secret_live = load("secret/live.yaml")?;
    let plain = DiffOptions::default();
    let rules: Vec<IgnoreRule> = serde_saphyr::from_str(
        r#"[{group: apps, kind: Deployment, jqPathExpressions: ['.spec.template.spec.containers[] | select(.name == "web") | .image'], jsonPointers: [/spec/replicas]}]"#,
    )?;
    let with_rules = DiffOptions::new("driftless", rules)?;
    measure("Deployment, in sync", &manifest, &applied, &plain)?;
    measure(
        "Deployment, drifted (renders a unified diff)",
        &manifest,
        &edited,
        &plain,
    )?;
    measure(
        "Deployment, in sync, jq + pointer rule",
        &manifest,
        &applied,
        &with_rules,
    )?;
    measure(
        "Secret, in sync (stringData folded, masked)",
        &secret,
        &secret_live,
        &plain,
    )?;
    Ok(())
}
