//! [`KubeCluster`]: the sync engine's cluster operations over the Kubernetes API.

use std::collections::BTreeMap;
use std::time::Duration;

use driftless_resource::ResourceKey;
use driftless_sync::{APP_LABEL, ApplyMode, Cluster, ClusterError, ErrorKind, Propagation};
use futures::StreamExt;
use kube::Client;
use kube::api::{
    Api, DeleteParams, DynamicObject, GetParams, ListParams, Patch, PatchParams, PostParams,
    ValidationDirective,
};
use serde_json::Value;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::RwLock;
use tokio::sync::mpsc::UnboundedSender;

use crate::discovery::{Kind, Kinds};
use crate::errors::cluster_error;
use crate::forbidden::{Forbidden, ForbiddenKind, forbidden, to_list};
use crate::live_cache::LiveCache;

/// The field manager of every server-side apply Driftless makes.
pub const FIELD_MANAGER: &str = "driftless";

/// How many list requests run at once when looking for an application's objects: enough to
/// hide latency, few enough not to trip the API server's rate limits.
const LIST_CONCURRENCY: usize = 8;

/// A cluster reached through a [`kube::Client`], with a cache of its kinds.
///
/// # Narrowed RBAC
/// A kind the client may not list or watch (403 Forbidden) is skipped, not an error: it is
/// reported by [`KubeCluster::forbidden_kinds`], and its objects are invisible, so they are never
/// pruned. Writing an object of such a kind still goes to the API server, which refuses it with
/// its forbidden error.
pub struct KubeCluster {
    client: Client,
    kinds: RwLock<Kinds>,
    live: Option<Arc<LiveCache>>,
    /// The kinds the last uncached [`Cluster::list_owned`] found forbidden.
    listed_forbidden: Mutex<Forbidden>,
}

impl std::fmt::Debug for KubeCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeCluster").finish_non_exhaustive()
    }
}

impl KubeCluster {
    /// Connects: discovers the served kinds.
    pub async fn new(client: Client) -> Result<Self, ClusterError> {
        let kinds = Kinds::discover(client.clone())
            .await
            .map_err(cluster_error)?;
        Ok(Self {
            client,
            kinds: RwLock::new(kinds),
            live: None,
            listed_forbidden: Mutex::new(Forbidden::new()),
        })
    }

    /// Connects and keeps every labelled object of every kind in a [`LiveCache`] fed by
    /// watches; each change is announced on `notify` with the owning application's id.
    /// Listing what an application owns then costs no request once the watches have listed.
    pub async fn watched(
        client: Client,
        notify: UnboundedSender<String>,
    ) -> Result<Self, ClusterError> {
        let mut cluster = Self::new(client.clone()).await?;
        let live = LiveCache::new(client, notify);
        live.watch_kinds(cluster.kinds.read().await.iter());
        cluster.live = Some(live);
        Ok(cluster)
    }

    /// The live cache, when the cluster is [watched](Self::watched).
    pub fn live_cache(&self) -> Option<&Arc<LiveCache>> {
        self.live.as_ref()
    }

    /// Stops the watches of the live cache ([`LiveCache::stop`]), when there are any.
    pub fn stop(&self) {
        if let Some(live) = &self.live {
            live.stop();
        }
    }

    /// The kinds the API server refuses to list or watch with 403 Forbidden (RBAC narrowed to
    /// fewer kinds), sorted by group and kind, each with the API server's message.
    ///
    /// Objects of these kinds are invisible: [`Cluster::list_owned`] never returns them, so
    /// they are never pruned and never counted as owned. An object of such a kind declared in
    /// Git fails its sync with the API server's forbidden error. A kind leaves the list once it
    /// is permitted again (the watches retry with backoff; the uncached path on its next list).
    ///
    /// When [watched](Self::watched) and synced, this is what the watches found; before, it also
    /// holds what the last uncached [`Cluster::list_owned`] found.
    pub fn forbidden_kinds(&self) -> Vec<ForbiddenKind> {
        let listed = self
            .listed_forbidden
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match &self.live {
            Some(live) if live.synced() => live.forbidden(),
            Some(live) => {
                let mut all: Forbidden = live
                    .forbidden()
                    .into_iter()
                    .map(|k| ((k.group, k.kind), k.message))
                    .collect();
                all.extend(listed);
                to_list(&all)
            }
            None => to_list(&listed),
        }
    }

