//! The legacy `vars`: `$(NAME)` in well-known fields replaced by a field of another object.

use crate::error::Error;
use crate::fieldpath::{split_path, visit};
use crate::fieldspecs::POD_SPEC_AT;
use crate::kustomization::{FieldSpec, Var};
use crate::resource::{Resource, split_api_version};
use crate::resource::{ns_eq, scalar_text};
use serde_json::Value;

/// Pod spec fields where vars are expanded.
const POD_FIELDS: &[&str] = &[
    "containers/command",
    "containers/args",
    "containers/env/value",
    "containers/volumeMounts/mountPath",
    "initContainers/command",
    "initContainers/args",
    "initContainers/env/value",
    "initContainers/volumeMounts/mountPath",
    "volumes/nfs/server",
];

/// Other fields where vars are expanded: `kind|path` (empty kind: any).
const OTHER_FIELDS: &str = "\
|metadata/annotations
CronJob|spec/jobTemplate/spec/template/volumes/nfs/server
|metadata/labels
|spec/template/metadata/annotations
|spec/template/metadata/labels
Ingress|spec/rules/host
Ingress|spec/tls/hosts
Ingress|spec/tls/secretName
ConfigMap|data
Service|spec/ports/port
Service|spec/ports/targetPort
StatefulSet|spec/serviceName
StatefulSet|spec/volumeClaimTemplates/spec/nfs/server
PersistentVolume|spec/nfs/server
";

fn default_specs() -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    // kustomize expands vars in every pod spec except a PodTemplate's.
    for (kind, at) in POD_SPEC_AT.iter().filter(|(k, _)| *k != "PodTemplate") {
        for f in POD_FIELDS {
            out.push((
                (*kind).to_string(),
                String::new(),
                split_path(&format!("{at}/{f}")),
            ));
        }
    }
    for line in OTHER_FIELDS.lines() {
        if let Some((k, p)) = line.split_once('|') {
            out.push((k.to_string(), String::new(), split_path(p)));
        }
    }
    out
}

/// Replaces `$(VAR)` references; `extra` are `varReference` field specs from `configurations`.
pub fn resolve(res: &mut [Resource], vars: &[Var], extra: &[FieldSpec]) -> Result<(), Error> {
    if vars.is_empty() {
        return Ok(());
    }
    let mut values: Vec<(String, Value)> = Vec::new();
    for v in vars {
        values.push((v.name.clone(), lookup(res, v)?));
    }
    let mut specs = default_specs();
    for f in extra {
        specs.push((
            f.kind.clone().unwrap_or_default(),
            f.group.clone().unwrap_or_default(),
            split_path(&f.path),
        ));
    }
    for r in res.iter_mut() {
        let kind = r.kind().to_string();
        let group = r.group().to_string();
        let mut obj = Value::Object(std::mem::take(&mut r.obj));
        for (k, g, path) in &specs {
            if (!k.is_empty() && *k != kind) || (!g.is_empty() && *g != group) {
                continue;
            }
            visit(&mut obj, path, false, &mut |v| expand_tree(v, &values));
        }
        if let Value::Object(m) = obj {
            r.obj = m;
        }
    }
    Ok(())
}

/// Finds the one resource a var names among those accumulated where it is declared.
pub(crate) fn bind(res: &[Resource], v: &Var) -> Result<u64, Error> {
    find(res, v).map(|r| r.uid)
}

fn lookup(res: &[Resource], v: &Var) -> Result<Value, Error> {
    let r = match v.target.and_then(|uid| res.iter().find(|r| r.uid == uid)) {
        Some(r) => r,
        None => find(res, v)?,
    };
    let path = v
        .field_ref
        .as_ref()
        .map(|f| f.field_path.as_str())
        .filter(|p| !p.is_empty())
        .unwrap_or("metadata.name");
    let obj = Value::Object(r.obj.clone());
    get_dotted(&obj, path).cloned().ok_or_else(|| {
        Error::msg(format!(
            "field specified in var '{}' ({path}) not found in {}",
            v.name,
            r.id()
        ))
    })
}

fn find<'a>(res: &'a [Resource], v: &Var) -> Result<&'a Resource, Error> {
    let o = &v.obj_ref;
    let (group, version) = match &o.api_version {
        Some(av) => {
            let (g, v) = split_api_version(av);
            (Some(g.to_string()), Some(v.to_string()))
        }
        None => (o.group.clone(), o.version.clone()),
    };
    let _ = version;
    let name = o.name.clone().unwrap_or_default();
    let matches: Vec<&Resource> = res
        .iter()
        .filter(|r| {
            o.kind
                .as_deref()
                .is_none_or(|k| k == r.kind() || k == r.orig_kind)
        })
        .filter(|r| {
            group
                .as_deref()
                .is_none_or(|g| g.is_empty() || g == r.group())
        })
        .filter(|r| r.had_name(&name) || r.orig_id().name == name)
        .filter(|r| {
            o.namespace
                .as_deref()
                .is_none_or(|ns| ns_eq(ns, r.namespace()) || ns_eq(ns, &r.orig_id().namespace))
        })
        .collect();
    let r = match matches.as_slice() {
        [one] => one,
        [] => {
            return Err(Error::msg(format!(
                "var '{}' cannot be mapped to a field in the set of known resources",
                v.name
            )));
        }
        _ => {
            return Err(Error::msg(format!(
                "unable to disambiguate var '{}': more than one object matches {name}",
                v.name
            )));
        }
    };
    Ok(r)
}

/// Reads `a.b[0].c` style paths.
pub(crate) fn get_dotted<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    for part in path.split('.') {
        let (key, idx) = match part.split_once('[') {
            Some((k, rest)) => (k, Some(rest.trim_end_matches(']'))),
            None => (part, None),
        };
        if !key.is_empty() {
            cur = cur.get(key)?;
        }
        if let Some(i) = idx {
            cur = match i.split_once('=') {
                Some((k, val)) => cur
                    .as_array()?
                    .iter()
                    .find(|e| e.get(k).and_then(Value::as_str) == Some(val))?,
                None => cur.get(i.parse::<usize>().ok()?)?,
            };
        }
    }
    Some(cur)
}

fn expand_tree(v: &mut Value, values: &[(String, Value)]) {
    match v {
        Value::String(s) => {
            if let Some(new) = expand(s, values) {
                *v = new;
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| expand_tree(x, values)),
        Value::Object(m) => m.values_mut().for_each(|x| expand_tree(x, values)),
        _ => {}
    }
}

/// Expands `$(NAME)` in `s`; a string that is exactly one reference takes the value's type.
fn expand(s: &str, values: &[(String, Value)]) -> Option<Value> {
    if !s.contains("$(") {
        return None;
    }
    for (name, val) in values {
        if s == format!("$({name})") {
            return Some(val.clone());
        }
    }
    let mut out = String::new();
    let mut rest = s;
    let mut changed = false;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("$$") {
            out.push('$');
            rest = after;
            changed = true;
            continue;
        }
        if let Some(body) = tail.strip_prefix("$(")
            && let Some(end) = body.find(')')
        {
            let name = &body[..end];
            if let Some((_, val)) = values.iter().find(|(n, _)| n == name) {
                out.push_str(&scalar_text(val));
                rest = &body[end + 1..];
                changed = true;
                continue;
            }
        }
        out.push('$');
        rest = &tail[1..];
    }
    out.push_str(rest);
    changed.then_some(Value::String(out))
}
