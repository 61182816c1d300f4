//! The controller against the real test control plane and real Git repositories (file://):
//! one controller per test binary, one namespace and Application per test.

mod support;

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{Context as _, ensure};
use driftless_api::{AppProject, Application, SyncStatusCode};
use driftless_controller::Context;
use driftless_testenv::{eventually, git, with_namespace};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::api::events::v1::Event;
use kube::Client;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams, PostParams};

/// Generous bound for the controller to act on a busy machine; not a performance figure.
const SETTLE: Duration = Duration::from_secs(90);

/// The running controller's context, for what only it can tell (what it remembers).
static CONTEXT: OnceLock<Arc<Context>> = OnceLock::new();
/// The registry of the running controller's metrics.
static REGISTRY: OnceLock<prometheus_client::registry::Registry> = OnceLock::new();

/// The controller's metrics as `/metrics` serves them.
fn metrics_text() -> anyhow::Result<String> {
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, REGISTRY.get().context("no registry")?)?;
    Ok(text)
}

/// Installs the CRD and starts one controller, on a thread of its own, for the whole binary.
fn controller() -> anyhow::Result<()> {
    support::controller(|client| async move {
        let cache = tempfile::tempdir()?.keep();
        let mut registry = prometheus_client::registry::Registry::default();
        let metrics = driftless_controller::Metrics::new(&mut registry);
        let _ = REGISTRY.set(registry);
        let mut context = Context::new(client, cache, None, metrics).await?;
        // Impersonating clients are made from the test's admin configuration.
        let kubeconfig =
            kube::config::Kubeconfig::read_from(driftless_testenv::shared()?.kubeconfig())?;
        context.impersonation =
            Some(kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default()).await?);
        let context = Arc::new(context);
        let _ = CONTEXT.set(context.clone());
        Ok(context)
    })
}

/// A repository whose `deploy/` holds one ConfigMap with `mode: <mode>`; returns its URL.
fn repository(dir: &Path, mode: &str) -> anyhow::Result<String> {
    git(dir, &["init", "-q", "-b", "main"])?;
    git(dir, &["config", "user.email", "t@example.com"])?;
    git(dir, &["config", "user.name", "t"])?;
    commit_mode(dir, mode)?;
    Ok(format!("file://{}", dir.display()))
}

fn commit_mode(dir: &Path, mode: &str) -> anyhow::Result<String> {
    std::fs::create_dir_all(dir.join("deploy"))?;
    std::fs::write(
        dir.join("deploy/settings.yaml"),
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings}}\ndata: {{mode: {mode}}}\n"
        ),
    )?;
    git(dir, &["add", "-A"])?;
    git(dir, &["commit", "-qm", mode])?;
    Ok(git(dir, &["rev-parse", "HEAD"])?)
}

fn application(ns: &str, url: &str, automated: bool) -> anyhow::Result<Application> {
    application_every(ns, url, automated, "1s")
}

/// An Application polling every `interval`: `1h` proves that what happens is not the poll.
fn application_every(
    ns: &str,
    url: &str,
    automated: bool,
    interval: &str,
) -> anyhow::Result<Application> {
    let mut spec = serde_json::json!({
        "source": {"repoURL": url, "targetRevision": "main", "path": "deploy"},
        "destination": {"namespace": ns},
        "interval": interval,
    });
    if automated {
        spec["syncPolicy"] = serde_json::json!({"automated": {"prune": true, "selfHeal": true}});
    }
    Ok(serde_json::from_value(serde_json::json!({
        "apiVersion": "driftless.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "app", "namespace": ns},
        "spec": spec,
    }))?)
}

async fn status_where(
    apps: &Api<Application>,
    what: &str,
    check: impl Fn(&driftless_api::ApplicationStatus) -> bool,
) -> anyhow::Result<driftless_api::ApplicationStatus> {
    Ok(eventually(what, SETTLE, || async {
        let app = apps.get("app").await.ok()?;
        app.status.filter(|s| check(s))
    })
    .await?)
}

/// Asks for a sync of "app" as `driftless app sync` does: the request annotation.
async fn request_sync(
    apps: &Api<Application>,
    request: &driftless_api::SyncRequest,
) -> anyhow::Result<()> {
    let patch = serde_json::json!({"metadata": {"annotations": {
        driftless_api::SYNC_REQUEST_ANNOTATION: request.to_annotation()}}});
    apps.patch("app", &PatchParams::default(), &Patch::Merge(patch))
        .await?;
    Ok(())
}

