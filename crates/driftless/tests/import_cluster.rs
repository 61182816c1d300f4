//! `driftless import --from-cluster` on the real test control plane: first with neither Argo
//! CD's nor Flux's CRDs installed (each kind is named as missing), then with some of them, and
//! objects of those kinds and a credential Secret to read.
//!
//! The CRDs are minimal stand-ins written for this test (the group, kind and version of the
//! real ones, and a schema that keeps every field): the conversion is tested on the real
//! shapes elsewhere; here what matters is reading them from a cluster.
//!
//! One test: CRDs are cluster-wide, so the "none installed" step must not race another test.

use std::process::{Command, Output};

use anyhow::ensure;
use driftless_testenv::with_namespace;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, GroupVersionKind, PostParams};
use kube::discovery::{ApiResource, Discovery};
use serde_json::{Value, json};

fn import(args: &[&str]) -> anyhow::Result<Output> {
    let kubeconfig = driftless_testenv::shared()?.kubeconfig().to_owned();
    Ok(Command::new(env!("CARGO_BIN_EXE_driftless"))
        .arg("import")
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .env_remove("DRIFTLESS_OUTPUT")
        .env_remove("DRIFTLESS_CONTROLLER_NAMESPACE")
        .env_remove("DRIFTLESS_CONTEXT")
        .output()?)
}

fn json_of(out: &Output) -> anyhow::Result<Value> {
    ensure!(
        out.status.success(),
        "driftless import: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(serde_json::from_slice(&out.stdout)?)
}

fn crd(
    group: &str,
    version: &str,
    kind: &str,
    plural: &str,
) -> anyhow::Result<CustomResourceDefinition> {
    Ok(serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.{group}")},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"kind": kind, "plural": plural, "singular": kind.to_lowercase(),
                      "listKind": format!("{kind}List")},
            "versions": [{"name": version, "served": true, "storage": true,
                          "schema": {"openAPIV3Schema": {"type": "object",
                                     "x-kubernetes-preserve-unknown-fields": true}}}],
        },
    }))?)
}

