//! Argo CD's `Application`, `AppProject` and `ApplicationSet` (`argoproj.io/v1alpha1`).
//!
//! Driftless took Argo CD's field names where the concept is the same, so most fields carry
//! over as they are; this module says which do not, field by field.

use serde_json::{Map, Value, json};

use crate::adopt::{Adoption, Marks};
use crate::fields::Fields;
use crate::finding::{Finding, Notes};
use crate::{Conversion, Input, Options, meta};

/// Argo CD's API group.
pub(crate) const GROUP: &str = "argoproj.io";

/// Argo CD's finalizers that delete an Application's objects with it (the plain one deletes
/// in the foreground; the suffixed ones say which propagation).
const RESOURCES_FINALIZER: &str = "resources-finalizer.argocd.argoproj.io";

/// The field managers Argo CD writes as: server-side apply, and client-side apply.
pub(crate) const MANAGERS: [&str; 2] = ["argocd-controller", "argocd-application-controller"];

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
    let object = json!({
        "apiVersion": format!("{}/{}", driftless_api::GROUP, driftless_api::VERSION),
        "kind": "Application",
        "metadata": metadata,
        "spec": spec,
    });
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

/// `./deploy/` → `deploy`; `.` and `` → none (the repository root).
pub(crate) fn clean_path(path: &str) -> Option<String> {
    let trimmed = path.trim().trim_start_matches("./").trim_end_matches('/');
    match trimmed {
        "" | "." => None,
        other => Some(other.to_owned()),
    }
}

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

