//! The plain renderer's reading of manifest files against kubectl's (the reference built by
//! `testenv/build` from `testenv/go/yamlref`: apimachinery's YAML-or-JSON decoder and
//! sigs.k8s.io/yaml, YAML 1.1), object by object: every YAML and JSON file of the real-repository
//! Kustomize corpus, and seeded generated documents of every scalar style, anchors and merge
//! keys, multi-line strings, numbers, YAML 1.1 booleans and nulls. Where the reference fails,
//! Driftless must fail too.
//!
//! `DRIFTLESS_PLAIN_SEEDS=N` runs N generated documents instead of the default.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, ensure};
use driftless_resource::parse_manifests;
use serde_json::Value;

/// Generated documents in the test command.
const DEFAULT_SEEDS: u64 = 400;

/// Classes of difference known and not fixed yet: a differing case whose input contains the
/// marker is counted, not failed; a class that no case shows any more fails the test (take it
/// off: the list may only shrink).
const KNOWN: &[(&str, &str)] = &[(
    "!bang",
    "a scalar with a local tag (`!bang yes`, `!bang`) is a string in kubectl's reader; \
     serde-saphyr reads it as the untagged scalar (true, null)",
)];

/// What reading a file gave: objects, or an error.
#[derive(Debug, PartialEq)]
enum Read {
    Objects(Vec<Value>),
    Error(String),
}

impl Read {
    fn agrees(&self, other: &Read) -> bool {
        match (self, other) {
            (Read::Error(_), Read::Error(_)) => true,
            (Read::Objects(a), Read::Objects(b)) => a == b,
            _ => false,
        }
    }
}

fn ours(path: &Path) -> anyhow::Result<Read> {
    let bytes = std::fs::read(path)?;
    Ok(match parse_manifests(&path.display().to_string(), &bytes) {
        Ok(manifests) => Read::Objects(manifests.into_iter().map(|m| m.into_parts().0).collect()),
        Err(error) => Read::Error(error.to_string()),
    })
}

/// The reference's reading of `path` (one process per file).
fn reference(tool: &Path, path: &Path) -> anyhow::Result<Read> {
    let out = Command::new(tool)
        .arg(path)
        .output()
        .with_context(|| format!("running {}", tool.display()))?;
    let text = String::from_utf8(out.stdout)?;
    if !out.status.success() {
        let error = text.lines().last().unwrap_or_default().to_owned();
        ensure!(error.starts_with("error: "), "{}: {text}", tool.display());
        return Ok(Read::Error(error));
    }
    let objects = text
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<Vec<Value>, _>>()?;
    Ok(Read::Objects(objects))
}

/// Every `.yaml`, `.yml` and `.json` file under `dir`, sorted.
fn manifest_files(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            manifest_files(&path, out)?;
        } else if entry.file_type()?.is_file()
            && path
                .extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        {
            out.push(path);
        }
    }
    out.sort();
    Ok(())
}

fn corpus_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance/kustomize-real/trees");
    dir.is_dir().then_some(dir)
}

/// The outcome of a run: cases that differ (name, input, ours, reference), and how many there
/// were.
struct Tally {
    total: usize,
    differ: Vec<(String, String, Read, Read)>,
}

impl Tally {
    fn check(&mut self, name: String, input: String, ours: Read, reference: Read) {
        self.total += 1;
        if !ours.agrees(&reference) {
            self.differ.push((name, input, ours, reference));
        }
    }