    /// Keeps what a write returned, so the next comparison sees it even before its watch event.
    fn record(&self, object: &Value) {
        if let (Some(live), Ok((key, _))) = (&self.live, key_of(object)) {
            live.record(&key, object);
        }
    }

    /// Every served kind, as last discovered.
    pub(crate) async fn served_kinds(&self) -> Vec<Kind> {
        self.kinds.read().await.iter().cloned().collect()
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The API for `key` at `api_version` (the version the object is written in, so the body
    /// and the URL agree).
    async fn api(
        &self,
        client: &Client,
        key: &ResourceKey,
        api_version: &str,
    ) -> Result<Api<DynamicObject>, ClusterError> {
        let kind = self
            .kinds
            .read()
            .await
            .get(&key.group, &key.kind)
            .cloned()
            .ok_or_else(|| unknown_kind(key))?;
        Ok(Self::api_for(client, &kind, api_version, &key.namespace))
    }

    fn api_for(
        client: &Client,
        kind: &Kind,
        api_version: &str,
        namespace: &str,
    ) -> Api<DynamicObject> {
        let mut resource = kind.resource.clone();
        if let Some(version) = version_of(api_version) {
            resource.version = version.to_owned();
            resource.api_version = api_version.to_owned();
        }
        if kind.namespaced {
            Api::namespaced_with(client.clone(), namespace, &resource)
        } else {
            Api::all_with(client.clone(), &resource)
        }
    }

    /// The API and name for an object body.
    async fn api_of(
        &self,
        client: &Client,
        object: &Value,
    ) -> Result<(Api<DynamicObject>, String), ClusterError> {
        let (key, api_version) = key_of(object)?;
        let api = self.api(client, &key, &api_version).await?;
        Ok((api, key.name))
    }

    /// This cluster, writing as `client` (a client that impersonates a ServiceAccount): applies,
    /// dry runs, replaces, creates and deletes go through it; reads, the kinds and the live
    /// cache stay this cluster's, shared by every application.
    pub fn writing_as(&self, client: Client) -> Impersonated<'_> {
        Impersonated { base: self, client }
    }

    /// What a write returned, as JSON, recorded in the live cache unless it was a dry run.
    fn kept(&self, stored: &DynamicObject, dry_run: bool) -> Result<Value, ClusterError> {
        let stored = to_value(stored)?;
        if !dry_run {
            self.record(&stored);
        }
        Ok(stored)
    }

    async fn apply_as(
        &self,
        client: &Client,
        object: &Value,
        mode: ApplyMode,
    ) -> Result<Value, ClusterError> {
        let (api, name) = self.api_of(client, object).await?;
        let params = PatchParams {
            dry_run: mode.dry_run,
            force: mode.force,
            field_manager: Some(FIELD_MANAGER.to_owned()),
            field_validation: Some(if mode.validate {
                ValidationDirective::Strict
            } else {
                ValidationDirective::Ignore
            }),
        };
        let stored = api
            .patch(&name, &params, &Patch::Apply(object))
            .await
            .map_err(cluster_error)?;
        self.kept(&stored, mode.dry_run)
    }

    async fn replace_as(
        &self,
        client: &Client,
        object: &Value,
        dry_run: bool,
    ) -> Result<Value, ClusterError> {
        let (api, name) = self.api_of(client, object).await?;
        let params = PostParams {
            dry_run,
            field_manager: Some(FIELD_MANAGER.to_owned()),
        };
        let mut body = to_dynamic(object)?;
        let stored = match api.get_opt(&name).await.map_err(cluster_error)? {
            Some(live) => {
                // PUT needs the current version; everything else comes from Git.
                body.metadata.resource_version = live.metadata.resource_version;
                api.replace(&name, &params, &body).await
            }
            None => api.create(&params, &body).await,
        }
        .map_err(cluster_error)?;
        self.kept(&stored, dry_run)
    }

    async fn create_as(&self, client: &Client, object: &Value) -> Result<Value, ClusterError> {
        let (api, _) = self.api_of(client, object).await?;
        let params = PostParams {
            dry_run: false,
            field_manager: Some(FIELD_MANAGER.to_owned()),
        };
        let created = api
            .create(&params, &to_dynamic(object)?)
            .await
            .map_err(cluster_error)?;
        to_value(&created)
    }

    async fn delete_as(
        &self,
        client: &Client,
        key: &ResourceKey,
        api_version: &str,
        propagation: Propagation,
    ) -> Result<(), ClusterError> {
        let api = self.api(client, key, api_version).await?;
        let params = match propagation {
            Propagation::Foreground => DeleteParams::foreground(),
            Propagation::Background => DeleteParams::background(),
            Propagation::Orphan => DeleteParams::orphan(),
        };
        match api.delete(&key.name, &params).await {
            Ok(_) => Ok(()),
            Err(e) => match cluster_error(e) {
                gone if gone.kind == ErrorKind::NotFound => Ok(()),
                other => Err(other),
            },
        }
    }
}

fn unknown_kind(key: &ResourceKey) -> ClusterError {
    ClusterError {
        kind: ErrorKind::UnknownKind,
        message: format!(
            "the cluster serves no kind {} in group {:?}",
            key.kind, key.group
        ),
    }
}

/// `apps/v1` → `v1`, `v1` → `v1`.
fn version_of(api_version: &str) -> Option<&str> {
    let (_, version) = driftless_resource::split_api_version(api_version);
    (!version.is_empty()).then_some(version)
}

fn key_of(object: &Value) -> Result<(ResourceKey, String), ClusterError> {
    let text = |pointer: &str| {
        object
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let api_version = text("/apiVersion");
    let key = ResourceKey::new(
        api_version,
        text("/kind"),
        text("/metadata/namespace"),
        text("/metadata/name"),
    );
    if key.kind.is_empty() || key.name.is_empty() || api_version.is_empty() {
        return Err(ClusterError {
            kind: ErrorKind::Invalid,
            message: "object has no apiVersion, kind or metadata.name".to_owned(),
        });
    }
    Ok((key, api_version.to_owned()))
}

fn to_dynamic(object: &Value) -> Result<DynamicObject, ClusterError> {
    serde_json::from_value(object.clone()).map_err(|e| ClusterError {
        kind: ErrorKind::Invalid,
        message: format!("not a Kubernetes object: {e}"),
    })
}

fn to_value(object: &DynamicObject) -> Result<Value, ClusterError> {
    serde_json::to_value(object).map_err(|e| ClusterError {
        kind: ErrorKind::Other,
        message: format!("encoding an object: {e}"),
    })
}

impl Cluster for KubeCluster {
    async fn get(
        &self,
        key: &ResourceKey,
        api_version: &str,
    ) -> Result<Option<Value>, ClusterError> {
        let api = self.api(&self.client, key, api_version).await?;
        match api.get_opt(&key.name).await.map_err(cluster_error)? {
            Some(object) => to_value(&object).map(Some),
            None => Ok(None),
        }
    }

    async fn peek(
        &self,
        key: &ResourceKey,
        api_version: &str,
    ) -> Result<Option<Value>, ClusterError> {
        let api = self.api(&self.client, key, api_version).await?;
        // resourceVersion=0: served from the API server's watch cache, not etcd.
        match api.get_with(&key.name, &GetParams::any()).await {
            Ok(object) => to_value(&object).map(Some),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(None),
            Err(e) => Err(cluster_error(e)),
        }
    }

    async fn apply(&self, object: &Value, mode: ApplyMode) -> Result<Value, ClusterError> {
        self.apply_as(&self.client, object, mode).await
    }

    async fn replace(&self, object: &Value, dry_run: bool) -> Result<Value, ClusterError> {
        self.replace_as(&self.client, object, dry_run).await
    }

    async fn create(&self, object: &Value) -> Result<Value, ClusterError> {
        self.create_as(&self.client, object).await
    }

    async fn delete(
        &self,
        key: &ResourceKey,
        api_version: &str,
        propagation: Propagation,
    ) -> Result<(), ClusterError> {
        self.delete_as(&self.client, key, api_version, propagation)
            .await
    }

    async fn scopes(&self) -> Result<BTreeMap<(String, String), bool>, ClusterError> {
        Ok(self.kinds.read().await.scopes())
    }

    async fn list_owned(&self, app: &str) -> Result<Vec<(ResourceKey, Value)>, ClusterError> {
        if let Some(live) = self.live.as_ref().filter(|live| live.synced()) {
            return Ok(live.owned(app));
        }
        let kinds: Vec<Kind> = self
            .kinds
            .read()
            .await
            .iter()
            .filter(|k| k.listable)
            .cloned()
            .collect();
        let selector = ListParams::default().labels(&format!("{APP_LABEL}={app}"));
        let lists = futures::stream::iter(kinds)
            .map(|kind| {
                // Across all namespaces: an application may span several.
                let api: Api<DynamicObject> = Api::all_with(self.client.clone(), &kind.resource);
                let selector = selector.clone();
                async move {
                    // Whole objects: they serve as the live state of every desired object this
                    // application already owns, so a steady-state sync reads no object twice.
                    let list = api.list(&selector).await;
                    (kind, list)
                }
            })
            .buffer_unordered(LIST_CONCURRENCY);
        let results: Vec<(Kind, _)> = lists.collect().await;
        let mut owned = Vec::new();
        let mut refused = Forbidden::new();
        for (kind, list) in results {
            let list = match list {
                Ok(list) => list,
                // A kind removed since discovery (its CRD deleted) has nothing left to prune.
                Err(kube::Error::Api(status)) if status.code == 404 => continue,
                // RBAC narrowed to fewer kinds: objects of this kind are invisible.
                Err(e) => match forbidden(&e) {
                    Some(message) => {
                        let id = (kind.resource.group.clone(), kind.resource.kind.clone());
                        refused.insert(id, message);
                        continue;
                    }
                    None => return Err(cluster_error(e)),
                },
            };
            for mut item in list.items {
                // Items of a list carry no apiVersion and kind of their own.
                item.types = Some(kube::api::TypeMeta {
                    api_version: kind.resource.api_version.clone(),
                    kind: kind.resource.kind.clone(),
                });
                let key = ResourceKey::new(
                    &kind.resource.api_version,
                    &kind.resource.kind,
                    item.metadata.namespace.as_deref().unwrap_or_default(),
                    item.metadata.name.as_deref().unwrap_or_default(),
                );
                owned.push((key, to_value(&item)?));
            }
        }
        *self
            .listed_forbidden
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = refused;
        owned.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(owned)
    }

    async fn refresh_kinds(&self) -> Result<(), ClusterError> {
        let kinds = Kinds::discover(self.client.clone())
            .await
            .map_err(cluster_error)?;
        if let Some(live) = &self.live {
            live.watch_kinds(kinds.iter());
        }
        *self.kinds.write().await = kinds;
        Ok(())
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// A [`KubeCluster`] that writes as another client ([`KubeCluster::writing_as`]).
pub struct Impersonated<'a> {
    base: &'a KubeCluster,
    client: Client,
}

impl std::fmt::Debug for Impersonated<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Impersonated").finish_non_exhaustive()
    }
}

impl Cluster for Impersonated<'_> {
    async fn get(
        &self,
        key: &ResourceKey,
        api_version: &str,
    ) -> Result<Option<Value>, ClusterError> {
        self.base.get(key, api_version).await
    }