/// An Argo CD AppProject as a Driftless AppProject (in the controller's namespace).
pub(crate) fn project(
    input: &Input,
    options: &Options,
    name: &str,
    findings: &mut Vec<Finding>,
) -> Option<Value> {
    let mut notes = Notes::new(name.to_owned(), findings);
    let (_, project_name) = meta::name_of(&input.object);
    let carried = meta::carry(&input.object, &mut notes);
    let mut spec = Fields::new("spec", input.object.get("spec").cloned());
    let mut out = Map::new();
    if let Some(description) = spec.string("description") {
        out.insert("description".into(), json!(description));
    }
    for field in ["sourceRepos", "sourceNamespaces"] {
        let values = spec.strings(field, &mut notes);
        if !values.is_empty() {
            out.insert(field.into(), json!(values));
        }
    }
    let items = |spec: &mut Fields, field: &str, keys: &[&str], notes: &mut Notes<'_>| {
        let mut list = Vec::new();
        for mut item in spec.list(field) {
            let mut m = Map::new();
            for key in keys {
                if let Some(value) = item.string(key) {
                    m.insert((*key).into(), json!(value));
                }
            }
            item.finish(notes);
            list.push(Value::Object(m));
        }
        list
    };
    let destinations = items(
        &mut spec,
        "destinations",
        &["server", "name", "namespace"],
        &mut notes,
    );
    out.insert("destinations".into(), Value::Array(destinations));
    for (field, keys) in [
        ("clusterResourceWhitelist", &["group", "kind", "name"][..]),
        ("clusterResourceBlacklist", &["group", "kind", "name"][..]),
        ("namespaceResourceBlacklist", &["group", "kind"][..]),
    ] {
        let list = items(&mut spec, field, keys, &mut notes);
        if !list.is_empty() {
            out.insert(field.into(), Value::Array(list));
        }
    }
    // Absent, the whitelist permits every namespaced kind; present and empty, none: in Argo CD
    // as in Driftless, so an empty one is kept.
    let present = input
        .object
        .pointer("/spec/namespaceResourceWhitelist")
        .is_some_and(Value::is_array);
    let whitelist = items(
        &mut spec,
        "namespaceResourceWhitelist",
        &["group", "kind"],
        &mut notes,
    );
    if present {
        out.insert("namespaceResourceWhitelist".into(), Value::Array(whitelist));
    }
    if let Some(mut orphaned) = spec.object("orphanedResources") {
        let mut o = Map::new();
        if let Some(warn) = orphaned.bool("warn") {
            o.insert("warn".into(), json!(warn));
        }
        let ignore = items(
            &mut orphaned,
            "ignore",
            &["group", "kind", "name"],
            &mut notes,
        );
        if !ignore.is_empty() {
            o.insert("ignore".into(), Value::Array(ignore));
        }
        orphaned.finish(&mut notes);
        out.insert("orphanedResources".into(), Value::Object(o));
    }
    let mut roles = Vec::new();
    for mut role in spec.list("roles") {
        let mut r = Map::new();
        for key in ["name", "description"] {
            if let Some(value) = role.string(key) {
                r.insert(key.into(), json!(value));
            }
        }
        for key in ["policies", "groups"] {
            let values = role.strings(key, &mut notes);
            if !values.is_empty() {
                r.insert(key.into(), json!(values));
            }
        }
        let at = role.at("jwtTokens");
        if role.take("jwtTokens").is_some() {
            notes.dropped(
                &at,
                "Argo CD's project tokens: Driftless's API does not issue tokens; bind OIDC groups instead",
            );
        }
        role.finish(&mut notes);
        roles.push(Value::Object(r));
    }
    if !roles.is_empty() {
        out.insert("roles".into(), Value::Array(roles));
    }
    let mut windows = Vec::new();
    for mut window in spec.list("syncWindows") {
        let mut w = Map::new();
        for key in ["kind", "schedule", "duration", "timeZone"] {
            if let Some(value) = window.string(key) {
                w.insert(key.into(), json!(value));
            }
        }
        for key in ["applications", "namespaces", "clusters"] {
            let values = window.strings(key, &mut notes);
            if !values.is_empty() {
                w.insert(key.into(), json!(values));
            }
        }
        if let Some(manual) = window.bool("manualSync") {
            w.insert("manualSync".into(), json!(manual));
        }
        let at = window.at("andOperator");
        if window.bool("andOperator") == Some(true) {
            notes.changed(
                &at,
                "Driftless matches a window when any of its applications, namespaces or clusters matches (or)",
            );
        }
        if window.take("description").is_some() {
            notes.dropped(&window.at("description"), "no equivalent");
        }
        window.finish(&mut notes);
        windows.push(Value::Object(w));
    }
    if !windows.is_empty() {
        out.insert("syncWindows".into(), Value::Array(windows));
    }
    let accounts = items(
        &mut spec,
        "destinationServiceAccounts",
        &["server", "namespace", "defaultServiceAccount"],
        &mut notes,
    );
    if !accounts.is_empty() {
        out.insert("destinationServiceAccounts".into(), Value::Array(accounts));
    }
    if spec.take("signatureKeys").is_some() {
        notes.dropped(
            "spec.signatureKeys",
            "Driftless does not verify commit signatures yet",
        );
    }
    if spec
        .bool("permitOnlyProjectScopedClusters")
        .is_some_and(|p| p)
    {
        notes.dropped(
            "spec.permitOnlyProjectScopedClusters",
            "Driftless has no project-scoped clusters",
        );
    }
    spec.finish(&mut notes);
    let spec: driftless_api::AppProjectSpec = match serde_json::from_value(Value::Object(out)) {
        Ok(spec) => spec,
        Err(e) => {
            notes.not_converted(
                None,
                format!("the spec does not read as a Driftless AppProject: {e}"),
            );
            return None;
        }
    };
    if !carried.finalizers.is_empty() {
        notes.dropped(
            "metadata.finalizers",
            "Argo CD's project finalizer; a Driftless AppProject needs none",
        );
    }
    Some(json!({
        "apiVersion": format!("{}/{}", driftless_api::GROUP, driftless_api::VERSION),
        "kind": "AppProject",
        "metadata": meta::metadata(&options.namespace, &project_name, &carried),
        "spec": spec,
    }))
}

/// An ApplicationSet: not convertible yet; the report says what it generates from.
pub(crate) fn application_set(input: &Input, name: &str, findings: &mut Vec<Finding>) {
    let mut notes = Notes::new(name.to_owned(), findings);
    let generators: Vec<String> = input
        .object
        .pointer("/spec/generators")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|g| g.as_object().and_then(|m| m.keys().next().cloned()))
        .collect();
    let from = if generators.is_empty() {
        String::new()
    } else {
        format!(" (generators: {})", generators.join(", "))
    };
    notes.not_converted(
        None,
        format!(
            "Driftless has no ApplicationSet yet (issue #18){from}: import the Applications it generated instead (--from-cluster lists them)"
        ),
    );
}

