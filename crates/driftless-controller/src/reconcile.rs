//! One reconciliation of one Application, in a fixed guard order: deletion (finalizer) → spec
//! validation → source (fetched when due, else the last render) → compare → decide whether to
//! sync (a request, an interrupted sync, a new commit, self-heal) → sync → status, written once
//! and only when it changed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use driftless_api::{
    Application, ApplicationStatus, ConditionStatus, FINALIZER, HistoryEntry, OperationPhase,
    OperationState, SYNC_REQUEST_ANNOTATION, SyncRequest, SyncState, SyncStatusCode,
    condition_types, reasons,
};
use driftless_diff::{DiffOptions, IgnoreRule};
use driftless_health::Health;
use driftless_sync::{
    Cluster, Known, Propagation, RetryPolicy, Settings, SyncOptions, drift, observe, prepare,
};
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};
use serde_json::json;

use crate::context::{CachedRender, Context, Packed};
use crate::operation::{Trigger, run_sync};
use crate::source::fetch_and_render;
use crate::status::{condition, health_state, now, summarize, write};
use crate::{Error, interval};

/// How often an application that is still rolling out is looked at, besides the watch events
/// of its objects.
const ROLLOUT_POLL: Duration = Duration::from_secs(5);

/// Reconciles one Application and writes its status.
pub async fn reconcile(app: Arc<Application>, ctx: Arc<Context>) -> Result<Action, Error> {
    let me = ObjectRef::from_obj(app.as_ref());
    let name = app.name_any();
    let namespace = app.namespace().unwrap_or_default();
    let api: Api<Application> = Api::namespaced(ctx.client.clone(), &namespace);
    let id = app_id(&namespace, &name);

    if app.meta().deletion_timestamp.is_some() {
        if app.finalizers().iter().any(|f| f == FINALIZER) {
            delete_managed(&ctx, &id).await?;
            remove_finalizer(&api, &app).await?;
        }
        ctx.forget(&me);
        ctx.metrics.remove_app(&namespace, &name);
        return Ok(Action::await_change());
    }

    let every = interval(app.spec.interval.as_deref());
    let generation = app.meta().generation;
    let previous = ctx.memory(&me, |m| m.newer_status(&app));
    let policy = app.spec.sync_policy.clone().unwrap_or_default();
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
                ..previous.clone()
            };
            let written = write(&api, &name, &status, &previous, false).await?;
            ctx.memory(&me, |m| m.wrote(&status, written));
            // Nothing changes until the spec does.
            return Ok(Action::await_change());
        }
    };

    // What, if anything, asks for a sync regardless of drift.
    let request = match app.annotations().get(SYNC_REQUEST_ANNOTATION) {
        None => None,
        Some(text) => match SyncRequest::parse(text) {
            Ok(request) => Some(request),
            Err(error) => {
                clear_request(&api, &name).await?;
                crate::operation::publish(
                    &ctx,
                    &app,
                    crate::operation::Note::warning(
                        "InvalidSyncRequest",
                        format!("ignored {SYNC_REQUEST_ANNOTATION}: not a sync request ({error})"),
                    ),
                );
                None
            }
        },
    };
    let interrupted = previous
        .operation_state
        .clone()
        .filter(|op| op.phase == OperationPhase::Running)
        // A Running operation this process did not start was cut short by a restart.
        .filter(|_| !ctx.memory(&me, |m| m.ran_operation));
    let pinned = request
        .as_ref()
        .and_then(|r| r.revision.clone())
        .or_else(|| interrupted.as_ref().and_then(|op| op.revision.clone()));

    let clock = Instant::now();
    let rendered = match source(&ctx, &me, &app, pinned.as_deref(), every).await {
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
                ..previous.clone()
            };
            let status = match &request {
                // Whoever asked waits for its id: tell them it failed.
                Some(request) => ApplicationStatus {
                    operation_state: Some(refused(request, &error.to_string())),
                    ..status
                },
                None => status,
            };
            let written = write(&api, &name, &status, &previous, false).await?;
            ctx.memory(&me, |m| m.wrote(&status, written));
            if request.is_some() {
                clear_request(&api, &name).await?;
            }
            return Ok(Action::requeue(every));
        }
    };

    let automated = policy.automated.clone().filter(|_| !app.spec.suspend);
    options.prune = automated.as_ref().is_some_and(|a| a.prune);
    // Self-heal means Git wins: take fields back from whoever changed them.
    options.force |= policy.automated.as_ref().is_some_and(|a| a.self_heal);
    let settings = Settings {
        app: id.clone(),
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
        wait_last_wave: false,
    };
    // Compare with everything Git dropped counted as a difference, as Argo CD shows it.
    let compare_settings = Settings {
        options: SyncOptions {
            prune: true,
            ..settings.options.clone()
        },
        ..settings.clone()
    };
    let manifests = rendered.manifests;
    let source_took = clock.elapsed();
    let observed = observe(&ctx.cluster, manifests.clone(), &compare_settings).await?;
    let plan = observed
        .plan(&compare_settings.app, &compare_settings.options)
        .map_err(driftless_sync::PrepareError::from)?;
    let drifts = drift(&ctx.cluster, &plan, &diff_options).await?;
    let out_of_sync = drifts.iter().any(|d| d.diff.changed);

    let last_synced = previous.history.last().map(|h| h.revision.as_str());
    let failed_before = previous.operation_state.as_ref().is_some_and(|op| {
        op.phase == OperationPhase::Failed && op.revision.as_deref() == Some(&rendered.commit)
    });
    let mut heal_wait = Duration::ZERO;
    let trigger = if let Some(request) = request {
        Some(Trigger::Request(request))
    } else if let Some(op) = interrupted {
        Some(Trigger::Resume(op))
    } else if let Some(automated) = automated.as_ref().filter(|_| out_of_sync) {
        if last_synced != Some(rendered.commit.as_str()) && !failed_before {
            Some(Trigger::NewCommit)
        } else if automated.self_heal {
            heal_wait = ctx.memory(&me, |m| m.heal.wait(Instant::now()));
            heal_wait.is_zero().then_some(Trigger::SelfHeal)
        } else {
            None
        }
    } else {
        None
    };
    let refused_empty = manifests.is_empty()
        && automated.as_ref().is_some_and(|a| !a.allow_empty)
        && matches!(trigger, Some(Trigger::NewCommit | Trigger::SelfHeal));

    let mut history = previous.history.clone();
    let mut operation = previous.operation_state.clone();
    let mut synced = false;
    if let Some(trigger) = trigger.filter(|_| !refused_empty) {
        let outcome = run_sync(
            &ctx,
            &api,
            &app,
            &me,
            &previous,
            trigger,
            &rendered.commit,
            manifests.clone(),
            &settings,
            retry_policy(&app),
            &diff_options,
            Known {
                observed,
                drifts: drifts.clone(),
            },
        )
        .await?;
        if let Some(entry) = outcome.history {
            history.push(entry);
            let excess = history.len().saturating_sub(HISTORY_LIMIT);
            history.drain(..excess);
        }
        operation = Some(outcome.operation);
        synced = true;
    }

    // The state after any sync: compare again and assess every desired object.
    let compared = clock.elapsed();
    let (sync_code, resources, health) = if synced {
        let plan = prepare(&ctx.cluster, manifests, &compare_settings).await?;
        let drifts = drift(&ctx.cluster, &plan, &diff_options).await?;
        summarize(&ctx, &plan, &drifts).await?
    } else {
        summarize(&ctx, &plan, &drifts).await?
    };

    let failed = operation
        .as_ref()
        .filter(|o| synced && o.phase == OperationPhase::Failed);
    let (ready, reason, message) = if refused_empty {
        (
            ConditionStatus::False,
            reasons::EMPTY_REFUSED,
            "Git renders nothing and allowEmpty is false: nothing was pruned".to_owned(),
        )
    } else if let Some(failure) = failed {
        (
            ConditionStatus::False,
            reasons::SYNC_FAILED,
            failure.message.clone(),
        )
    } else if sync_code == SyncStatusCode::OutOfSync {
        let message = if heal_wait.is_zero() {
            "the cluster differs from Git".to_owned()
        } else {
            format!(
                "the cluster differs from Git; self-heal backs off for {}s because the drift keeps coming back",
                heal_wait.as_secs().max(1)
            )
        };
        (ConditionStatus::False, reasons::OUT_OF_SYNC, message)
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
    let mut conditions = vec![condition(
        condition_types::READY,
        ready,
        reason,
        &message,
        generation,
    )];
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
        health: Some(health_state(&health)),
        resources,
        conditions,
        operation_state: operation,
        history,
        reconciled_at: if rendered.fetched {
            Some(now())
        } else {
            previous.reconciled_at.clone()
        },
    };
    let assessed = clock.elapsed();
    let written = write(&api, &name, &status, &previous, rendered.fetched).await?;
    tracing::debug!(
        application = %id,
        fetched = rendered.fetched,
        synced,
        source_ms = source_took.as_millis(),
        compare_and_sync_ms = (compared - source_took).as_millis(),
        assess_ms = (assessed - compared).as_millis(),
        status_ms = (clock.elapsed() - assessed).as_millis(),
        "reconcile phases"
    );
    ctx.memory(&me, |m| m.wrote(&status, written));
    let sync_text = match sync_code {
        SyncStatusCode::Synced => "Synced",
        SyncStatusCode::OutOfSync => "OutOfSync",
        SyncStatusCode::Unknown => "Unknown",
    };
    ctx.metrics
        .set_app_status(&namespace, &name, sync_text, &health.status.to_string());

    let next_poll = ctx.memory(&me, |m| m.next_poll(every));
    let mut next = next_poll;
    if health.status == Health::Progressing || health.status == Health::Missing {
        next = next.min(ROLLOUT_POLL);
    }
    if !heal_wait.is_zero() {
        next = next.min(heal_wait);
    }
    Ok(Action::requeue(next))
}

