//! Only what a push changed is rendered again (#22 item 1), against the real test control plane
//! and real Git repositories (file://). The tests of this binary run one at a time: they count
//! the renders of the one controller they share.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use anyhow::{Context as _, ensure};
use driftless_api::Application;
use driftless_controller::Context;
use driftless_testenv::{eventually, with_namespace};
use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};

/// Generous bound for the controller to act on a busy machine; not a performance figure.
const SETTLE: Duration = Duration::from_secs(90);

static CONTEXT: OnceLock<Arc<Context>> = OnceLock::new();
static REGISTRY: OnceLock<prometheus_client::registry::Registry> = OnceLock::new();
/// One test at a time: the render counters are the controller's, shared by every test here.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn controller() -> anyhow::Result<Arc<Context>> {
    support::controller(|client| async move {
        let cache = tempfile::tempdir()?.keep();
        let mut registry = prometheus_client::registry::Registry::default();
        let metrics = driftless_controller::Metrics::new(&mut registry);
        let _ = REGISTRY.set(registry);
        let context = Arc::new(Context::new(client, cache, None, metrics).await?);
        let _ = CONTEXT.set(context.clone());
        Ok(context)
    })?;
    CONTEXT.get().cloned().context("no context")
}

/// The value of the counter `name` (`driftless_render_total`, ...).
fn counter(name: &str) -> anyhow::Result<u64> {
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, REGISTRY.get().context("no registry")?)?;
    let line = text
        .lines()
        .find(|l| l.split(' ').next() == Some(name))
        .with_context(|| format!("no {name} in {text}"))?;
    Ok(line.split(' ').nth(1).context("no value")?.parse()?)
}

/// Writes `files` and commits them; returns the commit.
fn commit(dir: &Path, files: &[(&str, String)]) -> anyhow::Result<String> {
    support::commit(dir, files, &[])
}

fn config_map(name: &str, mode: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{mode: {mode}}}\n")
}

/// An automated Application of `path`, polling every hour: what happens is the webhook's doing.
fn application(ns: &str, name: &str, url: &str, path: &str) -> anyhow::Result<Application> {
    Ok(serde_json::from_value(serde_json::json!({
        "apiVersion": "driftless.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "source": {"repoURL": url, "targetRevision": "main", "path": path},
            "destination": {"namespace": ns},
            "interval": "1h",
            "syncPolicy": {"automated": {"prune": true, "selfHeal": true}},
        },
    }))?)
}

/// Waits until every Application of `names` is Synced at `revision`.
async fn synced_at(apps: &Api<Application>, names: &[&str], revision: &str) -> anyhow::Result<()> {
    for name in names {
        support::synced_at(apps, name, revision).await?;
    }
    Ok(())
}

