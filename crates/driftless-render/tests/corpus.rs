//! Malformed-input corpus: every folder under `tests/corpus/` is a directory to render that must
//! fail with exactly the error in its `expected-error.txt`, and nothing else.

use std::path::Path;

use driftless_render::{LocalDir, Plain, PlainOptions, Renderers};

/// Small enough that `oversized-file/big.yaml` (about 5 KB) passes it.
const MAX_FILE_SIZE: u64 = 4096;

#[test]
fn each_malformed_input_gives_its_own_error() -> Result<(), Box<dyn std::error::Error>> {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut cases: Vec<_> = std::fs::read_dir(&corpus)?.collect::<Result<Vec<_>, _>>()?;
    cases.sort_by_key(|entry| entry.file_name());
    let mut mismatches = Vec::new();
    for case in &cases {
        let name = case.file_name().to_string_lossy().into_owned();
        let expected = std::fs::read_to_string(case.path().join("expected-error.txt"))?;
        let tree = LocalDir::new(case.path())?.with_max_file_size(MAX_FILE_SIZE);
        let renderers = Renderers::new(vec![Box::new(Plain::new(&PlainOptions::default())?)]);
        let actual = match renderers.render(&tree, "") {
            Ok(manifests) => format!("rendered {} manifests", manifests.len()),
            Err(err) => err.to_string(),
        };
        if actual != expected.trim_end() {
            mismatches.push(format!(
                "{name}:\n  expected: {}\n  actual:   {actual}",
                expected.trim_end()
            ));
        }
    }
    assert!(cases.len() >= 8, "corpus has {} cases", cases.len());
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    Ok(())
}
