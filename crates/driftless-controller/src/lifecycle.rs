//! The life of a sync operation: [`begin`] records it Running (so a restart resumes it) and
//! takes the request it answers; the sync runs; [`finished`] records how it ended. Every exit
//! of a sync, errors included, passes through [`finished`], so no operation stays Running
//! unless it is waiting to go on, and no request goes unanswered.

use std::time::{Duration, Instant};

use driftless_api::{
    Application, ApplicationStatus, HistoryEntry, OperationPhase, OperationState, ResourceResult,
    SyncRequest,
};
use driftless_sync::{Known, RetryPolicy, Settings, SyncReport, readiness, sync_from};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::Api;

use crate::context::Context;
use crate::decide::Trigger;
use crate::events::{Note, corrected, publish};
use crate::observe::{Comparison, Observation, Render};
use crate::spec::{Retry, ValidSpec};
use crate::status::{timestamp, write};
use crate::{Error, SyncPhase};

/// How many history entries are kept, as Argo CD's default.
pub(crate) const HISTORY_LIMIT: usize = 10;

/// What a sync leaves for the status.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Synced {
    /// The operation as it ended (or Running, when it waits to go on).
    pub operation: OperationState,
    /// A new history entry, when a new revision (or a requested sync) succeeded.
    pub history: Option<HistoryEntry>,
}

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
    } = input;
    let started = begin(ctx, api, seen, trigger, &render.commit).await?;
    let settings = settings(spec, trigger, &started);
    let clock = Instant::now();
    let drift_note = matches!(trigger, Trigger::SelfHeal).then(|| corrected(&compared.drifts));
    let report = sync_from(
        &ctx.cluster,
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
    .map_err(|e| e.to_string());
    let operation = finished(&started, report, &spec.retry, Timestamp::now());

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
    publish(ctx, &seen.app, note);
    let history = history(&seen.previous.history, &operation);
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
    let started = start(trigger, commit, seen, now);
    let marked = ApplicationStatus {
        operation_state: Some(started.clone()),
        ..seen.previous.clone()
    };
    let name = seen.me.name.as_str();
    let written = write(api, name, &marked, &seen.previous, true).await?;
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
            ),
        );
    }
    Ok(started)
}

/// The Running record of an operation started now for `trigger`.
pub(crate) fn start(
    trigger: &Trigger,
    commit: &str,
    seen: &Observation,
    now: Timestamp,
) -> OperationState {
    let automated_prune = seen.automated.as_ref().is_some_and(|a| a.prune);
    match trigger {
        Trigger::Request(request) => OperationState {
            prune: request.prune,
            ..running(
                commit,
                request.initiated_by.as_deref().unwrap_or("user"),
                Some(request.id.clone()),
                now,
            )
        },
        Trigger::Resume(op) => OperationState {
            phase: OperationPhase::Running,
            ..op.clone()
        },
        Trigger::Retry(op) => OperationState {
            phase: OperationPhase::Running,
            message: format!("syncing to {commit} (retry {})", op.retry_count + 1),
            retry_count: op.retry_count + 1,
            next_attempt_at: None,
            results: Vec::new(),
            ..op.clone()
        },
        Trigger::NewCommit => OperationState {
            prune: automated_prune,
            ..running(commit, "automated", None, now)
        },
        Trigger::SelfHeal => OperationState {
            prune: automated_prune,
            ..running(commit, "self-heal", None, now)
        },
    }
}

