//! JSON patches (RFC 6902) with the semantics of the library kustomize v5.5 applies them with
//! (evanphx/json-patch v4.12), which differ from the RFC in ways real patches rely on:
//!
//! - `replace` (and `add`) of a key missing from an object sets it; only `remove` (and `move`
//!   from) of a missing key fails;
//! - array indices may be negative, counted from the end (`-1` is the last element; for `add`,
//!   `-1` appends); `-` appends, for `add` only; `add` at the length appends;
//! - a path is `/`-separated with `~1` and `~0` escapes; its first segment is dropped whatever it
//!   is, so a path without the leading `/` loses its first key; every segment but the last must
//!   reach an object or an array (a null or scalar value is missing);
//! - a `test` of a missing or null value succeeds against `null`.

use serde_json::Value;

/// Applies `ops` (the operations of a JSON patch) to `doc`, in order. The error is one line.
pub fn apply(doc: &mut Value, ops: &[Value]) -> Result<(), String> {
    for op in ops {
        apply_one(doc, op)?;
    }
    Ok(())
}

fn apply_one(doc: &mut Value, op: &Value) -> Result<(), String> {
    let kind = op.get("op").and_then(Value::as_str).unwrap_or("unknown");
    let path = || {
        op.get("path")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{kind} operation failed to decode path"))
    };
    let from = || {
        op.get("from")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{kind} operation failed to decode from"))
    };
    let value = || op.get("value").cloned().unwrap_or(Value::Null);
    match kind {
        "add" => {
            let path = path()?;
            let (con, key) = find(doc, path).ok_or_else(|| {
                format!("add operation does not apply: doc is missing path: \"{path}\"")
            })?;
            add(con, &key, value()).map_err(|e| format!("error in add for path: '{path}': {e}"))
        }
        "remove" => {
            let path = path()?;
            let (con, key) = find(doc, path).ok_or_else(|| {
                format!("remove operation does not apply: doc is missing path: \"{path}\"")
            })?;
            remove(con, &key)
                .map(drop)
                .map_err(|e| format!("error in remove for path: '{path}': {e}"))
        }
        "replace" => {
            let path = path()?;
            if path.is_empty() {
                let v = value();
                if !(v.is_object() || v.is_array()) {
                    return Err("replace operation value must be object or array".into());
                }
                *doc = v;
                return Ok(());
            }
            let (con, key) = find(doc, path).ok_or_else(|| {
                format!("replace operation does not apply: doc is missing path: {path}")
            })?;
            get(con, &key).map_err(|_| {
                format!("replace operation does not apply: doc is missing key: {path}")
            })?;
            set(con, &key, value()).map_err(|e| format!("error in replace for path: '{path}': {e}"))
        }
        "move" => {
            let from = from()?;
            let (con, key) = find(doc, from).ok_or_else(|| {
                format!("move operation does not apply: doc is missing from path: {from}")
            })?;
            get(con, &key).map_err(|e| format!("error in move for path: '{key}': {e}"))?;
            let val =
                remove(con, &key).map_err(|e| format!("error in move for path: '{key}': {e}"))?;
            let path = path()?;
            let (con, key) = find(doc, path).ok_or_else(|| {
                format!("move operation does not apply: doc is missing destination path: {path}")
            })?;
            add(con, &key, val).map_err(|e| format!("error in move for path: '{path}': {e}"))
        }
        "copy" => {
            let from = from()?;
            let (con, key) = find(doc, from).ok_or_else(|| {
                format!("copy operation does not apply: doc is missing from path: {from}")
            })?;
            let val = get(con, &key)
                .map_err(|e| format!("error in copy for from: '{from}': {e}"))?
                .unwrap_or(Value::Null);
            let path = path()?;
            let (con, key) = find(doc, path).ok_or_else(|| {
                format!("copy operation does not apply: doc is missing destination path: {path}")
            })?;
            add(con, &key, val).map_err(|e| format!("error while adding value during copy: {e}"))
        }
        "test" => {
            let path = path()?;
            let want = value();
            let got = if path.is_empty() {
                Some(doc.clone())
            } else {
                let (con, key) = find(doc, path).ok_or_else(|| {
                    format!("test operation does not apply: is missing path: {path}")
                })?;
                get(con, &key).map_err(|e| format!("error in test for path: '{path}': {e}"))?
            };
            if got.unwrap_or(Value::Null) == want {
                Ok(())
            } else {
                Err(format!("testing value {path} failed: test failed"))
            }
        }
        other => Err(format!("Unexpected kind: {other}")),
    }
}

