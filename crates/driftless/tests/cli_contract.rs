//! The command-line contract that needs no cluster: exit codes, what `--help` shows, which
//! environment variables are read, and one-line errors. The real binary runs each case.

use std::path::Path;
use std::process::{Command, Output};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Every variable a subcommand could read; each test starts with none of them set.
const DRIFTLESS_VARS: &[&str] = &[
    "DRIFTLESS_ALLOW_REMOTE_BASES",
    "DRIFTLESS_APP",
    "DRIFTLESS_CA_FILE",
    "DRIFTLESS_CACHE_DIR",
    "DRIFTLESS_CONTEXT",
    "DRIFTLESS_DEST_NAMESPACE",
    "DRIFTLESS_EXCLUDE",
    "DRIFTLESS_GIT_PASSWORD",
    "DRIFTLESS_GIT_TOKEN",
    "DRIFTLESS_GIT_USERNAME",
    "DRIFTLESS_INCLUDE",
    "DRIFTLESS_KUSTOMIZE_LOAD_RESTRICTIONS_NONE",
    "DRIFTLESS_OUTPUT",
    "DRIFTLESS_PATH",
    "DRIFTLESS_PRUNE",
    "DRIFTLESS_RECURSIVE",
    "DRIFTLESS_REPO",
    "DRIFTLESS_REVISION",
    "DRIFTLESS_SSH_KEY",
    "DRIFTLESS_SSH_KNOWN_HOSTS",
    "DRIFTLESS_SYNC_OPTIONS",
];

