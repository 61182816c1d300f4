//! `driftless diff` and `driftless sync` end to end: the real binary against the real test
//! control plane, one namespace (and application) per test.

use std::path::Path;
use std::process::{Command, Output};

use driftless_testenv::{git, with_namespace};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

const SECRET_VALUE: &str = "pa55-do-not-print";

fn driftless(args: &[&str]) -> Result<Output> {
    let kubeconfig = driftless_testenv::shared()?.kubeconfig().to_owned();
    Ok(Command::new(env!("CARGO_BIN_EXE_driftless"))
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .env_remove("DRIFTLESS_REPO")
        .output()?)
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn write_app(dir: &Path, mode: &str) -> Result {
    std::fs::write(
        dir.join("app.yaml"),
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings}}\ndata: {{mode: {mode}}}\n---\n\
             apiVersion: v1\nkind: Secret\nmetadata: {{name: creds}}\nstringData: {{password: {SECRET_VALUE}}}\n"
        ),
    )?;
    Ok(())
}

#[tokio::test]
async fn diff_and_sync_report_with_kubectl_exit_codes_and_never_print_secrets() -> Result {
    with_namespace("cli-diff-sync", |client, ns| async move {
        let dir = tempfile::tempdir()?;
        write_app(dir.path(), "fast")?;
        let path = dir.path().to_string_lossy().into_owned();
        let target = ["--app", ns.as_str(), "--dest-namespace", ns.as_str()];
        let with = |cmd: &str| -> Vec<String> {
            [cmd, path.as_str()]
                .iter()
                .chain(target.iter())
                .map(|s| s.to_string())
                .collect()
        };
        let run = |args: Vec<String>| {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            driftless(&refs)
        };

        let before = run(with("diff"))?;
        assert_eq!(before.status.code(), Some(1), "{}", text(&before));
        assert!(text(&before).contains("2 to create"), "{}", text(&before));

        // --dry-run validates with the API server and changes nothing.
        let mut dry = with("sync");
        dry.push("--dry-run".to_owned());
        let dry_run = run(dry)?;
        assert_eq!(dry_run.status.code(), Some(0), "{}", text(&dry_run));
        assert!(text(&dry_run).contains("dry-run ok"), "{}", text(&dry_run));
        let configmaps = Api::<ConfigMap>::namespaced(client.clone(), &ns);
        assert!(
            configmaps.get_opt("settings").await?.is_none(),
            "--dry-run created objects"
        );

        let sync = run(with("sync"))?;
        assert_eq!(sync.status.code(), Some(0), "{}", text(&sync));
        assert!(
            text(&sync).contains("sync succeeded: 2 synced"),
            "{}",
            text(&sync)
        );

        let steady = run(with("diff"))?;
        assert_eq!(steady.status.code(), Some(0), "{}", text(&steady));

        // Someone edits the ConfigMap and the Secret in the cluster.
        let edit = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings"}, "data": {"mode": "hand-edited"}});
        configmaps
            .patch(
                "settings",
                &PatchParams::apply("someone").force(),
                &Patch::Apply(&edit),
            )
            .await?;
        write_app(dir.path(), "fast")?;
        let drifted = run(with("diff"))?;
        assert_eq!(drifted.status.code(), Some(1), "{}", text(&drifted));
        assert!(
            text(&drifted).contains("changed in the cluster by: someone"),
            "{}",
            text(&drifted)
        );
        assert!(
            text(&drifted).contains("-  mode: hand-edited"),
            "{}",
            text(&drifted)
        );

        let mut forced = with("sync");
        forced.extend(["--sync-option".to_owned(), "Force=true".to_owned()]);
        let healed = run(forced)?;
        assert_eq!(healed.status.code(), Some(0), "{}", text(&healed));
        assert_eq!(run(with("diff"))?.status.code(), Some(0));

        for output in [&before, &dry_run, &sync, &steady, &drifted, &healed] {
            assert!(
                !text(output).contains(SECRET_VALUE),
                "secret printed: {}",
                text(output)
            );
        }

        let mut bad = with("sync");
        bad.extend(["--sync-option".to_owned(), "Prnue=true".to_owned()]);
        let refused = run(bad)?;
        assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
        let message = String::from_utf8_lossy(&refused.stderr).into_owned();
        assert_eq!(message.lines().count(), 1, "one-line error: {message}");
        assert!(
            message.contains("unknown sync option \"Prnue\""),
            "{message}"
        );
        Result::Ok(())
    })
    .await?
}

#[tokio::test]
async fn diff_of_a_branch_previews_a_pull_request() -> Result {
    with_namespace("cli-preview", |_client, ns| async move {
        let repo = tempfile::tempdir()?;
        let r = repo.path();
        git(r, &["init", "-q", "-b", "main"])?;
        git(r, &["config", "user.email", "ci@example.dev"])?;
        git(r, &["config", "user.name", "CI"])?;
        std::fs::create_dir_all(r.join("deploy"))?;
        write_app(&r.join("deploy"), "fast")?;
        git(r, &["add", "."])?;
        git(r, &["commit", "-qm", "main"])?;
        git(r, &["checkout", "-qb", "feature"])?;
        write_app(&r.join("deploy"), "faster")?;
        git(r, &["commit", "-qam", "faster"])?;
        let url = format!("file://{}", r.display());
        let cache = tempfile::tempdir()?;
        let cache_dir = cache.path().to_string_lossy().into_owned();
        let source = |revision: &'static str| {
            vec![
                "--repo",
                url.as_str(),
                "--revision",
                revision,
                "--path",
                "deploy",
                "--cache-dir",
                cache_dir.as_str(),
                "--app",
                ns.as_str(),
                "--dest-namespace",
                ns.as_str(),
            ]
        };
        let sync = driftless(&[&["sync"][..], &source("main")].concat())?;
        assert_eq!(sync.status.code(), Some(0), "{}", text(&sync));

        let preview = driftless(&[&["diff"][..], &source("feature")].concat())?;
        assert_eq!(preview.status.code(), Some(1), "{}", text(&preview));
        let shown = text(&preview);
        assert!(shown.contains("-  mode: fast\n+  mode: faster"), "{shown}");
        assert!(
            shown.contains("0 to create, 1 to update, 0 to prune, 1 unchanged"),
            "{shown}"
        );

        let same = driftless(&[&["diff"][..], &source("main")].concat())?;
        assert_eq!(same.status.code(), Some(0), "{}", text(&same));
        Result::Ok(())
    })
    .await?
}

#[tokio::test]
async fn a_sync_the_api_server_refuses_exits_2_with_the_table() -> Result {
    with_namespace("cli-sync-fails", |_client, ns| async move {
        let dir = tempfile::tempdir()?;
        // The API server refuses the name (not a DNS subdomain): the sync runs and fails.
        std::fs::write(
            dir.path().join("bad.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Not_A_Name}\ndata: {mode: x}\n",
        )?;
        let path = dir.path().to_string_lossy().into_owned();
        let sync = driftless(&["sync", &path, "--app", &ns, "--dest-namespace", &ns])?;
        assert_eq!(sync.status.code(), Some(2), "{}", text(&sync));
        let stdout = String::from_utf8_lossy(&sync.stdout);
        assert!(stdout.contains("sync failed: "), "{}", text(&sync));
        assert!(stdout.contains("Not_A_Name"), "{}", text(&sync));
        Result::Ok(())
    })
    .await?
}
