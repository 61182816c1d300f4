//! Helm's own template functions, added to Sprig's as Helm's `funcMap` and `initFunMap` add
//! them: `include`, `tpl`, `required`, `fail`, `lookup` (an empty map, as under
//! `helm template`), the YAML, JSON and TOML encoders and decoders, and `getHostByName`
//! (empty: DNS lookups are off).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use driftless_template::{Dict, Engine, Func, FuncMap, Param, Value, sprintf};

use super::convert::{go_json, to_json};
use super::data::to_value;

/// Helm's markers around a `required`/`fail` message, found again in the error.
pub(crate) const WARN_START: &str = "HELM_ERR_START";
/// See [`WARN_START`].
pub(crate) const WARN_END: &str = "HELM_ERR_END";

fn warn_wrap(msg: &str) -> String {
    format!("{WARN_START}{msg}{WARN_END}")
}

fn arg_str(a: &[Value], i: usize) -> String {
    a.get(i)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// How deep Helm lets one name `include` itself (`recursionMaxNums`).
pub(crate) const MAX_INCLUDE_NESTING: usize = 1000;

/// The name Helm's `tpl` parses its text under: the root template's, `gotpl`.
pub(crate) const ROOT: &str = "gotpl";

/// `toYaml`'s text, or the encoder's error.
pub(crate) fn to_yaml(v: &Value) -> Result<String, String> {
    let json = to_json(v)?;
    let text = driftless_goyaml::to_yaml(&json);
    Ok(text.strip_suffix('\n').unwrap_or(&text).to_owned())
}

/// Sprig's functions with Helm's added and overridden.
pub(crate) fn funcs() -> FuncMap {
    let mut f = driftless_template::funcs::sprig::funcs();
    f.remove("env");
    f.remove("expandenv");
    let mut add = |name: &str, func: Func| {
        f.insert(name.to_owned(), func);
    };
    add(
        "toYaml",
        Func::new(&[Param::Any], |a| {
            Ok(Value::str(to_yaml(&a[0]).unwrap_or_default()))
        }),
    );
    add(
        "mustToYaml",
        Func::new(&[Param::Any], |a| to_yaml(&a[0]).map(Value::str)),
    );
    add(
        "toYamlPretty",
        Func::new(&[Param::Any], |a| {
            Ok(Value::str(to_yaml(&a[0]).unwrap_or_default()))
        }),
    );
    add(
        "fromYaml",
        Func::new(&[Param::String], |a| Ok(from_yaml(&arg_str(a, 0)))),
    );
    add(
        "fromYamlArray",
        Func::new(&[Param::String], |a| Ok(from_yaml_array(&arg_str(a, 0)))),
    );
    add(
        "toJson",
        Func::new(&[Param::Any], |a| {
            Ok(Value::str(go_json(&a[0]).unwrap_or_default()))
        }),
    );
    add(
        "mustToJson",
        Func::new(&[Param::Any], |a| go_json(&a[0]).map(Value::str)),
    );
    add(
        "fromJson",
        Func::new(&[Param::String], |a| Ok(from_json(&arg_str(a, 0)))),
    );
    add(
        "fromJsonArray",
        Func::new(&[Param::String], |a| Ok(from_json_array(&arg_str(a, 0)))),
    );
    add(
        "toToml",
        Func::new(&[Param::Any], |a| {
            Ok(Value::str(
                super::toml::to_toml(&a[0]).unwrap_or_else(|e| e),
            ))
        }),
    );
    add(
        "mustToToml",
        Func::new(&[Param::Any], |a| {
            super::toml::to_toml(&a[0]).map(Value::str)
        }),
    );
    add(
        "lookup",
        Func::new(
            &[Param::String, Param::String, Param::String, Param::String],
            |_| Ok(Value::Map(Dict::new())),
        ),
    );
    add(
        "getHostByName",
        Func::new(&[Param::String], |_| Ok(Value::str(""))),
    );
    add(
        "required",
        Func::new(&[Param::String, Param::Any], |a| {
            let missing = match &a[1] {
                Value::Missing | Value::Nil => true,
                Value::String(s) => s.is_empty(),
                _ => false,
            };
            if missing {
                Err(warn_wrap(&arg_str(a, 0)))
            } else {
                Ok(a[1].clone())
            }
        }),
    );
    add(
        "fail",
        Func::new(&[Param::String], |a| Err(warn_wrap(&arg_str(a, 0)))),
    );
    // Helm counts the `include`s of each name under way and refuses the 1001st level.
    let included: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    add(
        "include",
        Func::with_engine(&[Param::String, Param::Any], None, move |ctx, a| {
            let name = arg_str(a, 0);
            let level = {
                let mut counts = included.lock().map_err(|_| "include: poisoned lock")?;
                let n = counts.entry(name.clone()).or_insert(0);
                if *n > MAX_INCLUDE_NESTING {
                    return Err(format!(
                        "rendering template has a nested reference name: {name}: unable to execute template"
                    ));
                }
                *n += 1;
                *n
            };
            let out = ctx.execute(&name, &a[1]);
            if let Ok(mut counts) = included.lock()
                && let Some(n) = counts.get_mut(&name)
            {
                *n = level - 1;
            }
            out.map(Value::str)
        }),
    );
    add(
        "tpl",
        Func::with_engine(&[Param::String, Param::Any], None, tpl),
    );
    f
}

/// Helm's `tpl`: the text parsed under the root's name into a copy of the set, executed with
/// `vals`, `<no value>` removed.
fn tpl(ctx: &mut dyn Engine, a: &[Value]) -> Result<Value, String> {
    let text = arg_str(a, 0);
    match ctx.execute_text(ROOT, &text, &a[1]) {
        Ok(out) => Ok(Value::str(out.replace("<no value>", ""))),
        Err(e) => {
            let quoted = sprintf("%q", &[Value::str(text.as_str())]);
            if is_parse_error(&e) {
                Err(format!("cannot parse template {quoted}: {e}"))
            } else {
                Err(format!(
                    "error during tpl function execution for {quoted}: {e}"
                ))
            }
        }
    }
}

/// Whether a Go template error is a parse error (`template: NAME:LINE: ...`, no column).
fn is_parse_error(e: &str) -> bool {
    let Some(rest) = e.strip_prefix("template: ") else {
        return false;
    };
    let Some(rest) = rest.strip_prefix(ROOT).and_then(|r| r.strip_prefix(':')) else {
        return false;
    };
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    digits > 0 && rest[digits..].starts_with(": ")
}

fn yaml_first(s: &str) -> Result<serde_json::Value, String> {
    crate::yaml::document(s.as_bytes()).map_err(|e| format!("error converting YAML to JSON: {e}"))
}

fn from_yaml(s: &str) -> Value {
    let m = Dict::new();
    match yaml_first(s) {
        Ok(serde_json::Value::Object(o)) => return Value::Map(super::data::map(&o)),
        Ok(serde_json::Value::Null) => {}
        Ok(other) => m.insert(
            "Error",
            Value::str(format!(
                "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_kind(&other)
            )),
        ),
        Err(e) => m.insert("Error", Value::str(e)),
    }
    Value::Map(m)
}

fn from_yaml_array(s: &str) -> Value {
    match yaml_first(s) {
        Ok(serde_json::Value::Array(a)) => Value::list(a.iter().map(to_value).collect()),
        Ok(serde_json::Value::Null) => Value::list(Vec::new()),
        Ok(other) => Value::list(vec![Value::str(format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type []interface {{}}",
            json_kind(&other)
        ))]),
        Err(e) => Value::list(vec![Value::str(e)]),
    }
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

fn json_parse(s: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str::<serde_json::Value>(s)
        .map(crate::yaml::go_numbers)
        .map_err(|e| e.to_string())
}

fn from_json(s: &str) -> Value {
    let m = Dict::new();
    match json_parse(s) {
        Ok(serde_json::Value::Object(o)) => return Value::Map(super::data::map(&o)),
        Ok(serde_json::Value::Null) => {}
        Ok(other) => m.insert(
            "Error",
            Value::str(format!(
                "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_kind(&other)
            )),
        ),
        Err(e) => m.insert("Error", Value::str(e)),
    }
    Value::Map(m)
}

fn from_json_array(s: &str) -> Value {
    match json_parse(s) {
        Ok(serde_json::Value::Array(a)) => Value::list(a.iter().map(to_value).collect()),
        Ok(serde_json::Value::Null) => Value::list(Vec::new()),
        Ok(other) => Value::list(vec![Value::str(format!(
            "json: cannot unmarshal {} into Go value of type []interface {{}}",
            json_kind(&other)
        ))]),
        Err(e) => Value::list(vec![Value::str(e)]),
    }
}
