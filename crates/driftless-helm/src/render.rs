//! The data Helm hands its template engine, the boundary the engine plugs into, and the whole
//! `helm template` pipeline around it.
//!
//! # The data
//! One [`Scope`] per chart (the root first, then subcharts depth-first in dependency order),
//! holding what a template of that chart sees as `.`: `.Values` (the root's coalesced values; a
//! subchart's, the table under its name in its parent's, else empty), `.Chart`
//! ([`metadata_map`] plus `IsRoot`), `.Files` (the chart's files, `.Files.Get` etc. work on
//! them), `.Subcharts` (each subchart's scope by name), and, shared by all, `.Release` and
//! `.Capabilities`. `.Template` is `{Name, BasePath}` of the template being executed.
//!
//! Numbers: values read from YAML are `float64` (float [`serde_json::Number`]s), `--set`
//! integers `int64` (integer `Number`s); `.Release.Revision` is a Go `int`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::capabilities::{Capabilities, KubeVersion};
use crate::chart::{Chart, metadata_map};
use crate::crds::crd_objects;
use crate::file::File;
use crate::strvals::{self, Mode};
use crate::table::{Values, Warnings};
use crate::values;
use crate::{Error, output};

/// `.Release`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// `.Release.Name`.
    pub name: String,
    /// `.Release.Namespace`.
    pub namespace: String,
    /// `.Release.IsUpgrade` (`helm template --is-upgrade`).
    pub is_upgrade: bool,
    /// `.Release.IsInstall`: the opposite of `is_upgrade`.
    pub is_install: bool,
    /// `.Release.Revision`: 1 under `helm template`.
    pub revision: i64,
    /// `.Release.Service`: `Helm`.
    pub service: String,
}

impl Release {
    /// As `helm template` sets it.
    pub fn for_template(name: &str, namespace: &str, is_upgrade: bool) -> Self {
        Release {
            name: name.to_owned(),
            namespace: namespace.to_owned(),
            is_upgrade,
            is_install: !is_upgrade,
            revision: 1,
            service: "Helm".into(),
        }
    }

    /// As a value (`toJson .Release`).
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("Name".into(), self.name.clone().into());
        m.insert("Namespace".into(), self.namespace.clone().into());
        m.insert("IsUpgrade".into(), self.is_upgrade.into());
        m.insert("IsInstall".into(), self.is_install.into());
        m.insert("Revision".into(), self.revision.into());
        m.insert("Service".into(), self.service.clone().into());
        Value::Object(m)
    }
}

/// What one chart's templates see as `.` (except `.Template`).
#[derive(Debug, Clone, PartialEq)]
pub struct Scope {
    /// The chart's path in the output, e.g. `top/charts/sub` (aliases applied).
    pub full_path: String,
    /// `.Chart`.
    pub chart: Map<String, Value>,
    /// `.Values`.
    pub values: Values,
    /// Where `.Values` sits in the root scope's values (`["sub", "inner"]` for
    /// `top/charts/sub/charts/inner`), or `None` when it is a fresh empty table (its parent's
    /// values hold no table under its name). In Go the subchart's `.Values` *is* that table, so
    /// a change a template makes (`set .Values.sub ...`) is seen by the subchart's templates:
    /// an engine keeping Go's semantics shares one tree and hands each scope its subtree.
    pub values_path: Option<Vec<String>>,
    /// `.Files`: the chart's files by name.
    pub files: Vec<File>,
    /// `.Subcharts`: subchart name → index of its scope in [`RenderData::scopes`].
    pub subcharts: Vec<(String, usize)>,
}

impl Scope {
    /// `.Files` with Helm's helpers (`Get`, `Glob`, `Lines`, `AsConfig`...).
    pub fn files(&self) -> crate::Files {
        crate::Files::new(&self.files)
    }
}

/// One template to parse, and maybe to execute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Its name in the template set and in `# Source:`, e.g. `top/charts/sub/templates/a.yaml`.
    pub name: String,
    /// Its text.
    pub source: String,
    /// `.Template.BasePath`, e.g. `top/charts/sub/templates`.
    pub base_path: String,
    /// Index of its chart's scope in [`RenderData::scopes`].
    pub scope: usize,
    /// Whether it is executed: false for partials (`_*`), which are only parsed (their
    /// `define`s are used through `include`/`template`).
    pub execute: bool,
}

