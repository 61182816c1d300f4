//! The records of sync operations, with no I/O: the Running record a trigger starts, how an
//! attempt ended (still Running and waiting to go on, Succeeded, Failed, or Retrying with the
//! time of its next attempt), where a waiting one goes on, the
//! history entry a success adds, and the answer to a request that cannot be carried out.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use driftless_api::{
    HistoryEntry, OperationPhase, OperationState, ResourceResult, SyncProgress, SyncRequest,
};
use driftless_resource::ResourceKey;
use driftless_sync::{Resume, SyncReport};
use k8s_openapi::jiff::{SignedDuration, Timestamp};

use crate::spec::Retry;
use crate::status::timestamp;

/// Why a sync runs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Trigger {
    /// Someone asked (the sync request annotation: `driftless app sync`, rollback, kubectl).
    Request(SyncRequest),
    /// An operation still Running: one that yielded while waiting for health, or one a restart
    /// cut short.
    Resume(OperationState),
    /// A failed operation whose next attempt is due.
    Retry(OperationState),
    /// Automated policy: Git has a commit not yet synced.
    NewCommit,
    /// Automated self-heal: the cluster drifted from the synced commit.
    SelfHeal,
}

/// What a sync leaves for the status.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Synced {
    /// The operation as it ended (or Running, when it waits to go on).
    pub operation: OperationState,
    /// A new history entry, when a new revision (or a requested sync) succeeded.
    pub history: Option<HistoryEntry>,
}

