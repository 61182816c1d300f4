//! Server-side apply of one rendered manifest through discovery, for the tests that install
//! `deploy/`.

use anyhow::{Context as _, bail};
use driftless_resource::Manifest;
use kube::Client;
use kube::api::{Api, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::discovery::{Discovery, Scope};

/// Applies `manifest` with `params`, finding its resource in `discovery`.
pub async fn apply_manifest(
    client: &Client,
    discovery: &Discovery,
    params: &PatchParams,
    manifest: &Manifest,
) -> anyhow::Result<()> {
    let key = manifest.key();
    let object: DynamicObject = serde_json::from_value(manifest.object().clone())?;
    let api_version = object
        .types
        .as_ref()
        .map(|t| t.api_version.clone())
        .unwrap_or_default();
    let version = api_version.rsplit('/').next().unwrap_or_default();
    let gvk = GroupVersionKind::gvk(&key.group, version, &key.kind);
    let Some((resource, capabilities)) = discovery.resolve_gvk(&gvk) else {
        bail!("the cluster does not serve {api_version} {}", key.kind);
    };
    let api: Api<DynamicObject> = match capabilities.scope {
        Scope::Namespaced => Api::namespaced_with(client.clone(), &key.namespace, &resource),
        Scope::Cluster => Api::all_with(client.clone(), &resource),
    };
    api.patch(&key.name, params, &Patch::Apply(&object))
        .await
        .with_context(|| format!("applying {}/{}", key.kind, key.name))?;
    Ok(())
}