/// Everything the template engine needs.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderData {
    /// `.Release`.
    pub release: Release,
    /// `.Capabilities`.
    pub capabilities: Capabilities,
    /// One scope per chart; the root's is first.
    pub scopes: Vec<Scope>,
    /// Every template of every enabled chart (a library chart's partials only), in Helm's parse
    /// order ([`parse_order`]): when two templates `define` one name, the later parsed wins.
    pub templates: Vec<Template>,
    /// Warnings met on the way (Helm prints them on stderr).
    pub warnings: Vec<String>,
}

impl RenderData {
    /// The top-level data of `template` as a value: what Go's `toJson .` prints inside it
    /// (`.Files` as base64 bytes, as Go encodes `[]byte`; `.Capabilities` by its JSON form).
    /// Plain data for engines that want a value; methods (`.Files.Get`,
    /// `.Capabilities.APIVersions.Has`, `.KubeVersion.GitVersion`) are the engine's to provide
    /// from the typed fields.
    pub fn top_level(&self, template: &Template) -> Value {
        let mut top = match self.scope_value(template.scope) {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        let mut t = Map::new();
        t.insert("Name".into(), template.name.clone().into());
        t.insert("BasePath".into(), template.base_path.clone().into());
        top.insert("Template".into(), Value::Object(t));
        Value::Object(top)
    }

    fn scope_value(&self, index: usize) -> Value {
        let Some(scope) = self.scopes.get(index) else {
            return Value::Null;
        };
        let mut m = Map::new();
        m.insert("Chart".into(), Value::Object(scope.chart.clone()));
        m.insert("Values".into(), Value::Object(scope.values.clone()));
        m.insert("Release".into(), self.release.to_json());
        m.insert("Capabilities".into(), self.capabilities.to_json());
        let files: Map<String, Value> = scope
            .files
            .iter()
            .map(|f| (f.name.clone(), Value::String(base64(&f.data))))
            .collect();
        m.insert("Files".into(), Value::Object(files));
        let subs: Map<String, Value> = scope
            .subcharts
            .iter()
            .map(|(name, i)| (name.clone(), self.scope_value(*i)))
            .collect();
        m.insert("Subcharts".into(), Value::Object(subs));
        Value::Object(m)
    }
}

fn base64(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// The boundary the Go `text/template` engine plugs into.
///
/// # Contract
/// Parse every template of [`RenderData::templates`] in order into one template set (a later
/// `define` of a name replaces an earlier one), with Helm's functions (`include`, `tpl`,
/// `required`, `lookup` returning an empty map, ...) and `missingkey=zero`; then execute each
/// template whose `execute` is true with [`RenderData::top_level`]'s data (or the typed
/// equivalent), and return `(name, output)` for each. Helm's replacement of `<no value>` by
/// nothing is done by [`render`], not by the engine.
///
/// # Errors
/// The first parse or execution error, as Helm words it (template name, line and column).
pub trait TemplateEngine {
    /// Executes the templates of `data`.
    fn execute(&self, data: &RenderData) -> Result<Vec<(String, String)>, String>;
}

/// Any function of the right shape is an engine.
impl<F> TemplateEngine for F
where
    F: Fn(&RenderData) -> Result<Vec<(String, String)>, String>,
{
    fn execute(&self, data: &RenderData) -> Result<Vec<(String, String)>, String> {
        self(data)
    }
}

/// Helm's parse order (`sortTemplates`): deeper paths first, and at one depth, names in
/// reverse order. So a chart's own templates come after its subcharts', and its `define`s win.
pub fn parse_order(names: &mut [String]) {
    names.sort_by(|a, b| {
        let (ca, cb) = (a.matches('/').count(), b.matches('/').count());
        cb.cmp(&ca).then_with(|| b.cmp(a))
    });
}

/// The values the user gives: Helm's `--values`, `--set-json`, `--set`, `--set-string` and
/// `--set-file`, applied in that order (each kind in its own order, whatever the order on the
/// command line), as Helm's `values.Options.MergeValues`.
#[derive(Debug, Clone, Default)]
pub struct ValueOptions {
    /// `--values`: (name for messages, content), in order.
    pub value_files: Vec<(String, Vec<u8>)>,
    /// `--set-json` expressions (`a.b={"x":1}`, or a whole JSON object).
    pub set_json: Vec<String>,
    /// `--set` expressions.
    pub set: Vec<String>,
    /// `--set-string` expressions.
    pub set_string: Vec<String>,
    /// `--set-file` expressions (`key=path`).
    pub set_file: Vec<String>,
}

impl ValueOptions {
    /// The user's values. `read_file` reads a `--set-file` path (the caller decides where paths
    /// may point).
    ///
    /// # Errors
    /// A values file that does not parse (named), or a bad expression (Helm's message).
    pub fn merge(
        &self,
        read_file: &mut dyn FnMut(&str) -> Result<String, String>,
    ) -> Result<Values, Error> {
        let mut base = Map::new();
        for (name, bytes) in &self.value_files {
            let current = crate::yaml::values_file(bytes).map_err(|e| Error::Yaml {
                file: name.clone(),
                source: e,
            })?;
            base = values::merge_maps(base, current);
        }
        for expr in &self.set_json {
            let trimmed = expr.trim();
            if trimmed.starts_with('{') {
                let map: Map<String, Value> =
                    serde_json::from_str(trimmed).map_err(|_| Error::Set {
                        flag: "set-json",
                        source: strvals::StrvalsError(format!("JSON: {expr}")),
                    })?;
                let map = match crate::yaml::go_numbers(Value::Object(map)) {
                    Value::Object(m) => m,
                    _ => Map::new(),
                };
                base = values::merge_maps(base, map);
            } else {
                strvals::parse_into(expr, &mut base, Mode::Json).map_err(|_| Error::Set {
                    flag: "set-json",
                    source: strvals::StrvalsError(expr.clone()),
                })?;
            }
        }
        for expr in &self.set {
            strvals::parse_into(expr, &mut base, Mode::Typed).map_err(|source| Error::Set {
                flag: "set",
                source,
            })?;
        }
        for expr in &self.set_string {
            strvals::parse_into(expr, &mut base, Mode::Strings).map_err(|source| Error::Set {
                flag: "set-string",
                source,
            })?;
        }
        for expr in &self.set_file {
            strvals::parse_into(expr, &mut base, Mode::File(read_file)).map_err(|source| {
                Error::Set {
                    flag: "set-file",
                    source,
                }
            })?;
        }
        Ok(base)
    }
}

/// The flags of `helm template` that shape rendering.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// The release name (`helm template NAME`).
    pub release_name: String,
    /// `--namespace`.
    pub namespace: String,
    /// `--is-upgrade`.
    pub is_upgrade: bool,
    /// `--kube-version` (Helm's default when `None`).
    pub kube_version: Option<String>,
    /// `--api-versions`, added to Helm's default set.
    pub api_versions: Vec<String>,
    /// `--include-crds`: print the charts' `crds/` files first.
    pub include_crds: bool,
    /// `--skip-tests`: leave out `helm.sh/hook: test` hooks.
    pub skip_tests: bool,
    /// `--skip-schema-validation`.
    pub skip_schema_validation: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            release_name: "release-name".into(),
            namespace: "default".into(),
            is_upgrade: false,
            kube_version: None,
            api_versions: Vec::new(),
            include_crds: false,
            skip_tests: false,
            skip_schema_validation: false,
        }
    }
}

