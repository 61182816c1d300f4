//! Several clusters from one controller (#18 item 1): the controller runs against the shared
//! control plane and deploys to two more, independent control planes registered as cluster
//! Secrets, one in Argo CD's shape (`east`), one holding a kubeconfig (`west`).
//!
//! Tests share the two remote control planes; the one that stops an API server holds them
//! alone ([`EXCLUSIVE`]).

mod support;

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{Context as _, ensure};
use base64::Engine;
use driftless_api::{Application, ApplicationStatus, SyncStatusCode};
use driftless_controller::Context;
use driftless_testenv::{Component, ControlPlane, eventually, git, with_namespace};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use kube::Client;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};

/// Generous bound for the controller to act on a busy machine; not a performance figure.
const SETTLE: Duration = Duration::from_secs(120);
/// The controller's namespace in this binary: the cluster Secrets live there.
const CONTROLLER_NS: &str = "driftless-clusters";

/// Held shared by the tests that use the remote clusters, exclusively by the one that stops one.
static EXCLUSIVE: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());
static CONTEXT: OnceLock<Arc<Context>> = OnceLock::new();

/// The two remote control planes, started once, registered as cluster Secrets.
fn east() -> anyhow::Result<&'static ControlPlane> {
    Ok(driftless_testenv::extra(0)?)
}
fn west() -> anyhow::Result<&'static ControlPlane> {
    Ok(driftless_testenv::extra(1)?)
}

/// Starts the controller (once), with the cluster Secrets of `east` and `west` in its namespace.
async fn controller() -> anyhow::Result<Arc<Context>> {
    let (east, west) = (east()?, west()?);
    let client = driftless_testenv::shared()?.client().await?;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    if namespaces.get_opt(CONTROLLER_NS).await?.is_none() {
        let ns: Namespace =
            serde_json::from_value(serde_json::json!({"metadata": {"name": CONTROLLER_NS}}))?;
        let _ = namespaces.create(&PostParams::default(), &ns).await;
    }
    let secrets: Api<Secret> = Api::namespaced(client.clone(), CONTROLLER_NS);
    let ca = base64::engine::general_purpose::STANDARD.encode(east.ca_pem()?);
    let config = serde_json::json!({"bearerToken": east.token(), "tlsClientConfig": {"insecure": false, "caData": ca}});
    apply_secret(
        &secrets,
        "east-secret",
        serde_json::json!({"name": "east", "server": east.server(), "config": config.to_string()}),
    )
    .await?;
    let kubeconfig = std::fs::read_to_string(west.kubeconfig())?;
    apply_secret(&secrets, "west", serde_json::json!({"value": kubeconfig})).await?;
    support::controller(|client| async move {
        let cache = tempfile::tempdir()?.keep();
        let mut registry = prometheus_client::registry::Registry::default();
        let metrics = driftless_controller::Metrics::new(&mut registry);
        let mut context = Context::new(client, cache, None, metrics).await?;
        context.namespace = CONTROLLER_NS.to_owned();
        let context = Arc::new(context);
        let _ = CONTEXT.set(context.clone());
        Ok(context)
    })?;
    CONTEXT.get().cloned().context("no context")
}

async fn apply_secret(
    secrets: &Api<Secret>,
    name: &str,
    data: serde_json::Value,
) -> anyhow::Result<()> {
    let secret = serde_json::json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": name, "labels": {"driftless.dev/secret-type": "cluster"}},
        "stringData": data,
    });
    secrets
        .patch(
            name,
            &PatchParams::apply("clusters-test").force(),
            &Patch::Apply(secret),
        )
        .await?;
    Ok(())
}

/// A repository whose `deploy/` holds the ConfigMap `settings` with `mode: <mode>`.
fn repository(dir: &Path, mode: &str) -> anyhow::Result<String> {
    git(dir, &["init", "-q", "-b", "main"])?;
    git(dir, &["config", "user.email", "t@example.com"])?;
    git(dir, &["config", "user.name", "t"])?;
    commit(dir, &[("settings", mode)])?;
    Ok(format!("file://{}", dir.display()))
}

