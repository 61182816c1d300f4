//! The Go template engine wired into the Helm renderer: [`NativeEngine`] executes a chart's
//! templates with `driftless-template` as Helm's engine does (`pkg/engine`).
//!
//! - One template set named `gotpl`, `missingkey=zero`, Sprig's functions plus Helm's
//!   ([`funcs`]); templates parsed in Helm's order, executed in that order.
//! - One data map per chart (`.Chart`, `.Files`, `.Release`, `.Capabilities`, `.Values`,
//!   `.Subcharts`), shared by the chart's templates; `.Template` is set in it before each
//!   template runs, as Helm sets it.
//! - `.Values` is one mutable tree for the whole render: a subchart's `.Values` is the table
//!   under its name in its parent's (a `set` in one template is seen by the later ones).
//! - Errors reworded as Helm rewords Go's ([`errors`]); each template runs within the
//!   engine's budget ([`driftless_template::Limits`]).

mod convert;
mod data;
mod errors;
mod funcs;
mod objects;
mod toml;

use std::sync::Arc;

use driftless_template::{Dict, Limits, MissingKey, Templates, Value};

use crate::render::{RenderData, TemplateEngine};

/// Helm's template engine, natively: Go's `text/template` semantics, Sprig's and Helm's
/// functions, Helm's data and error messages.
#[derive(Debug, Clone)]
pub struct NativeEngine {
    limits: Limits,
}

impl Default for NativeEngine {
    /// The default budget ([`Limits::default`]), with room for Helm's own limit on `include`
    /// nesting (1000 levels of one name) to be met first, as under Helm.
    fn default() -> Self {
        NativeEngine {
            limits: Limits {
                max_depth: funcs::MAX_INCLUDE_NESTING + 100,
                ..Limits::default()
            },
        }
    }
}

impl NativeEngine {
    /// The engine with the default execution budget.
    pub fn new() -> Self {
        NativeEngine::default()
    }

    /// The engine with another execution budget (steps, output bytes, nesting), applied to
    /// each template of a render (its `include`s and `tpl`s count with it).
    pub fn with_limits(limits: Limits) -> Self {
        NativeEngine { limits }
    }
}

/// The stack of the thread templates run on: deep enough for the budget's 1000 nested
/// `include`s (only the pages used are committed).
const STACK_SIZE: usize = 512 << 20;

impl TemplateEngine for NativeEngine {
    /// Runs on a thread of its own, whose stack holds the deepest nesting the budget allows.
    fn execute(&self, data: &RenderData) -> Result<Vec<(String, String)>, String> {
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("helm-templates".into())
                .stack_size(STACK_SIZE)
                .spawn_scoped(scope, || self.execute_here(data))
                .map_err(|e| format!("cannot start the template thread: {e}"))?
                .join()
                .unwrap_or_else(|_| Err("the template engine panicked".into()))
        })
    }
}

impl NativeEngine {
    fn execute_here(&self, data: &RenderData) -> Result<Vec<(String, String)>, String> {
        let mut set = Templates::new(funcs::ROOT);
        set.funcs(funcs::funcs())
            .missing_key(MissingKey::Zero)
            .limits(self.limits);
        for t in &data.templates {
            set.parse(&t.name, &t.source)
                .map_err(|e| errors::parse_error(&t.name, e.message()))?;
        }
        let scopes = scope_maps(data);
        let mut out = Vec::new();
        for t in data.templates.iter().filter(|t| t.execute) {
            let Some(scope) = scopes.get(t.scope) else {
                continue;
            };
            let template = Dict::new();
            template.insert("Name", Value::str(t.name.as_str()));
            template.insert("BasePath", Value::str(t.base_path.as_str()));
            scope.insert("Template", Value::Map(template));
            let text = set
                .execute(&t.name, &Value::Map(scope.clone()))
                .map_err(|e| errors::exec_error(&t.name, e.message()))?;
            out.push((t.name.clone(), text));
        }
        Ok(out)
    }
}

/// The data map of every scope, `.Values` shared as one tree.
fn scope_maps(data: &RenderData) -> Vec<Dict> {
    let root_values = data
        .scopes
        .first()
        .map(|s| data::map(&s.values))
        .unwrap_or_default();
    let release = release_map(data);
    let capabilities = Value::Object(Arc::new(objects::CapabilitiesObject(Arc::new(
        data.capabilities.clone(),
    ))));
    let maps: Vec<Dict> = data
        .scopes
        .iter()
        .map(|scope| {
            let values = scope
                .values_path
                .as_ref()
                .and_then(|path| table_at(&root_values, path))
                .unwrap_or_else(|| data::map(&scope.values));
            let m = Dict::new();
            m.insert("Chart", Value::Map(data::map(&scope.chart)));
            m.insert(
                "Files",
                Value::Object(Arc::new(objects::FilesObject(Arc::new(scope.files())))),
            );
            m.insert("Release", Value::Map(release.deep_copy()));
            m.insert("Capabilities", capabilities.clone());
            m.insert("Values", Value::Map(values));
            m
        })
        .collect();
    for (scope, m) in data.scopes.iter().zip(&maps) {
        let subs = Dict::new();
        for (name, i) in &scope.subcharts {
            if let Some(sub) = maps.get(*i) {
                subs.insert(name.clone(), Value::Map(sub.clone()));
            }
        }
        m.insert("Subcharts", Value::Map(subs));
    }
    maps
}

