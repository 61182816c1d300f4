//! Proof that the test control plane is a real one: controllers, scheduler and kwok all act.

use std::time::Duration;

use anyhow::{Context, ensure};
use driftless_testenv::{FAKE_NODE, TestNamespace, eventually, with_namespace};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Client;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, PostParams,
};

/// Generous bound for controllers to act on a busy 2-core machine; not a performance figure.
const SETTLE: Duration = Duration::from_secs(120);

fn deployment(name: &str, replicas: i32) -> anyhow::Result<Deployment> {
    Ok(serde_json::from_value(serde_json::json!({
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "web", "image": "registry.example/web:1"}]},
            },
        },
    }))?)
}

#[tokio::test]
async fn deployment_gets_a_replicaset_and_running_pods_on_the_fake_node() -> anyhow::Result<()> {
    with_namespace("deployment", |client, ns| async move {
        let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns);
        deployments
            .create(&PostParams::default(), &deployment("web", 3)?)
            .await?;

        // kube-controller-manager: the Deployment controller creates a ReplicaSet.
        let replicasets: Api<ReplicaSet> = Api::namespaced(client.clone(), &ns);
        let rs = eventually("a ReplicaSet for web", SETTLE, || async {
            let list = replicasets.list(&ListParams::default()).await.ok()?;
            list.items.into_iter().next()
        })
        .await?;
        let owner = rs.metadata.owner_references.unwrap_or_default();
        ensure!(
            owner
                .iter()
                .any(|o| o.kind == "Deployment" && o.name == "web"),
            "owner: {owner:?}"
        );

        // kube-scheduler + kwok: three pods bound to the fake node and Running.
        let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
        let running = eventually("3 Running pods", SETTLE, || async {
            let list = pods
                .list(&ListParams::default().labels("app=web"))
                .await
                .ok()?;
            let running: Vec<Pod> = list
                .items
                .into_iter()
                .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
                .collect();
            (running.len() == 3).then_some(running)
        })
        .await?;
        for pod in &running {
            let node = pod.spec.as_ref().and_then(|s| s.node_name.as_deref());
            ensure!(node == Some(FAKE_NODE), "pod scheduled onto {node:?}");
        }

        // And the Deployment reports Available with all replicas ready.
        eventually("Deployment web Available", SETTLE, || async {
            let d = deployments.get("web").await.ok()?;
            let status = d.status?;
            let available = status
                .conditions
                .unwrap_or_default()
                .iter()
                .any(|c| c.type_ == "Available" && c.status == "True");
            (available && status.ready_replicas == Some(3)).then_some(())
        })
        .await?;
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn a_crd_can_be_installed_and_a_custom_resource_created() -> anyhow::Result<()> {
    with_namespace("crd", |client, ns| async move {
        // CRDs are cluster-wide: a group named after the namespace keeps tests apart.
        let group = format!("{ns}.test.driftless.dev");
        let crd_name = format!("widgets.{group}");
        let crd: CustomResourceDefinition = serde_json::from_value(serde_json::json!({
            "metadata": {"name": crd_name},
            "spec": {
                "group": group,
                "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
                "scope": "Namespaced",
                "versions": [{
                    "name": "v1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {
                        "type": "object",
                        "properties": {"spec": {"type": "object", "properties": {"size": {"type": "integer"}}}},
                    }},
                }],
            },
        }))?;
        let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
        crds.create(&PostParams::default(), &crd).await?;
        eventually("the CRD to be Established", SETTLE, || async {
            let crd = crds.get(&crd_name).await.ok()?;
            let conditions = crd.status?.conditions?;
            conditions
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True")
                .then_some(())
        })
        .await?;

        let resource = ApiResource::from_gvk(&GroupVersionKind::gvk(&group, "v1", "Widget"));
        let widgets: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &resource);
        let widget: DynamicObject = serde_json::from_value(serde_json::json!({
            "apiVersion": format!("{group}/v1"),
            "kind": "Widget",
            "metadata": {"name": "first"},
            "spec": {"size": 3},
        }))?;
        // Discovery of a new kind takes a moment to reach every part of the API server.
        eventually("the Widget to be created", SETTLE, || async {
            widgets.create(&PostParams::default(), &widget).await.ok()
        })
        .await?;
        let read = widgets.get("first").await?;
        ensure!(read.data["spec"]["size"] == 3, "read back {:?}", read.data);

        crds.delete(&crd_name, &DeleteParams::default()).await?;
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn deleting_the_namespace_removes_everything_in_it() -> anyhow::Result<()> {
    let client: Client = driftless_testenv::shared()?.client().await?;
    let namespace = TestNamespace::create(client.clone(), "ns-delete").await?;
    let ns = namespace.name().to_owned();

    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    deployments
        .create(&PostParams::default(), &deployment("doomed", 2)?)
        .await?;
    let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    let cm: ConfigMap = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "settings"}, "data": {"a": "1"}
    }))?;
    configmaps.create(&PostParams::default(), &cm).await?;
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    eventually("2 pods to exist", SETTLE, || async {
        let list = pods.list(&ListParams::default()).await.ok()?;
        (list.items.len() == 2).then_some(())
    })
    .await?;

    namespace.delete().await?;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    eventually("the namespace to be gone", SETTLE, || async {
        matches!(namespaces.get_opt(&ns).await, Ok(None)).then_some(())
    })
    .await
    .context("namespace deletion must finish: every object in it, pods included, must go")?;
    for (kind, count) in [
        ("pods", pods.list(&ListParams::default()).await?.items.len()),
        (
            "configmaps",
            configmaps.list(&ListParams::default()).await?.items.len(),
        ),
        (
            "deployments",
            deployments.list(&ListParams::default()).await?.items.len(),
        ),
    ] {
        ensure!(count == 0, "{count} {kind} left in deleted namespace {ns}");
    }
    Ok(())
}
