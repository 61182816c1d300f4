//! Values with Go's reference semantics for maps, where Helm's result depends on them. Go's
//! `map[string]any` is a reference: a table imported under two parents (`import-values`) is one
//! table, so merging into one changes the other and the child's values too; and a subchart's
//! `global` gets shallow copies of its parent's global tables, so what coalescing adds three
//! levels down (a subchart's default `global.a.b.c`) lands in the parent's globals, and so in
//! every later subchart's.

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::{Map, Value};

use crate::Error;
use crate::chart::Chart;
use crate::table::{GLOBAL_KEY, Warnings, go_print, type_name};

/// A Go map: shared, mutable, in insertion order.
pub(crate) type Table = Rc<RefCell<Vec<(String, Shared)>>>;

/// A Go value: a shared map, or anything else (copied, as Go copies non-map values).
#[derive(Clone)]
pub(crate) enum Shared {
    Map(Table),
    Plain(Value),
}

impl Shared {
    pub(crate) fn from_value(v: Value) -> Self {
        match v {
            Value::Object(m) => Shared::Map(table_from(m)),
            other => Shared::Plain(other),
        }
    }

    fn is_null(&self) -> bool {
        matches!(self, Shared::Plain(Value::Null))
    }

    pub(crate) fn to_value(&self) -> Value {
        match self {
            Shared::Plain(v) => v.clone(),
            Shared::Map(t) => Value::Object(table_to(t)),
        }
    }
}

pub(crate) fn table_from(m: Map<String, Value>) -> Table {
    Rc::new(RefCell::new(
        m.into_iter()
            .map(|(k, v)| (k, Shared::from_value(v)))
            .collect(),
    ))
}

pub(crate) fn table_to(t: &Table) -> Map<String, Value> {
    t.borrow()
        .iter()
        .map(|(k, v)| (k.clone(), v.to_value()))
        .collect()
}

fn get(t: &Table, key: &str) -> Option<Shared> {
    t.borrow()
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
}

fn put(t: &Table, key: &str, value: Shared) {
    let mut entries = t.borrow_mut();
    match entries.iter_mut().find(|(k, _)| k == key) {
        Some(slot) => slot.1 = value,
        None => entries.push((key.to_owned(), value)),
    }
}

fn remove(t: &Table, key: &str) {
    t.borrow_mut().retain(|(k, _)| k != key);
}

/// Helm's `Values.Table`: the table at a dotted path, shared.
pub(crate) fn table_at(t: &Table, path: &str) -> Option<Table> {
    let mut cur = t.clone();
    for part in path.split('.') {
        let next = match get(&cur, part)? {
            Shared::Map(m) => m,
            Shared::Plain(_) => return None,
        };
        cur = next;
    }
    Some(cur)
}

fn is_table(v: &Shared) -> bool {
    matches!(v, Shared::Map(_))
}

fn concat_prefix(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_owned()
    } else {
        format!("{a}.{b}")
    }
}

/// Helm's `coalesce`: the chart's defaults under `dest`, then its subcharts'.
pub(crate) fn coalesce(
    chart: &Chart,
    dest: &Table,
    prefix: &str,
    merge: bool,
    warnings: &mut Warnings,
) -> Result<(), Error> {
    coalesce_values(chart, dest, prefix, merge, warnings);
    coalesce_deps(chart, dest, prefix, merge, warnings)
}

fn coalesce_deps(
    chart: &Chart,
    dest: &Table,
    prefix: &str,
    merge: bool,
    warnings: &mut Warnings,
) -> Result<(), Error> {
    for sub in &chart.dependencies {
        let name = sub.name();
        let dv = match get(dest, name) {
            None => {
                let t: Table = Rc::new(RefCell::new(Vec::new()));
                put(dest, name, Shared::Map(t.clone()));
                t
            }
            Some(Shared::Map(t)) => t,
            Some(Shared::Plain(other)) => {
                return Err(Error::TypeMismatch {
                    chart: name.to_owned(),
                    // Go's `%t` of a non-bool: `%!t(int64=1)`, and of nil `%!t(<nil>)`.
                    found: if other.is_null() {
                        "<nil>".to_owned()
                    } else {
                        format!("{}={}", type_name(&other), go_print(&other))
                    },
                });
            }
        };
        let sub_prefix = concat_prefix(prefix, chart.name());
        coalesce_globals(&dv, dest, warnings);
        coalesce(sub, &dv, &sub_prefix, merge, warnings)?;
        put(dest, name, Shared::Map(dv));
    }
    Ok(())
}

