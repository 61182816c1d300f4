//! How an Application's `spec.source.helm` (and Flux's `valuesFrom`) becomes the options of the
//! Helm renderer.
//!
//! Values, lowest precedence first: the chart's `values.yaml`, `valueFiles` in order, `values`
//! (or `valuesObject`, which replaces `values` when both are set, as in Argo CD), `valuesFrom`
//! in order, then `parameters` (`--set`, or `--set-string` with `forceString`) and
//! `fileParameters` (`--set-file`).

use driftless_api::{HelmSource, Source as SourceSpec, ValuesReference};
use driftless_render::{HelmOptions, join, normalize};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::{Api, Client};

/// What a chart's render needs besides the spec: where it goes and the values read from the
/// cluster.
#[derive(Debug, Clone, Default)]
pub struct ChartContext {
    /// The Application's name: the default release name.
    pub app: String,
    /// The destination namespace (`.Release.Namespace`).
    pub namespace: String,
    /// The destination cluster's version: the default `.Capabilities.KubeVersion`.
    pub kube_version: Option<String>,
    /// `valuesFrom`, read: one values layer each (name for messages, JSON text).
    pub values_from: Vec<(String, Vec<u8>)>,
}

impl ChartContext {
    /// For the Application `app` deploying to `namespace`.
    pub fn new(app: &str, namespace: &str) -> Self {
        ChartContext {
            app: app.to_owned(),
            namespace: namespace.to_owned(),
            ..ChartContext::default()
        }
    }
}

/// The Helm renderer's options for `spec` in `context`.
pub fn helm_options(spec: &SourceSpec, context: &ChartContext) -> HelmOptions {
    let helm = spec.helm.clone().unwrap_or_default();
    let mut values = Vec::new();
    match (&helm.values_object, &helm.values) {
        (Some(object), _) => values.push((
            "spec.source.helm.valuesObject".to_owned(),
            serde_json::to_vec(object).unwrap_or_default(),
        )),
        (None, Some(serde_json::Value::String(text))) => values.push((
            "spec.source.helm.values".to_owned(),
            text.as_bytes().to_vec(),
        )),
        (None, Some(serde_json::Value::Null)) | (None, None) => {}
        (None, Some(other)) => values.push((
            "spec.source.helm.values".to_owned(),
            serde_json::to_vec(other).unwrap_or_default(),
        )),
    }
    values.extend(context.values_from.iter().cloned());
    let (mut set, mut set_string) = (Vec::new(), Vec::new());
    for p in &helm.parameters {
        let expr = format!("{}={}", p.name, one_value(&p.value));
        if p.force_string {
            set_string.push(expr);
        } else {
            set.push(expr);
        }
    }
    let release_name = helm
        .release_name
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| context.app.clone());
    HelmOptions {
        release_name,
        namespace: context.namespace.clone(),
        value_files: helm.value_files.clone(),
        ignore_missing_value_files: helm.ignore_missing_value_files,
        values,
        set_json: Vec::new(),
        set,
        set_string,
        set_file: helm
            .file_parameters
            .iter()
            .map(|f| (f.name.clone(), f.path.clone()))
            .collect(),
        kube_version: helm
            .kube_version
            .clone()
            .or_else(|| context.kube_version.clone()),
        api_versions: helm.api_versions.clone(),
        include_crds: !helm.skip_crds,
        skip_tests: helm.skip_tests,
        skip_schema_validation: helm.skip_schema_validation,
    }
}

/// A parameter's value is one value: its commas are escaped (`--set` would split at them),
/// except in a `{a,b}` list, which is Helm's list syntax.
fn one_value(value: &str) -> String {
    if value.starts_with('{') && value.ends_with('}') {
        return value.to_owned();
    }
    let mut out = String::with_capacity(value.len());
    let mut escaped = false;
    for c in value.chars() {
        if c == ',' && !escaped {
            out.push('\\');
        }
        escaped = c == '\\' && !escaped;
        out.push(c);
    }
    out
}

/// Whether some values file or file parameter of `helm` lies outside `dir` (the whole
/// repository must then be read, not only `dir`).
pub fn reads_outside(helm: Option<&HelmSource>, dir: &str) -> bool {
    let Some(helm) = helm else {
        return false;
    };
    helm.value_files
        .iter()
        .chain(helm.file_parameters.iter().map(|f| &f.path))
        .any(|file| match normalize(&join(dir, file)) {
            Ok(path) => !dir.is_empty() && !path.starts_with(&format!("{dir}/")),
            Err(_) => false,
        })
}

