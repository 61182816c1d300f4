//! A Flux `Kustomization`, with its `GitRepository`, as a Driftless `Application`.

use serde_json::{Map, Value, json};

use super::{MANAGER, Sources, credentials::credentials, key_of, source_ref};
use crate::adopt::{Adoption, Marks};
use crate::fields::Fields;
use crate::finding::Notes;
use crate::{Conversion, Input, Options, argo, meta};

/// Flux's default branch when a GitRepository names no reference.
const DEFAULT_BRANCH: &str = "master";

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
    let application = meta::application(metadata, out, notes)?;
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
}
