//! The Helm renderer: a directory holding a `Chart.yaml` is rendered as `helm template` renders
//! it (`driftless-helm` around a Go template engine), its hooks mapped onto Driftless's.
//!
//! Every file the render reads comes from the [`FileTree`]: the chart, its values files and the
//! files of `--set-file` parameters, so nothing outside the checkout is ever read.

use std::sync::Arc;

use driftless_helm::{File, RenderOptions, TemplateEngine, ValueOptions};
use driftless_resource::{Manifest, Provenance, parse_manifests};

use crate::renderer::{RenderError, Renderer};
use crate::tree::{EntryKind, FileTree, join, normalize};

/// The file whose presence makes a directory a chart.
pub const CHART_FILE: &str = "Chart.yaml";

/// Most directory entries read from one chart (a bound on trees made to loop).
const MAX_ENTRIES: usize = 100_000;

/// Deepest nesting read in a chart (subcharts of subcharts are a few levels at most).
const MAX_DEPTH: usize = 32;

/// How a chart is rendered: `helm template`'s flags, paths relative to the chart directory.
///
/// Values are merged lowest first: the chart's `values.yaml`, `value_files`, `values` (each
/// layer in order), then `set_json`, `set`, `set_string` and `set_file` (Helm's order).
#[derive(Debug, Clone)]
pub struct HelmOptions {
    /// `.Release.Name`.
    pub release_name: String,
    /// `.Release.Namespace` (`--namespace`).
    pub namespace: String,
    /// `--values` files, relative to the chart directory (they may leave it, not the tree).
    pub value_files: Vec<String>,
    /// A missing file of `value_files` is skipped.
    pub ignore_missing_value_files: bool,
    /// Values given inline, after the files: (name for messages, YAML or JSON text).
    pub values: Vec<(String, Vec<u8>)>,
    /// `--set-json` expressions.
    pub set_json: Vec<String>,
    /// `--set` expressions.
    pub set: Vec<String>,
    /// `--set-string` expressions.
    pub set_string: Vec<String>,
    /// `--set-file`: (value path, file relative to the chart directory).
    pub set_file: Vec<(String, String)>,
    /// `--kube-version` (Helm's default when `None`).
    pub kube_version: Option<String>,
    /// `--api-versions`.
    pub api_versions: Vec<String>,
    /// `--include-crds`.
    pub include_crds: bool,
    /// `--skip-tests`.
    pub skip_tests: bool,
    /// `--skip-schema-validation`.
    pub skip_schema_validation: bool,
}

impl Default for HelmOptions {
    /// As Argo CD renders a chart: CRDs included (`skipCrds` false), release `release-name`,
    /// namespace `default`.
    fn default() -> Self {
        HelmOptions {
            release_name: "release-name".into(),
            namespace: "default".into(),
            value_files: Vec::new(),
            ignore_missing_value_files: false,
            values: Vec::new(),
            set_json: Vec::new(),
            set: Vec::new(),
            set_string: Vec::new(),
            set_file: Vec::new(),
            kube_version: None,
            api_versions: Vec::new(),
            include_crds: true,
            skip_tests: false,
            skip_schema_validation: false,
        }
    }
}

/// Renders chart directories.
#[derive(Clone)]
pub struct Helm {
    options: HelmOptions,
    engine: Arc<dyn TemplateEngine + Send + Sync>,
}

