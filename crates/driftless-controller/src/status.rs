//! Building and writing `Application.status`: per-object sync and health, conditions, the
//! operation record, and one merge patch that skips writes which would change nothing.

use std::time::Duration;

use driftless_api::{
    Application, ApplicationStatus, Condition, ConditionStatus, HealthState, ResourceStatus,
    SYNC_REQUEST_ANNOTATION, SyncStatusCode,
};
use driftless_cluster::KubeCluster;
use driftless_health::{HealthStatus, aggregate_status, assess_optional};
use driftless_resource::ResourceKey;
use driftless_sync::{Cluster, Drift, Plan};
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

use crate::Error;

/// What the status shows of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Summary {
    /// Synced or OutOfSync.
    pub code: SyncStatusCode,
    /// Per object.
    pub resources: Vec<ResourceStatus>,
    /// Of all objects together.
    pub health: HealthStatus,
}

/// Sync status, per-object status and aggregate health from a comparison.
pub(crate) async fn summarize(
    cluster: &KubeCluster,
    plan: &Plan,
    drifts: &[Drift],
) -> Result<Summary, Error> {
    let mut resources = Vec::new();
    let mut healths = Vec::new();
    for task in plan.waves.iter().flat_map(|w| &w.apply) {
        let changed = drifts
            .iter()
            .find(|d| d.key == task.key)
            .is_some_and(|d| d.diff.changed);
        let live = match &task.live {
            Some(live) if !changed => Some(live.clone()),
            _ => {
                cluster
                    .get(&task.key, driftless_sync::api_version(&task.object))
                    .await?
            }
        };
        let health = assess_optional(live.as_ref());
        resources.push(resource_status(&task.key, changed, &health));
        healths.push(health);
    }
    for prune in plan
        .waves
        .iter()
        .flat_map(|w| &w.prune)
        .chain(&plan.prune_last)
    {
        resources.push(ResourceStatus {
            message: Some("no longer in Git; requires pruning".to_owned()),
            ..resource_status(&prune.key, true, &HealthStatus::healthy())
        });
    }
    let code = if drifts.iter().any(|d| d.diff.changed) {
        SyncStatusCode::OutOfSync
    } else {
        SyncStatusCode::Synced
    };
    Ok(Summary {
        code,
        resources,
        health: aggregate_status(&healths),
    })
}

/// The status of one object.
pub(crate) fn resource_status(
    key: &ResourceKey,
    changed: bool,
    health: &HealthStatus,
) -> ResourceStatus {
    ResourceStatus {
        group: key.group.clone(),
        kind: key.kind.clone(),
        namespace: key.namespace.clone(),
        name: key.name.clone(),
        status: if changed {
            SyncStatusCode::OutOfSync
        } else {
            SyncStatusCode::Synced
        },
        health: Some(health_state(health)),
        message: None,
    }
}

/// A health verdict as the status shows it.
pub(crate) fn health_state(health: &HealthStatus) -> HealthState {
    HealthState {
        status: health.status.to_string(),
        message: (!health.message.is_empty()).then(|| health.message.clone()),
    }
}

/// A condition for `generation`, changed at `at`.
pub(crate) fn condition(
    type_: &str,
    status: ConditionStatus,
    reason: &str,
    message: &str,
    generation: Option<i64>,
    at: &str,
) -> Condition {
    Condition {
        type_: type_.to_owned(),
        status,
        reason: reason.to_owned(),
        message: message.to_owned(),
        last_transition_time: at.to_owned(),
        observed_generation: generation,
    }
}

/// Writes `status` unless it equals `previous` in everything but `reconciledAt` (and `force`
/// is false); a condition whose status did not change keeps its transition time. Returns the
/// resource version the write produced.
///
/// # Guarantees
/// An application whose state does not change costs no write between polls.
pub(crate) async fn write(
    api: &Api<Application>,
    name: &str,
    status: &ApplicationStatus,
    previous: &ApplicationStatus,
    force: bool,
) -> Result<Option<String>, Error> {
    let mut status = status.clone();
    for condition in &mut status.conditions {
        if let Some(old) = previous
            .conditions
            .iter()
            .find(|c| c.type_ == condition.type_ && c.status == condition.status)
        {
            condition.last_transition_time = old.last_transition_time.clone();
        }
    }
    let same = ApplicationStatus {
        reconciled_at: previous.reconciled_at.clone(),
        ..status.clone()
    } == *previous;
    if same && !force {
        return Ok(None);
    }
    // The whole status is replaced, so fields that became empty do not linger as a merge
    // patch would leave them.
    let patch: json_patch::Patch =
        serde_json::from_value(json!([{ "op": "add", "path": "/status", "value": status }]))?;
    let patch = Patch::<()>::Json(patch);
    let mut pause = Duration::from_millis(100);
    let mut attempts = 1;
    loop {
        match api
            .patch_status(name, &PatchParams::default(), &patch)
            .await
        {
            Ok(written) => return Ok(written.metadata.resource_version),
            // A status that records a sync just carried out must not be lost to one refused
            // request: the next reconciliation would find the objects in sync and never record
            // the operation (its history entry, its result). The write replaces the whole
            // status, so it is safe to repeat.
            Err(error) if attempts < STATUS_WRITE_ATTEMPTS && transient(&error) => {
                attempts += 1;
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            Err(error) => return Err(error.into()),
        }
    }
}

/// How many times a status write is tried when the API server answers with a transient error.
const STATUS_WRITE_ATTEMPTS: u32 = 6;

/// Whether the API server may answer the same request differently soon: overload, internal
/// errors and unavailability, or no answer at all.
fn transient(error: &kube::Error) -> bool {
    match error {
        kube::Error::Api(status) => status.code == 429 || status.code >= 500,
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

/// `at` as the status shows times: RFC 3339, UTC, seconds.
pub(crate) fn timestamp(at: k8s_openapi::jiff::Timestamp) -> String {
    at.round(k8s_openapi::jiff::Unit::Second)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// Removes the sync request annotation (it is carried out once).
pub(crate) async fn clear_request(api: &Api<Application>, name: &str) -> Result<(), Error> {
    let patch = json!({ "metadata": { "annotations": { SYNC_REQUEST_ANNOTATION: null } } });
    api.patch(name, &PatchParams::default(), &Patch::Merge(patch))
        .await?;
    Ok(())
}