/// Coalesces the values of a chart whose dependencies are processed
/// ([`crate::process_dependencies`]), validates them against the schemas, and builds the data
/// of every template (Helm's `ToRenderValues` and `allTemplates`).
///
/// # Errors
/// A subchart values key that is not a table, a schema violation, a bad `--kube-version`.
pub fn render_data(
    chart: &Chart,
    user_values: &Values,
    options: &RenderOptions,
    mut warnings: Warnings,
) -> Result<RenderData, Error> {
    let kube_version = options
        .kube_version
        .as_deref()
        .map(KubeVersion::parse)
        .transpose()?;
    let capabilities = Capabilities::for_template(kube_version, &options.api_versions);
    let vals = values::coalesce_values(chart, user_values, &mut warnings)?;
    if !options.skip_schema_validation {
        crate::schema::validate_values(chart, &vals)?;
    }
    let mut data = RenderData {
        release: Release::for_template(
            &options.release_name,
            &options.namespace,
            options.is_upgrade,
        ),
        capabilities,
        scopes: Vec::new(),
        templates: Vec::new(),
        warnings,
    };
    let mut templates = BTreeMap::new();
    add_scope(
        chart,
        vals,
        chart.name().to_owned(),
        Some(Vec::new()),
        &mut data,
        &mut templates,
    );
    let mut names: Vec<String> = templates.keys().cloned().collect();
    parse_order(&mut names);
    data.templates = names
        .into_iter()
        .filter_map(|n| templates.remove(&n))
        .collect();
    Ok(data)
}