#[tokio::test]
async fn an_automated_application_is_synced_healthy_and_follows_new_commits() -> anyhow::Result<()>
{
    controller()?;
    with_namespace("ctl-automated", |client, ns| async move {
        let repo = tempfile::tempdir()?;
        let url = repository(repo.path(), "fast")?;
        let first = git(repo.path(), &["rev-parse", "HEAD"])?;
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        apps.create(&PostParams::default(), &application(&ns, &url, true)?)
            .await?;

        let status = status_where(&apps, "Synced and Healthy", |s| {
            s.sync
                .as_ref()
                .is_some_and(|x| x.status == SyncStatusCode::Synced)
                && s.health.as_ref().is_some_and(|h| h.status == "Healthy")
        })
        .await?;
        ensure!(status.sync.and_then(|s| s.revision).as_deref() == Some(first.as_str()));
        ensure!(
            status.observed_generation == Some(1),
            "{:?}",
            status.observed_generation
        );
        ensure!(status.history.len() == 1 && status.history[0].revision == first);
        let ready = status
            .conditions
            .iter()
            .find(|c| c.type_ == "Ready")
            .context("no Ready")?;
        ensure!(
            ready.status == driftless_api::ConditionStatus::True,
            "{ready:?}"
        );
        ensure!(status.resources.len() == 1 && status.resources[0].name == "settings");
        let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        let cm = configmaps.get("settings").await?;
        ensure!(cm.data.unwrap_or_default().get("mode").map(String::as_str) == Some("fast"));

        // A new commit is picked up at the next poll and applied.
        let second = commit_mode(repo.path(), "slow")?;
        let status = status_where(&apps, "the second commit synced", |s| {
            s.history.last().is_some_and(|h| h.revision == second)
        })
        .await?;
        ensure!(status.history.len() == 2, "{:?}", status.history);
        let cm = configmaps.get("settings").await?;
        ensure!(cm.data.unwrap_or_default().get("mode").map(String::as_str) == Some("slow"));
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn a_manual_application_reports_out_of_sync_and_applies_nothing() -> anyhow::Result<()> {
    controller()?;
    with_namespace("ctl-manual", |client, ns| async move {
        let repo = tempfile::tempdir()?;
        let url = repository(repo.path(), "fast")?;
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        apps.create(&PostParams::default(), &application(&ns, &url, false)?)
            .await?;
        let status = status_where(&apps, "OutOfSync", |s| {
            s.sync
                .as_ref()
                .is_some_and(|x| x.status == SyncStatusCode::OutOfSync)
        })
        .await?;
        let ready = status
            .conditions
            .iter()
            .find(|c| c.type_ == "Ready")
            .context("no Ready")?;
        ensure!(ready.reason == "OutOfSync", "{ready:?}");
        ensure!(status.history.is_empty() && status.operation_state.is_none());
        let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        ensure!(
            configmaps.get_opt("settings").await?.is_none(),
            "manual policy applied"
        );
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn an_unreachable_source_is_reported_in_the_status() -> anyhow::Result<()> {
    controller()?;
    with_namespace("ctl-no-source", |client, ns| async move {
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        let missing = format!("file:///nonexistent/{ns}");
        apps.create(&PostParams::default(), &application(&ns, &missing, true)?)
            .await?;
        let status = status_where(&apps, "FetchFailed", |s| {
            s.conditions.iter().any(|c| c.reason == "FetchFailed")
        })
        .await?;
        ensure!(
            status
                .sync
                .is_some_and(|s| s.status == SyncStatusCode::Unknown)
        );
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn self_heal_reverts_a_hand_edit_and_an_empty_render_prunes_nothing() -> anyhow::Result<()> {
    controller()?;
    with_namespace("ctl-heal-empty", |client, ns| async move {
        let repo = tempfile::tempdir()?;
        let url = repository(repo.path(), "fast")?;
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        apps.create(&PostParams::default(), &application(&ns, &url, true)?)
            .await?;
        status_where(&apps, "Synced", |s| {
            s.sync
                .as_ref()
                .is_some_and(|x| x.status == SyncStatusCode::Synced)
        })
        .await?;

        // Someone edits the ConfigMap with a field manager of their own.
        let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        let edit = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings"}, "data": {"mode": "hand-edited"}});
        configmaps
            .patch(
                "settings",
                &kube::api::PatchParams::apply("someone").force(),
                &kube::api::Patch::Apply(&edit),
            )
            .await?;
        eventually("the hand edit to be reverted", SETTLE, || async {
            let cm = configmaps.get("settings").await.ok()?;
            (cm.data?.get("mode").map(String::as_str) == Some("fast")).then_some(())
        })
        .await?;

        // Git now renders nothing: without allowEmpty, nothing is pruned.
        std::fs::remove_file(repo.path().join("deploy/settings.yaml"))?;
        std::fs::write(repo.path().join("deploy/README.md"), "nothing here\n")?;
        git(repo.path(), &["add", "-A"])?;
        git(repo.path(), &["commit", "-qm", "empty"])?;
        status_where(&apps, "EmptyRefused", |s| {
            s.conditions.iter().any(|c| c.reason == "EmptyRefused")
        })
        .await?;
        ensure!(
            configmaps.get_opt("settings").await?.is_some(),
            "pruned despite allowEmpty=false"
        );
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn an_invalid_sync_option_is_reported_and_nothing_is_applied() -> anyhow::Result<()> {
    controller()?;
    with_namespace("ctl-invalid", |client, ns| async move {
        let repo = tempfile::tempdir()?;
        let url = repository(repo.path(), "fast")?;
        let mut app = application(&ns, &url, true)?;
        if let Some(policy) = app.spec.sync_policy.as_mut() {
            policy.sync_options = vec!["Prnue=true".to_owned()];
        }
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        apps.create(&PostParams::default(), &app).await?;
        let status = status_where(&apps, "InvalidSpec", |s| {
            s.conditions.iter().any(|c| c.reason == "InvalidSpec")
        })
        .await?;
        let ready = status
            .conditions
            .iter()
            .find(|c| c.type_ == "Ready")
            .context("no Ready")?;
        ensure!(ready.message.contains("Prnue"), "{ready:?}");
        let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        ensure!(
            configmaps.get_opt("settings").await?.is_none(),
            "applied despite an invalid spec"
        );
        Ok(())
    })
    .await?
}

/// Regression: tracking ids named only the Application, so a pruning sync of `app` in one
/// namespace deleted the objects of `app` in another.
#[tokio::test]
async fn same_named_applications_in_two_namespaces_never_prune_each_other() -> anyhow::Result<()> {
    controller()?;
    with_namespace("ctl-twin-a", |client, ns_a| async move {
        let twin = driftless_testenv::TestNamespace::create(client.clone(), "ctl-twin-b").await?;
        let ns_b = twin.name().to_owned();
        let repo_a = tempfile::tempdir()?;
        let repo_b = tempfile::tempdir()?;
        let url_a = repository(repo_a.path(), "a")?;
        let url_b = repository(repo_b.path(), "b")?;
        let apps_a: Api<Application> = Api::namespaced(client.clone(), &ns_a);
        let apps_b: Api<Application> = Api::namespaced(client.clone(), &ns_b);
        // A without self-heal: nothing would recreate its object if B wrongly pruned it.
        let mut app_a = application(&ns_a, &url_a, true)?;
        if let Some(automated) = app_a
            .spec
            .sync_policy
            .as_mut()
            .and_then(|p| p.automated.as_mut())
        {
            automated.self_heal = false;
        }
        apps_a.create(&PostParams::default(), &app_a).await?;
        apps_b
            .create(&PostParams::default(), &application(&ns_b, &url_b, true)?)
            .await?;
        for apps in [&apps_a, &apps_b] {
            status_where(apps, "Synced", |s| {
                s.sync
                    .as_ref()
                    .is_some_and(|x| x.status == SyncStatusCode::Synced)
            })
            .await?;
        }
        // A pruning sync of B (its ConfigMap renamed) must leave A's ConfigMap alone.
        std::fs::write(
            repo_b.path().join("deploy/settings.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: renamed}\ndata: {mode: b}\n",
        )?;
        git(repo_b.path(), &["commit", "-qam", "rename"])?;
        let second = git(repo_b.path(), &["rev-parse", "HEAD"])?;
        status_where(&apps_b, "B's pruning sync", |s| {
            s.history.last().is_some_and(|h| h.revision == second)
        })
        .await?;
        let in_b: Api<ConfigMap> = Api::namespaced(client.clone(), &ns_b);
        ensure!(
            in_b.get_opt("settings").await?.is_none(),
            "B did not prune its own object"
        );
        let in_a: Api<ConfigMap> = Api::namespaced(client.clone(), &ns_a);
        ensure!(
            in_a.get_opt("settings").await?.is_some(),
            "B pruned A's object"
        );
        twin.delete().await?;
        Ok(())
    })
    .await?
}

fn synced(s: &driftless_api::ApplicationStatus) -> bool {
    s.sync
        .as_ref()
        .is_some_and(|x| x.status == SyncStatusCode::Synced)
}

/// The Events about Applications in `ns` with `reason`.
async fn events(client: &Client, ns: &str, reason: &str) -> anyhow::Result<Vec<Event>> {
    let events: Api<Event> = Api::namespaced(client.clone(), ns);
    Ok(events
        .list(&Default::default())
        .await?
        .items
        .into_iter()
        .filter(|e| e.reason.as_deref() == Some(reason))
        .collect())
}

fn mode_of(cm: ConfigMap) -> Option<String> {
    cm.data?.get("mode").cloned()
}

#[tokio::test]
async fn self_heal_is_driven_by_watches_and_names_who_made_the_change() -> anyhow::Result<()> {
    controller()?;
    with_namespace("ctl-watch-heal", |client, ns| async move {
        let repo = tempfile::tempdir()?;
        let url = repository(repo.path(), "fast")?;
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        // Polling once an hour: only a watch event can explain a correction within the test.
        apps.create(
            &PostParams::default(),
            &application_every(&ns, &url, true, "1h")?,
        )
        .await?;
        status_where(&apps, "Synced", synced).await?;

        let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        let edit = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings"}, "data": {"mode": "hand-edited"}});
        configmaps
            .patch(
                "settings",
                &kube::api::PatchParams::apply("kubectl-edit").force(),
                &kube::api::Patch::Apply(&edit),
            )
            .await?;
        eventually("the edit to be reverted", SETTLE, || async {
            let cm = configmaps.get("settings").await.ok()?;
            (mode_of(cm)? == "fast").then_some(())
        })
        .await?;
        let corrected = eventually("a DriftCorrected event", SETTLE, || async {
            events(&client, &ns, "DriftCorrected")
                .await
                .ok()
                .filter(|e| !e.is_empty())
        })
        .await?;
        let note = corrected[0].note.clone().unwrap_or_default();
        ensure!(
            note.contains("ConfigMap")
                && note.contains("settings")
                && note.contains("kubectl-edit"),
            "{note}"
        );

        // A deleted object comes back, again without a poll.
        configmaps.delete("settings", &Default::default()).await?;
        eventually("the deleted ConfigMap to be recreated", SETTLE, || async {
            let cm = configmaps.get_opt("settings").await.ok()??;
            (mode_of(cm)? == "fast").then_some(())
        })
        .await?;
        // Self-heal of the same commit adds no history entry.
        let app = apps.get("app").await?;
        let history = app.status.map(|s| s.history).unwrap_or_default();
        ensure!(history.len() == 1, "{history:?}");
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn a_sync_request_annotation_syncs_a_manual_application_once() -> anyhow::Result<()> {
    controller()?;
    with_namespace("ctl-request", |client, ns| async move {
        let repo = tempfile::tempdir()?;
        let url = repository(repo.path(), "fast")?;
        let commit = git(repo.path(), &["rev-parse", "HEAD"])?;
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        apps.create(
            &PostParams::default(),
            &application_every(&ns, &url, false, "1h")?,
        )
        .await?;
        status_where(&apps, "OutOfSync", |s| !synced(s) && s.sync.is_some()).await?;

        let request = driftless_api::SyncRequest {
            id: "req-1".into(),
            initiated_by: Some("tester".into()),
            ..Default::default()
        };
        request_sync(&apps, &request).await?;
        let status = status_where(&apps, "the request carried out", |s| {
            s.operation_state.as_ref().is_some_and(|o| {
                o.request_id.as_deref() == Some("req-1") && o.finished_at.is_some()
            })
        })
        .await?;
        let op = status.operation_state.context("no operation")?;
        ensure!(
            op.phase == driftless_api::OperationPhase::Succeeded,
            "{op:?}"
        );
        ensure!(status.history.len() == 1 && status.history[0].revision == commit);
        ensure!(status.history[0].initiated_by.as_deref() == Some("tester"));
        let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        ensure!(configmaps.get_opt("settings").await?.is_some());
        let app = apps.get("app").await?;
        ensure!(
            !app.annotations()
                .contains_key(driftless_api::SYNC_REQUEST_ANNOTATION),
            "the request annotation was left behind"
        );

        // A request for a revision Git does not have fails, and says so to whoever waits on it.
        let missing = driftless_api::SyncRequest {
            id: "req-2".into(),
            revision: Some("no-such-branch".into()),
            ..Default::default()
        };
        request_sync(&apps, &missing).await?;
        let status = status_where(&apps, "the failed request reported", |s| {
            s.operation_state
                .as_ref()
                .is_some_and(|o| o.request_id.as_deref() == Some("req-2"))
        })
        .await?;
        let op = status.operation_state.context("no operation")?;
        ensure!(op.phase == driftless_api::OperationPhase::Failed, "{op:?}");
        ensure!(op.message.contains("no-such-branch"), "{}", op.message);
        ensure!(op.finished_at.is_some(), "{op:?}");
        ensure!(status.history.len() == 1, "{:?}", status.history);
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn a_rollback_syncs_an_old_revision_and_suspension_keeps_it_there() -> anyhow::Result<()> {
    controller()?;
    with_namespace("ctl-rollback", |client, ns| async move {
        let repo = tempfile::tempdir()?;
        let url = repository(repo.path(), "fast")?;
        // Objects that stay the same across the commits, as in the quick start (issue 23's
        // "also seen": `app get` after a rollback seemed to list three of five resources).
        std::fs::write(
            repo.path().join("deploy/more.yaml"),
            "apiVersion: v1\nkind: Secret\nmetadata: {name: token}\nstringData: {token: t}\n---\n\
             apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n",
        )?;
        git(repo.path(), &["add", "-A"])?;
        git(repo.path(), &["commit", "-qm", "more"])?;
        let first = git(repo.path(), &["rev-parse", "HEAD"])?;
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        apps.create(&PostParams::default(), &application(&ns, &url, true)?)
            .await?;
        status_where(&apps, "Synced", synced).await?;
        let second = commit_mode(repo.path(), "slow")?;
        status_where(&apps, "the second commit synced", |s| {
            s.history.last().is_some_and(|h| h.revision == second)
        })
        .await?;

        // What `driftless app rollback app 1` writes: suspend, and a request for that commit.
        let request = driftless_api::SyncRequest {
            id: "rollback-1".into(),
            revision: Some(first.clone()),
            prune: true,
            initiated_by: Some("rollback to 1".into()),
        };
        let patch = serde_json::json!({
            "metadata": {"annotations": {driftless_api::SYNC_REQUEST_ANNOTATION: request.to_annotation()}},
            "spec": {"suspend": true},
        });
        apps.patch("app", &PatchParams::default(), &Patch::Merge(patch))
            .await?;
        let status = status_where(&apps, "the rollback carried out", |s| {
            s.operation_state
                .as_ref()
                .is_some_and(|o| o.request_id.as_deref() == Some("rollback-1") && o.finished_at.is_some())
        })
        .await?;
        ensure!(status.history.last().map(|h| h.revision.as_str()) == Some(first.as_str()));
        let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        ensure!(configmaps.get("settings").await.ok().and_then(mode_of).as_deref() == Some("fast"));

        // Suspended: the newer commit is reported, not applied, over several polls.
        let status = status_where(&apps, "OutOfSync against the newer commit", |s| {
            !synced(s) && s.sync.as_ref().and_then(|x| x.revision.as_deref()) == Some(second.as_str())
        })
        .await?;
        // Every object of the commit is listed while OutOfSync, not only the changed one.
        let listed: Vec<(String, String, SyncStatusCode)> = status
            .resources
            .iter()
            .map(|r| (r.kind.clone(), r.name.clone(), r.status))
            .collect();
        let expected = [
            ("ConfigMap", "settings", SyncStatusCode::OutOfSync),
            ("Secret", "token", SyncStatusCode::Synced),
            ("Service", "web", SyncStatusCode::Synced),
        ];
        ensure!(listed.len() == expected.len(), "resources {listed:?}");
        for (kind, name, code) in expected {
            ensure!(
                listed.iter().any(|(k, n, c)| k == kind && n == name && *c == code),
                "{kind}/{name} not listed as {code:?}: {listed:?}"
            );
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
        ensure!(configmaps.get("settings").await.ok().and_then(mode_of).as_deref() == Some("fast"));
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn without_prune_an_object_dropped_from_git_stays_and_is_reported() -> anyhow::Result<()> {
    controller()?;
    with_namespace("ctl-no-prune", |client, ns| async move {
        let repo = tempfile::tempdir()?;
        let url = repository(repo.path(), "fast")?;
        let mut app = application(&ns, &url, true)?;
        if let Some(automated) = app
            .spec
            .sync_policy
            .as_mut()
            .and_then(|p| p.automated.as_mut())
        {
            automated.prune = false;
        }
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        apps.create(&PostParams::default(), &app).await?;
        status_where(&apps, "Synced", synced).await?;
        std::fs::write(
            repo.path().join("deploy/settings.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: renamed}\ndata: {mode: b}\n",
        )?;
        git(repo.path(), &["commit", "-qam", "rename"])?;
        let status = status_where(&apps, "the rename synced without pruning", |s| {
            s.resources
                .iter()
                .any(|r| r.name == "settings" && r.status == SyncStatusCode::OutOfSync)
                && s.resources.iter().any(|r| r.name == "renamed")
        })
        .await?;
        ensure!(!synced(&status));
        let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        ensure!(configmaps.get_opt("renamed").await?.is_some());
        ensure!(
            configmaps.get_opt("settings").await?.is_some(),
            "pruned with prune off"
        );
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn a_failed_sync_is_retried_and_succeeds_once_the_cause_is_gone() -> anyhow::Result<()> {
    controller()?;
    with_namespace("ctl-retry", |client, ns| async move {
        // The object goes to a namespace that does not exist yet: the first attempts fail.
        let later = format!("{ns}-later");
        let repo = tempfile::tempdir()?;
        repository(repo.path(), "fast")?;
        std::fs::write(
            repo.path().join("deploy/settings.yaml"),
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings, namespace: {later}}}\ndata: {{mode: fast}}\n"),
        )?;
        git(repo.path(), &["commit", "-qam", "elsewhere"])?;
        let url = format!("file://{}", repo.path().display());
        let mut app = application_every(&ns, &url, true, "1h")?;
        if let Some(policy) = app.spec.sync_policy.as_mut() {
            policy.retry = Some(driftless_api::Retry {
                limit: Some(20),
                backoff: Some(driftless_api::Backoff {
                    duration: Some("1s".into()),
                    factor: Some(1),
                    max_duration: Some("1s".into()),
                }),
            });
        }
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        apps.create(&PostParams::default(), &app).await?;
        // Retries are requeues: between attempts the status says Retrying and when.
        let waiting = status_where(&apps, "a retry waiting in the status", |s| {
            s.operation_state.as_ref().is_some_and(|op| {
                op.phase == driftless_api::OperationPhase::Retrying
                    && op.retry_count >= 1
                    && op.next_attempt_at.is_some()
            })
        })
        .await?;
        let ready = waiting.conditions.iter().find(|c| c.type_ == "Ready").context("no Ready")?;
        ensure!(ready.reason == "SyncFailed" && ready.message.contains("retrying"), "{ready:?}");
        let namespaces: Api<Namespace> = Api::all(client.clone());
        let namespace: Namespace =
            serde_json::from_value(serde_json::json!({"metadata": {"name": later}}))?;
        namespaces.create(&PostParams::default(), &namespace).await?;
        let status = status_where(&apps, "Synced after retries", synced).await;
        let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &later);
        let created = configmaps.get_opt("settings").await;
        namespaces.delete(&later, &Default::default()).await?;
        let status = status?;
        ensure!(created?.is_some(), "the ConfigMap was not created");
        let op = status.operation_state.context("no operation")?;
        ensure!(op.phase == driftless_api::OperationPhase::Succeeded, "{op:?}");
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn a_sync_cut_short_by_a_restart_is_resumed() -> anyhow::Result<()> {
    controller()?;
    with_namespace("ctl-resume", |client, ns| async move {
        let repo = tempfile::tempdir()?;
        let url = repository(repo.path(), "fast")?;
        let commit = git(repo.path(), &["rev-parse", "HEAD"])?;
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        // Manual: nothing would sync it but the resumed operation.
        apps.create(
            &PostParams::default(),
            &application_every(&ns, &url, false, "1h")?,
        )
        .await?;
        status_where(&apps, "OutOfSync", |s| !synced(s) && s.sync.is_some()).await?;
        // What a controller that died mid-sync leaves behind: a Running operation.
        let running = serde_json::json!({"status": {"operationState": {
            "phase": "Running", "message": "syncing", "revision": commit,
            "initiatedBy": "user", "startedAt": "2026-01-01T00:00:00Z", "requestId": "before-restart"}}});
        apps.patch_status("app", &PatchParams::default(), &Patch::Merge(running))
            .await?;
        // This controller never ran that operation, as a freshly started one would not have;
        // any change to the Application wakes it.
        let poke = serde_json::json!({"metadata": {"annotations": {"test/poke": "1"}}});
        apps.patch("app", &PatchParams::default(), &Patch::Merge(poke))
            .await?;
        let status = status_where(&apps, "the operation resumed and finished", |s| {
            s.operation_state
                .as_ref()
                .is_some_and(|o| o.phase == driftless_api::OperationPhase::Succeeded)
        })
        .await?;
        let op = status.operation_state.context("no operation")?;
        ensure!(op.request_id.as_deref() == Some("before-restart"), "{op:?}");
        ensure!(status.history.last().map(|h| h.revision.as_str()) == Some(commit.as_str()));
        let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        ensure!(configmaps.get_opt("settings").await?.is_some());
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn the_finalizer_deletes_the_managed_objects_with_the_application() -> anyhow::Result<()> {
    controller()?;
    with_namespace("ctl-finalizer", |client, ns| async move {
        let repo = tempfile::tempdir()?;
        let url = repository(repo.path(), "fast")?;
        let mut app = application(&ns, &url, true)?;
        app.metadata.finalizers = Some(vec![driftless_api::FINALIZER.to_owned()]);
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        apps.create(&PostParams::default(), &app).await?;
        status_where(&apps, "Synced", synced).await?;
        // An object of someone else's in the same namespace must survive.
        let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        let other: ConfigMap = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "not-ours"}, "data": {"a": "b"}}))?;
        configmaps.create(&PostParams::default(), &other).await?;

        apps.delete("app", &Default::default()).await?;
        eventually("the Application to be gone", SETTLE, || async {
            apps.get_opt("app").await.ok()?.is_none().then_some(())
        })
        .await?;
        eventually("its ConfigMap to be gone", SETTLE, || async {
            configmaps
                .get_opt("settings")
                .await
                .ok()?
                .is_none()
                .then_some(())
        })
        .await?;
        ensure!(configmaps.get_opt("not-ours").await?.is_some());
        Ok(())
    })
    .await?
}

fn ready_of(status: &driftless_api::ApplicationStatus) -> Option<&driftless_api::Condition> {
    status.conditions.iter().find(|c| c.type_ == "Ready")
}

/// Regression: an invalid spec never answered a waiting sync request, so `app sync` timed out
/// saying the controller might not be running.
#[tokio::test]
async fn an_invalid_spec_answers_a_waiting_sync_request() -> anyhow::Result<()> {
    controller()?;
    with_namespace("ctl-badspec-request", |client, ns| async move {
        let repo = tempfile::tempdir()?;
        let url = repository(repo.path(), "fast")?;
        let app = application_every(&ns, &url, false, "1m30x")?;
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        apps.create(&PostParams::default(), &app).await?;
        let request = driftless_api::SyncRequest {
            id: "waiting-1".into(),
            ..Default::default()
        };
        request_sync(&apps, &request).await?;
        let status = status_where(&apps, "the request answered", |s| {
            s.operation_state
                .as_ref()
                .is_some_and(|op| op.request_id.as_deref() == Some("waiting-1"))
        })
        .await?;
        let op = status.operation_state.clone().context("no operation")?;
        ensure!(op.phase == driftless_api::OperationPhase::Failed, "{op:?}");
        ensure!(op.message.contains("spec.interval"), "{op:?}");
        let ready = ready_of(&status).context("no Ready")?;
        ensure!(ready.reason == "InvalidSpec", "{ready:?}");
        eventually("the request annotation removed", SETTLE, || async {
            let app = apps.get("app").await.ok()?;
            (!app
                .annotations()
                .contains_key(driftless_api::SYNC_REQUEST_ANNOTATION))
            .then_some(())
        })
        .await?;
        let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        ensure!(configmaps.get_opt("settings").await?.is_none(), "applied");
        Ok(())
    })
    .await?
}

/// Regression: `destination.server` was accepted and ignored, so an Application meant for
/// another cluster was applied to this one; and bad or hot intervals were defaulted silently.
#[tokio::test]
async fn spec_values_that_cannot_be_honoured_are_invalid_and_nothing_is_applied()
-> anyhow::Result<()> {
    controller()?;
    with_namespace("ctl-badspec", |client, ns| async move {
        let repo = tempfile::tempdir()?;
        let url = repository(repo.path(), "fast")?;
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        let mut remote = application(&ns, &url, true)?;
        remote.spec.destination.server = Some("https://prod.example.com:6443".into());
        let cases = [
            (remote, "spec.destination.server"),
            (application_every(&ns, &url, true, "0s")?, "spec.interval"),
        ];
        for (app, field) in cases {
            apps.create(&PostParams::default(), &app).await?;
            let status = status_where(&apps, field, |s| {
                ready_of(s).is_some_and(|c| c.reason == "InvalidSpec")
            })
            .await?;
            let ready = ready_of(&status).context("no Ready")?;
            ensure!(ready.message.contains(field), "{ready:?}");
            ensure!(
                configmaps.get_opt("settings").await?.is_none(),
                "applied: {field}"
            );
            apps.delete("app", &Default::default()).await?;
            eventually("the app gone", SETTLE, || async {
                apps.get_opt("app")
                    .await
                    .ok()
                    .and_then(|a| a.is_none().then_some(()))
            })
            .await?;
        }
        // A Flux-style interval is a valid one.
        apps.create(
            &PostParams::default(),
            &application_every(&ns, &url, true, "1m30s")?,
        )
        .await?;
        status_where(&apps, "synced with 1m30s", synced).await?;
        Ok(())
    })
    .await?
}

/// Regression: a comparison that failed wrote no status at all, and a request it met was never
/// answered.
#[tokio::test]
async fn a_failed_comparison_is_reported_and_answers_a_request() -> anyhow::Result<()> {
    controller()?;
    with_namespace("ctl-compare-fails", |client, ns| async move {
        let repo = tempfile::tempdir()?;
        repository(repo.path(), "fast")?;
        // A sync wave that is not a number cannot be planned.
        std::fs::write(
            repo.path().join("deploy/settings.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  annotations: {driftless.dev/sync-wave: soon}\ndata: {mode: fast}\n",
        )?;
        git(repo.path(), &["commit", "-qam", "bad wave"])?;
        let url = format!("file://{}", repo.path().display());
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        apps.create(&PostParams::default(), &application(&ns, &url, false)?)
            .await?;
        let status = status_where(&apps, "CompareFailed", |s| {
            ready_of(s).is_some_and(|c| c.reason == "CompareFailed")
        })
        .await?;
        ensure!(
            status.sync.as_ref().map(|s| s.status) == Some(SyncStatusCode::Unknown),
            "{status:?}"
        );
        let request = driftless_api::SyncRequest {
            id: "compare-1".into(),
            ..Default::default()
        };
        request_sync(&apps, &request).await?;
        let status = status_where(&apps, "the request answered", |s| {
            s.operation_state
                .as_ref()
                .is_some_and(|op| op.request_id.as_deref() == Some("compare-1"))
        })
        .await?;
        let op = status.operation_state.context("no operation")?;
        ensure!(op.phase == driftless_api::OperationPhase::Failed, "{op:?}");
        ensure!(op.message.contains("sync-wave") || op.message.contains("soon"), "{op:?}");
        Ok(())
    })
    .await?
}

/// Regression: deleting an Application without the finalizer leaked its metric series and what
/// the controller remembered of it.
#[tokio::test]
async fn a_deleted_application_leaves_no_series_and_no_memory() -> anyhow::Result<()> {
    controller()?;
    with_namespace("ctl-forget", |client, ns| async move {
        let repo = tempfile::tempdir()?;
        let url = repository(repo.path(), "fast")?;
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        apps.create(&PostParams::default(), &application(&ns, &url, true)?)
            .await?;
        status_where(&apps, "synced", synced).await?;
        let series = format!("namespace=\"{ns}\"");
        ensure!(metrics_text()?.contains(&series), "no series for {ns}");
        let me = kube::runtime::reflector::ObjectRef::<Application>::new("app").within(&ns);
        let context = CONTEXT.get().context("no context")?;
        ensure!(context.remembers(&me), "nothing remembered of a live app");
        apps.delete("app", &Default::default()).await?;
        eventually("the series and memory gone", SETTLE, || async {
            let text = metrics_text().ok()?;
            (!text.contains(&series) && !context.remembers(&me)).then_some(())
        })
        .await?;
        Ok(())
    })
    .await?
}

/// Regression: a sync waited between waves inside a worker for up to minutes. Now the wait is
/// a requeue: the operation stays Running with where it goes on, and goes on once wave 0 is
/// healthy.
#[tokio::test]
async fn a_sync_waiting_for_a_wave_is_kept_in_the_status_and_goes_on_when_it_is_healthy()
-> anyhow::Result<()> {
    controller()?;
    with_namespace("ctl-wave-wait", |client, ns| async move {
        let repo = tempfile::tempdir()?;
        repository(repo.path(), "fast")?;
        // Wave 0 cannot become available until a node carries this label.
        let label = format!("driftless.dev/wave-test-{ns}");
        std::fs::write(
            repo.path().join("deploy/web.yaml"),
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec:\n  replicas: 1\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n      nodeSelector: {{{label}: 'yes'}}\n      containers: [{{name: web, image: web:1}}]\n"
            ),
        )?;
        std::fs::write(
            repo.path().join("deploy/settings.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  annotations: {driftless.dev/sync-wave: '1'}\ndata: {mode: fast}\n",
        )?;
        git(repo.path(), &["add", "-A"])?;
        git(repo.path(), &["commit", "-qm", "two waves"])?;
        let url = format!("file://{}", repo.path().display());
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        apps.create(&PostParams::default(), &application_every(&ns, &url, false, "1h")?)
            .await?;
        request_sync(&apps, &driftless_api::SyncRequest { id: "waves-1".into(), ..Default::default() })
            .await?;
        let waiting = status_where(&apps, "the sync waiting for wave 0", |s| {
            s.operation_state.as_ref().is_some_and(|op| {
                op.phase == driftless_api::OperationPhase::Running
                    && op.progress.as_ref().is_some_and(|p| p.waiting_on.contains("wave 0"))
            })
        })
        .await?;
        let op = waiting.operation_state.clone().context("no operation")?;
        ensure!(op.request_id.as_deref() == Some("waves-1"), "{op:?}");
        let ready = ready_of(&waiting).context("no Ready")?;
        ensure!(ready.reason == "Syncing", "{ready:?}");
        let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        ensure!(configmaps.get_opt("settings").await?.is_none(), "wave 1 applied early");

        let nodes: Api<k8s_openapi::api::core::v1::Node> = Api::all(client.clone());
        let patch = serde_json::json!({"metadata": {"labels": {label.clone(): "yes"}}});
        nodes
            .patch(driftless_testenv::FAKE_NODE, &PatchParams::default(), &Patch::Merge(patch))
            .await?;
        let done = status_where(&apps, "the sync finished", |s| {
            s.operation_state.as_ref().is_some_and(|op| {
                op.request_id.as_deref() == Some("waves-1")
                    && op.phase == driftless_api::OperationPhase::Succeeded
            })
        })
        .await;
        let unlabel = serde_json::json!({"metadata": {"labels": {label: null}}});
        nodes
            .patch(driftless_testenv::FAKE_NODE, &PatchParams::default(), &Patch::Merge(unlabel))
            .await?;
        let op = done?.operation_state.context("no operation")?;
        ensure!(configmaps.get_opt("settings").await?.is_some(), "wave 1 not applied");
        let reported: Vec<&str> = op.results.iter().map(|r| r.name.as_str()).collect();
        ensure!(
            reported.iter().filter(|n| **n == "web").count() == 1
                && reported.iter().filter(|n| **n == "settings").count() == 1,
            "each object reported once: {reported:?}"
        );
        ensure!(op.progress.is_none(), "{op:?}");
        Ok(())
    })
    .await?
}

/// Creates the controller's namespace (where AppProjects live) unless it exists.
async fn controller_namespace(client: &Client) -> anyhow::Result<()> {
    let namespace: Namespace = serde_json::from_value(serde_json::json!({
        "metadata": {"name": driftless_controller::DEFAULT_NAMESPACE}}))?;
    match Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &namespace)
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Writes `files` (path, content) into the repository and commits them; returns the commit.
fn commit_files(dir: &Path, files: &[(&str, String)], message: &str) -> anyhow::Result<String> {
    for (path, content) in files {
        std::fs::write(dir.join(path), content)?;
    }
    git(dir, &["add", "-A"])?;
    git(dir, &["commit", "-qm", message])?;
    Ok(git(dir, &["rev-parse", "HEAD"])?)
}

fn result_of<'a>(
    op: &'a driftless_api::OperationState,
    kind: &str,
    name: &str,
) -> Option<&'a driftless_api::ResourceResult> {
    op.results.iter().find(|r| r.kind == kind && r.name == name)
}

#[tokio::test]
async fn a_project_bounds_what_its_applications_deploy_and_prune_and_changes_take_effect_at_once()
-> anyhow::Result<()> {
    controller()?;
    with_namespace("ctl-project", |client, ns| async move {
        controller_namespace(&client).await?;
        let home = driftless_controller::DEFAULT_NAMESPACE;
        let other = format!("{ns}-b");
        let namespaces: Api<Namespace> = Api::all(client.clone());
        let b: Namespace = serde_json::from_value(serde_json::json!({"metadata": {"name": other}}))?;
        namespaces.create(&PostParams::default(), &b).await?;
        let role_name = format!("{ns}-reader");

        // Team A's repository declares its own ConfigMap, one in team B's namespace, and a
        // ClusterRole.
        let repo = tempfile::tempdir()?;
        let url = repository(repo.path(), "fast")?;
        let intruder = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: intruder, namespace: {other}}}\ndata: {{a: b}}\n"
        );
        let role = format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: {role_name}}}\nrules: []\n"
        );
        commit_files(
            repo.path(),
            &[("deploy/intruder.yaml", intruder), ("deploy/role.yaml", role.clone())],
            "reach out",
        )?;
        let project = format!("team-a-{ns}");
        let projects: Api<AppProject> = Api::namespaced(client.clone(), home);
        let team_a = |extra: serde_json::Value| -> anyhow::Result<AppProject> {
            let mut spec = serde_json::json!({
                "sourceRepos": [url.clone()],
                "destinations": [{"server": "https://kubernetes.default.svc", "namespace": ns.clone()}],
                "sourceNamespaces": [ns.clone()],
            });
            if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
                spec.extend(extra.clone());
            }
            Ok(serde_json::from_value(serde_json::json!({
                "apiVersion": "driftless.dev/v1alpha1", "kind": "AppProject",
                "metadata": {"name": project.clone(), "namespace": home}, "spec": spec,
            }))?)
        };
        projects
            .create(&PostParams::default(), &team_a(serde_json::json!({}))?)
            .await?;
        let mut app = application(&ns, &url, true)?;
        app.spec.project = Some(project.clone());
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        apps.create(&PostParams::default(), &app).await?;

        // Refused with the rules named; nothing applied, not even the permitted ConfigMap.
        let status = status_where(&apps, "the sync to fail on denied objects", |s| {
            s.operation_state
                .as_ref()
                .is_some_and(|op| op.phase == driftless_api::OperationPhase::Failed)
        })
        .await?;
        let op = status.operation_state.context("no operation")?;
        let denied = result_of(&op, "ConfigMap", "intruder").context("no intruder result")?;
        ensure!(denied.result == "denied" && denied.message.contains(&other), "{denied:?}");
        let denied = result_of(&op, "ClusterRole", &role_name).context("no role result")?;
        ensure!(
            denied.result == "denied" && denied.message.contains("clusterResourceWhitelist"),
            "{denied:?}"
        );
        let own = result_of(&op, "ConfigMap", "settings").context("no settings result")?;
        ensure!(own.result == "skipped", "{own:?}");
        let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        let theirs: Api<ConfigMap> = Api::namespaced(client.clone(), &other);
        let roles: Api<k8s_openapi::api::rbac::v1::ClusterRole> = Api::all(client.clone());
        ensure!(configmaps.get_opt("settings").await?.is_none(), "applied");
        ensure!(theirs.get_opt("intruder").await?.is_none(), "applied in team B's namespace");
        ensure!(roles.get_opt(&role_name).await?.is_none(), "ClusterRole applied");

        // The project widened: the same commit syncs at once (self-heal, no new commit).
        let widened = serde_json::json!({
            "destinations": [
                {"server": "https://kubernetes.default.svc", "namespace": ns.clone()},
                {"server": "https://kubernetes.default.svc", "namespace": other.clone()},
            ],
            "clusterResourceWhitelist": [{"group": "rbac.authorization.k8s.io", "kind": "ClusterRole"}],
        });
        let mut current = projects.get(&project).await?;
        current.spec = team_a(widened)?.spec;
        projects.replace(&project, &PostParams::default(), &current).await?;
        status_where(&apps, "Synced once the project permits everything", synced).await?;
        ensure!(theirs.get_opt("intruder").await?.is_some());
        ensure!(roles.get_opt(&role_name).await?.is_some());

        // Narrowed again, and Git drops the intruder: it is not pruned, for the project would
        // not let the application create it.
        let mut current = projects.get(&project).await?;
        current.spec = team_a(serde_json::json!({
            "clusterResourceWhitelist": [{"group": "rbac.authorization.k8s.io", "kind": "ClusterRole"}],
        }))?
        .spec;
        projects.replace(&project, &PostParams::default(), &current).await?;
        std::fs::remove_file(repo.path().join("deploy/intruder.yaml"))?;
        let dropped = commit_files(repo.path(), &[], "drop the intruder")?;
        // Everything the project permits is as Git says: Synced, the intruder left alone.
        status_where(&apps, "the commit without the intruder compared", |s| {
            synced(s) && s.sync.as_ref().and_then(|x| x.revision.as_deref()) == Some(&dropped)
        })
        .await?;
        ensure!(theirs.get_opt("intruder").await?.is_some(), "pruned against the project");
        // A pruning sync asked for by hand keeps it too, saying why.
        let request = driftless_api::SyncRequest {
            id: "prune-1".into(),
            prune: true,
            ..Default::default()
        };
        request_sync(&apps, &request).await?;
        let status = status_where(&apps, "the pruning sync", |s| {
            s.operation_state
                .as_ref()
                .is_some_and(|op| op.request_id.as_deref() == Some("prune-1") && op.finished_at.is_some())
        })
        .await?;
        let op = status.operation_state.context("no operation")?;
        ensure!(op.phase == driftless_api::OperationPhase::Succeeded, "{op:?}");
        let kept = result_of(&op, "ConfigMap", "intruder").context("no intruder result")?;
        ensure!(kept.result == "kept" && kept.message.contains(&other), "{kept:?}");
        ensure!(theirs.get_opt("intruder").await?.is_some(), "pruned against the project");

        // A repository the project does not list, and a project that does not exist: the
        // spec is invalid, naming the field.
        for (name, project_name, repo_url, field) in [
            ("elsewhere", project.as_str(), "https://git.example/other.git", "spec.source.repoURL"),
            ("lost", "no-such-project", url.as_str(), "spec.project"),
        ] {
            let mut app = application(&ns, repo_url, true)?;
            app.metadata.name = Some(name.to_owned());
            app.spec.project = Some(project_name.to_owned());
            apps.create(&PostParams::default(), &app).await?;
            let status = eventually(&format!("{name}: InvalidSpec"), SETTLE, || async {
                let status = apps.get(name).await.ok()?.status?;
                let ready = ready_of(&status)?;
                (ready.reason == "InvalidSpec").then(|| ready.message.clone())
            })
            .await?;
            ensure!(status.contains(field), "{name}: {status}");
        }

        roles.delete(&role_name, &Default::default()).await?;
        projects.delete(&project, &Default::default()).await?;
        namespaces.delete(&other, &Default::default()).await?;
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn a_deny_window_holds_automated_syncs_until_it_ends_and_manual_syncs_follow_manual_sync()
-> anyhow::Result<()> {
    controller()?;
    with_namespace("ctl-window", |client, ns| async move {
        controller_namespace(&client).await?;
        let home = driftless_controller::DEFAULT_NAMESPACE;
        let repo = tempfile::tempdir()?;
        let url = repository(repo.path(), "fast")?;
        // A deny window that opened this minute and stays open for two: 60 to 120 s left.
        let now = k8s_openapi::jiff::Timestamp::now().to_zoned(k8s_openapi::jiff::tz::TimeZone::UTC);
        let schedule = format!("{} {} * * *", now.minute(), now.hour());
        let project = format!("windowed-{ns}");
        let spec = |manual: bool| {
            serde_json::json!({
                "sourceRepos": [url.clone()],
                "destinations": [{"server": "https://kubernetes.default.svc", "namespace": ns.clone()}],
                "sourceNamespaces": [ns.clone()],
                "syncWindows": [{"kind": "deny", "schedule": schedule.clone(), "duration": "2m",
                    "namespaces": [ns.clone()], "manualSync": manual}],
            })
        };
        let projects: Api<AppProject> = Api::namespaced(client.clone(), home);
        let created: AppProject = serde_json::from_value(serde_json::json!({
            "apiVersion": "driftless.dev/v1alpha1", "kind": "AppProject",
            "metadata": {"name": project.clone(), "namespace": home}, "spec": spec(false),
        }))?;
        projects.create(&PostParams::default(), &created).await?;
        let mut app = application(&ns, &url, true)?;
        app.spec.project = Some(project.clone());
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        apps.create(&PostParams::default(), &app).await?;

        // The automated sync waits, naming the window and when it ends.
        let blocked = |s: &driftless_api::ApplicationStatus| {
            s.conditions
                .iter()
                .any(|c| c.type_ == "SyncAllowed" && c.reason == "SyncWindowBlocked")
        };
        let status = status_where(&apps, "the window to hold the sync back", blocked).await?;
        let condition = status
            .conditions
            .iter()
            .find(|c| c.type_ == "SyncAllowed")
            .context("no SyncAllowed")?;
        ensure!(condition.message.contains("deny window 0") && condition.message.contains(" until "), "{condition:?}");
        let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        ensure!(configmaps.get_opt("settings").await?.is_none(), "synced inside a deny window");

        // A manual sync is refused while manualSync is false...
        let request = driftless_api::SyncRequest { id: "in-window-1".into(), ..Default::default() };
        request_sync(&apps, &request).await?;
        let status = status_where(&apps, "the refused request", |s| {
            s.operation_state.as_ref().is_some_and(|op| op.request_id.as_deref() == Some("in-window-1"))
        })
        .await?;
        let op = status.operation_state.context("no operation")?;
        ensure!(op.phase == driftless_api::OperationPhase::Failed && op.message.contains("sync window"), "{op:?}");
        ensure!(configmaps.get_opt("settings").await?.is_none(), "applied by a refused request");

        // ...and runs once it is true.
        let mut current = projects.get(&project).await?;
        current.spec = serde_json::from_value(spec(true))?;
        projects.replace(&project, &PostParams::default(), &current).await?;
        let request = driftless_api::SyncRequest { id: "in-window-2".into(), ..Default::default() };
        request_sync(&apps, &request).await?;
        let status = status_where(&apps, "the manual sync in the window", |s| {
            s.operation_state.as_ref().is_some_and(|op| {
                op.request_id.as_deref() == Some("in-window-2") && op.finished_at.is_some()
            })
        })
        .await?;
        let op = status.operation_state.context("no operation")?;
        ensure!(op.phase == driftless_api::OperationPhase::Succeeded, "{op:?}");
        ensure!(mode_of(configmaps.get("settings").await?).as_deref() == Some("fast"));

        // A new commit waits for the window to end, then syncs by itself.
        let second = commit_mode(repo.path(), "slow")?;
        status_where(&apps, "the new commit compared and held back", |s| {
            s.sync.as_ref().and_then(|x| x.revision.as_deref()) == Some(second.as_str()) && blocked(s)
        })
        .await?;
        ensure!(mode_of(configmaps.get("settings").await?).as_deref() == Some("fast"), "synced inside the window");
        let status = eventually("the sync once the window ends", Duration::from_secs(180), || async {
            let status = apps.get("app").await.ok()?.status?;
            status.history.last().is_some_and(|h| h.revision == second).then_some(status)
        })
        .await?;
        ensure!(!blocked(&status), "{:?}", status.conditions);
        ensure!(mode_of(configmaps.get("settings").await?).as_deref() == Some("slow"));
        projects.delete(&project, &Default::default()).await?;
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn an_application_writes_as_its_service_account_and_rbac_bounds_it() -> anyhow::Result<()> {
    controller()?;
    with_namespace("ctl-impersonate", |client, ns| async move {
        use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
        let account: k8s_openapi::api::core::v1::ServiceAccount =
            serde_json::from_value(serde_json::json!({"metadata": {"name": "deployer"}}))?;
        Api::namespaced(client.clone(), &ns)
            .create(&PostParams::default(), &account)
            .await?;
        let all = ["get", "list", "watch", "create", "patch", "update", "delete"];
        let role = |secrets: &[&str]| -> anyhow::Result<Role> {
            Ok(serde_json::from_value(serde_json::json!({
                "metadata": {"name": "deployer"},
                "rules": [
                    {"apiGroups": [""], "resources": ["configmaps"], "verbs": all},
                    {"apiGroups": [""], "resources": ["secrets"], "verbs": secrets},
                ],
            }))?)
        };
        let roles: Api<Role> = Api::namespaced(client.clone(), &ns);
        roles.create(&PostParams::default(), &role(&["get", "list", "watch"])?).await?;
        let binding: RoleBinding = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "deployer"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "deployer"},
            "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": ns.clone()}],
        }))?;
        Api::<RoleBinding>::namespaced(client.clone(), &ns)
            .create(&PostParams::default(), &binding)
            .await?;

        let repo = tempfile::tempdir()?;
        let url = repository(repo.path(), "fast")?;
        commit_files(
            repo.path(),
            &[(
                "deploy/token.yaml",
                "apiVersion: v1\nkind: Secret\nmetadata: {name: token}\nstringData: {t: x}\n".to_owned(),
            )],
            "a secret",
        )?;
        let mut app = application(&ns, &url, true)?;
        app.spec.service_account_name = Some("deployer".to_owned());
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        apps.create(&PostParams::default(), &app).await?;

        // The Role lacks create on Secrets: the sync fails with the API server's word, and
        // the wave applies nothing.
        let status = match status_where(&apps, "the sync to fail on RBAC", |s| {
            s.operation_state
                .as_ref()
                .is_some_and(|op| op.phase == driftless_api::OperationPhase::Failed)
        })
        .await
        {
            Ok(status) => status,
            Err(e) => anyhow::bail!("{e}: {:?}", apps.get("app").await?.status),
        };
        let op = status.operation_state.context("no operation")?;
        let secret = result_of(&op, "Secret", "token").context("no secret result")?;
        let said = format!("{} {}", op.message, secret.message);
        ensure!(
            said.contains("forbidden") && said.contains(&format!("system:serviceaccount:{ns}:deployer")),
            "{op:?}"
        );
        let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        ensure!(configmaps.get_opt("settings").await?.is_none(), "applied with a failed wave");

        // Granted, the same commit syncs (self-heal) as the ServiceAccount.
        let mut current = roles.get("deployer").await?;
        current.rules = role(&all)?.rules;
        roles.replace("deployer", &PostParams::default(), &current).await?;
        status_where(&apps, "Synced once the Role allows Secrets", synced).await?;
        let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(client.clone(), &ns);
        ensure!(secrets.get_opt("token").await?.is_some());

        // A ServiceAccount that does not exist: the field is named, nothing is applied.
        let mut ghost = application(&ns, &url, true)?;
        ghost.metadata.name = Some("ghost".to_owned());
        ghost.spec.destination.namespace = Some(ns.clone());
        ghost.spec.service_account_name = Some("ghost".to_owned());
        apps.create(&PostParams::default(), &ghost).await?;
        let message = eventually("ghost: the missing ServiceAccount named", SETTLE, || async {
            let status = apps.get("ghost").await.ok()?.status?;
            let ready = ready_of(&status)?;
            ready.message.contains("ServiceAccount").then(|| ready.message.clone())
        })
        .await?;
        ensure!(
            message.contains("spec.serviceAccountName") && message.contains("ghost"),
            "{message}"
        );
        Ok(())
    })
    .await?
}

/// Loopback Git servers (`git http-backend` over HTTPS with basic auth, `sshd`), shared with the
/// source crate's tests.
#[path = "../../driftless-source/tests/support/mod.rs"]
mod git_servers;

/// Creates `object` in the controller's namespace, replacing one of the same name.
async fn put<K>(api: &Api<K>, object: &K) -> anyhow::Result<()>
where
    K: kube::Resource
        + Clone
        + k8s_openapi::serde::de::DeserializeOwned
        + k8s_openapi::serde::Serialize
        + std::fmt::Debug,
{
    let name = object.meta().name.clone().unwrap_or_default();
    let _ = api.delete(&name, &Default::default()).await;
    eventually(&format!("{name} to be gone"), SETTLE, || async {
        matches!(api.get_opt(&name).await, Ok(None)).then_some(())
    })
    .await?;
    api.create(&PostParams::default(), object).await?;
    Ok(())
}

#[tokio::test]
async fn repository_credentials_in_secrets_fetch_over_https_and_ssh_for_their_project_only()
-> anyhow::Result<()> {
    use k8s_openapi::api::core::v1::Secret;
    let boxed = |e: Box<dyn std::error::Error>| anyhow::anyhow!("{e}");
    controller()?;
    with_namespace("ctl-creds", |client, ns| async move {
        controller_namespace(&client).await?;
        let home = driftless_controller::DEFAULT_NAMESPACE;
        const PASSWORD: &str = "s3cret-pw-7f2a";
        let upstream = git_servers::Upstream::new().map_err(boxed)?;
        for (path, name) in [("https", "over-https"), ("ssh", "over-ssh"), ("other", "stolen")] {
            upstream
                .write(
                    &format!("deploy/{path}/cm.yaml"),
                    &format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{a: b}}\n"),
                )
                .map_err(boxed)?;
        }
        upstream.commit("three paths").map_err(boxed)?;
        let certs = tempfile::tempdir()?;
        let (ca, cert, key) = git_servers::certificates(certs.path()).map_err(boxed)?;
        let auth = format!("alice:{PASSWORD}");
        let https = git_servers::git_http(
            &upstream,
            git_servers::HttpOptions {
                auth: Some(&auth),
                tls: Some((&cert, &key)),
                ..Default::default()
            },
        )
        .map_err(boxed)?;
        let keys = tempfile::tempdir()?;
        let (ssh, client_key, known_hosts) =
            git_servers::sshd(&upstream, keys.path()).map_err(boxed)?;
        let private_key = std::fs::read_to_string(&client_key)?;
        // Every repository of this server: `ssh://user@host:port/`.
        let authority = ssh
            .url
            .strip_prefix("ssh://")
            .and_then(|rest| rest.split_once('/'))
            .map(|(authority, _)| authority.to_owned())
            .context("the sshd URL")?;
        let ssh_prefix = format!("ssh://{authority}/");

        // Two projects; team A's credentials: one repository over HTTPS, an SSH prefix.
        let team = |name: &str| format!("{name}-{ns}");
        let projects: Api<AppProject> = Api::namespaced(client.clone(), home);
        for name in ["team-a", "team-b"] {
            projects
                .create(
                    &PostParams::default(),
                    &serde_json::from_value(serde_json::json!({
                        "apiVersion": "driftless.dev/v1alpha1", "kind": "AppProject",
                        "metadata": {"name": team(name), "namespace": home},
                        "spec": {
                            "sourceRepos": ["*"],
                            "destinations": [{"server": "https://kubernetes.default.svc", "namespace": ns.clone()}],
                            "sourceNamespaces": [ns.clone()],
                        },
                    }))?,
                )
                .await?;
        }
        let secrets: Api<Secret> = Api::namespaced(client.clone(), home);
        let secret = |name: &str, kind: &str, data: serde_json::Value| -> anyhow::Result<Secret> {
            Ok(serde_json::from_value(serde_json::json!({
                "metadata": {"name": name, "namespace": home,
                    "labels": {driftless_controller::SECRET_TYPE_LABEL: kind}},
                "stringData": data,
            }))?)
        };
        let https_secret = format!("{ns}-https");
        let ssh_secret = format!("{ns}-ssh");
        secrets
            .create(
                &PostParams::default(),
                &secret(
                    &https_secret,
                    driftless_controller::REPOSITORY,
                    serde_json::json!({"url": https.url, "username": "alice",
                        "password": PASSWORD, "project": team("team-a")}),
                )?,
            )
            .await?;
        secrets
            .create(
                &PostParams::default(),
                &secret(
                    &ssh_secret,
                    driftless_controller::REPO_CREDS,
                    serde_json::json!({"url": ssh_prefix, "sshPrivateKey": private_key,
                        "project": team("team-a")}),
                )?,
            )
            .await?;
        let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), home);
        let config_map = |name: &str, key: &str, value: String| -> anyhow::Result<ConfigMap> {
            Ok(serde_json::from_value(serde_json::json!({
                "metadata": {"name": name, "namespace": home}, "data": {key: value},
            }))?)
        };
        put(
            &config_maps,
            &config_map(
                driftless_controller::TLS_CONFIG_MAP,
                "127.0.0.1",
                std::fs::read_to_string(&ca)?,
            )?,
        )
        .await?;
        put(
            &config_maps,
            &config_map(
                driftless_controller::KNOWN_HOSTS_CONFIG_MAP,
                driftless_controller::KNOWN_HOSTS_KEY,
                std::fs::read_to_string(&known_hosts)?,
            )?,
        )
        .await?;

        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        let create = |name: &str, url: &str, path: &str, project: &str| -> anyhow::Result<Application> {
            let mut app = application(&ns, url, true)?;
            app.metadata.name = Some(name.to_owned());
            app.spec.project = Some(team(project));
            app.spec.source.path = Some(format!("deploy/{path}"));
            Ok(app)
        };
        for app in [
            create("over-https", &https.url, "https", "team-a")?,
            create("over-ssh", &ssh.url, "ssh", "team-a")?,
            create("stolen", &https.url, "other", "team-b")?,
        ] {
            apps.create(&PostParams::default(), &app).await?;
        }
        let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        for name in ["over-https", "over-ssh"] {
            eventually(&format!("{name}: Synced"), SETTLE, || async {
                let status = apps.get(name).await.ok()?.status?;
                synced(&status).then_some(())
            })
            .await?;
            ensure!(configmaps.get_opt(name).await?.is_some(), "{name}: not applied");
        }

        // Team B's Application of the same repository gets none of team A's credentials: the
        // server refuses it, and the message names the Secret and its project, never the
        // password.
        let refused = eventually("stolen: FetchFailed", SETTLE, || async {
            let status = apps.get("stolen").await.ok()?.status?;
            status
                .conditions
                .iter()
                .find(|c| c.reason == "FetchFailed")
                .map(|c| c.message.clone())
        })
        .await?;
        let named = format!("{https_secret} (project {})", team("team-a"));
        ensure!(refused.contains(&named), "{refused}");
        ensure!(refused.contains(&format!("not for project {}", team("team-b"))), "{refused}");
        ensure!(configmaps.get_opt("stolen").await?.is_none(), "applied without credentials");
        for name in ["over-https", "over-ssh", "stolen"] {
            let status = serde_json::to_string(&apps.get(name).await?.status)?;
            ensure!(!status.contains(PASSWORD), "{name}: the password in the status");
            ensure!(!status.contains("PRIVATE KEY"), "{name}: the key in the status");
        }
        let events: Api<Event> = Api::namespaced(client.clone(), &ns);
        for event in events.list(&Default::default()).await?.items {
            let text = serde_json::to_string(&event)?;
            ensure!(!text.contains(PASSWORD), "the password in an Event: {text}");
        }

        for app in ["over-https", "over-ssh", "stolen"] {
            apps.delete(app, &Default::default()).await?;
        }
        for name in [&https_secret, &ssh_secret] {
            secrets.delete(name, &Default::default()).await?;
        }
        for name in [driftless_controller::TLS_CONFIG_MAP, driftless_controller::KNOWN_HOSTS_CONFIG_MAP] {
            config_maps.delete(name, &Default::default()).await?;
        }
        for name in ["team-a", "team-b"] {
            projects.delete(&team(name), &Default::default()).await?;
        }
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn a_project_that_warns_names_the_objects_of_the_namespace_no_application_owns()
-> anyhow::Result<()> {
    controller()?;
    with_namespace("ctl-orphans", |client, ns| async move {
        controller_namespace(&client).await?;
        let home = driftless_controller::DEFAULT_NAMESPACE;
        let repo = tempfile::tempdir()?;
        let url = repository(repo.path(), "fast")?;
        let project = format!("orphans-{ns}");
        let projects: Api<AppProject> = Api::namespaced(client.clone(), home);
        projects
            .create(
                &PostParams::default(),
                &serde_json::from_value(serde_json::json!({
                    "apiVersion": "driftless.dev/v1alpha1", "kind": "AppProject",
                    "metadata": {"name": project, "namespace": home},
                    "spec": {
                        "sourceRepos": ["*"],
                        "destinations": [{"server": "https://kubernetes.default.svc", "namespace": ns.clone()}],
                        "sourceNamespaces": [ns.clone()],
                        "orphanedResources": {"warn": true, "ignore": [{"kind": "Secret", "name": "kept-*"}]},
                    },
                }))?,
            )
            .await?;
        // Objects nobody declares: one orphan, one the project ignores.
        let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        let stray: ConfigMap = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "stray"}, "data": {"a": "b"}}))?;
        configmaps.create(&PostParams::default(), &stray).await?;
        let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(client.clone(), &ns);
        secrets
            .create(
                &PostParams::default(),
                &serde_json::from_value(serde_json::json!({"metadata": {"name": "kept-token"}}))?,
            )
            .await?;
        let mut app = application(&ns, &url, true)?;
        app.spec.project = Some(project.clone());
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        apps.create(&PostParams::default(), &app).await?;

        let orphans = |s: &driftless_api::ApplicationStatus| {
            s.conditions
                .iter()
                .find(|c| c.type_ == "NoOrphanedResources")
                .map(|c| c.message.clone())
        };
        let status = status_where(&apps, "Synced with the orphan named", |s| {
            synced(s) && orphans(s).is_some()
        })
        .await?;
        let message = orphans(&status).unwrap_or_default();
        ensure!(
            message.starts_with(&format!("1 object in namespace {ns} belongs to no Application")),
            "{message}"
        );
        ensure!(message.ends_with(": ConfigMap/stray"), "{message}");
        // The Application's own ConfigMap, the ignored Secret and the namespace's defaults are
        // not orphans; the warning does not make the Application unready.
        for own in ["settings", "kept-token", "kube-root-ca.crt", "ServiceAccount/default"] {
            ensure!(!message.contains(own), "{own} named: {message}");
        }
        ensure!(
            ready_of(&status).is_some_and(|c| c.reason == "Reconciled"),
            "{:?}",
            ready_of(&status)
        );

        // The orphan goes away, and so does the warning.
        configmaps.delete("stray", &Default::default()).await?;
        status_where(&apps, "the warning cleared", |s| synced(s) && orphans(s).is_none()).await?;
        projects.delete(&project, &Default::default()).await?;
        Ok(())
    })
    .await?
}
