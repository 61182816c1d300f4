//! The Kubernetes Events the controller publishes about Applications; those that are
//! notifications (sync started, succeeded, failed, health degraded, drift corrected, out of
//! sync) also go to the [notifier](crate::notify), which never holds up the caller.

use driftless_api::{Application, ApplicationStatus, OperationPhase, SyncStatusCode};
use driftless_diff::Action as DiffAction;
use driftless_notify::cut;
use driftless_sync::Drift;
use kube::Resource;
use kube::runtime::events::{Event, EventType};

use crate::context::Context;

/// What self-heal reverted, naming who changed each object: `ConfigMap web/config (changed
/// by kubectl-edit), Deployment web/web (deleted)`.
pub(crate) fn corrected(drifts: &[Drift]) -> String {
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
    cut(text, 1000)
}

/// An Event to publish about an Application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Note {
    /// Normal or Warning.
    pub kind: EventType,
    /// The reason, one word.
    pub reason: &'static str,
    /// One line for people.
    pub message: String,
    /// The commit it is about, when there is one (a notification's revision: commit statuses
    /// are posted on it).
    pub revision: Option<String>,
}

impl Note {
    /// A Normal event.
    pub fn normal(reason: &'static str, message: String) -> Self {
        Self {
            kind: EventType::Normal,
            reason,
            message,
            revision: None,
        }
    }

    /// A Warning event.
    pub fn warning(reason: &'static str, message: String) -> Self {
        Self {
            kind: EventType::Warning,
            reason,
            message,
            revision: None,
        }
    }

    /// The same, about `commit`.
    pub fn at(mut self, commit: &str) -> Self {
        self.revision = Some(commit.to_owned()).filter(|c| !c.is_empty());
        self
    }
}

/// The Events a new status tells of against the previous one: health that became Degraded,
/// and a cluster that started to differ from Git while no sync runs (an automated sync that
/// corrects it at once never writes OutOfSync, so it tells nothing).
pub(crate) fn transitions(previous: &ApplicationStatus, next: &ApplicationStatus) -> Vec<Note> {
    let mut notes = Vec::new();
    let revision = next
        .sync
        .as_ref()
        .and_then(|s| s.revision.clone())
        .unwrap_or_default();
    let health = |s: &ApplicationStatus| s.health.as_ref().map(|h| h.status.clone());
    if health(next).as_deref() == Some("Degraded")
        && health(previous).as_deref() != Some("Degraded")
    {
        let why = next
            .health
            .as_ref()
            .and_then(|h| h.message.clone())
            .unwrap_or_default();
        let message = if why.is_empty() {
            "health is Degraded".to_owned()
        } else {
            format!("health is Degraded: {why}")
        };
        notes.push(Note::warning("HealthDegraded", message).at(&revision));
    }
    let sync = |s: &ApplicationStatus| s.sync.as_ref().map(|s| s.status);
    let running = next
        .operation_state
        .as_ref()
        .is_some_and(|op| op.phase == OperationPhase::Running);
    if sync(next) == Some(SyncStatusCode::OutOfSync)
        && sync(previous) != Some(SyncStatusCode::OutOfSync)
        && !running
    {
        let differing = next
            .resources
            .iter()
            .filter(|r| r.status == SyncStatusCode::OutOfSync)
            .count();
        notes.push(
            Note::normal(
                "OutOfSync",
                format!(
                    "the cluster differs from Git at {revision}: {differing} object{} out of sync",
                    if differing == 1 { "" } else { "s" }
                ),
            )
            .at(&revision),
        );
    }
    notes
}

/// Publishes an Event about `app` in the background: events inform, they never hold up a sync.
/// A notification's Event is also handed to the notifier (a queue: it returns at once).
pub(crate) fn publish(ctx: &Context, app: &Application, note: Note) {
    ctx.notifier
        .notify(app, note.reason, &note.message, note.revision.as_deref());
    let recorder = ctx.recorder.clone();
    let reference = app.object_ref(&());
    tokio::spawn(async move {
        let event = Event {
            type_: note.kind,
            reason: note.reason.to_owned(),
            note: Some(cut(note.message, 1000)),
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
        let short = cut(text, 1000);
        assert!(short.len() <= 1000);
        assert!(short.ends_with("..."));
        assert_eq!(cut("short".to_owned(), 1000), "short");
    }

    fn status(sync: SyncStatusCode, health: &str) -> ApplicationStatus {
        ApplicationStatus {
            sync: Some(driftless_api::SyncState {
                status: sync,
                revision: Some("abc".into()),
            }),
            health: Some(driftless_api::HealthState {
                status: health.into(),
                message: Some("Deployment web/web: 0 of 2 replicas available".into()),
            }),
            ..ApplicationStatus::default()
        }
    }

    #[test]
    fn degraded_health_and_out_of_sync_are_told_once_when_they_begin() {
        let healthy = status(SyncStatusCode::Synced, "Healthy");
        let degraded = status(SyncStatusCode::Synced, "Degraded");
        let notes = transitions(&healthy, &degraded);
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].reason, "HealthDegraded");
        assert_eq!(
            notes[0].message,
            "health is Degraded: Deployment web/web: 0 of 2 replicas available"
        );
        assert_eq!(notes[0].revision.as_deref(), Some("abc"));
        assert!(transitions(&degraded, &degraded).is_empty());

        let drifted = status(SyncStatusCode::OutOfSync, "Healthy");
        let notes = transitions(&healthy, &drifted);
        assert_eq!(
            notes.iter().map(|n| n.reason).collect::<Vec<_>>(),
            ["OutOfSync"]
        );
        assert!(transitions(&drifted, &drifted).is_empty());
        assert_eq!(
            transitions(&ApplicationStatus::default(), &drifted).len(),
            1,
            "a new application that differs is out of sync"
        );
        let mut syncing = drifted.clone();
        syncing.operation_state = Some(crate::fixtures::operation(OperationPhase::Running));
        assert!(transitions(&healthy, &syncing).is_empty());
    }
}