/// The Running record of an operation started now for `trigger` (`automated_prune`: the
/// automated policy prunes).
pub(crate) fn start(
    trigger: &Trigger,
    commit: &str,
    automated_prune: bool,
    now: Timestamp,
) -> OperationState {
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
            progress: None,
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

/// How an attempt ended: still Running, waiting to go on (the report is pending); Succeeded;
/// Failed; or Retrying, with its next attempt's time, while `retry` allows another attempt. The
/// results of a resumed operation are added to those it had.
pub(crate) fn finished(
    started: &OperationState,
    report: Result<SyncReport, String>,
    retry: &Retry,
    now: Timestamp,
) -> OperationState {
    let (failure, pending, new_results, denied) = match report {
        Ok(report) => (
            report.failure.clone(),
            report.pending.clone(),
            results(&report),
            report
                .results
                .iter()
                .any(|r| r.outcome == driftless_sync::Outcome::Denied),
        ),
        Err(error) => (Some(error), None, Vec::new(), false),
    };
    // A denied object stays denied until Git or the project changes: no retry can help.
    let retry_delay = |attempt: u32| if denied { None } else { retry.delay(attempt) };
    let mut operation = OperationState {
        results: [started.results.clone(), new_results].concat(),
        finished_at: Some(timestamp(now)),
        next_attempt_at: None,
        progress: None,
        ..started.clone()
    };
    if let Some(pending) = pending {
        operation.phase = OperationPhase::Running;
        operation.message = format!("waiting: {}", pending.waiting_on);
        operation.finished_at = None;
        operation.progress = Some(SyncProgress {
            step: pending.step,
            waiting_since: timestamp(Timestamp::try_from(pending.waiting_since).unwrap_or(now)),
            waiting_on: pending.waiting_on,
        });
        return operation;
    }
    match failure {
        None => {
            operation.phase = OperationPhase::Succeeded;
            operation.message = "successfully synced".to_owned();
        }
        Some(why) => match retry_delay(started.retry_count + 1) {
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

/// Where `operation` goes on, for the sync engine: the step it waits in, and the objects it
/// reported already.
pub(crate) fn resume_point(operation: &OperationState) -> (Option<Resume>, BTreeSet<ResourceKey>) {
    let resume = operation.progress.as_ref().map(|p| Resume {
        step: p.step,
        waiting_since: p
            .waiting_since
            .parse::<Timestamp>()
            .map(SystemTime::from)
            .unwrap_or_else(|_| SystemTime::now()),
        waiting_on: p.waiting_on.clone(),
    });
    let handled = operation
        .results
        .iter()
        .map(|r| ResourceKey {
            group: r.group.clone(),
            kind: r.kind.clone(),
            namespace: r.namespace.clone(),
            name: r.name.clone(),
        })
        .collect();
    (resume, handled)
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
    source: &driftless_api::Source,
) -> Option<HistoryEntry> {
    let revision = operation.revision.as_deref()?;
    let new = history.last().map(|h| h.revision.as_str()) != Some(revision);
    (operation.phase == OperationPhase::Succeeded && (new || operation.request_id.is_some())).then(
        || HistoryEntry {
            id: history.last().map_or(1, |h| h.id + 1),
            revision: revision.to_owned(),
            deployed_at: operation.finished_at.clone().unwrap_or_default(),
            initiated_by: operation.initiated_by.clone(),
            source: Some(source.clone()),
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
        progress: None,
    }
}

/// How long from `now` until `at` (RFC 3339): zero when it has passed or does not parse.
pub(crate) fn until(at: &str, now: Timestamp) -> Duration {
    at.parse::<Timestamp>()
        .ok()
        .and_then(|at| Duration::try_from(at.duration_since(now)).ok())
        .unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use driftless_sync::RetryPolicy;

    use super::*;
    use crate::fixtures::*;

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
        let source = observation().app.spec.source.clone();
        let entry = history(&[], &done, &source).unwrap_or_else(|| panic!("no entry"));
        assert_eq!((entry.id, entry.revision.as_str()), (1, COMMIT));
        assert_eq!(entry.source.as_ref(), Some(&source));
        let again = synced_before(observation()).previous.history;
        assert_eq!(
            history(&again, &done, &source),
            None,
            "same revision, not requested"
        );
        let requested = OperationState {
            request_id: Some("r".to_owned()),
            ..done
        };
        assert_eq!(history(&again, &requested, &source).map(|e| e.id), Some(2));
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
        assert_eq!(history(&[], &done, &Default::default()), None);
    }

    #[test]
    fn a_sync_refused_by_the_project_fails_at_once_whatever_the_retries() {
        let started = operation(OperationPhase::Running);
        let denied = SyncReport {
            failure: Some("1 object(s) not permitted, nothing applied".to_owned()),
            results: vec![driftless_sync::ResourceResult {
                key: driftless_resource::ResourceKey {
                    group: "rbac.authorization.k8s.io".to_owned(),
                    kind: "ClusterRole".to_owned(),
                    namespace: String::new(),
                    name: "admin".to_owned(),
                },
                wave: None,
                action: driftless_sync::Action::None,
                outcome: driftless_sync::Outcome::Denied,
                message: "not in its clusterResourceWhitelist".to_owned(),
            }],
            ..SyncReport::default()
        };
        let done = finished(&started, Ok(denied), &retry(None), now());
        assert_eq!(done.phase, OperationPhase::Failed);
        assert_eq!(
            done.results.first().map(|r| r.result.as_str()),
            Some("denied")
        );
    }

    #[test]
    fn a_failure_with_retries_left_waits_in_the_status_for_its_next_attempt() {
        let started = operation(OperationPhase::Running);
        let done = finished(&started, failed_report(), &retry(Some(2)), now());
        assert_eq!(done.phase, OperationPhase::Retrying);
        assert_eq!(done.finished_at, None);
        let due = until(done.next_attempt_at.as_deref().unwrap_or_default(), now());
        assert_eq!(due, Duration::from_secs(5));
        // The retry that runs records itself as retry 1; when it fails, the next waits 10 s.
        let second = start(&Trigger::Retry(done), COMMIT, true, now());
        assert_eq!(
            (second.phase, second.retry_count),
            (OperationPhase::Running, 1)
        );
        let done = finished(&second, failed_report(), &retry(Some(2)), now());
        let due = until(done.next_attempt_at.as_deref().unwrap_or_default(), now());
        assert_eq!(
            (done.phase, due),
            (OperationPhase::Retrying, Duration::from_secs(10))
        );
        let third = start(&Trigger::Retry(done), COMMIT, true, now());
        let done = finished(&third, failed_report(), &retry(Some(2)), now());
        assert_eq!(done.phase, OperationPhase::Failed, "two retries used");
    }

    #[test]
    fn unlimited_retries_keep_retrying_at_the_capped_delay() {
        let mut op = operation(OperationPhase::Running);
        op.retry_count = 500;
        let done = finished(&op, failed_report(), &retry(None), now());
        let due = until(done.next_attempt_at.as_deref().unwrap_or_default(), now());
        assert_eq!(
            (done.phase, due),
            (OperationPhase::Retrying, Duration::from_secs(60))
        );
    }

    #[test]
    fn each_trigger_starts_a_running_record_with_who_and_whether_it_prunes() {
        let request = start(&Trigger::Request(request("r9")), COMMIT, true, now());
        assert_eq!(request.request_id.as_deref(), Some("r9"));
        assert_eq!(request.initiated_by.as_deref(), Some("user"));
        assert!(request.prune);
        let heal = start(&Trigger::SelfHeal, COMMIT, true, now());
        assert_eq!(heal.initiated_by.as_deref(), Some("self-heal"));
        assert_eq!(heal.phase, OperationPhase::Running);
        let mut cut = operation(OperationPhase::Running);
        cut.request_id = Some("r2".to_owned());
        let resumed = start(&Trigger::Resume(cut.clone()), COMMIT, true, now());
        assert_eq!(resumed, cut, "a resumed operation keeps its record");
    }
}

#[cfg(test)]
mod waiting {
    use super::*;
    use crate::fixtures::*;

    fn result(name: &str) -> ResourceResult {
        ResourceResult {
            group: String::new(),
            kind: "ConfigMap".to_owned(),
            namespace: "web".to_owned(),
            name: name.to_owned(),
            action: "create".to_owned(),
            result: "synced".to_owned(),
            message: String::new(),
        }
    }

    #[test]
    fn a_pending_sync_stays_running_with_where_it_goes_on_and_its_results_add_up() {
        let mut started = operation(OperationPhase::Running);
        started.results = vec![result("first")];
        let since = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let report = SyncReport {
            pending: Some(Resume {
                step: 4,
                waiting_since: since,
                waiting_on: "wave 1: ConfigMap web/second: not ready".to_owned(),
            }),
            ..SyncReport::default()
        };
        let retry = Retry {
            limit: Some(3),
            backoff: driftless_sync::RetryPolicy::default(),
        };
        let waiting = finished(&started, Ok(report), &retry, now());
        assert_eq!(waiting.phase, OperationPhase::Running);
        assert_eq!(waiting.finished_at, None);
        assert!(
            waiting.message.starts_with("waiting: wave 1"),
            "{}",
            waiting.message
        );
        let progress = waiting
            .progress
            .clone()
            .unwrap_or_else(|| panic!("no progress"));
        assert_eq!(progress.step, 4);
        assert_eq!(
            history(&[], &waiting, &Default::default()),
            None,
            "nothing ended yet"
        );

        let (resume, handled) = resume_point(&waiting);
        let resume = resume.unwrap_or_else(|| panic!("no resume point"));
        assert_eq!((resume.step, resume.waiting_since), (4, since));
        assert_eq!(handled.len(), 1);

        let mut next = SyncReport::default();
        next.results.push(driftless_sync::ResourceResult {
            key: ResourceKey::new("v1", "ConfigMap", "web", "second"),
            wave: Some(1),
            action: driftless_sync::Action::Create,
            outcome: driftless_sync::Outcome::Synced,
            message: String::new(),
        });
        let done = finished(&waiting, Ok(next), &retry, now());
        assert_eq!(done.phase, OperationPhase::Succeeded);
        assert_eq!(done.progress, None);
        let names: Vec<&str> = done.results.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["first", "second"]);
    }
}
