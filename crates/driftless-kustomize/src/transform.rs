//! The builtin transformers, in the order kustomize runs them.

use crate::builtins::{add_affixes, apply_image, set_map, set_namespace};
use crate::config::TransformerConfig;
use crate::error::Error;
use crate::fieldspecs::{self, Spec};
use crate::record::Step;
use crate::resource::Resource;
use crate::resource::scalar_text;
use crate::target::{Builder, Target};
use serde_json::Value;

/// Runs the transformers of one kustomization.
pub(crate) fn run(
    b: &Builder<'_>,
    t: &Target,
    res: &mut Vec<Resource>,
    cfg: &TransformerConfig,
) -> Result<(), Error> {
    let k = &t.k;
    // Each step names the kustomization field configuring it, for provenance.
    let at = |field, transformer| Step {
        file: &t.file,
        field: Some(field),
        transformer,
    };
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
        b.step(res, at("namespace", "NamespaceTransformer"), |res| {
            set_namespace(res, ns, &cfg.namespace);
            Ok(())
        })?;
        // Two objects that end up with one id (two Namespaces, or one name in two namespaces)
        // are refused, as kustomize refuses them.
        let ids: Vec<crate::resource::ResId> = res.iter().map(Resource::id).collect();
        for (i, a) in ids.iter().enumerate() {
            if ids.iter().skip(i + 1).any(|b| crate::target::same_id(a, b)) {
                return Err(Error::msg(format!(
                    "namespace transformation produces ID conflict: more than one object becomes {a}"
                ))
                .in_field(&t.file, "namespace"));
            }
        }
        record(res, t, true, "NamespaceTransformer");
    }
    let prefix = k.name_prefix.as_deref().unwrap_or("");
    let suffix = k.name_suffix.as_deref().unwrap_or("");
    if !prefix.is_empty() || !suffix.is_empty() {
        let field = if prefix.is_empty() {
            "nameSuffix"
        } else {
            "namePrefix"
        };
        b.step(res, at(field, "PrefixSuffixTransformer"), |res| {
            add_affixes(res, prefix, suffix, cfg);
            Ok(())
        })?;
    }
    record(res, t, !prefix.is_empty(), "PrefixTransformer");
    record(res, t, !suffix.is_empty(), "SuffixTransformer");
    if !k.common_labels.is_empty() {
        b.step(res, at("commonLabels", "LabelTransformer"), |res| {
            let mut specs = fieldspecs::parse(fieldspecs::COMMON_LABELS);
            specs.extend(cfg.common_labels.iter().map(Spec::from_field_spec));
            set_map(res, &specs, "labels", &k.common_labels);
            Ok(())
        })?;
        record(res, t, true, "LabelTransformer");
    }
    for l in &k.labels {
        b.step(res, at("labels", "LabelTransformer"), |res| {
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
            Ok(())
        })?;
        record(res, t, true, "LabelTransformer");
    }
    if !k.common_annotations.is_empty() {
        b.step(
            res,
            at("commonAnnotations", "AnnotationsTransformer"),
            |res| {
                let mut specs = fieldspecs::parse(fieldspecs::COMMON_ANNOTATIONS);
                specs.extend(cfg.common_annotations.iter().map(Spec::from_field_spec));
                set_map(res, &specs, "annotations", &k.common_annotations);
                Ok(())
            },
        )?;
        record(res, t, true, "AnnotationsTransformer");
    }
    crate::patch::json6902_entries(b, t, res)?;
    for _ in &k.patches_json6902 {
        record(res, t, true, "PatchJson6902Transformer");
    }
    for r in &k.replicas {
        b.step(res, at("replicas", "ReplicaCountTransformer"), |res| {
            let specs = fieldspecs::parse(fieldspecs::REPLICAS);
            for res in res.iter_mut().filter(|x| x.had_name(&r.name)) {
                for s in &specs {
                    s.apply(res, &mut |v| *v = Value::from(r.count));
                }
            }
            Ok(())
        })?;
        record(res, t, true, "ReplicaCountTransformer");
    }
    for (i, image) in k.images.iter().enumerate() {
        if !balanced(&image.name) {
            return Err(Error::msg(format!("invalid image name {:?}", image.name))
                .in_field(&t.file, &format!("images[{i}]")));
        }
        b.step(res, at("images", "ImageTagTransformer"), |res| {
            apply_image(res, image, &cfg.images);
            Ok(())
        })?;
        record(res, t, true, "ImageTagTransformer");
    }
    b.step(res, at("replacements", "ReplacementTransformer"), |res| {
        crate::replacements::run(b, t, res)
    })?;
    record(res, t, !k.replacements.is_empty(), "ReplacementTransformer");
    b.step(res, at("transformers", "transformers"), |res| {
        crate::plugins::run_transformers(b, t, res)
    })?;
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