/// How many history entries are kept, as Argo CD's default.
const HISTORY_LIMIT: usize = 10;

/// The last render when the source is not due, else a fresh fetch and render. A pinned
/// revision (a sync request, an interrupted sync) is always fetched and never cached.
async fn source(
    ctx: &Context,
    me: &ObjectRef<Application>,
    app: &Application,
    pinned: Option<&str>,
    every: Duration,
) -> Result<Render, Error> {
    let not_before = match pinned {
        Some(_) => Instant::now(),
        None => match ctx.memory(me, |m| {
            m.fresh_render(&app.spec.source, every, appeared(ctx, app))
        }) {
            Ok(cached) => {
                return Ok(Render {
                    commit: cached.commit,
                    manifests: cached.manifests.unpack(),
                    fetch_error: cached.fetch_error,
                    fetched: false,
                });
            }
            Err(not_before) => not_before,
        },
    };
    let cache = ctx.cache.clone();
    let spec = app.spec.source.clone();
    let revision = pinned.map(str::to_owned);
    let started = Instant::now();
    let rendered = tokio::task::spawn_blocking(move || {
        fetch_and_render(&cache, &spec, revision.as_deref(), not_before)
    })
    .await
    .map_err(|e| Error::Source(e.to_string()))
    .and_then(|rendered| rendered);
    ctx.metrics
        .git_fetched(crate::OpResult::of(&rendered), started.elapsed());
    let rendered = rendered?;
    let render = Render {
        commit: rendered.commit,
        manifests: rendered.manifests,
        fetch_error: rendered.fetch_error,
        fetched: true,
    };
    if pinned.is_none() {
        let cached = CachedRender {
            source: app.spec.source.clone(),
            commit: render.commit.clone(),
            manifests: Packed::pack(&render.manifests),
            fetched_at: Instant::now(),
            jitter: jitter(every),
            fetch_error: render.fetch_error.clone(),
        };
        ctx.memory(me, |m| m.render = Some(cached));
    }
    Ok(render)
}

