//! Drift: what applying the plan would change, object by object.
//!
//! Each object is compared locally first (desired against live, restricted to the fields
//! Driftless manages). Only a suspected difference costs a request: a server-side dry-run apply
//! whose result is compared instead, so fields the server defaults or re-spells never count as
//! drift. In the steady state, comparing an application makes no request per object.

use driftless_diff::{Action as DiffAction, DiffOptions, ObjectDiff, diff_object};
use driftless_resource::ResourceKey;

use crate::cluster::{ApplyMode, Cluster};
use crate::plan::Plan;

/// One object's drift.
#[derive(Debug, Clone)]
pub struct Drift {
    /// The object.
    pub key: ResourceKey,
    /// The comparison: action, unified diff (Secret values masked), changed paths.
    pub diff: ObjectDiff,
    /// Field managers other than Driftless that own a changed field (who made the change).
    pub changed_by: Vec<String>,
    /// Set when the dry run that should confirm a difference failed; the diff is then the
    /// local one, and applying would fail with this message.
    pub dry_run_error: Option<String>,
}

/// Why drift could not be computed.
#[derive(Debug, thiserror::Error)]
#[error("comparing {key}: {source}")]
pub struct DriftError {
    /// The object.
    pub key: ResourceKey,
    /// The cause.
    #[source]
    pub source: driftless_diff::Error,
}

/// Compares every object of `plan` with the cluster: applies (create, update or unchanged) and
/// prunes.
pub async fn drift<C: Cluster + Sync>(
    cluster: &C,
    plan: &Plan,
    options: &DiffOptions,
) -> Result<Vec<Drift>, DriftError> {
    let mut drifts = Vec::new();
    for task in plan.waves.iter().flat_map(|w| &w.apply) {
        let fail = |source| DriftError {
            key: task.key.clone(),
            source,
        };
        let local = diff_object(Some(&task.object), task.live.as_ref(), options).map_err(fail)?;
        let Some(live) = task
            .live
            .as_ref()
            .filter(|_| local.action == DiffAction::Update)
        else {
            drifts.push(Drift {
                key: task.key.clone(),
                diff: local,
                changed_by: Vec::new(),
                dry_run_error: None,
            });
            continue;
        };
        // Forced, so the prediction shows what a forced apply (self-heal) would store even when
        // another manager has taken the field over.
        let mode = ApplyMode {
            dry_run: true,
            force: true,
            validate: task.validate,
        };
        let (diff, dry_run_error) = match cluster.apply(&task.object, mode).await {
            Ok(predicted) => (
                diff_object(Some(&predicted), Some(live), options).map_err(fail)?,
                None,
            ),
            Err(e) => (local, Some(e.message)),
        };
        let mut changed_by: Vec<String> = Vec::new();
        if diff.changed {
            for path in &diff.changed_paths {
                for manager in driftless_diff::other_managers(live, path, options.manager())
                    .unwrap_or_default()
                {
                    if !changed_by.contains(&manager) {
                        changed_by.push(manager);
                    }
                }
            }
        }
        drifts.push(Drift {
            key: task.key.clone(),
            diff,
            changed_by,
            dry_run_error,
        });
    }
    for task in plan
        .waves
        .iter()
        .flat_map(|w| &w.prune)
        .chain(&plan.prune_last)
    {
        let diff = diff_object(None, Some(&task.live), options).map_err(|source| DriftError {
            key: task.key.clone(),
            source,
        })?;
        drifts.push(Drift {
            key: task.key.clone(),
            diff,
            changed_by: Vec::new(),
            dry_run_error: None,
        });
    }
    Ok(drifts)
}
