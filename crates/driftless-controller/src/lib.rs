//! The Driftless controller: keeps every `Application` equal to Git.
//!
//! Each reconciliation runs the pipeline of the product: fetch → render → compare → sync (when
//! the policy is automated, or asked for) → health → status, and writes the status once at the
//! end, only when it changed. Sources are polled every `spec.interval` (default 3 minutes, with
//! jitter) or at once on a webhook ([`Context::refresh_repository`]); between polls the last
//! render is reused. Managed objects are watched (one watch per kind, shared by every
//! application), so a change made by hand reaches its application as an event and self-heal
//! reverts it in milliseconds.

mod context;
mod heal;
mod leader;
mod metrics;
mod operation;
mod reconcile;
mod run;
mod source;
mod status;

use std::time::Duration;

pub use context::{CONTROLLER_NAME, Context, DEFAULT_CONCURRENCY};
pub use leader::{DEFAULT_LEASE_NAME, LeaderError, Leadership, LeaseConfig, default_identity};
pub use metrics::{Metrics, OpResult, SyncPhase};
pub use reconcile::{app_id, diff_options, reconcile};
pub use run::run;
pub use source::{Rendered, fetch_and_render};

/// The default polling interval, as Argo CD's (which adds up to a minute of jitter).
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(180);

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
    /// The Application's spec is invalid.
    #[error("invalid spec: {0}")]
    Spec(String),
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

/// The polling interval of an Application (`90s`, `3m`, `1h`), or the default.
pub fn interval(text: Option<&str>) -> Duration {
    text.and_then(parse_duration).unwrap_or(DEFAULT_INTERVAL)
}

/// Parses Go-style durations with one unit: `500ms`, `90s`, `3m`, `1h`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let value: u64 = number.parse().ok()?;
    match unit {
        "ms" => Some(Duration::from_millis(value)),
        "s" => Some(Duration::from_secs(value)),
        "m" => Some(Duration::from_secs(value * 60)),
        "h" => Some(Duration::from_secs(value * 3600)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_parse_or_fall_back_to_the_default() {
        assert_eq!(interval(Some("90s")), Duration::from_secs(90));
        assert_eq!(interval(Some("3m")), Duration::from_secs(180));
        assert_eq!(interval(Some("500ms")), Duration::from_millis(500));
        assert_eq!(interval(Some("soon")), DEFAULT_INTERVAL);
        assert_eq!(interval(None), DEFAULT_INTERVAL);
    }
}
