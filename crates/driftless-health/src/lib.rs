//! Health assessment of live Kubernetes objects.
//!
//! Pure: a live object comes in as a [`serde_json::Value`] (as read from the API server, `status`
//! included), a [`HealthStatus`] comes out. No client, no I/O, no clock.
//!
//! ```
//! use driftless_health::{assess, aggregate, Health};
//! use serde_json::json;
//!
//! let deployment = json!({
//!     "apiVersion": "apps/v1", "kind": "Deployment",
//!     "metadata": {"name": "web", "generation": 2},
//!     "spec": {"replicas": 2},
//!     "status": {"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2,
//!                "availableReplicas": 2},
//! });
//! assert_eq!(assess(&deployment).status, Health::Healthy);
//! assert_eq!(aggregate([Health::Healthy, Health::Progressing]), Health::Progressing);
//! ```
//!
//! # Rules
//!
//! Every object first passes two checks common to all kinds: an object that is not a JSON object
//! or lacks `apiVersion`/`kind` is [`Health::Unknown`], and an object carrying
//! `metadata.deletionTimestamp` is [`Health::Progressing`] ("pending deletion"). Then one module
//! per kind decides (see each module's documentation); a kind without a rule of its own falls back
//! to [`kinds::generic`], which reads `status.observedGeneration` and the standard `Ready` /
//! `Available` conditions, and calls an object without either Healthy (it exists; there is
//! nothing more to wait for, as for a ConfigMap).

pub mod kinds;
mod status;

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The health of one object, or of a set of objects.
///
/// The variants are declared from best to worst, so the derived [`Ord`] is the aggregation order:
/// `Healthy < Suspended < Progressing < Missing < Degraded < Unknown`, and the health of a set is
/// its maximum ([`aggregate`]). This is the order Argo CD documents for application health
/// ("from most to least healthy: Healthy, Suspended, Progressing, Missing, Degraded, Unknown"),
/// so an application moving from Argo CD reports the same aggregate. `Unknown` is the worst
/// because it means the state could not be read at all: a sync must not treat it as done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Health {
    /// The object is doing what it was asked to do.
    Healthy,
    /// The object is intentionally paused (a paused Deployment, a suspended Job or CronJob) and
    /// waits for someone to resume it.
    Suspended,
    /// Not healthy yet, but working towards it (a rollout in progress, a load balancer being
    /// provisioned, a change not yet observed by its controller).
    Progressing,
    /// The object is declared but does not exist in the cluster.
    Missing,
    /// The object failed, or will not become healthy without intervention.
    Degraded,
    /// The state could not be assessed (malformed object, a Pod in phase `Unknown`).
    Unknown,
}

impl Health {
    /// Every variant, worst first (the reverse of the [`Ord`] order).
    pub const WORST_FIRST: [Health; 6] = [
        Health::Unknown,
        Health::Degraded,
        Health::Missing,
        Health::Progressing,
        Health::Suspended,
        Health::Healthy,
    ];

