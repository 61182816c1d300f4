//! App of apps (issue 18, item 2) against the real test control plane and real Git
//! repositories (file://): a parent whose source renders two child Applications in two sync
//! waves; the second wave waits for the first child to be Synced and Healthy; removing a child
//! from Git prunes it and, through its finalizer, what it manages.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::ensure;
use driftless_api::{Application, ApplicationStatus, SyncStatusCode};
use driftless_controller::Context;
use driftless_testenv::{eventually, git, with_namespace};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};

/// Generous bound for the controller to act on a busy machine; not a performance figure.
const SETTLE: Duration = Duration::from_secs(120);

fn controller() -> anyhow::Result<()> {
    support::controller(|client| async move {
        let cache = tempfile::tempdir()?.keep();
        let mut registry = prometheus_client::registry::Registry::default();
        let metrics = driftless_controller::Metrics::new(&mut registry);
        Ok(Arc::new(Context::new(client, cache, None, metrics).await?))
    })
}

fn init(dir: &Path) -> anyhow::Result<String> {
    git(dir, &["init", "-q", "-b", "main"])?;
    git(dir, &["config", "user.email", "t@example.com"])?;
    git(dir, &["config", "user.name", "t"])?;
    Ok(format!("file://{}", dir.display()))
}

fn write_and_commit(dir: &Path, path: &str, content: &str, message: &str) -> anyhow::Result<()> {
    let path = dir.join(path);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, content)?;
    git(dir, &["add", "-A"])?;
    git(dir, &["commit", "-qm", message])?;
    Ok(())
}

/// A Deployment `web`; `pinned` keeps its pod off every node (so it stays Progressing).
fn deployment(pinned: bool) -> String {
    let selector = if pinned {
        "      nodeSelector: {driftless-test/nowhere: 'yes'}\n"
    } else {
        ""
    };
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec:\n  replicas: 1\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n{selector}      containers: [{{name: web, image: web:1}}]\n"
    )
}

/// A child Application manifest, in wave `wave`, with the finalizer that deletes its objects.
fn child(ns: &str, name: &str, url: &str, wave: u32) -> String {
    format!(
        "apiVersion: driftless.dev/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\n  namespace: {ns}\n  finalizers: [driftless.dev/resources-finalizer]\n  annotations: {{driftless.dev/sync-wave: '{wave}'}}\nspec:\n  source: {{repoURL: '{url}', targetRevision: main, path: deploy}}\n  destination: {{namespace: {ns}}}\n  interval: 1s\n  syncPolicy: {{automated: {{prune: true, selfHeal: true}}}}\n"
    )
}

fn synced_and_healthy(s: &ApplicationStatus) -> bool {
    s.sync
        .as_ref()
        .is_some_and(|x| x.status == SyncStatusCode::Synced)
        && s.health.as_ref().is_some_and(|h| h.status == "Healthy")
}

async fn status_of(apps: &Api<Application>, name: &str) -> Option<ApplicationStatus> {
    apps.get_opt(name).await.ok().flatten()?.status
}

#[tokio::test]
async fn child_applications_sync_in_waves_and_a_removed_child_takes_its_objects_along()
-> anyhow::Result<()> {
    controller()?;
    with_namespace("aoa-waves", |client, ns| async move {
        let first = tempfile::tempdir()?;
        let first_url = init(first.path())?;
        write_and_commit(first.path(), "deploy/web.yaml", &deployment(true), "pinned")?;
        let second = tempfile::tempdir()?;
        let second_url = init(second.path())?;
        write_and_commit(
            second.path(),
            "deploy/settings.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: second}\ndata: {mode: fast}\n",
            "second",
        )?;
        let parent = tempfile::tempdir()?;
        let parent_url = init(parent.path())?;
        std::fs::create_dir_all(parent.path().join("apps"))?;
        std::fs::write(
            parent.path().join("apps/first.yaml"),
            child(&ns, "first", &first_url, 0),
        )?;
        write_and_commit(
            parent.path(),
            "apps/second.yaml",
            &child(&ns, "second", &second_url, 1),
            "two children",
        )?;
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        let root: Application = serde_json::from_value(serde_json::json!({
            "apiVersion": "driftless.dev/v1alpha1", "kind": "Application",
            "metadata": {"name": "root", "namespace": ns},
            "spec": {
                "source": {"repoURL": parent_url, "targetRevision": "main", "path": "apps"},
                "destination": {"namespace": ns},
                "interval": "1s",
                "syncPolicy": {"automated": {"prune": true, "selfHeal": true}},
            },
        }))?;
        apps.create(&PostParams::default(), &root).await?;

        // Wave 0: the first child is created and syncs, but its Deployment cannot become
        // available: the parent's sync waits on it, and the second child is not created.
        eventually(
            "the first child syncing, still Progressing",
            SETTLE,
            || async {
                let s = status_of(&apps, "first").await?;
                let progressing = s.health.as_ref().is_some_and(|h| h.status == "Progressing");
                let synced = s
                    .sync
                    .as_ref()
                    .is_some_and(|x| x.status == SyncStatusCode::Synced);
                (progressing && synced).then_some(())
            },
        )
        .await?;
        let waiting = eventually("the parent's sync waiting on wave 0", SETTLE, || async {
            let s = status_of(&apps, "root").await?;
            let op = s.operation_state?;
            (op.progress.is_some()).then_some(op)
        })
        .await?;
        ensure!(
            apps.get_opt("second").await?.is_none(),
            "wave 1 created before wave 0 was healthy: {waiting:?}"
        );

        // The first child's Deployment is let onto a node: it becomes Healthy, so the parent
        // goes on with wave 1.
        write_and_commit(
            first.path(),
            "deploy/web.yaml",
            &deployment(false),
            "unpinned",
        )?;
        eventually("both children Synced and Healthy", SETTLE, || async {
            let a = status_of(&apps, "first").await?;
            let b = status_of(&apps, "second").await?;
            (synced_and_healthy(&a) && synced_and_healthy(&b)).then_some(())
        })
        .await?;
        let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        ensure!(configmaps.get_opt("second").await?.is_some());
        eventually("the parent Synced and Healthy", SETTLE, || async {
            status_of(&apps, "root").await.filter(synced_and_healthy)
        })
        .await?;

        // The second child leaves Git: the parent prunes it, and its finalizer deletes its
        // ConfigMap first. The first child and its Deployment stay.
        std::fs::remove_file(parent.path().join("apps/second.yaml"))?;
        git(parent.path(), &["add", "-A"])?;
        git(parent.path(), &["commit", "-qm", "second goes"])?;
        eventually(
            "the second child and its ConfigMap gone",
            SETTLE,
            || async {
                let app_gone = apps.get_opt("second").await.ok()?.is_none();
                let object_gone = configmaps.get_opt("second").await.ok()?.is_none();
                (app_gone && object_gone).then_some(())
            },
        )
        .await?;
        let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns);
        ensure!(
            apps.get_opt("first").await?.is_some(),
            "the first child was pruned"
        );
        ensure!(
            deployments.get_opt("web").await?.is_some(),
            "the first child's Deployment"
        );
        Ok(())
    })
    .await?
}
