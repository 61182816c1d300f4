//! Helm charts in Git (#16 items 5 and the Bad input section), against the real test control
//! plane and real Git repositories (file://): an Application whose path is a chart syncs what
//! the chart renders with values from `valueFiles`, `values`, `parameters` and `valuesFrom`
//! (a ConfigMap and a Secret); a changed value in Git updates the objects; a chart that fails
//! to render leaves the cluster untouched with `Ready` = `RenderFailed` naming the template.

mod support;

use support::{commit, ready_reason, synced_at};

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, ensure};
use driftless_api::Application;
use driftless_controller::Context;
use driftless_testenv::{eventually, with_namespace};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, PostParams};
use serde_json::json;

/// Generous bound for the controller to act on a busy machine; not a performance figure.
const SETTLE: Duration = Duration::from_secs(90);

fn controller() -> anyhow::Result<Arc<Context>> {
    static CONTEXT: std::sync::OnceLock<Arc<Context>> = std::sync::OnceLock::new();
    support::controller(|client| async move {
        let cache = tempfile::tempdir()?.keep();
        let mut registry = prometheus_client::registry::Registry::default();
        let metrics = driftless_controller::Metrics::new(&mut registry);
        let context = Arc::new(Context::new(client, cache, None, metrics).await?);
        let _ = CONTEXT.set(context.clone());
        Ok(context)
    })?;
    CONTEXT.get().cloned().context("no context")
}

const CHART: &str = "apiVersion: v2\nname: web\nversion: 0.1.0\n";

const TEMPLATE: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-settings
  labels:
    chart: {{ .Chart.Name }}-{{ .Chart.Version }}
data:
  replicas: {{ .Values.replicas | quote }}
  color: {{ .Values.color | quote }}
  size: {{ .Values.size | quote }}
  fromConfigMap: {{ .Values.fromConfigMap | quote }}
  namespace: {{ .Release.Namespace }}
  kube: {{ .Capabilities.KubeVersion.Major | quote }}
---
apiVersion: v1
kind: Secret
metadata:
  name: {{ .Release.Name }}-db
stringData:
  password: {{ required "db.password is required" .Values.db.password | quote }}
"#;

fn chart_files(replicas: &str) -> Vec<(&'static str, String)> {
    vec![
        ("charts/web/Chart.yaml", CHART.to_owned()),
        (
            "charts/web/values.yaml",
            format!(
                "replicas: {replicas}\ncolor: blue\nsize: small\nfromConfigMap: none\ndb:\n  password: null\n"
            ),
        ),
        ("charts/web/templates/settings.yaml", TEMPLATE.to_owned()),
        ("charts/web/templates/NOTES.txt", "not applied\n".to_owned()),
        ("envs/prod.yaml", "size: large\n".to_owned()),
    ]
}

fn application(
    ns: &str,
    name: &str,
    url: &str,
    helm: serde_json::Value,
) -> anyhow::Result<Application> {
    Ok(serde_json::from_value(json!({
        "apiVersion": "driftless.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "source": {"repoURL": url, "targetRevision": "main", "path": "charts/web", "helm": helm},
            "destination": {"namespace": ns},
            "interval": "1h",
            "syncPolicy": {"automated": {"prune": true, "selfHeal": true}},
        },
    }))?)
}

