//! Observe: everything a decision needs, gathered into one plain value. Only I/O happens here
//! (the status this process last wrote, Git, the cluster); what to do about it is decided by
//! the guards. What cannot be gathered is recorded as the error it gave.

use std::sync::Arc;
use std::time::{Duration, Instant};

use driftless_api::{
    Application, ApplicationStatus, FINALIZER, OperationPhase, SYNC_REQUEST_ANNOTATION, SyncRequest,
};
use driftless_cluster::{ForbiddenKind, Unowned};
use driftless_resource::Manifest;
use driftless_sync::{Drift, Observed, Settings, SyncOptions, drift, observe as read};
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::jiff::Timestamp;
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};

use crate::Error;
use crate::clusters::{Target, resolve};
use crate::context::{CachedRender, Context, Packed};
use crate::repository::source_for;
use crate::source::{Fresh, fetch_and_render_since};
use crate::spec::{SpecError, ValidSpec, validate, with_project};
use crate::status::{Summary, summarize};

/// What one reconciliation knows about its Application.
#[derive(Debug)]
pub(crate) struct Observation {
    /// The Application as the watch delivered it.
    pub app: Arc<Application>,
    /// It, as a key of the controller's memory.
    pub me: ObjectRef<Application>,
    /// `metadata.generation`.
    pub generation: Option<i64>,
    /// Set when the Application is being deleted.
    pub deletion: Option<Deletion>,
    /// The status before this reconciliation (the one this process last wrote, when the watch
    /// has not delivered it yet).
    pub previous: ApplicationStatus,
    /// The validated spec, or the first field that is wrong.
    pub spec: Result<ValidSpec, SpecError>,
    /// Automated sync, unless absent or suspended.
    pub automated: Option<driftless_api::Automated>,
    /// The sync request annotation, parsed (or why it does not parse).
    pub request: Option<Result<SyncRequest, String>>,
    /// How long self-heal still backs off (zero: it may heal now).
    pub heal_wait: Duration,
    /// When this observation was made.
    pub now: Timestamp,
    /// What Git declares (absent when deleting or the spec is invalid).
    pub source: Option<Result<Render, SourceFailure>>,
    /// The comparison with the live cluster (absent when there is nothing to compare).
    pub compare: Option<Result<Comparison, String>>,
    /// Kinds the controller may not list or watch, as of the comparison.
    pub forbidden: Vec<ForbiddenKind>,
    /// The objects of the destination namespace that no Application owns, when the project
    /// warns about orphans and Git was fetched now (absent: not looked at this time).
    pub unowned: Option<Result<Vec<Unowned>, String>>,
    /// The cluster the Application deploys to, connected, or why it cannot be reached (absent
    /// when the spec is invalid).
    pub target: Option<Result<Arc<Target>, String>>,
    /// Set when Git moved on without changing anything this Application renders, while
    /// Applications it did change are still to be reconciled: this one waits for them
    /// ([`crate::triage`]), nothing compared, nothing written.
    pub deferred: bool,
    /// Set when `spec.dependsOn` keeps the Application from going on (a dependency not ready,
    /// or a cycle): nothing is fetched, compared or applied.
    pub blocked: Option<crate::dependencies::Blocked>,
}

/// How an Application being deleted goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Deletion {
    /// With the finalizer: its objects are deleted first.
    Cascade,
    /// Without: its objects stay.
    Orphan,
}

/// What Git declares, and whether it was fetched in this reconciliation.
#[derive(Debug, Clone)]
pub(crate) struct Render {
    /// The commit.
    pub commit: String,
    /// The objects.
    pub manifests: Vec<Manifest>,
    /// Set when the fetch failed and the last fetched commit was used.
    pub fetch_error: Option<String>,
    /// Whether Git was fetched now (not a render kept from an earlier poll).
    pub fetched: bool,
    /// Whether Git was fetched now and nothing the last render read had changed, so the last
    /// render stands for the new commit.
    pub unchanged: bool,
    /// Earlier commits whose render this is too (nothing it read changed since), newest last,
    /// at most [`crate::context::SAME_AS_KEPT`]: drift from a sync at one of them is drift, healed as such, not
    /// a new commit to deploy.
    pub same_as: Vec<String>,
}

impl Render {
    /// Whether this render is the render of `commit`.
    pub(crate) fn stands_for(&self, commit: &str) -> bool {
        self.commit == commit || self.same_as.iter().any(|c| c == commit)
    }
}

/// Why the source could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SourceFailure {
    /// `FetchFailed` or `RenderFailed`.
    pub reason: &'static str,
    /// One line for people.
    pub message: String,
}

