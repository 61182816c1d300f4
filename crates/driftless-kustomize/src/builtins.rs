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

/// The image transformer's default field specs, applied to objects of every kind after the walk
/// over containers (so a tag suffix lands twice on those paths, as in kustomize v5.5).
const IMAGE_SPECS: &str = "||spec/containers/image|false
||spec/initContainers/image|false
||spec/template/spec/containers/image|false
||spec/template/spec/initContainers/image|false";

/// The `images` transformer for one image, as kustomize's: the images of `containers` and
/// `initContainers` anywhere (CRDs aside), then the default field specs and configured ones.
pub(crate) fn apply_image(
    res: &mut [Resource],
    image: &Image,
    extra: &[crate::kustomization::FieldSpec],
) {
    {
        for r in res.iter_mut() {
            let mut specs = fieldspecs::parse(IMAGE_SPECS);
            specs.extend(extra.iter().map(Spec::from_field_spec));
            specs.retain(|s| s.matches(r));
            let crd = r.kind() == "CustomResourceDefinition";
            let mut obj = Value::Object(std::mem::take(&mut r.obj));
            if !crd {
                walk_containers(&mut obj, image);
            }
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
        // As kustomize does: one node per key for the resource, put where the key is created
        // (so those places share it), copied into the places that already had the key.
        for (k, val) in pairs {
            let value = Value::String(scalar_text(val));
            let (mut created, mut in_place) = (Vec::new(), Vec::new());
            for s in specs {
                s.apply_at(r, &mut |at, v| {
                    let m = ensure_object(v);
                    let pointer = format!("{at}/{}", crate::alias::segment(k));
                    if m.contains_key(k) {
                        in_place.push(pointer);
                    } else {
                        created.push(pointer);
                    }
                    m.insert(k.clone(), value.clone());
                });
            }
            crate::alias::propagate(r, &in_place);
            created.dedup();
            if created.len() > 1 {
                r.aliases.push(created);
            }
        }
    }
}

fn walk_containers(v: &mut Value, image: &Image) {
    match v {
        Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                if matches!(k.as_str(), "containers" | "initContainers")
                    && let Value::Array(items) = child
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

/// The new reference for container image `img` if `image` applies to it, as kustomize's image
/// tag updater computes it: the name matches `image.name` read as a regular expression followed
/// by an optional tag and digest; a new tag and a digest both set give `name:tag@digest`, a new
/// tag alone drops the digest, a digest alone drops the tag, a tag suffix extends the tag.
fn new_image(img: &str, image: &Image) -> Option<String> {
    let pattern = format!(
        "^{}(:[a-zA-Z0-9_.{{}}-]*)?(@sha256:[a-zA-Z0-9_.{{}}-]*)?$",
        image.name
    );
    if !crate::pattern::is_match(&pattern, img).unwrap_or(false) {
        return None;
    }
    let (name, tag, digest) = split_reference(img);
    let set = |o: &Option<String>| o.clone().filter(|s| !s.is_empty());
    let name = set(&image.new_name).unwrap_or_else(|| name.to_string());
    let (tag, digest) = match (
        set(&image.new_tag),
        set(&image.digest),
        set(&image.tag_suffix),
    ) {
        (Some(t), Some(d), _) => (t, d),
        (Some(t), None, _) => (t, String::new()),
        (None, Some(d), _) => (String::new(), d),
        (None, None, Some(suffix)) => (format!("{tag}{suffix}"), String::new()),
        (None, None, None) => (tag.to_string(), digest.to_string()),
    };
    let mut out = name;
    if !tag.is_empty() {
        out.push(':');
        out.push_str(&tag);
    }
    if !digest.is_empty() {
        out.push('@');
        out.push_str(&digest);
    }
    Some(out)
}

/// Splits an image reference into name, tag and digest as kustomize does: the tag and digest
/// are searched after the first `/`, a digest before any `:` leaves no tag.
fn split_reference(img: &str) -> (&str, &str, &str) {
    let slash = img.find('/').filter(|i| *i > 0).unwrap_or(0);
    let search = &img[slash..];
    let (at, colon) = (search.find('@'), search.find(':'));
    match (at, colon) {
        (None, None) => (img, "", ""),
        (Some(a), c) if c.is_none_or(|c| a < c) => (&img[..slash + a], "", &img[slash + a + 1..]),
        (Some(a), Some(c)) => (
            &img[..slash + c],
            &img[slash + c + 1..slash + a],
            &img[slash + a + 1..],
        ),
        (None, Some(c)) => (&img[..slash + c], &img[slash + c + 1..], ""),
        (Some(_), None) => (img, "", ""),
    }
}