async fn data_of(
    configmaps: &Api<ConfigMap>,
    name: &str,
    key: &str,
    value: &str,
) -> anyhow::Result<()> {
    eventually(
        &format!("ConfigMap {name} with {key}={value}"),
        SETTLE,
        || async {
            let cm = configmaps.get(name).await.ok()?;
            (cm.data?.get(key)? == value).then_some(())
        },
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn a_chart_syncs_with_values_from_git_the_spec_and_the_cluster_and_follows_a_change()
-> anyhow::Result<()> {
    let context = controller()?;
    with_namespace("helm-sync", |client, ns| async move {
        let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
        configmaps
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({
                    "apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "web-values"},
                    "data": {"values.yaml": "fromConfigMap: yes-from-cm\ncolor: green\n"},
                }))?,
            )
            .await?;
        secrets
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({
                    "apiVersion": "v1", "kind": "Secret",
                    "metadata": {"name": "web-db"},
                    "stringData": {"password": "s3cret-value-42"},
                }))?,
            )
            .await?;
        let repo = tempfile::tempdir()?;
        let first = commit(repo.path(), &chart_files("2"), &[])?;
        let url = format!("file://{}", repo.path().display());
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        let helm = json!({
            "releaseName": "shop",
            "valueFiles": ["../../envs/prod.yaml", "absent.yaml"],
            "ignoreMissingValueFiles": true,
            "values": "color: red\n",
            "valuesFrom": [
                {"kind": "ConfigMap", "name": "web-values"},
                {"kind": "Secret", "name": "web-db", "valuesKey": "password", "targetPath": "db.password"},
                {"kind": "ConfigMap", "name": "absent", "optional": true},
            ],
            "parameters": [{"name": "replicas", "value": "007", "forceString": true}],
        });
        apps.create(&PostParams::default(), &application(&ns, "web", &url, helm)?)
            .await?;
        synced_at(&apps, "web", &first).await?;
        let cm = "shop-settings";
        // Parameters over everything, valuesFrom over values, values over valueFiles.
        data_of(&configmaps, cm, "replicas", "007").await?;
        data_of(&configmaps, cm, "color", "green").await?;
        data_of(&configmaps, cm, "fromConfigMap", "yes-from-cm").await?;
        data_of(&configmaps, cm, "size", "large").await?;
        data_of(&configmaps, cm, "namespace", &ns).await?;
        data_of(&configmaps, cm, "kube", "1").await?;
        let db = secrets.get("shop-db").await?;
        ensure!(
            db.data.and_then(|d| d.get("password").cloned()).map(|b| b.0)
                == Some(b"s3cret-value-42".to_vec()),
            "the Secret's value did not reach the chart"
        );
        let status = serde_json::to_string(&apps.get("web").await?.status)?;
        ensure!(!status.contains("s3cret-value-42"), "a Secret's value in the status");

        // A changed value in Git: the parameter no longer pins replicas.
        let mut app = apps.get("web").await?;
        if let Some(helm) = app.spec.source.helm.as_mut() {
            helm.parameters.clear();
        }
        app.metadata.managed_fields = None;
        apps.replace("web", &PostParams::default(), &app).await?;
        data_of(&configmaps, cm, "replicas", "2").await?;
        let second = commit(repo.path(), &chart_files("3"), &[])?;
        ensure!(context.refresh_repository(&url) >= 1);
        synced_at(&apps, "web", &second).await?;
        data_of(&configmaps, cm, "replicas", "3").await?;
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn a_chart_that_fails_to_render_leaves_the_cluster_untouched_with_render_failed()
-> anyhow::Result<()> {
    let context = controller()?;
    with_namespace("helm-bad", |client, ns| async move {
        let repo = tempfile::tempdir()?;
        let first = commit(repo.path(), &chart_files("2"), &[])?;
        let url = format!("file://{}", repo.path().display());
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        // No db.password: `required` fails.
        apps.create(
            &PostParams::default(),
            &application(&ns, "web", &url, json!({}))?,
        )
        .await?;
        let message = ready_reason(&apps, "web", "RenderFailed").await?;
        ensure!(
            message.contains("charts/web")
                && message.contains("web/templates/settings.yaml")
                && message.contains("db.password is required")
                && !message.contains('\n'),
            "{message}"
        );
        ensure!(
            configmaps.get_opt("web-settings").await?.is_none(),
            "something was applied"
        );

        // Fixed by a parameter: it syncs; then a missing values file fails it again, and what
        // was applied stays as it is.
        let mut app = apps.get("web").await?;
        app.spec.source.helm = Some(serde_json::from_value(json!({
            "parameters": [{"name": "db.password", "value": "p"}],
        }))?);
        app.metadata.managed_fields = None;
        apps.replace("web", &PostParams::default(), &app).await?;
        synced_at(&apps, "web", &first).await?;
        let mut app = apps.get("web").await?;
        app.spec.source.helm = Some(serde_json::from_value(json!({
            "parameters": [{"name": "db.password", "value": "p"}],
            "valueFiles": ["missing.yaml"],
        }))?);
        app.metadata.managed_fields = None;
        apps.replace("web", &PostParams::default(), &app).await?;
        let message = ready_reason(&apps, "web", "RenderFailed").await?;
        ensure!(message.contains("charts/web/missing.yaml"), "{message}");
        let bad = commit(
            repo.path(),
            &[(
                "charts/web/templates/broken.yaml",
                "{{ .Values.x | nosuchfunc }}\n".to_owned(),
            )],
            &[],
        )?;
        // A broken template in Git (the values file fixed): RenderFailed names it, and what
        // was applied is neither changed nor pruned.
        let mut app = apps.get("web").await?;
        app.spec.source.helm = Some(serde_json::from_value(json!({
            "parameters": [{"name": "db.password", "value": "p"}],
        }))?);
        app.metadata.managed_fields = None;
        apps.replace("web", &PostParams::default(), &app).await?;
        ensure!(context.refresh_repository(&url) >= 1);
        let message = eventually("RenderFailed naming broken.yaml", SETTLE, || async {
            let app = apps.get("web").await.ok()?;
            let ready = app
                .status?
                .conditions
                .into_iter()
                .find(|c| c.type_ == "Ready")?;
            (ready.reason == "RenderFailed" && ready.message.contains("web/templates/broken.yaml"))
                .then_some(ready.message)
        })
        .await?;
        ensure!(
            message.contains("nosuchfunc") && !message.contains('\n'),
            "{message}"
        );
        let sync = apps.get("web").await?.status.and_then(|s| s.sync);
        ensure!(
            sync.and_then(|s| s.revision).as_deref() != Some(bad.as_str()),
            "the broken commit was synced"
        );
        ensure!(
            configmaps.get_opt("web-settings").await?.is_some(),
            "the applied objects were pruned"
        );
        Ok(())
    })
    .await?
}
