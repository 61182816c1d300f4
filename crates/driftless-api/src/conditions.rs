//! Conditions: every type and reason an Application can carry, declared in one place.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A condition, in the shape of `metav1.Condition`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// One of [`condition_types`].
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: ConditionStatus,
    /// One of [`reasons`], CamelCase.
    pub reason: String,
    /// For people.
    #[serde(default)]
    pub message: String,
    /// RFC 3339 time of the last change of `status`.
    pub last_transition_time: String,
    /// The generation this condition was computed for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// Condition status.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum ConditionStatus {
    /// The condition holds.
    True,
    /// It does not.
    False,
    /// Not known.
    Unknown,
}

/// Condition types.
pub mod condition_types {
    /// The application is synced and healthy at the desired revision.
    pub const READY: &str = "Ready";
    /// The source could be fetched and rendered.
    pub const SOURCE_READY: &str = "SourceReady";
    /// The last sync succeeded.
    pub const SYNCED: &str = "Synced";
    /// Every managed object is healthy.
    pub const HEALTHY: &str = "Healthy";
    /// Every kind of the cluster can be listed and watched (False names the kinds RBAC
    /// forbids: their objects are invisible, so never compared nor pruned).
    pub const KINDS_VISIBLE: &str = "KindsVisible";
    /// Present (False) while a sync window of the project keeps automated syncs from
    /// starting; the message names the window and when it ends.
    pub const SYNC_ALLOWED: &str = "SyncAllowed";
    /// Present (False) while objects of the destination namespace belong to no Application
    /// and the project's `orphanedResources.warn` is on; the message names them.
    pub const NO_ORPHANED_RESOURCES: &str = "NoOrphanedResources";
}

/// Condition reasons.
pub mod reasons {
    /// Synced and healthy.
    pub const RECONCILED: &str = "Reconciled";
    /// Fetching the Git source failed (the last fetched commit is still used).
    pub const FETCH_FAILED: &str = "FetchFailed";
    /// Rendering failed; nothing was applied.
    pub const RENDER_FAILED: &str = "RenderFailed";
    /// A SOPS file of the source did not decrypt (no key, wrong key, MAC mismatch, corrupted
    /// value, missing key Secret); nothing was applied or pruned.
    pub const DECRYPTION_FAILED: &str = "DecryptionFailed";
    /// The cluster differs from Git and the policy is manual.
    pub const OUT_OF_SYNC: &str = "OutOfSync";
    /// A sync is running.
    pub const SYNCING: &str = "Syncing";
    /// The last sync failed.
    pub const SYNC_FAILED: &str = "SyncFailed";
    /// Git renders nothing and `allowEmpty` is false: nothing was pruned.
    pub const EMPTY_REFUSED: &str = "EmptyRefused";
    /// An object is degraded.
    pub const DEGRADED: &str = "Degraded";
    /// Objects are still progressing.
    pub const PROGRESSING: &str = "Progressing";
    /// The controller may not list or watch some kinds (RBAC).
    pub const FORBIDDEN: &str = "Forbidden";
    /// The destination cluster is down or refuses the controller's credentials; the message
    /// names the cluster and the error. Nothing is compared or applied; retried with backoff.
    pub const CLUSTER_UNREACHABLE: &str = "ClusterUnreachable";
    /// Comparing with the live cluster failed; nothing was applied.
    pub const COMPARE_FAILED: &str = "CompareFailed";
    /// The spec is invalid (bad interval, bad sync option...).
    pub const INVALID_SPEC: &str = "InvalidSpec";
    /// An Application of `spec.dependsOn` is missing, or not Synced and Healthy at its current
    /// revision (the message names it and why); nothing is compared or applied until it is.
    pub const DEPENDENCY_NOT_READY: &str = "DependencyNotReady";
    /// A sync window of the project blocks automated syncs now.
    pub const SYNC_WINDOW_BLOCKED: &str = "SyncWindowBlocked";
    /// Objects of the destination namespace belong to no Application.
    pub const ORPHANED_RESOURCES: &str = "OrphanedResources";
    /// A notification Provider or Alert reads and can deliver.
    pub const VALID: &str = "Valid";
    /// A Secret a notification Provider names is missing, or lacks a key it needs.
    pub const SECRET_NOT_FOUND: &str = "SecretNotFound";
    /// The Provider an Alert names does not exist.
    pub const PROVIDER_NOT_FOUND: &str = "ProviderNotFound";
    /// The last delivery of a notification failed after its retries.
    pub const DELIVERY_FAILED: &str = "DeliveryFailed";
    /// A notification Provider or Alert is suspended: it sends nothing.
    pub const SUSPENDED: &str = "Suspended";
}
