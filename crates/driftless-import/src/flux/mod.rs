//! Flux's `GitRepository` + `Kustomization` (joined by `sourceRef`), the Secret of the
//! GitRepository's `secretRef`, and `HelmRepository` + `HelmRelease`, which cannot be
//! converted yet.
//!
//! One Flux Kustomization becomes one Driftless Application in the same namespace (where its
//! `serviceAccountName` lives); its GitRepository gives the repository, revision and poll
//! interval, and the GitRepository's Secret becomes a repository credential Secret in the
//! controller's namespace (docs/repositories.md).

mod credentials;
mod kustomization;

pub(crate) use credentials::merge_config_maps;
pub(crate) use kustomization::kustomization;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::fields::Fields;
use crate::finding::{Finding, Notes};
use crate::{Input, meta};

/// Flux's source API group.
pub(crate) const SOURCE_GROUP: &str = "source.toolkit.fluxcd.io";
/// Flux's Kustomization API group.
pub(crate) const KUSTOMIZE_GROUP: &str = "kustomize.toolkit.fluxcd.io";
/// Flux's HelmRelease API group.
pub(crate) const HELM_GROUP: &str = "helm.toolkit.fluxcd.io";

/// The field manager kustomize-controller applies as.
pub(crate) const MANAGER: &str = "kustomize-controller";

type Key = (String, String);

/// The Flux sources and Secrets among the inputs, by namespace and name.
#[derive(Debug, Default)]
pub(crate) struct Sources<'a> {
    git: BTreeMap<Key, &'a Input>,
    helm: BTreeMap<Key, &'a Input>,
    secrets: BTreeMap<Key, &'a Input>,
    /// GitRepositories some Kustomization uses.
    used_git: BTreeSet<Key>,
    /// HelmRepositories some HelmRelease uses, with the releases.
    used_helm: BTreeMap<Key, Vec<String>>,
}

fn key_of(object: &Value) -> Key {
    meta::name_of(object)
}

fn group_kind(object: &Value) -> (&str, &str) {
    let group = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .and_then(|v| v.rsplit_once('/'))
        .map_or("", |(g, _)| g);
    (
        group,
        object.get("kind").and_then(Value::as_str).unwrap_or(""),
    )
}

/// A `sourceRef` (`kind`, `name`, `namespace` defaulting to the referrer's).
fn source_ref(reference: Option<&Value>, namespace: &str) -> Option<(String, Key)> {
    let reference = reference?;
    let text = |k: &str| reference.get(k).and_then(Value::as_str).unwrap_or("");
    let ns = match text("namespace") {
        "" => namespace,
        ns => ns,
    };
    Some((
        text("kind").to_owned(),
        (ns.to_owned(), text("name").to_owned()),
    ))
}

impl<'a> Sources<'a> {
    /// Indexes the inputs and records which sources are used.
    pub(crate) fn index(inputs: &'a [Input]) -> Self {
        let mut sources = Self::default();
        for input in inputs {
            let object = &input.object;
            match group_kind(object) {
                (SOURCE_GROUP, "GitRepository") => {
                    sources.git.insert(key_of(object), input);
                }
                (SOURCE_GROUP, "HelmRepository") => {
                    sources.helm.insert(key_of(object), input);
                }
                ("", "Secret") => {
                    sources.secrets.insert(key_of(object), input);
                }
                _ => {}
            }
        }
        for input in inputs {
            let object = &input.object;
            let (namespace, name) = key_of(object);
            match group_kind(object) {
                (KUSTOMIZE_GROUP, "Kustomization") => {
                    if let Some((kind, key)) =
                        source_ref(object.pointer("/spec/sourceRef"), &namespace)
                        && kind == "GitRepository"
                    {
                        sources.used_git.insert(key);
                    }
                }
                (HELM_GROUP, "HelmRelease") => {
                    if let Some((kind, key)) =
                        source_ref(object.pointer("/spec/chart/spec/sourceRef"), &namespace)
                        && kind == "HelmRepository"
                    {
                        sources
                            .used_helm
                            .entry(key)
                            .or_default()
                            .push(format!("{namespace}/{name}"));
                    }
                }
                _ => {}
            }
        }
        sources
    }

    /// Whether `input` is the Secret of the `secretRef` of a GitRepository some Kustomization
    /// uses (converted with it).
    pub(crate) fn is_credential(&self, input: &Input) -> bool {
        let key = key_of(&input.object);
        self.git.iter().any(|(repo_key, repo)| {
            repo_key.0 == key.0
                && self.used_git.contains(repo_key)
                && repo
                    .object
                    .pointer("/spec/secretRef/name")
                    .and_then(Value::as_str)
                    == Some(key.1.as_str())
        })
    }

