//! Helm's data (`serde_json`, as values files and `--set` make it) as the template engine's
//! [`Value`]s.

use driftless_template::{Dict, Value};
use serde_json::{Map, Number};

/// Data as Helm's templates see it: floats stay `float64`, integers (from `--set`) are
/// `int64`, objects shared mutable maps.
pub(crate) fn to_value(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => number(n),
        serde_json::Value::String(s) => Value::str(s.as_str()),
        serde_json::Value::Array(a) => Value::list(a.iter().map(to_value).collect()),
        serde_json::Value::Object(o) => Value::Map(map(o)),
    }
}

/// A JSON object as a shared map.
pub(crate) fn map(o: &Map<String, serde_json::Value>) -> Dict {
    Dict::from_map(o.iter().map(|(k, v)| (k.clone(), to_value(v))).collect())
}

fn number(n: &Number) -> Value {
    if n.is_f64() {
        Value::Float(n.as_f64().unwrap_or(0.0))
    } else if let Some(i) = n.as_i64() {
        Value::Int64(i)
    } else if let Some(u) = n.as_u64() {
        Value::Uint64(u)
    } else {
        Value::Float(n.as_f64().unwrap_or(0.0))
    }
}
