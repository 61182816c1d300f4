//! An Argo CD `Application` as a Driftless `Application`.

use serde_json::{Map, Value, json};

use super::{MANAGERS, clean_path};
use crate::adopt::{Adoption, Marks};
use crate::fields::Fields;
use crate::finding::Notes;
use crate::{Conversion, Input, Options, meta};

/// Argo CD's finalizers that delete an Application's objects with it (the plain one deletes
/// in the foreground; the suffixed ones say which propagation).
const RESOURCES_FINALIZER: &str = "resources-finalizer.argocd.argoproj.io";

/// Sync options of Argo CD that Driftless does not take, with what to say about each.
const OTHER_SYNC_OPTIONS: [(&str, &str); 6] = [
    (
        "ServerSideApply",
        "Driftless always applies server-side, as field manager driftless",
    ),
    (
        "FailOnSharedResource",
        "Driftless never applies an object that another Application's tracking id names: it is reported as a conflict",
    ),
    (
        "RespectIgnoreDifferences",
        "no equivalent: ignoreDifferences only leave fields out of the comparison",
    ),
    (
        "SkipDryRunOnMissingResource",
        "no equivalent: Driftless dry-runs every wave before applying it",
    ),
    (
        "ClientSideApplyMigration",
        "no equivalent: import --adopt moves the old managers' fields to driftless instead",
    ),
    (
        "Delete",
        "no equivalent at the Application level; per object, driftless.dev/sync-options: Prune=false keeps an object",
    ),
];

/// An Argo CD Application as a Driftless Application, or `None` (reported) when it cannot be.
pub(crate) fn application(
    input: &Input,
    options: &Options,
    name: &str,
    out: &mut Conversion,
) -> Option<Value> {
    let mut findings = Vec::new();
    let mut notes = Notes::new(name.to_owned(), &mut findings);
    let made = application_spec(input, options, &mut notes);
    let refused = notes.refused();
    drop(notes);
    out.findings.extend(findings);
    if refused {
        return None;
    }
    let (object, adoption) = made?;
    out.adoptions.push(adoption);
    Some(object)
}

