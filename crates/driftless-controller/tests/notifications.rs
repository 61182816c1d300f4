//! Notifications against the real test control plane, real Git repositories (file://) and HTTP
//! receivers on loopback that record what they get (one fails its first deliveries, one holds
//! every request until the test lets it answer): every event kind, every Provider type, the
//! HMAC signature checked here, commit statuses on GitHub, GitLab and Gitea paths, retries,
//! and a slow receiver that does not hold up syncs. One controller per test binary, one
//! namespace per test.

mod support;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use anyhow::{Context as _, ensure};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use driftless_api::{Alert, Application, Provider, SyncStatusCode};
use driftless_controller::Context;
use driftless_testenv::{eventually, git, with_namespace};
use hmac::{Hmac, Mac};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::api::events::v1::Event;
use kube::Client;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

/// Generous bound for the controller to act on a busy machine; not a performance figure.
const SETTLE: Duration = Duration::from_secs(90);

/// The registry of the running controller's metrics.
static REGISTRY: OnceLock<prometheus_client::registry::Registry> = OnceLock::new();

fn metrics_text() -> anyhow::Result<String> {
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, REGISTRY.get().context("no registry")?)?;
    Ok(text)
}

/// Installs the CRDs and starts one controller, on a thread of its own, for the whole binary.
fn controller() -> anyhow::Result<()> {
    support::controller(|client| async move {
        let cache = tempfile::tempdir()?.keep();
        let mut registry = prometheus_client::registry::Registry::default();
        let metrics = driftless_controller::Metrics::new(&mut registry);
        let _ = REGISTRY.set(registry);
        let context = Context::new(client, cache, None, metrics).await?;
        Ok(Arc::new(context))
    })
}

/// A repository at `<dir>/acme/web` (so forges see the repository `acme/web`) whose `deploy/`
/// holds one ConfigMap; returns its URL and directory.
fn repository(dir: &Path) -> anyhow::Result<(String, std::path::PathBuf)> {
    let work = dir.join("acme/web");
    std::fs::create_dir_all(work.join("deploy"))?;
    git(&work, &["init", "-q", "-b", "main"])?;
    git(&work, &["config", "user.email", "t@example.com"])?;
    git(&work, &["config", "user.name", "t"])?;
    commit(
        &work,
        "settings.yaml",
        &config_map("settings", "fast"),
        "fast",
    )?;
    Ok((format!("file://{}", work.display()), work))
}

fn config_map(name: &str, mode: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{mode: {mode}}}\n")
}

/// Writes `deploy/<file>` and commits it; returns the commit.
fn commit(work: &Path, file: &str, content: &str, message: &str) -> anyhow::Result<String> {
    std::fs::write(work.join("deploy").join(file), content)?;
    git(work, &["add", "-A"])?;
    git(work, &["commit", "-qm", message])?;
    Ok(git(work, &["rev-parse", "HEAD"])?)
}

fn application(ns: &str, url: &str, automated: bool) -> anyhow::Result<Application> {
    let mut spec = json!({
        "source": {"repoURL": url, "targetRevision": "main", "path": "deploy"},
        "destination": {"namespace": ns},
        "interval": "1s",
    });
    if automated {
        spec["syncPolicy"] = json!({"automated": {"prune": true, "selfHeal": true}});
    }
    Ok(serde_json::from_value(json!({
        "apiVersion": "driftless.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "web", "namespace": ns, "labels": {"tier": "prod"}},
        "spec": spec,
    }))?)
}

/// One request a receiver got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    headers: HashMap<String, String>,
    raw: Vec<u8>,
    body: Value,
}

/// How a receiver answers.
#[derive(Clone, Default)]
struct Behaviour {
    /// Answer 503 to this many requests first.
    fail_first: usize,
    /// Hold every request until a permit is added.
    gate: Option<Arc<Semaphore>>,
}

#[derive(Clone)]
struct ReceiverState {
    behaviour: Behaviour,
    log: Arc<Mutex<Vec<Received>>>,
    answered: Arc<AtomicUsize>,
}

/// An HTTP server on loopback that records every request (when it arrives) and answers as
/// its [`Behaviour`] says.
struct Receiver {
    url: String,
    log: Arc<Mutex<Vec<Received>>>,
    answered: Arc<AtomicUsize>,
}

