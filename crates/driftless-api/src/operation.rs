//! Operations people ask for: a sync request, written as an annotation on the Application and
//! answered by the controller in `status.operationState`.
//!
//! The protocol: a client sets [`SYNC_REQUEST_ANNOTATION`] to the JSON of a [`SyncRequest`]
//! with a fresh `id`. The controller runs that sync (also when automated sync is suspended),
//! records the outcome in `status.operationState` with `requestId` set to the request's `id`,
//! and removes the annotation. A client waits for `requestId` to equal its `id`.
//! Plain kubectl works too:
//! `kubectl annotate application NAME driftless.dev/sync-request='{"id":"1"}'`.

use serde::{Deserialize, Serialize};

/// The annotation holding a pending [`SyncRequest`] as JSON.
pub const SYNC_REQUEST_ANNOTATION: &str = "driftless.dev/sync-request";

/// A request to sync an Application now.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SyncRequest {
    /// Unique per request (e.g. a timestamp with nanoseconds and a random suffix); echoed in
    /// `status.operationState.requestId` when the sync is done.
    pub id: String,
    /// The revision to sync (branch, tag, commit) instead of `spec.source.targetRevision`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// Delete objects Git no longer declares, whatever the policy says.
    #[serde(default)]
    pub prune: bool,
    /// Who asked, recorded in `operationState.initiatedBy` and the history
    /// (e.g. `user:alice`, `rollback to 3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiated_by: Option<String>,
}

impl SyncRequest {
    /// A request with this id: the target revision, no prune, nobody named.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            revision: None,
            prune: false,
            initiated_by: None,
        }
    }

    /// Reads the annotation's value.
    pub fn parse(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The annotation's value: compact JSON.
    pub fn to_annotation(&self) -> String {
        // Built by hand rather than with `serde_json::to_string`, whose error case cannot
        // happen for strings and a bool but would still need handling; a test keeps both equal.
        let mut object = serde_json::Map::new();
        object.insert("id".to_owned(), self.id.clone().into());
        if let Some(revision) = &self.revision {
            object.insert("revision".to_owned(), revision.clone().into());
        }
        object.insert("prune".to_owned(), self.prune.into());
        if let Some(initiated_by) = &self.initiated_by {
            object.insert("initiatedBy".to_owned(), initiated_by.clone().into());
        }
        serde_json::Value::Object(object).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_written_requests_need_only_an_id() {
        let request = SyncRequest::parse(r#"{"id":"1"}"#).unwrap();
        assert_eq!(request, SyncRequest::new("1"));
    }

    #[test]
    fn annotations_round_trip_and_match_serde() {
        let request = SyncRequest {
            id: "2025-01-01T00:00:00.000000001Z-beef".to_owned(),
            revision: Some("abc123".to_owned()),
            prune: true,
            initiated_by: Some("rollback to 3".to_owned()),
        };
        let text = request.to_annotation();
        assert_eq!(
            text,
            r#"{"id":"2025-01-01T00:00:00.000000001Z-beef","revision":"abc123","prune":true,"initiatedBy":"rollback to 3"}"#
        );
        assert_eq!(text, serde_json::to_string(&request).unwrap());
        assert_eq!(SyncRequest::parse(&text).unwrap(), request);
        let bare = SyncRequest::new("x");
        assert_eq!(bare.to_annotation(), serde_json::to_string(&bare).unwrap());
        assert_eq!(bare.to_annotation(), r#"{"id":"x","prune":false}"#);
    }

    #[test]
    fn malformed_annotations_are_errors() {
        assert!(SyncRequest::parse("sync please").is_err());
        assert!(SyncRequest::parse(r#"{"revision":"main"}"#).is_err());
    }
}