fn application_spec(
    input: &Input,
    options: &Options,
    notes: &mut Notes<'_>,
) -> Option<(Value, Adoption)> {
    let (argo_namespace, app_name) = meta::name_of(&input.object);
    let carried = meta::carry(&input.object, notes);
    let mut spec = Fields::new("spec", input.object.get("spec").cloned());
    let mut out = Map::new();

    if let Some(project) = spec.string("project") {
        out.insert("project".into(), json!(project));
    }
    let source = match (spec.object("source"), spec.list("sources")) {
        (Some(source), _) => source,
        (None, sources) if sources.len() == 1 => {
            notes.changed(
                "spec.sources",
                "a single source in spec.sources: converted as spec.source",
            );
            sources.into_iter().next()?
        }
        (None, sources) if sources.len() > 1 => {
            notes.not_converted(
                Some("spec.sources"),
                format!(
                    "{} sources: a Driftless Application has one source; split it into one Application per source",
                    sources.len()
                ),
            );
            return None;
        }
        (None, _) => {
            if spec.take("sourceHydrator").is_some() {
                notes.not_converted(
                    Some("spec.sourceHydrator"),
                    "Driftless has no source hydrator: point an Application at the hydrated branch instead",
                );
            } else {
                notes.not_converted(Some("spec.source"), "no source");
            }
            return None;
        }
    };
    out.insert("source".into(), source_of(source, notes)?);

    let mut destination = spec
        .object("destination")
        .unwrap_or_else(|| Fields::new("spec.destination", None));
    let mut dest = Map::new();
    let server = destination.string("server");
    let cluster = destination.string("name");
    let in_cluster = |s: &str| s.is_empty() || s.trim_end_matches('/') == IN_CLUSTER;
    match (&server, &cluster) {
        (Some(s), _) if !in_cluster(s) => {
            notes.not_converted(
                Some("spec.destination.server"),
                format!(
                    "targets the cluster {s}: Driftless syncs the cluster it runs in; run Driftless there and import this Application there"
                ),
            );
            return None;
        }
        (_, Some(c)) if c != "in-cluster" => {
            notes.not_converted(
                Some("spec.destination.name"),
                format!(
                    "targets the cluster {c:?}: Driftless syncs the cluster it runs in; run Driftless there and import this Application there"
                ),
            );
            return None;
        }
        _ => {}
    }
    if let Some(s) = server.filter(|s| !s.is_empty()) {
        dest.insert("server".into(), json!(s));
    }
    if let Some(namespace) = destination.string("namespace") {
        dest.insert("namespace".into(), json!(namespace));
    }
    destination.finish(notes);
    out.insert("destination".into(), Value::Object(dest));

    let mut suspend = false;
    if let Some(mut policy) = spec.object("syncPolicy") {
        let mut converted = Map::new();
        if let Some(mut automated) = policy.object("automated") {
            let mut auto = Map::new();
            for field in ["prune", "selfHeal", "allowEmpty"] {
                if let Some(value) = automated.bool(field) {
                    auto.insert(field.into(), json!(value));
                }
            }
            if automated.bool("enabled") == Some(false) {
                suspend = true;
                notes.changed(
                    "spec.syncPolicy.automated.enabled",
                    "false: Driftless has no such switch; spec.suspend: true keeps the policy and pauses it (driftless app resume starts it)",
                );
            }
            automated.finish(notes);
            converted.insert("automated".into(), Value::Object(auto));
        }
        let options = sync_options(policy.strings("syncOptions", notes), notes);
        if !options.is_empty() {
            converted.insert("syncOptions".into(), json!(options));
        }
        if let Some(mut retry) = policy.object("retry") {
            let mut r = Map::new();
            if let Some(limit) = retry.int("limit") {
                r.insert("limit".into(), json!(limit));
            }
            if let Some(mut backoff) = retry.object("backoff") {
                let mut b = Map::new();
                for field in ["duration", "maxDuration"] {
                    if let Some(value) = backoff.string(field) {
                        b.insert(field.into(), json!(value));
                    }
                }
                if let Some(factor) = backoff.int("factor") {
                    b.insert("factor".into(), json!(factor));
                }
                backoff.finish(notes);
                r.insert("backoff".into(), Value::Object(b));
            }
            if retry.bool("refresh").is_some_and(|r| r) {
                notes.dropped(
                    "spec.syncPolicy.retry.refresh",
                    "no equivalent: a retry uses the commit the sync started with",
                );
            }
            retry.finish(notes);
            converted.insert("retry".into(), Value::Object(r));
        }
        if policy.take("managedNamespaceMetadata").is_some() {
            notes.dropped(
                "spec.syncPolicy.managedNamespaceMetadata",
                "no equivalent: declare the Namespace with its labels and annotations in Git",
            );
        }
        policy.finish(notes);
        out.insert("syncPolicy".into(), Value::Object(converted));
    }

    let mut ignored = Vec::new();
    for mut rule in spec.list("ignoreDifferences") {
        let mut r = Map::new();
        for field in ["group", "kind", "name", "namespace"] {
            if let Some(value) = rule.string(field) {
                r.insert(field.into(), json!(value));
            }
        }
        for field in ["jsonPointers", "jqPathExpressions", "managedFieldsManagers"] {
            let values = rule.strings(field, notes);
            if !values.is_empty() {
                r.insert(field.into(), json!(values));
            }
        }
        rule.finish(notes);
        ignored.push(Value::Object(r));
    }
    if !ignored.is_empty() {
        out.insert("ignoreDifferences".into(), Value::Array(ignored));
    }
    if let Some(limit) = spec.int("revisionHistoryLimit") {
        let kept = limit.clamp(0, MAX_HISTORY);
        if kept != limit {
            notes.changed(
                "spec.revisionHistoryLimit",
                format!("{limit}: Driftless keeps 0 to {MAX_HISTORY} entries; set to {kept}"),
            );
        }
        out.insert("revisionHistoryLimit".into(), json!(kept));
    }
    if spec.take("info").is_some() {
        notes.dropped(
            "spec.info",
            "no equivalent: put the information in annotations of the Application",
        );
    }
    spec.finish(notes);
    if suspend {
        out.insert("suspend".into(), json!(true));
    }
    if input.object.get("operation").is_some() {
        notes.dropped(
            "operation",
            "a sync operation Argo CD had not finished: request it again with driftless app sync",
        );
    }

    let namespace = options.namespace.clone();
    if !meta::tracking_fits(&namespace, &app_name, notes) {
        return None;
    }
    let mut metadata = meta::metadata(&namespace, &app_name, &carried);
    let finalizers = finalizers(&carried.finalizers, notes);
    if !finalizers.is_empty() {
        metadata["finalizers"] = json!(finalizers);
    }
    let object = meta::application(metadata, out, notes)?;
    let mut prefixes = vec![format!("{app_name}:")];
    if !argo_namespace.is_empty() {
        prefixes.push(format!("{argo_namespace}_{app_name}:"));
    }
    let adoption = Adoption {
        namespace,
        name: app_name.clone(),
        source: notes_object(notes),
        marks: Marks::ArgoCd {
            instance: app_name,
            tracking_prefixes: prefixes,
        },
        managers: MANAGERS.iter().map(|m| (*m).to_owned()).collect(),
    };
    Some((object, adoption))
}

fn notes_object(notes: &Notes<'_>) -> String {
    notes.object().to_owned()
}

/// The API server URL of the cluster an Argo CD or Driftless controller runs in.
const IN_CLUSTER: &str = "https://kubernetes.default.svc";

/// The most history entries a Driftless Application keeps.
const MAX_HISTORY: i64 = 100;

