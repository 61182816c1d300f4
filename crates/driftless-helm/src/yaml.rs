//! Reading YAML the way Helm does (`sigs.k8s.io/yaml`: YAML 1.1 read by go-yaml, then turned
//! into JSON and decoded by Go's `encoding/json`).
//!
//! What follows for values:
//! - every number read from YAML (or JSON) is a Go `float64`: `replicas: 3` is `3.0` here, a
//!   float [`serde_json::Number`]. Integers only come from `--set` (Go `int64`, an integer
//!   `Number`). The template engine must keep the two apart: Go prints `float64` 1000000 as
//!   `1e+06` and `int64` 1000000 as `1000000`.
//! - `yes`/`no`/`on`/`off` are booleans, `0644` is octal, keys are strings.
//! - a key repeated in one mapping keeps its last value (go-yaml's non-strict reading).

use serde_json::{Map, Number, Value};
use serde_saphyr::options::DuplicateKeyPolicy;

/// Alias replay budget per file, against "alias bombs" (see driftless-resource's reader).
const MAX_REPLAYED_ALIAS_EVENTS: usize = 100_000;

/// A YAML file Helm could not read: its message, on one line, with the line when known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct YamlError {
    /// 1-based line (0 when unknown).
    pub line: u64,
    /// The parser's message.
    pub message: String,
}

fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        legacy_octal_numbers: true,
        strict_booleans: false,
        duplicate_keys: DuplicateKeyPolicy::LastWins,
        with_snippet: false,
        emit_comments: false,
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: MAX_REPLAYED_ALIAS_EVENTS,
        },
    }
}

fn error(err: &serde_saphyr::Error) -> YamlError {
    YamlError {
        line: err.location().map_or(0, |l| l.line()),
        message: err
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// Every document of `bytes`, numbers made Go `float64`s. Empty documents are `null`.
///
/// # Errors
/// Invalid YAML or an exhausted budget.
pub fn documents(bytes: &[u8]) -> Result<Vec<Value>, YamlError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let docs: Vec<Value> =
        serde_saphyr::from_slice_multiple_with_options(bytes, options()).map_err(|e| error(&e))?;
    Ok(docs.into_iter().map(go_numbers).collect())
}

/// One document (the first; `null` for an empty file).
///
/// # Errors
/// Invalid YAML.
pub fn document(bytes: &[u8]) -> Result<Value, YamlError> {
    Ok(documents(bytes)?.into_iter().next().unwrap_or(Value::Null))
}

/// A values file as Helm's `LoadValues` reads it: each document must be a mapping (or empty),
/// and the documents are merged in order, later ones winning (maps merged recursively).
///
/// # Errors
/// Invalid YAML, or a document that is not a mapping.
pub fn values_file(bytes: &[u8]) -> Result<Map<String, Value>, YamlError> {
    let mut out = Map::new();
    for doc in documents(bytes)? {
        match doc {
            Value::Null => {}
            Value::Object(map) => out = crate::values::merge_maps(out, map),
            other => {
                return Err(YamlError {
                    line: 0,
                    message: format!(
                        "cannot unmarshal yaml document: a values document must be a mapping, not {}",
                        crate::values::type_name(&other)
                    ),
                });
            }
        }
    }
    Ok(out)
}

/// Turns every number into a Go `float64` (what `encoding/json` decodes numbers into).
pub fn go_numbers(value: Value) -> Value {
    match value {
        Value::Number(n) => n
            .as_f64()
            .and_then(Number::from_f64)
            .map_or(Value::Number(n), Value::Number),
        Value::Array(items) => Value::Array(items.into_iter().map(go_numbers).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, go_numbers(v))).collect())
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_are_floats_and_yaml_1_1_booleans_read_as_helm_reads_them() -> Result<(), YamlError> {
        let v = document(b"replicas: 3\nmode: 0644\nflag: yes\nname: x\nratio: 0.5\n")?;
        assert_eq!(v["replicas"].as_f64(), Some(3.0));
        assert!(v["replicas"].is_f64());
        assert_eq!(v["mode"].as_f64(), Some(420.0));
        assert_eq!(v["flag"], json!(true));
        assert_eq!(v["ratio"].as_f64(), Some(0.5));
        Ok(())
    }

    #[test]
    fn values_documents_merge_and_repeated_keys_keep_the_last() -> Result<(), YamlError> {
        let v = values_file(b"a: {x: 1, y: 2}\nk: 1\nk: 2\n---\na: {y: 3}\n---\n")?;
        assert_eq!(v["a"]["x"].as_f64(), Some(1.0));
        assert_eq!(v["a"]["y"].as_f64(), Some(3.0));
        assert_eq!(v["k"].as_f64(), Some(2.0));
        assert!(values_file(b"- a\n").is_err());
        Ok(())
    }
}
