//! Decide: what one reconciliation does, from what it [observed](crate::observe), with no I/O.
//!
//! A fixed, ordered list of guards ([`GUARDS`]), in the manner of Flux's kustomize-controller:
//! each looks at the observation, may add to the [`Decision`], and either lets the next guard
//! run or ends the list. A new rule is one function and one line in the list.

use std::time::Duration;

use driftless_api::{OperationPhase, OperationState, SyncRequest};

use crate::events::Note;
use crate::observe::{Deletion, Observation};
use crate::records::{Trigger, refused, until};
use crate::windows::Blocked;

/// What to do.
#[derive(Debug, Clone, PartialEq)]
#[expect(clippy::large_enum_variant, reason = "one value per reconciliation")]
pub(crate) enum Action {
    /// Nothing but report.
    Report,
    /// The Application is deleted: delete its objects first when `Cascade`.
    CleanUp(Deletion),
    /// Sync, for this reason.
    Sync(Trigger),
}

/// What the status says, beyond the comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Compared; the comparison (and a sync, if any) says the rest.
    Compared,
    /// Deleted: no status.
    Deleted,
    /// The spec is invalid: nothing happens until it changes.
    InvalidSpec(String),
    /// A dependency (`spec.dependsOn`) is missing or not ready: nothing is compared or
    /// applied until it is.
    DependencyNotReady(String),
    /// The source could not be fetched or rendered; the last good state stays.
    SourceFailed {
        /// `FetchFailed` or `RenderFailed`.
        reason: &'static str,
        /// One line for people.
        message: String,
    },
    /// The destination cluster cannot be reached; nothing is compared or applied.
    ClusterUnreachable(String),
    /// The comparison with the cluster failed.
    CompareFailed(String),
    /// Git renders nothing and `allowEmpty` is false: nothing is pruned.
    EmptyRefused,
}

/// The outcome of the guards.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decision {
    /// What to do.
    pub action: Action,
    /// What the status says.
    pub verdict: Verdict,
    /// The valid sync request to honour, if any.
    pub request: Option<SyncRequest>,
    /// Remove the sync request annotation once the status is written.
    pub clear_request: bool,
    /// An operation record written without a sync: a request that cannot be carried out, or an
    /// operation that cannot go on.
    pub operation: Option<OperationState>,
    /// Events to publish.
    pub events: Vec<Note>,
    /// Self-heal is backing off for this long.
    pub heal_wait: Duration,
    /// A sync window keeps automated syncs from starting now.
    pub window: Option<Blocked>,
}

/// Whether the next guard runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Go on.
    Continue,
    /// The decision is complete.
    Stop,
}

type Guard = fn(&Observation, &mut Decision) -> Flow;

/// The guards, in order.
pub(crate) const GUARDS: &[Guard] = &[
    deleted,
    request,
    invalid_spec,
    dependencies,
    source_failed,
    cluster_unreachable,
    compare_failed,
    empty_refused,
    sync_window,
    trigger,
];

/// Runs the guards over `seen`.
pub(crate) fn decide(seen: &Observation) -> Decision {
    let mut decision = Decision {
        action: Action::Report,
        verdict: Verdict::Compared,
        request: None,
        clear_request: false,
        operation: None,
        events: Vec::new(),
        heal_wait: Duration::ZERO,
        window: None,
    };
    for guard in GUARDS {
        if guard(seen, &mut decision) == Flow::Stop {
            break;
        }
    }
    decision
}

/// Deleted → clean up (the finalizer's cascade), no status.
fn deleted(seen: &Observation, decision: &mut Decision) -> Flow {
    match seen.deletion {
        Some(deletion) => {
            decision.action = Action::CleanUp(deletion);
            decision.verdict = Verdict::Deleted;
            Flow::Stop
        }
        None => Flow::Continue,
    }
}

/// A sync request: an invalid one is dropped with a warning; one already carried out (its id
/// is the last operation's: the annotation outlived a failed removal) is dropped quietly.
fn request(seen: &Observation, decision: &mut Decision) -> Flow {
    match &seen.request {
        None => {}
        Some(Err(error)) => {
            decision.clear_request = true;
            decision.events.push(Note::warning(
                "InvalidSyncRequest",
                format!(
                    "ignored {}: not a sync request ({error})",
                    driftless_api::SYNC_REQUEST_ANNOTATION
                ),
            ));
        }
        Some(Ok(request)) => {
            let answered = seen
                .previous
                .operation_state
                .as_ref()
                .and_then(|op| op.request_id.as_deref())
                == Some(request.id.as_str());
            if answered {
                decision.clear_request = true;
            } else {
                decision.request = Some(request.clone());
            }
        }
    }
    Flow::Continue
}