/// When `app` appeared to this controller: its creation, or the controller's start if later.
/// A fetch that started after that serves its first render, so a thousand applications created
/// together share one fetch.
fn appeared(ctx: &Context, app: &Application) -> Instant {
    let now = Instant::now();
    let created = app.meta().creation_timestamp.as_ref().and_then(|created| {
        let age = k8s_openapi::jiff::Timestamp::now().duration_since(created.0);
        // A creation time ahead of this machine's clock counts as now.
        let age = Duration::try_from(age).ok()?;
        now.checked_sub(age)
    });
    created.unwrap_or(now).max(ctx.started)
}

/// Up to a tenth of the interval, at most a minute (Argo CD adds up to a minute to its 3).
fn jitter(every: Duration) -> Duration {
    let most = (every / 10).min(Duration::from_secs(60));
    let millis = u64::try_from(most.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::random_range(0..=millis))
}

/// What Git declares, and whether it was fetched in this reconciliation.
struct Render {
    commit: String,
    manifests: Vec<driftless_resource::Manifest>,
    fetch_error: Option<String>,
    fetched: bool,
}

/// Deletes every object the application owns (the finalizer's cascade).
async fn delete_managed(ctx: &Context, id: &str) -> Result<(), Error> {
    for (key, live) in ctx.cluster.list_owned(id).await? {
        let Some(driftless_sync::Owner::This) = Some(driftless_sync::owner(&live, id, &key)) else {
            continue;
        };
        ctx.cluster
            .delete(
                &key,
                driftless_sync::api_version(&live),
                Propagation::Background,
            )
            .await?;
    }
    Ok(())
}

