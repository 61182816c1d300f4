//! The fault primitives do what they say on a real control plane: components killed and restarted
//! with the same configuration keep the cluster's state (and the controller-manager does its work
//! again), the proxy forwards, refuses and severs, and the Git daemon comes back on the same URL.
//!
//! One test: killing components of this binary's control plane would break tests beside it.

use std::process::Command;
use std::time::Duration;

use anyhow::{Context, ensure};
use driftless_testenv::{ApiProxy, Component, Faults, GitDaemon, eventually, with_namespace};
use futures::StreamExt;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams, WatchEvent, WatchParams};

/// Generous bound on a busy 2-core machine; not a performance figure.
const SETTLE: Duration = Duration::from_secs(120);

fn config_map(name: &str) -> anyhow::Result<ConfigMap> {
    Ok(serde_json::from_value(
        serde_json::json!({"metadata": {"name": name}, "data": {"k": "v"}}),
    )?)
}

#[tokio::test]
async fn components_restart_with_their_state_and_the_proxy_injects_faults() -> anyhow::Result<()> {
    let plane = driftless_testenv::shared()?;
    with_namespace("faults", |client, ns| async move {
        let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        let before = configmaps
            .create(&PostParams::default(), &config_map("kept")?)
            .await?;

        // The API server killed and started again on the same port: the old client works again.
        plane.kill_component(Component::ApiServer)?;
        ensure!(
            configmaps.get("kept").await.is_err(),
            "the API server still answers"
        );
        plane.start_component(Component::ApiServer).await?;
        let after = configmaps.get("kept").await?;
        ensure!(after.metadata.uid == before.metadata.uid);

        // etcd killed: the API server cannot read; restarted on its data dir: nothing lost.
        plane.kill_component(Component::Etcd)?;
        plane.start_component(Component::Etcd).await?;
        let after = configmaps.get("kept").await?;
        ensure!(
            after.metadata.uid == before.metadata.uid,
            "etcd lost the object"
        );

        // The controller-manager stopped gracefully, then killed, and started again each time
        // still does its work: a Deployment created while it was down gets its ReplicaSet.
        plane.stop_component(Component::ControllerManager)?;
        plane.start_component(Component::ControllerManager).await?;
        plane.kill_component(Component::ControllerManager)?;
        let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns);
        let deployment: Deployment = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "after-restart"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "after-restart"}},
                     "template": {"metadata": {"labels": {"app": "after-restart"}},
                                  "spec": {"containers": [{"name": "c", "image": "registry.example/c:1"}]}}}
        }))?;
        deployments
            .create(&PostParams::default(), &deployment)
            .await?;
        plane.start_component(Component::ControllerManager).await?;
        plane.check_running()?;
        let replica_sets: Api<ReplicaSet> = Api::namespaced(client.clone(), &ns);
        eventually("a ReplicaSet for the Deployment", SETTLE, || async {
            let list = replica_sets.list(&Default::default()).await.ok()?;
            list.items
                .iter()
                .any(|rs| {
                    rs.metadata
                        .owner_references
                        .iter()
                        .flatten()
                        .any(|o| o.kind == "Deployment" && o.name == "after-restart")
                })
                .then_some(())
        })
        .await?;

        // The proxy: forwards, answers 429 and 500 at the chosen rate, severs watches.
        let proxy = ApiProxy::start(plane.kubeconfig()).await?;
        // Without kube's own retries of 429, so that each answer is seen as it is.
        let mut config = proxy.config().await?;
        config.default_retry = false;
        let proxied: Api<ConfigMap> = Api::namespaced(kube::Client::try_from(config)?, &ns);
        ensure!(proxied.get("kept").await?.metadata.uid == before.metadata.uid);
        proxy.set_faults(Faults {
            throttle_rate: 1.0,
            ..Faults::default()
        });
        match proxied.get("kept").await {
            Err(kube::Error::Api(status)) => ensure!(status.code == 429, "{status:?}"),
            other => anyhow::bail!("expected 429, got {other:?}"),
        }
        proxy.set_faults(Faults {
            error_rate: 1.0,
            ..Faults::default()
        });
        match proxied.get("kept").await {
            Err(kube::Error::Api(status)) => ensure!(status.code == 500, "{status:?}"),
            other => anyhow::bail!("expected 500, got {other:?}"),
        }
        proxy.set_faults(Faults {
            drop_rate: 1.0,
            ..Faults::default()
        });
        ensure!(
            proxied.get("kept").await.is_err(),
            "a dropped request answered"
        );
        proxy.set_faults(Faults::default());
        let mut events = proxied
            .watch(&WatchParams::default().timeout(290), "0")
            .await?
            .boxed();
        let first = events.next().await.context("the watch ended at once")??;
        ensure!(matches!(first, WatchEvent::Added(_)), "{first:?}");
        proxy.sever();
        let ended = tokio::time::timeout(SETTLE, async {
            while let Some(Ok(_)) = events.next().await {}
        })
        .await;
        ensure!(ended.is_ok(), "the watch survived sever()");
        let stats = proxy.stats();
        ensure!(
            stats.throttled == 1 && stats.failed == 1 && stats.dropped == 1,
            "{stats:?}"
        );
        ensure!(stats.severed >= 1, "{stats:?}");

        // The Git daemon stopped refuses; restarted, it serves the same URL.
        let base = tempfile::tempdir()?;
        let repo = base.path().join("app");
        let git = |dir: &std::path::Path, args: &[&str]| -> anyhow::Result<bool> {
            Ok(Command::new("git")
                .args(args)
                .current_dir(dir)
                .output()?
                .status
                .success())
        };
        std::fs::create_dir(&repo)?;
        ensure!(git(&repo, &["init", "-q", "-b", "main"])?);
        ensure!(git(
            &repo,
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@e",
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                "x"
            ]
        )?);
        let mut daemon = GitDaemon::start(base.path())?;
        let url = daemon.url("app/.git");
        ensure!(
            git(base.path(), &["ls-remote", &url])?,
            "git daemon does not serve"
        );
        daemon.stop()?;
        ensure!(
            !git(base.path(), &["ls-remote", &url])?,
            "a stopped daemon served"
        );
        daemon.restart()?;
        eventually("the daemon to serve again", SETTLE, || async {
            git(base.path(), &["ls-remote", &url]).ok()?.then_some(())
        })
        .await?;
        Ok(())
    })
    .await?
}
