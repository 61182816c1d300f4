//! The patch transformers: `patchesStrategicMerge`, `patches` and `patchesJson6902`, and the
//! target selection they share.

use crate::error::Error;
use crate::kustomization::{Patch, Selector};
use crate::parse::parse_documents;
use crate::resource::ns_eq;
use crate::resource::{Resource, split_api_version};
use crate::target::{Builder, Target};
use serde_json::Value;

/// Reads a patch given as a file path or inline text; the text and the file it is in (the
/// patch file, or the kustomization for inline text), for errors.
fn patch_text(b: &Builder<'_>, t: &Target, entry: &str) -> Result<(String, String), Error> {
    let looks_inline = entry.contains('\n')
        || entry.trim_start().starts_with('{')
        || entry.trim_start().starts_with('[');
    if !looks_inline {
        let path = crate::target::dir_in_tree(t, entry)?;
        if b.fs.exists(&path) {
            return Ok((b.read_in_root(t, entry)?, path));
        }
        if !entry.contains(':') {
            return Err(Error::msg(format!("'{path}' doesn't exist")));
        }
    }
    Ok((entry.to_string(), t.file.clone()))
}

/// `patchesStrategicMerge`: each document patches the resource with its kind, name and namespace.
pub(crate) fn strategic_merge_entries(
    b: &Builder<'_>,
    t: &Target,
    res: &mut Vec<Resource>,
) -> Result<(), Error> {
    for (i, entry) in t.k.patches_strategic_merge.iter().enumerate() {
        let field = format!("patchesStrategicMerge[{i}]");
        let (text, source) = patch_text(b, t, entry).map_err(|e| e.in_field(&t.file, &field))?;
        let docs = parse_documents(&text, &source)?;
        if docs.is_empty() {
            return Err(
                Error::msg(format!("patch appears to be empty; {entry}")).in_field(&t.file, &field)
            );
        }
        let inline = source == t.file;
        let step = crate::record::Step {
            file: &source,
            field: inline.then_some(field.as_str()),
            transformer: "PatchStrategicMergeTransformer",
        };
        b.step(res, step, |res| {
            for doc in docs {
                check_patch_doc(&doc, entry).map_err(|e| e.in_field(&t.file, &field))?;
                // Read as a resource: its labels and annotations are strings.
                let doc = metadata_as_text(doc, &text);
                apply_smp_by_id(res, &doc, custom_schema(t))?;
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// A strategic merge patch is read as a resource: kustomize refuses one without a kind, or
/// without a name (unless its kind is a list).
pub(crate) fn check_patch_doc(doc: &Value, what: &str) -> Result<(), Error> {
    let (_, kind, name, _) = patch_id(doc);
    let what = if what.contains('\n') {
        "inline patch"
    } else {
        what
    };
    if kind.is_empty() {
        return Err(Error::msg(format!(
            "unable to parse SM or JSON patch from {what}: missing kind"
        )));
    }
    if name.is_empty() && !kind.ends_with("List") {
        return Err(Error::msg(format!(
            "unable to parse SM or JSON patch from {what}: missing metadata.name"
        )));
    }
    Ok(())
}

fn patch_id(doc: &Value) -> (String, String, String, String) {
    let s = |p: &[&str]| {
        crate::fieldpath::get(doc, p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    (
        s(&["apiVersion"]),
        s(&["kind"]),
        s(&["metadata", "name"]),
        s(&["metadata", "namespace"]),
    )
}

fn id_text(av: &str, kind: &str, name: &str, ns: &str) -> String {
    let (g, v) = split_api_version(av);
    let g = if g.is_empty() { "[noGrp]" } else { g };
    let ns = if ns.is_empty() { "[noNs]" } else { ns };
    format!("{kind}.{v}.{g}/{name}.{ns}")
}

/// The custom OpenAPI document in effect for this kustomization's patches.
pub(crate) fn custom_schema(t: &Target) -> Option<&Value> {
    t.schema.as_deref()
}

/// Applies a strategic merge patch to the one resource it names.
pub(crate) fn apply_smp_by_id(
    res: &mut Vec<Resource>,
    doc: &Value,
    schema: Option<&Value>,
) -> Result<(), Error> {
    let (av, kind, name, ns) = patch_id(doc);
    let (group, version) = split_api_version(&av);
    // kustomize's `GetById`: the patch's id equals the current id or one of the previous ids
    // (name and namespace of the same id together), in the same group and version.
    let matches: Vec<usize> = res
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            let namespaced = crate::fieldspecs::resource_is_namespaced(r);
            let same_id = |n: &str, s: &str, k: &str| {
                n == name && k == kind && (!namespaced || ns_eq(s, &ns))
            };
            r.group() == group
                && r.version() == version
                && (same_id(r.name(), r.namespace(), r.kind())
                    || r.history.iter().any(|(n, s, k)| same_id(n, s, k)))
        })
        .map(|(i, _)| i)
        .collect();
    let id = id_text(&av, &kind, &name, &ns);
    match matches.as_slice() {
        [i] => {
            apply_smp(res, *i, doc, (true, true), schema);
            Ok(())
        }
        [] => Err(Error::msg(format!(
            "no matches for Id {id}; failed to find unique target for patch {id}"
        ))),
        _ => Err(Error::msg(format!(
            "multiple matches for Id {id}; failed to find unique target for patch {id}"
        ))),
    }
}

/// Applies a strategic merge patch to resource `i`; a top-level `$patch: delete` removes it.
fn apply_smp(
    res: &mut Vec<Resource>,
    i: usize,
    doc: &Value,
    keep_identity: (bool, bool),
    schema: Option<&Value>,
) {
    if doc.get("$patch").and_then(Value::as_str) == Some("delete") {
        res.remove(i);
        return;
    }
    let Some(r) = res.get_mut(i) else { return };
    let mut patch = doc.clone();
    let (keep_name, keep_kind) = keep_identity;
    if keep_name && let Some(md) = patch.get_mut("metadata").and_then(Value::as_object_mut) {
        md.shift_remove("name");
        md.shift_remove("namespace");
    }
    if keep_kind && let Some(p) = patch.as_object_mut() {
        p.shift_remove("kind");
        p.shift_remove("apiVersion");
    }
    if !keep_name || !keep_kind {
        r.remember();
    }
    let (old_name, old_ns) = (r.name().to_string(), r.namespace().to_string());
    let kind = r.kind().to_string();
    let api_version = r.api_version().to_string();
    let shared = crate::alias::snapshot(r);
    let mut obj = Value::Object(std::mem::take(&mut r.obj));
    crate::smp::merge_with(&kind, &api_version, schema, &mut obj, &patch);
    if let Value::Object(m) = obj {
        r.obj = m;
    }
    crate::alias::merged(r, &shared);
    if r.name() != old_name || r.namespace() != old_ns {
        r.history.push((old_name, old_ns, kind));
        r.history.dedup();
    }
}

/// `patches`: strategic merge or JSON 6902 patches, each for the resources its target selects
/// (or, without a target, for the resource a strategic merge patch names).
pub(crate) fn patches(b: &Builder<'_>, t: &Target, res: &mut Vec<Resource>) -> Result<(), Error> {
    for (i, p) in t.k.patches.iter().enumerate() {
        let field = format!("patches[{i}]");
        recorded_entry(b, t, res, p, &field, "PatchTransformer")?;
    }
    Ok(())
}

/// `patchesJson6902`.
pub(crate) fn json6902_entries(
    b: &Builder<'_>,
    t: &Target,
    res: &mut Vec<Resource>,
) -> Result<(), Error> {
    for (i, p) in t.k.patches_json6902.iter().enumerate() {
        let field = format!("patchesJson6902[{i}]");
        recorded_entry(b, t, res, p, &field, "PatchJson6902Transformer")?;
    }
    Ok(())
}

/// One patch entry as a recorded step: its patch file, or for an inline patch the
/// kustomization's `field`.
fn recorded_entry(
    b: &Builder<'_>,
    t: &Target,
    res: &mut Vec<Resource>,
    p: &Patch,
    field: &str,
    transformer: &str,
) -> Result<(), Error> {
    let file = p
        .path
        .as_deref()
        .map_or_else(|| t.file.clone(), |path| crate::fs::join(&t.dir, path));
    let step = crate::record::Step {
        file: &file,
        field: p.path.is_none().then_some(field),
        transformer,
    };
    b.step(res, step, |res| apply_patch_entry(b, t, res, p, field))
}

pub(crate) fn apply_patch_entry(
    b: &Builder<'_>,
    t: &Target,
    res: &mut Vec<Resource>,
    p: &Patch,
    field: &str,
) -> Result<(), Error> {
    let text = match (&p.path, &p.patch) {
        (Some(path), None) => b
            .read_in_root(t, path)
            .map_err(|e| e.in_field(&t.file, field))?,
        // kustomize trims an inline patch: a block scalar on its last line then has no final
        // line break to keep (a patch file is read as it is).
        (None, Some(inline)) => inline.trim().to_string(),
        (Some(_), Some(_)) => {
            return Err(
                Error::msg("patch and path can't be set at the same time").in_field(&t.file, field)
            );
        }
        (None, None) => {
            return Err(Error::msg("must specify one of patch and path").in_field(&t.file, field));
        }
    };
    // Errors name the file the patch is in.
    let source = p
        .path
        .as_deref()
        .map_or_else(|| t.file.clone(), |path| crate::fs::join(&t.dir, path));
    let docs = crate::parse::parse_patch(&text, &source)
        .map_err(|e| Error::from(e).in_field(&t.file, field))?;
    if docs.is_empty() {
        // Neither a strategic merge patch nor a JSON patch (kustomize v5.5 refuses it too).
        let what = p.path.as_deref().unwrap_or("inline patch");
        return Err(Error::msg(format!(
            "trouble configuring builtin PatchTransformer: {what}: illegally qualifies as both an SM and JSON patch"
        ))
        .in_field(&t.file, field));
    }
    let is_json6902 = docs.len() == 1 && docs.first().is_some_and(Value::is_array);
    if is_json6902 {
        let ops: Vec<Value> = match docs.into_iter().next() {
            Some(Value::Array(ops)) if ops.iter().all(Value::is_object) => ops,
            _ => {
                return Err(Error::msg(
                    "unable to parse JSON patch: every operation must be a mapping",
                )
                .in_field(&t.file, field));
            }
        };
        let Some(sel) = &p.target else {
            return Err(Error::msg("must specify a target for JSON patch").in_field(&t.file, field));
        };
        for i in select(res, sel)? {
            let Some(r) = res.get_mut(i) else { continue };
            // kustomize records the id of every object a JSON patch targets.
            r.remember();
            // The patch is applied to a JSON copy of the tree: no node is shared afterwards.
            r.aliases.clear();
            let mut obj = Value::Object(std::mem::take(&mut r.obj));
            let result = crate::jsonpatch::apply(&mut obj, &ops);
            if let Value::Object(m) = obj {
                r.obj = m;
            }
            result.map_err(|e| {
                Error::msg(format!("unable to apply JSON patch to {}: {e}", r.id()))
                    .in_field(&t.file, field)
            })?;
            r.obj.values_mut().for_each(through_float64);
            if let Some(at) = unreadable_after_json(&r.obj) {
                return Err(Error::msg(format!(
                    "unable to apply JSON patch to {}: kustomize writes the result as YAML and cannot read it back: the string at {at} would be a literal block starting with a tab",
                    r.id()
                ))
                .in_field(&t.file, field));
            }
        }
        return Ok(());
    }
    for doc in docs {
        check_patch_doc(&doc, p.path.as_deref().unwrap_or("inline patch"))
            .map_err(|e| e.in_field(&t.file, field))?;
        match &p.target {
            None => apply_smp_by_id(res, &doc, custom_schema(t))
                .map_err(|e| e.in_field(&t.file, field))?,
            Some(sel) => {
                let doc = metadata_as_text(doc, &text);
                let allow_name = p.options.get("allowNameChange").copied().unwrap_or(false);
                let allow_kind = p.options.get("allowKindChange").copied().unwrap_or(false);
                let mut targets = select(res, sel)?;
                targets.reverse();
                for i in targets {
                    apply_smp(res, i, &doc, (!allow_name, !allow_kind), custom_schema(t));
                }
            }
        }
    }
    Ok(())
}

/// Indexes of the resources a selector picks.
pub(crate) fn select(res: &[Resource], sel: &Selector) -> Result<Vec<usize>, Error> {
    select_with(res, sel, true)
}

/// Like [`select`]; without `regex`, names and kinds compare exactly and any previous name
/// matches (replacements in v5.5).
pub(crate) fn select_with(
    res: &[Resource],
    sel: &Selector,
    regex: bool,
) -> Result<Vec<usize>, Error> {
    let mut out = Vec::new();
    for (i, r) in res.iter().enumerate() {
        if selects(r, sel, regex)? {
            out.push(i);
        }
    }
    Ok(out)
}

/// Whether `value` matches the selector field `pattern`, a regular expression anchored at both
/// ends as kustomize anchors it (`^(?:pattern)$`, RE2 syntax). Plain names compare directly;
/// compiled expressions are cached (see [`crate::pattern`]).
fn anchored(pattern: &str, value: &str) -> Result<bool, Error> {
    if pattern == value {
        return Ok(true);
    }
    if !pattern.contains(|c: char| "\\.+*?()|[]{}^$".contains(c)) {
        return Ok(false);
    }
    crate::pattern::is_match(&format!("^(?:{pattern})$"), value)
        .map_err(|e| Error::msg(format!("patch target: {e}")))
}

fn selects(r: &Resource, sel: &Selector, regex: bool) -> Result<bool, Error> {
    let anchored = |p: &str, v: &str| -> Result<bool, Error> {
        if regex { anchored(p, v) } else { Ok(p == v) }
    };
    if let Some(g) = &sel.group
        && !anchored(g, r.group())?
    {
        return Ok(false);
    }
    if let Some(v) = &sel.version
        && !anchored(v, r.version())?
    {
        return Ok(false);
    }
    if let Some(k) = &sel.kind
        && !anchored(k, r.kind())?
    {
        return Ok(false);
    }
    // Patch targets (kustomize's `ResMap.Select`, with regular expressions) match the original
    // name or the current one, not names in between; replacements match any previous name.
    let earlier_name = |n: &str| -> Result<bool, Error> {
        if regex {
            anchored(n, &r.orig_id().name)
        } else {
            Ok(r.history.iter().any(|(h, _, _)| h == n))
        }
    };
    if let Some(n) = &sel.name
        && !(anchored(n, r.name())? || earlier_name(n)?)
    {
        return Ok(false);
    }
    if let Some(ns) = &sel.namespace
        && !anchored(ns, r.namespace())?
    {
        return Ok(false);
    }
    if let Some(ls) = &sel.label_selector
        && !label_selector_matches(ls, &r.labels())
    {
        return Ok(false);
    }
    if let Some(a) = &sel.annotation_selector
        && !label_selector_matches(a, &r.annotations())
    {
        return Ok(false);
    }
    Ok(true)
}

/// Kubernetes label selector syntax: `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a)`.
pub(crate) fn label_selector_matches(sel: &str, labels: &serde_json::Map<String, Value>) -> bool {
    let get = |k: &str| labels.get(k).map(crate::resource::scalar_text);
    let mut terms = Vec::new();
    let (mut depth, mut cur) = (0, String::new());
    for c in sel.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    terms.push(cur);
    terms
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .all(|t| {
            if let Some((k, v)) = t.split_once("!=") {
                return get(k.trim()).as_deref() != Some(v.trim());
            }
            if let Some((k, v)) = t.split_once("==").or_else(|| t.split_once('=')) {
                return get(k.trim()).as_deref() == Some(v.trim());
            }
            let set = |rest: &str| -> Vec<String> {
                rest.trim()
                    .trim_start_matches('(')
                    .trim_end_matches(')')
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .collect()
            };
            if let Some((k, rest)) = t.split_once(" notin ") {
                return get(k.trim()).is_none_or(|v| !set(rest).contains(&v));
            }
            if let Some((k, rest)) = t.split_once(" in ") {
                return get(k.trim()).is_some_and(|v| set(rest).contains(&v));
            }
            if let Some(k) = t.strip_prefix('!') {
                return get(k.trim()).is_none();
            }
            get(t).is_some()
        })
}

/// The JSON pointer of a string that kustomize cannot take through its YAML encoder and decoder,
/// which it does with an object after a JSON patch (the result is decoded into Go values, then
/// encoded as YAML and parsed again).
fn unreadable_after_json(obj: &serde_json::Map<String, Value>) -> Option<String> {
    fn find(v: &Value, at: &mut String) -> bool {
        match v {
            Value::String(s) => driftless_goyaml::unreadable_literal(s),
            Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
                let len = at.len();
                at.push_str(&format!("/{i}"));
                let found = find(item, at);
                if !found {
                    at.truncate(len);
                }
                found
            }),
            Value::Object(m) => m.iter().any(|(k, item)| {
                let len = at.len();
                at.push('/');
                at.push_str(&crate::alias::segment(k));
                let found = find(item, at);
                if !found {
                    at.truncate(len);
                }
                found
            }),
            _ => false,
        }
    }
    let mut at = String::new();
    obj.iter()
        .any(|(k, v)| {
            at = format!("/{}", crate::alias::segment(k));
            find(v, &mut at)
        })
        .then_some(at)
}

/// kustomize applies a JSON patch to the object's JSON and decodes the result into Go values,
/// where every number is a float64: integers beyond 2^53 come out rounded to the nearest one
/// (`123456789012345678` as `123456789012345680`).
fn through_float64(v: &mut Value) {
    const EXACT: u64 = 1 << 53;
    match v {
        Value::Number(n) => {
            let big = n.as_i64().map_or_else(
                || n.as_u64().is_some_and(|u| u > EXACT),
                |i| i.unsigned_abs() > EXACT,
            );
            if big && let Some(f) = n.as_f64().and_then(serde_json::Number::from_f64) {
                *n = f;
            }
        }
        Value::Array(a) => a.iter_mut().for_each(through_float64),
        Value::Object(m) => m.values_mut().for_each(through_float64),
        _ => {}
    }
}

/// kustomize copies a strategic merge patch for each target it selects, and the copy holds its
/// labels and annotations as strings: each value that is not one becomes its text in the patch
/// (`~` stays `"~"`, `null` becomes `"null"`, an empty value `""`, `1.0` `"1.0"`), so a null
/// there sets the text instead of deleting the entry.
fn metadata_as_text(mut doc: Value, text: &str) -> Value {
    let Some(Value::Object(md)) = doc.get_mut("metadata") else {
        return doc;
    };
    for field in ["labels", "annotations"] {
        let Some(Value::Object(m)) = md.get_mut(field) else {
            continue;
        };
        for (k, v) in m.iter_mut() {
            if !v.is_string() {
                let spelled = crate::parse::scalar_spelling(text, k)
                    .unwrap_or_else(|| crate::resource::scalar_text(v));
                *v = Value::String(spelled);
            }
        }
    }
    doc
}
