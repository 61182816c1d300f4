//! `driftless render` end to end: the real binary on a local directory and on a `file://` Git
//! repository.

use driftless_testenv::git;
use std::path::Path;
use std::process::{Command, Output};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

fn driftless(args: &[&str], cwd: &Path) -> Result<Output> {
    Ok(Command::new(env!("CARGO_BIN_EXE_driftless"))
        .args(args)
        .current_dir(cwd)
        .env_remove("DRIFTLESS_REPO")
        .output()?)
}

fn write(root: &Path, path: &str, content: &str) -> Result {
    let full = root.join(path);
    if let Some(parent) = full.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(full, content)?;
    Ok(())
}

#[test]
fn renders_a_local_directory_as_yaml_and_json() -> Result {
    let dir = tempfile::tempdir()?;
    write(
        dir.path(),
        "b.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\ndata:\n  mode: 0644\n  enabled: on\n",
    )?;
    write(
        dir.path(),
        "a.yml",
        "kind: Namespace\napiVersion: v1\nmetadata: {name: apps}\n",
    )?;
    write(
        dir.path(),
        "sub/c.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
    )?;
    let out = driftless(&["render", "."], dir.path())?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout)?,
        "kind: Namespace\napiVersion: v1\nmetadata:\n  name: apps\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\ndata:\n  mode: 420\n  enabled: true\n"
    );
    let out = driftless(
        &["render", "-R", "-o", "json", "--exclude", "a.yml", "."],
        dir.path(),
    )?;
    assert!(out.status.success());
    let list: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(list["kind"], "List");
    let names: Vec<&str> = list["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["metadata"]["name"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(names, ["b", "c"]);
    Ok(())
}

#[test]
fn errors_exit_non_zero_with_one_line_naming_file_and_line() -> Result {
    let dir = tempfile::tempdir()?;
    write(
        dir.path(),
        "ok.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n",
    )?;
    write(
        dir.path(),
        "bad.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\nkind: Secret\nmetadata: {name: s}\n",
    )?;
    let out = driftless(&["render", "."], dir.path())?;
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8(out.stderr)?,
        "error: bad.yaml:5 (document 1): object has no apiVersion\n"
    );
    Ok(())
}

#[test]
fn renders_a_path_of_a_git_repository_at_a_revision() -> Result {
    let upstream = tempfile::tempdir()?;
    let work = upstream.path();
    git(work, &["init", "-q", "-b", "main"])?;
    git(work, &["config", "user.email", "t@example.com"])?;
    git(work, &["config", "user.name", "T"])?;
    write(
        work,
        "deploy/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: v1}\n",
    )?;
    write(work, "other/x.yaml", "not: a manifest\n")?;
    git(work, &["add", "-A"])?;
    git(work, &["commit", "-q", "-m", "one"])?;
    git(work, &["tag", "v1.0.0"])?;
    let tagged = git(work, &["rev-parse", "HEAD"])?;
    write(
        work,
        "deploy/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: v2}\n",
    )?;
    git(work, &["commit", "-q", "-am", "two"])?;

    let cache = tempfile::tempdir()?;
    let url = format!("file://{}/.git", work.display());
    let cache_dir = cache.path().display().to_string();
    let out = driftless(
        &[
            "render",
            "--repo",
            &url,
            "--revision",
            "1.x",
            "--path",
            "deploy",
            "--cache-dir",
            &cache_dir,
        ],
        work,
    )?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8(out.stderr)?, format!("commit {tagged}\n"));
    assert_eq!(
        String::from_utf8(out.stdout)?,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: v1\n"
    );

    let out = driftless(
        &[
            "render",
            "--repo",
            &url,
            "--path",
            "nope",
            "--cache-dir",
            &cache_dir,
        ],
        work,
    )?;
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr)?;
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(lines[0].starts_with("commit "));
    assert!(
        lines[1].starts_with(&format!("error: {url}: nope: not found at commit ")),
        "{stderr}"
    );
    Ok(())
}

