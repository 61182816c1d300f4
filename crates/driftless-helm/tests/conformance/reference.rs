//! The reference: `helm template` (Helm v4, built by `testenv/build`), run on a prepared copy of
//! a case's chart, its output cached by the hash of everything that goes in.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::Result;
use crate::case::Case;

/// The reference helm: `$DRIFTLESS_HELM_BIN`, else where `testenv/build` puts it; `None` when
/// it is not built.
pub fn helm_bin() -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os("DRIFTLESS_HELM_BIN") {
        return Some(bin.into());
    }
    let build = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testenv/build");
    let out = Command::new(build).arg("--print-helm").output().ok()?;
    let path = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    path.is_file().then_some(path)
}

/// Where reference outputs are cached: `$DRIFTLESS_HELM_REFERENCE_CACHE`, else
/// `~/.cache/driftless/helm-reference`.
fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DRIFTLESS_HELM_REFERENCE_CACHE") {
        return Some(dir.into());
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("driftless/helm-reference"))
}

/// The `helm template` arguments of a case, for a chart at `chart`.
pub fn args(case: &Case, chart: &Path) -> Vec<String> {
    let mut a = vec![
        "template".to_owned(),
        case.release.clone(),
        chart.display().to_string(),
        "--namespace".into(),
        case.namespace.clone(),
    ];
    for v in &case.values {
        a.push("--values".into());
        a.push(case.dir.join(v).display().to_string());
    }
    for (flag, list) in [
        ("--set-json", &case.set_json),
        ("--set", &case.set),
        ("--set-string", &case.set_string),
    ] {
        for s in list {
            a.push(flag.into());
            a.push(s.clone());
        }
    }
    a.push("--kube-version".into());
    a.push(case.kube_version.clone());
    for v in &case.api_versions {
        a.push("--api-versions".into());
        a.push(v.clone());
    }
    if case.include_crds {
        a.push("--include-crds".into());
    }
    if case.is_upgrade {
        a.push("--is-upgrade".into());
    }
    if case.skip_tests {
        a.push("--skip-tests".into());
    }
    a
}

fn hash_tree(dir: &Path, rel: &str, h: &mut Sha256) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<std::io::Result<_>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = format!("{rel}/{}", e.file_name().to_string_lossy());
        let path = e.path();
        if path.is_dir() {
            hash_tree(&path, &name, h)?;
        } else {
            let data = std::fs::read(&path)?;
            h.update(name.as_bytes());
            h.update((data.len() as u64).to_le_bytes());
            h.update(&data);
        }
    }
    Ok(())
}

/// Runs `helm template` for `case` on a copy of `chart` made by `prepare` (which gets the
/// copy's path), or reads the cached output. The cache key hashes the reference, `label` (which
/// names the preparation and its version), the arguments, the values files and `chart`'s files,
/// so a warm run copies nothing.
pub fn template(
    helm: &Path,
    case: &Case,
    chart: &Path,
    label: &str,
    prepare: impl FnOnce(&Path) -> Result<()>,
) -> Result<String> {
    let key = cache_key(helm, case, chart, label)?;
    match run(helm, case, &key, prepare)? {
        Ran::Printed(text) => Ok(text),
        Ran::Failed(stderr) => Err(format!("helm template failed: {}", stderr.trim()).into()),
    }
}

/// What a run of `helm template` did.
pub enum Ran {
    /// It succeeded and printed this.
    Printed(String),
    /// It failed with this on stderr.
    Failed(String),
}

/// As [`template`], keeping a failure (cached too) for the error cases.
pub fn template_or_error(
    helm: &Path,
    case: &Case,
    chart: &Path,
    label: &str,
    prepare: impl FnOnce(&Path) -> Result<()>,
) -> Result<Ran> {
    let key = cache_key(helm, case, chart, label)?;
    run(helm, case, &key, prepare)
}

fn cache_key(helm: &Path, case: &Case, chart: &Path, label: &str) -> Result<String> {
    let mut h = Sha256::new();
    h.update(helm.display().to_string().as_bytes());
    h.update(label.as_bytes());
    for a in args(case, Path::new("CHART")) {
        h.update(a.as_bytes());
        h.update([0]);
    }
    for v in &case.values {
        h.update(std::fs::read(case.dir.join(v))?);
    }
    hash_tree(chart, "", &mut h)?;
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

fn write_atomic(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let partial = path.with_extension("partial");
    std::fs::write(&partial, text)?;
    std::fs::rename(&partial, path)?;
    Ok(())
}

fn run(
    helm: &Path,
    case: &Case,
    key: &str,
    prepare: impl FnOnce(&Path) -> Result<()>,
) -> Result<Ran> {
    let dir = cache_dir();
    let out_path = dir.as_ref().map(|d| d.join(format!("{key}.out")));
    let err_path = dir.as_ref().map(|d| d.join(format!("{key}.err")));
    if let Some(text) = out_path
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok())
    {
        return Ok(Ran::Printed(text));
    }
    if let Some(text) = err_path
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok())
    {
        return Ok(Ran::Failed(text));
    }
    let tmp = tempfile::tempdir()?;
    let copy = tmp.path().join("chart");
    prepare(&copy)?;
    let out = Command::new(helm).args(args(case, &copy)).output()?;
    // The copy's temporary path is the chart's path in helm's messages.
    let stderr = String::from_utf8_lossy(&out.stderr).replace(&copy.display().to_string(), "CHART");
    let (ran, path) = if out.status.success() {
        (Ran::Printed(String::from_utf8(out.stdout)?), out_path)
    } else {
        (Ran::Failed(stderr), err_path)
    };
    if let Some(path) = path {
        let text = match &ran {
            Ran::Printed(t) | Ran::Failed(t) => t,
        };
        write_atomic(&path, text)?;
    }
    Ok(ran)
}
