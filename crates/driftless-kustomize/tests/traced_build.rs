//! A traced build (`build_traced`, which records every step for `driftless trace`) builds what
//! `build` builds, on every conformance case: the same objects, or the same error; and every
//! step it records names a file of the tree.

use std::path::PathBuf;

use driftless_kustomize::conformance::{Case, load_cases, load_own_cases, load_real_cases};
use driftless_kustomize::{DiskFs, FileSystem, build, build_traced};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The corpus directory: `$var`, or `shared/conformance/<name>` beside the repository.
fn corpus(var: &str, name: &str) -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../../../shared/conformance").join(name))
}

fn cases() -> Result<Vec<Case>> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut cases = load_own_cases(&manifest.join("tests/cases"))?;
    for (var, name, real) in [
        ("DRIFTLESS_KUSTOMIZE_CORPUS", "kustomize", false),
        ("DRIFTLESS_KUSTOMIZE_REAL_CORPUS", "kustomize-real", true),
    ] {
        let dir = corpus(var, name);
        if !dir.join("cases").is_dir() {
            if std::env::var_os("CI").is_some() {
                return Err(format!("corpus not found at {} (set {var})", dir.display()).into());
            }
            println!(
                "corpus not found at {} (set {var}); skipping it",
                dir.display()
            );
            continue;
        }
        cases.extend(if real {
            load_real_cases(&dir)?
        } else {
            load_cases(&dir)?
        });
    }
    Ok(cases)
}

#[test]
fn a_traced_build_builds_what_a_build_builds_and_names_real_files() -> Result {
    let cases = cases()?;
    assert!(!cases.is_empty(), "no cases");
    let mut recorded = 0;
    for case in &cases {
        let fs = DiskFs::new(&case.input);
        let dir = format!("/{}", case.build_dir.trim_start_matches("./"));
        let plain = build(&fs, &dir, &case.options);
        let traced = build_traced(&fs, &dir, &case.options);
        match (plain, traced) {
            (Ok(plain), Ok(traced)) => {
                let objects: Vec<_> = traced.iter().map(|t| t.object.clone()).collect();
                assert_eq!(objects, plain, "{}: traced output differs", case.name);
                for t in &traced {
                    let files = t.file.iter().chain(t.changes.iter().map(|c| &c.file));
                    for file in files {
                        assert!(
                            fs.exists(file),
                            "{}: recorded file {file} is not in the tree",
                            case.name
                        );
                    }
                    recorded += t.changes.len();
                }
            }
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{}", case.name),
            (a, b) => panic!(
                "{}: build {:?} but traced build {:?}",
                case.name,
                a.map(|_| ()),
                b.map(|_| ())
            ),
        }
    }
    assert!(recorded > 0, "no case recorded a step");
    println!("{} cases, {recorded} recorded steps", cases.len());
    Ok(())
}
