//! `driftless import --adopt` on the real test control plane: objects first applied the way
//! Argo CD and Flux apply them (`kubectl apply --server-side` as their field managers, with
//! their marks), a running Deployment with its ReplicaSet and pods among them (kwok runs them),
//! then imported, adopted and synced by a real `driftless controller` from a Git repository
//! served by `git daemon` on loopback. The same objects stay: same uid, same generation, same
//! ReplicaSet and pods (no rollout), now owned by Driftless, and the Application is Synced.
//!
//! One test: it runs a controller, and two controllers must never watch one control plane.

use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use driftless_api::{Application, SyncStatusCode};
use driftless_testenv::{eventually, git, with_namespace};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, ListParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

/// Generous bound for the control plane and the controller on a busy machine; not a
/// performance figure.
const SETTLE: Duration = Duration::from_secs(120);

/// A process killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn kubeconfig() -> anyhow::Result<PathBuf> {
    Ok(driftless_testenv::shared()?.kubeconfig().to_owned())
}

/// `git daemon` serving `base` on a free loopback port.
fn git_daemon(base: &Path) -> anyhow::Result<(Process, u16)> {
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    // git-daemon itself: `git daemon` would start it as a child that outlives a kill.
    let exec_path = Command::new("git").arg("--exec-path").output()?.stdout;
    let daemon = Path::new(String::from_utf8(exec_path)?.trim()).join("git-daemon");
    let child = Command::new(daemon)
        .args(["--export-all", "--reuseaddr", "--listen=127.0.0.1"])
        .arg(format!("--port={port}"))
        .arg(format!("--base-path={}", base.display()))
        .arg(base)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let process = Process(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        ensure!(Instant::now() < deadline, "git daemon did not listen");
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok((process, port))
}

/// The manifests in Git for one tool's application: a Deployment, a ConfigMap and a Service
/// (whose labels Kubernetes copies onto its EndpointSlices and Endpoints), without namespace
/// (the destination gives it).
fn manifests(prefix: &str) -> String {
    format!(
        "apiVersion: v1
kind: Service
metadata:
  name: {prefix}-web
spec:
  selector: {{app: {prefix}-web}}
  ports:
  - port: 80
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {prefix}-web
  labels: {{app: {prefix}-web}}
spec:
  replicas: 2
  selector:
    matchLabels: {{app: {prefix}-web}}
  template:
    metadata:
      labels: {{app: {prefix}-web}}
    spec:
      containers:
      - name: web
        image: registry.example/web:1.0
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {prefix}-settings
data:
  mode: fast
"
    )
}

/// Applies `yaml` the way the old tool does: server-side, as its field manager.
fn kubectl_apply(yaml: &str, namespace: &str, manager: &str) -> anyhow::Result<()> {
    let mut child = Command::new("kubectl")
        .args([
            "apply",
            "--server-side",
            "--field-manager",
            manager,
            "-n",
            namespace,
            "-f",
            "-",
        ])
        .env("KUBECONFIG", kubeconfig()?)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .context("kubectl stdin")?
        .write_all(yaml.as_bytes())?;
    let out = child.wait_with_output()?;
    ensure!(
        out.status.success(),
        "kubectl apply: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// The Git manifests with the marks the old tool adds when it applies them.
fn marked(yaml: &str, marks: impl Fn(&str, &str) -> Value) -> anyhow::Result<String> {
    let mut out = String::new();
    for mut object in serde_saphyr::from_multiple::<Value>(yaml)? {
        let kind = object["kind"].as_str().unwrap_or_default().to_owned();
        let name = object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let extra = marks(&kind, &name);
        for field in ["labels", "annotations"] {
            if let Some(map) = extra.get(field).and_then(Value::as_object) {
                for (key, value) in map {
                    object["metadata"][field][key] = value.clone();
                }
            }
        }
        out.push_str("---\n");
        out.push_str(&serde_saphyr::to_string(&object)?);
    }
    Ok(out)
}

fn driftless(args: &[&str], stdin: &str) -> anyhow::Result<Output> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_driftless"))
        .args(args)
        .env("KUBECONFIG", kubeconfig()?)
        .env_remove("DRIFTLESS_OUTPUT")
        .env_remove("DRIFTLESS_CONTROLLER_NAMESPACE")
        .env_remove("DRIFTLESS_CONTEXT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .context("driftless stdin")?
        .write_all(stdin.as_bytes())?;
    Ok(child.wait_with_output()?)
}

/// What must not change when Driftless takes a Deployment over.
///
/// The generation is not in it: a Deployment's generation counts changes of its annotations
/// too (Kubernetes' Deployment strategy), so swapping the tracking annotation raises it once,
/// with the same pod template, hence no new ReplicaSet. The sync after it must not raise it.
#[derive(Debug, PartialEq)]
struct Rollout {
    uid: String,
    spec: Value,
    replica_sets: Vec<String>,
    pods: Vec<String>,
}

async fn rollout(client: &Client, namespace: &str, name: &str) -> anyhow::Result<Rollout> {
    let deployment = Api::<Deployment>::namespaced(client.clone(), namespace)
        .get(name)
        .await?;
    let selector = format!("app={name}");
    let params = ListParams::default().labels(&selector);
    let mut replica_sets: Vec<String> = Api::<ReplicaSet>::namespaced(client.clone(), namespace)
        .list(&params)
        .await?
        .items
        .iter()
        .map(|rs| format!("{}/{}", rs.name_any(), rs.uid().unwrap_or_default()))
        .collect();
    replica_sets.sort();
    let mut pods: Vec<String> = Api::<Pod>::namespaced(client.clone(), namespace)
        .list(&params)
        .await?
        .items
        .iter()
        .map(|pod| format!("{}/{}", pod.name_any(), pod.uid().unwrap_or_default()))
        .collect();
    pods.sort();
    Ok(Rollout {
        uid: deployment.uid().unwrap_or_default(),
        spec: serde_json::to_value(&deployment.spec)?,
        replica_sets,
        pods,
    })
}

/// Waits until the Deployment's pods run (kwok makes them Running and Ready).
async fn available(client: &Client, namespace: &str, name: &str) -> anyhow::Result<()> {
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    eventually(&format!("{name} to be available"), SETTLE, || async {
        let status = deployments.get(name).await.ok()?.status?;
        (status.available_replicas == Some(2) && status.updated_replicas == Some(2)).then_some(())
    })
    .await?;
    Ok(())
}

fn managers(object: &Value) -> Vec<(String, String)> {
    object
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|e| e.get("subresource").is_none())
        .map(|e| {
            let text = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
            (text("manager"), text("operation"))
        })
        .collect()
}

async fn object_json<K>(api: &Api<K>, name: &str) -> anyhow::Result<Value>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    Ok(serde_json::to_value(api.get(name).await?)?)
}

fn app_id_of(namespace: &str, name: &str) -> String {
    format!("{namespace}_{name}")
}

/// Checks the marks and managers of an adopted object.
fn assert_adopted(object: &Value, app_id: &str, tracking: &str, old: &str) -> anyhow::Result<()> {
    let annotations = &object["metadata"]["annotations"];
    let labels = &object["metadata"]["labels"];
    ensure!(
        annotations["driftless.dev/tracking-id"] == tracking,
        "tracking id: {annotations}"
    );
    ensure!(labels["driftless.dev/app"] == app_id, "labels: {labels}");
    ensure!(
        annotations.get("argocd.argoproj.io/tracking-id").is_none()
            && labels.get("kustomize.toolkit.fluxcd.io/name").is_none()
            && labels
                .get("kustomize.toolkit.fluxcd.io/namespace")
                .is_none(),
        "old marks left: {annotations} {labels}"
    );
    let managers = managers(object);
    ensure!(
        !managers.iter().any(|(m, _)| m == old),
        "{old} still manages fields: {managers:?}"
    );
    ensure!(
        managers
            .iter()
            .filter(|(m, _)| m == "driftless")
            .collect::<Vec<_>>()
            == [&("driftless".to_owned(), "Apply".to_owned())],
        "driftless should own one apply entry: {managers:?}"
    );
    Ok(())
}

/// Imports `sources` with `--adopt`, applies what it prints, and returns the report.
async fn import_and_apply(
    client: &Client,
    namespace: &str,
    sources: &str,
) -> anyhow::Result<String> {
    let out = driftless(&["import", "-", "--adopt", "-n", namespace], sources)?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    ensure!(out.status.success(), "driftless import: {stderr}");
    let stdout = String::from_utf8(out.stdout)?;
    for object in serde_saphyr::from_multiple::<Value>(&stdout)? {
        match object["kind"].as_str() {
            Some("Application") => {
                let app: Application = serde_json::from_value(object)?;
                let apps: Api<Application> =
                    Api::namespaced(client.clone(), &app.namespace().unwrap_or_default());
                apps.create(&PostParams::default(), &app).await?;
            }
            other => bail!("unexpected {other:?} in the import of {sources}"),
        }
    }
    Ok(stderr)
}

/// Waits until the Application is Synced at `commit`; with `synced_by`, until an operation
/// with that initiator succeeded too.
async fn synced(
    client: &Client,
    namespace: &str,
    name: &str,
    commit: &str,
    synced_by: Option<&str>,
) -> anyhow::Result<driftless_api::ApplicationStatus> {
    let apps: Api<Application> = Api::namespaced(client.clone(), namespace);
    let waited = eventually(
        &format!("Application {name} Synced at {commit}"),
        SETTLE,
        || async {
            let status = apps.get(name).await.ok()?.status?;
            let sync = status.sync.as_ref()?;
            let done = synced_by.is_none_or(|by| {
                status.operation_state.as_ref().is_some_and(|op| {
                    op.phase == driftless_api::OperationPhase::Succeeded
                        && op.initiated_by.as_deref() == Some(by)
                        && op.revision.as_deref() == Some(commit)
                })
            });
            (sync.status == SyncStatusCode::Synced
                && sync.revision.as_deref() == Some(commit)
                && done)
                .then_some(status.clone())
        },
    )
    .await;
    match waited {
        Ok(status) => Ok(status),
        Err(e) => {
            let status = apps.get(name).await?.status;
            bail!("{e}; status: {}", serde_json::to_string(&status)?);
        }
    }
}

#[tokio::test]
async fn objects_applied_by_argo_cd_and_flux_are_adopted_without_a_rollout() -> anyhow::Result<()> {
    with_namespace("import-adopt", |client, ns| async move {
        driftless_testenv::install_project_crds(&client).await?;
        let repos = tempfile::tempdir()?;
        let work = repos.path().join("apps");
        std::fs::create_dir_all(work.join("argo"))?;
        std::fs::create_dir_all(work.join("flux"))?;
        std::fs::write(work.join("argo/app.yaml"), manifests("argo"))?;
        std::fs::write(work.join("flux/app.yaml"), manifests("flux"))?;
        git(&work, &["init", "-q", "-b", "main"])?;
        git(&work, &["config", "user.email", "t@example.com"])?;
        git(&work, &["config", "user.name", "t"])?;
        git(&work, &["add", "-A"])?;
        git(&work, &["commit", "-qm", "apps"])?;
        let commit = git(&work, &["rev-parse", "HEAD"])?;
        let (_daemon, port) = git_daemon(repos.path())?;
        let url = format!("git://127.0.0.1:{port}/apps/.git");

        // As Argo CD applies: server-side as argocd-controller, with its tracking annotation.
        // The Service as Argo CD's label tracking marks it: the instance label only.
        let argo = marked(&manifests("argo"), |kind, name| {
            let group = if kind == "Deployment" { "apps" } else { "" };
            if kind == "Service" {
                return json!({"labels": {"app.kubernetes.io/instance": "guestbook"}});
            }
            json!({"annotations": {"argocd.argoproj.io/tracking-id":
                format!("guestbook:{group}/{kind}:{ns}/{name}")}})
        })?;
        kubectl_apply(&argo, &ns, "argocd-controller")?;
        // As Flux applies: server-side as kustomize-controller, with its two labels.
        let flux = marked(&manifests("flux"), |_, _| {
            json!({"labels": {"kustomize.toolkit.fluxcd.io/name": "podinfo",
                              "kustomize.toolkit.fluxcd.io/namespace": ns}})
        })?;
        kubectl_apply(&flux, &ns, "kustomize-controller")?;
        available(&client, &ns, "argo-web").await?;
        available(&client, &ns, "flux-web").await?;
        let argo_before = rollout(&client, &ns, "argo-web").await?;
        let flux_before = rollout(&client, &ns, "flux-web").await?;
        ensure!(argo_before.pods.len() == 2 && argo_before.replica_sets.len() == 1);

        // Kubernetes copies the Services' labels, the old tools' marks among them, onto their
        // EndpointSlices: those must not be taken for the old tools' objects.
        let slices: Api<k8s_openapi::api::discovery::v1::EndpointSlice> =
            Api::namespaced(client.clone(), &ns);
        eventually("EndpointSlices with the copied marks", SETTLE, || async {
            let argo = slices
                .list(&ListParams::default().labels("app.kubernetes.io/instance=guestbook"))
                .await
                .ok()?;
            let flux = slices
                .list(&ListParams::default().labels("kustomize.toolkit.fluxcd.io/name=podinfo"))
                .await
                .ok()?;
            (!argo.items.is_empty() && !flux.items.is_empty()).then_some(())
        })
        .await?;

        // An object that only looks like Flux's (copied labels, written by someone else) is
        // not taken over.
        let lookalike = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "lookalike", "namespace": ns, "labels": {
                "kustomize.toolkit.fluxcd.io/name": "podinfo",
                "kustomize.toolkit.fluxcd.io/namespace": ns}},
        });
        let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        configmaps
            .create(&PostParams::default(), &serde_json::from_value(lookalike)?)
            .await?;

        let argo_app = format!(
            "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: guestbook
  namespace: argocd
  finalizers: [resources-finalizer.argocd.argoproj.io/background]
spec:
  project: default
  source:
    repoURL: {url}
    targetRevision: main
    path: argo
  destination:
    server: https://kubernetes.default.svc
    namespace: {ns}
  syncPolicy:
    automated: {{prune: true, selfHeal: true}}
    syncOptions: [ServerSideApply=true]
"
        );
        // A dry run says what would be taken over and writes nothing.
        let dry = driftless(&["import", "-", "--adopt", "--dry-run", "-n", &ns], &argo_app)?;
        let dry_report = String::from_utf8_lossy(&dry.stderr).into_owned();
        ensure!(dry.status.success(), "{dry_report}");
        ensure!(
            dry_report.contains(&format!("would adopt apps/Deployment {ns}/argo-web for Application {ns}/guestbook (fields moved from argocd-controller)")),
            "{dry_report}"
        );
        let untouched = object_json(&Api::<Deployment>::namespaced(client.clone(), &ns), "argo-web").await?;
        ensure!(
            untouched["metadata"]["annotations"].get("argocd.argoproj.io/tracking-id").is_some()
                && managers(&untouched).iter().any(|(m, _)| m == "argocd-controller"),
            "the dry run wrote: {untouched}"
        );

        let report = import_and_apply(&client, &ns, &argo_app).await?;
        ensure!(
            report.contains(&format!("adopted apps/Deployment {ns}/argo-web for Application {ns}/guestbook (fields moved from argocd-controller)")),
            "{report}"
        );
        ensure!(report.contains("ServerSideApply=true"), "the option is reported: {report}");
        ensure!(
            report.contains(&format!("adopted Service {ns}/argo-web for Application {ns}/guestbook (fields moved from argocd-controller)")),
            "the instance label tracks too: {report}"
        );
        // The Service's EndpointSlices and Endpoints carry its labels but were written by
        // Kubernetes: neither taken over nor worth a note.
        ensure!(
            !report.contains("EndpointSlice") && !report.contains("Endpoints "),
            "{report}"
        );
        let services: Api<k8s_openapi::api::core::v1::Service> = Api::namespaced(client.clone(), &ns);
        let service = object_json(&services, "argo-web").await?;
        ensure!(
            service["metadata"]["labels"].get("app.kubernetes.io/instance").is_none(),
            "Argo CD's instance label stayed: {service}"
        );
        assert_adopted(
            &service,
            &app_id_of(&ns, "guestbook"),
            &format!("{}:/Service:{ns}/argo-web", app_id_of(&ns, "guestbook")),
            "argocd-controller",
        )?;
        let app_id = format!("{ns}_guestbook");
        let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns);
        assert_adopted(
            &object_json(&deployments, "argo-web").await?,
            &app_id,
            &format!("{app_id}:apps/Deployment:{ns}/argo-web"),
            "argocd-controller",
        )?;
        assert_adopted(
            &object_json(&configmaps, "argo-settings").await?,
            &app_id,
            &format!("{app_id}:/ConfigMap:{ns}/argo-settings"),
            "argocd-controller",
        )?;
        let after = rollout(&client, &ns, "argo-web").await?;
        ensure!(after == argo_before, "adopting changed the Deployment: {argo_before:?} -> {after:?}");

        let flux_sources = format!(
            "apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {{name: podinfo, namespace: {ns}}}
spec:
  interval: 1h
  url: {url}
  ref: {{branch: main}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {{name: podinfo, namespace: {ns}}}
spec:
  interval: 10m
  path: ./flux
  prune: true
  sourceRef: {{kind: GitRepository, name: podinfo}}
"
        );
        let report = import_and_apply(&client, &ns, &flux_sources).await?;
        ensure!(
            report.contains(&format!("adopted apps/Deployment {ns}/flux-web for Application {ns}/podinfo (fields moved from kustomize-controller)")),
            "{report}"
        );
        ensure!(
            report.contains(&format!("ConfigMap {ns}/lookalike carries the marks of Kustomization {ns}/podinfo"))
                && !report.contains(&format!("adopted ConfigMap {ns}/lookalike")),
            "{report}"
        );
        let flux_id = format!("{ns}_podinfo");
        assert_adopted(
            &object_json(&deployments, "flux-web").await?,
            &flux_id,
            &format!("{flux_id}:apps/Deployment:{ns}/flux-web"),
            "kustomize-controller",
        )?;
        let after = rollout(&client, &ns, "flux-web").await?;
        ensure!(after == flux_before, "adopting changed the Deployment: {flux_before:?} -> {after:?}");

        let mut generations = Vec::new();
        for name in ["argo-web", "flux-web"] {
            generations.push(deployments.get(name).await?.metadata.generation);
        }

        // Driftless syncs both from Git: nothing is recreated or rolled out.
        let cache = tempfile::tempdir()?;
        let listen = TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let _controller = Process(
            Command::new(env!("CARGO_BIN_EXE_driftless"))
                .args(["controller", "--listen", &listen.to_string()])
                .arg("--cache-dir")
                .arg(cache.path())
                .env("KUBECONFIG", kubeconfig()?)
                .env("DRIFTLESS_WEBHOOK_SECRET", "unused")
                .env("POD_NAME", "import-test")
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()?,
        );
        // Adopted objects equal Git: the Applications are Synced before any sync...
        synced(&client, &ns, "guestbook", &commit, None).await?;
        synced(&client, &ns, "podinfo", &commit, None).await?;
        // ... and a sync that applies everything again changes nothing.
        for app in ["guestbook", "podinfo"] {
            let out = driftless(&["app", "sync", app, "-n", &ns, "--timeout", "2m"], "")?;
            ensure!(
                out.status.success(),
                "driftless app sync {app}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let status = synced(&client, &ns, app, &commit, None).await?;
            let operation = status.operation_state.context("no operation")?;
            ensure!(
                operation.phase == driftless_api::OperationPhase::Succeeded
                    && operation.results.len() == 3
                    && operation.results.iter().all(|r| r.result == "unchanged"),
                "{app}: {operation:?}"
            );
        }
        for (name, before, app, old) in [
            ("argo-web", &argo_before, &app_id, "argocd-controller"),
            ("flux-web", &flux_before, &flux_id, "kustomize-controller"),
        ] {
            let after = rollout(&client, &ns, name).await?;
            ensure!(&after == before, "{name} changed: {before:?} -> {after:?}");
            ensure!(
                deployments.get(name).await?.metadata.generation
                    == generations[usize::from(name == "flux-web")],
                "the sync raised the generation of {name}"
            );
            assert_adopted(
                &object_json(&deployments, name).await?,
                app,
                &format!("{app}:apps/Deployment:{ns}/{name}"),
                old,
            )?;
        }
        // The look-alike was not adopted, so it is neither Driftless's nor pruned.
        let lookalike = configmaps.get("lookalike").await?;
        ensure!(!lookalike.labels().contains_key("driftless.dev/app"));
        Ok(())
    })
    .await?
}
