//! Which kinds the cluster serves, and where.

use std::collections::BTreeMap;

use kube::Client;
use kube::discovery::{ApiCapabilities, ApiResource, Discovery, Scope, verbs};

/// One kind the cluster serves.
#[derive(Debug, Clone)]
pub struct Kind {
    /// Group, version (the preferred one), kind and plural.
    pub resource: ApiResource,
    /// Whether objects of this kind live in a namespace.
    pub namespaced: bool,
    /// Whether it can be listed (and so can hold objects to prune).
    pub listable: bool,
    /// Whether it can be watched (and so kept in the live cache).
    pub watchable: bool,
}

/// The kinds the cluster serves, by (group, kind).
#[derive(Debug, Clone, Default)]
pub struct Kinds {
    by_group_kind: BTreeMap<(String, String), Kind>,
}

impl Kinds {
    /// Reads every served kind, with aggregated discovery (two requests).
    pub async fn discover(client: Client) -> Result<Self, kube::Error> {
        let discovery = Discovery::new(client).run_aggregated().await?;
        let mut by_group_kind = BTreeMap::new();
        for group in discovery.groups() {
            for (resource, capabilities) in group.recommended_resources() {
                by_group_kind.insert(
                    (resource.group.clone(), resource.kind.clone()),
                    kind(resource, &capabilities),
                );
            }
        }
        Ok(Self { by_group_kind })
    }

    /// The kind, if served.
    pub fn get(&self, group: &str, kind: &str) -> Option<&Kind> {
        self.by_group_kind.get(&(group.to_owned(), kind.to_owned()))
    }

    /// Every served kind.
    pub fn iter(&self) -> impl Iterator<Item = &Kind> {
        self.by_group_kind.values()
    }

    /// Whether each kind is namespaced.
    pub fn scopes(&self) -> BTreeMap<(String, String), bool> {
        self.by_group_kind
            .iter()
            .map(|(key, kind)| (key.clone(), kind.namespaced))
            .collect()
    }
}

fn kind(resource: ApiResource, capabilities: &ApiCapabilities) -> Kind {
    Kind {
        namespaced: capabilities.scope == Scope::Namespaced,
        listable: capabilities.supports_operation(verbs::LIST),
        watchable: capabilities.supports_operation(verbs::WATCH),
        resource,
    }
}
