//! A whole sync: read the cluster, plan, execute, retry.

use std::collections::BTreeMap;

use driftless_resource::{Manifest, ResourceKey};
use serde_json::Value;

use driftless_diff::DiffOptions;

use crate::cluster::{Cluster, ClusterError, api_version};
use crate::drift::{DriftError, drift};
use crate::execute::{Readiness, Settings, execute};
use crate::plan::{Plan, PlanError, plan, resolve_namespaces};
use crate::report::SyncReport;
use crate::report::{Action, Outcome, ResourceResult};
use crate::retry::RetryPolicy;

/// Removes the apply tasks whose objects are already in sync; returns them with their wave.
async fn skip_unchanged<C: Cluster + Sync>(
    cluster: &C,
    plan: &mut Plan,
    diff: &DiffOptions,
) -> Result<Vec<(ResourceKey, i32)>, PrepareError> {
    let unchanged: Vec<ResourceKey> = drift(cluster, plan, diff)
        .await?
        .into_iter()
        .filter(|d| !d.diff.changed && d.dry_run_error.is_none())
        .map(|d| d.key)
        .collect();
    let mut skipped = Vec::new();
    for wave in &mut plan.waves {
        wave.apply.retain(|task| {
            let keep = !unchanged.contains(&task.key);
            if !keep {
                skipped.push((task.key.clone(), wave.number));
            }
            keep
        });
    }
    Ok(skipped)
}

/// Why a sync could not start. Nothing was changed in the cluster.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// The desired set cannot be planned.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// Reading the cluster failed.
    #[error("reading the cluster: {0}")]
    Cluster(#[from] ClusterError),
    /// Comparing with the cluster failed.
    #[error(transparent)]
    Drift(#[from] DriftError),
}

/// Reads what the plan needs from the cluster (kind scopes, the live object of every desired
/// key, every object labelled for `app`) and plans.
pub async fn prepare<C: Cluster + Sync>(
    cluster: &C,
    manifests: Vec<Manifest>,
    settings: &Settings,
) -> Result<Plan, PrepareError> {
    let scopes = cluster.scopes().await?;
    let desired = resolve_namespaces(manifests, &settings.destination, |group, kind| {
        scopes.get(&(group.to_owned(), kind.to_owned())).copied()
    })?;
    let owned = cluster.list_owned(&settings.app).await?;
    // What this application already owns is its live state; only objects it does not own yet
    // (new ones, or someone else's) are read one by one.
    let mut live: BTreeMap<ResourceKey, Value> = owned.iter().cloned().collect();
    for object in &desired {
        let known = scopes.contains_key(&(object.key.group.clone(), object.key.kind.clone()));
        if !known || live.contains_key(&object.key) {
            // Unknown: its CRD comes with this sync, so it cannot exist yet.
            continue;
        }
        if let Some(found) = cluster
            .get(&object.key, api_version(&object.object))
            .await?
        {
            live.insert(object.key.clone(), found);
        }
    }
    Ok(plan(
        &settings.app,
        desired,
        &live,
        &owned,
        &settings.options,
    )?)
}

/// Syncs `manifests`: plans, executes, and on failure re-reads the cluster and retries per
/// `retry`. With `ApplyOutOfSyncOnly=true`, objects that [`drift`] finds unchanged (compared
/// with `diff`'s ignore rules) are not sent at all.
pub async fn sync<C, H>(
    cluster: &C,
    health: H,
    manifests: Vec<Manifest>,
    settings: &Settings,
    retry: RetryPolicy,
    diff: &DiffOptions,
) -> Result<SyncReport, PrepareError>
where
    C: Cluster + Sync,
    H: Fn(&Value) -> Readiness,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut plan = prepare(cluster, manifests.clone(), settings).await?;
        let in_sync = if settings.options.apply_out_of_sync_only {
            skip_unchanged(cluster, &mut plan, diff).await?
        } else {
            Vec::new()
        };
        let mut report = execute(cluster, &health, &plan, settings).await;
        for (key, wave) in in_sync {
            report.results.push(ResourceResult {
                key,
                wave: Some(wave),
                action: Action::Update,
                outcome: Outcome::Unchanged,
                message: "in sync; not sent (ApplyOutOfSyncOnly)".to_owned(),
            });
        }
        report.attempts = attempt;
        if report.succeeded() || settings.dry_run {
            return Ok(report);
        }
        match retry.delay(attempt) {
            Some(delay) => cluster.sleep(delay).await,
            None => return Ok(report),
        }
    }
}
