//! The Driftless controller: keeps every `Application` equal to Git.
//!
//! Each reconciliation ([`reconcile`]) is four steps: observe (the status, Git, the cluster),
//! decide (an ordered list of pure guards), act (clean up, or a sync whose operation is recorded
//! Running before it starts and finished however it ends), and report (the status, computed by
//! one pure function and written only when it changed). Sources are polled every
//! `spec.interval` (default 3 minutes, with jitter) or at once on a webhook
//! ([`Context::refresh_repository`]); between polls the last render is reused, and so it is at a
//! new commit where nothing it read changed (`triage`: the changed Applications go first). Managed objects
//! are watched (one watch per kind, shared by every application), so a change made by hand
//! reaches its application as an event and self-heal reverts it in milliseconds.
//!
//! Events of Applications (sync started, succeeded, failed, health degraded, drift corrected,
//! out of sync) are also notifications: the Alerts that select them send them to their
//! Providers (webhooks, chats, commit statuses) from tasks of their own (`notify`).

mod chart;
mod clusters;
mod context;
mod credentials;
mod decide;
mod decryption;
mod dependencies;
mod duration;
mod events;
#[cfg(test)]
mod fixtures;
mod heal;
mod leader;
mod lifecycle;
mod local;
mod metrics;
mod notify;
mod observe;
mod project;
mod reconcile;
mod records;
mod report;
mod repository;
mod run;
mod source;
mod spec;
mod status;
mod windows;
pub mod workers;

pub use chart::{ChartContext, helm_options};
pub use clusters::secret::{CLUSTER, ClusterSecret, parse as parse_cluster_secret};
pub use context::{CONTROLLER_NAME, Context, DEFAULT_CONCURRENCY, DEFAULT_NAMESPACE};
pub use credentials::{REPO_CREDS, REPOSITORY, SECRET_TYPE_LABEL};
pub use leader::{DEFAULT_LEASE_NAME, LeaderError, Leadership, LeaseConfig, default_identity};
pub use metrics::{Dropped, Metrics, OpResult, SyncPhase};
pub use notify::Notifier;
pub use reconcile::{app_id, diff_options, reconcile};
pub use repository::{KNOWN_HOSTS_CONFIG_MAP, KNOWN_HOSTS_KEY, TLS_CONFIG_MAP};
pub use run::run;
pub use source::{Rendered, fetch_and_render, renderers, renderers_for};
pub use spec::{DEFAULT_INTERVAL, MIN_INTERVAL, SpecError};
pub use windows::{WindowState, window_states};

/// Why a reconciliation failed. Each kind decides the retry: spec errors wait for the user,
/// everything else is retried with backoff.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The Git source could not be fetched or read.
    #[error("source: {0}")]
    Source(String),
    /// Rendering failed; nothing was applied.
    #[error("render: {0}")]
    Render(String),
    /// A SOPS file did not decrypt (or its keys could not be read); nothing was applied.
    #[error("decryption: {0}")]
    Decryption(String),
    /// The Application's spec is invalid.
    #[error("invalid spec: {0}")]
    Spec(String),
    /// The destination cluster cannot be reached (the message names it).
    #[error("{0}")]
    Unreachable(String),
    /// Reading or planning against the cluster failed.
    #[error(transparent)]
    Prepare(Box<driftless_sync::PrepareError>),
    /// Comparing failed.
    #[error(transparent)]
    Drift(Box<driftless_sync::DriftError>),
    /// A cluster call failed.
    #[error(transparent)]
    Cluster(#[from] driftless_sync::ClusterError),
    /// Writing the status failed.
    #[error("writing status: {0}")]
    Kube(#[from] kube::Error),
    /// The status could not be encoded as a patch.
    #[error("encoding the status: {0}")]
    Encode(#[from] serde_json::Error),
}

impl From<driftless_sync::PrepareError> for Error {
    fn from(error: driftless_sync::PrepareError) -> Self {
        Self::Prepare(Box::new(error))
    }
}

impl From<driftless_sync::DriftError> for Error {
    fn from(error: driftless_sync::DriftError) -> Self {
        Self::Drift(Box::new(error))
    }
}

/// Parses a Go duration (`500ms`, `90s`, `1m30s`, `1h`); `None` when it is not one or negative.
pub fn parse_duration(text: &str) -> Option<std::time::Duration> {
    duration::duration(text).ok()
}
