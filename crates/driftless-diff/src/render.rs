//! Output: deterministic YAML, unified diffs and the list of changed paths.

use serde_json::Value;
use similar::TextDiff;

use crate::pointer;

/// Lines of context around each change in a unified diff (as `diff -u` and `kubectl diff`).
const CONTEXT_LINES: usize = 3;

/// An object could not be written as YAML.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {object} as YAML: {message}")]
pub struct RenderError {
    /// The object.
    pub object: String,
    /// The serializer's complaint (it never quotes values).
    pub message: String,
}

/// `value` as a YAML document: keys sorted at every level (as `kubectl get -o yaml` prints
/// them, so key order in Git never shows as a difference), strings quoted only where YAML needs
/// it, multi-line strings as literal blocks, long lines never folded (so a diff line is a whole
/// value). `None` renders as the empty string.
pub fn to_yaml(value: Option<&Value>, object: &str) -> Result<String, RenderError> {
    let Some(value) = value else {
        return Ok(String::new());
    };
    let mut options = serde_saphyr::SerializerOptions::default();
    options.folded_wrap_chars = usize::MAX;
    serde_saphyr::to_string_with_options(&sorted(value), options).map_err(|e| RenderError {
        object: object.to_owned(),
        message: e.to_string(),
    })
}

/// A copy of `value` with every object's keys in sorted order.
fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sorted(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// A unified diff from `old` to `new`, with `old_name`/`new_name` in the `---`/`+++` headers;
/// empty when the texts are equal.
pub fn unified(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    if old == new {
        return String::new();
    }
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(CONTEXT_LINES)
        .header(old_name, new_name)
        .to_string()
}

/// The JSON Pointers of every difference between `old` and `new`: the deepest path at which
/// they differ (a field only one side has, a scalar that changed, a list whose length changed is
/// compared item by item and its extra items named). Sorted and free of duplicates.
pub fn changed_paths(old: Option<&Value>, new: Option<&Value>) -> Vec<String> {
    let mut out = Vec::new();
    let mut at = Vec::new();
    walk(old, new, &mut at, &mut out);
    out.sort();
    out.dedup();
    out
}

fn walk(old: Option<&Value>, new: Option<&Value>, at: &mut Vec<String>, out: &mut Vec<String>) {
    match (old, new) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            for (key, value) in a {
                at.push(key.clone());
                walk(Some(value), b.get(key), at, out);
                at.pop();
            }
            for (key, value) in b {
                if !a.contains_key(key) {
                    at.push(key.clone());
                    walk(None, Some(value), at, out);
                    at.pop();
                }
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => {
            for index in 0..a.len().max(b.len()) {
                at.push(index.to_string());
                walk(a.get(index), b.get(index), at, out);
                at.pop();
            }
        }
        (a, b) if a == b => {}
        _ => out.push(pointer::format(at)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_name_the_deepest_difference() {
        let old = json!({"a": {"b": 1, "c": [1, 2]}, "gone": true, "same": "x"});
        let new = json!({"a": {"b": 2, "c": [1, 2, 3]}, "added": {"x": 1}, "same": "x"});
        assert_eq!(
            changed_paths(Some(&old), Some(&new)),
            ["/a/b", "/a/c/2", "/added", "/gone"]
        );
        assert!(changed_paths(Some(&old), Some(&old)).is_empty());
        assert_eq!(changed_paths(None, Some(&new)), [""]);
    }

    #[test]
    fn long_strings_stay_on_one_line() -> Result<(), RenderError> {
        let long = "word ".repeat(40);
        let yaml = to_yaml(Some(&json!({"k": long.trim_end()})), "x")?;
        assert_eq!(yaml.lines().count(), 1, "{yaml}");
        Ok(())
    }
}
