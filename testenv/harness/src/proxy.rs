//! A fault-injecting HTTP proxy on loopback in front of the API server.
//!
//! Clients that use [`ApiProxy::kubeconfig`] reach the real API server through it. By default it
//! forwards every request unchanged (watches stream through); with [`Faults`] it delays requests,
//! answers a share of them with 429 (with `Retry-After`, as the API server's own throttling does)
//! or 500, or drops the connection without an answer. [`ApiProxy::sever`] closes every open
//! connection at once, the way an API server restart looks to a client.
//!
//! The proxy speaks plain HTTP/1.1 to its clients (loopback only) and HTTPS to the API server. It
//! does not authenticate: each client's `Authorization` header is passed through as sent.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use kube::config::{AuthInfo, Kubeconfig};
use kube::{Client, Config};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};

use crate::Error;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type ProxyBody = UnsyncBoxBody<Bytes, BoxError>;

/// What the proxy does to requests. Rates are fractions of requests in `0.0..=1.0`, drawn
/// independently for each request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Added before each request is forwarded.
    pub delay: Duration,
    /// Share of requests answered `429 Too Many Requests` with `Retry-After: 1`.
    pub throttle_rate: f64,
    /// Share of requests answered `500 Internal Server Error`.
    pub error_rate: f64,
    /// Share of requests whose connection is closed without an answer.
    pub drop_rate: f64,
}

/// How many requests the proxy has seen and what it did to them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests received.
    pub requests: u64,
    /// Answered 429.
    pub throttled: u64,
    /// Answered 500.
    pub failed: u64,
    /// Connections dropped without an answer.
    pub dropped: u64,
    /// Connections closed by [`ApiProxy::sever`].
    pub severed: u64,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    throttled: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
    severed: AtomicU64,
}

struct Shared {
    upstream: Client,
    faults: Mutex<Faults>,
    counters: Counters,
}

/// A running proxy; it stops when dropped.
pub struct ApiProxy {
    addr: SocketAddr,
    kubeconfig: PathBuf,
    shared: Arc<Shared>,
    sever: watch::Sender<u64>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl ApiProxy {
    /// Starts a proxy in front of the API server of `kubeconfig`, on a free loopback port, with
    /// no faults. It runs on a thread of its own, so it outlives the caller's async runtime.
    pub async fn start(kubeconfig: &Path) -> Result<Self, Error> {
        let fail = |message: String| Error::Client {
            path: kubeconfig.to_owned(),
            message,
        };
        let original = Kubeconfig::read_from(kubeconfig).map_err(|e| fail(e.to_string()))?;
        let mut config = Config::from_custom_kubeconfig(original.clone(), &Default::default())
            .await
            .map_err(|e| fail(e.to_string()))?;
        // Clients' own credentials pass through; watches may stay open as long as they like.
        config.auth_info = AuthInfo::default();
        config.read_timeout = None;
        // What the API server answers reaches the client as it was, not retried here.
        config.default_retry = false;
        let upstream = Client::try_from(config).map_err(|e| fail(e.to_string()))?;

        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|source| Error::Io {
            what: "binding the API proxy".to_owned(),
            source,
        })?;
        let addr = listener.local_addr().map_err(|source| Error::Io {
            what: "binding the API proxy".to_owned(),
            source,
        })?;
        listener.set_nonblocking(true).map_err(|source| Error::Io {
            what: "binding the API proxy".to_owned(),
            source,
        })?;

        let dir = tempfile::Builder::new()
            .prefix("driftless-proxy-")
            .tempdir()
            .map_err(|source| Error::Io {
                what: "creating a directory for the proxy's kubeconfig".to_owned(),
                source,
            })?;
        let proxied = dir.path().join("kubeconfig");
        write_proxied_kubeconfig(original, addr, &proxied)?;

        let shared = Arc::new(Shared {
            upstream,
            faults: Mutex::new(Faults::default()),
            counters: Counters::default(),
        });
        let (sever, severed) = watch::channel(0u64);
        let (shutdown, stopped) = oneshot::channel();
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("api-proxy".to_owned())
            .spawn(move || serve(listener, thread_shared, severed, stopped))
            .map_err(|source| Error::Io {
                what: "starting the API proxy".to_owned(),
                source,
            })?;
        Ok(Self {
            addr,
            kubeconfig: proxied,
            shared,
            sever,
            shutdown: Some(shutdown),
            thread: Some(thread),
            _dir: dir,
        })
    }

    /// A kubeconfig with the same credentials whose server is this proxy.
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// The proxy's URL (`http://127.0.0.1:<port>`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A client that goes through the proxy, with the admin credentials.
    pub async fn client(&self) -> Result<Client, Error> {
        crate::control_plane::client_for(&self.kubeconfig).await
    }

    /// A client configuration that goes through the proxy, with the admin credentials.
    pub async fn config(&self) -> Result<Config, Error> {
        let fail = |message: String| Error::Client {
            path: self.kubeconfig.clone(),
            message,
        };
        let kubeconfig =
            Kubeconfig::read_from(&self.kubeconfig).map_err(|e| fail(e.to_string()))?;
        Config::from_custom_kubeconfig(kubeconfig, &Default::default())
            .await
            .map_err(|e| fail(e.to_string()))
    }

