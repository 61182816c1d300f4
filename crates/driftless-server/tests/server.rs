//! The server on a loopback port, driven by a real HTTP client.
#![allow(clippy::unwrap_used)] // fixtures: a panic is the test failure

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::Result;
use driftless_server::{Provider, PushEvent, ServerState, WebhookSecrets, serve};
use hmac::{Hmac, Mac};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;
use sha2::Sha256;
use tokio::sync::oneshot;

const GITHUB_SECRET: &str = "gh-s3cret";
const GITLAB_SECRET: &str = "gl-t0ken";
const SHARED_SECRET: &str = "shared-s3cret";

/// Everything the server logged, from every test in this binary (the subscriber is global).
fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let writer = logs.clone();
        tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || Capture(writer.clone()))
            .init();
        logs
    })
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A running server and what it saw.
struct Harness {
    base: String,
    ready: Arc<AtomicBool>,
    pushes: Arc<Mutex<Vec<PushEvent>>>,
    client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Harness {
    async fn start(secrets: WebhookSecrets) -> Result<Self> {
        logs();
        let mut registry = Registry::default();
        let requests = Counter::<u64>::default();
        requests.inc_by(7);
        registry.register("test_things", "Things counted by the test", requests);
        let ready = Arc::new(AtomicBool::new(false));
        let pushes = Arc::new(Mutex::new(Vec::new()));
        let state = ServerState {
            registry: Arc::new(registry),
            ready: {
                let ready = ready.clone();
                Arc::new(move || ready.load(Ordering::SeqCst))
            },
            secrets,
            on_push: {
                let pushes = pushes.clone();
                Arc::new(move |push| pushes.lock().unwrap().push(push))
            },
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address: SocketAddr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, state, async {
            let _ = stopped.await;
        }));
        Ok(Self {
            base: format!("http://{address}"),
            ready,
            pushes,
            client: reqwest::Client::new(),
            stop: Some(stop),
            task,
        })
    }

    fn pushes(&self) -> Vec<PushEvent> {
        self.pushes.lock().unwrap().clone()
    }

    async fn get(&self, path: &str) -> Result<(u16, String)> {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await?;
        Ok((response.status().as_u16(), response.text().await?))
    }

    async fn post(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<(u16, String)> {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await?;
        Ok((response.status().as_u16(), response.text().await?))
    }

    async fn stop(mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.await??;
        Ok(())
    }
}

fn secrets() -> WebhookSecrets {
    WebhookSecrets {
        github: Some(GITHUB_SECRET.to_owned()),
        gitlab: Some(GITLAB_SECRET.to_owned()),
        gitea: None,
        shared: Some(SHARED_SECRET.to_owned()),
    }
}

fn hmac_hex(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn github_push() -> Vec<u8> {
    br#"{
  "ref": "refs/heads/main",
  "before": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
  "after": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
  "created": false,
  "deleted": false,
  "repository": {
    "id": 42,
    "name": "shop",
    "full_name": "acme/shop",
    "html_url": "https://github.example/acme/shop",
    "clone_url": "https://github.example/acme/shop.git",
    "ssh_url": "git@github.example:acme/shop.git",
    "default_branch": "main"
  },
  "pusher": {"name": "dev", "email": "dev@acme.example"},
  "head_commit": {"id": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "message": "Bump image"}
}"#
    .to_vec()
}

fn gitlab_push() -> Vec<u8> {
    br#"{
  "object_kind": "push",
  "event_name": "push",
  "ref": "refs/heads/release",
  "before": "cccccccccccccccccccccccccccccccccccccccc",
  "after": "dddddddddddddddddddddddddddddddddddddddd",
  "checkout_sha": "dddddddddddddddddddddddddddddddddddddddd",
  "project": {
    "id": 7,
    "path_with_namespace": "team/api",
    "web_url": "https://gitlab.example/team/api",
    "git_ssh_url": "git@gitlab.example:team/api.git",
    "git_http_url": "https://gitlab.example/team/api.git"
  },
  "total_commits_count": 1
}"#
    .to_vec()
}

fn gitea_push() -> Vec<u8> {
    br#"{
  "ref": "refs/tags/v1.4.0",
  "before": "0000000000000000000000000000000000000000",
  "after": "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
  "repository": {
    "full_name": "ops/infra",
    "html_url": "http://gitea.example:3000/ops/infra",
    "clone_url": "http://gitea.example:3000/ops/infra.git",
    "ssh_url": "ssh://git@gitea.example:2222/ops/infra.git"
  }
}"#
    .to_vec()
}