/// Replaces `deploy/` with one ConfigMap per (name, mode) and commits.
fn commit(dir: &Path, maps: &[(&str, &str)]) -> anyhow::Result<String> {
    let deploy = dir.join("deploy");
    if deploy.exists() {
        std::fs::remove_dir_all(&deploy)?;
    }
    std::fs::create_dir_all(&deploy)?;
    for (name, mode) in maps {
        std::fs::write(
            deploy.join(format!("{name}.yaml")),
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{mode: {mode}}}\n"
            ),
        )?;
    }
    git(dir, &["add", "-A"])?;
    git(dir, &["commit", "-qm", "change"])?;
    Ok(git(dir, &["rev-parse", "HEAD"])?)
}

/// An automated Application `name` (prune, self-heal) of `url` deploying to `destination`.
fn application(
    ns: &str,
    name: &str,
    url: &str,
    destination: serde_json::Value,
) -> anyhow::Result<Application> {
    let mut destination = destination;
    destination["namespace"] = ns.into();
    Ok(serde_json::from_value(serde_json::json!({
        "apiVersion": "driftless.dev/v1alpha1",
        "kind": "Application",
        // With the finalizer, deleting the Application deletes its objects.
        "metadata": {"name": name, "namespace": ns, "finalizers": [driftless_api::FINALIZER]},
        "spec": {
            "source": {"repoURL": url, "targetRevision": "main", "path": "deploy"},
            "destination": destination,
            "interval": "2s",
            "syncPolicy": {"automated": {"prune": true, "selfHeal": true},
                "syncOptions": ["CreateNamespace=true"]},
        },
    }))?)
}

async fn status_where(
    apps: &Api<Application>,
    name: &str,
    what: &str,
    check: impl Fn(&ApplicationStatus) -> bool,
) -> anyhow::Result<ApplicationStatus> {
    Ok(eventually(what, SETTLE, || async {
        let app = apps.get(name).await.ok()?;
        app.status.filter(|s| check(s))
    })
    .await?)
}

fn synced_at(status: &ApplicationStatus, commit: &str) -> bool {
    status.sync.as_ref().is_some_and(|s| {
        s.status == SyncStatusCode::Synced && s.revision.as_deref() == Some(commit)
    }) && status
        .health
        .as_ref()
        .is_some_and(|h| h.status == "Healthy")
}

fn ready_reason(status: &ApplicationStatus) -> Option<(&str, &str)> {
    status
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .map(|c| (c.reason.as_str(), c.message.as_str()))
}

/// The `mode` of ConfigMap `name` in `ns` of the cluster `client` reaches, if it is there.
async fn mode(client: &Client, ns: &str, name: &str) -> anyhow::Result<Option<String>> {
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    Ok(maps
        .get_opt(name)
        .await?
        .and_then(|cm| cm.data?.get("mode").cloned()))
}

async fn mode_becomes(
    client: &Client,
    ns: &str,
    name: &str,
    wanted: Option<&str>,
) -> anyhow::Result<()> {
    eventually(&format!("{ns}/{name} mode {wanted:?}"), SETTLE, || async {
        let now = mode(client, ns, name).await.ok()?;
        (now.as_deref() == wanted).then_some(())
    })
    .await?;
    Ok(())
}

/// Deletes namespace `ns` of a remote cluster (the test's objects there).
async fn delete_remote_namespace(client: &Client, ns: &str) {
    let _ = Api::<Namespace>::all(client.clone())
        .delete(ns, &DeleteParams::background())
        .await;
}

#[tokio::test]
async fn objects_land_in_the_cluster_the_destination_names() -> anyhow::Result<()> {
    let _shared = EXCLUSIVE.read().await;
    controller().await?;
    let (east, west) = (east()?.client().await?, west()?.client().await?);
    with_namespace("clusters-land", |local, ns| async move {
        let apps: Api<Application> = Api::namespaced(local.clone(), &ns);
        let mut repos = Vec::new();
        for (name, destination) in [
            ("to-east", serde_json::json!({"name": "east"})),
            ("to-west", serde_json::json!({"server": west_server()?})),
            ("to-local", serde_json::json!({"name": "in-cluster"})),
        ] {
            let repo = tempfile::tempdir()?;
            let url = repository(repo.path(), name)?;
            let head = git(repo.path(), &["rev-parse", "HEAD"])?;
            apps.create(
                &PostParams::default(),
                &application(&ns, name, &url, destination)?,
            )
            .await?;
            repos.push((name, repo, head));
        }
        for (name, _, head) in &repos {
            status_where(&apps, name, &format!("{name} Synced and Healthy"), |s| {
                synced_at(s, head)
            })
            .await?;
        }
        ensure!(mode(&east, &ns, "settings").await?.as_deref() == Some("to-east"));
        ensure!(mode(&west, &ns, "settings").await?.as_deref() == Some("to-west"));
        ensure!(mode(&local, &ns, "settings").await?.as_deref() == Some("to-local"));
        let east_apps: Api<Application> = Api::namespaced(local.clone(), &ns);
        let status = east_apps.get("to-east").await?.status.unwrap_or_default();
        ensure!(status.resources.len() == 1, "{:?}", status.resources);

        // Deleting an Application deletes its objects in its own cluster.
        apps.delete("to-east", &DeleteParams::default()).await?;
        mode_becomes(&east, &ns, "settings", None).await?;
        ensure!(mode(&west, &ns, "settings").await?.as_deref() == Some("to-west"));
        for (name, ..) in &repos {
            let _ = apps.delete(name, &DeleteParams::default()).await;
        }
        eventually("the Applications gone", SETTLE, || async {
            apps.list(&Default::default())
                .await
                .ok()
                .filter(|l| l.items.is_empty())
        })
        .await?;
        delete_remote_namespace(&east, &ns).await;
        delete_remote_namespace(&west, &ns).await;
        Ok(())
    })
    .await?
}

