//! Apply order: sync waves first, then kinds in dependency order, then names.

use driftless_resource::ResourceKey;
use serde_json::Value;

/// Annotation holding an object's sync wave (an integer, default 0). Lower waves go first.
pub const SYNC_WAVE_ANNOTATION: &str = "driftless.dev/sync-wave";

/// Kinds in the order they must exist for the next ones to work: namespaces and cluster policy
/// first, then configuration and storage, CRDs, RBAC, services, then workloads, then whatever
/// routes traffic to them. Kinds not listed (custom resources) go last, so their CRDs exist.
/// This is the order Helm installs in, which Argo CD also follows; users rely on it.
const KIND_ORDER: &[&str] = &[
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
];

/// Position of a kind in [`KIND_ORDER`]; unknown kinds sort after every known one.
pub fn kind_rank(kind: &str) -> usize {
    KIND_ORDER
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(KIND_ORDER.len())
}

/// The sort key of an object within a wave: kind rank, then kind (for unknown kinds), namespace, name.
pub fn apply_order(key: &ResourceKey) -> (usize, &str, &str, &str) {
    (kind_rank(&key.kind), &key.kind, &key.namespace, &key.name)
}

/// An unparsable sync-wave annotation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: annotation {SYNC_WAVE_ANNOTATION}={value:?} is not an integer")]
pub struct WaveError {
    /// The object.
    pub key: ResourceKey,
    /// The annotation's value.
    pub value: String,
}

/// The object's sync wave (default 0).
pub fn wave(object: &Value, key: &ResourceKey) -> Result<i32, WaveError> {
    match object
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(SYNC_WAVE_ANNOTATION))
    {
        None => Ok(0),
        Some(Value::String(s)) => s.trim().parse().map_err(|_| WaveError {
            key: key.clone(),
            value: s.clone(),
        }),
        Some(other) => Err(WaveError {
            key: key.clone(),
            value: other.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn namespaces_and_crds_come_before_workloads_and_custom_resources() {
        assert!(kind_rank("Namespace") < kind_rank("ConfigMap"));
        assert!(kind_rank("ConfigMap") < kind_rank("Deployment"));
        assert!(kind_rank("CustomResourceDefinition") < kind_rank("Deployment"));
        assert!(kind_rank("Deployment") < kind_rank("Widget"));
        assert_eq!(kind_rank("Widget"), kind_rank("Gadget"));
    }

    #[test]
    fn wave_defaults_to_zero_and_rejects_non_integers() {
        let key = ResourceKey::new("v1", "ConfigMap", "a", "b");
        assert_eq!(wave(&json!({}), &key), Ok(0));
        let early = json!({"metadata": {"annotations": {SYNC_WAVE_ANNOTATION: "-2"}}});
        assert_eq!(wave(&early, &key), Ok(-2));
        let bad = json!({"metadata": {"annotations": {SYNC_WAVE_ANNOTATION: "soon"}}});
        let err = wave(&bad, &key).map(|_| ()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/ConfigMap/a/b: annotation driftless.dev/sync-wave=\"soon\" is not an integer"
        );
    }
}
