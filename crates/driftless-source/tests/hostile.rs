//! Hostile repositories at the Git tree reader: symbolic links that leave the repository, go
//! round in circles or multiply the tree, submodules, and oversized content. Each directory of
//! one crafted commit must fail to read with its exact one-line error naming the entry at fault.

mod support;

use driftless_source::{Cache, CacheError, Limits, Source};
use support::{Result, Upstream, config_map};

/// Writes a symbolic link in the upstream's work tree.
fn link(upstream: &Upstream, path: &str, target: &str) -> Result {
    let full = upstream.work().join(path);
    if let Some(parent) = full.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::os::unix::fs::symlink(target, full)?;
    Ok(())
}

/// Runs `git` with `input` on stdin; its trimmed stdout.
fn git_input(upstream: &Upstream, args: &[&str], input: &str) -> Result<String> {
    use std::io::Write;
    let mut child = std::process::Command::new("git")
        .args(args)
        .current_dir(upstream.work())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        return Err(format!("git {args:?} failed").into());
    }
    Ok(String::from_utf8(out.stdout)?.trim().to_owned())
}

/// A tree no work tree can hold: `fanout/` has ten links to `level1/`, whose ten links each
/// lead to `level2/` and so on, down to `level8/`, a directory of empty trees. Following the links visits
/// ten to the eighth power directories and never meets a file.
fn commit_link_fanout(upstream: &Upstream, parent: &str) -> Result<String> {
    let empty = git_input(upstream, &["mktree"], "")?;
    let blob = |text: &str| git_input(upstream, &["hash-object", "-w", "--stdin"], text);
    let mut entries: Vec<String> = (0..10)
        .map(|i| format!("040000 tree {empty}\tempty{i}"))
        .collect();
    let mut levels = Vec::new();
    for level in (1..=8).rev() {
        let tree = git_input(upstream, &["mktree"], &format!("{}\n", entries.join("\n")))?;
        levels.push(format!("040000 tree {tree}\tlevel{level}"));
        // The reader resolves a link from where the walk met it (`fanout/link3/link7/...`),
        // so the links of each level climb back to the root from their depth.
        let target = blob(&format!("{}level{level}", "../".repeat(level)))?;
        entries = (0..10)
            .map(|i| format!("120000 blob {target}\tlink{i}"))
            .collect();
    }
    let fanout = git_input(upstream, &["mktree"], &format!("{}\n", entries.join("\n")))?;
    levels.push(format!("040000 tree {fanout}\tfanout"));
    let parent_tree = upstream.git(&["rev-parse", &format!("{parent}^{{tree}}")])?;
    let listing = upstream.git(&["ls-tree", &parent_tree])?;
    let mut root: Vec<String> = listing.lines().map(str::to_owned).collect();
    root.extend(levels);
    root.sort_by(|a, b| a.split('\t').nth(1).cmp(&b.split('\t').nth(1)));
    let tree = git_input(upstream, &["mktree"], &format!("{}\n", root.join("\n")))?;
    let commit = git_input(
        upstream,
        &["commit-tree", &tree, "-p", parent, "-m", "fanout"],
        "",
    )?;
    upstream.git(&["update-ref", "refs/heads/main", &commit])?;
    Ok(commit)
}

