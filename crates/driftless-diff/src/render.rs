//! Output: deterministic YAML and unified diffs.

use serde_json::Value;
use similar::TextDiff;

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn long_strings_stay_on_one_line() -> Result<(), RenderError> {
        let long = "word ".repeat(40);
        let yaml = to_yaml(Some(&json!({"k": long.trim_end()})), "x")?;
        assert_eq!(yaml.lines().count(), 1, "{yaml}");
        Ok(())
    }
}
