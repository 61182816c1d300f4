//! The conformance corpus: loading its cases, running them, and reporting.
//!
//! Layout (see the corpus README): `cases/<name>/{input/, case.json, expected.yaml}`, plus
//! `mismatch/<name>/` where kustomize's test disagrees with `kubectl kustomize` v5.5 (those are
//! checked against kubectl's output, `kubectl.yaml` or `kubectl.stderr.txt`), and `skipped.json`
//! for tests that were not extracted (plugins, helm, network...). The project's own cases use the
//! same layout.

use crate::build::build_yaml;
use crate::fs::DiskFs;
use crate::target::{Options, Reorder};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// What a case expects.
#[derive(Debug, Clone)]
pub enum Expect {
    /// This exact output.
    Output(String),
    /// An error whose message contains every one of these strings.
    Error(Vec<String>),
}

/// One build case.
#[derive(Debug, Clone)]
pub struct Case {
    /// `cases/<name>`, `mismatch/<name>` or `own/<name>`.
    pub name: String,
    /// The case's `input/` directory.
    pub input: PathBuf,
    /// The directory built, relative to `input/`.
    pub build_dir: String,
    /// The expectation.
    pub expect: Expect,
    /// Build options.
    pub options: Options,
}

/// The result of running one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Output or error as expected.
    Pass,
    /// Something else happened (a short description).
    Fail(String),
}

/// An entry of `skipped.json`.
#[derive(Debug, Clone)]
pub struct Skipped {
    /// `<test>[/<subtest>]`.
    pub name: String,
    /// Why (`plugins (Go/exec)`, `helm`...).
    pub category: String,
}

/// Errors reading the corpus.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A `case.json` is malformed.
    #[error("{path}: {message}")]
    Bad {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

fn read(path: &Path) -> Result<String, CorpusError> {
    std::fs::read_to_string(path).map_err(|source| CorpusError::Io {
        path: path.display().to_string(),
        source,
    })
}

fn list(dir: &Path) -> Result<Vec<PathBuf>, CorpusError> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    let entries = std::fs::read_dir(dir).map_err(|source| CorpusError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    for e in entries.flatten() {
        if e.path().is_dir() {
            out.push(e.path());
        }
    }
    out.sort();
    Ok(out)
}

/// Loads every case below `root/cases` and `root/mismatch`.
pub fn load_cases(root: &Path) -> Result<Vec<Case>, CorpusError> {
    let mut cases = Vec::new();
    for (sub, mismatch) in [("cases", false), ("mismatch", true)] {
        for dir in list(&root.join(sub))? {
            cases.push(load_case(&dir, sub, mismatch)?);
        }
    }
    Ok(cases)
}

fn load_case(dir: &Path, group: &str, mismatch: bool) -> Result<Case, CorpusError> {
    let meta_path = dir.join("case.json");
    let meta: Value = serde_json::from_str(&read(&meta_path)?).map_err(|e| CorpusError::Bad {
        path: meta_path.display().to_string(),
        message: e.to_string(),
    })?;
    let name = format!(
        "{group}/{}",
        dir.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    );
    let s = |k: &str| meta.get(k).and_then(Value::as_str).map(str::to_string);
    let opts = meta.get("options");
    let mut options = Options {
        reorder: Reorder::None,
        ..Options::default()
    };
    if matches!(
        opts.and_then(|o| o.get("reorder")).and_then(Value::as_str),
        Some("legacy" | "unspecified")
    ) {
        options.reorder = Reorder::Legacy;
    }
    if opts
        .and_then(|o| o.get("loadRestrictions"))
        .and_then(Value::as_str)
        == Some("LoadRestrictionsNone")
    {
        options.allow_outside_root = true;
    }
    let expect = if mismatch {
        if dir.join("kubectl.stderr.txt").exists() {
            Expect::Error(Vec::new())
        } else {
            Expect::Output(read(&dir.join("kubectl.yaml"))?)
        }
    } else if s("expect").as_deref() == Some("error") {
        let mut want: Vec<String> = Vec::new();
        if let Some(all) = meta.get("error_contains_all").and_then(Value::as_array) {
            want.extend(all.iter().filter_map(Value::as_str).map(str::to_string));
        }
        want.extend(s("error_contains"));
        want.extend(s("error_equals"));
        Expect::Error(want)
    } else {
        Expect::Output(read(&dir.join("expected.yaml"))?)
    };
    Ok(Case {
        name,
        input: dir.join("input"),
        build_dir: s("build_dir").unwrap_or_else(|| ".".into()),
        expect,
        options,
    })
}

/// Loads the project's own cases (`<dir>/<name>/{input/, case.json, expected.yaml}`).
pub fn load_own_cases(dir: &Path) -> Result<Vec<Case>, CorpusError> {
    list(dir)?
        .iter()
        .map(|d| load_case(d, "own", false))
        .collect()
}

/// Loads the real-repository corpus (`root/cases/<name>/{case.json, expected.yaml}`, each building
/// `root/<tree>/<build_dir>`), in the reference's default (legacy) order. Names are `real/<name>`.
pub fn load_real_cases(root: &Path) -> Result<Vec<Case>, CorpusError> {
    let mut cases = Vec::new();
    for dir in list(&root.join("cases"))? {
        let meta_path = dir.join("case.json");
        let meta: Value =
            serde_json::from_str(&read(&meta_path)?).map_err(|e| CorpusError::Bad {
                path: meta_path.display().to_string(),
                message: e.to_string(),
            })?;
        let field = |k: &str| {
            meta.get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| CorpusError::Bad {
                    path: meta_path.display().to_string(),
                    message: format!("no `{k}`"),
                })
        };
        let expect = if field("expect")? == "error" {
            Expect::Error(Vec::new())
        } else {
            Expect::Output(read(&dir.join("expected.yaml"))?)
        };
        cases.push(Case {
            name: format!(
                "real/{}",
                dir.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            ),
            input: root.join(field("tree")?),
            build_dir: field("build_dir")?,
            expect,
            options: Options::default(),
        });
    }
    Ok(cases)
}

