//! `.Capabilities` as `helm template` builds it (no cluster): the Kubernetes version given with
//! `--kube-version` (else Helm's default, one above its client-go's: v1.37.0 for Helm v4.3.2),
//! Helm's built-in API versions plus `--api-versions`, and Helm's own version.

use serde_json::{Map, Value};

use crate::Error;

/// Helm's built-in API versions, in Helm's order (client-go v0.37's scheme, group/version
/// only; no kind-qualified entries).
const DEFAULT_API_VERSIONS: &[&str] = &[
    "v1",
    "admissionregistration.k8s.io/v1",
    "admissionregistration.k8s.io/v1alpha1",
    "admissionregistration.k8s.io/v1beta1",
    "internal.apiserver.k8s.io/v1alpha1",
    "apps/v1",
    "apps/v1beta1",
    "apps/v1beta2",
    "authentication.k8s.io/v1",
    "authentication.k8s.io/v1alpha1",
    "authentication.k8s.io/v1beta1",
    "authorization.k8s.io/v1",
    "authorization.k8s.io/v1beta1",
    "autoscaling/v1",
    "autoscaling/v2",
    "batch/v1",
    "batch/v1beta1",
    "certificates.k8s.io/v1",
    "certificates.k8s.io/v1beta1",
    "certificates.k8s.io/v1alpha1",
    "coordination.k8s.io/v1alpha2",
    "coordination.k8s.io/v1beta1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "discovery.k8s.io/v1beta1",
    "events.k8s.io/v1",
    "events.k8s.io/v1beta1",
    "extensions/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1beta2",
    "flowcontrol.apiserver.k8s.io/v1beta3",
    "lifecycle.k8s.io/v1alpha1",
    "networking.k8s.io/v1",
    "networking.k8s.io/v1beta1",
    "node.k8s.io/v1",
    "node.k8s.io/v1alpha1",
    "node.k8s.io/v1beta1",
    "policy/v1",
    "policy/v1beta1",
    "rbac.authorization.k8s.io/v1",
    "rbac.authorization.k8s.io/v1beta1",
    "rbac.authorization.k8s.io/v1alpha1",
    "resource.k8s.io/v1",
    "resource.k8s.io/v1beta2",
    "resource.k8s.io/v1beta1",
    "resource.k8s.io/v1alpha3",
    "scheduling.k8s.io/v1alpha3",
    "scheduling.k8s.io/v1beta1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1beta1",
    "storage.k8s.io/v1",
    "storage.k8s.io/v1alpha1",
    "storagemigration.k8s.io/v1",
    "storagemigration.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1",
];

/// Helm's built-in API versions.
pub fn default_api_versions() -> Vec<String> {
    DEFAULT_API_VERSIONS
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
}

/// `.Capabilities.KubeVersion`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeVersion {
    /// `.Version` (and `.GitVersion`): as given, with a leading `v` added.
    pub version: String,
    /// The version normalized to `vMAJOR.MINOR.PATCH` (what `kubeVersion` constraints check).
    pub normalized: String,
    /// `.Major`.
    pub major: String,
    /// `.Minor`.
    pub minor: String,
}

impl KubeVersion {
    /// Parses `--kube-version` as Kubernetes' `ParseGeneric` does: an optional `v`, two or more
    /// numbers; anything after them (`-gke.1`) is kept in `.Version` only.
    ///
    /// # Errors
    /// Fewer than two numeric components.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let bad = || Error::BadKubeVersion(text.to_owned());
        let trimmed = text.trim();
        let body = trimmed.strip_prefix('v').unwrap_or(trimmed);
        let end = body
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(body.len());
        let parts: Vec<u64> = body[..end]
            .split('.')
            .map(|p| p.parse::<u64>().map_err(|_| bad()))
            .collect::<Result<_, _>>()?;
        if parts.len() < 2 {
            return Err(bad());
        }
        let version = if text.starts_with('v') {
            text.to_owned()
        } else {
            format!("v{text}")
        };
        let numbers: Vec<String> = parts.iter().map(u64::to_string).collect();
        Ok(KubeVersion {
            version,
            normalized: format!("v{}", numbers.join(".")),
            major: parts[0].to_string(),
            minor: parts[1].to_string(),
        })
    }

    /// Helm's default when no `--kube-version` is given: v1.37.0 (Helm v4.3.2, client-go v0.37).
    pub fn helm_default() -> Self {
        KubeVersion {
            version: "v1.37.0".into(),
            normalized: "v1.37.0".into(),
            major: "1".into(),
            minor: "37".into(),
        }
    }
}