    /// Replaces the faults applied to new requests.
    pub fn set_faults(&self, faults: Faults) {
        *self
            .shared
            .faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = faults;
    }

    /// Closes every open connection (watches included) without an answer.
    pub fn sever(&self) {
        self.sever.send_modify(|generation| *generation += 1);
    }

    /// What the proxy has done so far.
    pub fn stats(&self) -> Stats {
        let c = &self.shared.counters;
        Stats {
            requests: c.requests.load(Ordering::Relaxed),
            throttled: c.throttled.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            severed: c.severed.load(Ordering::Relaxed),
        }
    }
}

impl std::fmt::Debug for ApiProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiProxy")
            .field("addr", &self.addr)
            .field("stats", &self.stats())
            .finish()
    }
}

impl Drop for ApiProxy {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn write_proxied_kubeconfig(
    mut kubeconfig: Kubeconfig,
    addr: SocketAddr,
    path: &Path,
) -> Result<(), Error> {
    for named in &mut kubeconfig.clusters {
        if let Some(cluster) = named.cluster.as_mut() {
            cluster.server = Some(format!("http://{addr}"));
            cluster.certificate_authority = None;
            cluster.certificate_authority_data = None;
        }
    }
    // JSON is YAML, and the kubeconfig loader reads either.
    let text = serde_json::to_string_pretty(&kubeconfig).map_err(|e| Error::Client {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    std::fs::write(path, text).map_err(|source| Error::Io {
        what: format!("writing {}", path.display()),
        source,
    })
}

/// Accepts connections until `stopped` fires.
fn serve(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    severed: watch::Receiver<u64>,
    stopped: oneshot::Receiver<()>,
) {
    let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    else {
        return;
    };
    runtime.block_on(async move {
        let Ok(listener) = TcpListener::from_std(listener) else {
            return;
        };
        let accept = async {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let shared = shared.clone();
                let counted = shared.clone();
                let mut severed = severed.clone();
                severed.mark_unchanged();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let shared = shared.clone();
                        async move { handle(shared, request).await }
                    });
                    let connection = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service);
                    let mut connection = std::pin::pin!(connection);
                    tokio::select! {
                        _ = &mut connection => {}
                        _ = severed.changed() => {
                            // Counted before the connection is dropped (which closes the socket
                            // mid-stream), so a client that sees the end also sees the count.
                            counted.counters.severed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                });
            }
        };
        tokio::select! {
            () = accept => {}
            _ = stopped => {}
        }
    });
    // Open connections (watches) would keep the runtime's shutdown waiting.
    drop(runtime);
}

/// Why a connection is dropped instead of answered.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by the fault-injecting proxy")]
struct Dropped;

async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<ProxyBody>, Dropped> {
    let counters = &shared.counters;
    counters.requests.fetch_add(1, Ordering::Relaxed);
    let faults = shared
        .faults
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    if !faults.delay.is_zero() {
        tokio::time::sleep(faults.delay).await;
    }
    let draw: f64 = rand::random();
    if draw < faults.drop_rate {
        counters.dropped.fetch_add(1, Ordering::Relaxed);
        return Err(Dropped);
    }
    if draw < faults.drop_rate + faults.throttle_rate {
        counters.throttled.fetch_add(1, Ordering::Relaxed);
        return Ok(status(StatusCode::TOO_MANY_REQUESTS, "TooManyRequests"));
    }
    if draw < faults.drop_rate + faults.throttle_rate + faults.error_rate {
        counters.failed.fetch_add(1, Ordering::Relaxed);
        return Ok(status(StatusCode::INTERNAL_SERVER_ERROR, "InternalError"));
    }
    Ok(forward(&shared.upstream, request).await)
}

async fn forward(upstream: &Client, request: Request<Incoming>) -> Response<ProxyBody> {
    let (mut parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("reading the request: {e}")),
    };
    for hop in [
        "connection",
        "keep-alive",
        "transfer-encoding",
        "upgrade",
        "host",
    ] {
        parts.headers.remove(hop);
    }
    let request = Request::from_parts(parts, kube::client::Body::from(body));
    match upstream.send(request).await {
        Ok(response) => response.map(|b| b.map_err(BoxError::from).boxed_unsync()),
        Err(e) => text(StatusCode::BAD_GATEWAY, format!("forwarding: {e}")),
    }
}

/// An answer in the API server's own `Status` format.
fn status(code: StatusCode, reason: &str) -> Response<ProxyBody> {
    let body = serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": format!("injected by the test proxy: {reason}"),
        "reason": reason, "details": {"retryAfterSeconds": 1}, "code": code.as_u16(),
    });
    let mut response = Response::new(full(body.to_string()));
    *response.status_mut() = code;
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    headers.insert(
        http::header::RETRY_AFTER,
        http::HeaderValue::from_static("1"),
    );
    response
}

fn text(code: StatusCode, message: String) -> Response<ProxyBody> {
    let mut response = Response::new(full(message));
    *response.status_mut() = code;
    response
}

fn full(text: String) -> ProxyBody {
    Full::new(Bytes::from(text))
        .map_err(|never: Infallible| match never {})
        .boxed_unsync()
}
