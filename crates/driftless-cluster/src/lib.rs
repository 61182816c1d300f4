//! The Kubernetes side of Driftless: discovery of kinds, reading live objects, server-side
//! apply with the field manager `driftless`, replace, delete, and listing what an application
//! owns. [`KubeCluster`] implements the sync engine's [`driftless_sync::Cluster`] trait.

mod discovery;
mod errors;
mod kube_cluster;

pub use discovery::{Kind, Kinds};
pub use errors::cluster_error;
pub use kube_cluster::{FIELD_MANAGER, KubeCluster};
