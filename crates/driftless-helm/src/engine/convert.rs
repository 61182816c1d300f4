//! Go's `encoding/json` view of the template engine's [`Value`]s (what `toJson` and `toYaml`
//! encode); the other way, Helm's data as values, is in `data`.

use driftless_template::Value;
use serde_json::{Map, Number};

use super::objects;

/// What Go's `json.Marshal` makes of a value, or its error (a NaN or infinite float).
pub(crate) fn to_json(v: &Value) -> Result<serde_json::Value, String> {
    to_json_at(v, 0)
}

fn to_json_at(v: &Value, depth: usize) -> Result<serde_json::Value, String> {
    if depth > 1000 {
        return Err("json: unsupported value: encountered a cycle".into());
    }
    Ok(match v {
        Value::Missing | Value::Nil => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(i) | Value::Int64(i) => serde_json::Value::Number((*i).into()),
        Value::Uint64(u) => serde_json::Value::Number((*u).into()),
        Value::Byte(b) => serde_json::Value::Number((*b).into()),
        Value::Float(f) => match Number::from_f64(*f) {
            Some(n) => serde_json::Value::Number(n),
            None => {
                return Err(format!(
                    "json: unsupported value: {}",
                    driftless_template::format_value(v)
                ));
            }
        },
        Value::String(s) => serde_json::Value::String(s.to_string()),
        Value::List(l) => serde_json::Value::Array(
            l.iter()
                .map(|x| to_json_at(x, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(m) => {
            let entries: Vec<(String, Value)> = m
                .read()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let mut out = Map::new();
            for (k, v) in entries {
                out.insert(k, to_json_at(&v, depth + 1)?);
            }
            serde_json::Value::Object(out)
        }
        Value::Object(o) => objects::object_json(o.as_ref())
            .map_or(Ok(serde_json::Value::Object(Map::new())), |v| {
                to_json_at(&v, depth + 1)
            })?,
    })
}

/// Go's `json.Marshal` output of a value (HTML characters escaped, as Go does by default).
pub(crate) fn go_json(v: &Value) -> Result<String, String> {
    let mut out = String::new();
    write_json(&to_json(v)?, &mut out);
    Ok(out)
}

fn write_json(v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::Null => out.push_str("null"),
        serde_json::Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        serde_json::Value::Number(n) => out.push_str(&go_json_number(n)),
        serde_json::Value::String(s) => write_json_string(s, out),
        serde_json::Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(x, out);
            }
            out.push(']');
        }
        serde_json::Value::Object(m) => {
            out.push('{');
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(k, out);
                out.push(':');
                if let Some(x) = m.get(k) {
                    write_json(x, out);
                }
            }
            out.push('}');
        }
    }
}

/// A number as Go's `encoding/json` writes it.
pub(crate) fn go_json_number(n: &Number) -> String {
    if !n.is_f64() {
        return n.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format!("{f:e}");
        match s.split_once('e') {
            Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
            _ => s,
        }
    } else {
        format!("{f}")
    }
}

fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}
