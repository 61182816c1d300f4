//! Which subcharts are enabled, and `import-values`, as Helm's `ProcessDependencies` does it.
//!
//! For each chart that declares dependencies: a vendored subchart matches a declared dependency
//! by name and by version (the dependency's `version` constraint); a match is renamed to the
//! dependency's `alias` (one chart may be used under several aliases). Vendored subcharts no
//! dependency matches stay, always enabled. Then, on the chart's values coalesced with what
//! the user gave: `tags` (top-level `tags.<tag>`; any true tag enables, else any false tag
//! disables) and then `condition` (comma-separated paths, relative to the top; the first path
//! that holds a boolean decides, a non-boolean is skipped with a warning) decide each
//! dependency. Disabled subcharts are removed, and the enabled ones are processed in turn.
//!
//! Then, from the deepest charts up, each chart that declares dependencies gets its values
//! replaced by its values merged with its subcharts' (nulls kept), with what its dependencies
//! export (`import-values`: `exports.<name>` of the child for a string, `child` at `parent` for
//! a map) filling in what the chart does not set itself.

use serde_json::{Map, Value};

use crate::Error;
use crate::chart::{Chart, Dependency};
use crate::constraint::is_compatible_range;
use crate::shared;
use crate::values::{self, Values, Warnings};

/// Prunes disabled subcharts from `chart` (recursively), renames aliased ones and applies
/// `import-values`, given the user's values `vals` (Helm's `ProcessDependencies`).
///
/// # Errors
/// A subchart's values key holding a non-table (see [`values::coalesce_values`]).
pub fn process_dependencies(
    chart: &mut Chart,
    vals: &Values,
    warnings: &mut Warnings,
) -> Result<(), Error> {
    process_enabled(chart, vals, "", warnings)?;
    process_import_values(chart, warnings)
}

fn aliased(charts: &[Chart], dep: &Dependency) -> Option<Chart> {
    let found = charts
        .iter()
        .find(|c| c.name() == dep.name && is_compatible_range(&dep.version, &c.metadata.version))?;
    let mut out = found.clone();
    if !dep.alias.is_empty() {
        out.metadata.name = dep.alias.clone();
    }
    Some(out)
}

fn process_enabled(
    chart: &mut Chart,
    vals: &Values,
    path: &str,
    warnings: &mut Warnings,
) -> Result<(), Error> {
    if chart.metadata.dependencies.is_empty() {
        return Ok(());
    }
    let existing = std::mem::take(&mut chart.dependencies);
    let mut kept: Vec<Chart> = existing
        .iter()
        .filter(|c| {
            !chart.metadata.dependencies.iter().any(|req| {
                c.name() == req.name && is_compatible_range(&req.version, &c.metadata.version)
            })
        })
        .cloned()
        .collect();
    for req in &mut chart.metadata.dependencies {
        if let Some(found) = aliased(&existing, req) {
            kept.push(found);
        }
        if !req.alias.is_empty() {
            req.name = req.alias.clone();
        }
    }
    chart.dependencies = kept;
    for req in &mut chart.metadata.dependencies {
        req.enabled = true;
    }
    let cvals = values::coalesce_values(chart, vals, warnings)?;
    apply_tags(&mut chart.metadata.dependencies, &cvals, warnings);
    apply_conditions(&mut chart.metadata.dependencies, &cvals, path, warnings);
    let disabled: Vec<String> = chart
        .metadata
        .dependencies
        .iter()
        .filter(|r| !r.enabled)
        .map(|r| r.name.clone())
        .collect();
    chart
        .dependencies
        .retain(|c| !disabled.iter().any(|n| n == c.name()));
    chart
        .metadata
        .dependencies
        .retain(|r| !disabled.contains(&r.name));
    for sub in &mut chart.dependencies {
        let sub_path = format!("{path}{}.", sub.name());
        process_enabled(sub, &cvals, &sub_path, warnings)?;
    }
    Ok(())
}

fn apply_tags(reqs: &mut [Dependency], cvals: &Values, warnings: &mut Warnings) {
    let Some(tags) = values::table(cvals, "tags") else {
        return;
    };
    for r in reqs {
        let (mut has_true, mut has_false) = (false, false);
        for k in &r.tags {
            match tags.get(k) {
                Some(Value::Bool(true)) => has_true = true,
                Some(Value::Bool(false)) => has_false = true,
                Some(_) => {
                    warnings.push(format!("returned non-bool value tag={k} chart={}", r.name))
                }
                None => {}
            }
        }
        // Any true tag enables; otherwise any false tag disables; no tags set enables.
        r.enabled = has_true || !has_false;
    }
}

fn apply_conditions(reqs: &mut [Dependency], cvals: &Values, path: &str, warnings: &mut Warnings) {
    for r in reqs {
        for c in r.condition.trim().split(',') {
            if c.is_empty() {
                continue;
            }
            match values::path_value(cvals, &format!("{path}{c}")) {
                Some(Value::Bool(b)) => {
                    r.enabled = *b;
                    break;
                }
                Some(_) => {
                    warnings.push(format!("returned non-bool value path={c} chart={}", r.name))
                }
                None => {}
            }
        }
    }
}

