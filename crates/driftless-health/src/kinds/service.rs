//! `v1` Service.
//!
//! A Service of `spec.type: LoadBalancer` is Progressing until `status.loadBalancer.ingress`
//! lists at least one entry with an `ip` or a `hostname` (the cloud load balancer exists);
//! every other Service is Healthy as soon as it exists.

use serde_json::Value;

use crate::status::{list_at, str_at};
use crate::{Health, HealthStatus};

/// Assesses a Service.
pub fn assess(obj: &Value) -> HealthStatus {
    if str_at(obj, &["spec", "type"]) != Some("LoadBalancer") {
        return HealthStatus::healthy();
    }
    if has_load_balancer_address(obj) {
        HealthStatus::healthy()
    } else {
        HealthStatus::new(
            Health::Progressing,
            "waiting for the load balancer's address",
        )
    }
}

/// Whether `status.loadBalancer.ingress` has an entry with an IP or a hostname. Shared with the
/// Ingress rule, whose status has the same shape.
pub(crate) fn has_load_balancer_address(obj: &Value) -> bool {
    list_at(obj, &["status", "loadBalancer", "ingress"])
        .iter()
        .any(|entry| {
            ["ip", "hostname"].iter().any(|key| {
                entry
                    .get(key)
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.is_empty())
            })
        })
}
