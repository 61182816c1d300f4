//! The server on a loopback port, driven by a real HTTP client.
#![allow(clippy::unwrap_used)] // fixtures: a panic is the test failure

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::Result;
use driftless_server::{Guard, Limits, Provider, PushEvent, ServerState, WebhookSecrets, serve};
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
        Self::start_with(secrets, Limits::default()).await
    }

    async fn start_with(secrets: WebhookSecrets, limits: Limits) -> Result<Self> {
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
            guard: Arc::new(Guard::new(limits)),
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

/// Limits that never get in the way of a suite of many refused requests from one address.
fn lenient() -> Limits {
    let n = |v: u32| std::num::NonZeroU32::new(v).unwrap();
    Limits {
        per_second: n(10_000),
        burst: n(10_000),
        refusals_per_minute: n(10_000),
        refusal_burst: n(10_000),
        deliveries: 1_000,
    }
}

/// One abusive request: what it is, how it is sent, and the status it must get.
struct Abuse {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    status: u16,
}

fn abuse(
    name: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    status: u16,
) -> Abuse {
    Abuse {
        name,
        method: "POST",
        path: "/api/webhook",
        headers,
        body,
        status,
    }
}

fn signed(event: &'static str, body: &[u8]) -> Vec<(&'static str, String)> {
    vec![
        ("X-GitHub-Event", event.to_owned()),
        (
            "X-Hub-Signature-256",
            format!("sha256={}", hmac_hex(GITHUB_SECRET, body)),
        ),
    ]
}

fn github(signature: String) -> Vec<(&'static str, String)> {
    vec![
        ("X-GitHub-Event", "push".to_owned()),
        ("X-Hub-Signature-256", signature),
    ]
}

fn gitlab(token: &str) -> Vec<(&'static str, String)> {
    vec![
        ("X-Gitlab-Event", "Push Hook".to_owned()),
        ("X-Gitlab-Token", token.to_owned()),
    ]
}

/// Forged, tampered, oversized, malformed and misdirected webhook requests: each refused with
/// its status, none a push. Prints handled / total (issue 23's figure).
#[tokio::test]
async fn every_kind_of_abusive_webhook_is_refused() -> Result<()> {
    let server = Harness::start_with(secrets(), lenient()).await?;
    let push = github_push();
    let good = hmac_hex(GITHUB_SECRET, &push);
    let signed_push = |body: Vec<u8>, status: u16, name: &'static str| {
        abuse(name, signed("push", &body), body, status)
    };
    let mut tampered = push.clone();
    tampered[20] ^= 1;
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes();
    let mut cases = vec![
        abuse(
            "github: no signature",
            vec![("X-GitHub-Event", "push".to_owned())],
            push.clone(),
            401,
        ),
        abuse(
            "github: signed with another secret",
            github(format!("sha256={}", hmac_hex("guess", &push))),
            push.clone(),
            401,
        ),
        abuse(
            "github: signature of another body",
            github(format!("sha256={}", hmac_hex(GITHUB_SECRET, b"{}"))),
            push.clone(),
            401,
        ),
        abuse(
            "github: body tampered after signing",
            github(format!("sha256={good}")),
            tampered,
            401,
        ),
        abuse(
            "github: only the legacy SHA-1 header",
            vec![
                ("X-GitHub-Event", "push".to_owned()),
                ("X-Hub-Signature", format!("sha1={}", &good[..40])),
            ],
            push.clone(),
            401,
        ),
        abuse(
            "github: signature without its sha256= prefix",
            github(good.clone()),
            push.clone(),
            401,
        ),
        abuse(
            "github: another algorithm's prefix",
            github(format!("sha512={good}")),
            push.clone(),
            401,
        ),
        abuse(
            "github: empty signature",
            github(String::new()),
            push.clone(),
            401,
        ),
        abuse(
            "github: prefix and nothing else",
            github("sha256=".to_owned()),
            push.clone(),
            401,
        ),
        abuse(
            "github: truncated signature",
            github(format!("sha256={}", &good[..60])),
            push.clone(),
            401,
        ),
        abuse(
            "github: signature with extra digits",
            github(format!("sha256={good}00")),
            push.clone(),
            401,
        ),
        abuse(
            "github: signature that is not hex",
            github(format!("sha256={}", "zz".repeat(32))),
            push.clone(),
            401,
        ),
        abuse(
            "github: odd-length hex",
            github(format!("sha256={}", &good[..63])),
            push.clone(),
            401,
        ),
        abuse(
            "github: two signatures in one header",
            github(format!("sha256={good},sha256={good}")),
            push.clone(),
            401,
        ),
        signed_push(
            vec![b' '; driftless_server::MAX_BODY_BYTES + 1],
            413,
            "github: body over the limit, signed",
        ),
        signed_push(
            b"{\"ref\": \"refs/heads/main\", \"repository\": ".to_vec(),
            400,
            "github: truncated JSON, signed",
        ),
        signed_push(
            b"[1, 2, 3]".to_vec(),
            400,
            "github: JSON that is not an object, signed",
        ),
        signed_push(
            b"{\"ref\": \"refs/heads/main\"}".to_vec(),
            400,
            "github: push without a repository, signed",
        ),
        signed_push(
            br#"{"repository": {"clone_url": "https://github.example/acme/shop.git"}}"#.to_vec(),
            400,
            "github: push without a ref, signed",
        ),
        signed_push(
            br#"{"ref": 7, "repository": {"clone_url": "https://github.example/acme/shop.git"}}"#
                .to_vec(),
            400,
            "github: ref that is not a string, signed",
        ),
        signed_push(nested, 400, "github: JSON nested 100,000 deep, signed"),
        signed_push(
            b"{\"ref\": \"\xff\xfe\"}".to_vec(),
            400,
            "github: invalid UTF-8, signed",
        ),
        signed_push(b"\0\0\0\0".to_vec(), 400, "github: NUL bytes, signed"),
        signed_push(Vec::new(), 400, "github: empty body, signed"),
        abuse("no provider header", Vec::new(), push.clone(), 400),
        abuse(
            "an unknown provider's header",
            vec![("X-Bitbucket-Event", "repo:push".to_owned())],
            push.clone(),
            400,
        ),
        abuse(
            "an empty event header",
            vec![("X-GitHub-Event", String::new())],
            push.clone(),
            400,
        ),
        abuse(
            "gitlab: no token",
            vec![("X-Gitlab-Event", "Push Hook".to_owned())],
            gitlab_push(),
            401,
        ),
        abuse("gitlab: wrong token", gitlab("guess"), gitlab_push(), 401),
        abuse(
            "gitlab: another provider's secret",
            gitlab(GITHUB_SECRET),
            gitlab_push(),
            401,
        ),
        abuse(
            "gitlab: token in another case",
            gitlab(&GITLAB_SECRET.to_uppercase()),
            gitlab_push(),
            401,
        ),
        abuse(
            "gitlab: token cut short",
            gitlab(&GITLAB_SECRET[..GITLAB_SECRET.len() - 1]),
            gitlab_push(),
            401,
        ),
        abuse(
            "gitlab: token with a character more",
            gitlab(&format!("{GITLAB_SECRET}x")),
            gitlab_push(),
            401,
        ),
        abuse(
            "gitea: no signature",
            vec![("X-Gitea-Event", "push".to_owned())],
            gitea_push(),
            401,
        ),
        abuse(
            "gitea: signed with another secret",
            vec![
                ("X-Gitea-Event", "push".to_owned()),
                ("X-Gitea-Signature", hmac_hex("guess", &gitea_push())),
            ],
            gitea_push(),
            401,
        ),
        abuse(
            "gitea: GitHub-style signature with another secret",
            vec![
                ("X-Gitea-Event", "push".to_owned()),
                (
                    "X-Hub-Signature-256",
                    format!("sha256={}", hmac_hex("guess", &gitea_push())),
                ),
            ],
            gitea_push(),
            401,
        ),
    ];
    for (name, method, path) in [
        ("GET of the webhook", "GET", "/api/webhook"),
        ("PUT of the webhook", "PUT", "/api/webhook"),
        ("a webhook at another path", "POST", "/api/webhooks"),
    ] {
        cases.push(Abuse {
            name,
            method,
            path,
            headers: signed("push", &push),
            body: push.clone(),
            status: if path == "/api/webhook" { 405 } else { 404 },
        });
    }
    let total = cases.len();
    let mut handled = 0;
    let mut wrong = Vec::new();
    for case in cases {
        let method = reqwest::Method::from_bytes(case.method.as_bytes())?;
        let mut request = server
            .client
            .request(method, format!("{}{}", server.base, case.path))
            .header("content-type", "application/json")
            .body(case.body);
        for (name, value) in &case.headers {
            request = request.header(*name, value);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        let one_line = (404..406).contains(&status) || text.trim_end().lines().count() == 1;
        if status == case.status && one_line && server.pushes().is_empty() {
            handled += 1;
        } else {
            wrong.push(format!("{}: {status} {text}", case.name));
        }
    }
    println!("webhook abuse: {handled}/{total} handled");
    assert!(total >= 30, "only {total} kinds");
    assert!(wrong.is_empty(), "{wrong:#?}");
    server.stop().await
}

#[tokio::test]
async fn an_authentic_delivery_replayed_is_refused_and_a_forged_one_poisons_nothing() -> Result<()>
{
    let server = Harness::start_with(secrets(), lenient()).await?;
    let push = github_push();
    let mut headers: Vec<(&str, String)> = signed("push", &push);
    headers.push((
        "X-GitHub-Delivery",
        "72d3162e-cc78-11e3-81ab-4c9367dc0958".to_owned(),
    ));
    let send = |headers: Vec<(&'static str, String)>, body: Vec<u8>| {
        let server = &server;
        async move {
            let refs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            server.post("/api/webhook", &refs, body).await
        }
    };
    // A forged request with the id first: refused, and the id is not taken by it.
    let mut forged = headers.clone();
    forged[1].1 = format!("sha256={}", hmac_hex("guess", &push));
    assert_eq!(send(forged, push.clone()).await?.0, 401);
    assert_eq!(send(headers.clone(), push.clone()).await?.0, 202);
    let (status, text) = send(headers.clone(), push.clone()).await?;
    assert_eq!(status, 409, "{text}");
    assert!(
        text.contains("delivery 72d3162e-cc78-11e3-81ab-4c9367dc0958 was received before"),
        "{text}"
    );
    assert_eq!(server.pushes().len(), 1);
    // GitLab's and Gitea's ids, each in its provider's space.
    let mut gl: Vec<(&str, String)> = gitlab(GITLAB_SECRET);
    gl.push((
        "X-Gitlab-Event-UUID",
        "72d3162e-cc78-11e3-81ab-4c9367dc0958".to_owned(),
    ));
    assert_eq!(send(gl.clone(), gitlab_push()).await?.0, 202);
    assert_eq!(send(gl, gitlab_push()).await?.0, 409);
    let gitea = |id: &str| {
        vec![
            ("X-Gitea-Event", "push".to_owned()),
            ("X-Gitea-Signature", hmac_hex(SHARED_SECRET, &gitea_push())),
            ("X-Gitea-Delivery", id.to_owned()),
        ]
    };
    assert_eq!(send(gitea("g-1"), gitea_push()).await?.0, 202);
    assert_eq!(send(gitea("g-2"), gitea_push()).await?.0, 202);
    assert_eq!(send(gitea("g-1"), gitea_push()).await?.0, 409);
    assert_eq!(server.pushes().len(), 4);
    server.stop().await
}

#[tokio::test]
async fn each_address_is_rate_limited_and_one_that_keeps_failing_is_shut_out() -> Result<()> {
    let n = |v: u32| std::num::NonZeroU32::new(v).unwrap();
    let limits = Limits {
        per_second: n(1),
        burst: n(5),
        refusals_per_minute: n(1),
        refusal_burst: n(3),
        deliveries: 100,
    };
    let server = Harness::start_with(secrets(), limits).await?;
    let from = |last: u8| {
        reqwest::Client::builder()
            .local_address(std::net::IpAddr::from([127, 0, 0, last]))
            .build()
    };
    let push = github_push();
    let post = |client: reqwest::Client, signature: String| {
        let url = format!("{}/api/webhook", server.base);
        let body = push.clone();
        async move {
            let response = client
                .post(url)
                .header("X-GitHub-Event", "ping")
                .header("X-Hub-Signature-256", signature)
                .body(body)
                .send()
                .await?;
            let retry = response.headers().get("retry-after").cloned();
            anyhow::Ok((response.status().as_u16(), retry))
        }
    };
    let good = format!("sha256={}", hmac_hex(GITHUB_SECRET, &push));
    let bad = format!("sha256={}", hmac_hex("guess", &push));

    // A burst of five, then the rate: 429 with Retry-After. Another address is not affected.
    let busy = from(2)?;
    for _ in 0..5 {
        assert_eq!(post(busy.clone(), good.clone()).await?.0, 200);
    }
    let (status, retry) = post(busy.clone(), good.clone()).await?;
    assert_eq!(status, 429);
    assert_eq!(retry.as_ref().and_then(|v| v.to_str().ok()), Some("1"));
    assert_eq!(post(from(3)?, good.clone()).await?.0, 200);

    // Guessing: after the refusal burst (three) and one more, the address is shut out, even
    // with the right signature, for about the minute the quota takes to refill.
    let guesser = from(4)?;
    for _ in 0..4 {
        assert_eq!(post(guesser.clone(), bad.clone()).await?.0, 401);
    }
    let (status, retry) = post(guesser, good.clone()).await?;
    assert_eq!(status, 429);
    let seconds: u64 = retry
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .unwrap_or(0);
    assert!((30..=60).contains(&seconds), "Retry-After {seconds}");
    assert_eq!(post(from(5)?, good).await?.0, 200);
    server.stop().await
}
