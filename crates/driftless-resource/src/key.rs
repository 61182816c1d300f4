//! The identity of a Kubernetes object: group, kind, namespace and name.

use std::fmt;

/// Identifies one Kubernetes object the way the API server does: API group (without version),
/// kind, namespace (empty for cluster-scoped objects or when the manifest does not set one) and
/// name.
///
/// The version is deliberately not part of the key: `apps/v1` and `apps/v1beta2` Deployments with
/// the same name are the same object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceKey {
    /// API group, `""` for the core group (`apiVersion: v1`).
    pub group: String,
    /// Kind, e.g. `Deployment`.
    pub kind: String,
    /// Namespace, `""` when not set.
    pub namespace: String,
    /// Object name.
    pub name: String,
}

impl ResourceKey {
    /// Builds a key from an `apiVersion` (`group/version` or `version`), kind, namespace and name.
    pub fn new(api_version: &str, kind: &str, namespace: &str, name: &str) -> Self {
        Self {
            group: crate::api_group(api_version).to_owned(),
            kind: kind.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        }
    }
}

/// `group/kind/namespace/name`, the form Argo CD users know from tracking ids.
impl fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}",
            self.group, self.kind, self.namespace, self.name
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_group_is_empty_and_version_is_dropped() {
        let key = ResourceKey::new("v1", "ConfigMap", "default", "a");
        assert_eq!(key.group, "");
        assert_eq!(key.to_string(), "/ConfigMap/default/a");
        let key = ResourceKey::new("apps/v1", "Deployment", "", "web");
        assert_eq!(key.group, "apps");
        assert_eq!(key.to_string(), "apps/Deployment//web");
    }

    #[test]
    fn keys_differing_only_in_version_are_equal() {
        assert_eq!(
            ResourceKey::new("apps/v1", "Deployment", "ns", "x"),
            ResourceKey::new("apps/v1beta2", "Deployment", "ns", "x")
        );
    }
}
