//! Events for tests.

use crate::{Event, EventKind};

/// The commit of [`event`].
pub const REVISION: &str = "0123456789abcdef0123456789abcdef01234567";

/// An event of `kind` for the Application `namespace/name` at [`REVISION`].
pub fn event(kind: EventKind, namespace: &str, name: &str) -> Event {
    Event {
        kind,
        namespace: namespace.into(),
        name: name.into(),
        labels: Default::default(),
        project: "default".into(),
        revision: Some(REVISION.into()),
        repo_url: "https://git.example/acme/web.git".into(),
        message: format!("synced to {REVISION}"),
        time: "2026-12-07T05:00:00Z".into(),
    }
}