    /// The name used in status fields and CLI output (`"Healthy"`, `"Progressing"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Healthy => "Healthy",
            Health::Suspended => "Suspended",
            Health::Progressing => "Progressing",
            Health::Missing => "Missing",
            Health::Degraded => "Degraded",
            Health::Unknown => "Unknown",
        }
    }

    /// Whether `self` is strictly worse than `other` in the aggregation order.
    pub fn is_worse_than(self, other: Health) -> bool {
        self > other
    }
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A health verdict with the reason for it, e.g. `Progressing` / `"Waiting for rollout to finish:
/// 1 of 3 updated replicas are available"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthStatus {
    /// The verdict.
    pub status: Health,
    /// Why, in words for people; empty when there is nothing to add (a plain Healthy object).
    pub message: String,
}

impl HealthStatus {
    /// A verdict with a message.
    pub fn new(status: Health, message: impl Into<String>) -> Self {
        HealthStatus {
            status,
            message: message.into(),
        }
    }

    /// Healthy, with no message.
    pub fn healthy() -> Self {
        HealthStatus::new(Health::Healthy, "")
    }

    /// The verdict for an object that is declared but absent from the cluster.
    pub fn missing() -> Self {
        HealthStatus::new(Health::Missing, "object does not exist")
    }
}

/// Assesses the health of one live object.
///
/// Dispatches on the object's API group (from `apiVersion`) and `kind`; kinds without a rule of
/// their own use [`kinds::generic`]. Never panics, whatever the input: fields of the wrong type
/// are treated as absent.
pub fn assess(obj: &Value) -> HealthStatus {
    let Some((group, kind)) = group_kind(obj) else {
        return HealthStatus::new(Health::Unknown, "object has no apiVersion or kind");
    };
    if status::str_at(obj, &["metadata", "deletionTimestamp"]).is_some() {
        return HealthStatus::new(Health::Progressing, "pending deletion");
    }
    let rule: fn(&Value) -> HealthStatus = match (group, kind) {
        ("apps" | "extensions", "Deployment") => kinds::deployment::assess,
        ("apps", "StatefulSet") => kinds::statefulset::assess,
        ("apps" | "extensions", "DaemonSet") => kinds::daemonset::assess,
        ("apps" | "extensions", "ReplicaSet") => kinds::replicaset::assess,
        ("", "Pod") => kinds::pod::assess,
        ("batch", "Job") => kinds::job::assess,
        ("batch", "CronJob") => kinds::cronjob::assess,
        ("", "Service") => kinds::service::assess,
        ("networking.k8s.io" | "extensions", "Ingress") => kinds::ingress::assess,
        ("", "PersistentVolumeClaim") => kinds::pvc::assess,
        ("autoscaling", "HorizontalPodAutoscaler") => kinds::hpa::assess,
        ("apiregistration.k8s.io", "APIService") => kinds::apiservice::assess,
        ("", "Namespace") => kinds::namespace::assess,
        ("apiextensions.k8s.io", "CustomResourceDefinition") => kinds::crd::assess,
        ("driftless.dev", "Application") => kinds::application::assess,
        _ => kinds::generic::assess,
    };
    rule(obj)
}

/// Assesses an object that may be absent: `None` is [`Health::Missing`].
pub fn assess_optional(obj: Option<&Value>) -> HealthStatus {
    obj.map_or_else(HealthStatus::missing, assess)
}

/// The health of a set of objects: the worst of them, or [`Health::Healthy`] for an empty set.
pub fn aggregate<I: IntoIterator<Item = Health>>(healths: I) -> Health {
    healths.into_iter().max().unwrap_or(Health::Healthy)
}

/// The worst of several verdicts, keeping the message of the first one that is worst; Healthy
/// with no message for an empty set.
pub fn aggregate_status<'a, I: IntoIterator<Item = &'a HealthStatus>>(statuses: I) -> HealthStatus {
    let mut worst: Option<&HealthStatus> = None;
    for status in statuses {
        if worst.is_none_or(|w| status.status.is_worse_than(w.status)) {
            worst = Some(status);
        }
    }
    worst.cloned().unwrap_or_else(HealthStatus::healthy)
}

/// The API group (empty for the core group) and kind of an object.
fn group_kind(obj: &Value) -> Option<(&str, &str)> {
    let api_version = status::str_at(obj, &["apiVersion"])?;
    let kind = status::str_at(obj, &["kind"])?;
    Some((driftless_resource::api_group(api_version), kind))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn order_is_worst_first_as_documented() {
        let mut sorted = Health::WORST_FIRST;
        sorted.sort();
        sorted.reverse();
        assert_eq!(sorted, Health::WORST_FIRST);
        assert!(Health::Unknown.is_worse_than(Health::Degraded));
        assert!(Health::Degraded.is_worse_than(Health::Missing));
        assert!(Health::Missing.is_worse_than(Health::Progressing));
        assert!(Health::Progressing.is_worse_than(Health::Suspended));
        assert!(Health::Suspended.is_worse_than(Health::Healthy));
    }

    #[test]
    fn aggregate_takes_the_worst_and_empty_is_healthy() {
        assert_eq!(aggregate([]), Health::Healthy);
        assert_eq!(
            aggregate([Health::Missing, Health::Degraded, Health::Healthy]),
            Health::Degraded
        );
        assert_eq!(
            aggregate([Health::Suspended, Health::Healthy]),
            Health::Suspended
        );
    }

    #[test]
    fn aggregate_status_keeps_the_first_worst_message() {
        let a = HealthStatus::new(Health::Progressing, "a");
        let b = HealthStatus::new(Health::Degraded, "b");
        let c = HealthStatus::new(Health::Degraded, "c");
        assert_eq!(aggregate_status([&a, &b, &c]), b);
        assert_eq!(aggregate_status([]), HealthStatus::healthy());
    }

    #[test]
    fn absent_object_is_missing_and_shapeless_is_unknown() {
        assert_eq!(assess_optional(None).status, Health::Missing);
        assert_eq!(assess(&json!("text")).status, Health::Unknown);
        assert_eq!(assess(&json!({"kind": "Pod"})).status, Health::Unknown);
    }

    #[test]
    fn serialises_as_the_variant_name() -> Result<(), serde_json::Error> {
        assert_eq!(
            serde_json::to_string(&Health::Progressing)?,
            "\"Progressing\""
        );
        assert_eq!(Health::Missing.to_string(), "Missing");
        Ok(())
    }
}
