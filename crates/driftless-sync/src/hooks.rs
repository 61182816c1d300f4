//! Resource hooks: objects (usually Jobs or Pods) run at a phase of the sync instead of being
//! kept in sync.

use serde_json::Value;

/// Annotation marking an object as a hook and naming its phase.
pub const HOOK_ANNOTATION: &str = "driftless.dev/hook";
/// Annotation naming when a hook object is deleted (comma-separated policies).
pub const HOOK_DELETE_POLICY_ANNOTATION: &str = "driftless.dev/hook-delete-policy";

/// When a hook runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HookPhase {
    /// Before anything is applied.
    PreSync,
    /// After every wave is applied and healthy.
    Sync,
    /// After the sync succeeded.
    PostSync,
    /// When the sync failed.
    SyncFail,
}

impl HookPhase {
    /// The annotation's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PreSync => "PreSync",
            Self::Sync => "Sync",
            Self::PostSync => "PostSync",
            Self::SyncFail => "SyncFail",
        }
    }
}

/// When a hook object is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeletePolicy {
    /// Delete it once it succeeded.
    pub on_success: bool,
    /// Delete it once it failed.
    pub on_failure: bool,
    /// Delete the previous run's object before creating it again. This is the default when no
    /// policy is given, so a hook can run on every sync.
    pub before_creation: bool,
}

/// An unusable hook annotation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HookError {
    /// Unknown phase.
    #[error(
        "annotation {HOOK_ANNOTATION}={0:?} is not a hook phase (PreSync, Sync, PostSync, SyncFail)"
    )]
    Phase(String),
    /// Unknown delete policy.
    #[error(
        "annotation {HOOK_DELETE_POLICY_ANNOTATION}={0:?} is not a policy (HookSucceeded, HookFailed, BeforeHookCreation)"
    )]
    Policy(String),
}

fn annotation<'a>(object: &'a Value, name: &str) -> Option<&'a str> {
    object
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(name))
        .and_then(Value::as_str)
}

/// The object's hook phase, or `None` when it is not a hook.
pub fn hook_phase(object: &Value) -> Result<Option<HookPhase>, HookError> {
    let Some(text) = annotation(object, HOOK_ANNOTATION) else {
        return Ok(None);
    };
    match text.trim() {
        "PreSync" => Ok(Some(HookPhase::PreSync)),
        "Sync" => Ok(Some(HookPhase::Sync)),
        "PostSync" => Ok(Some(HookPhase::PostSync)),
        "SyncFail" => Ok(Some(HookPhase::SyncFail)),
        other => Err(HookError::Phase(other.to_owned())),
    }
}

/// Whether a live object is a hook (hooks are never pruned: their policy deletes them).
pub fn is_hook(object: &Value) -> bool {
    annotation(object, HOOK_ANNOTATION).is_some()
}

/// The hook's delete policy.
pub fn delete_policy(object: &Value) -> Result<DeletePolicy, HookError> {
    let Some(text) = annotation(object, HOOK_DELETE_POLICY_ANNOTATION) else {
        return Ok(DeletePolicy {
            before_creation: true,
            ..DeletePolicy::default()
        });
    };
    let mut policy = DeletePolicy::default();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match item {
            "HookSucceeded" => policy.on_success = true,
            "HookFailed" => policy.on_failure = true,
            "BeforeHookCreation" => policy.before_creation = true,
            _ => return Err(HookError::Policy(item.to_owned())),
        }
    }
    Ok(policy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hook(phase: &str, policy: Option<&str>) -> Value {
        let mut annotations = json!({HOOK_ANNOTATION: phase});
        if let Some(policy) = policy {
            annotations[HOOK_DELETE_POLICY_ANNOTATION] = json!(policy);
        }
        json!({"metadata": {"annotations": annotations}})
    }

    #[test]
    fn reads_phase_and_policies() -> Result<(), HookError> {
        assert_eq!(
            hook_phase(&hook("PreSync", None))?,
            Some(HookPhase::PreSync)
        );
        assert_eq!(hook_phase(&json!({}))?, None);
        let default = delete_policy(&hook("PostSync", None))?;
        assert!(default.before_creation && !default.on_success && !default.on_failure);
        let both = delete_policy(&hook("PostSync", Some("HookSucceeded,HookFailed")))?;
        assert!(both.on_success && both.on_failure && !both.before_creation);
        Ok(())
    }

    #[test]
    fn unknown_phase_or_policy_is_an_error() {
        assert_eq!(
            hook_phase(&hook("Later", None)),
            Err(HookError::Phase("Later".into()))
        );
        assert_eq!(
            delete_policy(&hook("Sync", Some("Never"))),
            Err(HookError::Policy("Never".into()))
        );
    }
}
