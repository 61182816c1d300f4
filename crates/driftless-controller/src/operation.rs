//! A sync operation of the controller: why it runs, its Running record (so a restart resumes
//! it), the sync itself, history, self-heal backoff, and the Events people see.

use std::time::Instant;

use driftless_api::{Application, ApplicationStatus, HistoryEntry, OperationState, SyncRequest};
use driftless_diff::{Action as DiffAction, DiffOptions};
use driftless_resource::Manifest;
use driftless_sync::{Drift, Known, RetryPolicy, Settings, readiness, sync_from};
use kube::Resource;
use kube::api::Api;
use kube::runtime::events::{Event, EventType};
use kube::runtime::reflector::ObjectRef;

use crate::Error;
use crate::context::Context;
use crate::reconcile::{clear_request, history_entry, running};
use crate::status::{finished, write};

/// Why a sync runs.
#[derive(Debug, Clone)]
pub(crate) enum Trigger {
    /// Someone asked (the sync request annotation: `driftless app sync`, rollback, kubectl).
    Request(SyncRequest),
    /// A sync that a restart cut short.
    Resume(OperationState),
    /// Automated policy: Git has a commit not yet synced.
    NewCommit,
    /// Automated self-heal: the cluster drifted from the synced commit.
    SelfHeal,
}

/// What a finished sync leaves for the status.
pub(crate) struct SyncOutcome {
    /// The finished operation.
    pub operation: OperationState,
    /// A new history entry, when a new revision (or a requested sync) succeeded.
    pub history: Option<HistoryEntry>,
}

/// Runs one sync of `manifests` (rendered at `commit`) for `trigger`.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run_sync(
    ctx: &Context,
    api: &Api<Application>,
    app: &Application,
    me: &ObjectRef<Application>,
    previous: &ApplicationStatus,
    trigger: Trigger,
    commit: &str,
    manifests: Vec<Manifest>,
    settings: &Settings,
    retry: RetryPolicy,
    diff: &DiffOptions,
    known: Known,
) -> Result<SyncOutcome, Error> {
    let name = me.name.as_str();
    let mut settings = settings.clone();
    let (initiated_by, request_id) = match &trigger {
        Trigger::Request(request) => {
            clear_request(api, name).await?;
            settings.options.prune = request.prune;
            let by = request
                .initiated_by
                .clone()
                .unwrap_or_else(|| "user".to_owned());
            (by, Some(request.id.clone()))
        }
        Trigger::Resume(op) => (
            op.initiated_by
                .clone()
                .unwrap_or_else(|| "automated".to_owned()),
            op.request_id.clone(),
        ),
        Trigger::NewCommit => ("automated".to_owned(), None),
        Trigger::SelfHeal => {
            // Only what drifted is sent again: the rest is known to be equal.
            settings.options.apply_out_of_sync_only = true;
            ("self-heal".to_owned(), None)
        }
    };

    // Recorded before anything is applied, so a restart finds it Running and resumes it.
    let started = running(commit, &initiated_by, request_id);
    let marked = ApplicationStatus {
        operation_state: Some(started.clone()),
        ..previous.clone()
    };
    let written = write(api, name, &marked, previous, true).await?;
    ctx.memory(me, |m| {
        m.wrote(&marked, written);
        m.ran_operation = true;
    });
    if !matches!(trigger, Trigger::SelfHeal) {
        publish(
            ctx,
            app,
            Note::normal(
                "SyncStarted",
                format!("syncing to {commit} ({initiated_by})"),
            ),
        );
    }

    let clock = Instant::now();
    // Who changed what, for the Event, before the reading goes to the sync.
    let drift_note = matches!(trigger, Trigger::SelfHeal).then(|| corrected(&known.drifts));
    let report = sync_from(
        &ctx.cluster,
        readiness,
        manifests,
        Some(known),
        &settings,
        retry,
        diff,
    )
    .await?;
    let phase = if report.succeeded() {
        crate::SyncPhase::Succeeded
    } else {
        crate::SyncPhase::Failed
    };
    ctx.metrics.synced(phase, clock.elapsed());
    let operation = finished(&started, &report);
    if matches!(trigger, Trigger::SelfHeal) {
        ctx.memory(me, |m| m.heal.healed(Instant::now()));
        if report.succeeded() {
            ctx.metrics.self_healed();
        }
    }

    let note = if !report.succeeded() {
        Note::warning("SyncFailed", operation.message.clone())
    } else if let Some(drift_note) = drift_note {
        Note::normal("DriftCorrected", drift_note)
    } else {
        Note::normal(
            "SyncSucceeded",
            format!("synced to {commit} ({initiated_by})"),
        )
    };
    publish(ctx, app, note);

    let last = previous.history.last().map(|h| h.revision.as_str());
    let recorded =
        matches!(trigger, Trigger::Request(_) | Trigger::Resume(_)) || last != Some(commit);
    let history = (report.succeeded() && recorded)
        .then(|| history_entry(&previous.history, commit, &initiated_by));
    Ok(SyncOutcome { operation, history })
}

/// What self-heal reverted, naming who changed each object: `ConfigMap web/config (changed
/// by kubectl-edit), Deployment web/web (deleted)`.
fn corrected(drifts: &[Drift]) -> String {
    let parts: Vec<String> = drifts
        .iter()
        .filter(|d| d.diff.changed)
        .map(|d| {
            let what = match d.diff.action {
                DiffAction::Create => "deleted".to_owned(),
                DiffAction::Prune => "not in Git".to_owned(),
                _ if d.changed_by.is_empty() => "changed".to_owned(),
                _ => format!("changed by {}", d.changed_by.join(", ")),
            };
            let key = &d.key;
            let place = if key.namespace.is_empty() {
                key.name.clone()
            } else {
                format!("{}/{}", key.namespace, key.name)
            };
            format!("{} {place} ({what})", key.kind)
        })
        .collect();
    let text = format!("reverted drift: {}", parts.join(", "));
    // Event notes hold at most 1 kB.
    truncate(text, 1000)
}

fn truncate(mut text: String, most: usize) -> String {
    if text.len() > most {
        let mut end = most.saturating_sub(3);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str("...");
    }
    text
}

/// An Event to publish about an Application.
pub(crate) struct Note {
    kind: EventType,
    reason: &'static str,
    message: String,
}

impl Note {
    /// A Normal event.
    pub fn normal(reason: &'static str, message: String) -> Self {
        Self {
            kind: EventType::Normal,
            reason,
            message,
        }
    }

    /// A Warning event.
    pub fn warning(reason: &'static str, message: String) -> Self {
        Self {
            kind: EventType::Warning,
            reason,
            message,
        }
    }
}

/// Publishes an Event about `app` in the background: events inform, they never hold up a sync.
pub(crate) fn publish(ctx: &Context, app: &Application, note: Note) {
    let recorder = ctx.recorder.clone();
    let reference = app.object_ref(&());
    tokio::spawn(async move {
        let event = Event {
            type_: note.kind,
            reason: note.reason.to_owned(),
            note: Some(truncate(note.message, 1000)),
            action: "Sync".to_owned(),
            secondary: None,
        };
        if let Err(error) = recorder.publish(&event, &reference).await {
            tracing::debug!(%error, "publishing an event failed");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_notes_are_cut_on_a_character_boundary() {
        let text = "é".repeat(600);
        let cut = truncate(text, 1000);
        assert!(cut.len() <= 1000);
        assert!(cut.ends_with("..."));
        assert_eq!(truncate("short".to_owned(), 1000), "short");
    }
}