impl std::fmt::Debug for Helm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Helm")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Helm {
    /// A renderer with these options, executing templates with `engine`.
    pub fn new(options: HelmOptions, engine: Arc<dyn TemplateEngine + Send + Sync>) -> Self {
        Self { options, engine }
    }

    /// What `helm template` prints for the chart in `dir`.
    ///
    /// # Errors
    /// A chart, values file, parameter or template problem, as one line naming the chart
    /// directory and the file ([`RenderError::Plugin`]).
    pub fn template(&self, tree: &dyn FileTree, dir: &str) -> Result<String, RenderError> {
        let chart_name = if dir.is_empty() { "." } else { dir };
        let fail = |message: String| RenderError::Plugin {
            renderer: "helm",
            error: format!("chart {chart_name}: {message}").into(),
        };
        let mut files = Vec::new();
        read_chart(tree, dir, "", 0, &mut files)?;
        let chart = driftless_helm::load_entries(files).map_err(|e| fail(e.to_string()))?;
        let mut value_files = Vec::new();
        for name in &self.options.value_files {
            let path = normalize(&join(dir, name)).map_err(|e| fail(e.to_string()))?;
            if tree.kind(&path) != Some(EntryKind::File) {
                if self.options.ignore_missing_value_files {
                    continue;
                }
                return Err(fail(format!("values file {path}: no such file")));
            }
            let bytes = tree.read_file(&path)?.into_owned();
            value_files.push((path, bytes));
        }
        value_files.extend(self.options.values.iter().cloned());
        let values = ValueOptions {
            value_files,
            set_json: self.options.set_json.clone(),
            set: self.options.set.clone(),
            set_string: self.options.set_string.clone(),
            set_file: self
                .options
                .set_file
                .iter()
                .map(|(key, path)| format!("{key}={path}"))
                .collect(),
        };
        let mut read_file = |name: &str| -> Result<String, String> {
            let path = normalize(&join(dir, name)).map_err(|e| e.to_string())?;
            let bytes = tree.read_file(&path).map_err(|e| e.to_string())?;
            Ok(String::from_utf8_lossy(&bytes).into_owned())
        };
        let user = values
            .merge(&mut read_file)
            .map_err(|e| fail(e.to_string()))?;
        let options = RenderOptions {
            release_name: self.options.release_name.clone(),
            namespace: self.options.namespace.clone(),
            is_upgrade: false,
            kube_version: self.options.kube_version.clone(),
            api_versions: self.options.api_versions.clone(),
            include_crds: self.options.include_crds,
            skip_tests: self.options.skip_tests,
            skip_schema_validation: self.options.skip_schema_validation,
        };
        driftless_helm::render(chart, &user, &options, self.engine.as_ref())
            .map_err(|e| fail(one_line(&e.to_string())))
    }
}

/// Messages of several lines (a schema's violations) joined into one.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Every file under `dir` (relative names), in path order.
fn read_chart(
    tree: &dyn FileTree,
    dir: &str,
    prefix: &str,
    depth: usize,
    files: &mut Vec<File>,
) -> Result<(), RenderError> {
    if depth > MAX_DEPTH {
        return Err(RenderError::Limit {
            path: dir.to_owned(),
            message: format!("chart nested deeper than {MAX_DEPTH} directories"),
        });
    }
    for name in tree.read_dir(dir)? {
        if files.len() > MAX_ENTRIES {
            return Err(RenderError::Limit {
                path: dir.to_owned(),
                message: format!("chart of more than {MAX_ENTRIES} files"),
            });
        }
        let path = join(dir, &name);
        let relative = join(prefix, &name);
        match tree.kind(&path) {
            Some(EntryKind::Dir) => read_chart(tree, &path, &relative, depth + 1, files)?,
            Some(EntryKind::File) => files.push(File {
                name: relative,
                data: tree.read_file(&path)?.into_owned(),
            }),
            None => {}
        }
    }
    Ok(())
}

impl Renderer for Helm {
    fn name(&self) -> &'static str {
        "helm"
    }

    fn claims(&self, tree: &dyn FileTree, dir: &str) -> bool {
        tree.kind(&join(dir, CHART_FILE)) == Some(EntryKind::File)
    }

    fn render(&self, tree: &dyn FileTree, dir: &str) -> Result<Vec<Manifest>, RenderError> {
        let text = self.template(tree, dir)?;
        manifests(&text, dir)
    }
}