/// Reads `valuesFrom` from the Application's namespace, in order: each a values layer. A
/// Secret's content is never part of a message.
///
/// # Errors
/// A missing object or key that is not `optional`, a kind other than ConfigMap or Secret, or a
/// values key that is not YAML: one line naming the object and key.
pub async fn values_from(
    client: &Client,
    namespace: &str,
    refs: &[ValuesReference],
) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut layers = Vec::new();
    for r in refs {
        let key = r.values_key.clone().unwrap_or_else(|| "values.yaml".into());
        let name = format!("valuesFrom {} {namespace}/{} key {key}", r.kind, r.name);
        let found: Option<Option<Vec<u8>>> = match r.kind.as_str() {
            "ConfigMap" => Api::<ConfigMap>::namespaced(client.clone(), namespace)
                .get_opt(&r.name)
                .await
                .map_err(|e| format!("{name}: {e}"))?
                .map(|cm| {
                    cm.data
                        .and_then(|d| d.get(&key).map(|v| v.clone().into_bytes()))
                        .or_else(|| {
                            cm.binary_data
                                .and_then(|d| d.get(&key).map(|v| v.0.clone()))
                        })
                }),
            "Secret" => Api::<Secret>::namespaced(client.clone(), namespace)
                .get_opt(&r.name)
                .await
                .map_err(|e| format!("{name}: {e}"))?
                .map(|s| s.data.and_then(|d| d.get(&key).map(|v| v.0.clone()))),
            other => return Err(format!("{name}: kind {other:?} is not ConfigMap or Secret")),
        };
        let bytes = match found {
            Some(Some(bytes)) => bytes,
            _ if r.optional => continue,
            None => return Err(format!("{name}: {} not found", r.kind)),
            Some(None) => return Err(format!("{name}: no such key")),
        };
        layers.push((
            name.clone(),
            layer(&name, &bytes, r.target_path.as_deref())?,
        ));
    }
    Ok(layers)
}

/// One `valuesFrom` entry as a values layer (JSON): the key's YAML, or with `target_path` its
/// text as one value at that path (typed as `--set` types it, as Flux does).
fn layer(name: &str, bytes: &[u8], target_path: Option<&str>) -> Result<Vec<u8>, String> {
    let map = match target_path {
        None => driftless_helm::values_file(bytes)
            .map_err(|_| format!("{name}: not a YAML map of values"))?,
        Some(path) => {
            let text = String::from_utf8_lossy(bytes);
            let mut map = serde_json::Map::new();
            let path = path.trim_end_matches('.');
            driftless_helm::strvals::parse_into(
                &format!("{path}={}", one_value(text.trim_end_matches('\n'))),
                &mut map,
                driftless_helm::strvals::Mode::Typed,
            )
            .map_err(|_| format!("{name}: bad targetPath {path:?}"))?;
            map
        }
    };
    serde_json::to_vec(&map).map_err(|e| format!("{name}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftless_api::{HelmFileParameter, HelmParameter};

    #[test]
    fn the_spec_maps_onto_helm_options_in_argo_cd_s_precedence() {
        let spec = SourceSpec {
            helm: Some(HelmSource {
                value_files: vec!["prod.yaml".into()],
                values: Some(serde_json::json!("a: 1\n")),
                values_object: Some(serde_json::Map::from_iter([(
                    "b".to_owned(),
                    serde_json::json!(2),
                )])),
                parameters: vec![
                    HelmParameter {
                        name: "x".into(),
                        value: "a,b".into(),
                        force_string: false,
                    },
                    HelmParameter {
                        name: "y".into(),
                        value: "007".into(),
                        force_string: true,
                    },
                ],
                file_parameters: vec![HelmFileParameter {
                    name: "z".into(),
                    path: "f.txt".into(),
                }],
                skip_crds: true,
                ..HelmSource::default()
            }),
            ..SourceSpec::default()
        };
        let mut context = ChartContext::new("web", "shop");
        context.kube_version = Some("v1.35.4".into());
        context.values_from = vec![("vf".into(), b"{}".to_vec())];
        let o = helm_options(&spec, &context);
        assert_eq!(o.release_name, "web");
        assert_eq!(o.namespace, "shop");
        assert_eq!(o.kube_version.as_deref(), Some("v1.35.4"));
        // valuesObject replaces values; valuesFrom comes after.
        let names: Vec<&str> = o.values.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["spec.source.helm.valuesObject", "vf"]);
        assert_eq!(o.set, ["x=a\\,b"]);
        assert_eq!(o.set_string, ["y=007"]);
        assert_eq!(o.set_file, [("z".to_owned(), "f.txt".to_owned())]);
        assert!(!o.include_crds);
    }

    #[test]
    fn lists_keep_their_commas_and_escaped_commas_stay_escaped() {
        assert_eq!(one_value("{a,b}"), "{a,b}");
        assert_eq!(one_value("a\\,b,c"), "a\\,b\\,c");
    }

    #[test]
    fn target_paths_set_one_value_and_bad_yaml_names_only_the_key() -> Result<(), String> {
        let l = layer("k", b"3\n", Some("a.b"))?;
        assert_eq!(String::from_utf8_lossy(&l), r#"{"a":{"b":3}}"#);
        let e = layer("Secret ns/s key values.yaml", b"secret: [unclosed", None);
        assert_eq!(
            e,
            Err("Secret ns/s key values.yaml: not a YAML map of values".to_owned())
        );
        Ok(())
    }

    #[test]
    fn value_files_outside_the_chart_need_the_whole_repository() {
        let helm = HelmSource {
            value_files: vec!["../shared/values.yaml".into()],
            ..HelmSource::default()
        };
        assert!(reads_outside(Some(&helm), "charts/web"));
        let inside = HelmSource {
            value_files: vec!["values-prod.yaml".into()],
            ..HelmSource::default()
        };
        assert!(!reads_outside(Some(&inside), "charts/web"));
    }
}