/// The table at `path` in `root`, the same map (not a copy).
fn table_at(root: &Dict, path: &[String]) -> Option<Dict> {
    let mut current = root.clone();
    for key in path {
        match current.get(key) {
            Some(Value::Map(m)) => current = m,
            _ => return None,
        }
    }
    Some(current)
}

/// `.Release`: a map with `Revision` a Go `int`.
fn release_map(data: &RenderData) -> Dict {
    let r = &data.release;
    let m = Dict::new();
    m.insert("Name", Value::str(r.name.as_str()));
    m.insert("Namespace", Value::str(r.namespace.as_str()));
    m.insert("IsUpgrade", Value::Bool(r.is_upgrade));
    m.insert("IsInstall", Value::Bool(r.is_install));
    m.insert("Revision", Value::Int(r.revision));
    m.insert("Service", Value::str(r.service.as_str()));
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{File, RenderOptions, load_files, render};

    fn chart(template: &str) -> Result<crate::Chart, crate::Error> {
        let file = |name: &str, data: &str| File {
            name: name.into(),
            data: data.as_bytes().to_vec(),
        };
        load_files(vec![
            file("Chart.yaml", "apiVersion: v2\nname: top\nversion: 1.0.0\n"),
            file("values.yaml", "n: 3\n"),
            file("secret.txt", "s3cret"),
            file("templates/t.yaml", template),
        ])
    }

    fn run(template: &str, engine: &NativeEngine) -> Result<String, String> {
        let c = chart(template).map_err(|e| e.to_string())?;
        render(
            c,
            &serde_json::Map::new(),
            &RenderOptions::default(),
            engine,
        )
        .map_err(|e| e.to_string())
    }

    #[test]
    fn a_template_looping_without_end_is_stopped_by_the_budget() {
        let engine = NativeEngine::with_limits(Limits {
            max_steps: 100_000,
            ..Limits::default()
        });
        let err = run("a: {{ range 100000000 }}{{ end }}", &engine).err();
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("execution budget exceeded")
                    && e.contains("top/templates/t.yaml:1:")),
            "{err:?}"
        );
        // Recursion through include stops at Helm's limit, with Helm's message.
        let err = run(
            r#"{{ define "r" }}{{ include "r" . }}{{ end }}a: {{ include "r" . }}"#,
            &NativeEngine::new(),
        )
        .err();
        assert!(
            err.as_deref().is_some_and(|e| e.ends_with(
                "error calling include: rendering template has a nested reference name: r: unable to execute template"
            )),
            "{err:?}"
        );
    }

    #[test]
    fn huge_strings_are_stopped_by_the_output_budget() {
        let engine = NativeEngine::with_limits(Limits {
            max_output: 1 << 20,
            ..Limits::default()
        });
        let err = run(
            r#"a: {{ range 1000 }}{{ repeat 10000 "x" }}{{ end }}"#,
            &engine,
        )
        .err();
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("execution budget exceeded")),
            "{err:?}"
        );
    }

    #[test]
    fn files_cannot_be_read_outside_the_chart() -> Result<(), String> {
        let out = run(
            r#"a: {{ .Files.Get "../../etc/passwd" | quote }}
b: {{ .Files.Get "/etc/hostname" | quote }}
c: {{ .Files.Get "secret.txt" | quote }}"#,
            &NativeEngine::new(),
        )?;
        assert!(out.contains("a: \"\"\nb: \"\"\nc: \"s3cret\""), "{out}");
        Ok(())
    }

    #[test]
    fn errors_name_the_chart_template_line_and_column() {
        let err = run(
            "a: 1\nb: {{ required \"b is needed\" .Values.b }}",
            &NativeEngine::new(),
        )
        .err();
        assert_eq!(
            err.as_deref(),
            Some("execution error at (top/templates/t.yaml:2:6): b is needed")
        );
        let err = run("a: {{ .Values.n | foo }}", &NativeEngine::new()).err();
        assert_eq!(
            err.as_deref(),
            Some("parse error at (top/templates/t.yaml:1): function \"foo\" not defined")
        );
    }
}