async fn record(
    State(state): State<ReceiverState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let received = Received {
        path: uri.path().to_owned(),
        headers: headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect(),
        raw: body.to_vec(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    let index = {
        let mut log = state.log.lock().unwrap_or_else(PoisonError::into_inner);
        log.push(received);
        log.len() - 1
    };
    if let Some(gate) = &state.behaviour.gate {
        // Taken and given back: one permit lets every held request through.
        let _permit = gate.acquire().await;
    }
    state.answered.fetch_add(1, Ordering::SeqCst);
    if index < state.behaviour.fail_first {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    }
}

impl Receiver {
    async fn start(behaviour: Behaviour) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let state = ReceiverState {
            behaviour,
            log: Arc::default(),
            answered: Arc::default(),
        };
        let receiver = Self {
            url,
            log: state.log.clone(),
            answered: state.answered.clone(),
        };
        let router = axum::Router::new().fallback(record).with_state(state);
        tokio::spawn(async move { axum::serve(listener, router).await });
        Ok(receiver)
    }

    fn received(&self) -> Vec<Received> {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits until a request satisfies `wanted`; returns it.
    async fn wait_for(
        &self,
        what: &str,
        wanted: impl Fn(&Received) -> bool,
    ) -> anyhow::Result<Received> {
        Ok(eventually(what, SETTLE, || async {
            self.received().into_iter().find(|r| wanted(r))
        })
        .await?)
    }
}

/// Whether the generic payload `r` is `reason` of Application `web`.
fn is_reason(r: &Received, reason: &str) -> bool {
    r.body["reason"] == reason && r.body["involvedObject"]["name"] == "web"
}

async fn create<K>(client: &Client, ns: &str, object: Value) -> anyhow::Result<K>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + k8s_openapi::serde::de::DeserializeOwned
        + k8s_openapi::serde::Serialize,
{
    let api: Api<K> = Api::namespaced(client.clone(), ns);
    Ok(api
        .create(&PostParams::default(), &serde_json::from_value(object)?)
        .await?)
}

async fn secret(client: &Client, ns: &str, name: &str, data: Value) -> anyhow::Result<()> {
    create::<Secret>(
        client,
        ns,
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "stringData": data}),
    )
    .await?;
    Ok(())
}

async fn provider(client: &Client, ns: &str, name: &str, spec: Value) -> anyhow::Result<()> {
    create::<Provider>(
        client,
        ns,
        json!({"apiVersion": "driftless.dev/v1alpha1", "kind": "Provider",
            "metadata": {"name": name}, "spec": spec}),
    )
    .await?;
    Ok(())
}

/// An Alert sending every event of the Applications named `web` (with the label `tier: prod`)
/// to `provider`, with `extra` merged into its spec.
async fn alert(
    client: &Client,
    ns: &str,
    name: &str,
    provider: &str,
    extra: Value,
) -> anyhow::Result<()> {
    let mut spec = json!({
        "providerRef": {"name": provider},
        "eventSources": [{"kind": "Application", "name": "w*", "matchLabels": {"tier": "prod"}}],
    });
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
        spec.extend(extra.clone());
    }
    create::<Alert>(
        client,
        ns,
        json!({"apiVersion": "driftless.dev/v1alpha1", "kind": "Alert",
            "metadata": {"name": name}, "spec": spec}),
    )
    .await?;
    Ok(())
}

/// Waits until the object's `Ready` condition satisfies `check`; returns (status, reason,
/// message).
async fn ready_where<K>(
    client: &Client,
    ns: &str,
    name: &str,
    check: impl Fn(&str, &str, &str) -> bool,
) -> anyhow::Result<(String, String, String)>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + k8s_openapi::serde::de::DeserializeOwned
        + k8s_openapi::serde::Serialize,
{
    let api: Api<K> = Api::namespaced(client.clone(), ns);
    Ok(eventually(
        &format!("the Ready condition of {name}"),
        SETTLE,
        || async {
            let object = serde_json::to_value(api.get(name).await.ok()?).ok()?;
            let ready = object["status"]["conditions"]
                .as_array()?
                .iter()
                .find(|c| c["type"] == "Ready")?
                .clone();
            let found = (
                ready["status"].as_str()?.to_owned(),
                ready["reason"].as_str()?.to_owned(),
                ready["message"].as_str()?.to_owned(),
            );
            check(&found.0, &found.1, &found.2).then_some(found)
        },
    )
    .await?)
}