#[test]
fn hostile_git_trees_are_refused_with_one_line_errors() -> Result {
    let upstream = Upstream::new()?;
    upstream.write("ok/a.yaml", &config_map("a", "1"))?;
    link(&upstream, "absolute/passwd.yaml", "/etc/passwd")?;
    link(&upstream, "relative/x.yaml", "../../outside/secret.yaml")?;
    link(&upstream, "chain/a.yaml", "b.yaml")?;
    link(&upstream, "chain/b.yaml", "../../etc/shadow")?;
    link(&upstream, "dirlink/etc", "/etc")?;
    link(&upstream, "dirup/up", "../..")?;
    link(&upstream, "loop/a.yaml", "b.yaml")?;
    link(&upstream, "loop/b.yaml", "a.yaml")?;
    link(&upstream, "self/self.yaml", "self.yaml")?;
    link(&upstream, "dangling/gone.yaml", "missing.yaml")?;
    link(&upstream, "selfdir/again", ".")?;
    link(&upstream, "parentdir/sub/up", "..")?;
    link(&upstream, "togit/config", "../.git/config")?;
    upstream.write("big/huge.yaml", &"#".repeat(4096))?;
    for i in 0..20 {
        upstream.write(
            &format!("many/f{i:02}.yaml"),
            &config_map(&format!("f{i}"), "1"),
        )?;
    }
    upstream.write("withsub/a.yaml", &config_map("a", "1"))?;
    upstream.commit("corpus")?;
    let sub = Upstream::new()?;
    sub.write("x.yaml", &config_map("x", "1"))?;
    sub.commit("sub")?;
    upstream.add_submodule(&sub, "withsub/sub")?;
    upstream.add_submodule(&sub, "nested/deeper/sub")?;
    let with_subs = upstream.commit("submodules")?;
    let commit = commit_link_fanout(&upstream, &with_subs)?;

    let cache_dir = tempfile::tempdir()?;
    let cache = Cache::new(cache_dir.path());
    let source = Source::new(upstream.file_url());
    assert_eq!(cache.resolve(&source, "main")?.commit, commit);
    let small = Limits {
        max_file_size: 1000,
        max_total_size: 1000,
        max_files: 10,
    };
    let cases: Vec<(&str, Limits, &str)> = vec![
        (
            "absolute",
            Limits::default(),
            "absolute/passwd.yaml: symbolic link to \"/etc/passwd\" leaves the repository",
        ),
        (
            "relative",
            Limits::default(),
            "relative/x.yaml: symbolic link to \"../../outside/secret.yaml\" leaves the repository",
        ),
        (
            "chain",
            Limits::default(),
            "chain/b.yaml: symbolic link to \"../../etc/shadow\" leaves the repository",
        ),
        (
            "dirlink",
            Limits::default(),
            "dirlink/etc: symbolic link to \"/etc\" leaves the repository",
        ),
        (
            "dirup",
            Limits::default(),
            "dirup/up: symbolic link to \"../..\" leaves the repository",
        ),
        (
            "loop",
            Limits::default(),
            "loop/a.yaml: symbolic link to \"b.yaml\" cannot be resolved (too many links)",
        ),
        (
            "self",
            Limits::default(),
            "self/self.yaml: symbolic link to \"self.yaml\" cannot be resolved (too many links)",
        ),
        (
            "dangling",
            Limits::default(),
            "dangling/gone.yaml: symbolic link to \"missing.yaml\" cannot be resolved (dangling)",
        ),
        (
            "selfdir",
            Limits::default(),
            "selfdir/again/again/again: symbolic link to \".\" cannot be resolved (dangling)",
        ),
        (
            "parentdir",
            Limits::default(),
            "parentdir/sub/up/sub/up/sub/up: symbolic link to \"..\" cannot be resolved (dangling)",
        ),
        (
            "togit",
            Limits::default(),
            "togit/config: symbolic link to \"../.git/config\" cannot be resolved (dangling)",
        ),
        (
            "withsub",
            Limits::default(),
            "withsub/sub: submodules are not supported",
        ),
        (
            "nested",
            Limits::default(),
            "nested/deeper/sub: submodules are not supported",
        ),
        (
            "big",
            small,
            "big/huge.yaml: file of 4096 bytes exceeds the limit of 1000 bytes",
        ),
        ("many", small, "many/f10.yaml: more than 10 files"),
        (
            "many",
            Limits {
                max_files: 100,
                ..small
            },
            "many/f14.yaml: total size exceeds the limit of 1000 bytes",
        ),
        (
            "fanout",
            Limits::default(),
            "fanout/link0/link0/link0/link1/link7/link9/link9/link9/empty7: more than 200000 tree entries visited (symbolic links to directories?)",
        ),
        (
            "../ok",
            Limits::default(),
            "../ok: not found at commit COMMIT",
        ),
    ];
    let mut failures = Vec::new();
    for (dir, limits, expected) in &cases {
        let expected = expected.replace("COMMIT", &commit);
        let actual = match cache.read_render_files(&source, &commit, dir, limits) {
            Ok(files) => format!("read {} files", files.len()),
            Err(CacheError::Files { source, .. }) => source.to_string(),
            Err(other) => other.to_string(),
        };
        if actual != expected || actual.contains('\n') {
            failures.push(format!(
                "{dir}:\n  expected: {expected}\n  actual:   {actual}"
            ));
        }
    }
    println!(
        "hostile git trees: {}/{} handled",
        cases.len() - failures.len(),
        cases.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        cache
            .read_render_files(&source, &commit, "ok", &Limits::default())?
            .len(),
        1
    );
    Ok(())
}
