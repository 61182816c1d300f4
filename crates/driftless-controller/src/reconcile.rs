//! One reconciliation of one Application: fetch → render → compare → (automated) sync → health →
//! status, written once at the end.

use std::sync::Arc;
use std::time::Duration;

use driftless_api::{
    Application, ApplicationStatus, Condition, ConditionStatus, HealthState, HistoryEntry,
    OperationPhase, OperationState, ResourceResult, ResourceStatus, SyncState, SyncStatusCode,
    condition_types, reasons,
};
use driftless_diff::{DiffOptions, IgnoreRule};
use driftless_health::{Health, HealthStatus, aggregate_status, assess_optional};
use driftless_resource::ResourceKey;
use driftless_sync::{
    Cluster, RetryPolicy, Settings, SyncOptions, SyncReport, drift, prepare, readiness, sync,
};
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};
use serde_json::json;

use crate::context::Context;
use crate::source::fetch_and_render;
use crate::{Error, interval};

/// How often an application that is still rolling out is looked at.
const ROLLOUT_POLL: Duration = Duration::from_secs(2);

/// How many history entries are kept, as Argo CD's default.
const HISTORY_LIMIT: usize = 10;

/// Reconciles one Application and writes its status.
pub async fn reconcile(app: Arc<Application>, ctx: Arc<Context>) -> Result<Action, Error> {
    let name = app.name_any();
    let namespace = app.namespace().unwrap_or_default();
    let api: Api<Application> = Api::namespaced(ctx.client.clone(), &namespace);
    let every = interval(app.spec.interval.as_deref());
    let previous = app.status.clone().unwrap_or_default();
    let before = previous.conditions.clone();
    let generation = app.meta().generation;
    // Our own status write wakes the controller too: when the spec is unchanged and the last
    // look is recent, just come back when the next one is due.
    if let Some(wait) = not_due_for(&previous, generation, every) {
        return Ok(Action::requeue(wait));
    }

    let policy = app.spec.sync_policy.clone().unwrap_or_default();
    let automated = policy.automated.clone();
    let checked = SyncOptions::parse(&policy.sync_options)
        .map_err(|e| e.to_string())
        .and_then(|options| Ok((options, diff_options(&app).map_err(|e| e.to_string())?)));
    let (mut options, diff_options) = match checked {
        Ok(checked) => checked,
        Err(message) => {
            let status = ApplicationStatus {
                observed_generation: generation,
                conditions: vec![condition(
                    condition_types::READY,
                    ConditionStatus::False,
                    reasons::INVALID_SPEC,
                    &message,
                    generation,
                )],
                reconciled_at: Some(now()),
                ..previous
            };
            write_status(&api, &name, &status, &before).await?;
            // Nothing changes until the spec does.
            return Ok(Action::await_change());
        }
    };

    let cache = ctx.cache.clone();
    let source = app.spec.source.clone();
    let rendered = tokio::task::spawn_blocking(move || fetch_and_render(&cache, &source))
        .await
        .map_err(|e| Error::Source(e.to_string()))?;
    let rendered = match rendered {
        Ok(rendered) => rendered,
        Err(error) => {
            let reason = match error {
                Error::Source(_) => reasons::FETCH_FAILED,
                _ => reasons::RENDER_FAILED,
            };
            let status = ApplicationStatus {
                observed_generation: generation,
                sync: Some(SyncState {
                    status: SyncStatusCode::Unknown,
                    revision: previous.sync.as_ref().and_then(|s| s.revision.clone()),
                }),
                conditions: vec![condition(
                    condition_types::READY,
                    ConditionStatus::False,
                    reason,
                    &error.to_string(),
                    generation,
                )],
                reconciled_at: Some(now()),
                ..previous
            };
            write_status(&api, &name, &status, &before).await?;
            return Ok(Action::requeue(every));
        }
    };

    options.prune = automated.as_ref().is_some_and(|a| a.prune);
    // Self-heal means Git wins: take fields back from whoever changed them.
    options.force |= automated.as_ref().is_some_and(|a| a.self_heal);
    let settings = Settings {
        app: app_id(&namespace, &name),
        options,
        destination: app
            .spec
            .destination
            .namespace
            .clone()
            .unwrap_or_else(|| namespace.clone()),
        dry_run: false,
        health_timeout: Duration::from_secs(300),
        poll: Duration::from_millis(500),
    };

    // Compare with everything Git dropped counted as a difference, as Argo CD shows it.
    let compare_settings = Settings {
        options: SyncOptions {
            prune: true,
            ..settings.options.clone()
        },
        ..settings.clone()
    };
    let plan = prepare(&ctx.cluster, rendered.manifests.clone(), &compare_settings).await?;
    let drifts = drift(&ctx.cluster, &plan, &diff_options).await?;
    let out_of_sync = drifts.iter().any(|d| d.diff.changed);

    let mut operation = None;
    let mut history = previous.history.clone();
    let mut refused_empty = false;
    // Without self-heal, drift in the cluster is reported; only a new commit is synced.
    let new_commit = previous.history.last().map(|h| h.revision.as_str()) != Some(&rendered.commit);
    if out_of_sync
        && let Some(automated) = &automated
        && (automated.self_heal || new_commit)
    {
        if rendered.manifests.is_empty() && !automated.allow_empty {
            refused_empty = true;
        } else {
            let started = now();
            let report = sync(
                &ctx.cluster,
                readiness,
                rendered.manifests.clone(),
                &settings,
                retry_policy(&app),
                &diff_options,
            )
            .await?;
            if report.succeeded() {
                let id = history.last().map_or(1, |h| h.id + 1);
                history.push(HistoryEntry {
                    id,
                    revision: rendered.commit.clone(),
                    deployed_at: now(),
                    initiated_by: Some("automated".to_owned()),
                });
                let excess = history.len().saturating_sub(HISTORY_LIMIT);
                history.drain(..excess);
            }
            operation = Some(operation_state(&report, &rendered.commit, started));
        }
    }

    // The state after any sync: compare again and assess every desired object.
    let (sync_code, resources, health) = if operation.is_some() {
        let plan = prepare(&ctx.cluster, rendered.manifests.clone(), &compare_settings).await?;
        let drifts = drift(&ctx.cluster, &plan, &diff_options).await?;
        summarize(&ctx, &plan, &drifts).await?
    } else {
        summarize(&ctx, &plan, &drifts).await?
    };

    let mut conditions = Vec::new();
    let (ready, reason, message) = if refused_empty {
        (
            ConditionStatus::False,
            reasons::EMPTY_REFUSED,
            "Git renders nothing and allowEmpty is false: nothing was pruned".to_owned(),
        )
    } else if let Some(failure) = operation
        .as_ref()
        .filter(|o| o.phase == OperationPhase::Failed)
    {
        (
            ConditionStatus::False,
            reasons::SYNC_FAILED,
            failure.message.clone(),
        )
    } else if sync_code == SyncStatusCode::OutOfSync {
        (
            ConditionStatus::False,
            reasons::OUT_OF_SYNC,
            "the cluster differs from Git".to_owned(),
        )
    } else if health.status == Health::Degraded {
        (
            ConditionStatus::False,
            reasons::DEGRADED,
            health.message.clone(),
        )
    } else if health.status != Health::Healthy {
        (
            ConditionStatus::False,
            reasons::PROGRESSING,
            health.message.clone(),
        )
    } else {
        (
            ConditionStatus::True,
            reasons::RECONCILED,
            format!("synced to {}", rendered.commit),
        )
    };
    conditions.push(condition(
        condition_types::READY,
        ready,
        reason,
        &message,
        generation,
    ));
    if let Some(fetch_error) = &rendered.fetch_error {
        conditions.push(condition(
            condition_types::SOURCE_READY,
            ConditionStatus::False,
            reasons::FETCH_FAILED,
            &format!("{fetch_error}; using the last fetched commit"),
            generation,
        ));
    }

    let status = ApplicationStatus {
        observed_generation: generation,
        sync: Some(SyncState {
            status: sync_code,
            revision: Some(rendered.commit.clone()),
        }),
        health: Some(HealthState {
            status: health.status.to_string(),
            message: (!health.message.is_empty()).then(|| health.message.clone()),
        }),
        resources,
        conditions,
        operation_state: operation.or(previous.operation_state),
        history,
        reconciled_at: Some(now()),
    };
    write_status(&api, &name, &status, &before).await?;
    // Not yet healthy: look again soon rather than at the next poll.
    if health.status == Health::Progressing || health.status == Health::Missing {
        return Ok(Action::requeue(ROLLOUT_POLL.min(every)));
    }
    Ok(Action::requeue(every))
}