async fn remove_finalizer(api: &Api<Application>, app: &Application) -> Result<(), Error> {
    let rest: Vec<&String> = app
        .finalizers()
        .iter()
        .filter(|f| *f != FINALIZER)
        .collect();
    // The resource version makes this fail, rather than drop a finalizer added meanwhile.
    let patch = json!({ "metadata": {
        "finalizers": rest,
        "resourceVersion": app.resource_version(),
    }});
    api.patch(
        &app.name_any(),
        &PatchParams::default(),
        &Patch::Merge(patch),
    )
    .await?;
    Ok(())
}

/// Removes the sync request annotation (it is carried out once).
pub(crate) async fn clear_request(api: &Api<Application>, name: &str) -> Result<(), Error> {
    let patch = json!({ "metadata": { "annotations": { SYNC_REQUEST_ANNOTATION: null } } });
    api.patch(name, &PatchParams::default(), &Patch::Merge(patch))
        .await?;
    Ok(())
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

/// The Application an identity from [`app_id`] names.
pub(crate) fn app_ref(id: &str) -> Option<ObjectRef<Application>> {
    // Namespace names cannot contain `_`, so the first one separates.
    let (namespace, name) = id.split_once('_')?;
    Some(ObjectRef::new(name).within(namespace))
}

/// The Application's `ignoreDifferences` as comparison options for the field manager the
/// controller applies with (also what `driftless app diff` compares with).
pub fn diff_options(app: &Application) -> Result<DiffOptions, Error> {
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

/// A history entry for a sync of `revision` that just succeeded.
pub(crate) fn history_entry(
    history: &[HistoryEntry],
    revision: &str,
    initiated_by: &str,
) -> HistoryEntry {
    HistoryEntry {
        id: history.last().map_or(1, |h| h.id + 1),
        revision: revision.to_owned(),
        deployed_at: now(),
        initiated_by: Some(initiated_by.to_owned()),
    }
}

/// A requested sync that failed before it started (its revision could not be fetched or
/// rendered).
fn refused(request: &SyncRequest, message: &str) -> OperationState {
    let revision = request.revision.as_deref().unwrap_or("the target revision");
    let mut operation = running(
        revision,
        request.initiated_by.as_deref().unwrap_or("user"),
        Some(request.id.clone()),
    );
    operation.phase = OperationPhase::Failed;
    operation.message = format!("cannot sync {revision}: {message}");
    operation.revision = request.revision.clone();
    operation.finished_at = Some(operation.started_at.clone());
    operation
}

/// A fresh Running operation.
pub(crate) fn running(
    revision: &str,
    initiated_by: &str,
    request_id: Option<String>,
) -> OperationState {
    OperationState {
        phase: OperationPhase::Running,
        message: format!("syncing to {revision}"),
        revision: Some(revision.to_owned()),
        initiated_by: Some(initiated_by.to_owned()),
        started_at: now(),
        finished_at: None,
        results: Vec::new(),
        request_id,
    }
}
