//! Golden conformance test against the real `helm template` (Helm v4.3.2, built by
//! `testenv/build`), over the shared corpus of real charts (`shared/conformance/helm` beside the
//! repository, or `$DRIFTLESS_HELM_CORPUS`) and Driftless's own cases (`tests/cases/`: the same
//! `case.json` layout, plus `setString`, `setJson` and `pack`, subchart directories packed into
//! `.tgz` archives before rendering).
//!
//! For each case, three checks:
//! - `data`: what Driftless hands the template engine (coalesced `.Values` of every chart,
//!   `.Chart`, `.Files` (names and content digests), the enabled subcharts, `.Release`, `.Capabilities`) against
//!   what a probe template added to a copy of the chart prints under `helm template`;
//! - `static`: `helm template`'s whole output, byte for byte, for a copy of the chart whose
//!   templates are replaced by action-free YAML (which templates render, splitting, ordering,
//!   `# Source:` headers, hooks, the real `crds/`);
//! - `full`: the real chart rendered byte for byte by [`engine`] (`NativeEngine`). For the cases the corpus marks `nondeterministic`
//!   (random names, generated certificates), the reference is run twice and the lines that
//!   differ between the two runs are masked on both sides.
//!
//! Reference outputs are cached by input hash under `~/.cache/driftless/helm-reference`. Known
//! failures (`case/check`) are listed in `tests/conformance/known-failures.txt`; a failure not
//! listed fails the test, and so does a listed one that passes (the list may only shrink). Under
//! CI (`CI` set) a missing corpus or reference fails the test. Set
//! `DRIFTLESS_HELM_WRITE_BASELINE=1` to rewrite the list.

mod case;
mod prepare;
mod reference;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use base64::Engine as _;
use driftless_helm::{
    RenderData, RenderOptions, TemplateEngine, ValueOptions, go_numbers, load_dir,
    process_dependencies, render, render_data,
};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use case::Case;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The template engine used for the `full` check: Driftless's own.
fn engine() -> Option<Box<dyn TemplateEngine>> {
    Some(Box::new(driftless_helm::NativeEngine::new()))
}

/// The engine of the `static` check: templates without actions render as their text.
fn static_engine(data: &RenderData) -> std::result::Result<Vec<(String, String)>, String> {
    Ok(data
        .templates
        .iter()
        .filter(|t| t.execute)
        .map(|t| (t.name.clone(), t.source.clone()))
        .collect())
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("helm conformance: {e}");
            ExitCode::FAILURE
        }
    }
}

fn skip_or_fail(msg: String) -> Result<bool> {
    if std::env::var_os("CI").is_some() {
        return Err(msg.into());
    }
    println!("{msg}; skipping the Helm conformance test");
    Ok(true)
}

enum Outcome {
    Identical,
    Differing(String),
    Skipped(String),
}

