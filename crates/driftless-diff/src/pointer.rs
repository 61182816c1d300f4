//! JSON Pointers (RFC 6901): parsing, formatting and removal.
//!
//! Pointers name paths in this crate's API: `ObjectDiff::changed_paths`, ignore rules'
//! `jsonPointers`, and [`crate::managers_of`]. `/spec/template/spec/containers/0/image` names the
//! image of the first container; `~1` stands for `/` and `~0` for `~` inside a segment
//! (`/metadata/annotations/example.com~1owner`).

use serde_json::Value;

/// A pointer is malformed.
#[derive(Debug, thiserror::Error)]
#[error("JSON pointer {pointer:?} must be empty or start with '/'")]
pub struct PointerError {
    /// The pointer as given.
    pub pointer: String,
}

/// Splits a pointer into its unescaped segments; `""` is the whole document.
pub fn parse(pointer: &str) -> Result<Vec<String>, PointerError> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(PointerError {
            pointer: pointer.to_owned(),
        });
    };
    Ok(rest
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect())
}

/// Joins segments into a pointer, escaping `~` and `/`.
pub fn format<S: AsRef<str>>(segments: &[S]) -> String {
    segments
        .iter()
        .map(|s| format!("/{}", s.as_ref().replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// Removes the value at `segments` from `value`; a path that does not exist is left alone (an
/// ignore rule for a field an object does not have is not an error). Removing the whole
/// document (no segments) replaces it with `null`.
pub fn remove(value: &mut Value, segments: &[String]) {
    let Some((last, parents)) = segments.split_last() else {
        *value = Value::Null;
        return;
    };
    let mut node = value;
    for segment in parents {
        let next = match node {
            Value::Object(map) => map.get_mut(segment),
            Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
            _ => None,
        };
        match next {
            Some(next) => node = next,
            None => return,
        }
    }
    match node {
        Value::Object(map) => {
            map.shift_remove(last);
        }
        Value::Array(items) => {
            if let Ok(i) = last.parse::<usize>()
                && i < items.len()
            {
                items.remove(i);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_escapes() -> Result<(), PointerError> {
        let segments = parse("/metadata/annotations/example.com~1owner~0x")?;
        assert_eq!(segments, ["metadata", "annotations", "example.com/owner~x"]);
        assert_eq!(
            format(&segments),
            "/metadata/annotations/example.com~1owner~0x"
        );
        assert!(parse("spec").is_err());
        Ok(())
    }

    #[test]
    fn removes_fields_and_items_and_ignores_absent_paths() -> Result<(), PointerError> {
        let mut value = json!({"a": {"b": 1, "c": [1, 2, 3]}});
        remove(&mut value, &parse("/a/c/1")?);
        remove(&mut value, &parse("/a/b")?);
        remove(&mut value, &parse("/a/zz/y")?);
        remove(&mut value, &parse("/a/c/9")?);
        assert_eq!(value, json!({"a": {"c": [1, 3]}}));
        Ok(())
    }
}