fn add_scope(
    chart: &Chart,
    vals: Values,
    full_path: String,
    values_path: Option<Vec<String>>,
    data: &mut RenderData,
    templates: &mut BTreeMap<String, Template>,
) -> usize {
    let mut meta = metadata_map(&chart.metadata);
    let is_root = data.scopes.is_empty();
    meta.insert("IsRoot".into(), is_root.into());
    let index = data.scopes.len();
    data.scopes.push(Scope {
        full_path: full_path.clone(),
        chart: meta,
        values: vals.clone(),
        values_path: values_path.clone(),
        files: chart.files.clone(),
        subcharts: Vec::new(),
    });
    let mut subcharts = Vec::new();
    for sub in &chart.dependencies {
        let (sub_vals, sub_values_path) = match vals.get(sub.name()) {
            Some(Value::Object(m)) => (
                m.clone(),
                values_path.as_ref().map(|p| {
                    let mut p = p.clone();
                    p.push(sub.name().to_owned());
                    p
                }),
            ),
            _ => (Map::new(), None),
        };
        let sub_path = format!("{full_path}/charts/{}", sub.name());
        let i = add_scope(sub, sub_vals, sub_path, sub_values_path, data, templates);
        subcharts.push((sub.name().to_owned(), i));
    }
    if let Some(scope) = data.scopes.get_mut(index) {
        scope.subcharts = subcharts;
    }
    for t in &chart.templates {
        let base = t.name.rsplit('/').next().unwrap_or(&t.name);
        let partial = base.starts_with('_');
        if chart.is_library() && !partial {
            continue;
        }
        let name = format!("{full_path}/{}", t.name);
        templates.insert(
            name.clone(),
            Template {
                name,
                source: String::from_utf8_lossy(&t.data).into_owned(),
                base_path: format!("{full_path}/templates"),
                scope: index,
                execute: !partial,
            },
        );
    }
    index
}

/// What `helm template` checks of a loaded chart before rendering: an application chart (not a
/// library), and a chart under `charts/` for every declared dependency (by name; versions and
/// aliases are matched later).
///
/// # Errors
/// [`Error::NotInstallable`], [`Error::MissingDependencies`].
pub fn check_installable(chart: &Chart) -> Result<(), Error> {
    if !matches!(chart.metadata.chart_type.as_str(), "" | "application") {
        return Err(Error::NotInstallable(chart.metadata.chart_type.clone()));
    }
    let missing: Vec<String> = chart
        .metadata
        .dependencies
        .iter()
        .filter(|d| !chart.dependencies.iter().any(|c| c.name() == d.name))
        .map(|d| d.name.clone())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::MissingDependencies(missing))
    }
}

/// Helm's release name rule: DNS-1123 subdomain labels, at most 53 characters.
const RELEASE_NAME: &str = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

/// Refuses a release name Helm refuses, with Helm's message.
///
/// # Errors
/// [`Error::ReleaseName`].
pub fn validate_release_name(name: &str) -> Result<(), Error> {
    let reason = if name.is_empty() {
        "no name provided".to_owned()
    } else if name.len() > 53 || !regex::Regex::new(RELEASE_NAME).is_ok_and(|r| r.is_match(name)) {
        format!(
            "invalid release name, must match regex {RELEASE_NAME} and the length must not be longer than 53"
        )
    } else {
        return Ok(());
    };
    Err(Error::ReleaseName {
        name: name.to_owned(),
        reason,
    })
}