#[test]
fn a_kustomize_overlay_renders_like_kustomize_and_reaches_its_base() -> Result {
    let repo = tempfile::tempdir()?;
    let r = repo.path();
    git(r, &["init", "-q"])?;
    write(
        r,
        "base/kustomization.yaml",
        "resources: [deploy.yaml]\nconfigMapGenerator:\n- name: settings\n  literals: [mode=fast]\n",
    )?;
    write(
        r,
        "base/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n      - {name: web, image: nginx, envFrom: [{configMapRef: {name: settings}}]}\n",
    )?;
    write(
        r,
        "overlay/kustomization.yaml",
        "resources: [../base]\nnamePrefix: prod-\nimages: [{name: nginx, newTag: '1.27'}]\n",
    )?;

    let rendered = driftless(&["render", "overlay", "-o", "json"], r)?;
    assert!(
        rendered.status.success(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    let list: serde_json::Value = serde_json::from_slice(&rendered.stdout)?;
    let kustomized = driftless(&["kustomize", "overlay"], r)?;
    assert!(
        kustomized.status.success(),
        "{}",
        String::from_utf8_lossy(&kustomized.stderr)
    );
    let text = String::from_utf8(kustomized.stdout)?;
    let expected: Vec<serde_json::Value> = text
        .split("\n---\n")
        .map(serde_saphyr::from_str)
        .collect::<std::result::Result<_, _>>()?;
    assert_eq!(
        list["items"].as_array().cloned().unwrap_or_default(),
        expected
    );
    // The generated ConfigMap's hashed name reached the Deployment through the base.
    assert!(text.contains("name: prod-settings-"), "{text}");
    Ok(())
}

#[test]
fn remote_bases_are_refused_unless_allowed_then_fetched_at_their_ref() -> Result {
    let upstream = tempfile::tempdir()?;
    let u = upstream.path();
    git(u, &["init", "-q", "-b", "main"])?;
    git(u, &["config", "user.email", "t@example.com"])?;
    git(u, &["config", "user.name", "t"])?;
    write(u, "base/kustomization.yaml", "resources: [cm.yaml]\n")?;
    write(
        u,
        "base/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\ndata: {release: one}\n",
    )?;
    git(u, &["add", "."])?;
    git(u, &["commit", "-qm", "one"])?;
    git(u, &["tag", "v1"])?;
    write(
        u,
        "base/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\ndata: {release: two}\n",
    )?;
    git(u, &["commit", "-qam", "two"])?;

    let app = tempfile::tempdir()?;
    let a = app.path();
    git(a, &["init", "-q"])?;
    let remote = format!("file://{}//base?ref=v1", u.display());
    write(
        a,
        "prod/kustomization.yaml",
        &format!("resources:\n- {remote}\nnamePrefix: prod-\n"),
    )?;
    let cache = tempfile::tempdir()?;
    let cache_dir = cache.path().to_string_lossy().into_owned();

    let refused = driftless(&["render", "prod", "--cache-dir", &cache_dir], a)?;
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert!(
        message.contains("remote resources are not allowed"),
        "{message}"
    );
    assert!(
        message.contains("prod/kustomization.yaml") || message.contains("/prod"),
        "{message}"
    );

    let allowed = driftless(
        &[
            "render",
            "prod",
            "--allow-remote-bases",
            "--cache-dir",
            &cache_dir,
        ],
        a,
    )?;
    let out = String::from_utf8_lossy(&allowed.stdout).into_owned();
    assert!(
        allowed.status.success(),
        "{}",
        String::from_utf8_lossy(&allowed.stderr)
    );
    assert!(out.contains("name: prod-shared"), "{out}");
    assert!(
        out.contains("release: one"),
        "the ref v1 must be used: {out}"
    );
    Ok(())
}

#[test]
fn a_repository_overlay_reaches_its_base_and_unrelated_content_does_not_matter() -> Result {
    let repo = tempfile::tempdir()?;
    let r = repo.path();
    git(r, &["init", "-q", "-b", "main"])?;
    git(r, &["config", "user.email", "t@example.com"])?;
    git(r, &["config", "user.name", "t"])?;
    write(r, "base/kustomization.yaml", "resources: [cm.yaml]\n")?;
    write(
        r,
        "base/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\n",
    )?;
    write(
        r,
        "overlay/kustomization.yaml",
        "resources: [../base]\nnamePrefix: prod-\n",
    )?;
    write(
        r,
        "plain/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\n",
    )?;
    std::os::unix::fs::symlink("/etc/passwd", r.join("fixtures-passwd.yaml"))?;
    git(r, &["add", "-A"])?;
    git(r, &["commit", "-qm", "one"])?;
    let url = format!("file://{}", r.display());
    let cache = tempfile::tempdir()?;
    let cache_dir = cache.path().to_string_lossy().into_owned();
    let render = |path: &str| {
        driftless(
            &[
                "render",
                "--repo",
                &url,
                "--path",
                path,
                "--cache-dir",
                &cache_dir,
            ],
            r,
        )
    };
    let plain = render("plain")?;
    assert!(
        plain.status.success(),
        "{}",
        String::from_utf8_lossy(&plain.stderr)
    );
    assert!(String::from_utf8_lossy(&plain.stdout).contains("name: plain"));
    let overlay = render("overlay")?;
    let stderr = String::from_utf8_lossy(&overlay.stderr).into_owned();
    // The whole commit is read for a Kustomize directory, so the escaping link is refused there.
    assert!(
        !overlay.status.success() && stderr.contains("leaves the repository"),
        "{stderr}"
    );
    std::fs::remove_file(r.join("fixtures-passwd.yaml"))?;
    git(r, &["commit", "-qam", "no link"])?;
    let overlay = render("overlay")?;
    assert!(
        overlay.status.success(),
        "{}",
        String::from_utf8_lossy(&overlay.stderr)
    );
    assert!(String::from_utf8_lossy(&overlay.stdout).contains("name: prod-shared"));
    Ok(())
}
