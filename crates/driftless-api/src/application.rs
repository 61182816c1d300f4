//! `Application.spec`: where the desired state comes from, where it goes, and how to sync it.

use kube_derive::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::status::ApplicationStatus;

/// An application: a path in a Git repository at a revision, kept equal to a namespace of the
/// cluster.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "driftless.dev",
    version = "v1alpha1",
    kind = "Application",
    namespaced,
    status = "ApplicationStatus",
    shortname = "app",
    category = "driftless",
    crates(
        kube_core = "::kube_core",
        k8s_openapi = "::k8s_openapi",
        schemars = "::schemars",
        serde = "::serde",
        serde_json = "::serde_json"
    )
)]
#[kube(printcolumn = r#"{"name":"Sync","type":"string","jsonPath":".status.sync.status"}"#)]
#[kube(printcolumn = r#"{"name":"Health","type":"string","jsonPath":".status.health.status"}"#)]
#[kube(
    printcolumn = r#"{"name":"Revision","type":"string","jsonPath":".status.sync.revision","priority":1}"#
)]
#[kube(printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSpec {
    /// The [`AppProject`](crate::AppProject) that bounds what the application may do. Default
    /// [`DEFAULT_PROJECT`](crate::DEFAULT_PROJECT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// The ServiceAccount, in the Application's namespace, that every write and dry run of the
    /// application is made as (Flux's impersonation), so Kubernetes RBAC bounds what it can do.
    /// Absent: the project's `destinationServiceAccounts`, else the controller's own rights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// Where the desired state comes from.
    pub source: Source,
    /// Where it is applied.
    pub destination: Destination,
    /// How and when to sync; without it, Driftless only reports drift (manual sync).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_policy: Option<SyncPolicy>,
    /// Differences to ignore when comparing desired and live objects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore_differences: Vec<IgnoreDifference>,
    /// How often the source is polled, as a Go-style duration (`90s`, `3m`, `1h`).
    /// Default `3m`, with jitter; a webhook refreshes at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    /// How many past syncs `status.history` keeps (Argo CD's field): default 10, at most
    /// 100; `0` keeps none (rollback by history id then has nothing to go back to).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_history_limit: Option<i64>,
    /// Suspends automated sync (new commits and self-heal); status is still reported and
    /// requested syncs still run. `driftless app rollback` sets it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suspend: bool,
    /// How SOPS-encrypted files of the source are decrypted (Flux's field). Absent: with the
    /// controller's default key Secret, if it has one (`--decryption-secret`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decryption: Option<Decryption>,
    /// Applications that must be Synced and Healthy at their current revision before this one
    /// syncs (Flux's field): until they are, it applies nothing and its Ready condition is
    /// False with reason `DependencyNotReady`, naming the first that is not. A cycle is
    /// `InvalidSpec`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<DependencyReference>,
}

/// Another Application, by name (docs/application.md, `spec.dependsOn`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub struct DependencyReference {
    /// Its name.
    pub name: String,
    /// Its namespace. Default: the namespace of the Application that names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// Decryption of SOPS files while rendering (docs/secrets.md).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Decryption {
    /// `sops`, the only provider.
    pub provider: String,
    /// The Secret, in the Application's namespace, holding the keys: every data key ending in
    /// `.agekey` holds age identities (`AGE-SECRET-KEY-1...` lines; comments ignored).
    /// Absent: the controller's default key Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalSecretReference>,
}

/// A Secret in the same namespace, by name.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct LocalSecretReference {
    /// The Secret's name.
    pub name: String,
}

/// A Git source.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    /// Repository URL: `https://`, `ssh://`, `git://` or `file://`.
    #[serde(rename = "repoURL")]
    pub repo_url: String,
    /// Branch, tag, commit, `HEAD`, or a semver range over tags. Default `HEAD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_revision: Option<String>,
    /// Directory inside the repository. Default: the root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Options for plain-manifest directories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory: Option<DirectorySource>,
    /// Options for Helm charts (Argo CD's `source.helm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helm: Option<HelmSource>,
}

/// How a Helm chart is rendered: Argo CD's `source.helm` fields, plus Flux's `valuesFrom`.
///
/// Values are applied as `helm template` applies them, lowest precedence first: the chart's
/// `values.yaml`, `valueFiles` in order, `values` (or `valuesObject`, which wins over `values`),
/// `valuesFrom` in order, then `parameters` and `fileParameters`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HelmSource {
    /// Values files, relative to the chart directory (`--values`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub value_files: Vec<String>,
    /// Inline values: a YAML string, or an object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_value")]
    pub values: Option<serde_json::Value>,
    /// Inline values as an object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_object")]
    pub values_object: Option<serde_json::Map<String, serde_json::Value>>,
    /// Values from ConfigMaps and Secrets in the Application's namespace (Flux's `valuesFrom`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values_from: Vec<ValuesReference>,
    /// `--set`-style parameters (`--set-string` when `forceString`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<HelmParameter>,
    /// `--set-file`-style parameters: a value path and a file of the repository.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub file_parameters: Vec<HelmFileParameter>,
    /// The release name (`.Release.Name`). Default: the Application's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_name: Option<String>,
    /// Leave out the charts' `crds/` directories.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skip_crds: bool,
    /// Leave out `helm.sh/hook: test` hooks (they are never applied; this also drops them from
    /// `driftless render`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skip_tests: bool,
    /// Do not validate values against `values.schema.json`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skip_schema_validation: bool,
    /// `.Capabilities.KubeVersion` (`--kube-version`). Default: the destination cluster's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_version: Option<String>,
    /// `.Capabilities.APIVersions` (`--api-versions`), added to Helm's built-in set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_versions: Vec<String>,
    /// A missing file of `valueFiles` is skipped instead of failing the render.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignore_missing_value_files: bool,
}