#[tokio::test]
async fn probes_and_metrics() -> Result<()> {
    let server = Harness::start(secrets()).await?;
    assert_eq!(server.get("/healthz").await?, (200, "ok".to_owned()));
    assert_eq!(server.get("/readyz").await?, (503, "not ready".to_owned()));
    server.ready.store(true, Ordering::SeqCst);
    assert_eq!(server.get("/readyz").await?, (200, "ok".to_owned()));
    server.ready.store(false, Ordering::SeqCst);
    assert_eq!(server.get("/readyz").await?.0, 503);

    let response = server
        .client
        .get(format!("{}/metrics", server.base))
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let text = response.text().await?;
    assert!(text.contains("# TYPE test_things counter\n"), "{text}");
    assert!(text.contains("test_things_total 7\n"), "{text}");
    assert!(text.ends_with("# EOF\n"), "{text}");

    assert_eq!(server.get("/nowhere").await?.0, 404);
    assert_eq!(server.get("/api/webhook").await?.0, 405);
    server.stop().await
}

#[tokio::test]
async fn a_signed_github_push_reaches_the_callback() -> Result<()> {
    let server = Harness::start(secrets()).await?;
    let body = github_push();
    let signature = format!("sha256={}", hmac_hex(GITHUB_SECRET, &body));
    let (status, text) = server
        .post(
            "/api/webhook",
            &[
                ("X-GitHub-Event", "push"),
                ("X-GitHub-Delivery", "3f1c0f2e-0000-4000-8000-000000000001"),
                ("X-Hub-Signature-256", &signature),
            ],
            body,
        )
        .await?;
    assert_eq!(status, 202, "{text}");
    assert!(text.contains("\"status\":\"accepted\""), "{text}");
    let pushes = server.pushes();
    assert_eq!(pushes.len(), 1);
    let push = &pushes[0];
    assert_eq!(push.provider, Provider::GitHub);
    assert_eq!(push.git_ref, "refs/heads/main");
    assert_eq!(
        push.after.as_deref(),
        Some("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
    );
    assert_eq!(
        push.repository_urls,
        [
            "https://github.example/acme/shop.git",
            "git@github.example:acme/shop.git",
            "https://github.example/acme/shop",
        ]
    );
    assert!(push.names_repository("https://GitHub.example/acme/shop/"));
    server.stop().await
}

#[tokio::test]
async fn a_wrong_github_signature_is_refused() -> Result<()> {
    let server = Harness::start(secrets()).await?;
    let body = github_push();
    // Signed with the shared secret, but GitHub has its own.
    let signature = format!("sha256={}", hmac_hex(SHARED_SECRET, &body));
    let (status, text) = server
        .post(
            "/webhook",
            &[
                ("X-GitHub-Event", "push"),
                ("X-Hub-Signature-256", &signature),
            ],
            body.clone(),
        )
        .await?;
    assert_eq!(status, 401, "{text}");
    assert!(
        text.contains("does not match the configured secret"),
        "{text}"
    );
    assert!(!text.contains(GITHUB_SECRET), "{text}");
    assert!(!text.contains(&hmac_hex(GITHUB_SECRET, &body)), "{text}");
    let (status, _) = server
        .post("/webhook", &[("X-GitHub-Event", "push")], body)
        .await?;
    assert_eq!(status, 401);
    assert!(server.pushes().is_empty());
    server.stop().await
}

#[tokio::test]
async fn gitlab_tokens_are_checked() -> Result<()> {
    let server = Harness::start(secrets()).await?;
    let (status, text) = server
        .post(
            "/api/webhook",
            &[("X-Gitlab-Event", "Push Hook"), ("X-Gitlab-Token", "guess")],
            gitlab_push(),
        )
        .await?;
    assert_eq!(status, 401, "{text}");
    assert!(server.pushes().is_empty());
    let (status, text) = server
        .post(
            "/api/webhook",
            &[
                ("X-Gitlab-Event", "Push Hook"),
                ("X-Gitlab-Token", GITLAB_SECRET),
            ],
            gitlab_push(),
        )
        .await?;
    assert_eq!(status, 202, "{text}");
    let pushes = server.pushes();
    assert_eq!(pushes.len(), 1);
    assert_eq!(pushes[0].provider, Provider::GitLab);
    assert_eq!(pushes[0].git_ref, "refs/heads/release");
    assert!(pushes[0].names_repository("ssh://git@gitlab.example/team/api"));
    server.stop().await
}

#[tokio::test]
async fn a_gitea_signature_with_the_shared_secret_is_accepted() -> Result<()> {
    let server = Harness::start(secrets()).await?;
    let body = gitea_push();
    let signature = hmac_hex(SHARED_SECRET, &body);
    let hub = format!("sha256={signature}");
    let (status, text) = server
        .post(
            "/api/webhook",
            &[
                ("X-GitHub-Event", "push"),
                ("X-Gogs-Event", "push"),
                ("X-Gitea-Event", "push"),
                ("X-Gitea-Signature", &signature),
                ("X-Hub-Signature-256", &hub),
            ],
            body,
        )
        .await?;
    assert_eq!(status, 202, "{text}");
    let pushes = server.pushes();
    assert_eq!(pushes.len(), 1);
    assert_eq!(pushes[0].provider, Provider::Gitea);
    assert_eq!(pushes[0].tag(), Some("v1.4.0"));
    // scp-like syntax has no port: `2222/ops/infra` is a path, so another repository.
    assert!(!pushes[0].names_repository("git@gitea.example:2222/ops/infra"));
    assert!(pushes[0].names_repository("ssh://git@gitea.example:2222/ops/infra"));
    assert!(pushes[0].names_repository("http://gitea.example:3000/ops/infra"));
    server.stop().await
}

#[tokio::test]
async fn a_provider_without_a_secret_is_forbidden() -> Result<()> {
    let server = Harness::start(WebhookSecrets {
        github: Some(GITHUB_SECRET.to_owned()),
        ..WebhookSecrets::default()
    })
    .await?;
    let (status, text) = server
        .post(
            "/api/webhook",
            &[("X-Gitlab-Event", "Push Hook"), ("X-Gitlab-Token", "")],
            gitlab_push(),
        )
        .await?;
    assert_eq!(status, 403, "{text}");
    assert!(
        text.contains("no secret configured for gitlab webhooks"),
        "{text}"
    );
    assert!(server.pushes().is_empty());
    server.stop().await
}

#[tokio::test]
async fn oversized_and_malformed_bodies_are_refused() -> Result<()> {
    let server = Harness::start(secrets()).await?;
    let big = vec![b' '; driftless_server::MAX_BODY_BYTES + 1];
    let signature = format!("sha256={}", hmac_hex(GITHUB_SECRET, &big));
    let (status, text) = server
        .post(
            "/api/webhook",
            &[
                ("X-GitHub-Event", "push"),
                ("X-Hub-Signature-256", &signature),
            ],
            big,
        )
        .await?;
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("larger than the limit"), "{text}");

    let body = b"{\"ref\": \"refs/heads/main\", \"repository\": ".to_vec();
    let signature = format!("sha256={}", hmac_hex(GITHUB_SECRET, &body));
    let (status, text) = server
        .post(
            "/api/webhook",
            &[
                ("X-GitHub-Event", "push"),
                ("X-Hub-Signature-256", &signature),
            ],
            body,
        )
        .await?;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("not valid JSON"), "{text}");
    assert_eq!(text.trim_end().lines().count(), 1, "{text}");

    let (status, text) = server.post("/api/webhook", &[], github_push()).await?;
    assert_eq!(status, 400, "{text}");
    assert!(server.pushes().is_empty());
    server.stop().await
}