/// The documents of `helm template`'s output as manifests, each one's provenance the template
/// file in the tree (`<chart>/templates/x.yaml` → `<dir>/templates/x.yaml`), hooks mapped onto
/// Driftless's and those without an equivalent (tests, delete hooks) left out.
fn manifests(text: &str, dir: &str) -> Result<Vec<Manifest>, RenderError> {
    let mut out = Vec::new();
    let mut documents: std::collections::HashMap<String, usize> = Default::default();
    for (source, body) in documents_of(text) {
        // The first segment is the chart's name; the rest is the path inside the chart.
        let inside = source.split_once('/').map_or(source, |(_, rest)| rest);
        let file = join(dir, inside);
        for manifest in parse_manifests(&file, body.as_bytes())? {
            let (mut object, _) = manifest.into_parts();
            if !driftless_helm::hooks::apply_mapping(&mut object) {
                continue;
            }
            let counter = documents.entry(file.clone()).or_default();
            let at = Provenance {
                file: file.clone(),
                document: *counter,
                line: 0,
                item: None,
            };
            *counter += 1;
            out.push(Manifest::new(object, at).map_err(|e| RenderError::Plugin {
                renderer: "helm",
                error: Box::new(e),
            })?);
        }
    }
    Ok(out)
}

/// `(source, body)` of each document: they start with a `---` line and a `# Source:` line.
fn documents_of(text: &str) -> Vec<(&str, String)> {
    let mut docs: Vec<(&str, String)> = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line == "---"
            && let Some(source) = lines.peek().and_then(|l| l.strip_prefix("# Source: "))
        {
            lines.next();
            docs.push((source, String::new()));
            continue;
        }
        if let Some((_, body)) = docs.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    docs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MemoryTree, Plain, PlainOptions, Renderers};
    use driftless_helm::RenderData;

    /// Prints each executed template's source with `{{NAME}}` replaced by the release name and
    /// `{{V}}` by `.Values.v`: enough to see values, parameters and files reach the chart.
    fn engine() -> Arc<dyn TemplateEngine + Send + Sync> {
        Arc::new(
            |data: &RenderData| -> Result<Vec<(String, String)>, String> {
                data.templates
                    .iter()
                    .filter(|t| t.execute)
                    .map(|t| {
                        let v = data.scopes[t.scope]
                            .values
                            .get("v")
                            .map(|v| match v {
                                serde_json::Value::String(s) => s.clone(),
                                other => other.to_string(),
                            })
                            .unwrap_or_default();
                        if t.source.contains("FAIL") {
                            return Err(format!("template: {}:1:3: boom", t.name));
                        }
                        Ok((
                            t.name.clone(),
                            t.source
                                .replace("{{NAME}}", &data.release.name)
                                .replace("{{V}}", &v),
                        ))
                    })
                    .collect::<Result<Vec<_>, String>>()
            },
        )
    }

    fn chart() -> MemoryTree {
        let mut tree = MemoryTree::default();
        tree.insert(
            "apps/web/Chart.yaml",
            "apiVersion: v2\nname: web\nversion: 1.0.0\n",
        );
        tree.insert("apps/web/values.yaml", "v: chart\n");
        tree.insert(
            "apps/web/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{NAME}}\ndata:\n  v: \"{{V}}\"\n",
        );
        tree.insert(
            "apps/web/templates/hooks.yaml",
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: pre\n  annotations:\n    helm.sh/hook: pre-install\n    helm.sh/hook-weight: \"-2\"\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: test\n  annotations:\n    helm.sh/hook: test\n",
        );
        tree.insert("apps/web/prod.yaml", "v: prod\n");
        tree.insert("values/shared.yaml", "v: shared\n");
        tree.insert("values/param.txt", "from-file");
        tree
    }

    fn render(tree: &MemoryTree, options: HelmOptions) -> Result<Vec<Manifest>, RenderError> {
        let renderers = Renderers::new(vec![
            Box::new(Helm::new(options, engine())),
            Box::new(Plain::new(&PlainOptions::default())?),
        ]);
        renderers.render(tree, "apps/web")
    }

    fn cm_value(manifests: &[Manifest]) -> Option<String> {
        manifests
            .iter()
            .find(|m| m.key().kind == "ConfigMap")
            .and_then(|m| m.object().pointer("/data/v"))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    }

    #[test]
    fn a_chart_directory_is_rendered_with_its_hooks_mapped() -> Result<(), RenderError> {
        let manifests = render(
            &chart(),
            HelmOptions {
                release_name: "web".into(),
                ..HelmOptions::default()
            },
        )?;
        let names: Vec<_> = manifests
            .iter()
            .map(|m| (m.key().kind.as_str(), m.key().name.as_str()))
            .collect();
        // The test hook has no Driftless equivalent and is left out.
        assert_eq!(names, [("ConfigMap", "web"), ("Job", "pre")]);
        assert_eq!(cm_value(&manifests).as_deref(), Some("chart"));
        let job = &manifests[1];
        assert_eq!(
            job.object()
                .pointer("/metadata/annotations/driftless.dev~1hook"),
            Some(&serde_json::json!("PreSync"))
        );
        assert_eq!(
            job.object()
                .pointer("/metadata/annotations/driftless.dev~1sync-wave"),
            Some(&serde_json::json!("-2"))
        );
        assert_eq!(job.provenance().file, "apps/web/templates/hooks.yaml");
        Ok(())
    }

    #[test]
    fn values_are_layered_files_then_inline_then_parameters() -> Result<(), RenderError> {
        let tree = chart();
        let with = |options: HelmOptions| render(&tree, options).map(|m| cm_value(&m));
        let files = HelmOptions {
            value_files: vec!["../../values/shared.yaml".into(), "prod.yaml".into()],
            ..HelmOptions::default()
        };
        assert_eq!(with(files.clone())?.as_deref(), Some("prod"));
        let inline = HelmOptions {
            values: vec![("values".into(), b"v: inline\n".to_vec())],
            ..files.clone()
        };
        assert_eq!(with(inline.clone())?.as_deref(), Some("inline"));
        let set = HelmOptions {
            set: vec!["v=set".into()],
            ..inline.clone()
        };
        assert_eq!(with(set)?.as_deref(), Some("set"));
        let file = HelmOptions {
            set_file: vec![("v".into(), "../../values/param.txt".into())],
            ..inline
        };
        assert_eq!(with(file)?.as_deref(), Some("from-file"));
        Ok(())
    }

    #[test]
    fn bad_input_is_one_line_naming_the_chart_and_file() {
        let tree = chart();
        let message = |options: HelmOptions| match render(&tree, options) {
            Ok(_) => String::from("rendered"),
            Err(e) => e.to_string(),
        };
        let missing = message(HelmOptions {
            value_files: vec!["absent.yaml".into()],
            ..HelmOptions::default()
        });
        assert_eq!(
            missing,
            "helm: chart apps/web: values file apps/web/absent.yaml: no such file"
        );
        let ignored = message(HelmOptions {
            value_files: vec!["absent.yaml".into()],
            ignore_missing_value_files: true,
            ..HelmOptions::default()
        });
        assert_eq!(ignored, "rendered");
        let set = message(HelmOptions {
            set: vec!["a[x]=1".into()],
            ..HelmOptions::default()
        });
        assert!(
            set.starts_with("helm: chart apps/web: failed parsing --set data"),
            "{set}"
        );
        let mut failing = chart();
        failing.insert("apps/web/templates/bad.yaml", "FAIL");
        let failed = match render(&failing, HelmOptions::default()) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        };
        assert_eq!(
            failed,
            "helm: chart apps/web: template: web/templates/bad.yaml:1:3: boom"
        );
        for m in [missing, set, failed] {
            assert!(!m.contains('\n'), "{m}");
        }
    }

    #[test]
    fn documents_are_split_at_source_headers() {
        let docs = documents_of(
            "---\n# Source: c/templates/a.yaml\na: 1\n---\n# Source: c/templates/b.yaml\nb: 2\n",
        );
        assert_eq!(
            docs,
            [
                ("c/templates/a.yaml", "a: 1\n".to_owned()),
                ("c/templates/b.yaml", "b: 2\n".to_owned())
            ]
        );
    }
}
