//! Operations asked of the controller through the Application itself, so they work with plain
//! `kubectl` too: a sync request annotation, and the finalizer that cascades deletion.

use serde::{Deserialize, Serialize};

/// Annotation asking the controller for one sync; its value is a [`SyncRequest`] as JSON, e.g.
/// `kubectl annotate application guestbook driftless.dev/sync-request='{"id":"1"}'`. The
/// controller carries it out, records `status.operationState.requestId`, and removes it.
pub const SYNC_REQUEST_ANNOTATION: &str = "driftless.dev/sync-request";

/// Finalizer that, when present, makes deleting the Application delete every object it manages
/// first (Argo CD's `resources-finalizer.argocd.argoproj.io`). Without it, the objects stay.
pub const FINALIZER: &str = "driftless.dev/resources-finalizer";

/// One requested sync.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SyncRequest {
    /// Unique per request; echoed as `status.operationState.requestId` when done.
    pub id: String,
    /// Branch, tag or commit to sync to; default the spec's `targetRevision`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// Also delete objects Git no longer declares.
    #[serde(default)]
    pub prune: bool,
    /// Who asked, for the history (`user`, `rollback to 3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiated_by: Option<String>,
}

impl SyncRequest {
    /// Reads the annotation's value.
    pub fn parse(text: &str) -> Result<SyncRequest, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The annotation's value.
    pub fn to_annotation(&self) -> String {
        // A struct of strings and a bool always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_round_trips_and_a_bare_id_is_enough() -> Result<(), serde_json::Error> {
        let request = SyncRequest {
            id: "7".into(),
            revision: Some("v1.2.0".into()),
            prune: true,
            initiated_by: Some("rollback to 3".into()),
        };
        assert_eq!(SyncRequest::parse(&request.to_annotation())?, request);
        let bare = SyncRequest::parse(r#"{"id":"1"}"#)?;
        assert_eq!(bare.id, "1");
        assert!(!bare.prune && bare.revision.is_none());
        assert!(SyncRequest::parse("sync please").is_err());
        Ok(())
    }
}
