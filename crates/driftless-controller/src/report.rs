//! Report: the status a reconciliation leaves, and when to look again, computed from what was
//! observed, decided and done, with no I/O. The reconciliation writes the status in one place.

use std::time::Duration;

use driftless_api::{
    ApplicationStatus, Condition, ConditionStatus, OperationPhase, SyncState, SyncStatusCode,
    condition_types, reasons,
};
use driftless_cluster::ForbiddenKind;
use driftless_health::Health;
use k8s_openapi::jiff::Timestamp;

use crate::decide::{Decision, Verdict};
use crate::observe::{Comparison, Observation};
use crate::records::{Synced, until};
use crate::status::{condition, health_state, timestamp};

/// How often an application whose objects are still rolling out, or whose sync waits to go on,
/// is looked at besides the watch events of its objects.
pub(crate) const ROLLOUT_POLL: Duration = Duration::from_secs(5);

/// The first delay after a failed reconciliation; doubled for each further one in a row.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);

/// The longest delay after failed reconciliations.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// What acting did.
#[derive(Debug, Clone, Default)]
pub(crate) struct Acted {
    /// The sync that ran, if one did.
    pub synced: Option<Synced>,
    /// The comparison after that sync.
    pub after: Option<Result<Comparison, String>>,
}

/// The status to write, or `None` when the Application is gone.
pub(crate) fn status(
    seen: &Observation,
    decision: &Decision,
    acted: &Acted,
) -> Option<ApplicationStatus> {
    let now = timestamp(seen.now);
    let generation = seen.generation;
    let ready = |status, reason: &str, message: &str| {
        condition(
            condition_types::READY,
            status,
            reason,
            message,
            generation,
            &now,
        )
    };
    let mut history = seen.previous.history.clone();
    if let Some(entry) = acted.synced.as_ref().and_then(|s| s.history.clone()) {
        history.push(entry);
    }
    // The spec's limit, also when it shrank; a spec that does not read trims nothing.
    if let Ok(spec) = &seen.spec {
        let excess = history.len().saturating_sub(spec.history_limit);
        history.drain(..excess);
    }
    let operation_state = acted
        .synced
        .as_ref()
        .map(|s| s.operation.clone())
        .or_else(|| decision.operation.clone())
        .or_else(|| seen.previous.operation_state.clone());
    let base = ApplicationStatus {
        observed_generation: generation,
        operation_state,
        history,
        ..seen.previous.clone()
    };
    let render = seen.source.as_ref().and_then(|s| s.as_ref().ok());
    let unknown = |revision: Option<String>| {
        Some(SyncState {
            status: SyncStatusCode::Unknown,
            revision,
        })
    };
    let previous_revision = || seen.previous.sync.as_ref().and_then(|s| s.revision.clone());
    let comparison = match &acted.after {
        Some(after) => after.as_ref().map_err(Clone::clone),
        None => match &seen.compare {
            Some(Ok(compared)) => Ok(compared),
            Some(Err(error)) => Err(error.clone()),
            None => Err("no comparison was made".to_owned()),
        },
    };
    let status = match &decision.verdict {
        Verdict::Deleted => return None,
        Verdict::InvalidSpec(message) => ApplicationStatus {
            conditions: vec![ready(
                ConditionStatus::False,
                reasons::INVALID_SPEC,
                message,
            )],
            ..base
        },
        // The last comparison stands (nothing was compared now); Ready says what it waits for.
        Verdict::DependencyNotReady(message) => ApplicationStatus {
            conditions: vec![ready(
                ConditionStatus::False,
                reasons::DEPENDENCY_NOT_READY,
                message,
            )],
            ..base
        },
        Verdict::ClusterUnreachable(message) => ApplicationStatus {
            sync: unknown(render.map(|r| r.commit.clone()).or_else(previous_revision)),
            conditions: vec![ready(
                ConditionStatus::False,
                reasons::CLUSTER_UNREACHABLE,
                message,
            )],
            reconciled_at: Some(now.clone()),
            ..base
        },
        Verdict::SourceFailed { reason, message } => ApplicationStatus {
            sync: unknown(previous_revision()),
            conditions: vec![ready(ConditionStatus::False, reason, message)],
            reconciled_at: Some(now.clone()),
            ..base
        },
        Verdict::CompareFailed(_) | Verdict::Compared | Verdict::EmptyRefused => {
            let Some(render) = render else {
                return Some(base);
            };
            let compared = match comparison {
                Ok(compared) => compared,
                Err(error) => {
                    return Some(ApplicationStatus {
                        sync: unknown(Some(render.commit.clone())),
                        conditions: vec![ready(
                            ConditionStatus::False,
                            reasons::COMPARE_FAILED,
                            &format!("comparing with the cluster: {error}"),
                        )],
                        reconciled_at: Some(now.clone()),
                        ..base
                    });
                }
            };
            let (state, reason, message) = readiness(seen, decision, acted, compared);
            let mut conditions = vec![ready(state, reason, &message)];
            if let Some(fetch_error) = &render.fetch_error {
                conditions.push(condition(
                    condition_types::SOURCE_READY,
                    ConditionStatus::False,
                    reasons::FETCH_FAILED,
                    &format!("{fetch_error}; using the last fetched commit"),
                    generation,
                    &now,
                ));
            }
            if let Some(blocked) = &decision.window {
                conditions.push(condition(
                    condition_types::SYNC_ALLOWED,
                    ConditionStatus::False,
                    reasons::SYNC_WINDOW_BLOCKED,
                    &format!("automated syncs wait: {}", blocked.message),
                    generation,
                    &now,
                ));
            }
            if let Some(message) = orphans_message(seen) {
                conditions.push(condition(
                    condition_types::NO_ORPHANED_RESOURCES,
                    ConditionStatus::False,
                    reasons::ORPHANED_RESOURCES,
                    &message,
                    generation,
                    &now,
                ));
            }
            if let Some(message) = forbidden_message(&seen.forbidden) {
                conditions.push(condition(
                    condition_types::KINDS_VISIBLE,
                    ConditionStatus::False,
                    reasons::FORBIDDEN,
                    &message,
                    generation,
                    &now,
                ));
            }
            ApplicationStatus {
                sync: Some(SyncState {
                    status: compared.summary.code,
                    revision: Some(render.commit.clone()),
                }),
                health: Some(health_state(&compared.summary.health)),
                resources: compared.summary.resources.clone(),
                conditions,
                reconciled_at: if render.fetched {
                    Some(now.clone())
                } else {
                    seen.previous.reconciled_at.clone()
                },
                ..base
            }
        }
    };
    Some(status)
}