/// The application's identity in tracking ids and labels: `<namespace>_<name>`, unique in the
/// cluster (two Applications of the same name in different namespaces must never prune each
/// other's objects), as Argo CD names applications outside its own namespace.
///
/// # Caveats
/// A label value holds at most 63 characters; longer identities are refused by the API server.
pub fn app_id(namespace: &str, name: &str) -> String {
    format!("{namespace}_{name}")
}

/// How long until the next reconciliation is due, or `None` when it is due now: the spec changed,
/// or the last one is older than the interval (2 s while objects are still rolling out).
fn not_due_for(
    previous: &ApplicationStatus,
    generation: Option<i64>,
    every: Duration,
) -> Option<Duration> {
    if previous.observed_generation != generation || generation.is_none() {
        return None;
    }
    let last: k8s_openapi::jiff::Timestamp = previous.reconciled_at.as_deref()?.parse().ok()?;
    let rolling_out = previous
        .health
        .as_ref()
        .is_some_and(|h| h.status == "Progressing" || h.status == "Missing");
    let period = if rolling_out {
        ROLLOUT_POLL.min(every)
    } else {
        every
    };
    let elapsed = k8s_openapi::jiff::Timestamp::now().duration_since(last);
    let elapsed = Duration::try_from(elapsed).ok()?;
    period.checked_sub(elapsed).filter(|left| !left.is_zero())
}