/// `helm template` as a whole: checks the chart ([`check_installable`]) and the release name, processes dependencies, builds the data, checks the chart's
/// `kubeVersion`, executes the templates with `engine`, drops `NOTES.txt`, and assembles the
/// output ([`output::assemble`]).
///
/// # Errors
/// Any error of the steps, the engine's as [`Error::Template`].
pub fn render(
    mut chart: Chart,
    user_values: &Values,
    options: &RenderOptions,
    engine: &dyn TemplateEngine,
) -> Result<String, Error> {
    check_installable(&chart)?;
    validate_release_name(&options.release_name)?;
    let mut warnings = Vec::new();
    crate::deps::process_dependencies(&mut chart, user_values, &mut warnings)
        .map_err(|e| Error::Dependencies(Box::new(e)))?;
    let data = render_data(&chart, user_values, options, warnings)?;
    let kube = &data.capabilities.kube_version;
    if !chart.metadata.kube_version.is_empty()
        && !crate::constraint::is_compatible_range(&chart.metadata.kube_version, &kube.normalized)
    {
        return Err(Error::KubeVersion {
            constraint: chart.metadata.kube_version.clone(),
            version: kube.version.clone(),
        });
    }
    let rendered = engine.execute(&data).map_err(Error::Template)?;
    let files: BTreeMap<String, String> = rendered
        .into_iter()
        .filter(|(name, _)| !name.ends_with("NOTES.txt"))
        .map(|(name, text)| (name, text.replace("<no value>", "")))
        .collect();
    let crds = if options.include_crds {
        crd_objects(&chart)
    } else {
        Vec::new()
    };
    Ok(output::assemble(&files, &crds, options.skip_tests)?.text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_order_puts_deeper_templates_first_and_reverses_names() {
        let mut names: Vec<String> = [
            "top/templates/a.yaml",
            "top/templates/_helpers.tpl",
            "top/charts/sub/templates/x.yaml",
            "top/templates/b.yaml",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        parse_order(&mut names);
        assert_eq!(
            names,
            vec![
                "top/charts/sub/templates/x.yaml",
                "top/templates/b.yaml",
                "top/templates/a.yaml",
                "top/templates/_helpers.tpl",
            ]
        );
    }

    #[test]
    fn scopes_know_where_their_values_sit_and_templates_their_order() -> Result<(), Error> {
        let file = |name: &str, data: &str| File {
            name: name.into(),
            data: data.as_bytes().to_vec(),
        };
        let mut chart = crate::load_files(vec![
            file("Chart.yaml", "name: top\nversion: 1.0.0\n"),
            file("templates/a.yaml", "a"),
            file("templates/_h.tpl", "h"),
            file("charts/sub/Chart.yaml", "name: sub\nversion: 1.0.0\n"),
            file("charts/sub/values.yaml", "x: 1\n"),
            file("charts/sub/templates/s.yaml", "s"),
        ])?;
        crate::process_dependencies(&mut chart, &Map::new(), &mut Vec::new())?;
        let data = render_data(&chart, &Map::new(), &RenderOptions::default(), Vec::new())?;
        assert_eq!(data.scopes[0].values_path, Some(vec![]));
        assert_eq!(data.scopes[1].values_path, Some(vec!["sub".to_owned()]));
        assert_eq!(data.scopes[1].values["x"].as_f64(), Some(1.0));
        assert_eq!(data.scopes[0].chart["IsRoot"], Value::Bool(true));
        assert_eq!(data.scopes[1].chart["IsRoot"], Value::Bool(false));
        let order: Vec<(&str, bool)> = data
            .templates
            .iter()
            .map(|t| (t.name.as_str(), t.execute))
            .collect();
        assert_eq!(
            order,
            [
                ("top/charts/sub/templates/s.yaml", true),
                ("top/templates/a.yaml", true),
                ("top/templates/_h.tpl", false)
            ]
        );
        let top = data.top_level(&data.templates[1]);
        assert_eq!(top["Template"]["BasePath"], Value::from("top/templates"));
        assert_eq!(top["Release"]["Service"], Value::from("Helm"));
        Ok(())
    }

    #[test]
    fn release_names_follow_helms_rule() {
        assert!(validate_release_name("web-1.prod").is_ok());
        for bad in ["", "Web", "a_b", "-a", &"a".repeat(54)] {
            assert!(validate_release_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn base64_matches_go() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
    }
}