/// How many orphans are named in the `NoOrphanedResources` condition before "and N more".
const ORPHANS_NAMED: usize = 8;

/// The message of the `NoOrphanedResources` condition: the objects of the destination namespace
/// that belong to no Application, when the project warns about them. Between two looks (Git is
/// not fetched on every reconciliation) the last message stands.
fn orphans_message(seen: &Observation) -> Option<String> {
    let spec = seen.spec.as_ref().ok()?;
    if !spec.project.warns_orphans() {
        return None;
    }
    let unowned = match &seen.unowned {
        None => {
            return seen
                .previous
                .conditions
                .iter()
                .find(|c| c.type_ == condition_types::NO_ORPHANED_RESOURCES)
                .map(|c| c.message.clone());
        }
        Some(Err(error)) => {
            return Some(format!(
                "could not look for orphaned resources in namespace {}: {error}",
                spec.destination
            ));
        }
        Some(Ok(unowned)) => unowned,
    };
    let orphans = spec.project.orphans(unowned);
    if orphans.is_empty() {
        return None;
    }
    let mut names: Vec<String> = orphans
        .iter()
        .take(ORPHANS_NAMED)
        .map(|o| {
            if o.group.is_empty() {
                format!("{}/{}", o.kind, o.name)
            } else {
                format!("{}/{}/{}", o.group, o.kind, o.name)
            }
        })
        .collect();
    if orphans.len() > ORPHANS_NAMED {
        names.push(format!("and {} more", orphans.len() - ORPHANS_NAMED));
    }
    Some(format!(
        "{} object{} in namespace {} belong{} to no Application (project {}, orphanedResources.warn): {}",
        orphans.len(),
        if orphans.len() == 1 { "" } else { "s" },
        spec.destination,
        if orphans.len() == 1 { "s" } else { "" },
        spec.project.name,
        names.join(", ")
    ))
}

