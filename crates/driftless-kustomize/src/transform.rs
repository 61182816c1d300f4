//! The builtin transformers, in the order kustomize runs them.

use crate::build::{Builder, Target, scalar_text};
use crate::config::TransformerConfig;
use crate::error::Error;
use crate::fieldpath::ensure_object;
use crate::fieldspecs::{self, Spec};
use crate::kustomization::Image;
use crate::resource::Resource;
use serde_json::Value;

/// Runs the transformers of one kustomization.
pub(crate) fn run(
    b: &Builder<'_>,
    t: &Target,
    res: &mut Vec<Resource>,
    cfg: &TransformerConfig,
) -> Result<(), Error> {
    let k = &t.k;
    crate::patch::strategic_merge_entries(b, t, res)?;
    record(
        res,
        t,
        !k.patches_strategic_merge.is_empty(),
        "PatchStrategicMergeTransformer",
    );
    crate::patch::patches(b, t, res)?;
    for _ in &k.patches {
        record(res, t, true, "PatchTransformer");
    }
    if let Some(ns) = &k.namespace {
        set_namespace(res, ns);
        let namespaces: Vec<&Resource> = res
            .iter()
            .filter(|r| r.kind() == "Namespace" && r.group().is_empty())
            .collect();
        if namespaces.len() > 1 {
            return Err(Error::msg(format!(
                "namespace transformation produces ID conflict: {} Namespace objects become {ns}",
                namespaces.len()
            ))
            .in_field(&t.file, "namespace"));
        }
        record(res, t, true, "NamespaceTransformer");
    }
    let prefix = k.name_prefix.as_deref().unwrap_or("");
    let suffix = k.name_suffix.as_deref().unwrap_or("");
    if !prefix.is_empty() || !suffix.is_empty() {
        add_affixes(res, prefix, suffix, cfg);
    }
    record(res, t, !prefix.is_empty(), "PrefixTransformer");
    record(res, t, !suffix.is_empty(), "SuffixTransformer");
    if !k.common_labels.is_empty() {
        let mut specs = fieldspecs::parse(fieldspecs::COMMON_LABELS);
        specs.extend(cfg.common_labels.iter().map(Spec::from_field_spec));
        set_map(res, &specs, "labels", &k.common_labels);
        record(res, t, true, "LabelTransformer");
    }
    for l in &k.labels {
        let mut specs = fieldspecs::parse("||metadata/labels|true");
        if l.include_selectors {
            specs = fieldspecs::parse(fieldspecs::COMMON_LABELS);
            specs.extend(cfg.common_labels.iter().map(Spec::from_field_spec));
        } else if l.include_templates {
            specs.extend(fieldspecs::parse(fieldspecs::TEMPLATE_LABELS));
            specs.extend(cfg.templates.iter().map(Spec::from_field_spec));
        }
        specs.extend(cfg.labels.iter().map(Spec::from_field_spec));
        specs.extend(l.fields.iter().map(Spec::from_field_spec));
        let pairs = l
            .pairs
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(scalar_text(v))))
            .collect();
        set_map(res, &specs, "labels", &pairs);
        record(res, t, true, "LabelTransformer");
    }
    if !k.common_annotations.is_empty() {
        let mut specs = fieldspecs::parse(fieldspecs::COMMON_ANNOTATIONS);
        specs.extend(cfg.common_annotations.iter().map(Spec::from_field_spec));
        set_map(res, &specs, "annotations", &k.common_annotations);
        record(res, t, true, "AnnotationsTransformer");
    }
    crate::patch::json6902_entries(b, t, res)?;
    for _ in &k.patches_json6902 {
        record(res, t, true, "PatchJson6902Transformer");
    }
    for r in &k.replicas {
        let specs = fieldspecs::parse(fieldspecs::REPLICAS);
        for res in res.iter_mut().filter(|x| x.had_name(&r.name)) {
            for s in &specs {
                s.apply(res, &mut |v| *v = Value::from(r.count));
            }
        }
        record(res, t, true, "ReplicaCountTransformer");
    }
    for (i, image) in k.images.iter().enumerate() {
        if !balanced(&image.name) {
            return Err(Error::msg(format!("invalid image name {:?}", image.name))
                .in_field(&t.file, &format!("images[{i}]")));
        }
        apply_image(res, image, &cfg.images);
        record(res, t, true, "ImageTagTransformer");
    }
    crate::replacements::run(b, t, res)?;
    record(res, t, !k.replacements.is_empty(), "ReplacementTransformer");
    crate::plugins::run_transformers(b, t, res)?;
    Ok(())
}

/// kustomize matches image names as regular expressions; unbalanced brackets make an invalid
/// one (v5.5 crashes on it), so such names are refused.
fn balanced(name: &str) -> bool {
    let count = |c: char| name.chars().filter(|x| *x == c).count();
    count('[') == count(']') && count('(') == count(')')
}

/// Notes on every resource that a builtin transformer of this kustomization ran over it.
fn record(res: &mut [Resource], t: &Target, configured: bool, kind: &str) {
    if configured {
        let o = crate::resource::Origin::builtin(&t.file, kind);
        for r in res.iter_mut() {
            r.transformations.push(o.clone());
        }
    }
}

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

/// The `namespace` field: sets the namespace of every namespaced object, and of the
/// ServiceAccount subjects named `default` in role bindings.
pub(crate) fn set_namespace(res: &mut [Resource], ns: &str) {
    for r in res.iter_mut() {
        if fieldspecs::resource_is_namespaced(r) {
            r.set_namespace(ns);
        } else if r.kind() == "Namespace" && r.group().is_empty() {
            // The namespace object itself becomes the namespace everything moves to.
            r.set_name(ns);
        }
        if r.kind() == "CustomResourceDefinition" {
            // A conversion webhook's service lives in the namespace too.
            let path = crate::fieldpath::split_path(
                "spec/conversion/webhook/clientConfig/service/namespace",
            );
            let mut obj = Value::Object(std::mem::take(&mut r.obj));
            crate::fieldpath::visit(&mut obj, &path, false, &mut |v| {
                *v = Value::String(ns.to_string())
            });
            if let Value::Object(m) = obj {
                r.obj = m;
            }
        }
        if matches!(r.kind(), "RoleBinding" | "ClusterRoleBinding")
            && let Some(Value::Array(subjects)) = r.obj.get_mut("subjects")
        {
            for s in subjects.iter_mut() {
                if s.get("kind").and_then(Value::as_str) == Some("ServiceAccount")
                    && s.get("name").and_then(Value::as_str) == Some("default")
                {
                    ensure_object(s).insert("namespace".into(), Value::String(ns.to_string()));
                }
            }
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
    let tag = image.new_tag.as_ref().map(scalar_text);
    let rest = if let Some(d) = &image.digest {
        format!("@{d}")
    } else if let Some(t) = tag {
        format!(":{t}")
    } else {
        rest.to_string()
    };
    Some(format!("{name}{rest}"))
}
