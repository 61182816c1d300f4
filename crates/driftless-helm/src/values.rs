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

use serde_json::Value;

use crate::chart::Chart;
pub use crate::table::{GLOBAL_KEY, Values, Warnings, merge_maps, type_name};
use crate::table::{go_print, go_print_map};

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
    use serde_json::{Map, json};

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