/// The desired set against the live cluster.
#[derive(Debug, Clone)]
pub(crate) struct Comparison {
    /// The reading of the cluster (a sync's first attempt plans from it).
    pub observed: Observed,
    /// The drift of every desired object.
    pub drifts: Vec<Drift>,
    /// Whether anything differs.
    pub out_of_sync: bool,
    /// Sync status, per-object status and aggregate health.
    pub summary: Summary,
    /// Desired objects the project does not permit, each with the rule: no sync can succeed
    /// while there are any.
    pub denied: Vec<String>,
}

/// Gathers what a decision about `app` needs.
pub(crate) async fn observe(app: Arc<Application>, ctx: &Arc<Context>) -> Observation {
    let me = ObjectRef::from_obj(app.as_ref());
    let deletion = app.meta().deletion_timestamp.as_ref().map(|_| {
        if app.finalizers().iter().any(|f| f == FINALIZER) {
            Deletion::Cascade
        } else {
            Deletion::Orphan
        }
    });
    let previous = ctx.memory(&me, |m| m.newer_status(&app));
    let heal_wait = ctx.memory(&me, |m| m.heal.wait(Instant::now()));
    let request = app
        .annotations()
        .get(SYNC_REQUEST_ANNOTATION)
        .map(|text| SyncRequest::parse(text).map_err(|e| e.to_string()));
    let policy = app.spec.sync_policy.clone().unwrap_or_default();
    let mut seen = Observation {
        me,
        generation: app.meta().generation,
        deletion,
        spec: validate(&app).and_then(|mut spec| {
            spec.cluster = resolve(&app, &ctx.credentials.state(), &ctx.namespace)?;
            let project = ObjectRef::new(app.project()).within(&ctx.namespace);
            with_project(
                spec,
                &app,
                ctx.projects.get(&project).as_deref(),
                &ctx.namespace,
                ctx.impersonate_only,
            )
        }),
        automated: policy.automated.filter(|_| !app.spec.suspend),
        request,
        heal_wait,
        now: Timestamp::now(),
        source: None,
        compare: None,
        forbidden: Vec::new(),
        unowned: None,
        target: None,
        deferred: false,
        blocked: None,
        previous,
        app,
    };
    let (Ok(spec), None) = (&seen.spec, seen.deletion) else {
        match (&seen.spec, seen.deletion) {
            (Ok(spec), Some(Deletion::Cascade)) => {
                seen.target = Some(ctx.target(spec, &seen.me).await);
            }
            (Err(_), None) => ctx.clusters.release(&crate::app_id(
                seen.me.namespace.as_deref().unwrap_or_default(),
                &seen.me.name,
            )),
            _ => {}
        }
        return seen;
    };
    // Dependencies gate the start of a sync; one already going on finishes.
    let going =
        seen.previous.operation_state.as_ref().is_some_and(|op| {
            matches!(op.phase, OperationPhase::Running | OperationPhase::Retrying)
        });
    if !going
        && let Err(blocked) =
            crate::dependencies::check(&seen.app, |other| ctx.applications.get(other))
    {
        seen.blocked = Some(blocked);
        return seen;
    }
    let target = ctx.target(spec, &seen.me).await;
    let pinned = pinned_revision(&seen);
    let source = source(
        ctx,
        &seen,
        pinned.as_deref(),
        spec.interval,
        target.as_ref().ok(),
    )
    .await;
    if let Ok(render) = &source
        && render.unchanged
        && ctx.defer(&seen.me, &seen.app.spec.source.repo_url, &render.commit)
    {
        seen.deferred = true;
        seen.source = Some(source);
        return seen;
    }
    let Ok(target) = target else {
        // Unreachable: nothing is compared or applied; only this cluster's Applications wait.
        seen.source = Some(source);
        seen.target = Some(target);
        return seen;
    };
    let compared = match &source {
        Ok(render) => Some(compare(ctx, &target, spec, render.manifests.clone()).await),
        Err(_) => None,
    };
    // Orphans are looked for as often as Git is fetched: a list per kind is not for every
    // watch event.
    let looks_for_orphans =
        spec.project.warns_orphans() && source.as_ref().is_ok_and(|r| r.fetched);
    if looks_for_orphans {
        let unowned = target.cluster.unowned_in(&spec.destination).await;
        seen.unowned = Some(unowned.map_err(|e| e.to_string()));
    }
    seen.source = Some(source);
    seen.compare = compared;
    seen.forbidden = target.cluster.forbidden_kinds();
    seen.target = Some(Ok(target));
    seen
}

/// The revision a sync must use regardless of the target revision: a request's, or that of an
/// operation that is still going (running, or waiting for its next attempt).
fn pinned_revision(seen: &Observation) -> Option<String> {
    let requested = match &seen.request {
        Some(Ok(request)) => request.revision.clone(),
        _ => None,
    };
    requested.or_else(|| {
        seen.previous
            .operation_state
            .as_ref()
            .filter(|op| matches!(op.phase, OperationPhase::Running | OperationPhase::Retrying))
            .and_then(|op| op.revision.clone())
    })
}

