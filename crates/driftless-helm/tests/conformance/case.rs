//! A case of the shared Helm corpus (`cases/<name>/case.json` beside `chart/`).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::Result;

/// One case's `helm template` inputs.
pub struct Case {
    pub name: String,
    pub dir: PathBuf,
    pub release: String,
    pub namespace: String,
    pub values: Vec<String>,
    pub set: Vec<String>,
    /// `setString`, `setJson` (Driftless's own cases only): `--set-string`, `--set-json`.
    pub set_string: Vec<String>,
    pub set_json: Vec<String>,
    /// `pack` (own cases only): subchart directories packed into `.tgz` archives first.
    pub pack: Vec<String>,
    /// `error` (own cases only): `helm template` fails; the first line of its message is
    /// compared with Driftless's error.
    pub error: bool,
    /// `isUpgrade`, `skipTests` (own cases only): `--is-upgrade`, `--skip-tests`.
    pub is_upgrade: bool,
    /// `nondeterministic`: two `helm template` runs differ (random names, generated keys).
    pub nondeterministic: bool,
    pub skip_tests: bool,
    pub kube_version: String,
    pub api_versions: Vec<String>,
    pub include_crds: bool,
    /// `vendored[].at`: where each vendored dependency should be, under `chart/`.
    pub vendored: Vec<String>,
}

impl Case {
    /// The first vendored dependency case.json lists that is not in the chart.
    pub fn missing_vendored(&self) -> Option<String> {
        self.vendored
            .iter()
            .find(|at| !self.dir.join("chart").join(at).is_dir())
            .map(|at| format!("chart/{at}"))
    }
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn string(v: &Value, key: &str) -> Result<String> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("case.json has no {key}").into())
}

/// Every case under `cases`, by name.
pub fn load(cases: &Path) -> Result<Vec<Case>> {
    let mut dirs: Vec<_> = std::fs::read_dir(cases)?
        .collect::<std::io::Result<Vec<_>>>()?
        .into_iter()
        .map(|e| e.path())
        .filter(|p| p.join("case.json").is_file())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .map(|dir| {
            let v: Value = serde_json::from_slice(&std::fs::read(dir.join("case.json"))?)?;
            Ok(Case {
                name: dir
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                release: string(&v, "release")?,
                namespace: string(&v, "namespace")?,
                values: strings(&v, "values"),
                set: strings(&v, "set"),
                set_string: strings(&v, "setString"),
                set_json: strings(&v, "setJson"),
                pack: strings(&v, "pack"),
                error: v.get("error").and_then(Value::as_bool).unwrap_or(false),
                is_upgrade: v.get("isUpgrade").and_then(Value::as_bool).unwrap_or(false),
                nondeterministic: v.get("nondeterministic").is_some(),
                skip_tests: v.get("skipTests").and_then(Value::as_bool).unwrap_or(false),
                kube_version: string(&v, "kubeVersion")?,
                api_versions: strings(&v, "apiVersions"),
                include_crds: v
                    .get("includeCrds")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                vendored: v
                    .get("vendored")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|d| d.get("at").and_then(Value::as_str))
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
                dir,
            })
        })
        .collect()
}
