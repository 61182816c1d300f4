//! kustomize's builtin field specifications: which fields each transformer touches, per kind.
//!
//! Each line is `kind|group|path|create`; an empty kind or group matches any.

use crate::fieldpath::{split_path, visit};
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

/// Kinds that are not namespaced (kustomize assumes unknown kinds are). kustomize v5.5 does not
/// know `ValidatingAdmissionPolicy` and its binding, so they get a namespace like unknown kinds.
pub const CLUSTER_SCOPED: &[&str] = &[
    "APIService",
    "CertificateSigningRequest",
    "ClusterRole",
    "ClusterRoleBinding",
    "ComponentStatus",
    "CSIDriver",
    "CSINode",
    "CustomResourceDefinition",
    "FlowSchema",
    "IngressClass",
    "MutatingWebhookConfiguration",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PodSecurityPolicy",
    "PriorityClass",
    "PriorityLevelConfiguration",
    "RuntimeClass",
    "SelfSubjectAccessReview",
    "SelfSubjectRulesReview",
    "StorageClass",
    "SubjectAccessReview",
    "TokenReview",
    "ValidatingWebhookConfiguration",
    "VolumeAttachment",
];

/// Whether objects of this kind live in a namespace.
pub fn is_namespaced(kind: &str) -> bool {
    !CLUSTER_SCOPED.contains(&kind)
}

/// Whether this resource lives in a namespace: cluster-scoped core kinds count only in the core
/// group (a `Namespace` of another API group is an ordinary namespaced object).
pub fn resource_is_namespaced(r: &Resource) -> bool {
    kind_is_namespaced(r.kind(), r.group())
}

/// Whether objects of this id's kind and group live in a namespace.
pub fn id_is_namespaced(id: &crate::resource::ResId) -> bool {
    kind_is_namespaced(&id.kind, &id.group)
}

fn kind_is_namespaced(kind: &str, group: &str) -> bool {
    let core_only = matches!(
        kind,
        "Namespace" | "Node" | "PersistentVolume" | "ComponentStatus"
    );
    if core_only && !group.is_empty() {
        return true;
    }
    is_namespaced(kind)
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
}