/// How many kinds are listed by name in the `KindsVisible` condition before "and N more".
const FORBIDDEN_NAMED: usize = 8;

/// The message of the `KindsVisible` condition: the kinds RBAC forbids, and the API server's
/// word on the first.
fn forbidden_message(kinds: &[ForbiddenKind]) -> Option<String> {
    let first = kinds.first()?;
    let mut names: Vec<String> = kinds
        .iter()
        .take(FORBIDDEN_NAMED)
        .map(|k| {
            if k.group.is_empty() {
                k.kind.clone()
            } else {
                format!("{}/{}", k.group, k.kind)
            }
        })
        .collect();
    if kinds.len() > FORBIDDEN_NAMED {
        names.push(format!("and {} more", kinds.len() - FORBIDDEN_NAMED));
    }
    Some(format!(
        "the controller may not list or watch {} (objects of these kinds are invisible: never compared nor pruned): {}",
        names.join(", "),
        first.message
    ))
}

/// The Ready condition of a compared application.
fn readiness(
    seen: &Observation,
    decision: &Decision,
    acted: &Acted,
    compared: &Comparison,
) -> (ConditionStatus, &'static str, String) {
    let operation = acted
        .synced
        .as_ref()
        .map(|s| &s.operation)
        .or(seen.previous.operation_state.as_ref());
    let not = ConditionStatus::False;
    if decision.verdict == Verdict::EmptyRefused {
        return (
            not,
            reasons::EMPTY_REFUSED,
            "Git renders nothing and allowEmpty is false: nothing was pruned".to_owned(),
        );
    }
    match operation.map(|op| (op.phase, op)) {
        Some((OperationPhase::Failed, op)) if acted.synced.is_some() => {
            return (not, reasons::SYNC_FAILED, op.message.clone());
        }
        Some((OperationPhase::Retrying, op)) => {
            return (not, reasons::SYNC_FAILED, op.message.clone());
        }
        Some((OperationPhase::Running, op)) => {
            return (not, reasons::SYNCING, op.message.clone());
        }
        _ => {}
    }
    let health = &compared.summary.health;
    if compared.summary.code == SyncStatusCode::OutOfSync {
        let message = if let Some(blocked) = &decision.window {
            format!(
                "the cluster differs from Git; automated syncs wait: {}",
                blocked.message
            )
        } else if decision.heal_wait.is_zero() {
            "the cluster differs from Git".to_owned()
        } else {
            format!(
                "the cluster differs from Git; self-heal backs off for {}s because the drift keeps coming back",
                decision.heal_wait.as_secs().max(1)
            )
        };
        (not, reasons::OUT_OF_SYNC, message)
    } else if health.status == Health::Degraded {
        (not, reasons::DEGRADED, health.message.clone())
    } else if health.status != Health::Healthy {
        (not, reasons::PROGRESSING, health.message.clone())
    } else {
        let commit = seen
            .source
            .as_ref()
            .and_then(|s| s.as_ref().ok())
            .map_or("", |r| r.commit.as_str());
        (
            ConditionStatus::True,
            reasons::RECONCILED,
            format!("synced to {commit}"),
        )
    }
}

/// Whether this reconciliation failed (for the backoff of the next one).
pub(crate) fn failed(decision: &Decision, status: Option<&ApplicationStatus>) -> bool {
    matches!(
        decision.verdict,
        Verdict::SourceFailed { .. } | Verdict::CompareFailed(_) | Verdict::ClusterUnreachable(_)
    ) || status.is_some_and(|s| ready_reason(&s.conditions) == Some(reasons::COMPARE_FAILED))
}

fn ready_reason(conditions: &[Condition]) -> Option<&str> {
    conditions
        .iter()
        .find(|c| c.type_ == condition_types::READY)
        .map(|c| c.reason.as_str())
}

