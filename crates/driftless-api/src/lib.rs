//! Driftless custom resources: the `Application` (`driftless.dev/v1alpha1`), its status,
//! conditions and reasons, the `AppProject` that bounds what Applications may do, and the
//! notification `Provider` and `Alert`. Field names follow Argo CD where the concept is the same and Flux
//! where Argo CD has none, so moving from either is mechanical.
//!
//! Pure types: no client, no runtime. [`crd_yaml`] renders the CustomResourceDefinition that
//! `deploy/` ships.

mod application;
mod conditions;
mod notification;
mod operation;
mod project;
mod status;

pub use application::{
    Application, ApplicationSpec, Automated, Backoff, Decryption, DependencyReference, Destination,
    DirectorySource, HelmFileParameter, HelmParameter, HelmSource, IgnoreDifference,
    LocalSecretReference, Retry, Source, SyncPolicy, ValuesReference,
};
pub use conditions::{Condition, ConditionStatus, condition_types, reasons};
pub use notification::{
    Alert, AlertSpec, EventSource, LocalObjectReference, NotificationStatus, Provider, ProviderSpec,
};
pub use operation::{FINALIZER, SYNC_REQUEST_ANNOTATION, SyncRequest};
pub use project::{
    AppProject, AppProjectSpec, ClusterResourceItem, DEFAULT_PROJECT, DestinationServiceAccount,
    GroupKind, OrphanedResourceKey, OrphanedResources, ProjectDestination, ProjectRole, SyncWindow,
};
pub use status::{
    ApplicationStatus, HealthState, HistoryEntry, OperationPhase, OperationState, ResourceResult,
    ResourceStatus, SyncProgress, SyncState, SyncStatusCode,
};

use kube_core::CustomResourceExt;

/// The API group of every Driftless resource.
pub const GROUP: &str = "driftless.dev";
/// The served version.
pub const VERSION: &str = "v1alpha1";

/// Every Driftless CRD (Application, AppProject, Provider, Alert) as one YAML stream, as
/// `deploy/crd.yaml` holds it.
pub fn crd_yaml() -> Result<String, serde_saphyr::SerializeError> {
    let application = serde_saphyr::to_string(&Application::crd())?;
    let project = serde_saphyr::to_string(&AppProject::crd())?;
    let provider = serde_saphyr::to_string(&Provider::crd())?;
    let alert = serde_saphyr::to_string(&Alert::crd())?;
    Ok(format!(
        "{application}---\n{project}---\n{provider}---\n{alert}"
    ))
}