/// The settings a comparison uses: everything Git dropped counts as a difference, as Argo CD
/// shows it.
pub(crate) fn compare_settings(spec: &ValidSpec) -> Settings {
    Settings {
        app: spec.id.clone(),
        options: SyncOptions {
            prune: true,
            ..spec.options.clone()
        },
        destination: spec.destination.clone(),
        dry_run: false,
        health_timeout: Duration::from_secs(300),
        poll: Duration::from_millis(500),
        wait_last_wave: false,
        yield_waits: false,
        resume: None,
        handled_before: Default::default(),
        permit: spec.permit.clone(),
    }
}

/// Compares `manifests` with the live cluster `target`.
pub(crate) async fn compare(
    ctx: &Context,
    target: &Target,
    spec: &ValidSpec,
    manifests: Vec<Manifest>,
) -> Result<Comparison, String> {
    let settings = compare_settings(spec);
    if let Some((namespace, name)) = &spec.service_account {
        let accounts: kube::Api<ServiceAccount> =
            kube::Api::namespaced(target.cluster.client().clone(), namespace);
        match accounts.get_opt(name).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                return Err(format!(
                    "spec.serviceAccountName: ServiceAccount {namespace}/{name} does not exist; nothing is applied"
                ));
            }
            Err(error) => {
                return Err(format!(
                    "reading ServiceAccount {namespace}/{name}: {error}"
                ));
            }
        }
    }
    // Dry runs are made as the application's ServiceAccount, as its sync will be.
    let cluster = ctx.writer(target, spec.service_account.as_ref())?;
    let compared = async {
        let observed = read(&cluster, manifests, &settings).await?;
        let plan = observed
            .plan(&settings)
            .map_err(driftless_sync::PrepareError::from)?;
        let drifts = drift(&cluster, &plan, &spec.diff).await?;
        let summary = summarize(&target.cluster, &plan, &drifts).await?;
        let denied = plan
            .denied
            .iter()
            .map(|d| format!("{}: {}", d.key, d.reason))
            .collect();
        Ok::<_, Error>(Comparison {
            denied,
            out_of_sync: drifts.iter().any(|d| d.diff.changed),
            observed,
            drifts,
            summary,
        })
    };
    compared.await.map_err(|e| e.to_string())
}

/// What a Helm chart's render needs from the cluster: the destination's version (unless
/// `kubeVersion` is set) and the `valuesFrom` objects of the Application's namespace.
async fn chart_context(
    ctx: &Arc<Context>,
    seen: &Observation,
    target: Option<&Arc<crate::clusters::Target>>,
) -> Result<crate::ChartContext, SourceFailure> {
    let app = seen.app.as_ref();
    let namespace = seen.me.namespace.as_deref().unwrap_or_default();
    let mut chart = crate::ChartContext::new(&seen.me.name, &app.destination_namespace());
    let helm = app.spec.source.helm.as_ref();
    if helm.and_then(|h| h.kube_version.as_ref()).is_none()
        && let Some(target) = target
    {
        chart.kube_version = target.kube_version().await;
    }
    if let Some(helm) = helm
        && !helm.values_from.is_empty()
    {
        chart.values_from = crate::chart::values_from(&ctx.client, namespace, &helm.values_from)
            .await
            .map_err(|message| SourceFailure {
                reason: driftless_api::reasons::RENDER_FAILED,
                message,
            })?;
    }
    Ok(chart)
}