/// When to look again (`None`: only when the Application changes). `failures` counts the
/// failed reconciliations in a row, this one included; `next_poll` is when the source is due;
/// `now` is the observation's time.
pub(crate) fn requeue(
    decision: &Decision,
    status: Option<&ApplicationStatus>,
    failures: u32,
    next_poll: Duration,
    now: Timestamp,
) -> Option<Duration> {
    if matches!(decision.verdict, Verdict::Deleted | Verdict::InvalidSpec(_)) {
        return None;
    }
    let mut next = next_poll;
    if failures > 0 {
        next = next.min(backoff(failures));
    }
    let operation = status.and_then(|s| s.operation_state.as_ref());
    if operation.is_some_and(|op| op.phase == OperationPhase::Running) {
        next = next.min(ROLLOUT_POLL);
    }
    if let Some(due) = operation
        .filter(|op| op.phase == OperationPhase::Retrying)
        .and_then(|op| op.next_attempt_at.as_deref())
    {
        next = next.min(until(due, now).max(Duration::from_millis(100)));
    }
    if !decision.heal_wait.is_zero() {
        next = next.min(decision.heal_wait);
    }
    if let Some(change) = decision.window.as_ref().and_then(|w| w.until) {
        next = next.min(change);
    }
    let progressing = status
        .and_then(|s| s.health.as_ref())
        .is_some_and(|h| h.status == "Progressing" || h.status == "Missing");
    if progressing {
        next = next.min(ROLLOUT_POLL);
    }
    Some(next)
}

