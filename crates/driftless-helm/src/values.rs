//! Values coalescing exactly as Helm v4 does it (`pkg/chart/common/util/coalesce.go`).
//!
//! The order of precedence, highest first: what the user gave (`--values` files merged in order,
//! then `--set-json`, `--set`, `--set-string`, `--set-file`), then the chart's `values.yaml`, then
//! each subchart's `values.yaml` under the subchart's name. `global` flows from a parent into each
//! subchart's `global` (the parent's win). A `null` given by the user deletes the key the chart
//! sets by default ("coalesce"); in a "merge" (used for `import-values`) nulls stay.
//!
//! Go's maps are references, and Helm's results depend on it (a subchart's default globals
//! three levels deep leak into its parent's globals): coalescing runs on shared tables
//! (`shared`), as Helm's Go code does.

use serde_json::{Map, Value};

use crate::chart::Chart;

/// Key of the values shared by a chart and all its subcharts.
pub const GLOBAL_KEY: &str = "global";

/// A table (`map[string]any`) of values.
pub type Values = Map<String, Value>;

/// Go's name for the type of a value, for messages.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// Helm's `MergeMaps`: `b` over `a`, maps merged recursively, anything else replaced.
pub fn merge_maps(mut a: Values, b: Values) -> Values {
    for (k, v) in b {
        match (a.get_mut(&k), v) {
            (Some(Value::Object(av)), Value::Object(bv)) => {
                let merged = merge_maps(std::mem::take(av), bv);
                *av = merged;
            }
            (_, v) => {
                a.insert(k, v);
            }
        }
    }
    a
}

/// Where coalescing warnings go (Helm prints them on stderr and goes on).
pub type Warnings = Vec<String>;

fn concat_prefix(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_owned()
    } else {
        format!("{a}.{b}")
    }
}

/// Helm's `CoalesceValues(chart, vals)`: `vals` over the chart's defaults and its subcharts'.
///
/// # Errors
/// A subchart's key holding a value that is not a table (`type mismatch on <name>`).
pub fn coalesce_values(
    chart: &Chart,
    vals: &Values,
    warnings: &mut Warnings,
) -> Result<Values, crate::Error> {
    let dest = crate::shared::table_from(vals.clone());
    crate::shared::coalesce(chart, &dest, "", false, warnings)?;
    Ok(crate::shared::table_to(&dest))
}

/// Helm's `MergeValues(chart, vals)`: as [`coalesce_values`], but nulls are kept.
///
/// # Errors
/// As [`coalesce_values`].
pub fn merge_values(
    chart: &Chart,
    vals: &Values,
    warnings: &mut Warnings,
) -> Result<Values, crate::Error> {
    let dest = crate::shared::table_from(vals.clone());
    crate::shared::coalesce(chart, &dest, "", true, warnings)?;
    Ok(crate::shared::table_to(&dest))
}

/// Helm's `CoalesceTables(dst, src)`: `src` fills what `dst` lacks; nulls in `dst` delete.
pub fn coalesce_tables_into(dst: &mut Values, src: Values, warnings: &mut Warnings) {
    coalesce_tables(dst, src, "", false, warnings);
}

/// Helm's `MergeTables(dst, src)`: as [`coalesce_tables_into`], nulls kept.
pub fn merge_tables_into(dst: &mut Values, src: Values, warnings: &mut Warnings) {
    coalesce_tables(dst, src, "", true, warnings);
}

fn coalesce_tables(
    dst: &mut Values,
    mut src: Values,
    prefix: &str,
    merge: bool,
    warnings: &mut Warnings,
) {
    let src_non_nil: std::collections::HashSet<String> = src
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, _)| k.clone())
        .collect();
    for (key, val) in dst.iter() {
        if val.is_null() {
            src.insert(key.clone(), Value::Null);
        }
    }
    for (key, val) in src {
        let full_key = concat_prefix(prefix, &key);
        match dst.get_mut(&key) {
            Some(Value::Null) if !merge && src_non_nil.contains(&key) => {
                dst.remove(&key);
            }
            None => {
                dst.insert(key, val);
            }
            Some(dv) => match (dv, val) {
                (Value::Object(dv), Value::Object(val)) => {
                    coalesce_tables(dv, val, &full_key, merge, warnings);
                }
                (_, Value::Object(val)) => warnings.push(format!(
                    "warning: cannot overwrite table with non table for {full_key} ({})",
                    go_print_map(&val)
                )),
                (Value::Object(_), val) if !val.is_null() => warnings.push(format!(
                    "warning: destination for {full_key} is a table. Ignoring non-table value ({})",
                    go_print(&val)
                )),
                _ => {}
            },
        }
    }
}