    /// Reports a GitRepository: its fields without equivalent, or that nothing uses it.
    pub(crate) fn git_repository_report(
        &self,
        input: &Input,
        name: &str,
        findings: &mut Vec<Finding>,
    ) {
        let mut notes = Notes::new(name.to_owned(), findings);
        if !self.used_git.contains(&key_of(&input.object)) {
            notes.not_converted(
                None,
                "no Kustomization among the inputs uses it: Driftless has no source object of its own; each Application names its repository",
            );
            return;
        }
        let _ = meta::carry(&input.object, &mut notes);
        let mut spec = Fields::new("spec", input.object.get("spec").cloned());
        // Read by the Kustomizations that use it.
        for field in ["url", "ref", "interval", "suspend", "secretRef"] {
            spec.take(field);
        }
        let reasons: [(&str, &str); 10] = [
            ("timeout", "Driftless's fetches have their own timeouts"),
            (
                "ignore",
                "Driftless reads every file of the path; for plain directories, spec.source.directory.exclude skips files",
            ),
            (
                "include",
                "no equivalent: Driftless reads one repository per Application",
            ),
            ("verify", "Driftless does not verify commit signatures yet"),
            (
                "recurseSubmodules",
                "Driftless does not fetch submodules (a submodule in the path is an error)",
            ),
            (
                "proxySecretRef",
                "Driftless does not fetch through proxies yet",
            ),
            (
                "sparseCheckout",
                "no equivalent: Driftless reads only the Application's path anyway",
            ),
            ("accessFrom", "no equivalent"),
            (
                "gitImplementation",
                "no equivalent: Driftless has one Git implementation",
            ),
            (
                "provider",
                "Driftless authenticates with credential Secrets only",
            ),
        ];
        for (field, reason) in reasons {
            let value = spec.take(field);
            let harmless =
                field == "provider" && value.as_ref().and_then(Value::as_str) == Some("generic");
            if value.is_some() && !harmless {
                notes.dropped(&format!("spec.{field}"), reason);
            }
        }
        spec.finish(&mut notes);
    }

    /// Reports a HelmRepository: it cannot be converted yet.
    pub(crate) fn helm_repository_report(
        &self,
        input: &Input,
        name: &str,
        findings: &mut Vec<Finding>,
    ) {
        let mut notes = Notes::new(name.to_owned(), findings);
        let url = input
            .object
            .pointer("/spec/url")
            .and_then(Value::as_str)
            .unwrap_or("?");
        let users = self
            .used_helm
            .get(&key_of(&input.object))
            .map(|releases| format!(", used by HelmRelease {}", releases.join(", ")))
            .unwrap_or_default();
        notes.not_converted(
            None,
            format!(
                "the Helm repository {url}{users}: Driftless has no Helm renderer yet (issue #16)"
            ),
        );
    }
}

/// A HelmRelease: not convertible yet; the report names its chart.
pub(crate) fn helm_release(
    input: &Input,
    sources: &Sources<'_>,
    name: &str,
    findings: &mut Vec<Finding>,
) {
    let mut notes = Notes::new(name.to_owned(), findings);
    let object = &input.object;
    let (namespace, _) = key_of(object);
    let text = |p: &str| object.pointer(p).and_then(Value::as_str);
    let chart = match (text("/spec/chart/spec/chart"), text("/spec/chartRef/name")) {
        (Some(chart), _) => {
            let version = text("/spec/chart/spec/version").unwrap_or("*");
            let from = source_ref(object.pointer("/spec/chart/spec/sourceRef"), &namespace)
                .map(|(kind, key)| {
                    let url = sources
                        .helm
                        .get(&key)
                        .and_then(|r| r.object.pointer("/spec/url"))
                        .and_then(Value::as_str)
                        .map(|u| format!(" ({u})"))
                        .unwrap_or_default();
                    format!(" from {kind} {}/{}{url}", key.0, key.1)
                })
                .unwrap_or_default();
            format!("the chart {chart} {version}{from}")
        }
        (None, Some(reference)) => format!(
            "the chart of {} {reference}",
            text("/spec/chartRef/kind").unwrap_or("source")
        ),
        (None, None) => "a Helm chart".to_owned(),
    };
    notes.not_converted(
        None,
        format!("{chart}: Driftless has no Helm renderer yet (issue #16); nothing of this release is converted"),
    );
}