fn west_server() -> anyhow::Result<String> {
    Ok(west()?.server().to_owned())
}

#[tokio::test]
async fn self_heal_prune_and_health_work_on_a_remote_cluster() -> anyhow::Result<()> {
    let _shared = EXCLUSIVE.read().await;
    controller().await?;
    let east = east()?.client().await?;
    with_namespace("clusters-heal", |local, ns| async move {
        let repo = tempfile::tempdir()?;
        let url = repository(repo.path(), "one")?;
        let first = commit(repo.path(), &[("settings", "one"), ("extra", "x")])?;
        let apps: Api<Application> = Api::namespaced(local.clone(), &ns);
        let app = application(&ns, "app", &url, serde_json::json!({"name": "east"}))?;
        apps.create(&PostParams::default(), &app).await?;
        status_where(&apps, "app", "Synced and Healthy", |s| synced_at(s, &first)).await?;

        // A change by hand on the remote cluster is reverted.
        let maps: Api<ConfigMap> = Api::namespaced(east.clone(), &ns);
        let patch = serde_json::json!({"data": {"mode": "by-hand"}});
        maps.patch("settings", &PatchParams::default(), &Patch::Merge(patch))
            .await?;
        mode_becomes(&east, &ns, "settings", Some("one")).await?;

        // An object removed from Git is pruned on the remote cluster, and only there.
        let second = commit(repo.path(), &[("settings", "two")])?;
        status_where(&apps, "app", "the second commit synced", |s| {
            synced_at(s, &second)
        })
        .await?;
        mode_becomes(&east, &ns, "extra", None).await?;
        ensure!(mode(&east, &ns, "settings").await?.as_deref() == Some("two"));
        ensure!(
            mode(&local, &ns, "settings").await?.is_none(),
            "nothing in the local cluster"
        );

        apps.delete("app", &DeleteParams::default()).await?;
        mode_becomes(&east, &ns, "settings", None).await?;
        delete_remote_namespace(&east, &ns).await;
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn a_stopped_cluster_fails_only_its_applications_until_it_is_back() -> anyhow::Result<()> {
    let _alone = EXCLUSIVE.write().await;
    controller().await?;
    let east_plane = east()?;
    let (east, west) = (east_plane.client().await?, west()?.client().await?);
    with_namespace("clusters-down", |local, ns| async move {
        let apps: Api<Application> = Api::namespaced(local.clone(), &ns);
        let east_repo = tempfile::tempdir()?;
        let east_url = repository(east_repo.path(), "e1")?;
        let east_head = git(east_repo.path(), &["rev-parse", "HEAD"])?;
        let west_repo = tempfile::tempdir()?;
        let west_url = repository(west_repo.path(), "w1")?;
        let west_head = git(west_repo.path(), &["rev-parse", "HEAD"])?;
        apps.create(
            &PostParams::default(),
            &application(
                &ns,
                "east-app",
                &east_url,
                serde_json::json!({"name": "east"}),
            )?,
        )
        .await?;
        apps.create(
            &PostParams::default(),
            &application(
                &ns,
                "west-app",
                &west_url,
                serde_json::json!({"name": "west"}),
            )?,
        )
        .await?;
        status_where(&apps, "east-app", "east Synced", |s| {
            synced_at(s, &east_head)
        })
        .await?;
        status_where(&apps, "west-app", "west Synced", |s| {
            synced_at(s, &west_head)
        })
        .await?;

        east_plane.stop_component(Component::ApiServer)?;
        let outcome = async {
            let down = status_where(&apps, "east-app", "east-app ClusterUnreachable", |s| {
                ready_reason(s).is_some_and(|(reason, _)| reason == "ClusterUnreachable")
            })
            .await?;
            let (_, message) = ready_reason(&down).context("no Ready")?;
            ensure!(
                message.contains("cluster \"east\"") && message.contains(east_plane.server()),
                "{message}"
            );
            ensure!(
                down.sync.as_ref().map(|s| s.status) == Some(SyncStatusCode::Unknown),
                "{:?}",
                down.sync
            );
            // The other cluster's Application keeps syncing new commits.
            let west_next = commit(west_repo.path(), &[("settings", "w2")])?;
            status_where(&apps, "west-app", "west follows while east is down", |s| {
                synced_at(s, &west_next)
            })
            .await?;
            ensure!(mode(&west, &ns, "settings").await?.as_deref() == Some("w2"));
            // A commit for the stopped cluster waits for it.
            let east_next = commit(east_repo.path(), &[("settings", "e2")])?;
            Ok::<_, anyhow::Error>(east_next)
        }
        .await;
        east_plane.start_component(Component::ApiServer).await?;
        let east_next = outcome?;
        status_where(
            &apps,
            "east-app",
            "east-app back and at the new commit",
            |s| synced_at(s, &east_next),
        )
        .await?;
        mode_becomes(&east, &ns, "settings", Some("e2")).await?;

        for name in ["east-app", "west-app"] {
            apps.delete(name, &DeleteParams::default()).await?;
        }
        mode_becomes(&east, &ns, "settings", None).await?;
        mode_becomes(&west, &ns, "settings", None).await?;
        delete_remote_namespace(&east, &ns).await;
        delete_remote_namespace(&west, &ns).await;
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn a_cluster_is_connected_while_used_and_disconnected_after() -> anyhow::Result<()> {
    let _alone = EXCLUSIVE.write().await;
    let context = controller().await?;
    let west = west()?.client().await?;
    with_namespace("clusters-unused", |local, ns| async move {
        eventually("no Application uses west", SETTLE, || async {
            (!context.connected_clusters().contains(&"west".to_owned())).then_some(())
        })
        .await?;
        let repo = tempfile::tempdir()?;
        let url = repository(repo.path(), "u1")?;
        let head = git(repo.path(), &["rev-parse", "HEAD"])?;
        let apps: Api<Application> = Api::namespaced(local.clone(), &ns);
        apps.create(
            &PostParams::default(),
            &application(&ns, "app", &url, serde_json::json!({"name": "west"}))?,
        )
        .await?;
        status_where(&apps, "app", "Synced", |s| synced_at(s, &head)).await?;
        ensure!(context.connected_clusters().contains(&"west".to_owned()));

        // Moved to the local cluster: west has no Application left and is disconnected.
        let patch = serde_json::json!({"spec": {"destination": {"name": "in-cluster"}}});
        apps.patch("app", &PatchParams::default(), &Patch::Merge(patch))
            .await?;
        eventually("west disconnected", SETTLE, || async {
            (!context.connected_clusters().contains(&"west".to_owned())).then_some(())
        })
        .await?;
        mode_becomes(&local, &ns, "settings", Some("u1")).await?;
        apps.delete("app", &DeleteParams::default()).await?;
        delete_remote_namespace(&west, &ns).await;
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn an_unknown_cluster_or_a_bad_cluster_secret_is_invalid_and_applies_nothing()
-> anyhow::Result<()> {
    // Alone: the fixed Secret names west's server too, which would make a destination by
    // server ambiguous for the others.
    let _alone = EXCLUSIVE.write().await;
    controller().await?;
    with_namespace("clusters-bad", |local, ns| async move {
        let secrets: Api<Secret> = Api::namespaced(local.clone(), CONTROLLER_NS);
        apply_secret(
            &secrets,
            "broken",
            serde_json::json!({"name": "broken", "server": "https://127.0.0.1:1",
                "config": "{\"bearerToken\": \"t\", \"tlsClientConfig\": {\"caData\": \"not base64!\"}}"}),
        )
        .await?;
        let repo = tempfile::tempdir()?;
        let url = repository(repo.path(), "bad")?;
        let apps: Api<Application> = Api::namespaced(local.clone(), &ns);
        for (name, destination) in [
            ("unknown", serde_json::json!({"name": "nowhere"})),
            ("broken", serde_json::json!({"name": "broken"})),
        ] {
            apps.create(&PostParams::default(), &application(&ns, name, &url, destination)?)
                .await?;
        }
        let unknown = status_where(&apps, "unknown", "unknown InvalidSpec", |s| {
            ready_reason(s).is_some_and(|(r, _)| r == "InvalidSpec")
        })
        .await?;
        let (_, message) = ready_reason(&unknown).context("no Ready")?;
        ensure!(
            message.starts_with("spec.destination.name: no cluster named \"nowhere\""),
            "{message}"
        );
        let broken = status_where(&apps, "broken", "broken InvalidSpec", |s| {
            ready_reason(s).is_some_and(|(r, _)| r == "InvalidSpec")
        })
        .await?;
        let (_, message) = ready_reason(&broken).context("no Ready")?;
        ensure!(
            message.contains(&format!("cluster Secret {CONTROLLER_NS}/broken"))
                && message.contains("tlsClientConfig.caData is not base64")
                && !message.contains("\"t\""),
            "{message}"
        );
        ensure!(mode(&local, &ns, "settings").await?.is_none(), "nothing applied");

        // The Secret fixed (pointing at west): the Application deploys there.
        let west_plane = west()?;
        let ca = base64::engine::general_purpose::STANDARD.encode(west_plane.ca_pem()?);
        let config = serde_json::json!({"bearerToken": west_plane.token(), "tlsClientConfig": {"caData": ca}});
        apply_secret(
            &secrets,
            "broken",
            serde_json::json!({"name": "broken", "server": west_plane.server(), "config": config.to_string()}),
        )
        .await?;
        let west = west_plane.client().await?;
        let deployed = async {
            mode_becomes(&west, &ns, "settings", Some("bad")).await?;
            for name in ["unknown", "broken"] {
                apps.delete(name, &DeleteParams::default()).await?;
            }
            mode_becomes(&west, &ns, "settings", None).await
        }
        .await;
        // Gone whatever happened: it names west's server, as the Secret `west` does.
        secrets.delete("broken", &DeleteParams::default()).await?;
        deployed?;
        delete_remote_namespace(&west, &ns).await;
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn refused_credentials_make_only_their_applications_unreachable() -> anyhow::Result<()> {
    let _shared = EXCLUSIVE.read().await;
    controller().await?;
    let east_plane = east()?;
    with_namespace("clusters-refused", |local, ns| async move {
        let secrets: Api<Secret> = Api::namespaced(local.clone(), CONTROLLER_NS);
        let ca = base64::engine::general_purpose::STANDARD.encode(east_plane.ca_pem()?);
        let config = serde_json::json!({"bearerToken": "not-a-token", "tlsClientConfig": {"caData": ca}});
        let secret = format!("refused-{ns}");
        apply_secret(
            &secrets,
            &secret,
            serde_json::json!({"name": secret, "server": east_plane.server(), "config": config.to_string()}),
        )
        .await?;
        let outcome = async {
            let repo = tempfile::tempdir()?;
            let url = repository(repo.path(), "refused")?;
            let apps: Api<Application> = Api::namespaced(local.clone(), &ns);
            apps.create(
                &PostParams::default(),
                &application(&ns, "app", &url, serde_json::json!({"name": secret}))?,
            )
            .await?;
            let status = status_where(&apps, "app", "ClusterUnreachable", |s| {
                ready_reason(s).is_some_and(|(reason, _)| reason == "ClusterUnreachable")
            })
            .await?;
            let (_, message) = ready_reason(&status).context("no Ready")?;
            ensure!(
                message.contains(&format!("cluster {secret:?}")) && message.contains("Unauthorized"),
                "{message}"
            );
            ensure!(!message.contains("not-a-token"), "{message}");
            ensure!(
                status.sync.as_ref().map(|s| s.status) == Some(SyncStatusCode::Unknown),
                "{:?}",
                status.sync
            );
            let east = east_plane.client().await?;
            ensure!(mode(&east, &ns, "settings").await?.is_none(), "nothing applied");
            apps.delete("app", &DeleteParams::default()).await?;
            Ok::<_, anyhow::Error>(())
        }
        .await;
        secrets.delete(&secret, &DeleteParams::default()).await?;
        outcome
    })
    .await?
}
