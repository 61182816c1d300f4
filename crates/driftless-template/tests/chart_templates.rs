//! Every template file of the real charts in the Helm conformance corpus
//! (`shared/conformance/helm` beside the repository, or `$DRIFTLESS_HELM_CORPUS`) parses here
//! exactly as Go's text/template parses it: the same templates, the same trees (as Go's
//! `Tree.String()` prints them), or the same error. Helm's own functions are declared as stubs on
//! both sides, since only parsing is compared.

mod support;

use std::path::{Path, PathBuf};

use support::{Case, Result, compare};

/// Helm's functions beyond Sprig's (helm.sh/helm/v4 pkg/engine/funcs.go), declared for parsing.
const HELM_FUNCS: &[&str] = &[
    "include",
    "tpl",
    "required",
    "lookup",
    "toYaml",
    "toYamlPretty",
    "fromYaml",
    "fromYamlArray",
    "toJson",
    "fromJson",
    "fromJsonArray",
    "toToml",
    "fromToml",
    "mustToYaml",
    "mustFromYaml",
];

/// Sprig functions driftless-template does not have yet (docs/templates.md), declared as stubs
/// on both sides so that the files calling them are compared too.
const NOT_YET: &[&str] = &[
    "genCA",
    "genCAWithKey",
    "genSelfSignedCert",
    "genSelfSignedCertWithKey",
    "genSignedCert",
    "genSignedCertWithKey",
    "genPrivateKey",
    "buildCustomCert",
    "htpasswd",
    "bcrypt",
    "derivePassword",
    "encryptAES",
    "decryptAES",
    "toDate",
    "mustToDate",
    "durationRound",
    "urlParse",
    "urlJoin",
    "getHostByName",
];

fn corpus() -> PathBuf {
    std::env::var_os("DRIFTLESS_HELM_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/helm")
        })
}

/// Template files: everything under a `templates/` directory of a chart or vendored subchart.
fn template_files(dir: &Path, in_templates: bool, out: &mut Vec<PathBuf>) -> Result {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<std::result::Result<_, _>>()?;
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let path = e.path();
        let ft = e.file_type()?;
        if ft.is_dir() {
            let name = e.file_name();
            template_files(&path, in_templates || name == "templates", out)?;
        } else if ft.is_file() && in_templates {
            out.push(path);
        }
    }
    Ok(())
}

#[test]
fn chart_templates_parse_as_go_parses_them() -> Result {
    let root = corpus();
    let cases = root.join("cases");
    if !cases.is_dir() {
        let msg = format!(
            "Helm corpus not found at {} (set DRIFTLESS_HELM_CORPUS)",
            root.display()
        );
        if std::env::var_os("CI").is_some() {
            return Err(msg.into());
        }
        println!("{msg}; skipping it");
        return Ok(());
    }
    let mut files = Vec::new();
    template_files(&cases, false, &mut files)?;
    let mut batch = Vec::new();
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        let name = f.strip_prefix(&cases).unwrap_or(f).display().to_string();
        let mut c = Case::new(text, serde_json::Value::Null).sprig();
        c.name = name;
        c.parse_only = true;
        c.stubs = HELM_FUNCS
            .iter()
            .chain(NOT_YET)
            .map(|s| s.to_string())
            .collect();
        batch.push(c);
    }
    assert!(
        batch.len() > 100,
        "only {} template files found under {}",
        batch.len(),
        cases.display()
    );
    let diffs = compare(&batch)?;
    eprintln!(
        "chart templates: {} files parsed by Go and Driftless, {} identical, {} differing",
        batch.len(),
        batch.len() - diffs.len(),
        diffs.len()
    );
    if !diffs.is_empty() {
        // The end of each difference (our side) is what tells the cause.
        let shown: Vec<String> = diffs
            .iter()
            .map(|d| {
                d.rsplit("ours: ")
                    .next()
                    .unwrap_or(d)
                    .chars()
                    .take(300)
                    .collect()
            })
            .collect();
        return Err(format!(
            "{} of {} chart templates parse differently:\n{shown:#?}",
            diffs.len(),
            batch.len()
        )
        .into());
    }
    Ok(())
}
