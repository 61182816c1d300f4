//! The `transformers:` and `generators:` fields with builtin plugin configurations
//! (`apiVersion: builtin`, `kind: PrefixSuffixTransformer`...), given as files, inline YAML or
//! kustomization directories whose output is the configurations.

use crate::error::Error;
use crate::fieldspecs::{self, Spec};
use crate::kustomization::{FieldSpec, GENERATOR_KEYS, Generator, Image, Patch, Selector};
use crate::parse::parse_documents;
use crate::resource::Resource;
use crate::target::{Accumulator, Builder, Target};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeMap;

/// Plugin configurations with the file each came from (`None`: inline in the kustomization).
fn load_configs(
    b: &Builder<'_>,
    t: &Target,
    entries: &[String],
    field: &str,
) -> Result<Vec<(Value, Option<String>)>, Error> {
    let mut out = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let at = format!("{field}[{i}]");
        if entry.contains('\n') || entry.trim_start().starts_with("apiVersion") {
            let docs = parse_documents(entry, &t.file)
                .map_err(|e| Error::from(e).in_field(&t.file, &at))?;
            out.extend(docs.into_iter().map(|d| (d, None)));
            continue;
        }
        let path = crate::target::dir_in_tree(t, entry).map_err(|e| e.in_field(&t.file, &at))?;
        if b.fs.is_dir(&path) {
            let built = b.build_dir(&path).map_err(|e| e.in_field(&t.file, &at))?;
            out.extend(
                built
                    .into_iter()
                    .map(|r| (Value::Object(r.obj), Some(path.clone()))),
            );
            continue;
        }
        let text = b
            .read_in_root(t, entry)
            .map_err(|e| e.in_field(&t.file, &at))?;
        out.extend(
            parse_documents(&text, &path)?
                .into_iter()
                .map(|d| (d, Some(path.clone()))),
        );
    }
    Ok(out)
}

fn field<T: DeserializeOwned + Default>(cfg: &Value, key: &str) -> Result<T, Error> {
    match cfg.get(key) {
        None | Some(Value::Null) => Ok(T::default()),
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|e| Error::msg(format!("invalid `{key}` in plugin config: {e}"))),
    }
}

fn specs_of(cfg: &Value, default: &str) -> Result<Vec<Spec>, Error> {
    let fs: Vec<FieldSpec> = field(cfg, "fieldSpecs")?;
    if fs.is_empty() {
        Ok(fieldspecs::parse(default))
    } else {
        Ok(fs.iter().map(Spec::from_field_spec).collect())
    }
}

fn id_of(cfg: &Value) -> String {
    let kind = cfg.get("kind").and_then(Value::as_str).unwrap_or("");
    format!("{kind}.builtin.[noGrp]")
}