    /// Fails on a difference of no known class, and on a known class no case shows.
    fn finish(self, what: &str, classes: &[(&str, &str)]) -> anyhow::Result<()> {
        let known = |input: &str| classes.iter().any(|(marker, _)| input.contains(marker));
        let unexpected: Vec<String> = self
            .differ
            .iter()
            .filter(|(_, input, _, _)| !known(input))
            .map(|(name, input, ours, reference)| {
                format!("{name}:\n{input}\n  ours:      {ours:?}\n  reference: {reference:?}")
            })
            .collect();
        let gone: Vec<&str> = classes
            .iter()
            .filter(|(marker, _)| {
                !self
                    .differ
                    .iter()
                    .any(|(_, input, _, _)| input.contains(marker))
            })
            .map(|(marker, _)| *marker)
            .collect();
        println!(
            "plain renderer against kubectl's reading, {what}: {} of {} agree, {} in known classes",
            self.total - self.differ.len(),
            self.total,
            self.differ.len() - unexpected.len()
        );
        ensure!(
            unexpected.is_empty(),
            "{} {what} differ from the reference (each is a case to fix):\n{}",
            unexpected.len(),
            unexpected.join("\n")
        );
        ensure!(
            gone.is_empty(),
            "known classes no {what} show any more (take them off KNOWN): {gone:?}"
        );
        Ok(())
    }
}

#[test]
fn the_real_corpus_reads_as_kubectl_reads_it() -> anyhow::Result<()> {
    let tool = driftless_testenv::reference_yaml()?;
    let Some(dir) = corpus_dir() else {
        ensure!(
            std::env::var_os("CI").is_none(),
            "the real-repository corpus is missing beside the repository (../shared)"
        );
        eprintln!("skipping: no ../shared/conformance/kustomize-real beside the repository");
        return Ok(());
    };
    let mut files = Vec::new();
    manifest_files(&dir, &mut files)?;
    ensure!(
        files.len() > 500,
        "only {} files in {}",
        files.len(),
        dir.display()
    );
    let mut tally = Tally {
        total: 0,
        differ: Vec::new(),
    };
    for file in &files {
        let name = file.strip_prefix(&dir)?.display().to_string();
        let input = String::from_utf8_lossy(&std::fs::read(file)?).into_owned();
        tally.check(name, input, ours(file)?, reference(&tool, file)?);
    }
    tally.finish("corpus files", &[])
}

#[test]
fn generated_documents_read_as_kubectl_reads_them() -> anyhow::Result<()> {
    let tool = driftless_testenv::reference_yaml()?;
    let seeds: u64 = match std::env::var("DRIFTLESS_PLAIN_SEEDS") {
        Ok(n) => n.parse().context("DRIFTLESS_PLAIN_SEEDS")?,
        Err(_) => DEFAULT_SEEDS,
    };
    let dir = tempfile::tempdir()?;
    let mut tally = Tally {
        total: 0,
        differ: Vec::new(),
    };
    for seed in 0..seeds {
        let text = generate(seed);
        let file = dir.path().join(format!("seed-{seed}.yaml"));
        std::fs::write(&file, &text)?;
        let (ours, reference) = (ours(&file)?, reference(&tool, &file)?);
        tally.check(format!("seed {seed}"), text, ours, reference);
    }
    tally.finish("generated documents", KNOWN)
}

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Plain scalars whose meaning YAML 1.1 and 1.2 readers disagree on, or that look like
/// something else.
const PLAIN: &[&str] = &[
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "Y",
    "N",
    "Yes",
    "NO",
    "On",
    "OFF",
    "true",
    "False",
    "TRUE",
    "null",
    "Null",
    "~",
    "0644",
    "0o644",
    "0x1F",
    "0b101",
    "1e3",
    "1.5e-3",
    ".5",
    "-.inf",
    ".NaN",
    "+12",
    "1_000",
    "12:30",
    "1:20:30",
    "2026-12-01",
    "2026-12-01T14:00:00Z",
    "007",
    "-0",
    "0.0",
    "9007199254740993",
    "123456789012345678901234567890",
    "-1",
    "3.",
    "plain text",
    "a: b",
    "#notacomment",
    "x#y",
    "@at",
    "`tick",
    "%pct",
    "!bang",
    "&amp",
    "*star",
    "- dash",
    "?q",
    "|pipe",
    ">gt",
    "'quote",
    "\"dq",
];

