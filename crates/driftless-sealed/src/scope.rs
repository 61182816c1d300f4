//! Sealing scopes and the annotations and RSA-OAEP labels that express them.

use std::fmt;
use std::str::FromStr;

/// The annotation that makes a SealedSecret namespace-wide.
pub const NAMESPACE_WIDE_ANNOTATION: &str = "sealedsecrets.bitnami.com/namespace-wide";
/// The annotation that makes a SealedSecret cluster-wide.
pub const CLUSTER_WIDE_ANNOTATION: &str = "sealedsecrets.bitnami.com/cluster-wide";

/// Where a sealed value may be unsealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// Only into a Secret of the same name in the same namespace (the default).
    #[default]
    Strict,
    /// Into a Secret of any name in the same namespace.
    NamespaceWide,
    /// Into any Secret in any namespace.
    ClusterWide,
}

impl Scope {
    /// The scope a Secret's annotations ask for, as the controller reads them: cluster-wide
    /// wins over namespace-wide; only the value `"true"` counts.
    pub fn from_annotations(
        annotations: Option<&serde_json::Map<String, serde_json::Value>>,
    ) -> Self {
        let set = |key: &str| {
            annotations
                .and_then(|a| a.get(key))
                .and_then(serde_json::Value::as_str)
                == Some("true")
        };
        if set(CLUSTER_WIDE_ANNOTATION) {
            Scope::ClusterWide
        } else if set(NAMESPACE_WIDE_ANNOTATION) {
            Scope::NamespaceWide
        } else {
            Scope::Strict
        }
    }

    /// Rewrites the scope annotations of `annotations` to say this scope (both removed for
    /// strict).
    pub fn write_annotations(self, annotations: &mut serde_json::Map<String, serde_json::Value>) {
        annotations.remove(NAMESPACE_WIDE_ANNOTATION);
        annotations.remove(CLUSTER_WIDE_ANNOTATION);
        match self {
            Scope::Strict => {}
            Scope::NamespaceWide => {
                annotations.insert(NAMESPACE_WIDE_ANNOTATION.into(), "true".into());
            }
            Scope::ClusterWide => {
                annotations.insert(CLUSTER_WIDE_ANNOTATION.into(), "true".into());
            }
        }
    }

    /// The RSA-OAEP label binding a value to this scope's target.
    pub fn label(self, namespace: &str, name: &str) -> Vec<u8> {
        match self {
            Scope::Strict => format!("{namespace}/{name}").into_bytes(),
            Scope::NamespaceWide => namespace.as_bytes().to_vec(),
            Scope::ClusterWide => Vec::new(),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scope::Strict => "strict",
            Scope::NamespaceWide => "namespace-wide",
            Scope::ClusterWide => "cluster-wide",
        })
    }
}

impl FromStr for Scope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "" | "strict" => Ok(Scope::Strict),
            "namespace-wide" => Ok(Scope::NamespaceWide),
            "cluster-wide" => Ok(Scope::ClusterWide),
            other => Err(format!(
                "scope {other:?}: must be one of strict, namespace-wide, cluster-wide"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_bind_name_and_namespace_as_the_scope_says() {
        assert_eq!(Scope::Strict.label("ns", "db"), b"ns/db");
        assert_eq!(Scope::NamespaceWide.label("ns", "db"), b"ns");
        assert!(Scope::ClusterWide.label("ns", "db").is_empty());
    }

    #[test]
    fn annotations_round_trip_and_cluster_wide_wins() {
        let mut a = serde_json::Map::new();
        Scope::NamespaceWide.write_annotations(&mut a);
        assert_eq!(Scope::from_annotations(Some(&a)), Scope::NamespaceWide);
        a.insert(CLUSTER_WIDE_ANNOTATION.into(), "true".into());
        assert_eq!(Scope::from_annotations(Some(&a)), Scope::ClusterWide);
        Scope::Strict.write_annotations(&mut a);
        assert!(a.is_empty());
        a.insert(CLUSTER_WIDE_ANNOTATION.into(), "yes".into());
        assert_eq!(Scope::from_annotations(Some(&a)), Scope::Strict);
    }
}
