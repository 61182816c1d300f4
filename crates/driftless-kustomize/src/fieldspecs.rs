//! kustomize's builtin field specifications: which fields each transformer touches, per kind.
//!
//! Each line is `kind|group|path|create`; an empty kind or group matches any.

use crate::fieldpath::{split_path, visit, visit_at};
use crate::resource::Resource;
use serde_json::Value;

/// Fields `commonLabels` (and `labels` with `includeSelectors`) set besides `metadata/labels`.
pub const COMMON_LABELS: &str = "\
||metadata/labels|true
Service||spec/selector|true
ReplicationController||spec/selector|true
ReplicationController||spec/template/metadata/labels|true
Deployment||spec/selector/matchLabels|true
Deployment||spec/template/metadata/labels|true
Deployment||spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels|false
Deployment||spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels|false
Deployment||spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels|false
Deployment||spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels|false
Deployment||spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels|false
ReplicaSet||spec/selector/matchLabels|true
ReplicaSet||spec/template/metadata/labels|true
DaemonSet||spec/selector/matchLabels|true
DaemonSet||spec/template/metadata/labels|true
StatefulSet|apps|spec/selector/matchLabels|true
StatefulSet|apps|spec/template/metadata/labels|true
StatefulSet|apps|spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels|false
StatefulSet|apps|spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels|false
StatefulSet|apps|spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels|false
StatefulSet|apps|spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels|false
StatefulSet|apps|spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels|false
StatefulSet|apps|spec/volumeClaimTemplates[]/metadata/labels|true
Job|batch|spec/selector/matchLabels|false
Job|batch|spec/template/metadata/labels|true
CronJob|batch|spec/jobTemplate/spec/selector/matchLabels|false
CronJob|batch|spec/jobTemplate/metadata/labels|true
CronJob|batch|spec/jobTemplate/spec/template/metadata/labels|true
PodDisruptionBudget|policy|spec/selector/matchLabels|false
NetworkPolicy|networking.k8s.io|spec/podSelector/matchLabels|false
NetworkPolicy|networking.k8s.io|spec/ingress/from/podSelector/matchLabels|false
NetworkPolicy|networking.k8s.io|spec/egress/to/podSelector/matchLabels|false
";

/// Template label fields (`labels` with `includeTemplates`).
pub const TEMPLATE_LABELS: &str = "\
ReplicationController||spec/template/metadata/labels|true
Deployment||spec/template/metadata/labels|true
ReplicaSet||spec/template/metadata/labels|true
DaemonSet||spec/template/metadata/labels|true
StatefulSet|apps|spec/template/metadata/labels|true
StatefulSet|apps|spec/volumeClaimTemplates[]/metadata/labels|true
Job|batch|spec/template/metadata/labels|true
CronJob|batch|spec/jobTemplate/metadata/labels|true
CronJob|batch|spec/jobTemplate/spec/template/metadata/labels|true
";

/// Fields `commonAnnotations` sets.
pub const COMMON_ANNOTATIONS: &str = "\
||metadata/annotations|true
ReplicationController||spec/template/metadata/annotations|true
Deployment||spec/template/metadata/annotations|true
ReplicaSet||spec/template/metadata/annotations|true
DaemonSet||spec/template/metadata/annotations|true
StatefulSet|apps|spec/template/metadata/annotations|true
Job|batch|spec/template/metadata/annotations|true
CronJob|batch|spec/jobTemplate/metadata/annotations|true
CronJob|batch|spec/jobTemplate/spec/template/metadata/annotations|true
";

/// Fields `replicas` sets.
pub const REPLICAS: &str = "\
Deployment||spec/replicas|true
ReplicationController||spec/replicas|true
ReplicaSet||spec/replicas|true
StatefulSet||spec/replicas|true
";

/// Where a pod spec sits in each kind that carries one.
pub const POD_SPEC_AT: &[(&str, &str)] = &[
    ("Pod", "spec"),
    ("PodTemplate", "template/spec"),
    ("Deployment", "spec/template/spec"),
    ("ReplicaSet", "spec/template/spec"),
    ("DaemonSet", "spec/template/spec"),
    ("StatefulSet", "spec/template/spec"),
    ("Job", "spec/template/spec"),
    ("CronJob", "spec/jobTemplate/spec/template/spec"),
    ("ReplicationController", "spec/template/spec"),
];