fn run() -> Result<bool> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let corpus = std::env::var_os("DRIFTLESS_HELM_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../../../shared/conformance/helm"));
    let Some(helm) = reference::helm_bin() else {
        return skip_or_fail("the reference helm is not built (run testenv/build)".into());
    };
    let mut cases = Vec::new();
    if corpus.join("cases").is_dir() {
        cases.extend(case::load(&corpus.join("cases"))?);
    } else {
        let msg = format!(
            "corpus not found at {} (set DRIFTLESS_HELM_CORPUS)",
            corpus.display()
        );
        if std::env::var_os("CI").is_some() {
            return Err(msg.into());
        }
        println!("{msg}; only Driftless's own cases are run");
    }
    cases.extend(case::load(&manifest.join("tests/cases"))?);
    // `DRIFTLESS_HELM_CASES=a,b` runs only the cases of those names (to look into a few).
    let only: Option<Vec<String>> = std::env::var("DRIFTLESS_HELM_CASES")
        .ok()
        .map(|v| v.split(',').map(str::to_owned).collect());
    if let Some(only) = &only {
        cases.retain(|c| only.contains(&c.name));
    }
    let baseline = manifest.join("tests/conformance/known-failures.txt");
    let known: BTreeSet<String> = std::fs::read_to_string(&baseline)
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    let engine = engine();
    let mut failing = BTreeSet::new();
    let mut counts = [[0usize; 3]; 3];
    let mut unexpected = Vec::new();
    let mut fixed = Vec::new();
    for case in &cases {
        if let Some(missing) = case.missing_vendored() {
            for check in ["data", "static", "full"] {
                println!(
                    "{:<40} {check:<6} skipped: corpus incomplete: {missing} is missing",
                    case.name
                );
            }
            for c in &mut counts {
                c[2] += 1;
            }
            continue;
        }
        if case.error {
            let result = outcome(check_error(
                &helm,
                case,
                engine.as_deref().unwrap_or(&static_engine),
            ));
            let (i, line) = match &result {
                Outcome::Identical => (0, "identical error".to_owned()),
                Outcome::Differing(why) => (1, format!("differing: {why}")),
                Outcome::Skipped(why) => (2, format!("skipped: {why}")),
            };
            let id = format!("{}/data", case.name);
            counts[0][i] += 1;
            if i == 1 {
                failing.insert(id.clone());
                if !known.contains(&id) {
                    unexpected.push(format!("{id}: {line}"));
                }
            } else if i == 0 && known.contains(&id) {
                fixed.push(id);
            }
            println!("{:<40} data   {line}", case.name);
            for (c, check) in ["static", "full"].iter().enumerate() {
                counts[c + 1][2] += 1;
                println!("{:<40} {check:<6} skipped: an error case", case.name);
            }
            continue;
        }
        let checks: [(&str, Outcome); 3] = [
            ("data", outcome(check_data(&helm, case))),
            ("static", outcome(check_static(&helm, case))),
            (
                "full",
                match &engine {
                    Some(e) => outcome(check_full(&helm, case, e.as_ref())),
                    // Templates without actions render as their text: the static engine is a
                    // correct engine for them, so such charts are compared in full already.
                    None if action_free(&case.dir.join("chart")) => {
                        outcome(check_full(&helm, case, &static_engine))
                    }
                    None => Outcome::Skipped("no template engine wired in".into()),
                },
            ),
        ];
        for (i, (check, result)) in checks.iter().enumerate() {
            let id = format!("{}/{check}", case.name);
            let line = match result {
                Outcome::Identical => {
                    counts[i][0] += 1;
                    if known.contains(&id) {
                        fixed.push(id.clone());
                    }
                    "identical".to_owned()
                }
                Outcome::Differing(why) => {
                    counts[i][1] += 1;
                    failing.insert(id.clone());
                    if !known.contains(&id) {
                        unexpected.push(format!("{id}: {why}"));
                    }
                    format!("differing: {why}")
                }
                Outcome::Skipped(why) => {
                    counts[i][2] += 1;
                    format!("skipped: {why}")
                }
            };
            println!("{:<40} {check:<6} {line}", case.name);
        }
    }
    for (i, check) in ["data", "static", "full"].iter().enumerate() {
        println!(
            "helm conformance {check}: {} identical, {} differing, {} skipped, of {} cases",
            counts[i][0],
            counts[i][1],
            counts[i][2],
            cases.len()
        );
    }
    if std::env::var_os("DRIFTLESS_HELM_WRITE_BASELINE").is_some() {
        let mut text = String::from(
            "# Helm conformance checks known to differ (case/check); this list may only shrink.\n",
        );
        for f in &failing {
            text.push_str(f);
            text.push('\n');
        }
        std::fs::write(&baseline, text)?;
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
    Ok(unexpected.is_empty() && fixed.is_empty())
}

/// Whether no file under any `templates/` of the chart (subcharts included) holds an action.
fn action_free(dir: &Path) -> bool {
    fn walk(dir: &Path, in_templates: bool) -> bool {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return false;
        };
        entries.flatten().all(|e| {
            let path = e.path();
            let templates = in_templates || e.file_name() == "templates";
            if path.is_dir() {
                walk(&path, templates)
            } else if in_templates {
                std::fs::read(&path).is_ok_and(|d| !d.windows(2).any(|w| w == b"{{"))
            } else {
                // An archive's templates cannot be looked at here.
                path.extension().is_none_or(|x| x != "tgz")
            }
        })
    }
    walk(dir, false)
}

fn outcome(r: Result<Outcome>) -> Outcome {
    r.unwrap_or_else(|e| Outcome::Differing(format!("error: {e}")))
}

fn options(case: &Case) -> RenderOptions {
    RenderOptions {
        release_name: case.release.clone(),
        namespace: case.namespace.clone(),
        kube_version: Some(case.kube_version.clone()),
        api_versions: case.api_versions.clone(),
        include_crds: case.include_crds,
        is_upgrade: case.is_upgrade,
        skip_tests: case.skip_tests,
        ..RenderOptions::default()
    }
}

