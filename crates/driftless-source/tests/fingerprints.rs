//! Fingerprints of render inputs at commits of a real repository (file://): the same only when
//! nothing a render read changed.

mod support;

use driftless_render::{Input, Inputs, Read};
use driftless_source::{Cache, Fingerprints, Source};
use support::{Result, Upstream, config_map};

fn inputs(reads: &[(&str, Read)]) -> Inputs {
    reads
        .iter()
        .map(|(path, read)| Input {
            path: (*path).to_owned(),
            read: *read,
        })
        .collect()
}

fn at(cache: &Cache, source: &Source, commit: &str, inputs: &Inputs) -> Result<Fingerprints> {
    cache.resolve(source, "main")?;
    cache
        .fingerprints(source, commit, &[inputs])?
        .pop()
        .ok_or_else(|| "no fingerprints".into())
}

#[test]
fn fingerprints_change_with_what_was_read_and_only_with_it() -> Result {
    let upstream = Upstream::new()?;
    upstream.write("base/kustomization.yaml", "resources: [cm.yaml]\n")?;
    upstream.write("base/cm.yaml", &config_map("base", "1"))?;
    upstream.write("apps/a/kustomization.yaml", "resources: [../../base]\n")?;
    upstream.write("other/cm.yaml", &config_map("other", "1"))?;
    let first = upstream.commit("first")?;
    let dir = tempfile::tempdir()?;
    let cache = Cache::new(dir.path());
    let source = Source::new(upstream.file_url());
    let read = inputs(&[
        ("apps/a", Read::List),
        ("apps/a/kustomization.yaml", Read::Contents),
        ("apps/a/Kustomization", Read::Kind),
        ("base/kustomization.yaml", Read::Contents),
        ("base/cm.yaml", Read::Contents),
    ]);
    let before = at(&cache, &source, &first, &read)?;
    assert!(before.matches(&at(&cache, &source, &first, &read)?));

    upstream.write("other/cm.yaml", &config_map("other", "2"))?;
    let unrelated = upstream.commit("unrelated")?;
    assert!(before.matches(&at(&cache, &source, &unrelated, &read)?));

    upstream.write("base/cm.yaml", &config_map("base", "2"))?;
    let base = upstream.commit("base outside the path")?;
    let after_base = at(&cache, &source, &base, &read)?;
    assert!(!before.matches(&after_base));

    upstream.write("apps/a/new.yaml", &config_map("new", "1"))?;
    let listed = upstream.commit("a file in a listed directory")?;
    assert!(!after_base.matches(&at(&cache, &source, &listed, &read)?));

    let probed = inputs(&[("apps/a/Kustomization", Read::Kind)]);
    let absent = at(&cache, &source, &listed, &probed)?;
    upstream.write("apps/a/Kustomization", "resources: []\n")?;
    let appeared = upstream.commit("a probed path appears")?;
    assert!(!absent.matches(&at(&cache, &source, &appeared, &probed)?));
    Ok(())
}

#[test]
fn a_path_through_a_symbolic_link_never_matches() -> Result {
    let upstream = Upstream::new()?;
    upstream.write("base/cm.yaml", &config_map("base", "1"))?;
    std::fs::create_dir_all(upstream.work().join("apps"))?;
    std::os::unix::fs::symlink("../base", upstream.work().join("apps/linked"))?;
    let first = upstream.commit("first")?;
    let dir = tempfile::tempdir()?;
    let cache = Cache::new(dir.path());
    let source = Source::new(upstream.file_url());
    let read = inputs(&[("apps/linked/cm.yaml", Read::Contents)]);
    let once = at(&cache, &source, &first, &read)?;
    assert!(!once.matches(&at(&cache, &source, &first, &read)?));
    Ok(())
}
