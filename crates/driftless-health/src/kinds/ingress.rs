//! `networking.k8s.io/v1` Ingress.
//!
//! Progressing until the ingress controller publishes an address in
//! `status.loadBalancer.ingress` (an entry with `ip` or `hostname`), Healthy after. As in
//! Argo CD, a cluster without an ingress controller that writes this status keeps its Ingresses
//! Progressing.

use serde_json::Value;

use crate::kinds::service::has_load_balancer_address;
use crate::{Health, HealthStatus};

/// Assesses an Ingress.
pub fn assess(obj: &Value) -> HealthStatus {
    if has_load_balancer_address(obj) {
        HealthStatus::healthy()
    } else {
        HealthStatus::new(
            Health::Progressing,
            "waiting for the ingress controller's address",
        )
    }
}
