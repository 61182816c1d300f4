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
mod errors;
mod funcs;
mod objects;
mod toml;

use std::sync::Arc;

use driftless_template::{Dict, Limits, MissingKey, Templates, Value};

use crate::render::{RenderData, TemplateEngine};

/// Helm's template engine, natively: Go's `text/template` semantics, Sprig's and Helm's
/// functions, Helm's data and error messages.
#[derive(Debug, Clone, Default)]
pub struct NativeEngine {
    limits: Limits,
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

impl TemplateEngine for NativeEngine {
    fn execute(&self, data: &RenderData) -> Result<Vec<(String, String)>, String> {
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
        .map(|s| convert::map(&s.values))
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
                .unwrap_or_else(|| convert::map(&scope.values));
            let m = Dict::new();
            m.insert("Chart", Value::Map(convert::map(&scope.chart)));
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