/// The settings of the sync itself.
fn settings(spec: &ValidSpec, trigger: &Trigger, started: &OperationState) -> Settings {
    let mut settings = crate::observe::compare_settings(spec);
    settings.options = spec.options.clone();
    settings.options.prune = started.prune;
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

/// How an operation ended: Succeeded; Failed; or Retrying, with its next attempt's time, while
/// `retry` allows another attempt.
pub(crate) fn finished(
    started: &OperationState,
    report: Result<SyncReport, String>,
    retry: &Retry,
    now: Timestamp,
) -> OperationState {
    let (failure, results) = match report {
        Ok(report) => (report.failure.clone(), results(&report)),
        Err(error) => (Some(error), Vec::new()),
    };
    let mut operation = OperationState {
        results,
        finished_at: Some(timestamp(now)),
        next_attempt_at: None,
        ..started.clone()
    };
    match failure {
        None => {
            operation.phase = OperationPhase::Succeeded;
            operation.message = "successfully synced".to_owned();
        }
        Some(why) => match retry.delay(started.retry_count + 1) {
            Some(delay) => {
                operation.phase = OperationPhase::Retrying;
                operation.message = format!(
                    "attempt {} failed, retrying in {}s: {why}",
                    started.retry_count + 1,
                    delay.as_secs()
                );
                operation.finished_at = None;
                operation.next_attempt_at = Some(timestamp(later(now, delay)));
            }
            None => {
                operation.phase = OperationPhase::Failed;
                operation.message = why;
            }
        },
    }
    operation
}

fn later(now: Timestamp, delay: Duration) -> Timestamp {
    SignedDuration::try_from(delay)
        .ok()
        .and_then(|d| now.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

fn results(report: &SyncReport) -> Vec<ResourceResult> {
    report
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
        .collect()
}

/// The history entry a finished operation adds: a success of a new revision, or of any
/// requested sync.
pub(crate) fn history(
    history: &[HistoryEntry],
    operation: &OperationState,
) -> Option<HistoryEntry> {
    let revision = operation.revision.as_deref()?;
    let new = history.last().map(|h| h.revision.as_str()) != Some(revision);
    (operation.phase == OperationPhase::Succeeded && (new || operation.request_id.is_some())).then(
        || HistoryEntry {
            id: history.last().map_or(1, |h| h.id + 1),
            revision: revision.to_owned(),
            deployed_at: operation.finished_at.clone().unwrap_or_default(),
            initiated_by: operation.initiated_by.clone(),
        },
    )
}

/// A requested sync that cannot be carried out (the spec, the source or the comparison failed):
/// the failed operation that answers it.
pub(crate) fn refused(request: &SyncRequest, message: &str, now: Timestamp) -> OperationState {
    let revision = request.revision.as_deref().unwrap_or("the target revision");
    OperationState {
        phase: OperationPhase::Failed,
        message: format!("cannot sync {revision}: {message}"),
        revision: request.revision.clone(),
        finished_at: Some(timestamp(now)),
        prune: request.prune,
        ..running(
            revision,
            request.initiated_by.as_deref().unwrap_or("user"),
            Some(request.id.clone()),
            now,
        )
    }
}

/// A fresh Running operation.
fn running(
    revision: &str,
    initiated_by: &str,
    request_id: Option<String>,
    now: Timestamp,
) -> OperationState {
    OperationState {
        phase: OperationPhase::Running,
        message: format!("syncing to {revision}"),
        revision: Some(revision.to_owned()),
        initiated_by: Some(initiated_by.to_owned()),
        started_at: timestamp(now),
        finished_at: None,
        results: Vec::new(),
        request_id,
        prune: false,
        retry_count: 0,
        next_attempt_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;
    use crate::spec::Retry;

    fn retry(limit: Option<u32>) -> Retry {
        Retry {
            limit,
            backoff: RetryPolicy {
                limit: 0,
                duration: Duration::from_secs(5),
                factor: 2,
                max_duration: Duration::from_secs(60),
            },
        }
    }

    fn failed_report() -> Result<SyncReport, String> {
        Ok(SyncReport {
            failure: Some("wave 0 failed validation".to_owned()),
            ..SyncReport::default()
        })
    }

    #[test]
    fn a_success_ends_succeeded_and_adds_history_for_a_new_revision() {
        let started = operation(OperationPhase::Running);
        let done = finished(&started, Ok(SyncReport::default()), &retry(Some(0)), now());
        assert_eq!(done.phase, OperationPhase::Succeeded);
        assert!(done.finished_at.is_some());
        let entry = history(&[], &done).unwrap_or_else(|| panic!("no entry"));
        assert_eq!((entry.id, entry.revision.as_str()), (1, COMMIT));
        let again = synced_before(observation()).previous.history;
        assert_eq!(history(&again, &done), None, "same revision, not requested");
        let requested = OperationState {
            request_id: Some("r".to_owned()),
            ..done
        };
        assert_eq!(history(&again, &requested).map(|e| e.id), Some(2));
    }

    #[test]
    fn an_error_of_the_sync_itself_ends_the_operation_failed_never_running() {
        let started = operation(OperationPhase::Running);
        let done = finished(
            &started,
            Err("reading the cluster: timeout".to_owned()),
            &retry(Some(0)),
            now(),
        );
        assert_eq!(done.phase, OperationPhase::Failed);
        assert_eq!(done.message, "reading the cluster: timeout");
        assert!(done.finished_at.is_some());
        assert_eq!(history(&[], &done), None);
    }

    #[test]
    fn a_failure_with_retries_left_waits_in_the_status_for_its_next_attempt() {
        let started = operation(OperationPhase::Running);
        let done = finished(&started, failed_report(), &retry(Some(2)), now());
        assert_eq!(done.phase, OperationPhase::Retrying);
        assert_eq!(done.finished_at, None);
        let due = crate::report::until(done.next_attempt_at.as_deref().unwrap_or_default(), now());
        assert_eq!(due, Duration::from_secs(5));
        // The retry that runs records itself as retry 1; when it fails, the next waits 10 s.
        let seen = observation();
        let second = start(&crate::decide::Trigger::Retry(done), COMMIT, &seen, now());
        assert_eq!(
            (second.phase, second.retry_count),
            (OperationPhase::Running, 1)
        );
        let done = finished(&second, failed_report(), &retry(Some(2)), now());
        let due = crate::report::until(done.next_attempt_at.as_deref().unwrap_or_default(), now());
        assert_eq!(
            (done.phase, due),
            (OperationPhase::Retrying, Duration::from_secs(10))
        );
        let third = start(&crate::decide::Trigger::Retry(done), COMMIT, &seen, now());
        let done = finished(&third, failed_report(), &retry(Some(2)), now());
        assert_eq!(done.phase, OperationPhase::Failed, "two retries used");
    }

    #[test]
    fn unlimited_retries_keep_retrying_at_the_capped_delay() {
        let mut op = operation(OperationPhase::Running);
        op.retry_count = 500;
        let done = finished(&op, failed_report(), &retry(None), now());
        let due = crate::report::until(done.next_attempt_at.as_deref().unwrap_or_default(), now());
        assert_eq!(
            (done.phase, due),
            (OperationPhase::Retrying, Duration::from_secs(60))
        );
    }

    #[test]
    fn each_trigger_starts_a_running_record_with_who_and_whether_it_prunes() {
        let seen = observation();
        let request = start(
            &crate::decide::Trigger::Request(request("r9")),
            COMMIT,
            &seen,
            now(),
        );
        assert_eq!(request.request_id.as_deref(), Some("r9"));
        assert_eq!(request.initiated_by.as_deref(), Some("user"));
        assert!(request.prune);
        let heal = start(&crate::decide::Trigger::SelfHeal, COMMIT, &seen, now());
        assert_eq!(heal.initiated_by.as_deref(), Some("self-heal"));
        assert_eq!(heal.phase, OperationPhase::Running);
        let mut cut = operation(OperationPhase::Running);
        cut.request_id = Some("r2".to_owned());
        let resumed = start(
            &crate::decide::Trigger::Resume(cut.clone()),
            COMMIT,
            &seen,
            now(),
        );
        assert_eq!(resumed, cut, "a resumed operation keeps its record");
    }
}