fn source_of(mut source: Fields, notes: &mut Notes<'_>) -> Option<Value> {
    let at = source.at("");
    let at = at.trim_end_matches('.').to_owned();
    let mut out = Map::new();
    let Some(repo) = source.string("repoURL") else {
        notes.not_converted(Some(&format!("{at}.repoURL")), "no repository URL");
        return None;
    };
    if let Some(chart) = source.string("chart") {
        notes.not_converted(
            Some(&format!("{at}.chart")),
            format!(
                "the Helm chart {chart:?} from {repo}: Driftless has no Helm renderer yet (issue #16)"
            ),
        );
        return None;
    }
    if source.take("helm").is_some() {
        notes.not_converted(
            Some(&format!("{at}.helm")),
            "a Helm chart in Git: Driftless has no Helm renderer yet (issue #16)",
        );
        return None;
    }
    if source.take("plugin").is_some() {
        notes.not_converted(
            Some(&format!("{at}.plugin")),
            "a config management plugin: Driftless renders plain manifests and Kustomize in process and runs no plugins",
        );
        return None;
    }
    if repo.starts_with("oci://") {
        notes.not_converted(
            Some(&format!("{at}.repoURL")),
            "an OCI artifact: Driftless reads Git repositories only",
        );
        return None;
    }
    out.insert("repoURL".into(), json!(repo));
    if let Some(revision) = source.string("targetRevision") {
        out.insert("targetRevision".into(), json!(revision));
    }
    if let Some(path) = source.string("path").and_then(|p| clean_path(&p)) {
        out.insert("path".into(), json!(path));
    }
    if let Some(mut directory) = source.object("directory") {
        let mut d = Map::new();
        if let Some(recurse) = directory.bool("recurse") {
            d.insert("recurse".into(), json!(recurse));
        }
        for field in ["include", "exclude"] {
            if let Some(glob) = directory.string(field) {
                d.insert(field.into(), json!(glob));
            }
        }
        if let Some(jsonnet) = directory.object("jsonnet") {
            drop(jsonnet);
            notes.not_converted(
                Some(&format!("{at}.directory.jsonnet")),
                "Jsonnet: Driftless has no Jsonnet renderer, and would read none of the .jsonnet files",
            );
            return None;
        }
        directory.finish(notes);
        out.insert("directory".into(), Value::Object(d));
    }
    if let Some(mut kustomize) = source.object("kustomize") {
        for field in KUSTOMIZE_FIELDS {
            if kustomize.take(field).is_some() {
                notes.dropped(
                    &format!("{at}.kustomize.{field}"),
                    "Driftless builds the kustomization in Git as it is: move this into kustomization.yaml, or the objects it renders differ from Argo CD's",
                );
            }
        }
        kustomize.finish(notes);
    }
    for field in ["ref", "name"] {
        if source.take(field).is_some() {
            notes.dropped(
                &format!("{at}.{field}"),
                "names a source among several; a Driftless Application has one",
            );
        }
    }
    source.finish(notes);
    Some(Value::Object(out))
}

/// `spec.source.kustomize` fields of Argo CD: overrides on top of the kustomization in Git.
const KUSTOMIZE_FIELDS: [&str; 15] = [
    "namePrefix",
    "nameSuffix",
    "images",
    "commonLabels",
    "commonAnnotations",
    "commonAnnotationsEnvsubst",
    "forceCommonLabels",
    "forceCommonAnnotations",
    "labelWithoutSelector",
    "labelIncludeTemplates",
    "namespace",
    "replicas",
    "patches",
    "components",
    "version",
];

/// The sync options Driftless takes, as they are; the others reported.
fn sync_options(options: Vec<String>, notes: &mut Notes<'_>) -> Vec<String> {
    let mut kept = Vec::new();
    for option in options {
        let mut parsed = driftless_sync::SyncOptions::default();
        if parsed.set(&option).is_ok() {
            kept.push(option);
            continue;
        }
        let key = option.split_once('=').map_or(option.as_str(), |(k, _)| k);
        let reason = OTHER_SYNC_OPTIONS
            .iter()
            .find(|(known, _)| *known == key)
            .map_or(
                "no equivalent in Driftless (docs/sync.md lists its sync options)",
                |(_, reason)| reason,
            );
        notes.dropped(&format!("spec.syncPolicy.syncOptions[{option}]"), reason);
    }
    kept
}

/// Argo CD's resources finalizer becomes Driftless's; others are reported.
fn finalizers(finalizers: &[String], notes: &mut Notes<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for finalizer in finalizers {
        match finalizer.strip_prefix(RESOURCES_FINALIZER) {
            Some("/background") => out.push(driftless_api::FINALIZER.to_owned()),
            Some(_) => {
                out.push(driftless_api::FINALIZER.to_owned());
                notes.changed(
                    &format!("metadata.finalizers[{finalizer}]"),
                    "Driftless's finalizer deletes the objects in the background",
                );
            }
            None => notes.dropped(
                &format!("metadata.finalizers[{finalizer}]"),
                "not Argo CD's resources finalizer; a finalizer only its own controller removes would block deletion",
            ),
        }
    }
    out.dedup();
    out
}
