//! Argo CD's and Flux's objects as the cluster holds them, for `driftless import
//! --from-cluster`.

use driftless_import::Input;
use driftless_sync::ClusterError;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ListParams};
use kube::core::DynamicObject;
use serde_json::Value;

use crate::errors::cluster_error;
use crate::forbidden::forbidden;
use crate::kube_cluster::KubeCluster;

/// The kinds `driftless import` converts, with the tool that defines them.
const KINDS: [(&str, &str, &str); 7] = [
    ("argoproj.io", "AppProject", "Argo CD"),
    ("argoproj.io", "Application", "Argo CD"),
    ("argoproj.io", "ApplicationSet", "Argo CD"),
    ("source.toolkit.fluxcd.io", "GitRepository", "Flux"),
    ("source.toolkit.fluxcd.io", "HelmRepository", "Flux"),
    ("kustomize.toolkit.fluxcd.io", "Kustomization", "Flux"),
    ("helm.toolkit.fluxcd.io", "HelmRelease", "Flux"),
];

/// What the cluster holds of Argo CD and Flux.
#[derive(Debug, Default)]
pub struct Foreign {
    /// The objects, and the Secrets their GitRepositories reference.
    pub inputs: Vec<Input>,
    /// What could not be read, one line each: a kind whose CRD is not installed, a kind or a
    /// Secret the credentials may not read.
    pub notes: Vec<String>,
}

impl KubeCluster {
    /// Every Argo CD `AppProject`, `Application` and `ApplicationSet` and every Flux
    /// `GitRepository`, `HelmRepository`, `Kustomization` and `HelmRelease` of every
    /// namespace, Argo CD's repository Secrets (labelled `argocd.argoproj.io/secret-type`), and
    /// the Secret each GitRepository's `secretRef` names.
    ///
    /// A kind the cluster does not serve (the tool's CRD is not installed), or may not be
    /// listed, is a note, not an error; so is a Secret that is missing or may not be read.
    ///
    /// # Errors
    /// Any other failed request.
    pub async fn foreign_objects(&self) -> Result<Foreign, ClusterError> {
        let mut foreign = Foreign::default();
        let kinds = self.served_kinds().await;
        for (group, kind, tool) in KINDS {
            let served = kinds
                .iter()
                .find(|k| k.resource.group == group && k.resource.kind == kind);
            let Some(served) = served else {
                foreign.notes.push(format!(
                    "the cluster serves no {group} {kind}: {tool}'s CustomResourceDefinition is not installed"
                ));
                continue;
            };
            let api: Api<DynamicObject> = Api::all_with(self.client().clone(), &served.resource);
            let list = match api.list(&ListParams::default()).await {
                Ok(list) => list,
                Err(e) if forbidden(&e).is_some() => {
                    foreign
                        .notes
                        .push(format!("may not list {group} {kind}: {e}"));
                    continue;
                }
                Err(e) => return Err(cluster_error(e)),
            };
            for item in list.items {
                let mut object = serde_json::to_value(&item).map_err(|e| ClusterError {
                    kind: driftless_sync::ErrorKind::Invalid,
                    message: format!("reading a {kind}: {e}"),
                })?;
                // List items of some API servers carry no type; the list's kind says it.
                object["apiVersion"] = Value::String(served.resource.api_version.clone());
                object["kind"] = Value::String(kind.to_owned());
                foreign.inputs.push(Input {
                    object,
                    origin: "cluster".to_owned(),
                });
            }
        }
        let secrets: Vec<(String, String)> = foreign
            .inputs
            .iter()
            .filter(|i| i.object["kind"] == "GitRepository")
            .filter_map(|i| {
                let namespace = i.object.pointer("/metadata/namespace")?.as_str()?;
                let name = i.object.pointer("/spec/secretRef/name")?.as_str()?;
                Some((namespace.to_owned(), name.to_owned()))
            })
            .collect();
        // Argo CD's repository credentials, wherever Argo CD runs.
        let all: Api<Secret> = Api::all(self.client().clone());
        let labelled = ListParams::default()
            .labels("argocd.argoproj.io/secret-type in (repository,repo-creds)");
        match all.list(&labelled).await {
            Ok(list) => {
                for secret in list.items {
                    foreign.inputs.push(Input {
                        object: secret_value(&secret)?,
                        origin: "cluster".to_owned(),
                    });
                }
            }
            Err(e) if forbidden(&e).is_some() => foreign.notes.push(
                "may not list Secrets: Argo CD's repository credentials were not read".to_owned(),
            ),
            Err(e) => return Err(cluster_error(e)),
        }
        for (namespace, name) in secrets {
            let api: Api<Secret> = Api::namespaced(self.client().clone(), &namespace);
            match api.get_opt(&name).await {
                Ok(Some(secret)) => {
                    let object = secret_value(&secret)?;
                    if !foreign.inputs.iter().any(|i| i.object == object) {
                        foreign.inputs.push(Input {
                            object,
                            origin: "cluster".to_owned(),
                        });
                    }
                }
                Ok(None) => foreign
                    .notes
                    .push(format!("the Secret {namespace}/{name} does not exist")),
                Err(e) if forbidden(&e).is_some() => foreign
                    .notes
                    .push(format!("may not read the Secret {namespace}/{name}")),
                Err(e) => return Err(cluster_error(e)),
            }
        }
        Ok(foreign)
    }
}

/// A Secret as JSON, with its type.
fn secret_value(secret: &Secret) -> Result<Value, ClusterError> {
    let mut object = serde_json::to_value(secret).map_err(|e| ClusterError {
        kind: driftless_sync::ErrorKind::Invalid,
        message: format!("reading a Secret: {e}"),
    })?;
    object["apiVersion"] = Value::String("v1".to_owned());
    object["kind"] = Value::String("Secret".to_owned());
    Ok(object)
}