#[tokio::test]
async fn a_ping_is_answered_without_a_refresh() -> Result<()> {
    let server = Harness::start(secrets()).await?;
    let body = br#"{"zen":"Design for failure.","hook_id":99,"hook":{"type":"Repository","events":["push"]}}"#.to_vec();
    let signature = format!("sha256={}", hmac_hex(GITHUB_SECRET, &body));
    let (status, text) = server
        .post(
            "/api/webhook",
            &[
                ("X-GitHub-Event", "ping"),
                ("X-Hub-Signature-256", &signature),
            ],
            body,
        )
        .await?;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("\"status\":\"ignored\""), "{text}");
    assert!(server.pushes().is_empty());
    server.stop().await
}

#[tokio::test]
async fn webhooks_are_logged_without_secrets() -> Result<()> {
    let server = Harness::start(secrets()).await?;
    let body = github_push();
    let good = format!("sha256={}", hmac_hex(GITHUB_SECRET, &body));
    let bad = format!("sha256={}", hmac_hex("guess", &body));
    for signature in [&good, &bad] {
        server
            .post(
                "/api/webhook",
                &[
                    ("X-GitHub-Event", "push"),
                    ("X-Hub-Signature-256", signature),
                ],
                body.clone(),
            )
            .await?;
    }
    server
        .post(
            "/api/webhook",
            &[
                ("X-Gitlab-Event", "Push Hook"),
                ("X-Gitlab-Token", "wrong-token"),
            ],
            gitlab_push(),
        )
        .await?;
    server.stop().await?;
    let logs = String::from_utf8(logs().lock().unwrap().clone())?;
    assert!(
        logs.lines()
            .any(|line| line.contains("webhook push accepted")
                && line.contains("provider=github")
                && line.contains("repository=github.example/acme/shop")
                && line.contains("git_ref=refs/heads/main")),
        "{logs}"
    );
    assert!(
        logs.contains("webhook refused error=github webhook X-Hub-Signature-256 does not match"),
        "{logs}"
    );
    for secret in [GITHUB_SECRET, GITLAB_SECRET, SHARED_SECRET, "wrong-token"] {
        assert!(!logs.contains(secret), "{secret} logged: {logs}");
    }
    assert!(!logs.contains(&hmac_hex(GITHUB_SECRET, &body)), "{logs}");
    Ok(())
}
