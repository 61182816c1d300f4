//! Times in-process `helm template`: `helm_bench ITERATIONS CASE_DIR...` renders each case of
//! the conformance corpus layout (`case.json` beside `chart/`) ITERATIONS times, loading the
//! chart from disk each time as `helm template` does, and prints the mean time per render in
//! microseconds (`<micros> <dir>`), then the total. Cases that fail are reported and skipped.
//! With ITERATIONS 0 it prints the rendered output of each case instead (for comparison).

use std::path::Path;
use std::time::Instant;

use driftless_helm::{NativeEngine, RenderOptions, ValueOptions, load_dir, render};
use serde_json::Value;

fn strings(case: &Value, key: &str) -> Vec<String> {
    case.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn render_case(dir: &Path, case: &Value) -> Result<String, String> {
    let mut value_files = Vec::new();
    for f in strings(case, "values") {
        let bytes = std::fs::read(dir.join(&f)).map_err(|e| format!("{f}: {e}"))?;
        value_files.push((f, bytes));
    }
    let user = ValueOptions {
        value_files,
        set: strings(case, "set"),
        set_string: strings(case, "setString"),
        set_json: strings(case, "setJson"),
        set_file: Vec::new(),
    }
    .merge(&mut |p| Err(format!("--set-file {p}: not used by the benchmark")))
    .map_err(|e| e.to_string())?;
    let text = |k: &str, d: &str| case.get(k).and_then(Value::as_str).unwrap_or(d).to_owned();
    let options = RenderOptions {
        release_name: text("release", "release-name"),
        namespace: text("namespace", "default"),
        kube_version: case
            .get("kubeVersion")
            .and_then(Value::as_str)
            .map(str::to_owned),
        api_versions: strings(case, "apiVersions"),
        include_crds: case
            .get("includeCrds")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        ..RenderOptions::default()
    };
    let chart = load_dir(&dir.join("chart")).map_err(|e| e.to_string())?;
    render(chart, &user, &options, &NativeEngine::new()).map_err(|e| e.to_string())
}

fn main() {
    let mut args = std::env::args().skip(1);
    let iterations: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let mut total = 0.0;
    for dir in args {
        let path = Path::new(&dir);
        let case: Value = match std::fs::read(path.join("case.json"))
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        {
            Ok(c) => c,
            Err(e) => {
                eprintln!("skip {dir}: case.json: {e}");
                continue;
            }
        };
        match render_case(path, &case) {
            Err(e) => {
                eprintln!("skip {dir}: {e}");
                continue;
            }
            Ok(out) if iterations == 0 => {
                print!("{out}");
                continue;
            }
            Ok(_) => {}
        }
        let start = Instant::now();
        for _ in 0..iterations {
            let _ = render_case(path, &case);
        }
        let micros = start.elapsed().as_secs_f64() * 1e6 / f64::from(iterations);
        total += micros;
        println!("{micros:.0} {dir}");
    }
    if iterations > 0 {
        println!("total_micros_per_round {total:.0}");
    }
}
