//! `driftless cluster add|list|rm` against a second, independent control plane (#18 item 1):
//! `add` makes a ServiceAccount with its RBAC and token there and the cluster Secret here; the
//! `driftless controller` process then syncs an Application to it; `list` shows it connected
//! with its version and Application; `rm` removes it and the Application is InvalidSpec.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use anyhow::{Context as _, ensure};
use driftless_api::Application;
use driftless_testenv::{ControlPlane, eventually, with_namespace};
use k8s_openapi::api::core::v1::{ConfigMap, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use kube::api::{Api, PostParams};

/// Generous bound for the controller to act on a busy machine; not a performance figure.
const SETTLE: Duration = Duration::from_secs(120);

/// A kubeconfig with two contexts: `home` (the shared control plane, where the controller
/// runs) and `target` (an extra one), each with its admin token and CA.
fn kubeconfig(dir: &Path, home: &ControlPlane, target: &ControlPlane) -> anyhow::Result<String> {
    let mut clusters = Vec::new();
    let mut users = Vec::new();
    let mut contexts = Vec::new();
    for (name, plane) in [("home", home), ("target", target)] {
        let ca = dir.join(format!("{name}-ca.crt"));
        std::fs::write(&ca, plane.ca_pem()?)?;
        clusters.push(serde_json::json!({"name": name, "cluster": {"server": plane.server(), "certificate-authority": ca}}));
        users.push(serde_json::json!({"name": name, "user": {"token": plane.token()}}));
        contexts
            .push(serde_json::json!({"name": name, "context": {"cluster": name, "user": name}}));
    }
    let config = serde_json::json!({"apiVersion": "v1", "kind": "Config", "clusters": clusters,
        "users": users, "contexts": contexts, "current-context": "home"});
    let path = dir.join("kubeconfig");
    std::fs::write(&path, serde_json::to_string(&config)?)?;
    Ok(path.to_string_lossy().into_owned())
}

fn driftless(kubeconfig: &str, args: &[&str]) -> anyhow::Result<Output> {
    Ok(Command::new(env!("CARGO_BIN_EXE_driftless"))
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .env_remove("DRIFTLESS_CONTEXT")
        .output()?)
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A controller process, killed when dropped.
struct Controller(Child);

impl Drop for Controller {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn git(dir: &Path, args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new("git").args(args).current_dir(dir).output()?;
    ensure!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

#[tokio::test]
async fn cluster_add_registers_a_cluster_the_controller_then_syncs_to() -> anyhow::Result<()> {
    let home = driftless_testenv::shared()?;
    let target = driftless_testenv::extra(0)?;
    let target_client = target.client().await?;
    with_namespace("cli-cluster-add", |client, ns| async move {
        driftless_testenv::install_project_crds(&client).await?;
        let dir = tempfile::tempdir()?;
        let kubeconfig = kubeconfig(dir.path(), home, target)?;

        let added = driftless(&kubeconfig, &["cluster", "add", "target", "--name", "east", "-n", &ns])?;
        ensure!(added.status.success(), "{}", text(&added));
        ensure!(text(&added).contains("cluster \"east\""), "{}", text(&added));
        // In the target: the ServiceAccount, bound to its role, and its token.
        let accounts: Api<ServiceAccount> = Api::namespaced(target_client.clone(), "kube-system");
        ensure!(accounts.get_opt("driftless-manager").await?.is_some());
        let binding = Api::<ClusterRoleBinding>::all(target_client.clone())
            .get("driftless-manager")
            .await?;
        ensure!(binding.role_ref.name == "driftless-manager");
        // Here: the cluster Secret with the token, never the admin's.
        let secret = Api::<Secret>::namespaced(client.clone(), &ns)
            .get("cluster-east")
            .await?;
        let data = secret.data.unwrap_or_default();
        let config = String::from_utf8(data.get("config").context("no config")?.0.clone())?;
        ensure!(!config.contains(target.token()), "the admin token was written");
        ensure!(config.contains("bearerToken"));
        // Adding again changes nothing and succeeds.
        let again = driftless(&kubeconfig, &["cluster", "add", "target", "--name", "east", "-n", &ns])?;
        ensure!(again.status.success(), "{}", text(&again));

        // The controller syncs an Application to it, with the ServiceAccount's token.
        let repo = tempfile::tempdir()?;
        std::fs::create_dir_all(repo.path().join("deploy"))?;
        std::fs::write(
            repo.path().join("deploy/cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: remote}\n",
        )?;
        for args in [
            &["init", "-q", "-b", "main"][..],
            &["config", "user.email", "t@example.com"],
            &["config", "user.name", "t"],
            &["add", "-A"],
            &["commit", "-qm", "one"],
        ] {
            git(repo.path(), args)?;
        }
        let cache = tempfile::tempdir()?;
        let _controller = Controller(
            Command::new(env!("CARGO_BIN_EXE_driftless"))
                .args(["controller", "--listen", "127.0.0.1:0", "--namespace", &ns])
                .arg("--cache-dir")
                .arg(cache.path())
                .env("KUBECONFIG", &kubeconfig)
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()?,
        );
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        let app: Application = serde_json::from_value(serde_json::json!({
            "apiVersion": "driftless.dev/v1alpha1", "kind": "Application",
            "metadata": {"name": "app", "namespace": ns},
            "spec": {"source": {"repoURL": format!("file://{}", repo.path().display()), "targetRevision": "main", "path": "deploy"},
                     "destination": {"name": "east", "namespace": ns}, "interval": "2s",
                     "syncPolicy": {"automated": {"prune": true, "selfHeal": true}, "syncOptions": ["CreateNamespace=true"]}},
        }))?;
        apps.create(&PostParams::default(), &app).await?;
        let maps: Api<ConfigMap> = Api::namespaced(target_client.clone(), &ns);
        eventually("the ConfigMap in the added cluster", SETTLE, || async {
            maps.get_opt("settings").await.ok().flatten()
        })
        .await?;

        let listed = driftless(&kubeconfig, &["cluster", "list", "-n", &ns])?;
        let out = text(&listed);
        ensure!(listed.status.success(), "{out}");
        let row = out
            .lines()
            .find(|l| l.starts_with("east "))
            .with_context(|| format!("no row for east: {out}"))?;
        ensure!(row.contains(target.server()) && row.contains("Connected"), "{row}");
        ensure!(row.contains(driftless_testenv::kubernetes_version()), "{row}");
        ensure!(
            row.split_whitespace().nth(4) == Some("1"),
            "one Application: {row}"
        );
        ensure!(out.lines().any(|l| l.starts_with("in-cluster ")), "{out}");

        let removed = driftless(&kubeconfig, &["cluster", "rm", "east", "-n", &ns])?;
        ensure!(removed.status.success(), "{}", text(&removed));
        eventually("the Application InvalidSpec", SETTLE, || async {
            let app = apps.get("app").await.ok()?;
            app.status?
                .conditions
                .iter()
                .any(|c| c.reason == "InvalidSpec" && c.message.contains("no cluster named \"east\""))
                .then_some(())
        })
        .await?;
        let missing = driftless(&kubeconfig, &["cluster", "rm", "east", "-n", &ns])?;
        ensure!(missing.status.code() == Some(2), "{}", text(&missing));
        ensure!(text(&missing).contains("no cluster \"east\""), "{}", text(&missing));
        Ok(())
    })
    .await?
}