fn driftless(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Result<Output> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_driftless"));
    command.args(args).current_dir(cwd);
    for var in DRIFTLESS_VARS {
        command.env_remove(var);
    }
    // No cluster: a command that got as far as connecting fails on this, not on a real one.
    command.env("KUBECONFIG", cwd.join("no-such-kubeconfig"));
    command.envs(env.iter().copied());
    Ok(command.output()?)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts exit code 2 and exactly one line on stderr, and returns it.
fn one_line_error(output: &Output) -> String {
    let text = stderr(output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert_eq!(text.lines().count(), 1, "one-line error: {text}");
    text.trim_end().to_owned()
}

fn write(root: &Path, path: &str, content: &str) -> Result {
    let full = root.join(path);
    if let Some(parent) = full.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(full, content)?;
    Ok(())
}

/// The `[env: NAME=...]` variables a help text names, sorted.
fn env_vars_in_help(help: &str) -> Vec<String> {
    let mut vars: Vec<String> = help
        .split("[env: ")
        .skip(1)
        .filter_map(|rest| rest.split(['=', ']']).next())
        .map(str::to_owned)
        .collect();
    vars.sort();
    vars.dedup();
    vars
}

#[test]
fn errors_exit_2_in_every_subcommand_and_success_exits_0() -> Result {
    let dir = tempfile::tempdir()?;
    write(
        dir.path(),
        "unversioned/cm.yaml",
        "kind: ConfigMap\nmetadata: {name: x}\n",
    )?;
    write(
        dir.path(),
        "bad/kustomization.yaml",
        "resources: [nope.yaml]\n",
    )?;
    write(
        dir.path(),
        "good/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
    )?;
    let cwd = dir.path();

    // Errors of the commands themselves: one line, exit 2.
    let render = driftless(&["render", "unversioned"], cwd, &[])?;
    assert!(one_line_error(&render).contains("object has no apiVersion"));
    let kustomize = driftless(&["kustomize", "bad"], cwd, &[])?;
    assert!(one_line_error(&kustomize).contains("nope.yaml"));
    let no_corpus = driftless(
        &["kustomize", "--conformance-report", "no-such-corpus"],
        cwd,
        &[],
    )?;
    assert_eq!(no_corpus.status.code(), Some(2), "{}", stderr(&no_corpus));
    for command in [
        &["diff", "good", "--app", "a"][..],
        &["sync", "good", "--app", "a"],
        &["app", "list"],
    ] {
        let output = driftless(command, cwd, &[])?;
        assert_eq!(
            output.status.code(),
            Some(2),
            "{command:?}: {}",
            stderr(&output)
        );
    }

    // Usage errors (clap's): exit 2 too.
    for command in [
        &["no-such-command"][..],
        &["render"],
        &["render", "good", "--no-such-flag"],
        &["kustomize", "--own-cases", "x"],
        &["sync", "good"],
        &["app", "sync"],
        &["controller", "--concurrency", "many"],
    ] {
        let output = driftless(command, cwd, &[])?;
        assert_eq!(
            output.status.code(),
            Some(2),
            "{command:?}: {}",
            stderr(&output)
        );
    }

    // Success: 0.
    for command in [
        &["render", "good"][..],
        &["crd"],
        &["--help"],
        &["kustomize", "--help"],
    ] {
        let output = driftless(command, cwd, &[])?;
        assert_eq!(
            output.status.code(),
            Some(0),
            "{command:?}: {}",
            stderr(&output)
        );
    }
    Ok(())
}

#[test]
fn kustomize_help_shows_no_path_of_this_repository() -> Result {
    let dir = tempfile::tempdir()?;
    let help = driftless(&["kustomize", "--help"], dir.path(), &[])?;
    assert!(help.status.success());
    let text = String::from_utf8(help.stdout)?;
    assert!(text.contains("--conformance-report <CORPUS>"), "{text}");
    for internal in ["shared/", "crates/", "../", "tests/cases"] {
        assert!(!text.contains(internal), "help names {internal:?}:\n{text}");
    }
    // The only default left is the current directory.
    let defaults: Vec<&str> = text.matches("[default: ").collect();
    assert_eq!(defaults.len(), 1, "{text}");
    assert!(text.contains("[default: .]"), "{text}");
    assert!(env_vars_in_help(&text).is_empty(), "{text}");
    Ok(())
}

#[test]
fn render_diff_and_sync_read_only_session_variables() -> Result {
    let dir = tempfile::tempdir()?;
    // What docs/cli.md lists for render, diff and sync: where the cluster and the cache are, the
    // output format of render, and credentials. Nothing that changes what is applied.
    let session = [
        "DRIFTLESS_CACHE_DIR",
        "DRIFTLESS_CA_FILE",
        "DRIFTLESS_GIT_PASSWORD",
        "DRIFTLESS_GIT_TOKEN",
        "DRIFTLESS_GIT_USERNAME",
        "DRIFTLESS_SSH_KEY",
        "DRIFTLESS_SSH_KNOWN_HOSTS",
    ];
    let cluster = ["DRIFTLESS_CONTEXT", "KUBECONFIG"];
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/cli.md"))?;
    for (command, extra) in [
        ("render", &["DRIFTLESS_OUTPUT"][..]),
        ("diff", &cluster[..]),
        ("sync", &cluster[..]),
    ] {
        let help = driftless(&[command, "--help"], dir.path(), &[])?;
        assert!(help.status.success());
        let mut expected: Vec<String> = session
            .iter()
            .chain(extra)
            .map(|var| (*var).to_owned())
            .collect();
        expected.sort();
        assert_eq!(
            env_vars_in_help(&String::from_utf8(help.stdout)?),
            expected,
            "driftless {command}"
        );
        for var in &expected {
            assert!(
                docs.contains(var.as_str()),
                "docs/cli.md does not name {var}"
            );
        }
    }
    Ok(())
}

#[test]
fn stray_variables_change_nothing_render_reads_or_syncs() -> Result {
    let dir = tempfile::tempdir()?;
    write(
        dir.path(),
        "app/a.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
    )?;
    write(
        dir.path(),
        "app/sub/b.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n",
    )?;
    let stray = [
        ("DRIFTLESS_REPO", "https://git.example/other.git"),
        ("DRIFTLESS_REVISION", "v0.0.1"),
        ("DRIFTLESS_PATH", "elsewhere"),
        ("DRIFTLESS_RECURSIVE", "true"),
        ("DRIFTLESS_INCLUDE", "b.yaml"),
        ("DRIFTLESS_EXCLUDE", "a.yaml"),
        ("DRIFTLESS_ALLOW_REMOTE_BASES", "true"),
        ("DRIFTLESS_APP", "someone-else"),
        ("DRIFTLESS_DEST_NAMESPACE", "kube-system"),
        ("DRIFTLESS_PRUNE", "true"),
        ("DRIFTLESS_SYNC_OPTIONS", "Replace=true"),
    ];
    let with_stray = driftless(&["render", "app"], dir.path(), &stray)?;
    assert!(with_stray.status.success(), "{}", stderr(&with_stray));
    assert_eq!(
        String::from_utf8(with_stray.stdout)?,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
    );

    // The application must be named on the command line: a variable never picks it.
    for command in ["diff", "sync"] {
        let output = driftless(&[command, "app"], dir.path(), &stray)?;
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{command}: {text}");
        assert!(
            text.contains("required arguments were not provided") && text.contains("--app"),
            "{command}: {text}"
        );
    }
    Ok(())
}

#[test]
fn a_password_without_a_user_name_is_a_one_line_error() -> Result {
    let dir = tempfile::tempdir()?;
    write(
        dir.path(),
        "app/a.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
    )?;
    let flag = driftless(
        &["render", "app", "--password", "secret-1"],
        dir.path(),
        &[],
    )?;
    let message = one_line_error(&flag);
    assert_eq!(
        message,
        "error: --password (or DRIFTLESS_GIT_PASSWORD) needs --username (or DRIFTLESS_GIT_USERNAME)"
    );
    let variable = driftless(
        &["render", "--repo", "file:///nowhere.git"],
        dir.path(),
        &[("DRIFTLESS_GIT_PASSWORD", "secret-1")],
    )?;
    assert_eq!(one_line_error(&variable), message);
    let user_only = driftless(&["render", "app", "--username", "me"], dir.path(), &[])?;
    assert_eq!(
        one_line_error(&user_only),
        "error: --username (or DRIFTLESS_GIT_USERNAME) needs --password (or DRIFTLESS_GIT_PASSWORD)"
    );
    for output in [&flag, &variable, &user_only] {
        assert!(!stderr(output).contains("secret-1"));
    }
    Ok(())
}

#[test]
fn import_prints_objects_on_stdout_and_the_report_on_stderr() -> Result {
    let dir = tempfile::tempdir()?;
    let cwd = dir.path();
    write(
        cwd,
        "argo.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: web, namespace: argocd}\n\
         spec:\n  source: {repoURL: 'https://git.example/web.git', path: deploy}\n  \
         destination: {namespace: web}\n  syncPolicy: {syncOptions: [ServerSideApply=true]}\n",
    )?;
    write(cwd, "broken.yaml", "apiVersion: v1\nkind: ConfigMap\n")?;

    let none = driftless(&["import"], cwd, &[])?;
    assert!(one_line_error(&none).contains("give FILES or --from-cluster"));
    let missing = driftless(&["import", "no-such.yaml"], cwd, &[])?;
    assert!(one_line_error(&missing).contains("no-such.yaml"));
    let broken = driftless(&["import", "broken.yaml"], cwd, &[])?;
    assert!(one_line_error(&broken).contains("broken.yaml"));
    // Adopting needs a cluster: this one's kubeconfig does not exist.
    let adopt = driftless(&["import", "argo.yaml", "--adopt"], cwd, &[])?;
    assert_eq!(adopt.status.code(), Some(2), "{}", stderr(&adopt));

    let imported = driftless(&["import", "argo.yaml"], cwd, &[])?;
    assert_eq!(imported.status.code(), Some(0), "{}", stderr(&imported));
    let stdout = String::from_utf8(imported.stdout.clone())?;
    let objects: Vec<serde_json::Value> = serde_saphyr::from_multiple(&stdout)?;
    assert_eq!(objects.len(), 1);
    assert_eq!(objects[0]["kind"], "Application");
    assert_eq!(objects[0]["metadata"]["namespace"], "driftless-system");
    let report = stderr(&imported);
    assert!(
        report.contains("Application argocd/web (argo.yaml:1): spec.syncPolicy.syncOptions[ServerSideApply=true]: dropped:"),
        "{report}"
    );

    let json = driftless(
        &["import", "argo.yaml", "-o", "json", "-n", "gitops"],
        cwd,
        &[],
    )?;
    let out: serde_json::Value = serde_json::from_slice(&json.stdout)?;
    assert_eq!(out["objects"][0]["metadata"]["namespace"], "gitops");
    assert_eq!(out["report"][0]["outcome"], "Dropped");
    assert_eq!(
        out["report"][0]["field"],
        "spec.syncPolicy.syncOptions[ServerSideApply=true]"
    );
    Ok(())
}