    async fn peek(
        &self,
        key: &ResourceKey,
        api_version: &str,
    ) -> Result<Option<Value>, ClusterError> {
        self.base.peek(key, api_version).await
    }

    async fn apply(&self, object: &Value, mode: ApplyMode) -> Result<Value, ClusterError> {
        self.base.apply_as(&self.client, object, mode).await
    }

    async fn replace(&self, object: &Value, dry_run: bool) -> Result<Value, ClusterError> {
        self.base.replace_as(&self.client, object, dry_run).await
    }

    async fn create(&self, object: &Value) -> Result<Value, ClusterError> {
        self.base.create_as(&self.client, object).await
    }

    async fn delete(
        &self,
        key: &ResourceKey,
        api_version: &str,
        propagation: Propagation,
    ) -> Result<(), ClusterError> {
        self.base
            .delete_as(&self.client, key, api_version, propagation)
            .await
    }

    async fn scopes(&self) -> Result<BTreeMap<(String, String), bool>, ClusterError> {
        self.base.scopes().await
    }

    async fn list_owned(&self, app: &str) -> Result<Vec<(ResourceKey, Value)>, ClusterError> {
        self.base.list_owned(app).await
    }

    async fn refresh_kinds(&self) -> Result<(), ClusterError> {
        self.base.refresh_kinds().await
    }

    async fn sleep(&self, duration: Duration) {
        self.base.sleep(duration).await;
    }
}
