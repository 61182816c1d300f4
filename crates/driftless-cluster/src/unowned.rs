//! Objects of a namespace that no Application owns: the candidates for an AppProject's
//! `orphanedResources` warning.

use driftless_sync::{APP_LABEL, ClusterError};
use futures::StreamExt;
use kube::api::{Api, ListParams};
use kube::core::DynamicObject;

use crate::errors::cluster_error;
use crate::forbidden::forbidden;
use crate::kube_cluster::KubeCluster;

/// How many kinds are listed at once.
const LIST_CONCURRENCY: usize = 8;

/// Kinds whose objects are records of what happened, not resources anyone declares.
const RECORDS: [(&str, &str); 2] = [("", "Event"), ("events.k8s.io", "Event")];

/// An object without Driftless's tracking label and without an owner.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Unowned {
    /// API group (`""` for the core group).
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Name.
    pub name: String,
}

impl KubeCluster {
    /// The top-level objects of `namespace` that carry no `driftless.dev/app` label: every
    /// namespaced kind that can be listed (Events aside), objects with an owner reference
    /// (a ReplicaSet of a Deployment, an EndpointSlice of a Service) left out. Sorted.
    ///
    /// Reads metadata only, one list request per kind; a kind the controller may not list
    /// (403) or that went away (404) is skipped.
    ///
    /// # Errors
    /// Any other failed list.
    pub async fn unowned_in(&self, namespace: &str) -> Result<Vec<Unowned>, ClusterError> {
        let kinds: Vec<_> = self
            .served_kinds()
            .await
            .into_iter()
            .filter(|k| k.namespaced && k.listable)
            .filter(|k| !RECORDS.contains(&(k.resource.group.as_str(), k.resource.kind.as_str())))
            .collect();
        let params = ListParams::default().labels(&format!("!{APP_LABEL}"));
        let lists: Vec<_> = futures::stream::iter(kinds)
            .map(|kind| {
                let api: Api<DynamicObject> =
                    Api::namespaced_with(self.client().clone(), namespace, &kind.resource);
                let params = params.clone();
                async move { (kind, api.list_metadata(&params).await) }
            })
            .buffer_unordered(LIST_CONCURRENCY)
            .collect()
            .await;
        let mut unowned = Vec::new();
        for (kind, list) in lists {
            let list = match list {
                Ok(list) => list,
                Err(kube::Error::Api(status)) if status.code == 404 => continue,
                Err(e) if forbidden(&e).is_some() => continue,
                Err(e) => return Err(cluster_error(e)),
            };
            for item in list.items {
                if item
                    .metadata
                    .owner_references
                    .as_ref()
                    .is_some_and(|o| !o.is_empty())
                {
                    continue;
                }
                unowned.push(Unowned {
                    group: kind.resource.group.clone(),
                    kind: kind.resource.kind.clone(),
                    name: item.metadata.name.unwrap_or_default(),
                });
            }
        }
        unowned.sort();
        Ok(unowned)
    }
}
