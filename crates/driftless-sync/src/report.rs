//! What a sync did, object by object.

use std::fmt;
use std::time::SystemTime;

use driftless_resource::ResourceKey;

use crate::hooks::HookPhase;

/// What was (or would be) done to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Created: it did not exist.
    Create,
    /// Applied over an existing object.
    Update,
    /// Deleted: Git no longer declares it.
    Prune,
    /// Run as a hook of this phase.
    Hook(HookPhase),
    /// Nothing: the object is left alone.
    None,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Create => f.write_str("create"),
            Self::Update => f.write_str("update"),
            Self::Prune => f.write_str("prune"),
            Self::Hook(phase) => write!(f, "hook {}", phase.as_str()),
            Self::None => f.write_str("none"),
        }
    }
}

/// How it went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Applied, and the stored object changed.
    Synced,
    /// Applied, and the API server stored nothing new.
    Unchanged,
    /// Deleted.
    Pruned,
    /// Validated by a server-side dry run only (`--dry-run`).
    DryRun,
    /// The API server refused it, or it became unhealthy; the message says why.
    Failed,
    /// Not attempted because an earlier step failed.
    Skipped,
    /// Owned by someone else: left alone.
    Conflict,
    /// Kept by policy (pruning disabled, `Prune=false`).
    Kept,
    /// Not permitted (the application's project forbids it); nothing was applied.
    Denied,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Synced => "synced",
            Self::Unchanged => "unchanged",
            Self::Pruned => "pruned",
            Self::DryRun => "dry-run ok",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
            Self::Conflict => "conflict",
            Self::Kept => "kept",
            Self::Denied => "denied",
        })
    }
}

/// The result for one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceResult {
    /// The object.
    pub key: ResourceKey,
    /// The wave it belonged to (`None` for hooks and prune-last).
    pub wave: Option<i32>,
    /// What was done.
    pub action: Action,
    /// How it went.
    pub outcome: Outcome,
    /// Details: the API server's message on failure, the reason when skipped or kept.
    pub message: String,
}

/// Where an execution that stopped to wait goes on (with `Settings::yield_waits`).
///
/// Steps are numbered in the order the plan is carried out: creating the namespace; each PreSync
/// hook (create, then wait); each wave (validate, apply and prune, then wait); each Sync hook;
/// `PruneLast`; each PostSync hook. A plan made from the same commit numbers them the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume {
    /// The step that was waiting, where the next call starts.
    pub step: u32,
    /// When that wait began: timeouts count across calls.
    pub waiting_since: SystemTime,
    /// What it waits on, for people (`wave 1: Deployment web/web: 1 of 2 replicas available`).
    pub waiting_on: String,
}

/// The result of a whole sync.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncReport {
    /// One entry per object, in the order they were handled.
    pub results: Vec<ResourceResult>,
    /// Why the sync failed, when it did.
    pub failure: Option<String>,
    /// Attempts made (more than one when retried).
    pub attempts: u32,
    /// Set when the execution stopped to wait (`Settings::yield_waits`): where to go
    /// on. Such a report holds only the results of the steps this call carried out.
    pub pending: Option<Resume>,
}

impl SyncReport {
    /// Whether every step succeeded (a pending execution has not).
    pub fn succeeded(&self) -> bool {
        self.failure.is_none() && self.pending.is_none()
    }

    /// The result for `key`, if it was handled (the last one, when retried).
    pub fn result(&self, key: &ResourceKey) -> Option<&ResourceResult> {
        self.results.iter().rev().find(|r| &r.key == key)
    }
}