/// An invalid spec → wait for a spec change; a waiting request hears why.
fn invalid_spec(seen: &Observation, decision: &mut Decision) -> Flow {
    match &seen.spec {
        Ok(_) => Flow::Continue,
        Err(error) => {
            let message = error.to_string();
            stop_operations(seen, decision, &format!("invalid spec: {message}"));
            decision.verdict = Verdict::InvalidSpec(message);
            Flow::Stop
        }
    }
}

/// A cycle of `spec.dependsOn` → an invalid spec; a dependency not ready → wait for it (its
/// changes wake this Application). A waiting request hears why.
fn dependencies(seen: &Observation, decision: &mut Decision) -> Flow {
    use crate::dependencies::Blocked;
    match &seen.blocked {
        None => Flow::Continue,
        Some(Blocked::Cycle(message)) => {
            stop_operations(seen, decision, &format!("invalid spec: {message}"));
            decision.verdict = Verdict::InvalidSpec(message.clone());
            Flow::Stop
        }
        Some(Blocked::NotReady(message)) => {
            stop_operations(seen, decision, &format!("waiting: {message}"));
            decision.verdict = Verdict::DependencyNotReady(message.clone());
            Flow::Stop
        }
    }
}

/// The source failed → keep the last good state; nothing is applied or pruned.
fn source_failed(seen: &Observation, decision: &mut Decision) -> Flow {
    match &seen.source {
        Some(Err(failure)) => {
            stop_operations(seen, decision, &failure.message);
            decision.verdict = Verdict::SourceFailed {
                reason: failure.reason,
                message: failure.message.clone(),
            };
            Flow::Stop
        }
        Some(Ok(_)) => Flow::Continue,
        None => {
            decision.verdict = Verdict::CompareFailed("no source was read".to_owned());
            Flow::Stop
        }
    }
}

/// The destination cluster is down or refuses the credentials → report it (sync Unknown);
/// nothing is applied; retried with backoff.
fn cluster_unreachable(seen: &Observation, decision: &mut Decision) -> Flow {
    match &seen.target {
        Some(Err(error)) => {
            stop_operations(seen, decision, error);
            decision.verdict = Verdict::ClusterUnreachable(error.clone());
            Flow::Stop
        }
        _ => Flow::Continue,
    }
}

/// The comparison failed → report it; nothing is applied.
fn compare_failed(seen: &Observation, decision: &mut Decision) -> Flow {
    match &seen.compare {
        Some(Ok(_)) => Flow::Continue,
        Some(Err(error)) => {
            stop_operations(
                seen,
                decision,
                &format!("comparing with the cluster: {error}"),
            );
            decision.verdict = Verdict::CompareFailed(error.clone());
            Flow::Stop
        }
        None => {
            decision.verdict = Verdict::CompareFailed("no comparison was made".to_owned());
            Flow::Stop
        }
    }
}

/// An empty render is not synced automatically unless `allowEmpty` (a broken path must not
/// prune everything); a request or an operation in progress still runs.
fn empty_refused(seen: &Observation, decision: &mut Decision) -> Flow {
    let empty = matches!(&seen.source, Some(Ok(render)) if render.manifests.is_empty());
    let out_of_sync = matches!(&seen.compare, Some(Ok(c)) if c.out_of_sync);
    let automated_refuses = seen.automated.as_ref().is_some_and(|a| !a.allow_empty);
    if empty
        && out_of_sync
        && automated_refuses
        && decision.request.is_none()
        && ongoing(seen).is_none()
    {
        decision.verdict = Verdict::EmptyRefused;
        return Flow::Stop;
    }
    Flow::Continue
}

