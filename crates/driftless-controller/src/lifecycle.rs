//! The life of a sync operation: [`begin`] records it Running (so a restart resumes it) and
//! takes the request it answers; the sync runs; [`finished`] records how it ended. Every exit
//! of a sync, errors included, passes through [`finished`], so no operation stays Running
//! unless it is waiting to go on, and no request goes unanswered.

use std::time::Instant;

use driftless_api::{Application, ApplicationStatus, OperationPhase, OperationState};
use driftless_sync::{Known, RetryPolicy, Settings, readiness, sync_from};
use k8s_openapi::jiff::Timestamp;
use kube::api::Api;

use crate::context::Context;
use crate::events::{Note, corrected, publish};
use crate::observe::{Comparison, Observation, Render};
use crate::records::{Synced, Trigger, finished, history, resume_point, start};
use crate::spec::ValidSpec;
use crate::status::write;
use crate::{Error, SyncPhase};

/// Everything a sync needs from the reconciliation.
pub(crate) struct SyncInput<'a> {
    /// The observation it was decided on.
    pub seen: &'a Observation,
    /// The validated spec.
    pub spec: &'a ValidSpec,
    /// The render to sync.
    pub render: &'a Render,
    /// The comparison the decision was made on.
    pub compared: &'a Comparison,
    /// The cluster it writes to.
    pub target: &'a crate::clusters::Target,
}

/// Runs one sync for `trigger`: [`begin`], the sync, [`finished`]. An error means the operation
/// could not even be recorded: nothing was applied.
pub(crate) async fn sync(
    ctx: &Context,
    api: &Api<Application>,
    input: SyncInput<'_>,
    trigger: &Trigger,
) -> Result<Synced, Error> {
    let SyncInput {
        seen,
        spec,
        render,
        compared,
        target,
    } = input;
    let started = begin(ctx, api, seen, trigger, &render.commit).await?;
    let settings = settings(spec, trigger, &started);
    let clock = Instant::now();
    let drift_note = matches!(trigger, Trigger::SelfHeal).then(|| corrected(&compared.drifts));
    let report = match ctx.writer(target, spec.service_account.as_ref()) {
        Ok(cluster) => sync_from(
            &cluster,
            readiness,
            render.manifests.clone(),
            Some(Known {
                observed: compared.observed.clone(),
                drifts: compared.drifts.clone(),
            }),
            &settings,
            // Retries are requeues, kept in the status: the sync makes one attempt.
            RetryPolicy::default(),
            &spec.diff,
        )
        .await
        .map_err(|e| e.to_string()),
        Err(error) => Err(error),
    };
    let operation = finished(&started, report, &spec.retry, Timestamp::now());

    if operation.phase == OperationPhase::Running {
        // Waiting to go on: nothing has ended yet.
        return Ok(Synced {
            operation,
            history: None,
        });
    }
    ctx.metrics.synced(
        if operation.phase == OperationPhase::Succeeded {
            SyncPhase::Succeeded
        } else {
            SyncPhase::Failed
        },
        clock.elapsed(),
    );
    if matches!(trigger, Trigger::SelfHeal) {
        ctx.memory(&seen.me, |m| m.heal.healed(Instant::now()));
        if operation.phase == OperationPhase::Succeeded {
            ctx.metrics.self_healed();
        }
    } else if operation.phase == OperationPhase::Succeeded {
        // A sync of its own (a new commit, a user's) ends a fight: as in Argo CD, where the
        // self-heal attempts count belongs to the operation, the next drift is reverted at once.
        ctx.memory(&seen.me, |m| m.heal.new_series());
    }
    let initiated_by = started.initiated_by.clone().unwrap_or_default();
    let note = match operation.phase {
        OperationPhase::Failed | OperationPhase::Retrying => {
            Note::warning("SyncFailed", operation.message.clone())
        }
        _ => match drift_note {
            Some(note) => Note::normal("DriftCorrected", note),
            None => Note::normal(
                "SyncSucceeded",
                format!("synced to {} ({initiated_by})", render.commit),
            ),
        },
    };
    publish(ctx, &seen.app, note.at(&render.commit));
    let history = history(&seen.previous.history, &operation, &seen.app.spec.source);
    Ok(Synced { operation, history })
}

/// Records the operation Running before anything is applied, then removes the request it
/// answers. A request whose removal fails is still answered: its id is recorded, and a later
/// reconciliation drops an annotation whose id was answered.
async fn begin(
    ctx: &Context,
    api: &Api<Application>,
    seen: &Observation,
    trigger: &Trigger,
    commit: &str,
) -> Result<OperationState, Error> {
    let now = Timestamp::now();
    let automated_prune = seen.automated.as_ref().is_some_and(|a| a.prune);
    let started = start(trigger, commit, automated_prune, now);
    let marked = ApplicationStatus {
        operation_state: Some(started.clone()),
        ..seen.previous.clone()
    };
    let name = seen.me.name.as_str();
    // Going on with a waiting operation changes nothing in its record until it moves.
    let force = !matches!(trigger, Trigger::Resume(_));
    let written = write(api, name, &marked, &seen.previous, force).await?;
    ctx.memory(&seen.me, |m| m.wrote(&marked, written));
    if let Trigger::Request(_) = trigger
        && let Err(error) = crate::status::clear_request(api, name).await
    {
        tracing::warn!(application = %seen.me, %error, "removing the sync request failed; its id is recorded");
    }
    if !matches!(trigger, Trigger::SelfHeal | Trigger::Resume(_)) {
        publish(
            ctx,
            &seen.app,
            Note::normal(
                "SyncStarted",
                format!(
                    "syncing to {commit} ({})",
                    started.initiated_by.as_deref().unwrap_or_default()
                ),
            )
            .at(commit),
        );
    }
    Ok(started)
}

/// The settings of the sync itself.
fn settings(spec: &ValidSpec, trigger: &Trigger, started: &OperationState) -> Settings {
    let mut settings = crate::observe::compare_settings(spec);
    settings.options = spec.options.clone();
    settings.options.prune = started.prune;
    // Waits between waves and for hooks are requeues: the sync stops there and a later
    // reconciliation goes on from the step recorded in the status.
    settings.yield_waits = true;
    (settings.resume, settings.handled_before) = resume_point(started);
    match trigger {
        // Self-heal means Git wins: take fields back from whoever changed them; and only what
        // drifted is sent again, the rest is known to be equal.
        Trigger::SelfHeal => {
            settings.options.force = true;
            settings.options.apply_out_of_sync_only = true;
        }
        _ if started.initiated_by.as_deref() == Some("self-heal") => {
            settings.options.force = true;
        }
        _ => {}
    }
    settings
}