/// A value as Go's `%v` prints it, near enough for a warning.
pub(crate) fn go_print(value: &Value) -> String {
    match value {
        Value::Null => "<nil>".to_owned(),
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_f64() => n.as_f64().map_or_else(|| n.to_string(), go_float),
        Value::Object(map) => go_print_map(map),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(go_print).collect::<Vec<_>>().join(" ")
        ),
        other => other.to_string(),
    }
}

/// A float64 as Go's `%v` prints it (`strconv.FormatFloat(f, 'g', -1, 64)`): exponent form
/// below 1e-4 and from 1e21 up.
fn go_float(f: f64) -> String {
    if f == 0.0 {
        return "0".into();
    }
    let exp = f.abs().log10().floor();
    if (-4.0..21.0).contains(&exp) {
        return format!("{f}");
    }
    let s = format!("{f:e}");
    match s.split_once('e') {
        Some((mantissa, e)) => {
            let (sign, digits) = e.strip_prefix('-').map_or(("+", e), |d| ("-", d));
            format!("{mantissa}e{sign}{digits:0>2}")
        }
        None => s,
    }
}

fn go_print_map(map: &Values) -> String {
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    let parts: Vec<String> = keys
        .into_iter()
        .map(|k| format!("{k}:{}", map.get(k).map(go_print).unwrap_or_default()))
        .collect();
    format!("map[{}]", parts.join(" "))
}

/// Helm's `Values.Table(path)`: the table at a dotted path.
pub fn table<'a>(values: &'a Values, path: &str) -> Option<&'a Values> {
    let mut table = values;
    for part in path.split('.') {
        table = table.get(part)?.as_object()?;
    }
    Some(table)
}

/// Helm's `Values.PathValue(path)`: the non-table value at a dotted path.
pub fn path_value<'a>(values: &'a Values, path: &str) -> Option<&'a Value> {
    if path.is_empty() {
        return None;
    }
    let (parent, key) = match path.rsplit_once('.') {
        Some((parent, key)) => (table(values, parent)?, key),
        None => (values, path),
    };
    parent.get(key).filter(|v| !v.is_object())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Values {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn merge_maps_merges_tables_and_replaces_the_rest() {
        let out = merge_maps(
            map(json!({"a": {"x": 1, "y": 2}, "l": [1]})),
            map(json!({"a": {"y": 3}, "l": [2]})),
        );
        assert_eq!(Value::Object(out), json!({"a": {"x": 1, "y": 3}, "l": [2]}));
    }

    #[test]
    fn user_null_deletes_a_default_and_user_values_win() {
        let mut dst = map(json!({"a": null, "b": {"c": null, "d": 1}}));
        coalesce_tables(
            &mut dst,
            map(json!({"a": 1, "b": {"c": 2, "e": 3}, "f": 4})),
            "",
            false,
            &mut Vec::new(),
        );
        assert_eq!(Value::Object(dst), json!({"b": {"d": 1, "e": 3}, "f": 4}));
    }

    #[test]
    fn merging_keeps_nulls() {
        let mut dst = map(json!({"a": null}));
        coalesce_tables(
            &mut dst,
            map(json!({"a": 1, "b": null})),
            "",
            true,
            &mut Vec::new(),
        );
        assert_eq!(Value::Object(dst), json!({"a": null, "b": null}));
    }

    #[test]
    fn path_value_and_table_follow_dotted_paths() {
        let v = map(json!({"a": {"b": {"c": true}}, "t": 1}));
        assert_eq!(path_value(&v, "a.b.c"), Some(&json!(true)));
        assert_eq!(path_value(&v, "a.b"), None);
        assert_eq!(path_value(&v, "t"), Some(&json!(1)));
        assert!(table(&v, "a.b").is_some());
        assert!(table(&v, "t").is_none());
    }
}