async fn mode(config_maps: &Api<ConfigMap>, name: &str, wanted: &str) -> anyhow::Result<()> {
    eventually(&format!("{name} with mode {wanted}"), SETTLE, || async {
        let cm = config_maps.get(name).await.ok()?;
        (cm.data?.get("mode")? == wanted).then_some(())
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn an_unchanged_application_is_not_rendered_again_and_a_changed_base_outside_the_path_is()
-> anyhow::Result<()> {
    let _one = ONE_AT_A_TIME.lock().await;
    let context = controller()?;
    with_namespace("rerender-base", |client, ns| async move {
        let repo = tempfile::tempdir()?;
        let first = commit(
            repo.path(),
            &[
                (
                    "base/kustomization.yaml",
                    "resources: [cm.yaml]\n".to_owned(),
                ),
                ("base/cm.yaml", config_map("shared", "one")),
                (
                    "apps/kust/kustomization.yaml",
                    "namePrefix: kust-\nresources: [../../base]\n".to_owned(),
                ),
                ("apps/plain/cm.yaml", config_map("plain", "one")),
            ],
        )?;
        let url = format!("file://{}", repo.path().display());
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        for (name, path) in [("kust", "apps/kust"), ("plain", "apps/plain")] {
            apps.create(&PostParams::default(), &application(&ns, name, &url, path)?)
                .await?;
        }
        synced_at(&apps, &["kust", "plain"], &first).await?;
        let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        mode(&config_maps, "kust-shared", "one").await?;

        // A change to the base, outside the Kustomize application's path: it alone renders.
        let (renders, skipped) = (
            counter("driftless_render_total")?,
            counter("driftless_render_skipped_total")?,
        );
        let second = commit(
            repo.path(),
            &[("base/cm.yaml", config_map("shared", "two"))],
        )?;
        ensure!(context.refresh_repository(&url) == 2);
        mode(&config_maps, "kust-shared", "two").await?;
        synced_at(&apps, &["kust", "plain"], &second).await?;
        let rendered = counter("driftless_render_total")? - renders;
        ensure!(
            rendered == 1,
            "{rendered} renders for one changed application"
        );
        ensure!(counter("driftless_render_skipped_total")? > skipped);

        // A new file in a directory read as a whole counts: the plain application renders it.
        let renders = counter("driftless_render_total")?;
        let third = commit(
            repo.path(),
            &[("apps/plain/more.yaml", config_map("more", "three"))],
        )?;
        ensure!(context.refresh_repository(&url) == 2);
        mode(&config_maps, "more", "three").await?;
        synced_at(&apps, &["kust", "plain"], &third).await?;
        let rendered = counter("driftless_render_total")? - renders;
        ensure!(
            rendered == 1,
            "{rendered} renders for one changed application"
        );
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn the_applications_a_push_changed_record_the_new_commit_before_the_others()
-> anyhow::Result<()> {
    let _one = ONE_AT_A_TIME.lock().await;
    let context = controller()?;
    with_namespace("rerender-order", |client, ns| async move {
        let repo = tempfile::tempdir()?;
        let names: Vec<String> = (0..6).map(|i| format!("app-{i}")).collect();
        let files: Vec<(String, String)> = names
            .iter()
            .map(|name| (format!("apps/{name}/cm.yaml"), config_map(name, "one")))
            .collect();
        let files: Vec<(&str, String)> =
            files.iter().map(|(p, t)| (p.as_str(), t.clone())).collect();
        let first = commit(repo.path(), &files)?;
        let url = format!("file://{}", repo.path().display());
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        for name in &names {
            let path = format!("apps/{name}");
            apps.create(
                &PostParams::default(),
                &application(&ns, name, &url, &path)?,
            )
            .await?;
        }
        let all: Vec<&str> = names.iter().map(String::as_str).collect();
        synced_at(&apps, &all, &first).await?;

        // The order in which the Applications' statuses take the new commit, as the API server
        // serves the changes (one watch: resource version order).
        let order: Arc<Mutex<Vec<String>>> = Arc::default();
        let second = {
            let noted = order.clone();
            let watch = watcher(apps.clone(), watcher::Config::default()).applied_objects();
            let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
            let mut ready_tx = Some(ready_tx);
            let revision: Arc<Mutex<Option<String>>> = Arc::default();
            let wanted = revision.clone();
            tokio::spawn(async move {
                let mut watch = std::pin::pin!(watch);
                let mut seen = BTreeMap::new();
                while let Some(Ok(app)) = watch.next().await {
                    if let Some(tx) = ready_tx.take() {
                        let _ = tx.send(());
                    }
                    let at = app
                        .status
                        .as_ref()
                        .and_then(|s| s.sync.as_ref())
                        .and_then(|s| s.revision.clone());
                    let wanted = wanted.lock().map(|w| w.clone()).unwrap_or_default();
                    if at.is_some()
                        && at == wanted
                        && seen.insert(app.name_any(), ()).is_none()
                        && let Ok(mut order) = noted.lock()
                    {
                        order.push(app.name_any());
                    }
                }
            });
            ready_rx.await?;
            let second = commit(
                repo.path(),
                &[("apps/app-4/cm.yaml", config_map("app-4", "two"))],
            )?;
            if let Ok(mut wanted) = revision.lock() {
                *wanted = Some(second.clone());
            }
            second
        };
        ensure!(context.refresh_repository(&url) == names.len());
        let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        mode(&config_maps, "app-4", "two").await?;
        synced_at(&apps, &all, &second).await?;
        let order = eventually("every status change seen", SETTLE, || async {
            let order = order.lock().ok()?.clone();
            (order.len() == names.len()).then_some(order)
        })
        .await?;
        ensure!(
            order.first().map(String::as_str) == Some("app-4"),
            "{order:?}"
        );
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn a_poll_that_finds_a_new_commit_wakes_the_applications_it_changed() -> anyhow::Result<()> {
    let _one = ONE_AT_A_TIME.lock().await;
    controller()?;
    with_namespace("rerender-poll", |client, ns| async move {
        let repo = tempfile::tempdir()?;
        let first = commit(
            repo.path(),
            &[
                ("apps/polled/cm.yaml", config_map("polled", "one")),
                ("apps/idle/cm.yaml", config_map("idle", "one")),
            ],
        )?;
        let url = format!("file://{}", repo.path().display());
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        let mut polled = application(&ns, "polled", &url, "apps/polled")?;
        polled.spec.interval = Some("1s".to_owned());
        apps.create(&PostParams::default(), &polled).await?;
        // Polls every hour, and no webhook comes: only the other's poll can tell it.
        apps.create(
            &PostParams::default(),
            &application(&ns, "idle", &url, "apps/idle")?,
        )
        .await?;
        synced_at(&apps, &["polled", "idle"], &first).await?;

        let second = commit(
            repo.path(),
            &[("apps/idle/cm.yaml", config_map("idle", "two"))],
        )?;
        let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        mode(&config_maps, "idle", "two").await?;
        synced_at(&apps, &["polled", "idle"], &second).await?;
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn drift_of_an_application_a_push_left_unchanged_is_healed_at_once() -> anyhow::Result<()> {
    let _one = ONE_AT_A_TIME.lock().await;
    let context = controller()?;
    with_namespace("rerender-heal", |client, ns| async move {
        let repo = tempfile::tempdir()?;
        let first = commit(
            repo.path(),
            &[
                ("apps/left/cm.yaml", config_map("left", "one")),
                ("apps/changed/cm.yaml", config_map("changed", "one")),
            ],
        )?;
        let url = format!("file://{}", repo.path().display());
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        for name in ["left", "changed"] {
            apps.create(
                &PostParams::default(),
                &application(&ns, name, &url, &format!("apps/{name}"))?,
            )
            .await?;
        }
        synced_at(&apps, &["left", "changed"], &first).await?;
        let second = commit(
            repo.path(),
            &[("apps/changed/cm.yaml", config_map("changed", "two"))],
        )?;
        ensure!(context.refresh_repository(&url) == 2);
        synced_at(&apps, &["left", "changed"], &second).await?;
        // The Applications poll once an hour: only the watch of the live object can heal it. The
        // drift of `left`, whose render of the first commit stands for the second, is drift to
        // heal (taking the field back), not the second commit to deploy.
        let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        for (name, wanted) in [("left", "one"), ("changed", "two")] {
            config_maps
                .patch(
                    name,
                    &PatchParams::default(),
                    &Patch::Merge(serde_json::json!({"data": {"mode": "drifted"}})),
                )
                .await?;
            mode(&config_maps, name, wanted).await?;
        }
        Ok(())
    })
    .await?
}