fn notes(output: &Value) -> Vec<String> {
    output["notes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

async fn create(client: &kube::Client, discovery: &Discovery, object: Value) -> anyhow::Result<()> {
    let types = object["apiVersion"].as_str().unwrap_or_default().to_owned();
    let (group, version) = types.rsplit_once('/').unwrap_or(("", &types));
    let kind = object["kind"].as_str().unwrap_or_default();
    let gvk = GroupVersionKind::gvk(group, version, kind);
    let (resource, _): (ApiResource, _) = discovery
        .resolve_gvk(&gvk)
        .ok_or_else(|| anyhow::anyhow!("not served: {gvk:?}"))?;
    let namespace = object["metadata"]["namespace"].as_str().unwrap_or_default();
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource);
    api.create(&PostParams::default(), &serde_json::from_value(object)?)
        .await?;
    Ok(())
}

#[tokio::test]
async fn objects_are_read_from_the_cluster_and_missing_crds_named_per_kind() -> anyhow::Result<()> {
    with_namespace("import-cluster", |client, ns| async move {
        let none = json_of(&import(&["--from-cluster", "-o", "json"])?)?;
        let missing = notes(&none);
        for kind in [
            "argoproj.io Application: Argo CD's",
            "argoproj.io AppProject: Argo CD's",
            "argoproj.io ApplicationSet: Argo CD's",
            "source.toolkit.fluxcd.io GitRepository: Flux's",
            "source.toolkit.fluxcd.io HelmRepository: Flux's",
            "kustomize.toolkit.fluxcd.io Kustomization: Flux's",
            "helm.toolkit.fluxcd.io HelmRelease: Flux's",
        ] {
            ensure!(
                missing.iter().any(|n| n.contains(&format!("serves no {kind} CustomResourceDefinition is not installed"))),
                "no note for {kind}: {missing:?}"
            );
        }
        ensure!(none["objects"] == json!([]), "{none}");

        for definition in [
            crd("argoproj.io", "v1alpha1", "Application", "applications")?,
            crd("source.toolkit.fluxcd.io", "v1", "GitRepository", "gitrepositories")?,
            crd("kustomize.toolkit.fluxcd.io", "v1", "Kustomization", "kustomizations")?,
        ] {
            driftless_testenv::install_crd(&client, &definition).await?;
        }
        let discovery = Discovery::new(client.clone()).run().await?;
        create(&client, &discovery, json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": "guestbook", "namespace": ns},
            "spec": {"project": "default",
                     "source": {"repoURL": "https://git.example/guestbook.git", "path": "guestbook",
                                "targetRevision": "HEAD"},
                     "destination": {"server": "https://kubernetes.default.svc", "namespace": "guestbook"}},
        })).await?;
        create(&client, &discovery, json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
            "metadata": {"name": "podinfo", "namespace": ns},
            "spec": {"interval": "5m", "url": "https://git.example/podinfo.git",
                     "ref": {"tag": "6.5.0"}, "secretRef": {"name": "podinfo-auth"}},
        })).await?;
        create(&client, &discovery, json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": "podinfo", "namespace": ns},
            "spec": {"interval": "5m", "path": "./kustomize", "prune": true,
                     "sourceRef": {"kind": "GitRepository", "name": "podinfo"}},
        })).await?;
        let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
        secrets
            .create(&PostParams::default(), &serde_json::from_value(json!({
                "apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "podinfo-auth", "namespace": ns},
                "stringData": {"username": "flux", "password": "hunter2"},
            }))?)
            .await?;

        secrets
            .create(&PostParams::default(), &serde_json::from_value(json!({
                "apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "argo-repo", "namespace": ns,
                             "labels": {"argocd.argoproj.io/secret-type": "repository"}},
                "stringData": {"url": "https://git.example/guestbook.git", "password": "hunter3",
                               "username": "argo"},
            }))?)
            .await?;

        let out = import(&["--from-cluster", "-o", "json", "-n", "gitops"])?;
        ensure!(
            !String::from_utf8_lossy(&out.stderr).contains("hunter"),
            "a password reached stderr"
        );
        let read = json_of(&out)?;
        let objects = read["objects"].as_array().cloned().unwrap_or_default();
        let find = |kind: &str, name: &str| {
            objects
                .iter()
                .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
                .cloned()
        };
        let argo = find("Application", "guestbook").ok_or_else(|| anyhow::anyhow!("{read}"))?;
        ensure!(argo["metadata"]["namespace"] == "gitops", "{argo}");
        ensure!(argo["spec"]["source"]["path"] == "guestbook", "{argo}");
        let flux = find("Application", "podinfo").ok_or_else(|| anyhow::anyhow!("{read}"))?;
        ensure!(flux["metadata"]["namespace"] == ns.as_str(), "{flux}");
        ensure!(flux["spec"]["source"]["targetRevision"] == "6.5.0", "{flux}");
        let secret = find("Secret", &format!("flux-{ns}-podinfo"))
            .ok_or_else(|| anyhow::anyhow!("no credential Secret: {read}"))?;
        ensure!(secret["metadata"]["namespace"] == "gitops", "{secret}");
        ensure!(secret["stringData"]["url"] == "https://git.example/podinfo.git", "{secret}");
        ensure!(secret["data"]["password"] == "aHVudGVyMg==", "{secret}");
        let argo_secret = find("Secret", "argo-repo").ok_or_else(|| anyhow::anyhow!("{read}"))?;
        ensure!(
            argo_secret["metadata"]["labels"]["driftless.dev/secret-type"] == "repository"
                && argo_secret["data"]["password"] == "aHVudGVyMw==",
            "{argo_secret}"
        );
        let missing = notes(&read);
        ensure!(missing.len() == 4, "only the kinds still missing: {missing:?}");
        for kind in ["AppProject", "ApplicationSet", "HelmRepository", "HelmRelease"] {
            ensure!(missing.iter().any(|n| n.contains(&format!(" {kind}: "))), "{missing:?}");
        }
        // Server-populated fields are not findings.
        let report = read["report"].as_array().cloned().unwrap_or_default();
        ensure!(
            !report.iter().any(|f| f["field"].as_str().is_some_and(|p| p.starts_with("status") || p.contains("managedFields"))),
            "{report:?}"
        );
        Ok(())
    })
    .await?
}
