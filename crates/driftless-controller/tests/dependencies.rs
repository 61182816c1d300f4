//! `spec.dependsOn` (issue 18, item 4) against the real test control plane and real Git
//! repositories (file://): ordering, a cycle, a missing dependency.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, ensure};
use driftless_api::{Application, ApplicationStatus, Condition, SyncStatusCode};
use driftless_controller::Context;
use driftless_testenv::{eventually, git, with_namespace};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams};

/// Generous bound for the controller to act on a busy machine; not a performance figure.
const SETTLE: Duration = Duration::from_secs(90);

fn controller() -> anyhow::Result<()> {
    support::controller(|client| async move {
        let cache = tempfile::tempdir()?.keep();
        let mut registry = prometheus_client::registry::Registry::default();
        let metrics = driftless_controller::Metrics::new(&mut registry);
        Ok(Arc::new(Context::new(client, cache, None, metrics).await?))
    })
}

/// A repository holding `files` (path, content) at `main`; returns its URL.
fn repository(dir: &Path, files: &[(&str, String)]) -> anyhow::Result<String> {
    git(dir, &["init", "-q", "-b", "main"])?;
    git(dir, &["config", "user.email", "t@example.com"])?;
    git(dir, &["config", "user.name", "t"])?;
    for (path, content) in files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, content)?;
    }
    git(dir, &["add", "-A"])?;
    git(dir, &["commit", "-qm", "first"])?;
    Ok(format!("file://{}", dir.display()))
}

/// A plain directory with one ConfigMap named `name`.
fn config_map(name: &str) -> Vec<(&'static str, String)> {
    vec![(
        "deploy/settings.yaml",
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{mode: fast}}\n"
        ),
    )]
}

