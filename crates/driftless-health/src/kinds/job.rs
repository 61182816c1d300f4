//! `batch/v1` Job.
//!
//! In order:
//! 1. The `Failed` condition is True → Degraded with its message (e.g. `BackoffLimitExceeded`);
//!    `FailureTarget` True (the Job is being terminated as failed) → Degraded too.
//! 2. The `Complete` condition is True → Healthy.
//! 3. `spec.suspend: true`, or the `Suspended` condition True → Suspended.
//! 4. Otherwise the Job is running (or about to) → Progressing, with the active pod count.

use serde_json::Value;

use crate::status::{condition, flag_at, int_at};
use crate::{Health, HealthStatus};

/// Assesses a Job.
pub fn assess(obj: &Value) -> HealthStatus {
    for failed in ["Failed", "FailureTarget"] {
        if let Some(c) = condition(obj, failed)
            && c.is_true()
        {
            let why = c.explanation();
            let why = if why.is_empty() {
                "job failed".to_owned()
            } else {
                why
            };
            return HealthStatus::new(Health::Degraded, why);
        }
    }
    if let Some(c) = condition(obj, "Complete")
        && c.is_true()
    {
        return HealthStatus::new(Health::Healthy, c.message);
    }
    let suspended_condition = condition(obj, "Suspended").is_some_and(|c| c.is_true());
    if flag_at(obj, &["spec", "suspend"]) || suspended_condition {
        return HealthStatus::new(Health::Suspended, "Job is suspended");
    }
    let active = int_at(obj, &["status", "active"]).unwrap_or(0);
    HealthStatus::new(
        Health::Progressing,
        format!("Job running: {active} active pods"),
    )
}