/// The label that makes a Secret one of Argo CD's repository credentials.
pub(crate) const SECRET_TYPE_LABEL: &str = "argocd.argoproj.io/secret-type";

/// Whether `object` is one of Argo CD's repository credential Secrets.
pub(crate) fn is_repository_secret(object: &Value) -> bool {
    matches!(
        object
            .pointer("/metadata/labels")
            .and_then(|l| l.get(SECRET_TYPE_LABEL))
            .and_then(Value::as_str),
        Some("repository" | "repo-creds")
    )
}

/// Keys of an Argo CD repository Secret that Driftless reads the same way.
const SECRET_KEYS: [&str; 7] = [
    "url",
    "username",
    "password",
    "bearerToken",
    "sshPrivateKey",
    "insecureIgnoreHostKey",
    "project",
];

/// An Argo CD repository credential Secret (`repository` or `repo-creds`) as Driftless's:
/// the same keys, the label `driftless.dev/secret-type`, in the controller's namespace.
pub(crate) fn repository_secret(
    input: &Input,
    options: &Options,
    name: &str,
    findings: &mut Vec<Finding>,
) -> Option<Value> {
    let mut notes = Notes::new(name.to_owned(), findings);
    let object = &input.object;
    let (_, secret_name) = meta::name_of(object);
    let secret_type = object
        .pointer("/metadata/labels")
        .and_then(|l| l.get(SECRET_TYPE_LABEL))
        .cloned()
        .unwrap_or(Value::Null);
    let value_of = |key: &str| -> Option<String> {
        if let Some(text) = object
            .pointer(&format!("/stringData/{key}"))
            .and_then(Value::as_str)
        {
            return Some(text.to_owned());
        }
        let encoded = object
            .pointer(&format!("/data/{key}"))
            .and_then(Value::as_str)?;
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?;
        String::from_utf8(bytes).ok()
    };
    match value_of("type").as_deref() {
        None | Some("git") => {}
        Some(other) => {
            notes.not_converted(
                Some("data.type"),
                format!("a {other} repository: Driftless reads Git repositories only (Helm charts: issue #16)"),
            );
            return None;
        }
    }
    let mut out = json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {
            "name": secret_name,
            "namespace": options.namespace,
            "labels": {"driftless.dev/secret-type": secret_type},
        },
        "type": "Opaque",
    });
    for field in ["data", "stringData"] {
        let Some(map) = object.get(field).and_then(Value::as_object) else {
            continue;
        };
        let mut kept = Map::new();
        for (key, value) in map {
            if SECRET_KEYS.contains(&key.as_str()) {
                kept.insert(key.clone(), value.clone());
            } else if key != "type" {
                let reason = match key.as_str() {
                    "name" => "a display name: Driftless names credentials by their Secret",
                    "insecure" => {
                        "Driftless always verifies TLS certificates: trust a private CA with the ConfigMap driftless-tls-certs"
                    }
                    "tlsClientCertData" | "tlsClientCertKey" => {
                        "TLS client certificates: not supported by Driftless yet"
                    }
                    k if k.starts_with("githubApp") => {
                        "GitHub App credentials: not supported by Driftless yet; use a token (bearerToken or password)"
                    }
                    "proxy" | "noProxy" => "Driftless does not fetch through proxies yet",
                    _ => "no equivalent in Driftless",
                };
                notes.dropped(&format!("{field}.{key}"), reason);
            }
        }
        if !kept.is_empty() {
            out[field] = Value::Object(kept);
        }
    }
    if value_of("url").is_none() {
        notes.not_converted(Some("data.url"), "no url: not a usable credential");
        return None;
    }
    let labels = object
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (key, value) in labels {
        if key != SECRET_TYPE_LABEL {
            out["metadata"]["labels"][key] = value;
        }
    }
    Some(out)
}