/// The parent's (`src`) globals into the subchart's (`dest`): shallow copies of the parent's
/// tables, the parent's values winning.
fn coalesce_globals(dest: &Table, src: &Table, warnings: &mut Warnings) {
    let dg = match get(dest, GLOBAL_KEY) {
        None => Rc::new(RefCell::new(Vec::new())),
        Some(Shared::Map(t)) => t,
        Some(Shared::Plain(_)) => {
            warnings.push(format!(
                "warning: skipping globals because destination {GLOBAL_KEY} is not a table."
            ));
            return;
        }
    };
    let sg = match get(src, GLOBAL_KEY) {
        None => Rc::new(RefCell::new(Vec::new())),
        Some(Shared::Map(t)) => t,
        Some(Shared::Plain(_)) => {
            warnings.push(format!(
                "warning: skipping globals because source {GLOBAL_KEY} is not a table."
            ));
            return;
        }
    };
    let entries: Vec<(String, Shared)> = sg.borrow().clone();
    for (key, val) in entries {
        match val {
            Shared::Map(t) => {
                // Go's copyMap: a new map holding the same values (nested tables shared).
                let vv: Table = Rc::new(RefCell::new(t.borrow().clone()));
                match get(&dg, &key) {
                    None => put(&dg, &key, Shared::Map(vv)),
                    Some(Shared::Map(destv)) => {
                        coalesce_tables(&vv, &destv, true);
                        put(&dg, &key, Shared::Map(vv));
                    }
                    Some(Shared::Plain(_)) => warnings.push(format!(
                        "Conflict: cannot merge map onto non-map for {key:?}. Skipping."
                    )),
                }
            }
            plain => {
                if get(&dg, &key).is_some_and(|v| is_table(&v)) {
                    warnings.push(format!("key {key} is table. Skipping"));
                } else {
                    put(&dg, &key, plain);
                }
            }
        }
    }
    put(dest, GLOBAL_KEY, Shared::Map(dg));
}

fn coalesce_values(chart: &Chart, v: &Table, prefix: &str, merge: bool, warnings: &mut Warnings) {
    let sub_prefix = concat_prefix(prefix, chart.name());
    // Go deep-copies the chart's values on every call.
    let vc = table_from(chart.values.clone());
    let entries: Vec<(String, Shared)> = vc.borrow().clone();
    for (key, val) in entries {
        match get(v, &key) {
            Some(value) if value.is_null() && !merge => remove(v, &key),
            Some(Shared::Map(dest)) => match val {
                Shared::Map(src) => {
                    let merge = merge || chart.dependencies.iter().any(|d| d.name() == key);
                    if !merge {
                        clean_nil_values(&src);
                    }
                    coalesce_tables(&dest, &src, merge);
                }
                Shared::Plain(Value::Null) => {}
                Shared::Plain(_) => warnings.push(format!(
                    "warning: skipped value for {sub_prefix}.{key}: Not a table."
                )),
            },
            Some(_) => {}
            None => {
                if !merge {
                    if val.is_null() {
                        continue;
                    }
                    if let Shared::Map(t) = &val {
                        clean_nil_values(t);
                    }
                }
                put(v, &key, val);
            }
        }
    }
}

fn clean_nil_values(t: &Table) {
    t.borrow_mut().retain(|(_, v)| !v.is_null());
    let entries: Vec<Shared> = t.borrow().iter().map(|(_, v)| v.clone()).collect();
    for v in entries {
        if let Shared::Map(sub) = v {
            clean_nil_values(&sub);
        }
    }
}

/// Helm's `coalesceTablesFullKey` on shared tables, mutations and sharing included: keys of
/// `src` missing from `dst` are put in `dst` (tables by reference), nulls of `dst` are written
/// into `src`, and (without `merge`) a null in `dst` deletes the key.
pub(crate) fn coalesce_tables(dst: &Table, src: &Table, merge: bool) {
    if Rc::ptr_eq(dst, src) {
        return;
    }
    let src_non_nil: Vec<String> = src
        .borrow()
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, _)| k.clone())
        .collect();
    let dst_nils: Vec<String> = dst
        .borrow()
        .iter()
        .filter(|(_, v)| v.is_null())
        .map(|(k, _)| k.clone())
        .collect();
    for k in dst_nils {
        put(src, &k, Shared::Plain(Value::Null));
    }
    let entries: Vec<(String, Shared)> = src.borrow().clone();
    for (key, val) in entries {
        match get(dst, &key) {
            Some(dv) if !merge && dv.is_null() && src_non_nil.contains(&key) => remove(dst, &key),
            None => put(dst, &key, val),
            Some(Shared::Map(dv)) => {
                if let Shared::Map(sv) = val {
                    coalesce_tables(&dv, &sv, merge);
                }
            }
            Some(_) => {}
        }
    }
}

/// Helm's `pathToMap`: `data` under the dotted `path` (`.` is `data` itself).
pub(crate) fn path_to_map(path: &str, data: Table) -> Table {
    if path == "." {
        return data;
    }
    let mut cur = data;
    for part in path.split('.').rev() {
        cur = Rc::new(RefCell::new(vec![(part.to_owned(), Shared::Map(cur))]));
    }
    cur
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(v: Value) -> Table {
        match Shared::from_value(v) {
            Shared::Map(m) => m,
            Shared::Plain(_) => Rc::new(RefCell::new(Vec::new())),
        }
    }

    #[test]
    fn a_table_put_in_two_places_is_one_table_as_in_go() {
        let child = t(json!({"a": {"x": 1}}));
        let b = t(json!({}));
        let shared = table_at(&child, "a").unwrap_or_else(|| t(json!({})));
        coalesce_tables(&b, &path_to_map("p", shared), true);
        coalesce_tables(&b, &t(json!({"p": {"y": 2}})), true);
        assert_eq!(
            Value::Object(table_to(&child)),
            json!({"a": {"x": 1, "y": 2}})
        );
    }
}
