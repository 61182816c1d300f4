//! Reading YAML the way Helm does (`sigs.k8s.io/yaml`: YAML 1.1 read by go-yaml, then turned
//! into JSON and decoded by Go's `encoding/json`).
//!
//! What follows for values:
//! - every number read from YAML (or JSON) is a Go `float64`: `replicas: 3` is `3.0` here, a
//!   float [`serde_json::Number`]. Integers only come from `--set` (Go `int64`, an integer
//!   `Number`). The template engine must keep the two apart: Go prints `float64` 1000000 as
//!   `1e+06` and `int64` 1000000 as `1000000`.
//! - `yes`/`no`/`on`/`off`/`y`/`n` are booleans, `0644` is octal.
//! - a plain key that YAML 1.1 reads as a boolean or number becomes that value's text (`on:`
//!   and `y:` are the key `"true"`, `007:` is `"7"`); a key that reads as null is refused, as
//!   `sigs.k8s.io/yaml` refuses it. Quoted keys stay as written.
//! - a key repeated in one mapping keeps its last value (go-yaml's non-strict reading), also two
//!   keys that read the same (`on` and `true`).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
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
        // Repeated keys reach the visitor, which keeps the last, after resolving each plain key
        // as YAML 1.1 reads it (`on` and `true` are one key).
        duplicate_keys: DuplicateKeyPolicy::PassThrough,
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
    let docs: Vec<Node> =
        serde_saphyr::from_slice_multiple_with_options(bytes, options()).map_err(|e| error(&e))?;
    Ok(docs.into_iter().map(|n| n.0).collect())
}

/// A YAML node as Helm sees it after `sigs.k8s.io/yaml` (numbers `float64`, keys as text).
struct Node(Value);

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor).map(Node)
    }
}

fn float(v: f64) -> Value {
    Number::from_f64(v).map_or(Value::Null, Value::Number)
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    // Go's JSON decoder reads every number as a float64; precision beyond 2^53 is lost there too.
    #[allow(clippy::cast_precision_loss)]
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(float(v as f64))
    }
    #[allow(clippy::cast_precision_loss)]
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(float(v as f64))
    }
    #[allow(clippy::cast_precision_loss)]
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(float(v as f64))
    }
    #[allow(clippy::cast_precision_loss)]
    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(float(v as f64))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        Node::deserialize(deserializer).map(|n| n.0)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Node(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(Key(text)) = map.next_key()? {
            let Node(value) = map.next_value()?;
            out.insert(text, value);
        }
        Ok(Value::Object(out))
    }
}

/// A mapping key as `sigs.k8s.io/yaml` turns it into JSON text.
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a scalar mapping key")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }
    // Go formats a float key as a float32 (`strconv.FormatFloat(k, 'g', -1, 32)`).
    #[allow(clippy::cast_possible_truncation)]
    fn visit_f64<E>(self, v: f64) -> Result<Key, E> {
        let f = v as f32;
        let text = if f.is_infinite() {
            if f > 0.0 {
                ".inf".into()
            } else {
                "-.inf".into()
            }
        } else if f.is_nan() {
            ".nan".into()
        } else if f.fract() == 0.0 && f.abs() < 1e6 {
            format!("{f:.0}")
        } else {
            f.to_string()
        };
        Ok(Key(text))
    }
    fn visit_str<E>(self, v: &str) -> Result<Key, E> {
        Ok(Key(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Key, E> {
        Ok(Key(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
        Err(E::custom(
            "unsupported map key: a key that reads as null (~, null or nothing)",
        ))
    }
    fn visit_none<E: de::Error>(self) -> Result<Key, E> {
        Err(E::custom(
            "unsupported map key: a key that reads as null (~, null or nothing)",
        ))
    }
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
            Value::Object(map) => out = crate::table::merge_maps(out, map),
            other => {
                return Err(YamlError {
                    line: 0,
                    message: format!(
                        "cannot unmarshal yaml document: a values document must be a mapping, not {}",
                        crate::table::type_name(&other)
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
        let v = values_file(b"a: {x: 1, z: 2}\nk: 1\nk: 2\n---\na: {z: 3}\n---\n")?;
        assert_eq!(v["a"]["x"].as_f64(), Some(1.0));
        assert_eq!(v["a"]["z"].as_f64(), Some(3.0));
        assert_eq!(v["k"].as_f64(), Some(2.0));
        assert!(values_file(b"- a\n").is_err());
        Ok(())
    }

    #[test]
    fn plain_keys_that_read_as_booleans_or_numbers_become_their_text() -> Result<(), YamlError> {
        let v = document(b"on: 1\ny: 2\n007: 3\n'no': 4\n1.5: 5\n")?;
        assert_eq!(
            v["true"].as_f64(),
            Some(2.0),
            "on and y both read as true; the last wins"
        );
        assert_eq!(v["7"].as_f64(), Some(3.0));
        assert_eq!(v["no"].as_f64(), Some(4.0));
        assert_eq!(v["1.5"].as_f64(), Some(5.0));
        assert!(document(b"~: 1\n").is_err());
        Ok(())
    }
}