/// `.Capabilities.HelmVersion`, as a Helm built with `go install` (no release stamps) reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelmVersion {
    /// `.Version`: `v4.3`.
    pub version: String,
    /// `.GitCommit`: empty.
    pub git_commit: String,
    /// `.GitTreeState`: empty.
    pub git_tree_state: String,
    /// `.GoVersion`: the Go that built the reference (`go1.26.8` on the project's machines).
    pub go_version: String,
    /// `.KubeClientVersion`: `v1.37`.
    pub kube_client_version: String,
}

impl Default for HelmVersion {
    fn default() -> Self {
        HelmVersion {
            version: "v4.3".into(),
            git_commit: String::new(),
            git_tree_state: String::new(),
            go_version: "go1.26.8".into(),
            kube_client_version: "v1.37".into(),
        }
    }
}

/// `.Capabilities`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// `.KubeVersion`.
    pub kube_version: KubeVersion,
    /// `.APIVersions` (`.Has` is an exact string match on these).
    pub api_versions: Vec<String>,
    /// `.HelmVersion`.
    pub helm_version: HelmVersion,
}

impl Capabilities {
    /// What `helm template` uses: `kube_version` (or Helm's default), Helm's API versions
    /// followed by `extra_api_versions`.
    pub fn for_template(kube_version: Option<KubeVersion>, extra_api_versions: &[String]) -> Self {
        let mut api_versions = default_api_versions();
        api_versions.extend(extra_api_versions.iter().cloned());
        Capabilities {
            kube_version: kube_version.unwrap_or_else(KubeVersion::helm_default),
            api_versions,
            helm_version: HelmVersion::default(),
        }
    }

    /// `.Capabilities.APIVersions.Has`.
    pub fn has(&self, api_version: &str) -> bool {
        self.api_versions.iter().any(|v| v == api_version)
    }

    /// What Go's `toJson .Capabilities` prints, as a value: exported fields by their Go names,
    /// `HelmVersion` by its JSON tags (empty commit and tree state omitted).
    pub fn to_json(&self) -> Value {
        let mut kv = Map::new();
        kv.insert("Version".into(), self.kube_version.version.clone().into());
        kv.insert("Major".into(), self.kube_version.major.clone().into());
        kv.insert("Minor".into(), self.kube_version.minor.clone().into());
        let mut hv = Map::new();
        let h = &self.helm_version;
        hv.insert("version".into(), h.version.clone().into());
        if !h.git_commit.is_empty() {
            hv.insert("git_commit".into(), h.git_commit.clone().into());
        }
        if !h.git_tree_state.is_empty() {
            hv.insert("git_tree_state".into(), h.git_tree_state.clone().into());
        }
        if !h.go_version.is_empty() {
            hv.insert("go_version".into(), h.go_version.clone().into());
        }
        hv.insert(
            "kube_client_version".into(),
            h.kube_client_version.clone().into(),
        );
        let mut m = Map::new();
        m.insert("KubeVersion".into(), Value::Object(kv));
        m.insert(
            "APIVersions".into(),
            Value::Array(
                self.api_versions
                    .iter()
                    .cloned()
                    .map(Value::String)
                    .collect(),
            ),
        );
        m.insert("HelmVersion".into(), Value::Object(hv));
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_versions_parse_as_kubernetes_parses_them() -> Result<(), Error> {
        let k = KubeVersion::parse("1.35.4")?;
        assert_eq!(
            (k.version.as_str(), k.major.as_str(), k.minor.as_str()),
            ("v1.35.4", "1", "35")
        );
        assert_eq!(KubeVersion::parse("v1.30")?.normalized, "v1.30");
        assert!(KubeVersion::parse("1").is_err());
        assert!(KubeVersion::parse("x.y").is_err());
        Ok(())
    }

    #[test]
    fn extra_api_versions_follow_helms_and_has_is_exact() {
        let caps = Capabilities::for_template(None, &["monitoring.coreos.com/v1".into()]);
        assert_eq!(caps.api_versions.first().map(String::as_str), Some("v1"));
        assert!(caps.has("monitoring.coreos.com/v1"));
        assert!(caps.has("policy/v1"));
        assert!(!caps.has("policy/v1/PodDisruptionBudget"));
        assert_eq!(caps.kube_version.version, "v1.37.0");
    }
}
