//! Driftless's HTTP side: Git push webhooks, Prometheus metrics and the health and readiness
//! probes, on one axum server.
//!
//! The crate knows nothing of the controller: the binary hands it a metrics registry, a readiness
//! function and a callback for pushes.
//!
//! ```no_run
//! use std::sync::Arc;
//! use driftless_server::{ServerState, WebhookSecrets, serve};
//! use prometheus_client::registry::Registry;
//!
//! # async fn run() -> std::io::Result<()> {
//! let state = ServerState {
//!     registry: Arc::new(Registry::default()),
//!     ready: Arc::new(|| true),
//!     secrets: WebhookSecrets { shared: Some("s3cret".into()), ..Default::default() },
//!     on_push: Arc::new(|push| println!("{} pushed {}", push.provider, push.git_ref)),
//!     guard: Arc::new(Default::default()),
//! };
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
//! serve(listener, state, std::future::pending()).await
//! # }
//! ```
//!
//! The endpoints, headers and status codes are documented in `docs/webhooks.md`.

mod guard;
mod payload;
mod server;
mod signature;
pub mod webhook;

pub use guard::{Guard, Limits};
pub use server::{METRICS_CONTENT_TYPE, PushFn, ReadyFn, ServerState, router, serve};
pub use webhook::{MAX_BODY_BYTES, Outcome, Provider, PushEvent, WebhookError, WebhookSecrets};
