//! The HTTP server: probes, metrics and the webhook receiver on one listener.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::Extension;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use driftless_source::normalize_repo_url;
use prometheus_client::encoding::text::encode;
use prometheus_client::registry::Registry;
use serde_json::json;

use crate::guard::Guard;
use crate::webhook::{self, MAX_BODY_BYTES, Outcome, PushEvent, WebhookError, WebhookSecrets};

/// The content type of `/metrics`: the OpenMetrics text format that `prometheus-client` writes.
pub const METRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A readiness probe: `true` when the process is ready for work (e.g. caches synced).
pub type ReadyFn = Arc<dyn Fn() -> bool + Send + Sync>;

/// What to do with an authentic push. Called on the request's task, before the response is
/// sent: it should only hand the event on (e.g. `try_send` on a channel) and return.
pub type PushFn = Arc<dyn Fn(PushEvent) + Send + Sync>;

/// Everything the server needs, shared by all requests.
#[derive(Clone)]
pub struct ServerState {
    /// The metrics served on `/metrics`, registered before the server starts.
    pub registry: Arc<Registry>,
    /// Decides `/readyz`.
    pub ready: ReadyFn,
    /// Authenticates webhooks.
    pub secrets: WebhookSecrets,
    /// Receives each authentic push.
    pub on_push: PushFn,
    /// Rate limits per source address and the replay memory of the webhook receiver.
    pub guard: Arc<Guard>,
}

/// The routes, for serving on a listener of one's own or merging into a larger router:
///
/// | route | answer |
/// |---|---|
/// | `GET /healthz` | 200 `ok` while the process serves requests |
/// | `GET /readyz` | 200 `ok` when [`ServerState::ready`] says so, else 503 `not ready` |
/// | `GET /metrics` | 200, the registry in the OpenMetrics text format |
/// | `POST /api/webhook`, `POST /webhook` | a push webhook (see [`webhook::handle`]): 202 accepted, 200 ignored event, 400, 401, 403, 409 replayed, 413, 429 rate limited |
///
/// The webhook's source address (for its rate limit) is the peer's: serve the router with
/// `into_make_service_with_connect_info::<SocketAddr>()`, as [`serve`] does; without it every
/// request shares one limit.
pub fn router(state: ServerState) -> Router {
    let webhooks = Router::new()
        .route("/api/webhook", post(receive_webhook))
        .route("/webhook", post(receive_webhook))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .merge(webhooks)
        .with_state(state)
}

/// Serves [`router`] on `listener` until `shutdown` completes, then finishes the requests in
/// flight and returns.
///
/// # Errors
/// Only if the listener fails; a failing connection is logged by the HTTP stack and skipped.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ServerState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(address) = listener.local_addr() {
        tracing::info!(%address, "serving /healthz, /readyz, /metrics and /api/webhook");
    }
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

async fn readyz(State(state): State<ServerState>) -> (StatusCode, &'static str) {
    if (state.ready)() {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready")
    }
}

async fn metrics(State(state): State<ServerState>) -> Response {
    let mut text = String::new();
    match encode(&mut text, &state.registry) {
        Ok(()) => ([(CONTENT_TYPE, METRICS_CONTENT_TYPE)], text).into_response(),
        Err(_) => {
            tracing::error!("encoding the metrics failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "encoding the metrics failed",
            )
                .into_response()
        }
    }
}

async fn receive_webhook(
    State(state): State<ServerState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let source = peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |peer| peer.0.0.ip());
    if let Err(wait) = state.guard.admit(source) {
        let error = WebhookError::RateLimited(wait);
        tracing::warn!(%error, %source, "webhook refused");
        let mut response = json_response(error.status(), json!({ "error": error.to_string() }));
        if let Ok(value) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            response.headers_mut().insert(RETRY_AFTER, value);
        }
        return response;
    }
    let outcome = match body {
        Ok(body) => webhook::handle(&headers, &body, &state.secrets),
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Err(WebhookError::TooLarge)
        }
        Err(rejection) => {
            let message = format!("reading the webhook body failed: {}", rejection.body_text());
            tracing::warn!(%message, %source, "webhook refused");
            state.guard.refused(source);
            return json_response(rejection.status(), json!({ "error": message }));
        }
    };
    // Only an authentic request's delivery id is remembered: a forged one must not make the
    // real delivery look like a replay.
    let outcome = outcome.and_then(|outcome| {
        let provider = match &outcome {
            Outcome::Push(push) => push.provider,
            Outcome::Ignored { provider, .. } => *provider,
        };
        match webhook::delivery(&headers) {
            Some(id) if !state.guard.first_delivery(provider.as_str(), id) => {
                Err(WebhookError::Replayed {
                    provider,
                    id: id.to_owned(),
                })
            }
            _ => Ok(outcome),
        }
    });
    if outcome.is_err() {
        state.guard.refused(source);
    }
    match outcome {
        Ok(Outcome::Push(push)) => {
            // The normalized form: short, and never carries user information from the payload.
            let repository = push
                .repository_urls
                .first()
                .map(|url| normalize_repo_url(url))
                .unwrap_or_default();
            tracing::info!(
                provider = %push.provider,
                %repository,
                git_ref = %push.git_ref,
                after = push.after.as_deref().unwrap_or("-"),
                "webhook push accepted"
            );
            let body = json!({
                "status": "accepted",
                "provider": push.provider.as_str(),
                "repository": repository,
                "ref": push.git_ref,
            });
            (state.on_push)(push);
            json_response(StatusCode::ACCEPTED, body)
        }
        Ok(Outcome::Ignored { provider, event }) => {
            tracing::info!(%provider, %event, "webhook event ignored: not a push");
            json_response(
                StatusCode::OK,
                json!({
                    "status": "ignored",
                    "message": format!("{provider} {event} event received; only pushes trigger a refresh"),
                }),
            )
        }
        Err(error) => {
            tracing::warn!(%error, %source, "webhook refused");
            json_response(error.status(), json!({ "error": error.to_string() }))
        }
    }
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [(CONTENT_TYPE, "application/json")],
        format!("{body}\n"),
    )
        .into_response()
}
