//! The `driftless controller` binary as people run it, against the real test control plane:
//! the webhook receiver (a bad signature refused, a good one refreshing at once), /metrics and
//! /readyz, and two replicas under leader election where only the leader acts and a follower
//! takes over when the leader dies.
//!
//! One test: every controller watches every Application of the cluster, so two of these must
//! never run at the same time against one control plane.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use driftless_api::{Application, SyncStatusCode};
use driftless_testenv::{eventually, git, with_namespace};
use hmac::{Hmac, Mac};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, PostParams};

/// Generous bound for the controller to act on a busy machine; not a performance figure.
const SETTLE: Duration = Duration::from_secs(90);
const SECRET: &str = "webhook-test-secret";

/// A controller process, stopped when dropped.
struct Controller {
    child: Child,
    port: u16,
}

impl Controller {
    fn start(cache: &Path, extra: &[&str], pod: &str) -> anyhow::Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let kubeconfig = driftless_testenv::shared()?.kubeconfig().to_owned();
        let child = Command::new(env!("CARGO_BIN_EXE_driftless"))
            .args(["controller", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--cache-dir")
            .arg(cache)
            .args(extra)
            .env("KUBECONFIG", kubeconfig)
            .env("DRIFTLESS_WEBHOOK_SECRET", SECRET)
            .env("POD_NAME", pod)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        Ok(Self { child, port })
    }

    fn get(&self, path: &str) -> anyhow::Result<(u16, String)> {
        http(self.port, "GET", path, &[], b"")
    }

    /// A GitHub push webhook for `url`, signed with `secret`.
    fn push(&self, url: &str, commit: &str, secret: &str) -> anyhow::Result<u16> {
        let body = serde_json::to_vec(&serde_json::json!({
            "ref": "refs/heads/main", "after": commit,
            "repository": {"clone_url": url, "html_url": url},
        }))?;
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())?;
        mac.update(&body);
        let signature: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let headers = [
            ("X-GitHub-Event", "push".to_owned()),
            ("X-Hub-Signature-256", format!("sha256={signature}")),
            ("Content-Type", "application/json".to_owned()),
        ];
        Ok(http(self.port, "POST", "/api/webhook", &headers, &body)?.0)
    }

