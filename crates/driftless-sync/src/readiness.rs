//! Readiness from health: when a wave or hook may be considered done.

use driftless_health::{Health, assess};
use serde_json::Value;

use crate::execute::Readiness;

/// Judges a live object with `driftless-health`: Healthy and Suspended are ready (a suspended
/// object is what Git asked for), Degraded has failed, anything else is still on its way.
pub fn readiness(object: &Value) -> Readiness {
    let health = assess(object);
    match health.status {
        Health::Healthy | Health::Suspended => Readiness::Ready,
        Health::Degraded => Readiness::Failed(with_message(health.status, &health.message)),
        Health::Progressing | Health::Missing | Health::Unknown => {
            Readiness::Waiting(with_message(health.status, &health.message))
        }
    }
}

fn with_message(status: Health, message: &str) -> String {
    if message.is_empty() {
        status.to_string()
    } else {
        format!("{status}: {message}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn failed_job_fails_and_running_job_waits() {
        let failed = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"},
            "status": {"conditions": [{"type": "Failed", "status": "True", "message": "BackoffLimitExceeded"}]}});
        assert!(matches!(readiness(&failed), Readiness::Failed(_)));
        let running = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"},
            "status": {"active": 1}});
        assert!(matches!(readiness(&running), Readiness::Waiting(_)));
        let config = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
        assert_eq!(readiness(&config), Readiness::Ready);
    }
}