fn decode(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// The container holding the last segment of `path`, and that segment.
fn find<'a>(doc: &'a mut Value, path: &str) -> Option<(&'a mut Value, String)> {
    let split: Vec<&str> = path.split('/').collect();
    let (last, rest) = split.split_last()?;
    let (_, parents) = rest.split_first()?;
    let mut cur = doc;
    for part in parents {
        let key = decode(part);
        let next = match cur {
            Value::Object(m) => m.get_mut(&key)?,
            Value::Array(a) => {
                let i = index(&key, a.len()).ok()?;
                a.get_mut(i)?
            }
            _ => return None,
        };
        if !(next.is_object() || next.is_array()) {
            return None;
        }
        cur = next;
    }
    Some((cur, decode(last)))
}

/// An array index: an integer, negative ones counted from the end, below `len`.
fn index(key: &str, len: usize) -> Result<usize, String> {
    let i: i64 = key
        .parse()
        .map_err(|_| format!("strconv.Atoi: parsing {key:?}: invalid syntax"))?;
    let len = i64::try_from(len).map_err(|e| e.to_string())?;
    let i = if i < 0 { i + len } else { i };
    if i < 0 || i >= len {
        return Err(format!(
            "Unable to access invalid index: {key}: invalid index referenced"
        ));
    }
    usize::try_from(i).map_err(|e| e.to_string())
}

/// The value at `key` (`None` for a missing or null key of an object).
fn get(con: &Value, key: &str) -> Result<Option<Value>, String> {
    match con {
        Value::Object(m) => Ok(m.get(key).filter(|v| !v.is_null()).cloned()),
        Value::Array(a) => {
            let i = index(key, a.len())?;
            Ok(a.get(i).cloned())
        }
        _ => Err("not a container".into()),
    }
}

fn set(con: &mut Value, key: &str, val: Value) -> Result<(), String> {
    match con {
        Value::Object(m) => {
            m.insert(key.to_string(), val);
            Ok(())
        }
        Value::Array(a) => {
            let i = index(key, a.len())?;
            if let Some(slot) = a.get_mut(i) {
                *slot = val;
            }
            Ok(())
        }
        _ => Err("not a container".into()),
    }
}

fn add(con: &mut Value, key: &str, val: Value) -> Result<(), String> {
    match con {
        Value::Object(m) => {
            m.insert(key.to_string(), val);
            Ok(())
        }
        Value::Array(a) if key == "-" => {
            a.push(val);
            Ok(())
        }
        Value::Array(a) => {
            let i = index(key, a.len() + 1)
                .map_err(|e| format!("value was not a proper array index: '{key}': {e}"))?;
            a.insert(i, val);
            Ok(())
        }
        _ => Err("not a container".into()),
    }
}

