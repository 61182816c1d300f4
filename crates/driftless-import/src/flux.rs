//! Flux's `GitRepository` + `Kustomization` (joined by `sourceRef`), the Secret of the
//! GitRepository's `secretRef`, and `HelmRepository` + `HelmRelease`, which cannot be
//! converted yet.
//!
//! One Flux Kustomization becomes one Driftless Application in the same namespace (where its
//! `serviceAccountName` lives); its GitRepository gives the repository, revision and poll
//! interval, and the GitRepository's Secret becomes a repository credential Secret in the
//! controller's namespace (docs/repositories.md).

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use crate::adopt::{Adoption, Marks};
use crate::fields::Fields;
use crate::finding::{Finding, Notes};
use crate::{Conversion, Input, Options, argo, meta};

/// Flux's source API group.
pub(crate) const SOURCE_GROUP: &str = "source.toolkit.fluxcd.io";
/// Flux's Kustomization API group.
pub(crate) const KUSTOMIZE_GROUP: &str = "kustomize.toolkit.fluxcd.io";
/// Flux's HelmRelease API group.
pub(crate) const HELM_GROUP: &str = "helm.toolkit.fluxcd.io";

/// The field manager kustomize-controller applies as.
pub(crate) const MANAGER: &str = "kustomize-controller";

/// Flux's default branch when a GitRepository names no reference.
const DEFAULT_BRANCH: &str = "master";