/// An Application `name` of `url`'s `deploy/`, automated or manual, polling once an hour (so
/// what happens within a test is driven by watches, not by polls), with `depends_on`.
fn application(
    ns: &str,
    name: &str,
    url: &str,
    automated: bool,
    depends_on: serde_json::Value,
) -> anyhow::Result<Application> {
    let mut spec = serde_json::json!({
        "source": {"repoURL": url, "targetRevision": "main", "path": "deploy"},
        "destination": {"namespace": ns},
        "interval": "1h",
        "dependsOn": depends_on,
    });
    if automated {
        spec["syncPolicy"] = serde_json::json!({"automated": {"prune": true, "selfHeal": true}});
    }
    Ok(serde_json::from_value(serde_json::json!({
        "apiVersion": "driftless.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }))?)
}

fn ready(status: &ApplicationStatus) -> Option<&Condition> {
    status.conditions.iter().find(|c| c.type_ == "Ready")
}

async fn status_where(
    apps: &Api<Application>,
    name: &str,
    what: &str,
    check: impl Fn(&ApplicationStatus) -> bool,
) -> anyhow::Result<ApplicationStatus> {
    let found = eventually(what, SETTLE, || async {
        let app = apps.get(name).await.ok()?;
        app.status.filter(|s| check(s))
    })
    .await;
    match found {
        Ok(status) => Ok(status),
        Err(error) => {
            // What every Application of the namespace said last, to see why.
            let all = apps.list(&Default::default()).await?;
            let said: Vec<String> = all
                .items
                .iter()
                .map(|a| {
                    format!(
                        "{}: {:?}",
                        a.metadata.name.as_deref().unwrap_or_default(),
                        a.status
                    )
                })
                .collect();
            Err(anyhow::Error::new(error).context(said.join("\n")))
        }
    }
}

fn synced_and_healthy(s: &ApplicationStatus) -> bool {
    s.sync
        .as_ref()
        .is_some_and(|x| x.status == SyncStatusCode::Synced)
        && s.health.as_ref().is_some_and(|h| h.status == "Healthy")
}

fn waiting_on(s: &ApplicationStatus, words: &str) -> bool {
    ready(s).is_some_and(|c| c.reason == "DependencyNotReady" && c.message.contains(words))
}

#[tokio::test]
async fn a_dependent_applies_nothing_until_its_dependency_is_synced_and_healthy()
-> anyhow::Result<()> {
    controller()?;
    with_namespace("dep-order", |client, ns| async move {
        // The dependency is a Kustomize source with a Deployment; the dependent plain YAML.
        let base = tempfile::tempdir()?;
        let base_url = repository(
            base.path(),
            &[
                (
                    "deploy/kustomization.yaml",
                    "resources: [web.yaml]\n".to_owned(),
                ),
                (
                    "deploy/web.yaml",
                    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: web:1}]\n".to_owned(),
                ),
            ],
        )?;
        let top = tempfile::tempdir()?;
        let top_url = repository(top.path(), &config_map("top"))?;
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        // The dependency starts manual: OutOfSync, so the dependent must wait.
        apps.create(
            &PostParams::default(),
            &application(&ns, "base", &base_url, false, serde_json::json!([]))?,
        )
        .await?;
        apps.create(
            &PostParams::default(),
            &application(&ns, "top", &top_url, true, serde_json::json!([{"name": "base"}]))?,
        )
        .await?;
        let waiting = status_where(&apps, "top", "top waiting for base", |s| {
            waiting_on(s, "is not Synced")
        })
        .await?;
        let message = ready(&waiting).map(|c| c.message.clone()).unwrap_or_default();
        ensure!(
            message.contains(&format!("dependency {ns}/base")),
            "{message}"
        );
        let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        ensure!(
            configmaps.get_opt("top").await?.is_none(),
            "top applied while its dependency was OutOfSync"
        );
        ensure!(waiting.history.is_empty() && waiting.operation_state.is_none());

        // The dependency is made automated: it syncs, becomes healthy, and the dependent (which
        // polls once an hour) goes on because the dependency's status change woke it.
        let automated = serde_json::json!({"spec": {"syncPolicy": {"automated": {"prune": true}}}});
        apps.patch("base", &PatchParams::default(), &Patch::Merge(automated))
            .await?;
        status_where(&apps, "top", "top synced after base", synced_and_healthy).await?;
        ensure!(configmaps.get_opt("top").await?.is_some(), "top's ConfigMap");
        let base_status = apps
            .get("base")
            .await?
            .status
            .context("base has no status")?;
        ensure!(
            synced_and_healthy(&base_status),
            "top went on before base was Synced and Healthy: {base_status:?}"
        );
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn a_dependency_cycle_is_an_invalid_spec_that_names_it() -> anyhow::Result<()> {
    controller()?;
    with_namespace("dep-cycle", |client, ns| async move {
        let repo = tempfile::tempdir()?;
        let url = repository(repo.path(), &config_map("cm"))?;
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        for (name, on) in [("one", "two"), ("two", "one")] {
            let depends = serde_json::json!([{"name": on}]);
            apps.create(
                &PostParams::default(),
                &application(&ns, name, &url, true, depends)?,
            )
            .await?;
        }
        let status = status_where(&apps, "one", "one InvalidSpec", |s| {
            ready(s).is_some_and(|c| c.reason == "InvalidSpec")
        })
        .await?;
        let message = ready(&status)
            .map(|c| c.message.clone())
            .unwrap_or_default();
        ensure!(
            message.contains(&format!("cycle: {ns}/one → {ns}/two → {ns}/one")),
            "{message}"
        );
        status_where(&apps, "two", "two InvalidSpec", |s| {
            ready(s).is_some_and(|c| c.reason == "InvalidSpec" && c.message.contains("cycle"))
        })
        .await?;
        let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        ensure!(
            configmaps.get_opt("cm").await?.is_none(),
            "applied from a cycle"
        );

        // Breaking the cycle lets both go on, without a poll.
        let freed = serde_json::json!({"spec": {"dependsOn": null}});
        apps.patch("two", &PatchParams::default(), &Patch::Merge(freed))
            .await?;
        status_where(
            &apps,
            "one",
            "one synced once the cycle is gone",
            synced_and_healthy,
        )
        .await?;
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn a_dependency_naming_nothing_waits_and_goes_on_when_it_appears() -> anyhow::Result<()> {
    controller()?;
    with_namespace("dep-missing", |client, ns| async move {
        let repo = tempfile::tempdir()?;
        let url = repository(repo.path(), &config_map("cm"))?;
        let other = tempfile::tempdir()?;
        let other_url = repository(other.path(), &config_map("other"))?;
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        apps.create(
            &PostParams::default(),
            &application(
                &ns,
                "app",
                &url,
                true,
                serde_json::json!([{"name": "ghost"}]),
            )?,
        )
        .await?;
        status_where(&apps, "app", "app waiting for ghost", |s| {
            waiting_on(s, &format!("dependency {ns}/ghost does not exist"))
        })
        .await?;
        let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        ensure!(
            configmaps.get_opt("cm").await?.is_none(),
            "applied with a missing dependency"
        );
        // It appears (and becomes ready): the dependent goes on.
        apps.create(
            &PostParams::default(),
            &application(&ns, "ghost", &other_url, true, serde_json::json!([]))?,
        )
        .await?;
        status_where(
            &apps,
            "app",
            "app synced once ghost is ready",
            synced_and_healthy,
        )
        .await?;
        ensure!(configmaps.get_opt("cm").await?.is_some());
        Ok(())
    })
    .await?
}