/// The API versions and kinds that are not namespaced in the Kubernetes schema kustomize v5.5
/// has built in (v1.21.2); every other one, an unknown kind or an unknown version of a known
/// kind included (`flowcontrol.apiserver.k8s.io/v1` `FlowSchema`, `ValidatingAdmissionPolicy`,
/// `TokenReview`), is namespaced as far as kustomize knows.
pub const CLUSTER_SCOPED: &[(&str, &str)] = &[
    (
        "admissionregistration.k8s.io/v1",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "ValidatingWebhookConfiguration",
    ),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
    ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"),
    ("apiregistration.k8s.io/v1", "APIService"),
    ("apiregistration.k8s.io/v1beta1", "APIService"),
    ("certificates.k8s.io/v1", "CertificateSigningRequest"),
    ("certificates.k8s.io/v1beta1", "CertificateSigningRequest"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema"),
    (
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "PriorityLevelConfiguration",
    ),
    ("networking.k8s.io/v1", "IngressClass"),
    ("networking.k8s.io/v1beta1", "IngressClass"),
    ("node.k8s.io/v1", "RuntimeClass"),
    ("node.k8s.io/v1beta1", "RuntimeClass"),
    ("policy/v1beta1", "PodSecurityPolicy"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding"),
    ("scheduling.k8s.io/v1", "PriorityClass"),
    ("scheduling.k8s.io/v1beta1", "PriorityClass"),
    ("storage.k8s.io/v1", "CSIDriver"),
    ("storage.k8s.io/v1", "CSINode"),
    ("storage.k8s.io/v1", "StorageClass"),
    ("storage.k8s.io/v1", "VolumeAttachment"),
    ("storage.k8s.io/v1beta1", "CSIDriver"),
    ("storage.k8s.io/v1beta1", "CSINode"),
    ("storage.k8s.io/v1beta1", "StorageClass"),
    ("storage.k8s.io/v1beta1", "VolumeAttachment"),
    ("v1", "ComponentStatus"),
    ("v1", "Namespace"),
    ("v1", "Node"),
    ("v1", "NodeProxyOptions"),
    ("v1", "PersistentVolume"),
];

/// Whether objects of this API version and kind live in a namespace, as kustomize decides it.
pub fn is_namespaced_gvk(api_version: &str, kind: &str) -> bool {
    !CLUSTER_SCOPED.contains(&(api_version, kind))
}

/// Whether objects of this kind live in a namespace in every API version kustomize knows of it
/// (for references, which name a kind without its version).
pub fn is_namespaced(kind: &str) -> bool {
    !CLUSTER_SCOPED.iter().any(|(_, k)| *k == kind)
}

/// Whether this resource lives in a namespace.
pub fn resource_is_namespaced(r: &Resource) -> bool {
    is_namespaced_gvk(&api_version(r.group(), r.version()), r.kind())
}

/// Whether objects of this id's group, version and kind live in a namespace.
pub fn id_is_namespaced(id: &crate::resource::ResId) -> bool {
    is_namespaced_gvk(&api_version(&id.group, &id.version), &id.kind)
}

fn api_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

/// One parsed field spec.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Kind to match (empty: any).
    pub kind: String,
    /// Group to match (empty: any).
    pub group: String,
    /// Path segments.
    pub path: Vec<String>,
    /// Whether missing fields are created.
    pub create: bool,
}

/// Parses a table of `kind|group|path|create` lines.
pub fn parse(table: &str) -> Vec<Spec> {
    table
        .lines()
        .filter_map(|l| {
            let mut p = l.split('|');
            let kind = p.next()?.to_string();
            let group = p.next()?.to_string();
            let path = p.next()?.to_string();
            let create = p.next()? == "true";
            Some(Spec {
                kind,
                group,
                path: split_path(&path),
                create,
            })
        })
        .collect()
}

impl Spec {
    /// A spec from a user's `FieldSpec`.
    pub fn from_field_spec(f: &crate::kustomization::FieldSpec) -> Self {
        Spec {
            kind: f.kind.clone().unwrap_or_default(),
            group: f.group.clone().unwrap_or_default(),
            path: split_path(&f.path),
            create: f.create,
        }
    }

    /// Whether the spec applies to `r`.
    pub fn matches(&self, r: &Resource) -> bool {
        (self.kind.is_empty() || self.kind == r.kind())
            && (self.group.is_empty() || self.group == r.group())
    }

    /// Applies `f` at every place the path reaches in `r`.
    pub fn apply(&self, r: &mut Resource, f: &mut dyn FnMut(&mut Value)) {
        if !self.matches(r) {
            return;
        }
        let mut obj = Value::Object(std::mem::take(&mut r.obj));
        visit(&mut obj, &self.path, self.create, f);
        if let Value::Object(m) = obj {
            r.obj = m;
        }
    }

    /// Like [`Spec::apply`], also giving `f` the JSON pointer of each place.
    pub fn apply_at(&self, r: &mut Resource, f: &mut dyn FnMut(&str, &mut Value)) {
        if !self.matches(r) {
            return;
        }
        let mut obj = Value::Object(std::mem::take(&mut r.obj));
        visit_at(&mut obj, &self.path, self.create, &mut String::new(), f);
        if let Value::Object(m) = obj {
            r.obj = m;
        }
    }
}