/// The delay after `failures` failed reconciliations in a row: 1 s, 2 s, 4 s... at most 5 min.
pub(crate) fn backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    FIRST_BACKOFF
        .saturating_mul(2u32.saturating_pow(doublings))
        .min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use driftless_api::{OperationState, SyncState};

    use super::*;
    use crate::decide::decide;
    use crate::fixtures::*;

    fn ready(status: &ApplicationStatus) -> (ConditionStatus, &str) {
        let ready = status
            .conditions
            .iter()
            .find(|c| c.type_ == condition_types::READY)
            .unwrap_or_else(|| panic!("no Ready condition in {status:?}"));
        (ready.status, ready.reason.as_str())
    }

    fn reported(seen: &Observation, acted: &Acted) -> ApplicationStatus {
        status(seen, &decide(seen), acted).unwrap_or_else(|| panic!("no status"))
    }

    fn synced_now(phase: OperationPhase) -> Acted {
        let mut op = operation(phase);
        op.message = "the message".to_owned();
        Acted {
            synced: Some(Synced {
                history: crate::records::history(&[], &op, &Default::default()),
                operation: op,
            }),
            after: Some(Ok(comparison(false))),
        }
    }

    fn with_previous_revision(mut seen: Observation) -> Observation {
        seen.previous.sync = Some(SyncState {
            status: SyncStatusCode::Synced,
            revision: Some(OLD.to_owned()),
        });
        seen
    }

    #[test]
    fn orphans_are_named_while_the_project_warns_and_the_last_look_stands_between_looks() {
        let orphans = |status: &ApplicationStatus| {
            status
                .conditions
                .iter()
                .find(|c| c.type_ == condition_types::NO_ORPHANED_RESOURCES)
                .map(|c| (c.status, c.reason.clone(), c.message.clone()))
        };
        let warning: driftless_api::AppProjectSpec =
            serde_json::from_value(serde_json::json!({"orphanedResources": {"warn": true}}))
                .unwrap_or_else(|e| panic!("{e}"));
        let warning =
            crate::project::Policy::compile("team", &warning).unwrap_or_else(|e| panic!("{e}"));
        let mut seen = observation();
        if let Ok(spec) = seen.spec.as_mut() {
            spec.project = std::sync::Arc::new(warning);
        }
        let unowned = |kind: &str, name: &str| driftless_cluster::Unowned {
            group: String::new(),
            kind: kind.to_owned(),
            name: name.to_owned(),
        };
        seen.unowned = Some(Ok(vec![
            unowned("ConfigMap", "kube-root-ca.crt"),
            unowned("ConfigMap", "stray"),
        ]));
        let status = reported(&seen, &Acted::default());
        let (state, reason, message) = orphans(&status).unwrap_or_else(|| panic!("{status:?}"));
        assert_eq!(
            (state, reason.as_str()),
            (ConditionStatus::False, reasons::ORPHANED_RESOURCES)
        );
        assert!(
            message
                .starts_with("1 object in namespace web belongs to no Application (project team"),
            "{message}"
        );
        assert!(message.ends_with(": ConfigMap/stray"), "{message}");
        // A warning, not a failure.
        assert_eq!(ready(&status), (ConditionStatus::True, reasons::RECONCILED));

        // Not looked at this time: the last look stands.
        seen.previous = status;
        seen.unowned = None;
        let kept = reported(&seen, &Acted::default());
        assert_eq!(orphans(&kept).map(|o| o.2), Some(message));
        // A look that finds none clears it; so does a project that stops warning.
        seen.unowned = Some(Ok(vec![unowned("ServiceAccount", "default")]));
        assert_eq!(orphans(&reported(&seen, &Acted::default())), None);
        seen.previous = kept;
        seen.unowned = None;
        if let Ok(spec) = seen.spec.as_mut() {
            spec.project = std::sync::Arc::new(crate::project::Policy::open("team"));
        }
        assert_eq!(orphans(&reported(&seen, &Acted::default())), None);
        // A failed look says so.
        let warning: driftless_api::AppProjectSpec =
            serde_json::from_value(serde_json::json!({"orphanedResources": {"warn": true}}))
                .unwrap_or_else(|e| panic!("{e}"));
        if let Ok(spec) = seen.spec.as_mut() {
            spec.project = std::sync::Arc::new(
                crate::project::Policy::compile("team", &warning).unwrap_or_else(|e| panic!("{e}")),
            );
        }
        seen.unowned = Some(Err("the API server is gone".to_owned()));
        let failed = orphans(&reported(&seen, &Acted::default())).map(|o| o.2);
        assert_eq!(
            failed.as_deref(),
            Some("could not look for orphaned resources in namespace web: the API server is gone")
        );
    }

    #[test]
    fn an_in_sync_healthy_application_is_ready_at_its_commit() {
        let status = reported(&observation(), &Acted::default());
        assert_eq!(ready(&status), (ConditionStatus::True, reasons::RECONCILED));
        assert_eq!(
            status.sync.and_then(|s| s.revision).as_deref(),
            Some(COMMIT)
        );
        assert_eq!(status.observed_generation, Some(3));
        assert!(status.reconciled_at.is_some(), "fetched now");
    }

    #[test]
    fn a_failed_source_keeps_the_last_good_revision_and_says_why() {
        let mut seen = with_previous_revision(observation());
        seen.source = Some(Err(fetch_failed()));
        seen.compare = None;
        let status = reported(&seen, &Acted::default());
        assert_eq!(
            ready(&status),
            (ConditionStatus::False, reasons::FETCH_FAILED)
        );
        let sync = status.sync.unwrap_or_else(|| panic!("no sync state"));
        assert_eq!(sync.status, SyncStatusCode::Unknown);
        assert_eq!(sync.revision.as_deref(), Some(OLD));
    }

    #[test]
    fn a_failed_comparison_writes_a_status() {
        let mut seen = observation();
        seen.compare = Some(Err("forbidden".to_owned()));
        let status = reported(&seen, &Acted::default());
        assert_eq!(
            ready(&status),
            (ConditionStatus::False, reasons::COMPARE_FAILED)
        );
        assert_eq!(status.sync.map(|s| s.status), Some(SyncStatusCode::Unknown));
    }

    #[test]
    fn a_failed_comparison_after_a_sync_keeps_the_operation_and_its_history() {
        let seen = drifted(observation());
        let mut acted = synced_now(OperationPhase::Succeeded);
        acted.after = Some(Err("connection reset".to_owned()));
        let status = reported(&seen, &acted);
        assert_eq!(
            ready(&status),
            (ConditionStatus::False, reasons::COMPARE_FAILED)
        );
        assert_eq!(
            status.operation_state.map(|o| o.phase),
            Some(OperationPhase::Succeeded)
        );
        assert_eq!(status.history.len(), 1);
    }

    #[test]
    fn an_invalid_spec_says_which_field() {
        let mut seen = observation();
        seen.spec = crate::spec::validate(&application(serde_json::json!({"interval": "0s"})));
        let status = reported(&seen, &Acted::default());
        assert_eq!(
            ready(&status),
            (ConditionStatus::False, reasons::INVALID_SPEC)
        );
        assert!(status.conditions[0].message.contains("spec.interval"));
    }

    #[test]
    fn the_ready_reason_follows_the_operation_and_the_comparison() {
        let failed = reported(&drifted(observation()), &synced_now(OperationPhase::Failed));
        assert_eq!(
            ready(&failed),
            (ConditionStatus::False, reasons::SYNC_FAILED)
        );
        let retrying = reported(
            &drifted(observation()),
            &synced_now(OperationPhase::Retrying),
        );
        assert_eq!(
            ready(&retrying),
            (ConditionStatus::False, reasons::SYNC_FAILED)
        );
        let running = reported(
            &drifted(observation()),
            &synced_now(OperationPhase::Running),
        );
        assert_eq!(ready(&running), (ConditionStatus::False, reasons::SYNCING));
        let mut manual = drifted(observation());
        manual.automated = None;
        let out = reported(&manual, &Acted::default());
        assert_eq!(ready(&out), (ConditionStatus::False, reasons::OUT_OF_SYNC));
        let mut empty = drifted(observation());
        if let Some(Ok(render)) = &mut empty.source {
            render.manifests.clear();
        }
        let refused = reported(&empty, &Acted::default());
        assert_eq!(
            ready(&refused),
            (ConditionStatus::False, reasons::EMPTY_REFUSED)
        );
        let mut degraded = observation();
        if let Some(Ok(compared)) = &mut degraded.compare {
            compared.summary.health = driftless_health::HealthStatus {
                status: Health::Degraded,
                message: "crash loop".to_owned(),
            };
        }
        let status = reported(&degraded, &Acted::default());
        assert_eq!(ready(&status), (ConditionStatus::False, reasons::DEGRADED));
    }

    #[test]
    fn forbidden_kinds_are_named_in_their_own_condition() {
        let mut seen = observation();
        seen.forbidden = (0..10)
            .map(|n| ForbiddenKind {
                group: if n == 0 {
                    String::new()
                } else {
                    "apps".to_owned()
                },
                kind: format!("Kind{n}"),
                message: format!("kind{n} is forbidden"),
            })
            .collect();
        let status = reported(&seen, &Acted::default());
        let visible = status
            .conditions
            .iter()
            .find(|c| c.type_ == condition_types::KINDS_VISIBLE)
            .unwrap_or_else(|| panic!("no KindsVisible in {status:?}"));
        assert_eq!(
            (visible.status, visible.reason.as_str()),
            (ConditionStatus::False, reasons::FORBIDDEN)
        );
        assert!(
            visible.message.contains("Kind0, apps/Kind1"),
            "{}",
            visible.message
        );
        assert!(
            visible.message.contains("and 2 more"),
            "{}",
            visible.message
        );
        assert!(
            visible.message.ends_with("kind0 is forbidden"),
            "{}",
            visible.message
        );
        assert_eq!(ready(&status), (ConditionStatus::True, reasons::RECONCILED));
        let clear = reported(&observation(), &Acted::default());
        assert!(
            clear
                .conditions
                .iter()
                .all(|c| c.type_ != condition_types::KINDS_VISIBLE)
        );
    }

    #[test]
    fn a_deleted_application_gets_no_status() {
        let mut seen = observation();
        seen.deletion = Some(crate::observe::Deletion::Orphan);
        assert_eq!(status(&seen, &decide(&seen), &Acted::default()), None);
    }

    use crate::spec::HISTORY_LIMIT;

    #[test]
    fn history_is_bounded() {
        let mut seen = drifted(observation());
        seen.previous.history = (1..=HISTORY_LIMIT as i64)
            .map(|id| driftless_api::HistoryEntry {
                id,
                revision: OLD.to_owned(),
                deployed_at: String::new(),
                initiated_by: None,
                source: None,
            })
            .collect();
        let status = reported(&seen, &synced_now(OperationPhase::Succeeded));
        assert_eq!(status.history.len(), HISTORY_LIMIT);
        assert_eq!(
            status.history.last().map(|h| h.revision.as_str()),
            Some(COMMIT)
        );
        // The new entry records the source it was synced from.
        assert!(status.history.last().is_some_and(|h| h.source.is_some()));

        // spec.revisionHistoryLimit: kept to it, also when it shrinks; an invalid spec trims
        // nothing.
        for (limit, kept) in [(3, 3), (0, 0), (50, HISTORY_LIMIT)] {
            let mut seen = drifted(observation());
            seen.previous.history = status.history.clone();
            if let Ok(spec) = seen.spec.as_mut() {
                spec.history_limit = limit;
            }
            let trimmed = reported(&seen, &Acted::default());
            assert_eq!(trimmed.history.len(), kept, "limit {limit}");
            if kept > 0 {
                assert_eq!(trimmed.history.last(), status.history.last());
            }
        }
        let mut invalid = drifted(observation());
        invalid.previous.history = status.history.clone();
        invalid.spec = Err(crate::spec::SpecError {
            field: "spec.interval".to_owned(),
            message: "bad".to_owned(),
        });
        assert_eq!(
            reported(&invalid, &Acted::default()).history.len(),
            HISTORY_LIMIT
        );
    }

    fn with_op(op: OperationState) -> ApplicationStatus {
        ApplicationStatus {
            operation_state: Some(op),
            ..ApplicationStatus::default()
        }
    }

    #[test]
    fn requeue_takes_the_soonest_reason_to_look_again() {
        let poll = Duration::from_secs(180);
        let seen = observation();
        let decision = decide(&seen);
        let plain = ApplicationStatus::default();
        let at = |status: &ApplicationStatus, failures| {
            requeue(&decision, Some(status), failures, poll, now())
        };
        assert_eq!(at(&plain, 0), Some(poll));
        assert_eq!(at(&plain, 1), Some(Duration::from_secs(1)));
        assert_eq!(at(&plain, 4), Some(Duration::from_secs(8)));
        assert_eq!(
            at(&plain, 40),
            Some(poll),
            "the backoff never delays a poll"
        );
        assert_eq!(
            at(&with_op(operation(OperationPhase::Running)), 0),
            Some(ROLLOUT_POLL)
        );
        let mut retrying = operation(OperationPhase::Retrying);
        retrying.next_attempt_at = Some(crate::status::timestamp(
            now()
                .checked_add(k8s_openapi::jiff::SignedDuration::from_secs(20))
                .unwrap_or(now()),
        ));
        assert_eq!(at(&with_op(retrying), 0), Some(Duration::from_secs(20)));
        let progressing = ApplicationStatus {
            health: Some(driftless_api::HealthState {
                status: "Progressing".to_owned(),
                message: None,
            }),
            ..ApplicationStatus::default()
        };
        assert_eq!(at(&progressing, 0), Some(ROLLOUT_POLL));
        let mut healing = synced_before(drifted(observation()));
        healing.heal_wait = Duration::from_secs(3);
        let decision = decide(&healing);
        assert_eq!(
            requeue(&decision, Some(&plain), 0, poll, now()),
            Some(Duration::from_secs(3))
        );
    }

    #[test]
    fn an_invalid_spec_waits_for_a_change_and_backoff_is_capped() {
        let mut seen = observation();
        seen.spec = crate::spec::validate(&application(serde_json::json!({"interval": "0s"})));
        let decision = decide(&seen);
        assert_eq!(
            requeue(&decision, None, 3, Duration::from_secs(60), now()),
            None
        );
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(100), MAX_BACKOFF);
        assert_eq!(backoff(0), Duration::from_secs(1));
    }
}
