//! Values with Go's reference semantics for maps, for the one step where Helm's result depends
//! on them: `import-values` (Go's `map[string]any` is a reference, so a table imported under two
//! parents is one table, and merging into one changes the other, and the child's values too).

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::{Map, Value};

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
