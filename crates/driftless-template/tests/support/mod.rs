//! The Go oracle (`testenv/go/gotemplate`, built by `testenv/build`) and the comparison of its
//! results with Driftless's, case by case.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use driftless_template::{Func, MissingKey, Param, Templates, Value};
use serde_json::json;

pub type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// One template run: its text, its data (JSON, decoded as Go's encoding/json does) and
/// whether Sprig's functions are registered.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub template: String,
    pub data: serde_json::Value,
    pub sprig: bool,
    pub missing_key: &'static str,
    /// Parse only, and compare the parse trees.
    pub parse_only: bool,
    /// Functions declared as stubs on both sides (Helm's, for parsing charts).
    pub stubs: Vec<String>,
}

impl Case {
    pub fn new(template: impl Into<String>, data: serde_json::Value) -> Self {
        Case {
            name: "t".into(),
            template: template.into(),
            data,
            sprig: false,
            missing_key: "",
            parse_only: false,
            stubs: vec![],
        }
    }

    pub fn sprig(mut self) -> Self {
        self.sprig = true;
        self
    }

    pub fn missing_key(mut self, m: &'static str) -> Self {
        self.missing_key = m;
        self
    }
}

/// The fixed clock of both sides.
pub const NOW: &str = "2024-03-05T06:07:08Z";

/// Parses `data` as JSON; a bad literal in a test table is the test's bug.
pub fn data(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("bad test data {s:?}: {e}"))
}

/// The reference: `$DRIFTLESS_GOTEMPLATE_BIN`, else where `testenv/build` puts it.
fn oracle_bin() -> Result<PathBuf> {
    if let Some(bin) = std::env::var_os("DRIFTLESS_GOTEMPLATE_BIN") {
        return Ok(bin.into());
    }
    let build = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testenv/build");
    let out = Command::new(build).arg("--print-gotemplate").output()?;
    let path = PathBuf::from(String::from_utf8(out.stdout)?.trim());
    if !path.is_file() {
        return Err(format!("{} is missing: run testenv/build", path.display()).into());
    }
    Ok(path)
}

/// What Go's text/template gives for each case: the output, or the error message.
pub fn go(cases: &[Case]) -> Result<Vec<std::result::Result<String, String>>> {
    let input: Vec<serde_json::Value> = cases
        .iter()
        .map(|c| {
            json!({"name": c.name, "template": c.template, "data": c.data, "sprig": c.sprig,
                   "missingkey": c.missing_key, "now": NOW, "parseOnly": c.parse_only,
                   "stubs": c.stubs})
        })
        .collect();
    let mut child = Command::new(oracle_bin()?)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stdin = child.stdin.take().ok_or("no stdin")?;
    let body = serde_json::to_vec(&input)?;
    let writer = std::thread::spawn(move || {
        let mut stdin = stdin;
        stdin.write_all(&body)
    });
    let out = child.wait_with_output()?;
    writer.join().map_err(|_| "writer panicked")??;
    if !out.status.success() {
        return Err(format!(
            "gotemplate failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let results: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout)?;
    Ok(results
        .into_iter()
        .map(|r| match (r.get("output"), r.get("error")) {
            (_, Some(e)) => Err(e.as_str().unwrap_or_default().to_string()),
            (Some(o), _) => Ok(o.as_str().unwrap_or_default().to_string()),
            _ => Err("no result".into()),
        })
        .collect())
}

/// Helm's `include`, as the oracle defines it: the named template executed into a string.
pub fn include() -> Func {
    Func::with_engine(&[Param::String, Param::Any], None, |ctx, args| {
        let name = args[0].as_str().unwrap_or_default();
        ctx.execute(name, &args[1]).map(Value::str)
    })
}

/// What Driftless gives for one case.
pub fn ours(c: &Case) -> std::result::Result<String, String> {
    let mut t = Templates::new(c.name.clone());
    if c.sprig {
        t.funcs(driftless_template::funcs::sprig::funcs_at(
            NOW.parse().unwrap_or(jiff::Timestamp::UNIX_EPOCH),
        ));
        t.func("include", include());
    }
    match c.missing_key {
        "zero" => {
            t.missing_key(MissingKey::Zero);
        }
        "error" => {
            t.missing_key(MissingKey::Error);
        }
        _ => {}
    }
    for stub in &c.stubs {
        t.func(
            stub.as_str(),
            Func::variadic(&[], Param::Any, |_| Ok(Value::str(""))),
        );
    }
    t.parse(&c.name, &c.template).map_err(|e| e.to_string())?;
    if c.parse_only {
        let mut out = String::new();
        for name in t.names() {
            let tree = t.tree_text(name).unwrap_or_default();
            out.push_str(&format!("== {name}\n{tree}\n"));
        }
        return Ok(out);
    }
    t.execute(&c.name, &Value::from_json(&c.data))
        .map_err(|e| e.to_string())
}

/// Runs every case through Go and Driftless; returns the differences, described.
pub fn compare(cases: &[Case]) -> Result<Vec<String>> {
    let reference = go(cases)?;
    let mut diffs = Vec::new();
    for (c, want) in cases.iter().zip(reference) {
        let got = ours(c);
        if got != want {
            diffs.push(format!(
                "template {:?} data {}:\n    go:   {:?}\n    ours: {:?}",
                c.template, c.data, want, got
            ));
        }
    }
    Ok(diffs)
}

/// Fails with every difference listed.
pub fn assert_same(suite: &str, cases: &[Case]) -> Result {
    let diffs = compare(cases)?;
    eprintln!(
        "{suite}: {} cases compared with Go, {} identical, {} differing",
        cases.len(),
        cases.len() - diffs.len(),
        diffs.len()
    );
    if !diffs.is_empty() {
        return Err(format!(
            "{suite}: {} of {} cases differ from Go:\n{}",
            diffs.len(),
            cases.len(),
            diffs.join("\n")
        )
        .into());
    }
    Ok(())
}
