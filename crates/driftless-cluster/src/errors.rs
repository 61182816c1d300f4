//! Translating API errors into the sync engine's terms.

use driftless_sync::{ClusterError, ErrorKind};

/// Maps a client error to a [`ClusterError`], keeping the API server's message (which names
/// the object and the field, never the object's data).
pub fn cluster_error(error: kube::Error) -> ClusterError {
    match error {
        kube::Error::Api(status) => {
            let kind = match status.code {
                404 => ErrorKind::NotFound,
                409 => ErrorKind::Conflict,
                400 | 422 => ErrorKind::Invalid,
                _ => ErrorKind::Other,
            };
            let message = if status.message.is_empty() {
                format!("{} ({})", status.reason, status.code)
            } else {
                status.message
            };
            ClusterError { kind, message }
        }
        other => ClusterError {
            kind: ErrorKind::Other,
            message: other.to_string(),
        },
    }
}
