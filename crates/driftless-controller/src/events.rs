//! The Kubernetes Events the controller publishes about Applications.

use driftless_api::Application;
use driftless_diff::Action as DiffAction;
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Note {
    /// Normal or Warning.
    pub kind: EventType,
    /// The reason, one word.
    pub reason: &'static str,
    /// One line for people.
    pub message: String,
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
