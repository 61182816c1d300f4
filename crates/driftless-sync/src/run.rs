//! A whole sync: read the cluster, plan, execute, retry.

use std::collections::BTreeMap;

use driftless_resource::{Manifest, ResourceKey};
use serde_json::Value;

use crate::cluster::{Cluster, ClusterError, api_version};
use crate::execute::{Readiness, Settings, execute};
use crate::plan::{Plan, PlanError, plan, resolve_namespaces};
use crate::report::SyncReport;
use crate::retry::RetryPolicy;

/// Why a sync could not start. Nothing was changed in the cluster.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// The desired set cannot be planned.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// Reading the cluster failed.
    #[error("reading the cluster: {0}")]
    Cluster(#[from] ClusterError),
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
    let mut live: BTreeMap<ResourceKey, Value> = BTreeMap::new();
    for object in &desired {
        let known = scopes.contains_key(&(object.key.group.clone(), object.key.kind.clone()));
        if !known {
            // Its CRD comes with this sync, so it cannot exist yet.
            continue;
        }
        if let Some(found) = cluster
            .get(&object.key, api_version(&object.object))
            .await?
        {
            live.insert(object.key.clone(), found);
        }
    }
    let owned = cluster.list_owned(&settings.app).await?;
    Ok(plan(
        &settings.app,
        desired,
        &live,
        &owned,
        &settings.options,
    )?)
}

/// Syncs `manifests`: plans, executes, and on failure re-reads the cluster and retries per
/// `retry`.
pub async fn sync<C, H>(
    cluster: &C,
    health: H,
    manifests: Vec<Manifest>,
    settings: &Settings,
    retry: RetryPolicy,
) -> Result<SyncReport, PrepareError>
where
    C: Cluster + Sync,
    H: Fn(&Value) -> Readiness,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        let plan = prepare(cluster, manifests.clone(), settings).await?;
        let mut report = execute(cluster, &health, &plan, settings).await;
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
