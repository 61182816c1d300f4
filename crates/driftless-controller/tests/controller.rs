//! The controller against the real test control plane and real Git repositories (file://):
//! one controller per test binary, one namespace and Application per test.

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{Context as _, ensure};
use driftless_api::{Application, SyncStatusCode};
use driftless_controller::{Context, run};
use driftless_testenv::{eventually, with_namespace};
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Client;
use kube::api::{Api, PostParams};

/// Generous bound for the controller to act on a busy machine; not a performance figure.
const SETTLE: Duration = Duration::from_secs(90);

/// Installs the CRD and starts one controller, on a thread of its own, for the whole binary.
fn controller() -> anyhow::Result<()> {
    static STARTED: OnceLock<Result<(), String>> = OnceLock::new();
    STARTED
        .get_or_init(|| {
            let (ready_tx, ready_rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let started = async {
                        let client = driftless_testenv::shared()?.client().await?;
                        install_crd(&client).await?;
                        let cache = tempfile::tempdir()?.keep();
                        anyhow::Ok(Arc::new(Context::new(client, cache).await?))
                    }
                    .await;
                    match started {
                        Ok(context) => {
                            let _ = ready_tx.send(Ok(()));
                            run(context, std::future::pending()).await;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(format!("{e:#}")));
                        }
                    }
                });
            });
            ready_rx
                .recv()
                .unwrap_or_else(|_| Err("controller thread died".to_owned()))
        })
        .clone()
        .map_err(anyhow::Error::msg)
}

async fn install_crd(client: &Client) -> anyhow::Result<()> {
    let yaml = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/crd.yaml"
    ))?;
    let crd: CustomResourceDefinition = serde_saphyr::from_str(&yaml)?;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    match crds.create(&PostParams::default(), &crd).await {
        Ok(_) => {}
        Err(kube::Error::Api(status)) if status.code == 409 => {}
        Err(e) => return Err(e.into()),
    }
    eventually("the Application CRD to be Established", SETTLE, || async {
        let crd = crds.get("applications.driftless.dev").await.ok()?;
        crd.status?
            .conditions?
            .iter()
            .any(|c| c.type_ == "Established" && c.status == "True")
            .then_some(())
    })
    .await?;
    Ok(())
}

fn git(dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new("git").args(args).current_dir(dir).output()?;
    ensure!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?.trim().to_owned())
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
    git(dir, &["rev-parse", "HEAD"])
}

fn application(ns: &str, url: &str, automated: bool) -> anyhow::Result<Application> {
    let mut spec = serde_json::json!({
        "source": {"repoURL": url, "targetRevision": "main", "path": "deploy"},
        "destination": {"namespace": ns},
        "interval": "1s",
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