/// The ConfigMap of SSH known hosts Driftless reads (docs/repositories.md).
const KNOWN_HOSTS_CONFIG_MAP: &str = "driftless-ssh-known-hosts";
/// Its key.
const KNOWN_HOSTS_KEY: &str = "ssh_known_hosts";
/// The ConfigMap of certificate authorities per host Driftless reads.
const TLS_CONFIG_MAP: &str = "driftless-tls-certs";
/// The label that makes a Secret a repository credential.
const SECRET_TYPE_LABEL: &str = "driftless.dev/secret-type";

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

    /// Whether `input` is the Secret of a GitRepository's `secretRef` (converted with it).
    pub(crate) fn is_credential(&self, input: &Input) -> bool {
        let key = key_of(&input.object);
        self.git.iter().any(|((namespace, _), repo)| {
            namespace == &key.0
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

/// A Flux Kustomization as a Driftless Application, with the credential Secret and ConfigMaps
/// its GitRepository needs; `None` (reported) when it cannot be.
pub(crate) fn kustomization(
    input: &Input,
    sources: &Sources<'_>,
    options: &Options,
    name: &str,
    out: &mut Conversion,
) -> Option<(Value, Vec<Value>)> {
    let mut findings = Vec::new();
    let mut notes = Notes::new(name.to_owned(), &mut findings);
    let made = application(input, sources, options, &mut notes);
    let refused = notes.refused();
    drop(notes);
    out.findings.extend(findings);
    if refused {
        return None;
    }
    let (application, extra, adoption) = made?;
    out.adoptions.push(adoption);
    Some((application, extra))
}

/// Kustomization fields that change what is rendered: Driftless builds the path as it is.
const RENDER_FIELDS: [&str; 6] = [
    "patches",
    "images",
    "namePrefix",
    "nameSuffix",
    "commonMetadata",
    "components",
];

fn application(
    input: &Input,
    sources: &Sources<'_>,
    options: &Options,
    notes: &mut Notes<'_>,
) -> Option<(Value, Vec<Value>, Adoption)> {
    let (namespace, ks_name) = key_of(&input.object);
    let namespace = if namespace.is_empty() {
        "default".to_owned()
    } else {
        namespace
    };
    let carried = meta::carry(&input.object, notes);
    let mut spec = Fields::new("spec", input.object.get("spec").cloned());
    let reference = spec.take("sourceRef");
    let Some((kind, repo_key)) = source_ref(reference.as_ref(), &namespace) else {
        notes.not_converted(Some("spec.sourceRef"), "no source");
        return None;
    };
    if kind != "GitRepository" {
        notes.not_converted(
            Some("spec.sourceRef"),
            format!("the source is a {kind}: Driftless reads Git repositories only"),
        );
        return None;
    }
    let Some(repo) = sources.git.get(&repo_key) else {
        notes.not_converted(
            Some("spec.sourceRef"),
            format!(
                "its GitRepository {}/{} is not among the inputs: give its file too (or use --from-cluster)",
                repo_key.0, repo_key.1
            ),
        );
        return None;
    };
    for (field, reason) in [
        (
            "kubeConfig",
            "applies to another cluster: Driftless syncs the cluster it runs in; run Driftless there",
        ),
        (
            "decryption",
            "SOPS decryption: Driftless cannot decrypt yet, and would apply the encrypted Secrets as they are",
        ),
    ] {
        if spec.take(field).is_some() {
            notes.not_converted(Some(&format!("spec.{field}")), reason);
        }
    }
    if let Some(mut post) = spec.object("postBuild") {
        let substitutes = post.take("substitute").is_some() | post.take("substituteFrom").is_some();
        if substitutes {
            notes.not_converted(
                Some("spec.postBuild"),
                "variable substitution: Driftless has no equivalent and would apply the ${...} as they are",
            );
        }
        post.finish(notes);
    }
    if notes.refused() {
        return None;
    }

    let repo_object = &repo.object;
    let repo_text = |p: &str| repo_object.pointer(p).and_then(Value::as_str);
    let Some(url) = repo_text("/spec/url") else {
        notes.not_converted(
            Some("spec.sourceRef"),
            format!(
                "its GitRepository {}/{} has no spec.url",
                repo_key.0, repo_key.1
            ),
        );
        return None;
    };
    let mut source = Map::new();
    source.insert("repoURL".into(), json!(url));
    source.insert(
        "targetRevision".into(),
        json!(revision(repo_object.pointer("/spec/ref"))),
    );
    if let Some(path) = spec.string("path").and_then(|p| argo::clean_path(&p)) {
        source.insert("path".into(), json!(path));
    }
    // Flux builds a directory without kustomization file as if one listed every manifest under
    // it, subdirectories included.
    source.insert("directory".into(), json!({"recurse": true}));

    let mut out = Map::new();
    out.insert("source".into(), Value::Object(source));
    let mut destination = Map::new();
    if let Some(target) = spec.string("targetNamespace") {
        notes.changed(
            "spec.targetNamespace",
            "Driftless puts objects that name no namespace there; Flux also moves those that name another",
        );
        destination.insert("namespace".into(), json!(target));
    }
    out.insert("destination".into(), Value::Object(destination));
    let prune = spec.bool("prune").unwrap_or(false);
    out.insert(
        "syncPolicy".into(),
        json!({"automated": {"prune": prune, "selfHeal": true}}),
    );
    if let Some(retry) = spec.string("retryInterval") {
        out["syncPolicy"]["retry"] =
            json!({"limit": -1, "backoff": {"duration": retry, "factor": 1, "maxDuration": retry}});
    }
    let ks_interval = spec.string("interval");
    match (repo_text("/spec/interval"), ks_interval) {
        (Some(repo_interval), ks) => {
            out.insert("interval".into(), json!(repo_interval));
            if let Some(ks) = ks.filter(|ks| ks != repo_interval) {
                notes.changed(
                    "spec.interval",
                    format!(
                        "{ks}: Driftless polls Git every {repo_interval} (the GitRepository's interval) and corrects drift from watches at once, not at an interval"
                    ),
                );
            }
        }
        (None, Some(ks)) => {
            out.insert("interval".into(), json!(ks));
        }
        (None, None) => {}
    }
    let suspended = spec.bool("suspend").unwrap_or(false)
        || repo_object
            .pointer("/spec/suspend")
            .and_then(Value::as_bool)
            .unwrap_or(false);
    if suspended {
        out.insert("suspend".into(), json!(true));
    }
    if let Some(account) = spec.string("serviceAccountName") {
        out.insert("serviceAccountName".into(), json!(account));
    }
    if spec.take("dependsOn").is_some() {
        notes.dropped(
            "spec.dependsOn",
            "Driftless has no dependencies between Applications yet: they sync independently",
        );
    }
    for field in RENDER_FIELDS {
        if spec.take(field).is_some() {
            notes.dropped(
                &format!("spec.{field}"),
                "Driftless builds the path in Git as it is: move this into a kustomization.yaml there, or the objects it renders differ from Flux's",
            );
        }
    }
    if spec.bool("wait").is_some_and(|w| w) {
        notes.changed(
            "spec.wait",
            "Driftless assesses the health of every object it applies; Ready waits for all of them",
        );
    }
    for (field, reason) in [
        (
            "healthChecks",
            "Driftless assesses the health of the objects it applies, not of others",
        ),
        (
            "healthCheckExprs",
            "no equivalent: Driftless's health checks are built in, per kind",
        ),
        (
            "timeout",
            "no equivalent: a wave waits for health as long as the sync's own timeout",
        ),
        ("ignoreMissingComponents", "no equivalent"),
    ] {
        if spec.take(field).is_some() {
            notes.dropped(&format!("spec.{field}"), reason);
        }
    }
    if spec.bool("force").is_some_and(|f| f) {
        notes.dropped(
            "spec.force",
            "no equivalent for all objects: driftless.dev/sync-options: Replace=true on an object replaces it when an immutable field changes",
        );
    }
    let deletion = spec.string("deletionPolicy");
    let finalizer = match deletion.as_deref() {
        None | Some("MirrorPrune") => prune,
        Some("Delete") => true,
        Some("WaitForTermination") => {
            notes.changed(
                "spec.deletionPolicy",
                "WaitForTermination: Driftless's finalizer deletes the objects without waiting for them to go",
            );
            true
        }
        Some("Orphan") => false,
        Some(other) => {
            notes.dropped(
                "spec.deletionPolicy",
                format!("{other:?} is not a Flux deletion policy"),
            );
            prune
        }
    };
    spec.finish(notes);

    let app_name = ks_name;
    if !meta::tracking_fits(&namespace, &app_name, notes) {
        return None;
    }
    let mut metadata = meta::metadata(&namespace, &app_name, &carried);
    if finalizer {
        metadata["finalizers"] = json!([driftless_api::FINALIZER]);
    }
    let spec: driftless_api::ApplicationSpec = match serde_json::from_value(Value::Object(out)) {
        Ok(spec) => spec,
        Err(e) => {
            notes.not_converted(
                None,
                format!("the spec does not read as a Driftless Application: {e}"),
            );
            return None;
        }
    };
    let application = json!({
        "apiVersion": format!("{}/{}", driftless_api::GROUP, driftless_api::VERSION),
        "kind": "Application",
        "metadata": metadata,
        "spec": spec,
    });
    let extra = credentials(repo, &repo_key, url, sources, options, notes);
    let adoption = Adoption {
        namespace: namespace.clone(),
        name: app_name.clone(),
        source: notes.object().to_owned(),
        marks: Marks::Flux {
            name: app_name,
            namespace,
        },
        managers: vec![MANAGER.to_owned()],
    };
    Some((application, extra, adoption))
}

/// The Driftless `targetRevision` for a GitRepository's `ref`: Flux's precedence is commit,
/// name, semver, tag, branch; no reference at all means the branch `master`.
fn revision(reference: Option<&Value>) -> String {
    let text = |k: &str| {
        reference
            .and_then(|r| r.get(k))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    if let Some(commit) = text("commit") {
        return commit.to_owned();
    }
    if let Some(name) = text("name") {
        return name
            .strip_prefix("refs/heads/")
            .or_else(|| name.strip_prefix("refs/tags/"))
            .unwrap_or(name)
            .to_owned();
    }
    if let Some(range) = text("semver") {
        // A bare version is a range of one version for Flux; Driftless would look it up as a
        // branch or tag name first.
        let bare = !range.contains(['<', '>', '=', '~', '^', '*', '|', ' ', ','])
            && !range.split('.').any(|p| p.eq_ignore_ascii_case("x"));
        return if bare {
            format!("={range}")
        } else {
            range.to_owned()
        };
    }
    text("tag")
        .or_else(|| text("branch"))
        .unwrap_or(DEFAULT_BRANCH)
        .to_owned()
}

/// The repository credential Secret (and known hosts, CA ConfigMaps) for a GitRepository's
/// `secretRef`; the Secret's keys without equivalent reported.
fn credentials(
    repo: &Input,
    repo_key: &Key,
    url: &str,
    sources: &Sources<'_>,
    options: &Options,
    notes: &mut Notes<'_>,
) -> Vec<Value> {
    let Some(secret_name) = repo
        .object
        .pointer("/spec/secretRef/name")
        .and_then(Value::as_str)
    else {
        return Vec::new();
    };
    let Some(secret) = sources
        .secrets
        .get(&(repo_key.0.clone(), secret_name.to_owned()))
    else {
        notes.dropped(
            "spec.sourceRef",
            format!(
                "the credentials of GitRepository {}/{} are in Secret {}/{secret_name}, which is not among the inputs: create a repository credential Secret for {url} in {} (docs/repositories.md)",
                repo_key.0, repo_key.1, repo_key.0, options.namespace
            ),
        );
        return Vec::new();
    };
    let secret_label = meta::describe(secret);
    let values = secret_values(&secret.object);
    let ssh = url.starts_with("ssh://") || !url.contains("://");
    let mut data = Map::new();
    let mut out = Vec::new();
    let mut secret_notes: Vec<(String, String, bool)> = Vec::new();
    for (key, bytes) in &values {
        let encoded = STANDARD.encode(bytes);
        match key.as_str() {
            "username" | "password" if !ssh => {
                data.insert(key.clone(), json!(encoded));
            }
            "password" => secret_notes.push((
                key.clone(),
                "the passphrase of the SSH key: Driftless takes keys without passphrase only; decrypt the key (ssh-keygen -p)".into(),
                false,
            )),
            "bearerToken" => {
                data.insert(key.clone(), json!(encoded));
                secret_notes.push((
                    key.clone(),
                    "Driftless sends it as the password of the user x-access-token (GitHub, Gitea, Bitbucket, GitLab accept that), not as an Authorization: Bearer header".into(),
                    true,
                ));
            }
            "identity" => {
                data.insert("sshPrivateKey".into(), json!(encoded));
            }
            "known_hosts" => match String::from_utf8(bytes.clone()) {
                Ok(hosts) => {
                    out.push(json!({
                        "apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": KNOWN_HOSTS_CONFIG_MAP, "namespace": options.namespace},
                        "data": {KNOWN_HOSTS_KEY: hosts},
                    }));
                    secret_notes.push((
                        key.clone(),
                        format!("moved to the ConfigMap {KNOWN_HOSTS_CONFIG_MAP}, which Driftless reads for every repository"),
                        true,
                    ));
                }
                Err(_) => secret_notes.push((key.clone(), "not UTF-8".into(), false)),
            },
            "ca.crt" | "caFile" => {
                let host = host_of(url);
                match (String::from_utf8(bytes.clone()), host) {
                    (Ok(pem), Some(host)) => {
                        // `ca.crt` wins over `caFile` in Flux: the later one does not replace it.
                        if key == "caFile" && values.contains_key("ca.crt") {
                            continue;
                        }
                        out.push(json!({
                            "apiVersion": "v1", "kind": "ConfigMap",
                            "metadata": {"name": TLS_CONFIG_MAP, "namespace": options.namespace},
                            "data": {host.clone(): pem},
                        }));
                        secret_notes.push((
                            key.clone(),
                            format!("moved to the ConfigMap {TLS_CONFIG_MAP}, key {host}: trusted for every fetch from that host"),
                            true,
                        ));
                    }
                    _ => secret_notes.push((key.clone(), "not a UTF-8 PEM bundle, or no host in the URL".into(), false)),
                }
            }
            "tls.crt" | "tls.key" | "certFile" | "keyFile" => secret_notes.push((
                key.clone(),
                "TLS client certificates: not supported by Driftless yet".into(),
                false,
            )),
            _ => secret_notes.push((key.clone(), "no equivalent".into(), false)),
        }
    }
    {
        let mut findings = Vec::new();
        let mut notes_of_secret = Notes::new(secret_label, &mut findings);
        for (key, reason, changed) in secret_notes {
            let field = format!("data.{key}");
            if changed {
                notes_of_secret.changed(&field, reason);
            } else {
                notes_of_secret.dropped(&field, reason);
            }
        }
        drop(notes_of_secret);
        for finding in findings {
            notes.push_finding(finding);
        }
    }
    if !data.is_empty() {
        let mut string_data = Map::new();
        string_data.insert("url".into(), json!(url));
        out.insert(
            0,
            json!({
                "apiVersion": "v1", "kind": "Secret",
                "metadata": {
                    "name": format!("flux-{}-{}", repo_key.0, repo_key.1),
                    "namespace": options.namespace,
                    "labels": {SECRET_TYPE_LABEL: "repository"},
                },
                "type": "Opaque",
                "stringData": string_data,
                "data": data,
            }),
        );
    }
    out
}

/// A Secret's values by key: `data` (base64) and `stringData`, the latter winning as the API
/// server has it. Values that are not valid base64 are left out.
fn secret_values(secret: &Value) -> BTreeMap<String, Vec<u8>> {
    let mut values = BTreeMap::new();
    if let Some(data) = secret.get("data").and_then(Value::as_object) {
        for (key, value) in data {
            if let Some(bytes) = value.as_str().and_then(|v| STANDARD.decode(v.trim()).ok()) {
                values.insert(key.clone(), bytes);
            }
        }
    }
    if let Some(data) = secret.get("stringData").and_then(Value::as_object) {
        for (key, value) in data {
            if let Some(text) = value.as_str() {
                values.insert(key.clone(), text.as_bytes().to_vec());
            }
        }
    }
    values
}

/// The host of a URL, lowercased, without user or port.
fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = host.split(':').next()?;
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// The objects for the output, with the known-hosts and CA ConfigMaps of several repositories
/// merged into one each (Driftless reads one of each).
pub(crate) fn merge_config_maps(objects: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for object in objects {
        let name = object.pointer("/metadata/name").and_then(Value::as_str);
        let merge_into = (object.get("kind").and_then(Value::as_str) == Some("ConfigMap"))
            .then(|| {
                out.iter().position(|o| {
                    o.get("kind").and_then(Value::as_str) == Some("ConfigMap")
                        && o.pointer("/metadata/name").and_then(Value::as_str) == name
                })
            })
            .flatten();
        let Some(index) = merge_into else {
            if !out.contains(&object) {
                out.push(object);
            }
            continue;
        };
        let Some(data) = object.get("data").and_then(Value::as_object) else {
            continue;
        };
        for (key, value) in data {
            let Some(slot) = out[index].pointer_mut("/data") else {
                continue;
            };
            let joined = match (slot.get(key).and_then(Value::as_str), value.as_str()) {
                (Some(old), Some(new)) if key == KNOWN_HOSTS_KEY && !old.contains(new) => {
                    format!("{}\n{new}", old.trim_end())
                }
                (Some(old), _) => old.to_owned(),
                (None, Some(new)) => new.to_owned(),
                (None, None) => continue,
            };
            slot[key] = json!(joined);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_resolves_with_flux_precedence() {
        assert_eq!(revision(None), "master");
        assert_eq!(revision(Some(&json!({"branch": "main"}))), "main");
        assert_eq!(
            revision(Some(&json!({"branch": "main", "tag": "v1.0.0"}))),
            "v1.0.0"
        );
        assert_eq!(
            revision(Some(&json!({"tag": "v1.0.0", "semver": ">=1.0.0 <2.0.0"}))),
            ">=1.0.0 <2.0.0"
        );
        assert_eq!(revision(Some(&json!({"semver": "1.2.3"}))), "=1.2.3");
        assert_eq!(revision(Some(&json!({"semver": "1.x"}))), "1.x");
        assert_eq!(
            revision(Some(&json!({"semver": "1.x", "name": "refs/heads/dev"}))),
            "dev"
        );
        assert_eq!(
            revision(Some(&json!({"name": "refs/pull/420/head"}))),
            "refs/pull/420/head"
        );
        let commit = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(
            revision(Some(&json!({"branch": "main", "commit": commit}))),
            commit
        );
    }

    #[test]
    fn hosts_come_out_of_urls() {
        assert_eq!(
            host_of("https://Git.Example:8443/org/app.git").as_deref(),
            Some("git.example")
        );
        assert_eq!(
            host_of("ssh://git@git.example/org/app").as_deref(),
            Some("git.example")
        );
        assert_eq!(host_of("not a url"), None);
    }
}