    fn terminate(&mut self) -> anyhow::Result<()> {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request on loopback; the status code and body.
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> anyhow::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes())?;
    stream.write_all(body)?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let code = response
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .context("no status line")?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((code, body))
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

async fn mode(configmaps: &Api<ConfigMap>) -> Option<String> {
    configmaps
        .get("settings")
        .await
        .ok()?
        .data?
        .get("mode")
        .cloned()
}

async fn mode_becomes(configmaps: &Api<ConfigMap>, want: &str) -> anyhow::Result<()> {
    eventually(&format!("mode {want}"), SETTLE, || async {
        (mode(configmaps).await? == want).then_some(())
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn webhooks_refresh_at_once_and_only_the_leader_of_two_replicas_acts() -> anyhow::Result<()> {
    with_namespace("proc-controller", |client, ns| async move {
        driftless_testenv::install_project_crds(&client).await?;
        let repo = tempfile::tempdir()?;
        git(repo.path(), &["init", "-q", "-b", "main"])?;
        git(repo.path(), &["config", "user.email", "t@example.com"])?;
        git(repo.path(), &["config", "user.name", "t"])?;
        commit_mode(repo.path(), "fast")?;
        let url = format!("file://{}", repo.path().display());
        let cache = tempfile::tempdir()?;

        let mut single = Controller::start(cache.path(), &[], "single")?;
        eventually("/readyz to answer 200", SETTLE, || async {
            (single.get("/readyz").ok()?.0 == 200).then_some(())
        })
        .await?;
        ensure!(single.get("/healthz")?.0 == 200);

        // Polling once an hour: only the webhook can explain a prompt refresh.
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        let app: Application = serde_json::from_value(serde_json::json!({
            "apiVersion": "driftless.dev/v1alpha1", "kind": "Application",
            "metadata": {"name": "app", "namespace": ns},
            "spec": {"source": {"repoURL": url, "targetRevision": "main", "path": "deploy"},
                     "destination": {"namespace": ns}, "interval": "1h",
                     "syncPolicy": {"automated": {"prune": true, "selfHeal": true}}},
        }))?;
        apps.create(&PostParams::default(), &app).await?;
        let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        mode_becomes(&configmaps, "fast").await?;

        let second = commit_mode(repo.path(), "slow")?;
        ensure!(
            single.push(&url, &second, "not-the-secret")? == 401,
            "a bad signature was not refused"
        );
        tokio::time::sleep(Duration::from_secs(3)).await;
        ensure!(
            mode(&configmaps).await.as_deref() == Some("fast"),
            "a refused webhook refreshed"
        );
        ensure!(single.push(&url, &second, SECRET)? == 202);
        mode_becomes(&configmaps, "slow").await?;

        let (code, metrics) = single.get("/metrics")?;
        ensure!(code == 200);
        let info = metrics
            .lines()
            .find(|l| l.starts_with("driftless_app_info{") && l.contains("name=\"app\""))
            .context("no driftless_app_info series for the app")?;
        ensure!(info.contains(&format!("namespace=\"{ns}\"")), "{info}");
        ensure!(metrics.contains("driftless_reconcile_total"), "{metrics}");
        ensure!(metrics.contains("driftless_sync_total"));
        single.terminate()?;

        // Two replicas on one lease.
        let lease = ["--leader-elect", "--lease-namespace", ns.as_str()];
        let one = Controller::start(cache.path(), &lease, "replica-one")?;
        let two = Controller::start(cache.path(), &lease, "replica-two")?;
        let leases: Api<Lease> = Api::namespaced(client.clone(), &ns);
        let holder = eventually("a leader", SETTLE, || async {
            leases
                .get("driftless-controller")
                .await
                .ok()?
                .spec?
                .holder_identity
                .filter(|h| !h.is_empty())
        })
        .await?;
        let (mut leader, follower, follower_name) = match holder.as_str() {
            "replica-one" => (one, two, "replica-two"),
            "replica-two" => (two, one, "replica-one"),
            other => bail!("unexpected lease holder {other}"),
        };
        eventually("the leader to be ready", SETTLE, || async {
            (leader.get("/readyz").ok()?.0 == 200).then_some(())
        })
        .await?;
        ensure!(
            follower.get("/readyz")?.0 == 503,
            "a follower reports ready"
        );

        let third = commit_mode(repo.path(), "third")?;
        ensure!(leader.push(&url, &third, SECRET)? == 202);
        ensure!(follower.push(&url, &third, SECRET)? == 202);
        mode_becomes(&configmaps, "third").await?;
        let events: Api<Event> = Api::namespaced(client.clone(), &ns);
        let by_follower = events
            .list(&Default::default())
            .await?
            .items
            .into_iter()
            .filter(|e| e.reporting_instance.as_deref() == Some(follower_name))
            .count();
        ensure!(
            by_follower == 0,
            "the follower published {by_follower} events"
        );

        // The leader dies without releasing: the follower takes over when the lease expires.
        let _ = leader.child.kill();
        let _ = leader.child.wait();
        eventually("the follower to lead", SETTLE, || async {
            (follower.get("/readyz").ok()?.0 == 200).then_some(())
        })
        .await?;
        let fourth = commit_mode(repo.path(), "fourth")?;
        ensure!(follower.push(&url, &fourth, SECRET)? == 202);
        mode_becomes(&configmaps, "fourth").await?;
        let status = apps.get("app").await?.status.context("no status")?;
        ensure!(
            status
                .sync
                .is_some_and(|s| s.status == SyncStatusCode::Synced)
        );
        Ok(())
    })
    .await?
}