/// The last render when the source is not due, else a fresh fetch and render. A pinned
/// revision is served from the last render only when that is the same commit.
async fn source(
    ctx: &Arc<Context>,
    seen: &Observation,
    pinned: Option<&str>,
    every: Duration,
    target: Option<&Arc<crate::clusters::Target>>,
) -> Result<Render, SourceFailure> {
    let app = seen.app.as_ref();
    let kept = ctx.memory(&seen.me, |m| match pinned {
        // A commit id names one tree for ever.
        Some(commit) => m
            .render
            .clone()
            .filter(|r| r.commit == commit)
            .ok_or_else(Instant::now),
        None => m.fresh_render(&app.spec.source, every, appeared(ctx, app)),
    });
    let not_before = match kept {
        Ok(kept) => match kept.manifests.unpack() {
            Ok(manifests) => {
                return Ok(Render {
                    commit: kept.commit,
                    manifests,
                    fetch_error: kept.fetch_error,
                    fetched: false,
                    unchanged: false,
                    same_as: kept.same_as,
                });
            }
            Err(error) => {
                // Never a partial render: read Git again.
                tracing::warn!(%error, "a kept render did not read back; fetching again");
                Instant::now()
            }
        },
        Err(not_before) => not_before,
    };
    let cache = ctx.cache.clone();
    let spec = app.spec.source.clone();
    let chart = chart_context(ctx, seen, target).await?;
    let (repository, note) =
        source_for(ctx, &spec.repo_url, app.project()).map_err(|message| SourceFailure {
            reason: driftless_api::reasons::FETCH_FAILED,
            message,
        })?;
    // Credentials of another project explain a failed fetch.
    let noted = |message: String| match &note {
        Some(note) => format!("{message} ({note})"),
        None => message,
    };
    let revision = pinned.map(str::to_owned);
    // The last render of this source stands for a new commit where nothing it read changed; a
    // pinned revision is rendered as asked.
    let last = ctx.memory(&seen.me, |m| {
        m.render
            .as_ref()
            .filter(|r| pinned.is_none() && r.source == app.spec.source)
            .and_then(|r| {
                let same_as = crate::context::carried(r.same_as.clone(), r.commit.clone());
                Some((r.inputs.clone()?, r.manifests.clone(), same_as))
            })
    });
    let started = Instant::now();
    let triaging = ctx.clone();
    let inputs = last.as_ref().map(|(inputs, _, _)| inputs.clone());
    let triaged = repository.clone();
    let keys = crate::decryption::supplier(ctx, app);
    let fresh = tokio::task::spawn_blocking(move || {
        fetch_and_render_since(
            &cache,
            &repository,
            &spec,
            revision.as_deref(),
            not_before,
            &chart,
            inputs.as_deref(),
            |commit| {
                if revision.is_none() {
                    triaging.triage(&triaged, commit, not_before);
                }
            },
            keys,
        )
    })
    .await
    .map_err(|e| Error::Source(e.to_string()))
    .and_then(|fresh| fresh);
    ctx.metrics.git_fetched(
        crate::source::Fresh::fetch_result(&fresh),
        started.elapsed(),
    );
    let fresh = fresh.map_err(|error| match error {
        Error::Source(_) => SourceFailure {
            reason: driftless_api::reasons::FETCH_FAILED,
            message: noted(error.to_string()),
        },
        Error::Decryption(message) => SourceFailure {
            reason: driftless_api::reasons::DECRYPTION_FAILED,
            message,
        },
        _ => SourceFailure {
            reason: driftless_api::reasons::RENDER_FAILED,
            message: error.to_string(),
        },
    })?;
    let (render, packed, inputs) = match fresh {
        Fresh::Unchanged {
            commit,
            fetch_error,
        } => {
            let Some((inputs, packed, mut same_as)) = last else {
                return Err(SourceFailure {
                    reason: driftless_api::reasons::RENDER_FAILED,
                    message: format!("{commit}: no render to keep"),
                });
            };
            let manifests = packed.unpack().map_err(|message| SourceFailure {
                reason: driftless_api::reasons::RENDER_FAILED,
                message,
            })?;
            ctx.metrics.render_skipped();
            same_as.retain(|c| *c != commit);
            let render = Render {
                commit,
                manifests,
                fetch_error: fetch_error.map(noted),
                fetched: true,
                unchanged: true,
                same_as,
            };
            (render, Ok(packed), Some(inputs))
        }
        Fresh::Rendered { rendered, inputs } => {
            ctx.metrics.rendered();
            let render = Render {
                commit: rendered.commit,
                manifests: rendered.manifests,
                fetch_error: rendered.fetch_error.map(noted),
                fetched: true,
                unchanged: false,
                same_as: Vec::new(),
            };
            let packed = Packed::pack(&render.manifests);
            (render, packed, inputs.map(Arc::new))
        }
    };
    match packed {
        Ok(manifests) if pinned.is_none() => {
            let cached = CachedRender {
                source: app.spec.source.clone(),
                commit: render.commit.clone(),
                manifests,
                fetched_at: Instant::now(),
                jitter: jitter(every),
                fetch_error: render.fetch_error.clone(),
                inputs,
                same_as: render.same_as.clone(),
            };
            ctx.memory(&seen.me, |m| m.render = Some(cached));
        }
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, "a render could not be kept; it is fetched again"),
    }
    Ok(render)
}

/// When `app` appeared to this controller: its creation, or the controller's start if later.
/// A fetch that started after that serves its first render, so a thousand applications created
/// together share one fetch.
fn appeared(ctx: &Context, app: &Application) -> Instant {
    let now = Instant::now();
    let created = app.meta().creation_timestamp.as_ref().and_then(|created| {
        let age = Timestamp::now().duration_since(created.0);
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
