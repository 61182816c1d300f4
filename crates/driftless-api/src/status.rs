//! `Application.status`: the whole story of an application, written only by the leader.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::conditions::Condition;

/// What Driftless knows about an application.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Whether the cluster equals Git, and at which commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<SyncState>,
    /// The aggregate health of every managed object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthState>,
    /// One entry per managed object.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ResourceStatus>,
    /// Conditions; types and reasons are listed in [`crate::condition_types`] and
    /// [`crate::reasons`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The current or last sync operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_state: Option<OperationState>,
    /// Past syncs, newest last, bounded (10 by default).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistoryEntry>,
    /// When the source was last compared with the cluster (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconciled_at: Option<String>,
}

/// Sync state of the application or of one object.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum SyncStatusCode {
    /// The cluster equals Git.
    Synced,
    /// The cluster differs from Git.
    OutOfSync,
    /// Not known yet (source or cluster unreadable).
    Unknown,
}

/// Sync state and the commit it refers to.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncState {
    /// Synced, OutOfSync or Unknown.
    pub status: SyncStatusCode,
    /// The full commit id compared against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
}

/// Aggregate health.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HealthState {
    /// Healthy, Progressing, Degraded, Suspended, Missing or Unknown.
    pub status: String,
    /// Why, when not Healthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// One managed object.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceStatus {
    /// API group (empty for core).
    #[serde(default)]
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Namespace (empty for cluster-scoped objects).
    #[serde(default)]
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Synced or OutOfSync.
    pub status: SyncStatusCode,
    /// Health of this object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthState>,
    /// What is wrong, if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Phase of a sync operation.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum OperationPhase {
    /// Started and not finished; resumed after a restart.
    Running,
    /// Every step succeeded.
    Succeeded,
    /// A step failed; the message says which.
    Failed,
    /// An attempt failed; the next one is due at `nextAttemptAt` (`syncPolicy.retry`).
    Retrying,
}

/// A sync operation and what it did.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OperationState {
    /// Where it stands.
    pub phase: OperationPhase,
    /// One line for people.
    #[serde(default)]
    pub message: String,
    /// The commit being synced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// Who asked: `automated`, `webhook`, `user:<name>`, `rollback:<id>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiated_by: Option<String>,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339, once finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// Result per object.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<ResourceResult>,
    /// The `id` of the sync request ([`crate::SYNC_REQUEST_ANNOTATION`]) this operation carried out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Whether it deletes objects Git no longer declares.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub prune: bool,
    /// Retries made after the first attempt (`syncPolicy.retry`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retry_count: u32,
    /// RFC 3339: when a `Retrying` operation makes its next attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<String>,
    /// Where a `Running` operation that waits (for a wave to become healthy, a hook to finish)
    /// goes on; no worker waits meanwhile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<SyncProgress>,
}

/// Where a sync that waits goes on.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncProgress {
    /// The step that waits, in the order the sync carries out its plan.
    pub step: u32,
    /// RFC 3339: when that wait began (the health timeout counts from it).
    pub waiting_since: String,
    /// What it waits on.
    pub waiting_on: String,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The result of a sync for one object.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceResult {
    /// API group.
    #[serde(default)]
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Namespace.
    #[serde(default)]
    pub namespace: String,
    /// Name.
    pub name: String,
    /// create, update, prune, hook PreSync, ...
    pub action: String,
    /// synced, unchanged, pruned, failed, skipped, conflict, kept.
    pub result: String,
    /// The API server's message on failure, the reason when skipped.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// A past sync.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    /// Increasing id, for `driftless app rollback NAME ID`.
    pub id: i64,
    /// The commit deployed.
    pub revision: String,
    /// RFC 3339.
    pub deployed_at: String,
    /// Who triggered it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiated_by: Option<String>,
    /// The source it was synced from (repository, path, target revision, directory options),
    /// as the spec said then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<crate::Source>,
}
