//! Driftless notifications, the pure part: which [`Alert`](driftless_api::Alert)s select an
//! [`Event`] ([`Selector`]), the message its template renders ([`Template`]), the Provider it
//! goes to ([`resolve`] a `Provider` and its Secret into a [`Target`]), the HTTP request of each
//! Provider type ([`request`]: generic JSON with an optional HMAC signature, Slack, Microsoft
//! Teams, GitHub, GitLab and Gitea commit statuses), and deduplication ([`Dedup`]).
//!
//! No client, no runtime, no clock: the controller sends, retries and reports.

mod dedup;
mod event;
#[cfg(test)]
mod fixtures;
mod forge;
mod payload;
mod provider;
mod select;
mod template;

pub use dedup::{CAPACITY as DEDUP_CAPACITY, Dedup, WINDOW as DEDUP_WINDOW};
pub use event::{Event, EventKind, Severity};
pub use forge::{ForgeError, repository_path};
pub use payload::{PayloadError, REPORTER, Request, SIGNATURE_HEADER, generic_body, request, sign};
pub use provider::{
    ADDRESS_KEY, DEFAULT_TIMEOUT, ProviderError, ProviderType, Secret, TOKEN_KEY, Target, resolve,
};
pub use select::{APPLICATION_KIND, AlertError, Selector};
pub use template::{DEFAULT_TEMPLATE, MAX_MESSAGE, Template, TemplateError, cut};

/// An event with every field set, to check templates against.
fn sample_event() -> Event {
    Event {
        kind: EventKind::SyncSucceeded,
        namespace: "namespace".into(),
        name: "name".into(),
        labels: Default::default(),
        project: "default".into(),
        revision: Some("0".repeat(40)),
        repo_url: "https://git.example/repository.git".into(),
        message: "message".into(),
        time: "2026-01-01T00:00:00Z".into(),
    }
}
