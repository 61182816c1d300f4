//! An Argo CD `AppProject` as a Driftless `AppProject`, and the `ApplicationSet`, which cannot
//! be converted yet.

use serde_json::{Map, Value, json};

use crate::fields::Fields;
use crate::finding::{Finding, Notes};
use crate::{Input, Options, meta};

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