fn user_values(case: &Case) -> Result<Map<String, Value>> {
    let mut value_files = Vec::new();
    for v in &case.values {
        value_files.push((v.clone(), std::fs::read(case.dir.join(v))?));
    }
    let opts = ValueOptions {
        value_files,
        set: case.set.clone(),
        set_string: case.set_string.clone(),
        set_json: case.set_json.clone(),
        ..ValueOptions::default()
    };
    let mut no_files = |p: &str| Err(format!("--set-file {p}: not used by the corpus"));
    Ok(opts.merge(&mut no_files)?)
}

fn check_data(helm: &Path, case: &Case) -> Result<Outcome> {
    let chart_dir = case.dir.join("chart");
    let out = reference::template(helm, case, &chart_dir, "probe-2", |copy| {
        prepare::copy_dir(&chart_dir, copy)?;
        prepare::add_probe(copy)
    })?;
    let Some(theirs) = probe_output(&out)? else {
        return Ok(Outcome::Skipped(
            "the probe template did not render (.helmignore?)".into(),
        ));
    };

    let user = user_values(case)?;
    let mut chart = load_dir(&case.dir.join("chart"))?;
    let mut warnings = Vec::new();
    process_dependencies(&mut chart, &user, &mut warnings)?;
    let data = render_data(&chart, &user, &options(case), warnings)?;
    let mut ours = Map::new();
    ours.insert("tree".into(), tree(&data, 0));
    ours.insert("release".into(), data.release.to_json());
    ours.insert("capabilities".into(), data.capabilities.to_json());
    Ok(compare(
        &go_numbers(Value::Object(ours)),
        &go_numbers(theirs),
    ))
}

/// What the probe template prints for the scope at `index`.
fn tree(data: &RenderData, index: usize) -> Value {
    let Some(scope) = data.scopes.get(index) else {
        return Value::Null;
    };
    let files: Map<String, Value> = scope
        .files
        .iter()
        .map(|f| {
            let digest: String = Sha256::digest(&f.data)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            (f.name.clone(), Value::String(digest))
        })
        .collect();
    let subs: Map<String, Value> = scope
        .subcharts
        .iter()
        .map(|(n, i)| (n.clone(), tree(data, *i)))
        .collect();
    serde_json::json!({
        "chart": scope.chart,
        "values": scope.values,
        "files": files,
        "subcharts": subs,
    })
}

/// The JSON the probe printed, from `helm template`'s output.
fn probe_output(out: &str) -> Result<Option<Value>> {
    let marker = format!("/templates/{}\n", prepare::PROBE);
    let Some(start) = out.find(&marker) else {
        return Ok(None);
    };
    let rest = &out[start..];
    let Some(line) = rest.lines().find(|l| l.starts_with("data: \"")) else {
        return Ok(None);
    };
    let encoded = line.trim_start_matches("data: ").trim_matches('"');
    let json = base64::engine::general_purpose::STANDARD.decode(encoded)?;
    Ok(Some(serde_json::from_slice(&json)?))
}

/// Identical, or the first difference as a JSON path.
fn compare(ours: &Value, theirs: &Value) -> Outcome {
    match first_difference(ours, theirs, String::new()) {
        None => Outcome::Identical,
        Some(d) => Outcome::Differing(d),
    }
}

fn short(v: Option<&Value>) -> String {
    let s = v.map_or_else(|| "(absent)".to_owned(), Value::to_string);
    if s.chars().count() > 120 {
        format!("{}…", s.chars().take(120).collect::<String>())
    } else {
        s
    }
}

fn first_difference(a: &Value, b: &Value, path: String) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let p = format!("{path}.{k}");
                match (x.get(k), y.get(k)) {
                    (Some(va), Some(vb)) => {
                        if let Some(d) = first_difference(va, vb, p) {
                            return Some(d);
                        }
                    }
                    (va, vb) => {
                        return Some(format!("{p}: ours {} vs helm {}", short(va), short(vb)));
                    }
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (va, vb))| first_difference(va, vb, format!("{path}[{i}]"))),
        _ if a == b => None,
        _ => Some(format!(
            "{path}: ours {} vs helm {}",
            short(Some(a)),
            short(Some(b))
        )),
    }
}

