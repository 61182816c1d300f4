//! Notifications: a `Provider` says where messages go (a webhook, a chat, a Git forge's commit
//! statuses) and an `Alert` says which events of which Applications go to it. Flux's
//! notification-controller shapes (`Provider`, `Alert`, `providerRef`, `eventSeverity`,
//! `eventSources`, `secretRef`, `suspend`), so a Flux user reads them as is.

use kube_derive::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::conditions::Condition;

/// Where notifications go: one endpoint of one type, its address and credentials.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "driftless.dev",
    version = "v1alpha1",
    kind = "Provider",
    namespaced,
    status = "NotificationStatus",
    category = "driftless",
    crates(
        kube_core = "::kube_core",
        k8s_openapi = "::k8s_openapi",
        schemars = "::schemars",
        serde = "::serde",
        serde_json = "::serde_json"
    )
)]
#[kube(printcolumn = r#"{"name":"Type","type":"string","jsonPath":".spec.type"}"#)]
#[kube(
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#
)]
#[kube(printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#)]
#[serde(rename_all = "camelCase")]
pub struct ProviderSpec {
    /// `generic` (a JSON POST), `generic-hmac` (the same, signed with HMAC-SHA256 in the header
    /// `X-Signature: sha256=<hex>`), `slack` (Slack-compatible incoming webhook), `msteams`,
    /// `github`, `gitlab` or `gitea` (commit statuses).
    #[serde(rename = "type")]
    pub type_: String,
    /// The webhook URL; for `github`, `gitlab` and `gitea` the API's base URL (default
    /// `https://api.github.com`, `https://gitlab.com`; required for `gitea`). The key `address`
    /// of the Secret, when present, wins (webhook URLs with a token in them belong there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// For `slack`: the channel to post to (the webhook's own by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// For `slack`: the name to post as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// A Secret in the Provider's namespace: `address` (the URL), `token` (the forge's API
    /// token; the HMAC key of `generic-hmac`; a bearer token for `generic`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// How long one delivery may take, as a duration (`15s` by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// Sends nothing while true (events for it are dropped, not queued).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suspend: bool,
}

/// Which events of which Applications are sent to a [`Provider`].
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "driftless.dev",
    version = "v1alpha1",
    kind = "Alert",
    namespaced,
    status = "NotificationStatus",
    category = "driftless",
    crates(
        kube_core = "::kube_core",
        k8s_openapi = "::k8s_openapi",
        schemars = "::schemars",
        serde = "::serde",
        serde_json = "::serde_json"
    )
)]
#[kube(
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#
)]
#[kube(printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#)]
#[serde(rename_all = "camelCase")]
pub struct AlertSpec {
    /// The Provider, in the Alert's namespace.
    pub provider_ref: LocalObjectReference,
    /// `info` (every event, the default) or `error` (failed syncs and degraded health only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_severity: Option<String>,
    /// The Applications whose events are sent; an event is sent when any source matches.
    pub event_sources: Vec<EventSource>,
    /// The events sent, by reason (`SyncStarted`, `SyncSucceeded`, `SyncFailed`,
    /// `HealthDegraded`, `DriftCorrected`, `OutOfSync`). Empty: every one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub event_reasons: Vec<String>,
    /// The message, as a template over the event's fields (docs/notifications.md); the
    /// default is `{{ name }}: {{ message }}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Extra fields sent with every event (the generic webhook's `metadata`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub event_metadata: BTreeMap<String, String>,
    /// Sends nothing while true.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suspend: bool,
}

/// Applications an [`Alert`] listens to.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventSource {
    /// `Application` (the only kind that has events).
    pub kind: String,
    /// The Application's name, or a glob (`*` for every one, `web-*`).
    pub name: String,
    /// Its namespace; default the Alert's. Only an Alert in the controller's namespace may name
    /// another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Labels the Application must carry.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    /// The project the Application must belong to (a glob).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
}

/// The name of an object in the same namespace.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocalObjectReference {
    /// Its name.
    pub name: String,
}

/// The status of a [`Provider`] or [`Alert`]: whether it can deliver (`Ready`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationStatus {
    /// The generation the conditions were computed for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready`: False names what is wrong (a missing Secret, a bad address, a Provider that is
    /// not there) or the last delivery that failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}