fn remove(con: &mut Value, key: &str) -> Result<Value, String> {
    match con {
        Value::Object(m) => m
            .shift_remove(key)
            .ok_or_else(|| format!("Unable to remove nonexistent key: {key}: missing value")),
        Value::Array(a) => {
            let i = index(key, a.len())?;
            Ok(a.remove(i))
        }
        _ => Err("not a container".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(doc: Value, ops: Value) -> Result<Value, String> {
        let mut doc = doc;
        let ops = ops.as_array().cloned().unwrap_or_default();
        apply(&mut doc, &ops).map(|()| doc)
    }

    #[test]
    fn replace_of_a_missing_key_sets_it_and_remove_of_one_fails() {
        let doc = json!({"spec": {"a": 1}});
        assert_eq!(
            run(
                doc.clone(),
                json!([{"op": "replace", "path": "/spec/b", "value": 2}])
            ),
            Ok(json!({"spec": {"a": 1, "b": 2}}))
        );
        assert!(run(doc.clone(), json!([{"op": "remove", "path": "/spec/b"}])).is_err());
        // A missing parent is an error for every operation.
        assert!(run(doc, json!([{"op": "replace", "path": "/x/b", "value": 2}])).is_err());
    }

    #[test]
    fn array_indices_may_be_negative_and_dash_appends_for_add_only() {
        let doc = json!({"l": [1, 2, 3]});
        assert_eq!(
            run(
                doc.clone(),
                json!([{"op": "replace", "path": "/l/-1", "value": 9}])
            ),
            Ok(json!({"l": [1, 2, 9]}))
        );
        assert_eq!(
            run(doc.clone(), json!([{"op": "remove", "path": "/l/-3"}])),
            Ok(json!({"l": [2, 3]}))
        );
        assert_eq!(
            run(
                doc.clone(),
                json!([{"op": "add", "path": "/l/-1", "value": 4}])
            ),
            Ok(json!({"l": [1, 2, 3, 4]}))
        );
        assert_eq!(
            run(
                doc.clone(),
                json!([{"op": "add", "path": "/l/3", "value": 4}])
            ),
            Ok(json!({"l": [1, 2, 3, 4]}))
        );
        assert_eq!(
            run(
                doc.clone(),
                json!([{"op": "add", "path": "/l/-", "value": 4}])
            ),
            Ok(json!({"l": [1, 2, 3, 4]}))
        );
        assert!(
            run(
                doc.clone(),
                json!([{"op": "add", "path": "/l/5", "value": 4}])
            )
            .is_err()
        );
        assert!(
            run(
                doc.clone(),
                json!([{"op": "replace", "path": "/l/-", "value": 4}])
            )
            .is_err()
        );
        assert!(run(doc, json!([{"op": "replace", "path": "/l/3", "value": 4}])).is_err());
    }

    #[test]
    fn paths_drop_their_first_segment_and_decode_escapes() {
        let doc = json!({"a": {"b/c": 1, "d~e": 2}});
        assert_eq!(
            run(doc.clone(), json!([{"op": "remove", "path": "x/a"}])),
            Ok(json!({}))
        );
        assert_eq!(
            run(
                doc,
                json!([{"op": "remove", "path": "/a/b~1c"}, {"op": "remove", "path": "/a/d~0e"}])
            ),
            Ok(json!({"a": {}}))
        );
    }

    #[test]
    fn move_copy_and_test() {
        let doc = json!({"a": {"x": 1}, "b": {}, "n": null});
        assert_eq!(
            run(
                doc.clone(),
                json!([{"op": "move", "from": "/a/x", "path": "/b/y"}])
            ),
            Ok(json!({"a": {}, "b": {"y": 1}, "n": null}))
        );
        assert_eq!(
            run(
                doc.clone(),
                json!([{"op": "copy", "from": "/a", "path": "/b/c"}])
            ),
            Ok(json!({"a": {"x": 1}, "b": {"c": {"x": 1}}, "n": null}))
        );
        assert!(
            run(
                doc.clone(),
                json!([{"op": "test", "path": "/a/x", "value": 1}])
            )
            .is_ok()
        );
        assert!(
            run(
                doc.clone(),
                json!([{"op": "test", "path": "/a/x", "value": 2}])
            )
            .is_err()
        );
        assert!(
            run(
                doc.clone(),
                json!([{"op": "test", "path": "/a/zz", "value": null}])
            )
            .is_ok()
        );
        assert!(run(doc, json!([{"op": "frobnicate", "path": "/a"}])).is_err());
    }
}
