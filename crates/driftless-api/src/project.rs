//! `AppProject`: what the Applications of a project may deploy, from where, to where, and when.
//! Argo CD's field names, so an Argo CD project reads as is.

use kube_derive::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The project an Application without `spec.project` belongs to. When no AppProject of this
/// name exists, it permits everything (what Driftless did before projects).
pub const DEFAULT_PROJECT: &str = "default";

/// A project: the sources, destinations and kinds its Applications may use. It lives in the
/// controller's namespace, so tenants who may only write their own namespaces cannot widen it.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "driftless.dev",
    version = "v1alpha1",
    kind = "AppProject",
    namespaced,
    shortname = "appproj",
    shortname = "proj",
    category = "driftless",
    crates(
        kube_core = "::kube_core",
        k8s_openapi = "::k8s_openapi",
        schemars = "::schemars",
        serde = "::serde",
        serde_json = "::serde_json"
    )
)]
#[kube(printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#)]
#[serde(rename_all = "camelCase")]
pub struct AppProjectSpec {
    /// For people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Repository URLs the Applications may read, as globs (`*` stops at `/`, `**` does not);
    /// an entry starting with `!` denies what it matches, whatever else allows it. Empty:
    /// no repository.
    #[serde(default)]
    pub source_repos: Vec<String>,
    /// Where the Applications may deploy: a cluster (`server` or `name`) and a namespace, as
    /// globs; `!` denies. Empty: nowhere.
    #[serde(default)]
    pub destinations: Vec<ProjectDestination>,
    /// Cluster-scoped kinds that may be deployed. Empty (the default): none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cluster_resource_whitelist: Vec<ClusterResourceItem>,
    /// Cluster-scoped kinds that may not be deployed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cluster_resource_blacklist: Vec<ClusterResourceItem>,
    /// Namespaced kinds that may be deployed. Absent: every kind; an empty list: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_resource_whitelist: Option<Vec<GroupKind>>,
    /// Namespaced kinds that may not be deployed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespace_resource_blacklist: Vec<GroupKind>,
    /// Namespaces other than the controller's whose Applications may use this project (globs,
    /// or `/regex/`). The controller's own namespace is always allowed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_namespaces: Vec<String>,
    /// Report objects in the destination namespaces that no Application owns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orphaned_resources: Option<OrphanedResources>,
    /// Roles for the web UI and API's RBAC.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<ProjectRole>,
    /// When syncs may happen.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sync_windows: Vec<SyncWindow>,
    /// The ServiceAccount the Applications write as, by destination (Argo CD's shape); the
    /// first entry that matches wins. An Application's own `serviceAccountName` comes first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub destination_service_accounts: Vec<DestinationServiceAccount>,
}

/// Which ServiceAccount writes for a destination.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DestinationServiceAccount {
    /// API server URL glob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// Destination namespace glob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The ServiceAccount: `NAME` (in the destination namespace) or `NAMESPACE:NAME`.
    pub default_service_account: String,
}

/// A destination a project permits (or, with `!`, denies).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProjectDestination {
    /// API server URL glob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// Cluster name glob (`in-cluster` is the cluster the controller runs in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Namespace glob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// A group and kind, as globs (`*` for any; `""` is the core group).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupKind {
    /// API group glob.
    #[serde(default)]
    pub group: String,
    /// Kind glob.
    pub kind: String,
}

/// A cluster-scoped kind, and optionally the names of its objects, as globs.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClusterResourceItem {
    /// API group glob.
    #[serde(default)]
    pub group: String,
    /// Kind glob.
    pub kind: String,
    /// Object name glob; absent: every object of the kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Orphaned-resource monitoring.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrphanedResources {
    /// Warn (the condition `NoOrphanedResources` on the Application) when objects of its
    /// destination namespace belong to no Application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warn: Option<bool>,
    /// Objects never counted as orphans.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<OrphanedResourceKey>,
}

/// Objects that are not orphans, by group, kind and name (each a glob; absent: any).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrphanedResourceKey {
    /// API group glob (`""` is the core group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Kind glob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name glob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A role of the project, for the UI and API.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProjectRole {
    /// The role's name.
    pub name: String,
    /// For people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Casbin-style policy lines (`p, proj:NAME:ROLE, applications, sync, NAME/*, allow`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<String>,
    /// OIDC groups bound to the role.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

/// A time window in which syncs are allowed or denied.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncWindow {
    /// `allow` or `deny`.
    pub kind: String,
    /// When the window opens, as a cron expression (`0 22 * * *`).
    pub schedule: String,
    /// How long it stays open, as a duration (`1h`, `30m`).
    pub duration: String,
    /// The time zone of `schedule` (IANA name). Default UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Application name globs it applies to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applications: Vec<String>,
    /// Destination namespace globs it applies to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    /// Destination cluster globs it applies to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clusters: Vec<String>,
    /// Whether manual syncs are allowed while the window blocks automated ones.
    #[serde(default)]
    pub manual_sync: bool,
}
