//! `batch/v1` CronJob.
//!
//! In order:
//! 1. `spec.suspend: true` → Suspended.
//! 2. A Job of this CronJob is active (`status.active` non-empty) → Progressing.
//! 3. The last scheduled run did not succeed: `status.lastScheduleTime` is later than
//!    `status.lastSuccessfulTime` (or there is no successful run at all) while nothing is
//!    active → Degraded.
//! 4. Otherwise (never scheduled yet, or the last run succeeded) → Healthy.
//!
//! Times are RFC 3339 in UTC with a `Z` suffix, as the API server writes them, so they compare
//! correctly as strings.

use serde_json::Value;

use crate::status::{flag_at, list_at, str_at};
use crate::{Health, HealthStatus};

/// Assesses a CronJob.
pub fn assess(obj: &Value) -> HealthStatus {
    if flag_at(obj, &["spec", "suspend"]) {
        return HealthStatus::new(Health::Suspended, "CronJob is suspended");
    }
    let active = list_at(obj, &["status", "active"]).len();
    if active > 0 {
        return HealthStatus::new(
            Health::Progressing,
            format!("{active} scheduled Jobs running"),
        );
    }
    let scheduled = str_at(obj, &["status", "lastScheduleTime"]);
    let succeeded = str_at(obj, &["status", "lastSuccessfulTime"]);
    match (scheduled, succeeded) {
        (Some(scheduled), Some(succeeded)) if scheduled > succeeded => HealthStatus::new(
            Health::Degraded,
            format!("the Job scheduled at {scheduled} did not succeed"),
        ),
        (Some(scheduled), None) => HealthStatus::new(
            Health::Degraded,
            format!("the Job scheduled at {scheduled} did not succeed"),
        ),
        _ => HealthStatus::healthy(),
    }
}