/// The project's sync windows: a request they block is answered as failed (unless the windows
/// allow manual syncs); automated syncs (a new commit, self-heal, a retry) wait while they
/// block. An operation already running goes on.
fn sync_window(seen: &Observation, decision: &mut Decision) -> Flow {
    let Ok(spec) = &seen.spec else {
        return Flow::Continue;
    };
    let check = |manual| {
        spec.project.may_sync(
            &seen.me.name,
            &spec.destination,
            [spec.cluster.server(), spec.cluster.name()],
            seen.now,
            manual,
        )
    };
    if let Some(request) = &decision.request
        && let Err(blocked) = check(true)
    {
        let message = format!("blocked by a sync window: {}", blocked.message);
        decision.operation = Some(refused(request, &message, seen.now));
        decision.request = None;
        decision.clear_request = true;
    }
    decision.window = check(false).err();
    Flow::Continue
}

/// The trigger, first that applies: a request, an operation to resume, a due retry, a new
/// commit, self-heal (with backoff), none.
fn trigger(seen: &Observation, decision: &mut Decision) -> Flow {
    if let Some(request) = decision.request.clone() {
        decision.action = Action::Sync(Trigger::Request(request));
        return Flow::Stop;
    }
    if let Some(op) = ongoing(seen) {
        match op.phase {
            // Not due yet: the requeue brings it back when it is.
            OperationPhase::Retrying => {
                let due = op.next_attempt_at.as_deref().map(|at| until(at, seen.now));
                if due.is_none_or(|wait| wait.is_zero()) && decision.window.is_none() {
                    decision.action = Action::Sync(Trigger::Retry(op.clone()));
                }
            }
            _ => decision.action = Action::Sync(Trigger::Resume(op.clone())),
        }
        return Flow::Stop;
    }
    let (Some(automated), Some(Ok(render)), Some(Ok(compared))) =
        (&seen.automated, &seen.source, &seen.compare)
    else {
        return Flow::Stop;
    };
    if !compared.out_of_sync || decision.window.is_some() {
        return Flow::Stop;
    }
    let last_synced = seen.previous.history.last().map(|h| h.revision.as_str());
    let failed_before = seen.previous.operation_state.as_ref().is_some_and(|op| {
        op.phase == OperationPhase::Failed && op.revision.as_deref() == Some(&render.commit)
    });
    // A new commit whose render is the one last synced (nothing it read changed) has nothing
    // new to deploy: a difference is drift.
    if !last_synced.is_some_and(|last| render.stands_for(last)) && !failed_before {
        decision.action = Action::Sync(Trigger::NewCommit);
    } else if automated.self_heal && compared.denied.is_empty() {
        // While the project denies an object, a sync cannot succeed: self-heal waits for a
        // change of Git or of the project.
        if seen.heal_wait.is_zero() {
            decision.action = Action::Sync(Trigger::SelfHeal);
        } else {
            decision.heal_wait = seen.heal_wait;
        }
    }
    Flow::Stop
}

/// The operation still going: Running, or Retrying (waiting for its next attempt).
fn ongoing(seen: &Observation) -> Option<&OperationState> {
    seen.previous
        .operation_state
        .as_ref()
        .filter(|op| matches!(op.phase, OperationPhase::Running | OperationPhase::Retrying))
}