/// One `--set` parameter.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HelmParameter {
    /// The value path, in `--set` syntax (`a.b`, `list[0]`, `a\.b`).
    pub name: String,
    /// The value, typed as `--set` types it unless `forceString`.
    #[serde(default)]
    pub value: String,
    /// Keep the value a string (`--set-string`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub force_string: bool,
}

/// One `--set-file` parameter.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HelmFileParameter {
    /// The value path, in `--set` syntax.
    pub name: String,
    /// A file of the repository, relative to the chart directory, whose content is the value.
    pub path: String,
}

/// Values read from a ConfigMap or Secret key (Flux's `valuesFrom`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValuesReference {
    /// `ConfigMap` or `Secret`.
    pub kind: String,
    /// Its name, in the Application's namespace.
    pub name: String,
    /// The key holding the values. Default `values.yaml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values_key: Option<String>,
    /// When set, the key's content is one value at this `--set` path instead of a values file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_path: Option<String>,
    /// A missing object or key is skipped instead of failing the render.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
}

/// Any JSON value, kept as given (a structural schema needs the marker).
fn any_value(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "x-kubernetes-preserve-unknown-fields": true })
}

/// Any JSON object, kept as given.
fn any_object(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "object", "x-kubernetes-preserve-unknown-fields": true })
}

/// How a directory of plain manifests is read.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DirectorySource {
    /// Read subdirectories too.
    #[serde(default)]
    pub recurse: bool,
    /// Only files matching this glob (or `{a,b}` list of globs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<String>,
    /// Skip files matching this glob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude: Option<String>,
}

/// Where objects go.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Destination {
    /// API server URL: the cluster Driftless runs in (`https://kubernetes.default.svc`, or
    /// empty), or the `server` of a cluster Secret (`driftless.dev/secret-type: cluster`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// Cluster name instead of `server`: `in-cluster`, or the `name` of a cluster Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Namespace for namespaced objects that name none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl Application {
    /// The namespace for the Application's namespaced objects that name none:
    /// `spec.destination.namespace`, else (unset or empty) the Application's own namespace.
    ///
    /// ```
    /// use driftless_api::Application;
    /// let mut app: Application = serde_json::from_value(serde_json::json!({
    ///     "apiVersion": "driftless.dev/v1alpha1", "kind": "Application",
    ///     "metadata": {"name": "guestbook", "namespace": "apps"},
    ///     "spec": {"source": {"repoURL": "https://git.example/guestbook.git"}, "destination": {}},
    /// }))?;
    /// assert_eq!(app.destination_namespace(), "apps");
    /// app.spec.destination.namespace = Some("guestbook".to_owned());
    /// assert_eq!(app.destination_namespace(), "guestbook");
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn destination_namespace(&self) -> String {
        self.spec
            .destination
            .namespace
            .clone()
            .filter(|namespace| !namespace.is_empty())
            .or_else(|| self.metadata.namespace.clone())
            .unwrap_or_default()
    }

    /// The name of the application's project: `spec.project`, else (unset or empty)
    /// [`DEFAULT_PROJECT`](crate::DEFAULT_PROJECT).
    pub fn project(&self) -> &str {
        self.spec
            .project
            .as_deref()
            .filter(|p| !p.is_empty())
            .unwrap_or(crate::DEFAULT_PROJECT)
    }
}

/// Sync behaviour.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncPolicy {
    /// Sync automatically when Git or the cluster changes. Absent: manual.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automated: Option<Automated>,
    /// `KEY=VALUE` options: `CreateNamespace`, `Prune`, `PruneLast`, `PrunePropagationPolicy`,
    /// `ApplyOutOfSyncOnly`, `Replace`, `Validate`, `Force`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sync_options: Vec<String>,
    /// Retry of failed syncs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<Retry>,
}

/// Automated sync.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Automated {
    /// Delete objects Git no longer declares.
    #[serde(default)]
    pub prune: bool,
    /// Revert changes made in the cluster (drift) as they happen.
    #[serde(default)]
    pub self_heal: bool,
    /// Allow a sync that would leave the application empty (prune everything because Git
    /// renders nothing).
    #[serde(default)]
    pub allow_empty: bool,
}

/// Retry with exponential backoff.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Retry {
    /// Retries after the first attempt. Default 0; a negative value retries forever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Delays between retries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<Backoff>,
}

/// Delays between retries: `duration`, then times `factor` each time, at most `maxDuration`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Backoff {
    /// First delay, e.g. `5s` (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// Multiplier. Default 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<i64>,
    /// Longest delay, e.g. `3m` (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_duration: Option<String>,
}

/// Fields to leave out of the comparison for matching objects.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IgnoreDifference {
    /// API group; empty for the core group, `*` for any.
    #[serde(default)]
    pub group: String,
    /// Kind, or `*` for any.
    pub kind: String,
    /// Only the object with this name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Only objects in this namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// RFC 6901 pointers to ignore, e.g. `/spec/replicas`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub json_pointers: Vec<String>,
    /// jq path expressions to ignore, e.g. `.spec.template.spec.containers[] | select(.name == "istio-proxy")`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jq_path_expressions: Vec<String>,
    /// Ignore every field owned by these field managers (e.g. an autoscaler).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub managed_fields_managers: Vec<String>,
}
