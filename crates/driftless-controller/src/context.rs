//! What every reconciliation shares: the client, the cluster's kinds, the Git mirror cache.

use std::path::PathBuf;
use std::sync::Arc;

use driftless_cluster::KubeCluster;
use driftless_source::Cache;
use kube::Client;

/// Shared state of the controller.
pub struct Context {
    /// The Kubernetes client.
    pub client: Client,
    /// The cluster, with its discovered kinds.
    pub cluster: KubeCluster,
    /// Git mirrors, one per repository URL.
    pub cache: Arc<Cache>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context").finish_non_exhaustive()
    }
}

impl Context {
    /// Discovers the cluster's kinds and opens the Git cache in `cache_dir`.
    pub async fn new(client: Client, cache_dir: PathBuf) -> Result<Self, crate::Error> {
        let cluster = KubeCluster::new(client.clone()).await?;
        Ok(Self {
            client,
            cluster,
            cache: Arc::new(Cache::new(cache_dir)),
        })
    }
}