/// Identical, or the first differing line.
fn compare_text(ours: &str, theirs: &str) -> Outcome {
    if ours == theirs {
        return Outcome::Identical;
    }
    let (a, b): (Vec<&str>, Vec<&str>) = (ours.lines().collect(), theirs.lines().collect());
    let i = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    Outcome::Differing(format!(
        "line {}: ours {:?} vs helm {:?} ({} vs {} lines)",
        i + 1,
        a.get(i).copied().unwrap_or("(end)"),
        b.get(i).copied().unwrap_or("(end)"),
        a.len(),
        b.len()
    ))
}

fn check_static(helm: &Path, case: &Case) -> Result<Outcome> {
    let tmp = tempfile::tempdir()?;
    let copy = tmp.path().join("chart");
    prepare::copy_dir(&case.dir.join("chart"), &copy)?;
    if !prepare::make_static(&copy)? {
        return Ok(Outcome::Skipped("a subchart is an archive".into()));
    }
    prepare::pack(&copy, &case.pack)?;
    let theirs = reference::template(helm, case, &case.dir.join("chart"), "static-2", |to| {
        prepare::copy_dir(&copy, to)
    })?;
    let chart = load_dir(&copy)?;
    let ours = render(chart, &user_values(case)?, &options(case), &static_engine)?;
    Ok(compare_text(&ours, &theirs))
}

/// An error case: Helm's message (first line, `Error: ` removed) against Driftless's.
fn check_error(helm: &Path, case: &Case, engine: &dyn TemplateEngine) -> Result<Outcome> {
    let chart_dir = case.dir.join("chart");
    let theirs = match reference::template_or_error(helm, case, &chart_dir, "error-1", |to| {
        prepare::copy_dir(&chart_dir, to)
    })? {
        reference::Ran::Printed(_) => {
            return Ok(Outcome::Differing("helm template succeeded".into()));
        }
        reference::Ran::Failed(stderr) => stderr,
    };
    let theirs = theirs
        .lines()
        .find(|l| l.starts_with("Error: "))
        .map(|l| l.trim_start_matches("Error: ").to_owned())
        .unwrap_or_default();
    let ours = match user_values(case).and_then(|user| {
        let chart = load_dir(&chart_dir)?;
        Ok(render(chart, &user, &options(case), engine)?)
    }) {
        Ok(_) => {
            return Ok(Outcome::Differing(format!(
                "ours succeeded; helm: {theirs}"
            )));
        }
        Err(e) => e.to_string().lines().next().unwrap_or_default().to_owned(),
    };
    Ok(compare_text(&ours, &theirs))
}

fn check_full(helm: &Path, case: &Case, engine: &dyn TemplateEngine) -> Result<Outcome> {
    let chart_dir = case.dir.join("chart");
    let theirs = reference::template(helm, case, &chart_dir, "full-1", |to| {
        prepare::copy_dir(&chart_dir, to)?;
        prepare::pack(to, &case.pack)
    })?;
    let tmp = tempfile::tempdir()?;
    let copy = tmp.path().join("chart");
    prepare::copy_dir(&chart_dir, &copy)?;
    prepare::pack(&copy, &case.pack)?;
    let chart = load_dir(&copy)?;
    let ours = render(chart, &user_values(case)?, &options(case), engine)?;
    if !case.nondeterministic {
        return Ok(compare_text(&ours, &theirs));
    }
    // Random values (names, keys): a second reference run shows which lines are random; those
    // lines are masked on both sides.
    let again = reference::template(helm, case, &chart_dir, "full-1-again", |to| {
        prepare::copy_dir(&chart_dir, to)?;
        prepare::pack(to, &case.pack)
    })?;
    let (ours, theirs) = mask_random_lines(&ours, &theirs, &again);
    Ok(compare_text(&ours, &theirs))
}

/// Masks, in `ours` and `theirs`, the lines where two reference runs (`theirs`, `again`)
/// differ. When the line counts differ, nothing is masked (the comparison then fails).
fn mask_random_lines(ours: &str, theirs: &str, again: &str) -> (String, String) {
    let (o, t, a): (Vec<&str>, Vec<&str>, Vec<&str>) = (
        ours.lines().collect(),
        theirs.lines().collect(),
        again.lines().collect(),
    );
    if o.len() != t.len() || t.len() != a.len() {
        return (ours.to_owned(), theirs.to_owned());
    }
    let mask = |lines: &[&str]| -> String {
        lines
            .iter()
            .zip(&t)
            .zip(&a)
            .map(|((line, x), y)| {
                if x == y {
                    format!("{line}\n")
                } else {
                    "<random>\n".to_owned()
                }
            })
            .collect()
    };
    (mask(&o), mask(&t))
}
