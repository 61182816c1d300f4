//! Moving from Argo CD and Flux: their objects in, Driftless objects and a report out.
//!
//! [`convert`] maps Argo CD's `Application` and `AppProject` and Flux's `GitRepository` +
//! `Kustomization` (joined by `sourceRef`, with the credentials of the GitRepository's
//! `secretRef`) field by field onto Driftless's `Application`, `AppProject` and repository
//! credential Secrets; Argo CD's repository Secrets (`argocd.argoproj.io/secret-type`) become
//! Driftless's. Whatever does not carry over as it was is in the report
//! ([`Finding`]): a field without equivalent, a field whose meaning changes, or a whole object
//! that cannot be converted yet (`ApplicationSet`, `HelmRelease`, `HelmRepository`, an unknown
//! kind). Nothing is dropped silently.
//!
//! [`adopt`] is the pure half of taking over the objects those tools manage: recognising their
//! marks, and the metadata patch and managed-fields rewrite that make Driftless their owner.
//!
//! Pure: no client, no runtime, no Git.

pub mod adopt;
mod argo;
mod fields;
mod finding;
mod flux;
mod meta;

pub use adopt::{Adoption, Marks};
pub use finding::{Finding, Outcome};

use serde_json::Value;

/// The namespace Driftless's controller runs in: where AppProjects, repository credentials
/// and (by default) the Applications converted from Argo CD go.
pub const CONTROLLER_NAMESPACE: &str = "driftless-system";

/// One source object and where it came from.
#[derive(Debug, Clone)]
pub struct Input {
    /// The object as read (YAML or JSON, or from the cluster).
    pub object: Value,
    /// Where it came from, for the report: `apps.yaml#2`, `cluster`.
    pub origin: String,
}

/// Choices the sources do not make.
#[derive(Debug, Clone)]
pub struct Options {
    /// The controller's namespace: AppProjects and repository credential Secrets go there,
    /// and so do the Applications converted from Argo CD (Argo CD keeps them in its own
    /// namespace). Applications converted from Flux stay in their Kustomization's namespace,
    /// where its `serviceAccountName` lives.
    pub namespace: String,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            namespace: CONTROLLER_NAMESPACE.to_owned(),
        }
    }
}

/// What [`convert`] made.
#[derive(Debug, Default)]
pub struct Conversion {
    /// Driftless objects ready to apply: AppProjects, then Secrets and ConfigMaps, then
    /// Applications.
    pub objects: Vec<Value>,
    /// Every field or object that did not carry over as it was.
    pub findings: Vec<Finding>,
    /// For each converted Application, how to find the objects the old tool manages for it.
    pub adoptions: Vec<Adoption>,
}

/// Converts Argo CD and Flux objects into Driftless objects. See the crate documentation.
pub fn convert(inputs: &[Input], options: &Options) -> Conversion {
    let mut out = Conversion::default();
    let sources = flux::Sources::index(inputs);
    let mut projects = Vec::new();
    let mut secrets = Vec::new();
    let mut applications = Vec::new();
    for input in inputs {
        let kind = input
            .object
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("");
        let group = input
            .object
            .get("apiVersion")
            .and_then(Value::as_str)
            .map(|v| v.rsplit_once('/').map_or("", |(group, _)| group))
            .unwrap_or("");
        let name = meta::describe(input);
        match (group, kind) {
            (argo::GROUP, "Application") => {
                if let Some(converted) = argo::application(input, options, &name, &mut out) {
                    applications.push(converted);
                }
            }
            (argo::GROUP, "AppProject") => {
                if let Some(converted) = argo::project(input, options, &name, &mut out.findings) {
                    projects.push(converted);
                }
            }
            (argo::GROUP, "ApplicationSet") => {
                argo::application_set(input, &name, &mut out.findings)
            }
            (flux::KUSTOMIZE_GROUP, "Kustomization") => {
                let made = flux::kustomization(input, &sources, options, &name, &mut out);
                if let Some((application, credentials)) = made {
                    applications.push(application);
                    secrets.extend(credentials);
                }
            }
            (flux::SOURCE_GROUP, "GitRepository") => {
                sources.git_repository_report(input, &name, &mut out.findings);
            }
            (flux::SOURCE_GROUP, "HelmRepository") => {
                sources.helm_repository_report(input, &name, &mut out.findings);
            }
            (flux::HELM_GROUP, "HelmRelease") => {
                flux::helm_release(input, &sources, &name, &mut out.findings);
            }
            ("", "Secret") if argo::is_repository_secret(&input.object) => {
                if let Some(converted) =
                    argo::repository_secret(input, options, &name, &mut out.findings)
                {
                    secrets.push(converted);
                }
            }
            ("", "Secret") if sources.is_credential(input) => {}
            ("", "Secret") => out.findings.push(Finding {
                object: name,
                field: None,
                outcome: Outcome::NotConverted,
                reason: "neither one of Argo CD's repository Secrets nor the secretRef of a GitRepository a Kustomization uses: left out".to_owned(),
            }),
            _ => out.findings.push(Finding {
                object: name,
                field: None,
                outcome: Outcome::NotConverted,
                reason: format!(
                    "not a kind import knows (it converts {}): left out",
                    KNOWN_KINDS
                ),
            }),
        }
    }
    // Argo CD Applications of several namespaces all land in the controller's namespace: two of
    // the same name would be one object. (Each converted Application pushed its adoption, in
    // the same order.)
    let mut names = std::collections::BTreeSet::new();
    let mut kept = Vec::new();
    for (application, adoption) in applications
        .into_iter()
        .zip(std::mem::take(&mut out.adoptions))
    {
        if names.insert((adoption.namespace.clone(), adoption.name.clone())) {
            kept.push((application, adoption));
        } else {
            out.findings.push(Finding {
                object: adoption.source.clone(),
                field: Some("metadata.name".to_owned()),
                outcome: Outcome::NotConverted,
                reason: format!(
                    "another object converts to the Application {}/{} too: import them separately, into other namespaces (-n)",
                    adoption.namespace, adoption.name
                ),
            });
        }
    }
    let (applications, adoptions): (Vec<_>, Vec<_>) = kept.into_iter().unzip();
    out.adoptions = adoptions;
    let mut seen = Vec::new();
    out.findings.retain(|f| {
        let new = !seen.contains(f);
        if new {
            seen.push(f.clone());
        }
        new
    });
    out.objects.extend(projects);
    out.objects.extend(flux::merge_config_maps(secrets));
    out.objects.extend(applications);
    out
}

/// The kinds [`convert`] reads, for messages.
pub const KNOWN_KINDS: &str = "argoproj.io Application, AppProject and ApplicationSet, and Argo CD's \
    repository Secrets; \
    source.toolkit.fluxcd.io GitRepository and HelmRepository (with the Secrets they reference), \
    kustomize.toolkit.fluxcd.io Kustomization and helm.toolkit.fluxcd.io HelmRelease";
