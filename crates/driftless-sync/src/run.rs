//! A whole sync: read the cluster, plan, execute, retry.

use std::collections::{BTreeMap, BTreeSet};

use driftless_resource::{Manifest, ResourceKey};
use serde_json::Value;

use driftless_diff::DiffOptions;

use crate::cluster::{Cluster, ClusterError, api_version};
use crate::drift::{Drift, DriftError, drift};
use crate::execute::{Readiness, Settings, execute};
use crate::permit::restrict;
use crate::plan::{Desired, Plan, PlanError, plan, resolve_namespaces};
use crate::report::SyncReport;
use crate::report::{Action, Outcome, ResourceResult};
use crate::retry::RetryPolicy;

/// Removes the apply tasks whose objects `drifts` finds in sync; returns them with their wave.
fn skip_unchanged(plan: &mut Plan, drifts: &[Drift]) -> Vec<(ResourceKey, i32)> {
    let unchanged: BTreeSet<&ResourceKey> = drifts
        .iter()
        .filter(|d| !d.diff.changed && d.dry_run_error.is_none())
        .map(|d| &d.key)
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
    skipped
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

/// What a plan is made from: the desired objects (namespaces resolved), the live object of each
/// that exists, and every object labelled for the application.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    desired: Vec<Desired>,
    live: BTreeMap<ResourceKey, Value>,
    owned: Vec<(ResourceKey, Value)>,
}

impl Observed {
    /// The plan for `settings`' application, options and permit (several plans can come from
    /// one reading of the cluster: a comparison that counts every prune, and the sync itself).
    pub fn plan(&self, settings: &Settings) -> Result<Plan, PlanError> {
        let mut plan = plan(
            &settings.app,
            self.desired.clone(),
            &self.live,
            &self.owned,
            &settings.options,
        )?;
        restrict(&mut plan, &settings.permit);
        Ok(plan)
    }
}

/// Reads what a plan needs from the cluster: kind scopes, every object labelled for
/// `settings.app`, and the live object of every desired key it does not own yet.
pub async fn observe<C: Cluster + Sync>(
    cluster: &C,
    manifests: Vec<Manifest>,
    settings: &Settings,
) -> Result<Observed, PrepareError> {
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
            .peek(&object.key, api_version(&object.object))
            .await?
        {
            live.insert(object.key.clone(), found);
        }
    }
    Ok(Observed {
        desired,
        live,
        owned,
    })
}

/// Reads the cluster ([`observe`]) and plans.
pub async fn prepare<C: Cluster + Sync>(
    cluster: &C,
    manifests: Vec<Manifest>,
    settings: &Settings,
) -> Result<Plan, PrepareError> {
    let observed = observe(cluster, manifests, settings).await?;
    Ok(observed.plan(settings)?)
}

/// What a caller already knows when a sync starts, so its first attempt reads nothing again:
/// the cluster as just [observed](observe), and the [`drift`] computed from it.
#[derive(Debug, Clone)]
pub struct Known {
    /// The reading of the cluster.
    pub observed: Observed,
    /// Drift of every desired object against it.
    pub drifts: Vec<Drift>,
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
    sync_from(cluster, health, manifests, None, settings, retry, diff).await
}

/// [`sync`], whose first attempt plans from `known` (when given) instead of reading the
/// cluster again; retries read it afresh.
pub async fn sync_from<C, H>(
    cluster: &C,
    health: H,
    manifests: Vec<Manifest>,
    known: Option<Known>,
    settings: &Settings,
    retry: RetryPolicy,
    diff: &DiffOptions,
) -> Result<SyncReport, PrepareError>
where
    C: Cluster + Sync,
    H: Fn(&Value) -> Readiness,
{
    let mut known = known;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let (observed, drifts) = match known.take() {
            Some(known) => (known.observed, Some(known.drifts)),
            None => (observe(cluster, manifests.clone(), settings).await?, None),
        };
        let mut plan = observed.plan(settings)?;
        let in_sync = if settings.options.apply_out_of_sync_only {
            let drifts = match drifts {
                Some(drifts) => drifts,
                None => drift(cluster, &plan, diff).await?,
            };
            skip_unchanged(&mut plan, &drifts)
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
        // A denied object stays denied: retrying cannot help.
        let denied = !plan.denied.is_empty();
        if report.succeeded() || report.pending.is_some() || settings.dry_run || denied {
            return Ok(report);
        }
        match retry.delay(attempt) {
            Some(delay) => cluster.sleep(delay).await,
            None => return Ok(report),
        }
    }
}
