//! The built-in transformations that both the kustomization's own fields and transformer
//! configurations (`transformers:`) apply: images, namespaces, name prefixes and suffixes,
//! label and annotation maps.

use crate::config::TransformerConfig;
use crate::fieldpath::ensure_object;
use crate::fieldspecs::{self, Spec};
use crate::kustomization::{FieldSpec, Image};
use crate::resource::Resource;
use crate::resource::scalar_text;
use serde_json::Value;

/// The `images` transformer for one image: containers anywhere, plus configured fields.
pub(crate) fn apply_image(
    res: &mut [Resource],
    image: &Image,
    extra: &[crate::kustomization::FieldSpec],
) {
    {
        for r in res.iter_mut() {
            let specs: Vec<Spec> = extra
                .iter()
                .map(Spec::from_field_spec)
                .filter(|s| s.matches(r))
                .collect();
            let mut obj = Value::Object(std::mem::take(&mut r.obj));
            walk_containers(&mut obj, image);
            for spec in &specs {
                crate::fieldpath::visit(&mut obj, &spec.path, false, &mut |v| {
                    if let Value::String(img) = v
                        && let Some(new) = new_image(img, image)
                    {
                        *img = new;
                    }
                });
            }
            if let Value::Object(m) = obj {
                r.obj = m;
            }
        }
    }
}

/// The namespace transformer's default field specs (besides `metadata/namespace`).
const NAMESPACE_SPECS: &str = "Namespace||metadata/name|true
APIService|apiregistration.k8s.io|spec/service/namespace|true
CustomResourceDefinition|apiextensions.k8s.io|spec/conversion/webhook/clientConfig/service/namespace|false";

/// The `namespace` field, as kustomize's namespace transformer does it: every object kustomize
/// knows to be namespaced (see [`fieldspecs::resource_is_namespaced`]) moves to `ns`; in role
/// bindings, every subject named `default` gets `ns`; then the field specs (the defaults and
/// `extra`, from `configurations`) are set, where `metadata/name` applies only to objects of
/// `apiVersion: v1` (the core Namespace is renamed to `ns`) and `metadata/namespace` and the
/// subjects of role bindings are left to the rules above.
pub(crate) fn set_namespace(res: &mut [Resource], ns: &str, extra: &[FieldSpec]) {
    let mut specs = fieldspecs::parse(NAMESPACE_SPECS);
    specs.extend(extra.iter().map(Spec::from_field_spec));
    for r in res.iter_mut() {
        // kustomize records the id of every object, namespaced or not.
        r.remember();
        if fieldspecs::resource_is_namespaced(r) {
            r.set_namespace(ns);
        }
        let binding = matches!(r.kind(), "RoleBinding" | "ClusterRoleBinding");
        if binding && let Some(Value::Array(subjects)) = r.obj.get_mut("subjects") {
            for s in subjects.iter_mut() {
                if s.get("name").and_then(Value::as_str) == Some("default") {
                    ensure_object(s).insert("namespace".into(), Value::String(ns.to_string()));
                }
            }
        }
        let core = r.group().is_empty() && r.version() == "v1";
        for spec in &specs {
            let path = spec.path.join("/");
            let skip = path == "metadata/namespace"
                || (path == "metadata/name" && !core)
                || (binding && path == "subjects/namespace");
            if skip || !spec.matches(r) {
                continue;
            }
            if path == "metadata/name" {
                r.set_name(ns);
                continue;
            }
            spec.apply(r, &mut |v| *v = Value::String(ns.to_string()));
        }
    }
}

/// Kinds whose names never get a prefix or suffix.
fn keeps_name(r: &Resource) -> bool {
    matches!(r.kind(), "CustomResourceDefinition" | "Namespace")
        || (r.kind() == "APIService" && r.group() == "apiregistration.k8s.io")
}

/// `namePrefix` / `nameSuffix`. Field specs from `configurations`, when given, replace the
/// default (every kind but a few) for that affix.
pub(crate) fn add_affixes(
    res: &mut [Resource],
    prefix: &str,
    suffix: &str,
    cfg: &TransformerConfig,
) {
    let applies = |r: &Resource, specs: &[crate::kustomization::FieldSpec]| {
        if specs.is_empty() {
            !keeps_name(r)
        } else {
            specs
                .iter()
                .map(Spec::from_field_spec)
                .any(|s| s.matches(r))
        }
    };
    for r in res.iter_mut() {
        let p = if applies(r, &cfg.name_prefix) {
            prefix
        } else {
            ""
        };
        let s = if applies(r, &cfg.name_suffix) {
            suffix
        } else {
            ""
        };
        if p.is_empty() && s.is_empty() {
            continue;
        }
        let name = format!("{p}{}{s}", r.name());
        r.set_name(&name);
        r.affixes.push((p.to_string(), s.to_string()));
    }
}

/// Sets the entries of `pairs` in the map fields the specs name.
pub(crate) fn set_map(
    res: &mut [Resource],
    specs: &[Spec],
    _what: &str,
    pairs: &std::collections::BTreeMap<String, Value>,
) {
    for r in res.iter_mut() {
        for s in specs {
            s.apply(r, &mut |v| {
                let m = ensure_object(v);
                for (k, val) in pairs {
                    m.insert(k.clone(), Value::String(scalar_text(val)));
                }
            });
        }
    }
}

fn walk_containers(v: &mut Value, image: &Image) {
    match v {
        Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                if matches!(
                    k.as_str(),
                    "containers" | "initContainers" | "ephemeralContainers"
                ) && let Value::Array(items) = child
                {
                    for c in items.iter_mut() {
                        if let Some(Value::String(img)) = c.get_mut("image")
                            && let Some(new) = new_image(img, image)
                        {
                            *img = new;
                        }
                    }
                }
                walk_containers(child, image);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|c| walk_containers(c, image)),
        _ => {}
    }
}

/// Splits an image reference into name and the `:tag` / `@digest` rest.
pub(crate) fn split_image(img: &str) -> (&str, &str) {
    if let Some(at) = img.find('@') {
        return (&img[..at], &img[at..]);
    }
    let slash = img.rfind('/').map_or(0, |i| i + 1);
    match img[slash..].rfind(':') {
        Some(c) => (&img[..slash + c], &img[slash + c..]),
        None => (img, ""),
    }
}

fn new_image(img: &str, image: &Image) -> Option<String> {
    let (name, rest) = split_image(img);
    if name != image.name {
        return None;
    }
    let name = image.new_name.as_deref().unwrap_or(name);
    let tag = image.new_tag.clone();
    let rest = if let Some(d) = &image.digest {
        format!("@{d}")
    } else if let Some(t) = tag {
        format!(":{t}")
    } else {
        rest.to_string()
    };
    Some(format!("{name}{rest}"))
}