/// Reads `skipped.json`.
pub fn load_skipped(root: &Path) -> Result<Vec<Skipped>, CorpusError> {
    let path = root.join("skipped.json");
    if !path.exists() {
        return Ok(Vec::new());
    }
    let v: Value = serde_json::from_str(&read(&path)?).map_err(|e| CorpusError::Bad {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    let mut out = Vec::new();
    for e in v.as_array().into_iter().flatten() {
        let g = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let mut name = g("test");
        if let Some(st) = e.get("subtest").and_then(Value::as_str) {
            name = format!("{name}/{st}");
        }
        if let Some(step) = e.get("step") {
            name = format!("{name}/step{step}");
        }
        out.push(Skipped {
            name,
            category: g("category"),
        });
    }
    Ok(out)
}

/// How a case's build compares with the reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Class {
    /// The exact expected bytes (or, for an error case, an error with every expected string).
    Identical,
    /// The same objects in the same order, written in other bytes (the first differing line).
    SameObjects(String),
    /// Other objects, or the same in another order (the first differing line).
    DifferentObjects(String),
    /// The build failed where the reference builds (the error).
    Error(String),
    /// An error case that built, or failed with another message.
    WrongError(String),
}

/// Runs one case and classifies the result.
pub fn classify_case(case: &Case) -> Class {
    let fs = DiskFs::new(&case.input);
    let dir = format!("/{}", case.build_dir.trim_start_matches("./"));
    let result = build_yaml(&fs, &dir, &case.options);
    match (&case.expect, result) {
        (Expect::Output(want), Ok(got)) => {
            if &got == want {
                return Class::Identical;
            }
            let line = first_difference(want, &got);
            let same = match (
                crate::parse::parse_documents(want, "expected.yaml"),
                crate::parse::parse_documents(&got, "output"),
            ) {
                (Ok(w), Ok(g)) => w == g,
                _ => false,
            };
            if same {
                Class::SameObjects(line)
            } else {
                Class::DifferentObjects(line)
            }
        }
        (Expect::Output(_), Err(e)) => Class::Error(e.to_string()),
        (Expect::Error(want), Err(e)) => {
            let msg = e.to_string();
            match want.iter().find(|w| !msg.contains(w.as_str())) {
                None => Class::Identical,
                Some(w) => Class::WrongError(format!("error {msg:?} lacks {w:?}")),
            }
        }
        (Expect::Error(_), Ok(_)) => {
            Class::WrongError("expected an error, the build succeeded".into())
        }
    }
}

/// Runs one case.
pub fn run_case(case: &Case) -> Outcome {
    match classify_case(case) {
        Class::Identical => Outcome::Pass,
        Class::SameObjects(d) => Outcome::Fail(format!("same objects, other bytes: {d}")),
        Class::DifferentObjects(d) => Outcome::Fail(d),
        Class::Error(e) => Outcome::Fail(format!("unexpected error: {e}")),
        Class::WrongError(e) => Outcome::Fail(e),
    }
}

fn first_difference(want: &str, got: &str) -> String {
    for (i, (w, g)) in want.lines().zip(got.lines()).enumerate() {
        if w != g {
            return format!("line {}: want {w:?}, got {g:?}", i + 1);
        }
    }
    format!(
        "want {} lines, got {}",
        want.lines().count(),
        got.lines().count()
    )
}