fn process_import_values(chart: &mut Chart, warnings: &mut Warnings) -> Result<(), Error> {
    for sub in &mut chart.dependencies {
        process_import_values(sub, warnings)?;
    }
    if chart.metadata.dependencies.is_empty() {
        return Ok(());
    }
    let cvals = values::merge_values(chart, &Map::new(), warnings)?;
    // Go's maps are references: an imported table is shared with the child's values and between
    // parents, so later imports merge into it (Helm's own test chart shows it).
    let shared_vals = shared::table_from(cvals);
    let imported = shared::table_from(Map::new());
    for r in &mut chart.metadata.dependencies {
        let mut out = Vec::new();
        for iv in &r.import_values {
            let (child, parent) = match iv {
                Value::Object(m) => (go_string(m.get("child")), go_string(m.get("parent"))),
                Value::String(s) => (format!("exports.{s}"), ".".to_owned()),
                _ => continue,
            };
            out.push(child_parent(&child, &parent));
            match shared::table_at(&shared_vals, &format!("{}.{child}", r.name)) {
                Some(vv) => {
                    shared::coalesce_tables(&imported, &shared::path_to_map(&parent, vv), true)
                }
                None => warnings.push(format!(
                    "ImportValues missing table from chart {}: {child}",
                    r.name
                )),
            }
        }
        r.import_values = out;
    }
    let mut merged = shared::table_to(&shared_vals);
    values::merge_tables_into(&mut merged, shared::table_to(&imported), warnings);
    chart.values = merged;
    Ok(())
}

fn child_parent(child: &str, parent: &str) -> Value {
    let mut m = Map::new();
    m.insert("child".into(), child.into());
    m.insert("parent".into(), parent.into());
    Value::Object(m)
}

/// Go's `fmt.Sprintf("%v", v)` for the scalar fields of an import-values map.
fn go_string(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "<nil>".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::load_files;
    use crate::file::File;
    use serde_json::json;

    fn file(name: &str, data: &str) -> File {
        File {
            name: name.into(),
            data: data.as_bytes().to_vec(),
        }
    }

    fn parent(values: &str) -> Result<Chart, Error> {
        load_files(vec![
            file(
                "Chart.yaml",
                "apiVersion: v2\nname: top\nversion: 1.0.0\ndependencies:\n\
                 - name: sub\n  version: 0.x\n  condition: sub.enabled,other.enabled\n  tags: [back]\n\
                 - name: sub\n  alias: second\n  version: '>=0.1.0'\n  import-values: [data]\n\
                 - name: sub\n  alias: third\n  version: 0.1.0\n  import-values:\n  - child: exports.data\n    parent: fromThird\n",
            ),
            file("values.yaml", values),
            file("charts/sub/Chart.yaml", "name: sub\nversion: 0.1.0\n"),
            file(
                "charts/sub/values.yaml",
                "enabled: true\nexports:\n  data:\n    imported: yes\n",
            ),
        ])
    }

    fn names(chart: &Chart) -> Vec<&str> {
        chart.dependencies.iter().map(Chart::name).collect()
    }

    #[test]
    fn aliases_conditions_and_tags_decide_the_enabled_subcharts() -> Result<(), Error> {
        let mut chart = parent("")?;
        process_dependencies(&mut chart, &Map::new(), &mut Vec::new())?;
        assert_eq!(names(&chart), vec!["sub", "second", "third"]);

        let mut chart = parent("sub:\n  enabled: false\n")?;
        process_dependencies(&mut chart, &Map::new(), &mut Vec::new())?;
        assert_eq!(names(&chart), vec!["second", "third"]);

        // The first path that holds a boolean decides; a string is skipped.
        let mut chart = parent("sub:\n  enabled: 'no'\nother:\n  enabled: false\n")?;
        let mut warnings = Vec::new();
        process_dependencies(&mut chart, &Map::new(), &mut warnings)?;
        assert_eq!(names(&chart), vec!["second", "third"]);
        assert_eq!(warnings.len(), 1);

        // Tags are applied first, so a condition that resolves wins over them.
        let mut chart = parent("tags:\n  back: false\n")?;
        process_dependencies(&mut chart, &Map::new(), &mut Vec::new())?;
        assert_eq!(names(&chart), vec!["sub", "second", "third"]);
        // A user's null deletes the subchart's default, so the tag decides.
        let mut chart = parent("tags:\n  back: false\n")?;
        let user = json!({"sub": {"enabled": null}});
        let Value::Object(user) = user else {
            return Ok(());
        };
        process_dependencies(&mut chart, &user, &mut Vec::new())?;
        assert_eq!(names(&chart), vec!["second", "third"]);
        Ok(())
    }

    #[test]
    fn import_values_fill_in_what_the_parent_does_not_set() -> Result<(), Error> {
        let mut chart = parent("imported: false\n")?;
        process_dependencies(&mut chart, &Map::new(), &mut Vec::new())?;
        assert_eq!(chart.values["imported"], json!(false));
        assert_eq!(chart.values["fromThird"], json!({"imported": true}));
        assert_eq!(
            chart.metadata.dependencies[1].import_values,
            vec![json!({"child": "exports.data", "parent": "."})]
        );
        assert!(chart.values["second"].is_object());
        Ok(())
    }
}
