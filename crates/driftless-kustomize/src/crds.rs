//! The `crds` field: OpenAPI definitions of custom kinds whose properties marked
//! `x-kubernetes-object-ref-kind` name other objects, which makes them name references.

use crate::config::NameRefEntry;
use crate::kustomization::FieldSpec;
use serde_json::{Map, Value};

/// How deep `$ref` chains are followed (definitions may refer to themselves).
const MAX_DEPTH: usize = 16;

/// Name reference entries declared by a CRD definitions document.
pub fn name_references(doc: &Value) -> Vec<NameRefEntry> {
    let Some(defs) = doc.as_object() else {
        return Vec::new();
    };
    let mut out: Vec<NameRefEntry> = Vec::new();
    for (id, def) in defs {
        let Some(props) = schema(def)
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
        else {
            continue;
        };
        if !(props.contains_key("kind") && props.contains_key("apiVersion")) {
            continue;
        }
        let kind = id.rsplit('.').next().unwrap_or(id).to_string();
        let mut found = Vec::new();
        walk(defs, props, &mut Vec::new(), &mut found, 0);
        for (target, path) in found {
            let spec = FieldSpec {
                kind: Some(kind.clone()),
                path,
                ..FieldSpec::default()
            };
            match out.iter_mut().find(|e| e.kind == target) {
                Some(e) => e.field_specs.push(spec),
                None => out.push(NameRefEntry {
                    kind: target,
                    field_specs: vec![spec],
                    ..NameRefEntry::default()
                }),
            }
        }
    }
    out
}

fn schema(def: &Value) -> Option<&Value> {
    def.get("Schema")
        .or_else(|| def.get("schema"))
        .or(Some(def))
}

fn walk(
    defs: &Map<String, Value>,
    props: &Map<String, Value>,
    path: &mut Vec<String>,
    found: &mut Vec<(String, String)>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    for (name, prop) in props {
        path.push(name.clone());
        if let Some(kind) = prop
            .get("x-kubernetes-object-ref-kind")
            .and_then(Value::as_str)
        {
            found.push((kind.to_string(), format!("{}/name", path.join("/"))));
        } else if let Some(target) = prop.get("$ref").and_then(Value::as_str) {
            let nested = defs
                .get(target)
                .and_then(schema)
                .and_then(|s| s.get("properties"))
                .and_then(Value::as_object);
            if let Some(nested) = nested {
                walk(defs, nested, path, found, depth + 1);
            }
        } else if let Some(nested) = prop.get("properties").and_then(Value::as_object) {
            walk(defs, nested, path, found, depth + 1);
        }
        path.pop();
    }
}
