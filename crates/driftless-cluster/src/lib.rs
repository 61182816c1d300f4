//! The Kubernetes side of Driftless: discovery of kinds, reading live objects, server-side
//! apply with the field manager `driftless`, replace, delete, and listing what an application
//! owns, reading Argo CD's and Flux's objects and adopting what they manage ([`KubeCluster::adopt`]), and the shared watch cache of managed objects ([`LiveCache`]). [`KubeCluster`] implements the sync engine's [`driftless_sync::Cluster`] trait.

mod adoption;
mod discovery;
mod errors;
mod forbidden;
mod foreign;
mod kube_cluster;
mod live_cache;
mod unowned;
mod watch_backoff;

pub use adoption::{Adopted, Adoptions};
pub use discovery::{Kind, Kinds};
pub use errors::cluster_error;
pub use forbidden::ForbiddenKind;
pub use foreign::Foreign;
pub use kube_cluster::{FIELD_MANAGER, Impersonated, KubeCluster};
pub use live_cache::LiveCache;
pub use unowned::Unowned;
pub use watch_backoff::WatchBackoff;