/// When nothing can go on (the spec, the source or the comparison failed): a waiting request
/// is answered as failed, and an operation in progress ends as Failed, so no one waits for ever.
fn stop_operations(seen: &Observation, decision: &mut Decision, message: &str) {
    if let Some(request) = decision.request.take() {
        decision.operation = Some(refused(&request, message, seen.now));
        decision.clear_request = true;
    } else if let Some(op) = ongoing(seen) {
        let mut ended = op.clone();
        ended.phase = OperationPhase::Failed;
        ended.message = format!("cannot go on: {message}");
        ended.finished_at = Some(crate::status::timestamp(seen.now));
        decision.operation = Some(ended);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use driftless_api::OperationPhase;

    use super::*;
    use crate::fixtures::*;

    /// What a decision comes to, in short, for the tables.
    fn summary(decision: &Decision) -> (&'static str, &'static str, bool, Option<OperationPhase>) {
        let action = match &decision.action {
            Action::Report => "report",
            Action::CleanUp(Deletion::Cascade) => "cascade",
            Action::CleanUp(Deletion::Orphan) => "orphan",
            Action::Sync(Trigger::Request(_)) => "sync:request",
            Action::Sync(Trigger::Resume(_)) => "sync:resume",
            Action::Sync(Trigger::Retry(_)) => "sync:retry",
            Action::Sync(Trigger::NewCommit) => "sync:new-commit",
            Action::Sync(Trigger::SelfHeal) => "sync:self-heal",
        };
        let verdict = match &decision.verdict {
            Verdict::Compared => "compared",
            Verdict::Deleted => "deleted",
            Verdict::InvalidSpec(_) => "invalid-spec",
            Verdict::DependencyNotReady(_) => "dependency-not-ready",
            Verdict::SourceFailed { .. } => "source-failed",
            Verdict::CompareFailed(_) => "compare-failed",
            Verdict::ClusterUnreachable(_) => "cluster-unreachable",
            Verdict::EmptyRefused => "empty-refused",
        };
        (
            action,
            verdict,
            decision.clear_request,
            decision.operation.as_ref().map(|op| op.phase),
        )
    }

    type Case = (
        &'static str,
        fn() -> Observation,
        (&'static str, &'static str, bool, Option<OperationPhase>),
    );

    fn with_request(mut seen: Observation) -> Observation {
        seen.request = Some(Ok(crate::fixtures::request("r1")));
        seen
    }

    fn with_op(mut seen: Observation, op: driftless_api::OperationState) -> Observation {
        seen.previous.operation_state = Some(op);
        seen
    }

    fn invalid(mut seen: Observation) -> Observation {
        seen.spec = crate::spec::validate(&application(serde_json::json!({"interval": "soon"})));
        seen.source = None;
        seen.compare = None;
        seen
    }

    fn waiting(mut seen: Observation) -> Observation {
        seen.blocked = Some(crate::dependencies::Blocked::NotReady(
            "dependency apps/a is not Synced (OutOfSync)".to_owned(),
        ));
        seen.source = None;
        seen.compare = None;
        seen
    }

    fn source_failed(mut seen: Observation) -> Observation {
        seen.source = Some(Err(fetch_failed()));
        seen.compare = None;
        seen
    }

    fn compare_failed(mut seen: Observation) -> Observation {
        seen.compare = Some(Err("reading the cluster: forbidden".to_owned()));
        seen
    }

    fn empty(mut seen: Observation) -> Observation {
        if let Some(Ok(render)) = &mut seen.source {
            render.manifests.clear();
        }
        drifted(seen)
    }

    fn retrying(due_in: i64) -> driftless_api::OperationState {
        let mut op = operation(OperationPhase::Retrying);
        let due = now()
            .checked_add(k8s_openapi::jiff::SignedDuration::from_secs(due_in))
            .unwrap_or(now());
        op.next_attempt_at = Some(crate::status::timestamp(due));
        op
    }

    const CASES: &[Case] = &[
        (
            "in sync: nothing to do",
            observation,
            ("report", "compared", false, None),
        ),
        (
            "deleted with the finalizer cascades",
            || {
                let mut seen = drifted(observation());
                seen.deletion = Some(Deletion::Cascade);
                seen
            },
            ("cascade", "deleted", false, None),
        ),
        (
            "deleted without it orphans",
            || {
                let mut seen = with_request(observation());
                seen.deletion = Some(Deletion::Orphan);
                seen
            },
            ("orphan", "deleted", false, None),
        ),
        (
            "an invalid spec waits, syncing nothing",
            || invalid(drifted(observation())),
            ("report", "invalid-spec", false, None),
        ),
        (
            "an invalid spec answers a waiting request",
            || invalid(with_request(observation())),
            ("report", "invalid-spec", true, Some(OperationPhase::Failed)),
        ),
        (
            "an invalid spec ends a running operation",
            || invalid(with_op(observation(), operation(OperationPhase::Running))),
            (
                "report",
                "invalid-spec",
                false,
                Some(OperationPhase::Failed),
            ),
        ),
        (
            "an invalid request is dropped and the rest goes on",
            || {
                let mut seen = drifted(observation());
                seen.request = Some(Err("expected value".to_owned()));
                seen
            },
            ("sync:new-commit", "compared", true, None),
        ),
        (
            "a request already answered is dropped quietly",
            || {
                let mut op = operation(OperationPhase::Succeeded);
                op.request_id = Some("r1".to_owned());
                synced_before(with_request(with_op(observation(), op)))
            },
            ("report", "compared", true, None),
        ),
        (
            "a dependency not ready holds a new commit",
            || waiting(drifted(observation())),
            ("report", "dependency-not-ready", false, None),
        ),
        (
            "a dependency not ready answers a request",
            || waiting(with_request(observation())),
            (
                "report",
                "dependency-not-ready",
                true,
                Some(OperationPhase::Failed),
            ),
        ),
        (
            "a dependency cycle is an invalid spec",
            || {
                let mut seen = drifted(observation());
                seen.blocked = Some(crate::dependencies::Blocked::Cycle(
                    "spec.dependsOn: a cycle: apps/a → apps/a".to_owned(),
                ));
                seen
            },
            ("report", "invalid-spec", false, None),
        ),
        (
            "a failed source keeps the last good state",
            || source_failed(drifted(observation())),
            ("report", "source-failed", false, None),
        ),
        (
            "a failed source answers a request",
            || source_failed(with_request(observation())),
            (
                "report",
                "source-failed",
                true,
                Some(OperationPhase::Failed),
            ),
        ),
        (
            "a failed source ends an operation waiting to retry",
            || source_failed(with_op(observation(), retrying(10))),
            (
                "report",
                "source-failed",
                false,
                Some(OperationPhase::Failed),
            ),
        ),
        (
            "a failed comparison is reported, nothing synced",
            || compare_failed(observation()),
            ("report", "compare-failed", false, None),
        ),
        (
            "a failed comparison answers a request",
            || compare_failed(with_request(observation())),
            (
                "report",
                "compare-failed",
                true,
                Some(OperationPhase::Failed),
            ),
        ),
        (
            "an empty render is not synced automatically",
            || empty(observation()),
            ("report", "empty-refused", false, None),
        ),
        (
            "an empty render with allowEmpty syncs",
            || {
                let mut seen = empty(observation());
                seen.automated = seen.automated.map(|a| driftless_api::Automated {
                    allow_empty: true,
                    ..a
                });
                seen
            },
            ("sync:new-commit", "compared", false, None),
        ),
        (
            "an empty render is synced when asked",
            || empty(with_request(observation())),
            ("sync:request", "compared", false, None),
        ),
        (
            "a request wins over everything else",
            || {
                with_request(with_op(
                    drifted(observation()),
                    operation(OperationPhase::Running),
                ))
            },
            ("sync:request", "compared", false, None),
        ),
        (
            "a running operation is resumed",
            || with_op(observation(), operation(OperationPhase::Running)),
            ("sync:resume", "compared", false, None),
        ),
        (
            "a due retry runs",
            || with_op(drifted(observation()), retrying(-1)),
            ("sync:retry", "compared", false, None),
        ),
        (
            "a retry not yet due waits, even when drifted",
            || with_op(drifted(observation()), retrying(30)),
            ("report", "compared", false, None),
        ),
        (
            "a new commit is synced",
            || drifted(observation()),
            ("sync:new-commit", "compared", false, None),
        ),
        (
            "a commit that failed is not synced again automatically",
            || {
                let mut op = operation(OperationPhase::Failed);
                op.revision = Some(COMMIT.to_owned());
                with_op(drifted(observation()), op)
            },
            ("sync:self-heal", "compared", false, None),
        ),
        (
            "drift of a synced commit is healed",
            || synced_before(drifted(observation())),
            ("sync:self-heal", "compared", false, None),
        ),
        (
            "drift after a new commit whose render is the synced one is healed, not deployed",
            || {
                let mut seen = synced_before(drifted(observation()));
                if let Some(Ok(render)) = seen.source.as_mut() {
                    render.same_as = vec![render.commit.clone()];
                    render.commit = "a later commit that changed nothing read".to_owned();
                }
                seen
            },
            ("sync:self-heal", "compared", false, None),
        ),
        (
            "a new commit whose render is another one is deployed",
            || {
                let mut seen = synced_before(drifted(observation()));
                if let Some(Ok(render)) = seen.source.as_mut() {
                    render.same_as = vec!["some other commit".to_owned()];
                    render.commit = "a later commit".to_owned();
                }
                seen
            },
            ("sync:new-commit", "compared", false, None),
        ),
        (
            "self-heal backing off waits",
            || {
                let mut seen = synced_before(drifted(observation()));
                seen.heal_wait = Duration::from_secs(4);
                seen
            },
            ("report", "compared", false, None),
        ),
        (
            "without self-heal, drift is only reported",
            || {
                let mut seen = synced_before(drifted(observation()));
                seen.automated = seen.automated.map(|a| driftless_api::Automated {
                    self_heal: false,
                    ..a
                });
                seen
            },
            ("report", "compared", false, None),
        ),
        (
            "a manual (or suspended) application only reports",
            || {
                let mut seen = drifted(observation());
                seen.automated = None;
                seen
            },
            ("report", "compared", false, None),
        ),
    ];

    #[test]
    fn each_guard_and_trigger_decides_as_its_table_says() {
        for (name, make, expected) in CASES {
            let decision = decide(&make());
            assert_eq!(summary(&decision), *expected, "{name}");
        }
    }

    #[test]
    fn self_heal_backoff_is_carried_for_the_status_and_requeue() {
        let mut seen = synced_before(drifted(observation()));
        seen.heal_wait = Duration::from_secs(4);
        assert_eq!(decide(&seen).heal_wait, Duration::from_secs(4));
    }

    #[test]
    fn an_invalid_request_warns() {
        let mut seen = observation();
        seen.request = Some(Err("expected value".to_owned()));
        let decision = decide(&seen);
        assert_eq!(decision.events.len(), 1);
        assert_eq!(decision.events[0].reason, "InvalidSyncRequest");
    }

    #[test]
    fn a_refused_request_is_answered_with_its_id_and_the_reason() {
        let decision = decide(&invalid(with_request(observation())));
        let answer = decision.operation.unwrap_or_else(|| panic!("no answer"));
        assert_eq!(answer.request_id.as_deref(), Some("r1"));
        assert!(
            answer.message.contains("spec.interval"),
            "{}",
            answer.message
        );
        assert!(answer.finished_at.is_some());
    }

    /// `seen` in a project whose only window, `kind`, is open at [`now`] (`manual`: it lets
    /// manual syncs through).
    fn in_window(mut seen: Observation, kind: &str, manual: bool) -> Observation {
        let project: driftless_api::AppProjectSpec = serde_json::from_value(serde_json::json!({
            "sourceRepos": ["*"],
            "destinations": [{"server": "*", "namespace": "*"}],
            "syncWindows": [{"kind": kind, "schedule": "* * * * *", "duration": "1h",
                "namespaces": ["*"], "manualSync": manual}],
        }))
        .unwrap_or_else(|e| panic!("fixture project: {e}"));
        let project = driftless_api::AppProject::new("windowed", project);
        seen.spec = crate::spec::validate(&seen.app).and_then(|spec| {
            crate::spec::with_project(spec, &seen.app, Some(&project), "apps", false)
        });
        seen
    }

    #[test]
    fn a_deny_window_holds_automated_syncs_and_refuses_requests_unless_manual_sync() {
        // A new commit waits, saying why.
        let decision = decide(&in_window(drifted(observation()), "deny", false));
        assert_eq!(summary(&decision), ("report", "compared", false, None));
        let blocked = decision.window.unwrap_or_else(|| panic!("not blocked"));
        assert!(
            blocked.message.contains("deny window 0"),
            "{}",
            blocked.message
        );
        assert!(blocked.until.is_some());
        // So does self-heal.
        let healing = decide(&in_window(
            synced_before(drifted(observation())),
            "deny",
            false,
        ));
        assert_eq!(healing.action, Action::Report);
        // A request is answered as failed...
        let decision = decide(&in_window(with_request(observation()), "deny", false));
        let answer = decision.operation.unwrap_or_else(|| panic!("no answer"));
        assert_eq!(answer.phase, OperationPhase::Failed);
        assert!(answer.message.contains("sync window"), "{}", answer.message);
        assert!(decision.clear_request);
        // ...unless the window allows manual syncs.
        let decision = decide(&in_window(with_request(observation()), "deny", true));
        assert!(matches!(decision.action, Action::Sync(Trigger::Request(_))));
        // An open allow window lets everything through.
        let decision = decide(&in_window(drifted(observation()), "allow", false));
        assert_eq!(decision.action, Action::Sync(Trigger::NewCommit));
        assert_eq!(decision.window, None);
    }
}