/// Sync status, per-object status and aggregate health from a comparison.
async fn summarize(
    ctx: &Context,
    plan: &driftless_sync::Plan,
    drifts: &[driftless_sync::Drift],
) -> Result<(SyncStatusCode, Vec<ResourceStatus>, HealthStatus), Error> {
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
                ctx.cluster
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
    let out_of_sync = drifts.iter().any(|d| d.diff.changed);
    let code = if out_of_sync {
        SyncStatusCode::OutOfSync
    } else {
        SyncStatusCode::Synced
    };
    Ok((code, resources, aggregate_status(&healths)))
}

fn resource_status(key: &ResourceKey, changed: bool, health: &HealthStatus) -> ResourceStatus {
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
        health: Some(HealthState {
            status: health.status.to_string(),
            message: (!health.message.is_empty()).then(|| health.message.clone()),
        }),
        message: None,
    }
}

fn operation_state(report: &SyncReport, revision: &str, started: String) -> OperationState {
    OperationState {
        phase: if report.succeeded() {
            OperationPhase::Succeeded
        } else {
            OperationPhase::Failed
        },
        message: report
            .failure
            .clone()
            .unwrap_or_else(|| "successfully synced".to_owned()),
        revision: Some(revision.to_owned()),
        initiated_by: Some("automated".to_owned()),
        started_at: started,
        finished_at: Some(now()),
        results: report
            .results
            .iter()
            .map(|r| ResourceResult {
                group: r.key.group.clone(),
                kind: r.key.kind.clone(),
                namespace: r.key.namespace.clone(),
                name: r.key.name.clone(),
                action: r.action.to_string(),
                result: r.outcome.to_string(),
                message: r.message.clone(),
            })
            .collect(),
        request_id: None,
    }
}

fn diff_options(app: &Application) -> Result<DiffOptions, Error> {
    let rules = app
        .spec
        .ignore_differences
        .iter()
        .map(|rule| IgnoreRule {
            group: rule.group.clone(),
            kind: rule.kind.clone(),
            name: rule.name.clone(),
            namespace: rule.namespace.clone(),
            json_pointers: rule.json_pointers.clone(),
            jq_path_expressions: rule.jq_path_expressions.clone(),
            managed_fields_managers: rule.managed_fields_managers.clone(),
        })
        .collect();
    DiffOptions::new(driftless_diff::DEFAULT_MANAGER, rules).map_err(|e| Error::Spec(e.to_string()))
}

fn retry_policy(app: &Application) -> RetryPolicy {
    let retry = app
        .spec
        .sync_policy
        .as_ref()
        .and_then(|p| p.retry.clone())
        .unwrap_or_default();
    let backoff = retry.backoff.unwrap_or_default();
    let defaults = RetryPolicy::default();
    RetryPolicy {
        limit: retry
            .limit
            .map_or(0, |l| u32::try_from(l).unwrap_or(u32::MAX)),
        duration: backoff
            .duration
            .as_deref()
            .and_then(crate::parse_duration)
            .unwrap_or(defaults.duration),
        factor: backoff
            .factor
            .and_then(|f| u32::try_from(f).ok())
            .unwrap_or(defaults.factor),
        max_duration: backoff
            .max_duration
            .as_deref()
            .and_then(crate::parse_duration)
            .unwrap_or(defaults.max_duration),
    }
}

fn condition(
    type_: &str,
    status: ConditionStatus,
    reason: &str,
    message: &str,
    generation: Option<i64>,
) -> Condition {
    Condition {
        type_: type_.to_owned(),
        status,
        reason: reason.to_owned(),
        message: message.to_owned(),
        last_transition_time: now(),
        observed_generation: generation,
    }
}

/// Writes the status; a condition whose status did not change keeps its transition time.
async fn write_status(
    api: &Api<Application>,
    name: &str,
    status: &ApplicationStatus,
    before: &[Condition],
) -> Result<(), Error> {
    let mut status = status.clone();
    for condition in &mut status.conditions {
        if let Some(old) = before
            .iter()
            .find(|c| c.type_ == condition.type_ && c.status == condition.status)
        {
            condition.last_transition_time = old.last_transition_time.clone();
        }
    }
    api.patch_status(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({ "status": status })),
    )
    .await?;
    Ok(())
}

/// RFC 3339, UTC, seconds.
fn now() -> String {
    k8s_openapi::jiff::Timestamp::now()
        .round(k8s_openapi::jiff::Unit::Second)
        .map(|t| t.to_string())
        .unwrap_or_default()
}