/// Quoted and block scalars.
const STYLED: &[&str] = &[
    "'yes'",
    "\"no\"",
    "'0644'",
    "\"line\\nbreak\"",
    "\"tab\\there\"",
    "\"trailing\\n\"",
    "\"\\u00e9t\\u00e9\"",
    "'it''s'",
    "\"\"",
    "''",
    "|\n    one\n    two\n",
    "|-\n    one\n    two\n",
    "|+\n    kept\n\n",
    ">\n    folded\n    line\n",
    ">-\n    folded\n\n    para\n",
    "|2\n     indented\n",
    "\"  leading spaces\"",
    "'trailing '",
    "\"unicode ☃ 𝄞\"",
];

/// One generated manifest document (sometimes several, sometimes a List), as YAML text.
fn generate(seed: u64) -> String {
    let mut rng = Rng(seed);
    let mut doc = String::new();
    if rng.below(6) == 0 {
        doc.push_str("# a comment first\n---\n");
    }
    let list = rng.below(8) == 0;
    let (indent, prefix) = if list {
        doc.push_str("apiVersion: v1\nkind: List\nitems:\n");
        ("    ", "  - ")
    } else {
        ("  ", "")
    };
    let first_key = |doc: &mut String, line: &str, first: &mut bool| {
        if *first {
            doc.push_str(prefix);
            *first = false;
        } else {
            doc.push_str(&" ".repeat(prefix.len()));
        }
        doc.push_str(line);
        doc.push('\n');
    };
    let mut first = true;
    first_key(&mut doc, "apiVersion: example.com/v1", &mut first);
    first_key(&mut doc, "kind: Widget", &mut first);
    first_key(&mut doc, "metadata:", &mut first);
    let name = format!("w{seed}");
    doc.push_str(&format!(
        "{}{indent}name: {name}\n",
        " ".repeat(prefix.len())
    ));
    if rng.below(3) == 0 {
        doc.push_str(&format!(
            "{}{indent}labels: &labels {{app: web, tier: {}}}\n",
            " ".repeat(prefix.len()),
            rng.pick(PLAIN).replace(
                [
                    ':', '#', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', '\'', '"', '%',
                    '@', '`', '?', '-'
                ],
                "x"
            )
        ));
    }
    first_key(&mut doc, "spec:", &mut first);
    let pad = format!("{}{indent}", " ".repeat(prefix.len()));
    let fields = 1 + rng.below(8);
    // One key at most that YAML 1.1 reads as something else, so no two keys read the same
    // (Driftless refuses duplicate keys, which kubectl's reader would silently drop).
    let mut special = false;
    for i in 0..fields {
        let key = if !special && rng.below(10) == 0 {
            special = true;
            rng.pick(&[
                "on", "off", "yes", "y", "n", "1", "007", "null", "~", "true",
            ])
            .to_owned()
        } else {
            format!("f{i}")
        };
        let value = match rng.below(5) {
            0 | 1 => rng.pick(PLAIN).to_owned(),
            2 => rng.pick(STYLED).replace("\n    ", &format!("\n{pad}  ")),
            3 => format!(
                "[{}, {}]",
                rng.pick(&["1", "yes", "'a'", "0x10", "~"]),
                rng.pick(&["2", "off", "\"b\"", "1e2", "null"])
            ),
            _ => format!(
                "{{k: {}, j: {}}}",
                rng.pick(&["1", "no", "'x'", "0777", "Null"]),
                rng.pick(&["2.5", "On", "\"y\"", "-1", "~"])
            ),
        };
        doc.push_str(&format!("{pad}{key}: {value}\n"));
    }
    if doc.contains("&labels") && rng.below(2) == 0 {
        doc.push_str(&format!("{pad}selector: *labels\n"));
        if rng.below(2) == 0 {
            doc.push_str(&format!(
                "{pad}merged:\n{pad}  <<: *labels\n{pad}  extra: 1\n"
            ));
        }
    }
    if rng.below(5) == 0 {
        doc.push_str("---\n");
        if rng.below(2) == 0 {
            doc.push_str(&format!(
                "{{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {{\"name\": \"j{seed}\"}}, \"data\": {{\"a\": \"{}\"}}}}\n",
                rng.pick(&["1", "yes", "line\\nbreak", "\\u00e9"])
            ));
        } else {
            doc.push_str("~\n");
        }
    }
    doc
}