async fn app_where(
    apps: &Api<Application>,
    what: &str,
    check: impl Fn(&driftless_api::ApplicationStatus) -> bool,
) -> anyhow::Result<driftless_api::ApplicationStatus> {
    Ok(eventually(what, SETTLE, || async {
        apps.get("web").await.ok()?.status.filter(|s| check(s))
    })
    .await?)
}

fn synced_at(status: &driftless_api::ApplicationStatus, commit: &str) -> bool {
    status.sync.as_ref().is_some_and(|s| {
        s.status == SyncStatusCode::Synced && s.revision.as_deref() == Some(commit)
    }) && status
        .operation_state
        .as_ref()
        .is_some_and(|op| op.phase == driftless_api::OperationPhase::Succeeded)
}

/// The Events about the object `name` in `ns` with `reason`.
async fn events_of(
    client: &Client,
    ns: &str,
    name: &str,
    reason: &str,
) -> anyhow::Result<Vec<Event>> {
    let events: Api<Event> = Api::namespaced(client.clone(), ns);
    Ok(events
        .list(&Default::default())
        .await?
        .items
        .into_iter()
        .filter(|e| {
            e.reason.as_deref() == Some(reason)
                && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name)
        })
        .collect())
}

fn hmac_hex(key: &[u8], body: &[u8]) -> anyhow::Result<String> {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key)?;
    mac.update(body);
    Ok(mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

#[tokio::test]
async fn every_event_kind_reaches_a_signed_generic_webhook() -> anyhow::Result<()> {
    controller()?;
    with_namespace("notify-events", |client, ns| async move {
        const KEY: &str = "hmac-key-5b1e";
        let hook = Receiver::start(Behaviour::default()).await?;
        secret(&client, &ns, "hook-key", json!({"token": KEY})).await?;
        provider(
            &client,
            &ns,
            "hook",
            json!({"type": "generic-hmac", "address": format!("{}/hook", hook.url),
                "secretRef": {"name": "hook-key"}}),
        )
        .await?;
        alert(
            &client,
            &ns,
            "everything",
            "hook",
            json!({"eventMetadata": {"cluster": "test"}, "template": "{{ reason }} {{ namespace }}/{{ name }} at {{ short_revision }}: {{ message }}"}),
        )
        .await?;
        ready_where::<Alert>(&client, &ns, "everything", |s, _, _| s == "True").await?;
        ready_where::<Provider>(&client, &ns, "hook", |s, _, _| s == "True").await?;

        // A manual Application that differs from Git: out of sync.
        let repo = tempfile::tempdir()?;
        let (url, work) = repository(repo.path())?;
        let first = git(&work, &["rev-parse", "HEAD"])?;
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        apps.create(&PostParams::default(), &application(&ns, &url, false)?)
            .await?;
        let out = hook
            .wait_for("OutOfSync", |r| is_reason(r, "OutOfSync"))
            .await?;
        ensure!(out.body["metadata"]["revision"] == first.as_str(), "{:?}", out.body);
        ensure!(out.body["metadata"]["cluster"] == "test", "{:?}", out.body);
        ensure!(out.body["severity"] == "info", "{:?}", out.body);
        ensure!(
            out.body["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(&format!("OutOfSync {ns}/web at {}: the cluster differs from Git", &first[..8]))),
            "{:?}",
            out.body
        );

        // A requested sync: started, succeeded.
        let request = driftless_api::SyncRequest {
            id: "r1".into(),
            initiated_by: Some("user:test".into()),
            ..Default::default()
        };
        let patch = json!({"metadata": {"annotations": {
            driftless_api::SYNC_REQUEST_ANNOTATION: request.to_annotation()}}});
        apps.patch("web", &PatchParams::default(), &Patch::Merge(patch))
            .await?;
        hook.wait_for("SyncStarted", |r| is_reason(r, "SyncStarted"))
            .await?;
        hook.wait_for("SyncSucceeded", |r| is_reason(r, "SyncSucceeded"))
            .await?;

        app_where(&apps, "synced by the request", |s| synced_at(s, &first)).await?;

        // A hand edit of the manual Application: out of sync again, at the same revision with
        // the same message, so the Alert does not send it a second time.
        let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        let edit = json!({"data": {"mode": "hand-edited"}});
        configmaps
            .patch("settings", &PatchParams::default(), &Patch::Merge(edit))
            .await?;
        app_where(&apps, "out of sync after the hand edit", |s| {
            s.sync.as_ref().is_some_and(|s| s.status == SyncStatusCode::OutOfSync)
        })
        .await?;

        // Automated with self-heal: the hand edit is reverted, drift corrected.
        let patch = json!({"spec": {"syncPolicy": {"automated": {"prune": true, "selfHeal": true}}}});
        apps.patch("web", &PatchParams::default(), &Patch::Merge(patch))
            .await?;
        let drift = hook
            .wait_for("DriftCorrected", |r| is_reason(r, "DriftCorrected"))
            .await?;
        ensure!(
            drift.body["message"].as_str().is_some_and(|m| m.contains("ConfigMap")),
            "{:?}",
            drift.body
        );
        // Events reach a Provider in the order they happened: the second OutOfSync, had it
        // been sent, would be here before the drift correction.
        let out_of_sync = hook
            .received()
            .iter()
            .filter(|r| is_reason(r, "OutOfSync"))
            .count();
        ensure!(out_of_sync == 1, "OutOfSync sent {out_of_sync} times");

        // A Job that runs out of time: health degraded, an error.
        let job = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: late}\nspec:\n  activeDeadlineSeconds: 1\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: c, image: busybox}]\n";
        let second = commit(&work, "job.yaml", job, "a job")?;
        let degraded = hook
            .wait_for("HealthDegraded", |r| is_reason(r, "HealthDegraded"))
            .await?;
        ensure!(degraded.body["severity"] == "error", "{:?}", degraded.body);
        ensure!(degraded.body["metadata"]["revision"] == second.as_str(), "{:?}", degraded.body);

        // An object in a namespace that does not exist: the sync fails.
        let elsewhere = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: lost, namespace: {ns}-missing}}\ndata: {{a: b}}\n"
        );
        let third = commit(&work, "lost.yaml", &elsewhere, "elsewhere")?;
        let failed = hook
            .wait_for("SyncFailed", |r| {
                is_reason(r, "SyncFailed") && r.body["metadata"]["revision"] == third.as_str()
            })
            .await?;
        ensure!(failed.body["severity"] == "error", "{:?}", failed.body);

        // Every delivery is signed over its exact body with the Secret's key.
        let all = hook.received();
        for r in &all {
            let signature = r.headers.get("x-signature").context("no X-Signature")?;
            ensure!(
                *signature == format!("sha256={}", hmac_hex(KEY.as_bytes(), &r.raw)?),
                "a bad signature on {:?}",
                r.body
            );
            ensure!(r.path == "/hook", "{}", r.path);
            ensure!(!String::from_utf8_lossy(&r.raw).contains(KEY), "the key was sent");
        }
        let mut reasons: Vec<&str> = all.iter().filter_map(|r| r.body["reason"].as_str()).collect();
        reasons.sort_unstable();
        reasons.dedup();
        ensure!(
            reasons
                == [
                    "DriftCorrected",
                    "HealthDegraded",
                    "OutOfSync",
                    "SyncFailed",
                    "SyncStarted",
                    "SyncSucceeded"
                ],
            "{reasons:?}"
        );
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn chats_and_commit_statuses_are_posted_and_a_failing_receiver_is_retried()
-> anyhow::Result<()> {
    controller()?;
    with_namespace("notify-providers", |client, ns| async move {
        const TOKEN: &str = "forge-token-91c3";
        // The Slack webhook's URL is a credential: it lives in the Secret.
        const SLACK_PATH: &str = "/services/T0/B0/xyzzy-url-secret";
        let slack = Receiver::start(Behaviour::default()).await?;
        let teams = Receiver::start(Behaviour::default()).await?;
        let forge = Receiver::start(Behaviour::default()).await?;
        let flaky = Receiver::start(Behaviour {
            fail_first: 2,
            ..Behaviour::default()
        })
        .await?;
        secret(&client, &ns, "slack-url", json!({"address": format!("{}{SLACK_PATH}", slack.url)})).await?;
        secret(&client, &ns, "forge-token", json!({"token": TOKEN})).await?;
        secret(&client, &ns, "flaky-url", json!({"address": format!("{}/hook/xyzzy-flaky", flaky.url)})).await?;
        provider(&client, &ns, "slack", json!({"type": "slack", "channel": "#deploys", "secretRef": {"name": "slack-url"}})).await?;
        provider(&client, &ns, "teams", json!({"type": "msteams", "address": format!("{}/workflows/teams", teams.url)})).await?;
        for kind in ["github", "gitlab", "gitea"] {
            provider(&client, &ns, kind, json!({"type": kind, "address": format!("{}/{kind}", forge.url), "secretRef": {"name": "forge-token"}})).await?;
        }
        provider(&client, &ns, "flaky", json!({"type": "generic", "secretRef": {"name": "flaky-url"}})).await?;
        // Nothing listens here: every attempt fails.
        let dead = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        provider(&client, &ns, "down", json!({"type": "generic", "address": format!("http://{dead}/hook")})).await?;
        alert(&client, &ns, "down", "down", json!({"eventReasons": ["SyncStarted"]})).await?;
        for name in ["slack", "teams", "github", "gitlab", "gitea", "flaky"] {
            alert(&client, &ns, name, name, json!({"eventReasons": ["SyncStarted", "SyncSucceeded"]})).await?;
        }
        for name in ["slack", "teams", "github", "gitlab", "gitea", "flaky", "down"] {
            ready_where::<Alert>(&client, &ns, name, |s, _, _| s == "True").await?;
        }

        let repo = tempfile::tempdir()?;
        let (url, work) = repository(repo.path())?;
        let commit = git(&work, &["rev-parse", "HEAD"])?;
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        apps.create(&PostParams::default(), &application(&ns, &url, true)?)
            .await?;
        app_where(&apps, "synced", |s| synced_at(s, &commit)).await?;

        // Slack: the text, the channel, at the Secret's URL.
        let posted = slack
            .wait_for("a Slack message", |r| {
                r.body["text"].as_str().is_some_and(|t| t.starts_with("web: synced to"))
            })
            .await?;
        ensure!(posted.path == SLACK_PATH, "{}", posted.path);
        ensure!(posted.body["channel"] == "#deploys", "{:?}", posted.body);
        // Teams: an Adaptive Card.
        let card = teams
            .wait_for("a Teams card", |r| {
                r.body["attachments"][0]["content"]["body"][0]["text"] == format!("SyncSucceeded: {ns}/web").as_str()
            })
            .await?;
        ensure!(card.path == "/workflows/teams", "{}", card.path);
        ensure!(
            card.body["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive",
            "{:?}",
            card.body
        );

        // Commit statuses: pending (running on GitLab), then success, on the synced commit of
        // the repository acme/web, each forge with its own path and token header.
        let gitlab_project = url
            .trim_start_matches("file://")
            .trim_matches('/')
            .split('/')
            .collect::<Vec<_>>()
            .join("%2F");
        let forges = [
            ("github", format!("/github/repos/acme/web/statuses/{commit}"), "authorization", format!("Bearer {TOKEN}"), "context", "pending"),
            ("gitlab", format!("/gitlab/api/v4/projects/{gitlab_project}/statuses/{commit}"), "private-token", TOKEN.to_owned(), "name", "running"),
            ("gitea", format!("/gitea/api/v1/repos/acme/web/statuses/{commit}"), "authorization", format!("token {TOKEN}"), "context", "pending"),
        ];
        for (kind, path, header, value, context, started) in &forges {
            let states = eventually(&format!("{kind} statuses"), SETTLE, || async {
                let states: Vec<String> = forge
                    .received()
                    .into_iter()
                    .filter(|r| r.path == *path)
                    .filter_map(|r| r.body["state"].as_str().map(str::to_owned))
                    .collect();
                (states.len() >= 2).then_some(states)
            })
            .await?;
            ensure!(states == [*started, "success"], "{kind}: {states:?}");
            let last = forge.received().into_iter().rfind(|r| r.path == *path).context("none")?;
            ensure!(last.headers.get(*header) == Some(value), "{kind}: {:?}", last.headers);
            ensure!(last.body[*context] == format!("driftless/{ns}/web").as_str(), "{kind}: {:?}", last.body);
        }

        // The flaky receiver: the first two attempts fail, the third delivers; each failure is
        // a Warning Event on the Provider and a metric, and none names the secret URL.
        flaky
            .wait_for("a delivery after two failures", |r| is_reason(r, "SyncStarted"))
            .await?;
        let attempts = eventually("three attempts of the first event", SETTLE, || async {
            let n = flaky.answered.load(Ordering::SeqCst);
            (n >= 3).then_some(n)
        })
        .await?;
        let first_three: Vec<Value> = flaky.received().iter().take(3).map(|r| r.body["reason"].clone()).collect();
        ensure!(first_three == vec![json!("SyncStarted"); 3], "{first_three:?} after {attempts}");
        flaky.wait_for("SyncSucceeded after the retries", |r| is_reason(r, "SyncSucceeded")).await?;
        let failures = eventually("two DeliveryFailed Events", SETTLE, || async {
            let events = events_of(&client, &ns, "flaky", "DeliveryFailed").await.ok()?;
            let count: i32 = events
                .iter()
                .map(|e| e.series.as_ref().map_or(1, |s| s.count))
                .sum();
            (count >= 2).then_some(events)
        })
        .await?;
        for event in &failures {
            let note = event.note.clone().unwrap_or_default();
            ensure!(note.contains("HTTP 503") && note.contains("retrying"), "{note}");
            ensure!(!note.contains("xyzzy"), "the secret URL is in an Event: {note}");
        }
        let metrics = metrics_text()?;
        let line = format!(
            "driftless_notification_deliveries_total{{namespace=\"{ns}\",provider=\"flaky\",provider_type=\"generic\",result=\"error\"}} 2"
        );
        ensure!(metrics.contains(&line), "no {line} in\n{metrics}");
        ensure!(!metrics.contains("xyzzy"), "a secret in the metrics");
        ready_where::<Provider>(&client, &ns, "flaky", |s, _, _| s == "True").await?;

        // The Provider that is down: five attempts, then its Ready says so; the sync did not wait.
        let (_, _, message) = ready_where::<Provider>(&client, &ns, "down", |s, r, _| {
            s == "False" && r == "DeliveryFailed"
        })
        .await?;
        ensure!(
            message.starts_with(&format!("delivering SyncStarted of Application {ns}/web (Alert down) failed 5 times, last: connecting failed")),
            "{message}"
        );
        let line = format!(
            "driftless_notification_deliveries_total{{namespace=\"{ns}\",provider=\"down\",provider_type=\"generic\",result=\"error\"}} 5"
        );
        let metrics = metrics_text()?;
        ensure!(metrics.contains(&line), "no {line} in\n{metrics}");
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn a_slow_receiver_does_not_hold_up_syncs() -> anyhow::Result<()> {
    controller()?;
    with_namespace("notify-slow", |client, ns| async move {
        let gate = Arc::new(Semaphore::new(0));
        let slow = Receiver::start(Behaviour {
            gate: Some(gate.clone()),
            ..Behaviour::default()
        })
        .await?;
        // It never answers while the test holds it, so the controller must not time out first.
        provider(
            &client,
            &ns,
            "slow",
            json!({"type": "generic", "address": slow.url, "timeout": "10m"}),
        )
        .await?;
        alert(
            &client,
            &ns,
            "slow",
            "slow",
            json!({"eventReasons": ["SyncSucceeded"]}),
        )
        .await?;
        ready_where::<Alert>(&client, &ns, "slow", |s, _, _| s == "True").await?;

        let repo = tempfile::tempdir()?;
        let (url, work) = repository(repo.path())?;
        let first = git(&work, &["rev-parse", "HEAD"])?;
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        apps.create(&PostParams::default(), &application(&ns, &url, true)?)
            .await?;
        app_where(&apps, "synced at the first commit", |s| {
            synced_at(s, &first)
        })
        .await?;
        slow.wait_for("the first notification arriving", |r| {
            is_reason(r, "SyncSucceeded")
        })
        .await?;

        // The receiver holds that request; the next commit is synced all the same.
        let second = commit(
            &work,
            "settings.yaml",
            &config_map("settings", "slow"),
            "slow",
        )?;
        app_where(&apps, "synced at the second commit", |s| {
            synced_at(s, &second)
        })
        .await?;
        let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        let live = configmaps.get("settings").await?;
        ensure!(live.data.and_then(|d| d.get("mode").cloned()).as_deref() == Some("slow"));
        ensure!(
            slow.answered.load(Ordering::SeqCst) == 0,
            "the receiver answered before it was let"
        );
        ensure!(
            slow.received().len() == 1,
            "deliveries to one Provider are one at a time: {:?}",
            slow.received()
        );

        // Let go: both notifications arrive, in order.
        gate.add_permits(1);
        let revisions = eventually("both notifications", SETTLE, || async {
            let revisions: Vec<String> = slow
                .received()
                .iter()
                .filter(|r| is_reason(r, "SyncSucceeded"))
                .filter_map(|r| r.body["metadata"]["revision"].as_str().map(str::to_owned))
                .collect();
            (revisions.len() >= 2).then_some(revisions)
        })
        .await?;
        ensure!(revisions[..2] == [first, second], "{revisions:?}");
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn a_missing_secret_a_bad_provider_and_a_missing_provider_are_named() -> anyhow::Result<()> {
    controller()?;
    with_namespace("notify-bad", |client, ns| async move {
        provider(&client, &ns, "keyless", json!({"type": "generic-hmac", "address": "http://127.0.0.1:9/hook", "secretRef": {"name": "nowhere"}})).await?;
        provider(&client, &ns, "pager", json!({"type": "pagerduty", "address": "http://127.0.0.1:9/"})).await?;
        alert(&client, &ns, "orphan", "absent", json!({})).await?;
        alert(&client, &ns, "typo", "pager", json!({"template": "{{ nmae }}"})).await?;
        alert(&client, &ns, "loud", "pager", json!({"eventSeverity": "critical"})).await?;
        alert(&client, &ns, "quiet", "keyless", json!({"suspend": true})).await?;

        let (_, reason, message) =
            ready_where::<Provider>(&client, &ns, "keyless", |s, _, _| s == "False").await?;
        ensure!(reason == "SecretNotFound", "{reason}");
        ensure!(message == format!("spec.secretRef: Secret {ns}/nowhere not found"), "{message}");
        let (_, reason, message) =
            ready_where::<Provider>(&client, &ns, "pager", |s, _, _| s == "False").await?;
        ensure!(reason == "InvalidSpec" && message.starts_with("spec.type: \"pagerduty\""), "{reason}: {message}");
        let (_, reason, message) =
            ready_where::<Alert>(&client, &ns, "orphan", |s, _, _| s == "False").await?;
        ensure!(reason == "ProviderNotFound", "{reason}");
        ensure!(message == format!("spec.providerRef: Provider {ns}/absent not found"), "{message}");
        let (_, reason, message) =
            ready_where::<Alert>(&client, &ns, "typo", |s, _, _| s == "False").await?;
        ensure!(reason == "InvalidSpec" && message.starts_with("spec.template: line 1: undefined value"), "{reason}: {message}");
        let (_, _, message) =
            ready_where::<Alert>(&client, &ns, "loud", |s, _, _| s == "False").await?;
        ensure!(message == "spec.eventSeverity: \"critical\" is not info or error", "{message}");
        let (_, reason, _) =
            ready_where::<Alert>(&client, &ns, "quiet", |s, _, _| s == "False").await?;
        ensure!(reason == "Suspended", "{reason}");
        let warned = eventually("a Warning Event naming the Secret", SETTLE, || async {
            events_of(&client, &ns, "keyless", "SecretNotFound").await.ok().filter(|e| !e.is_empty())
        })
        .await?;
        ensure!(warned[0].type_.as_deref() == Some("Warning"), "{warned:?}");

        // The Secret appears with its key: the Provider is ready once it changes (or delivers).
        secret(&client, &ns, "nowhere", json!({"token": "k"})).await?;
        let providers: Api<Provider> = Api::namespaced(client.clone(), &ns);
        let touch = json!({"spec": {"timeout": "5s"}});
        providers.patch("keyless", &PatchParams::default(), &Patch::Merge(touch)).await?;
        ready_where::<Provider>(&client, &ns, "keyless", |s, r, _| s == "True" && r == "Valid").await?;
        // The missing Provider appears: its Alert is ready.
        provider(&client, &ns, "absent", json!({"type": "generic", "address": "http://127.0.0.1:9/"})).await?;
        ready_where::<Alert>(&client, &ns, "orphan", |s, _, _| s == "True").await?;
        Ok(())
    })
    .await?
}
