//! `v1` Pod.
//!
//! In order:
//! 1. `status.phase: Succeeded` → Healthy; `Failed` → Degraded with the pod's message.
//! 2. A container or init container waiting with a reason that will not fix itself
//!    (`CrashLoopBackOff`, `ErrImagePull`, `ImagePullBackOff`, `InvalidImageName`,
//!    `CreateContainerConfigError`, `CreateContainerError`, `RunContainerError`) → Degraded,
//!    naming the container.
//! 3. `Pending` → Progressing.
//! 4. `Running`: a pod that runs to completion (`spec.restartPolicy` `Never` or `OnFailure`, as
//!    hook pods are) → Progressing until it succeeds; a long-running pod (`Always`, the default)
//!    → Healthy once its `Ready` condition is True, Progressing before.
//! 5. Phase `Unknown` (node lost) or anything else → Unknown.

use serde_json::Value;

use crate::status::{condition, list_at, str_at};
use crate::{Health, HealthStatus};

/// Waiting reasons that mean the container will not start without a change from someone.
const FAILED_WAITING_REASONS: [&str; 7] = [
    "CrashLoopBackOff",
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
];

/// Assesses a Pod.
pub fn assess(obj: &Value) -> HealthStatus {
    let message = str_at(obj, &["status", "message"])
        .or_else(|| str_at(obj, &["status", "reason"]))
        .unwrap_or("");
    let phase = str_at(obj, &["status", "phase"]).unwrap_or("Pending");
    match phase {
        "Succeeded" => return HealthStatus::new(Health::Healthy, message),
        "Failed" => {
            let message = if message.is_empty() {
                "pod failed"
            } else {
                message
            };
            return HealthStatus::new(Health::Degraded, message);
        }
        _ => {}
    }
    if let Some(failure) = failed_container(obj) {
        return HealthStatus::new(Health::Degraded, failure);
    }
    match phase {
        "Pending" => {
            let message = if message.is_empty() {
                "pod pending"
            } else {
                message
            };
            HealthStatus::new(Health::Progressing, message)
        }
        "Running" => {
            let restart = str_at(obj, &["spec", "restartPolicy"]).unwrap_or("Always");
            if restart != "Always" {
                return HealthStatus::new(Health::Progressing, "pod running to completion");
            }
            match condition(obj, "Ready") {
                Some(ready) if ready.is_true() => HealthStatus::healthy(),
                _ => HealthStatus::new(Health::Progressing, "waiting for containers to be ready"),
            }
        }
        other => HealthStatus::new(Health::Unknown, format!("pod phase {other}")),
    }
}

/// The first container stuck in a failed waiting state, described for people.
fn failed_container(obj: &Value) -> Option<String> {
    let init = list_at(obj, &["status", "initContainerStatuses"]);
    let main = list_at(obj, &["status", "containerStatuses"]);
    init.iter().chain(main).find_map(|container| {
        let waiting = container.get("state")?.get("waiting")?;
        let reason = waiting.get("reason")?.as_str()?;
        if !FAILED_WAITING_REASONS.contains(&reason) {
            return None;
        }
        let name = container.get("name").and_then(Value::as_str).unwrap_or("?");
        let detail = waiting.get("message").and_then(Value::as_str).unwrap_or("");
        Some(if detail.is_empty() {
            format!("container {name}: {reason}")
        } else {
            format!("container {name}: {reason}: {detail}")
        })
    })
}