/// Runs the `generators:` entries of one kustomization.
pub(crate) fn run_generators(
    b: &Builder<'_>,
    t: &Target,
    ra: &mut Accumulator,
) -> Result<(), Error> {
    for (cfg, from) in load_configs(b, t, &t.k.generators, "generators")? {
        let kind = cfg
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        match kind.as_str() {
            "ConfigMapGenerator" | "SecretGenerator" => {
                // A plugin configuration is read leniently (its other fields are ignored).
                let mut args = cfg.clone();
                if let Some(m) = args.as_object_mut() {
                    m.retain(|k, _| GENERATOR_KEYS.contains(&k.as_str()));
                }
                let mut g: Generator = serde_json::from_value(args)
                    .map_err(|e| Error::msg(format!("{}: invalid {kind}: {e}", t.file)))?;
                let md = cfg.get("metadata");
                let cfg_name = md
                    .and_then(|m| m.get("name"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                g.name = g.name.or_else(|| cfg_name.clone());
                if let Some(ns) = md.and_then(|m| m.get("namespace")).and_then(Value::as_str) {
                    g.namespace = Some(ns.to_string());
                }
                let target_kind = if kind == "ConfigMapGenerator" {
                    "ConfigMap"
                } else {
                    "Secret"
                };
                let mut r = crate::generate::make(b, t, &g, target_kind)?;
                r.origin = Some(crate::resource::Origin::Generator {
                    file: from.clone().unwrap_or_else(|| t.file.clone()),
                    kind: kind.clone(),
                    name: cfg_name,
                    namespace: None,
                });
                crate::generate::add(ra, r)?;
            }
            "IAMPolicyGenerator" => {
                let g = |p: &[&str]| {
                    crate::fieldpath::get(&cfg, p)
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string()
                };
                if g(&["cloud"]) != "gke" {
                    return Err(Error::msg(format!(
                        "{}: IAMPolicyGenerator: only cloud gke is supported",
                        t.file
                    )));
                }
                let mut md = serde_json::Map::new();
                let account = format!(
                    "{}@{}.iam.gserviceaccount.com",
                    g(&["serviceAccount", "name"]),
                    g(&["serviceAccount", "projectId"])
                );
                md.insert(
                    "annotations".into(),
                    serde_json::json!({"iam.gke.io/gcp-service-account": account}),
                );
                md.insert(
                    "name".into(),
                    Value::String(g(&["kubernetesService", "name"])),
                );
                let ns = g(&["kubernetesService", "namespace"]);
                if !ns.is_empty() {
                    md.insert("namespace".into(), Value::String(ns));
                }
                let mut obj = serde_json::Map::new();
                obj.insert("apiVersion".into(), Value::String("v1".into()));
                obj.insert("kind".into(), Value::String("ServiceAccount".into()));
                obj.insert("metadata".into(), Value::Object(md));
                ra.append(Resource::new(obj))?;
            }
            _ => {
                // Anything else already is a resource (a kustomization directory's output).
                if kind == "HelmChartInflationGenerator" {
                    return Err(
                        Error::msg(crate::target::HELM_UNSUPPORTED).in_field(&t.file, "generators")
                    );
                }
                if cfg.get("apiVersion").and_then(Value::as_str) == Some("builtin") {
                    return Err(Error::msg(format!(
                        "unable to load builtin {}",
                        id_of(&cfg)
                    )));
                }
                if let Value::Object(m) = cfg {
                    ra.resources.push(Resource::new(m));
                }
            }
        }
    }
    Ok(())
}

/// Runs the `transformers:` entries of one kustomization.
pub(crate) fn run_transformers(
    b: &Builder<'_>,
    t: &Target,
    res: &mut Vec<Resource>,
) -> Result<(), Error> {
    for (cfg, from) in load_configs(b, t, &t.k.transformers, "transformers")? {
        transform(b, t, res, &cfg)?;
        let md = |k: &str| {
            cfg.get("metadata")
                .and_then(|m| m.get(k))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let record = crate::resource::Origin::Generator {
            file: from.unwrap_or_else(|| t.file.clone()),
            kind: cfg
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            name: md("name"),
            namespace: md("namespace"),
        };
        for r in res.iter_mut() {
            r.transformations.push(record.clone());
        }
    }
    Ok(())
}

fn transform(
    b: &Builder<'_>,
    t: &Target,
    res: &mut Vec<Resource>,
    cfg: &Value,
) -> Result<(), Error> {
    let kind = cfg.get("kind").and_then(Value::as_str).unwrap_or("");
    match kind {
        "PrefixSuffixTransformer" | "PrefixTransformer" | "SuffixTransformer" => {
            let prefix: String = field(cfg, "prefix")?;
            let suffix: String = field(cfg, "suffix")?;
            let specs = specs_of(cfg, "||metadata/name|false")?;
            for r in res.iter_mut() {
                for s in &specs {
                    if !s.matches(r) {
                        continue;
                    }
                    if s.path == ["metadata", "name"] {
                        let name = format!("{prefix}{}{suffix}", r.name());
                        r.set_name(&name);
                        r.affixes.push((prefix.clone(), suffix.clone()));
                    } else {
                        s.apply(r, &mut |v| {
                            if let Value::String(x) = v {
                                *x = format!("{prefix}{x}{suffix}");
                            }
                        });
                    }
                }
            }
        }
        "LabelTransformer" | "AnnotationsTransformer" => {
            let key = if kind == "LabelTransformer" {
                "labels"
            } else {
                "annotations"
            };
            let pairs: BTreeMap<String, Value> = field(cfg, key)?;
            let default = if key == "labels" {
                fieldspecs::COMMON_LABELS
            } else {
                fieldspecs::COMMON_ANNOTATIONS
            };
            let specs = specs_of(cfg, default)?;
            crate::builtins::set_map(res, &specs, key, &pairs);
        }
        "NamespaceTransformer" => {
            let ns = cfg
                .get("metadata")
                .and_then(|m| m.get("namespace"))
                .and_then(Value::as_str)
                .unwrap_or("");
            let unset_only: bool = field(cfg, "unsetOnly")?;
            let specs = specs_of(cfg, "||metadata/namespace|true")?;
            for r in res.iter_mut() {
                if !specs.iter().any(|s| s.matches(r)) || !fieldspecs::resource_is_namespaced(r) {
                    continue;
                }
                if unset_only && !r.namespace().is_empty() {
                    continue;
                }
                crate::builtins::set_namespace(std::slice::from_mut(r), ns, &[]);
            }
        }
        "PatchJson6902Transformer" => {
            let target: Selector = field(cfg, "target")?;
            let patch = Patch {
                path: field::<Option<String>>(cfg, "path")?,
                patch: field::<Option<String>>(cfg, "jsonOp")?,
                target: Some(target),
                options: BTreeMap::new(),
            };
            crate::patch::apply_patch_entry(b, t, res, &patch, "transformers")?;
        }
        "PatchTransformer" => {
            let patch = Patch {
                path: field(cfg, "path")?,
                patch: field(cfg, "patch")?,
                target: field(cfg, "target")?,
                options: field(cfg, "options")?,
            };
            crate::patch::apply_patch_entry(b, t, res, &patch, "transformers")?;
        }
        "PatchStrategicMergeTransformer" => {
            let paths: Vec<String> = field(cfg, "paths")?;
            let inline: Option<String> = field(cfg, "patches")?;
            let mut docs = Vec::new();
            for p in &paths {
                let text = b.read_in_root(t, p)?;
                docs.extend(parse_documents(&text, p)?);
            }
            if let Some(text) = inline {
                docs.extend(parse_documents(&text, &t.file)?);
            }
            for d in docs {
                crate::patch::check_patch_doc(&d, "PatchStrategicMergeTransformer")?;
                crate::patch::apply_smp_by_id(res, &d, crate::patch::custom_schema(t))?;
            }
        }
        "ImageTagTransformer" => {
            let image: Image = field(cfg, "imageTag")?;
            let fs: Vec<FieldSpec> = field(cfg, "fieldSpecs")?;
            crate::builtins::apply_image(res, &image, &fs);
        }
        "ReplicaCountTransformer" => {
            let replica: crate::kustomization::Replica = field(cfg, "replica")?;
            let specs = specs_of(cfg, fieldspecs::REPLICAS)?;
            for r in res.iter_mut().filter(|r| r.had_name(&replica.name)) {
                for s in &specs {
                    s.apply(r, &mut |v| *v = Value::from(replica.count));
                }
            }
        }
        "ReplacementTransformer" => {
            let reps: Vec<Value> = field(cfg, "replacements")?;
            crate::replacements::apply(b, t, res, &reps)?;
        }
        _ => return Err(Error::msg(format!("unable to load builtin {}", id_of(cfg)))),
    }
    Ok(())
}
