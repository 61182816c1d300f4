//! Helm hooks mapped onto Driftless's sync hooks, the way Argo CD maps them.
//!
//! | Helm (`helm.sh/hook`) | Driftless (`driftless.dev/hook`) |
//! |---|---|
//! | `pre-install`, `pre-upgrade` | `PreSync` |
//! | `post-install`, `post-upgrade` | `PostSync` |
//! | `crd-install` (Helm 2) | not a hook: applied with the other resources |
//! | `test`, `test-success`, `test-failure`, `pre-delete`, `post-delete`, `pre-rollback`, `post-rollback` | skipped: not applied |
//!
//! `helm.sh/hook-weight` becomes the sync wave (`driftless.dev/sync-wave`), and
//! `helm.sh/hook-delete-policy` the hook's delete policy (`hook-succeeded` → `HookSucceeded`,
//! `hook-failed` → `HookFailed`, `before-hook-creation` → `BeforeHookCreation`; Helm's default,
//! when none is given, is `before-hook-creation`, which is also Driftless's).
//!
//! A hook of both a pre and a post event (`pre-install,post-install`) runs as `PreSync` only:
//! Driftless gives a hook one phase (Argo CD runs it in both). A Driftless hook annotation
//! already on the object wins over the Helm one, as Argo CD's own annotation does.

use driftless_sync::{
    HOOK_ANNOTATION, HOOK_DELETE_POLICY_ANNOTATION, HookPhase, SYNC_WAVE_ANNOTATION,
};
use serde_json::{Map, Value};

use crate::output::{HOOK_ANNOTATION as HELM_HOOK, HOOK_DELETE_ANNOTATION, HOOK_WEIGHT_ANNOTATION};

/// What Driftless does with a rendered object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapping {
    /// Not a Helm hook (or a Driftless hook already): applied as it is.
    Resource,
    /// A Helm hook with no Driftless equivalent (tests, delete and rollback hooks): not applied.
    Skip,
    /// A Driftless hook.
    Hook {
        /// Its phase.
        phase: HookPhase,
        /// Its wave, from `helm.sh/hook-weight` (0 when missing or not an integer).
        wave: i64,
        /// Driftless's delete policies (`HookSucceeded,...`); `None` when Helm's annotation is
        /// missing.
        delete_policy: Option<String>,
    },
}

fn annotations(object: &Value) -> Option<&Map<String, Value>> {
    object.pointer("/metadata/annotations")?.as_object()
}

/// How `object` (a rendered manifest) maps onto Driftless.
pub fn map_hook(object: &Value) -> Mapping {
    let Some(ann) = annotations(object) else {
        return Mapping::Resource;
    };
    if ann.contains_key(HOOK_ANNOTATION) {
        return Mapping::Resource;
    }
    let Some(events) = ann.get(HELM_HOOK).and_then(Value::as_str) else {
        return Mapping::Resource;
    };
    let events: Vec<String> = events.split(',').map(|e| e.trim().to_lowercase()).collect();
    let phase = if events
        .iter()
        .any(|e| e == "pre-install" || e == "pre-upgrade")
    {
        HookPhase::PreSync
    } else if events
        .iter()
        .any(|e| e == "post-install" || e == "post-upgrade")
    {
        HookPhase::PostSync
    } else if events.iter().any(|e| e == "crd-install") {
        return Mapping::Resource;
    } else {
        return Mapping::Skip;
    };
    let wave = ann
        .get(HOOK_WEIGHT_ANNOTATION)
        .and_then(Value::as_str)
        .and_then(|w| w.trim().parse::<i64>().ok())
        .unwrap_or(0);
    let delete_policy = ann
        .get(HOOK_DELETE_ANNOTATION)
        .and_then(Value::as_str)
        .map(|p| {
            p.split(',')
                .filter_map(|x| match x.trim().to_lowercase().as_str() {
                    "hook-succeeded" => Some("HookSucceeded"),
                    "hook-failed" => Some("HookFailed"),
                    "before-hook-creation" => Some("BeforeHookCreation"),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join(",")
        });
    Mapping::Hook {
        phase,
        wave,
        delete_policy,
    }
}

/// Rewrites `object` for Driftless: a mapped hook gets `driftless.dev/hook`,
/// `driftless.dev/sync-wave` and `driftless.dev/hook-delete-policy` annotations (the Helm ones
/// stay). Returns false when the object is to be left out ([`Mapping::Skip`]).
pub fn apply_mapping(object: &mut Value) -> bool {
    let mapping = map_hook(object);
    let Mapping::Hook {
        phase,
        wave,
        delete_policy,
    } = mapping
    else {
        return mapping != Mapping::Skip;
    };
    if let Some(ann) = object
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        ann.insert(HOOK_ANNOTATION.into(), phase.as_str().into());
        ann.insert(SYNC_WAVE_ANNOTATION.into(), wave.to_string().into());
        match delete_policy {
            Some(p) if !p.is_empty() => {
                ann.insert(HOOK_DELETE_POLICY_ANNOTATION.into(), p.into());
            }
            _ => {}
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(ann: Value) -> Value {
        json!({"kind": "Job", "metadata": {"name": "j", "annotations": ann}})
    }

    #[test]
    fn install_and_upgrade_hooks_map_as_argo_cd_maps_them() {
        let m = map_hook(&obj(
            json!({"helm.sh/hook": "pre-install,pre-upgrade", "helm.sh/hook-weight": "-5", "helm.sh/hook-delete-policy": "before-hook-creation,hook-succeeded"}),
        ));
        assert_eq!(
            m,
            Mapping::Hook {
                phase: HookPhase::PreSync,
                wave: -5,
                delete_policy: Some("BeforeHookCreation,HookSucceeded".into())
            }
        );
        let m = map_hook(&obj(json!({"helm.sh/hook": "post-upgrade"})));
        assert!(matches!(
            m,
            Mapping::Hook {
                phase: HookPhase::PostSync,
                wave: 0,
                delete_policy: None
            }
        ));
    }

    #[test]
    fn tests_and_delete_hooks_are_skipped_and_crd_install_is_a_resource() {
        assert_eq!(
            map_hook(&obj(json!({"helm.sh/hook": "test"}))),
            Mapping::Skip
        );
        assert_eq!(
            map_hook(&obj(json!({"helm.sh/hook": "pre-delete"}))),
            Mapping::Skip
        );
        assert_eq!(
            map_hook(&obj(json!({"helm.sh/hook": "crd-install"}))),
            Mapping::Resource
        );
        assert_eq!(map_hook(&obj(json!({"other": "x"}))), Mapping::Resource);
        assert_eq!(map_hook(&json!({"kind": "ConfigMap"})), Mapping::Resource);
    }

    #[test]
    fn applying_the_mapping_adds_driftless_annotations() {
        let mut o = obj(json!({"helm.sh/hook": "post-install", "helm.sh/hook-weight": "3"}));
        assert!(apply_mapping(&mut o));
        assert_eq!(
            o["metadata"]["annotations"]["driftless.dev/hook"],
            json!("PostSync")
        );
        assert_eq!(
            o["metadata"]["annotations"]["driftless.dev/sync-wave"],
            json!("3")
        );
        let mut t = obj(json!({"helm.sh/hook": "test"}));
        assert!(!apply_mapping(&mut t));
    }
}
