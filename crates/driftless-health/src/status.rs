//! Tolerant readers for the fields health rules look at.
//!
//! Live objects come from the cluster and are untrusted: every reader returns `None` for a missing
//! field or a field of the wrong type, and rules treat `None` as "not reported yet".

use serde_json::Value;

use crate::{Health, HealthStatus};

/// The value at a path of object keys.
pub(crate) fn at<'a>(obj: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(obj, |value, key| value.get(key))
}

/// The string at a path.
pub(crate) fn str_at<'a>(obj: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(obj, path)?.as_str()
}

/// The integer at a path.
pub(crate) fn int_at(obj: &Value, path: &[&str]) -> Option<i64> {
    at(obj, path)?.as_i64()
}

/// The boolean at a path; absent is `false`.
pub(crate) fn flag_at(obj: &Value, path: &[&str]) -> bool {
    at(obj, path).and_then(Value::as_bool).unwrap_or(false)
}

/// The array at a path; absent is empty.
pub(crate) fn list_at<'a>(obj: &'a Value, path: &[&str]) -> &'a [Value] {
    at(obj, path)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// One entry of `status.conditions`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Condition<'a> {
    /// `"True"`, `"False"` or `"Unknown"`.
    pub status: &'a str,
    /// Machine-readable reason, empty when absent.
    pub reason: &'a str,
    /// Human-readable message, empty when absent.
    pub message: &'a str,
}

impl Condition<'_> {
    /// Whether the condition's status is `"True"`.
    pub fn is_true(&self) -> bool {
        self.status == "True"
    }

    /// Whether the condition's status is `"False"`.
    pub fn is_false(&self) -> bool {
        self.status == "False"
    }

    /// `reason: message`, or whichever of the two is present.
    pub fn explanation(&self) -> String {
        match (self.reason.is_empty(), self.message.is_empty()) {
            (false, false) => format!("{}: {}", self.reason, self.message),
            (true, _) => self.message.to_owned(),
            (false, true) => self.reason.to_owned(),
        }
    }
}

/// The condition of the given type in `status.conditions`, if reported.
pub(crate) fn condition<'a>(obj: &'a Value, kind: &str) -> Option<Condition<'a>> {
    list_at(obj, &["status", "conditions"])
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
        .map(|c| Condition {
            status: c.get("status").and_then(Value::as_str).unwrap_or(""),
            reason: c.get("reason").and_then(Value::as_str).unwrap_or(""),
            message: c.get("message").and_then(Value::as_str).unwrap_or(""),
        })
}

/// Progressing when the object's controller has not yet observed its latest spec.
///
/// `metadata.generation` grows with every spec change; the controller copies it to
/// `status.observedGeneration` once it has acted on it. Until then every other status field
/// describes the previous spec and must not be trusted. An object without `metadata.generation`
/// (not a generation-tracking kind) passes. With `absent_means_unobserved` (built-in workload
/// controllers always report it), a missing `status.observedGeneration` means "not observed
/// yet"; without it (custom resources, many of which never report it), it passes.
pub(crate) fn unobserved_generation(
    obj: &Value,
    absent_means_unobserved: bool,
) -> Option<HealthStatus> {
    let generation = int_at(obj, &["metadata", "generation"])?;
    match int_at(obj, &["status", "observedGeneration"]) {
        Some(observed) if observed >= generation => None,
        None if !absent_means_unobserved => None,
        _ => Some(HealthStatus::new(
            Health::Progressing,
            "waiting for the controller to observe the latest generation",
        )),
    }
}

/// Progressing with "`have` of `want` `what`" while `have < want` (a rollout counting up).
pub(crate) fn short_of(have: i64, want: i64, what: &str) -> Option<HealthStatus> {
    (have < want)
        .then(|| HealthStatus::new(Health::Progressing, format!("{have} of {want} {what}")))
}
