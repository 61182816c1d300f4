//! Go's predefined template functions: `and or not eq ne lt le gt ge index slice len print
//! printf println html js urlquery call`.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::fmt::{sprint, sprintf, sprintln};
use crate::func::{Func, FuncResult, Param};
use crate::value::Value;

/// Built-ins that the executor treats specially.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Builtin {
    And,
    Or,
    Call,
    Plain,
}

/// The built-in of that name, if any.
pub(crate) fn lookup(name: &str) -> Option<(Builtin, Func)> {
    static TABLE: OnceLock<HashMap<&'static str, (Builtin, Func)>> = OnceLock::new();
    TABLE.get_or_init(table).get(name).cloned()
}

/// True when `name` is a built-in.
pub(crate) fn is_builtin(name: &str) -> bool {
    lookup(name).is_some()
}

fn table() -> HashMap<&'static str, (Builtin, Func)> {
    use Param::{Any, Reflect, String as Str};
    let plain = |f: Func| (Builtin::Plain, f);
    let unreachable = |_: &[Value]| -> FuncResult { Err("unreachable".into()) };
    HashMap::from([
        (
            "and",
            (
                Builtin::And,
                Func::variadic(&[Reflect], Reflect, unreachable),
            ),
        ),
        (
            "or",
            (
                Builtin::Or,
                Func::variadic(&[Reflect], Reflect, unreachable),
            ),
        ),
        (
            "call",
            (Builtin::Call, Func::variadic(&[Reflect], Reflect, call)),
        ),
        (
            "not",
            plain(Func::new(&[Reflect], |a| Ok(Value::Bool(!a[0].is_true())))),
        ),
        (
            "eq",
            plain(Func::variadic(&[Reflect], Reflect, |a| {
                eq(&a[0], &a[1..]).map(Value::Bool)
            })),
        ),
        (
            "ne",
            plain(Func::new(&[Reflect, Reflect], |a| {
                eq(&a[0], &a[1..]).map(|b| Value::Bool(!b))
            })),
        ),
        (
            "lt",
            plain(Func::new(&[Reflect, Reflect], |a| {
                lt(&a[0], &a[1]).map(Value::Bool)
            })),
        ),
        (
            "le",
            plain(Func::new(&[Reflect, Reflect], |a| {
                le(&a[0], &a[1]).map(Value::Bool)
            })),
        ),
        (
            "gt",
            plain(Func::new(&[Reflect, Reflect], |a| {
                le(&a[0], &a[1]).map(|b| Value::Bool(!b))
            })),
        ),
        (
            "ge",
            plain(Func::new(&[Reflect, Reflect], |a| {
                lt(&a[0], &a[1]).map(|b| Value::Bool(!b))
            })),
        ),
        (
            "index",
            plain(Func::variadic(&[Reflect], Reflect, |a| {
                index(&a[0], &a[1..])
            })),
        ),
        (
            "slice",
            plain(Func::variadic(&[Reflect], Reflect, |a| {
                slice(&a[0], &a[1..])
            })),
        ),
        ("len", plain(Func::new(&[Reflect], |a| length(&a[0])))),
        (
            "print",
            plain(Func::variadic(&[], Any, |a| Ok(Value::str(sprint(a))))),
        ),
        (
            "println",
            plain(Func::variadic(&[], Any, |a| Ok(Value::str(sprintln(a))))),
        ),
        (
            "printf",
            plain(Func::variadic(&[Str], Any, |a| {
                Ok(Value::str(sprintf(a[0].as_str().unwrap_or(""), &a[1..])))
            })),
        ),
        (
            "html",
            plain(Func::variadic(&[], Any, |a| {
                Ok(Value::str(html_escape(&eval_args(a))))
            })),
        ),
        (
            "js",
            plain(Func::variadic(&[], Any, |a| {
                Ok(Value::str(js_escape(&eval_args(a))))
            })),
        ),
        (
            "urlquery",
            plain(Func::variadic(&[], Any, |a| {
                Ok(Value::str(query_escape(&eval_args(a))))
            })),
        ),
    ])
}

/// Go's `indirectInterface`: a nil interface is no value.
fn ind(v: &Value) -> &Value {
    match v {
        Value::Nil => &Value::Missing,
        v => v,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Invalid,
    Bool,
    Int,
    Float,
    String,
    Uint,
}

fn basic_kind(v: &Value) -> Kind {
    match v {
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) | Value::Int64(_) => Kind::Int,
        Value::Uint64(_) | Value::Byte(_) => Kind::Uint,
        Value::Float(_) => Kind::Float,
        Value::String(_) => Kind::String,
        _ => Kind::Invalid,
    }
}

fn int_of(v: &Value) -> i64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i,
        _ => 0,
    }
}

fn uint_of(v: &Value) -> u64 {
    match v {
        Value::Uint64(u) => *u,
        Value::Byte(b) => u64::from(*b),
        _ => 0,
    }
}

fn float_of(v: &Value) -> f64 {
    match v {
        Value::Float(f) => *f,
        _ => 0.0,
    }
}

/// Go's `eq`.
pub(crate) fn eq(a1: &Value, rest: &[Value]) -> Result<bool, String> {
    let a1 = ind(a1);
    if rest.is_empty() {
        return Err("missing argument for comparison".into());
    }
    let k1 = basic_kind(a1);
    for arg in rest {
        let arg = ind(arg);
        let k2 = basic_kind(arg);
        let truth = if k1 != k2 {
            match (k1, k2) {
                (Kind::Int, Kind::Uint) => int_of(a1) >= 0 && int_of(a1) as u64 == uint_of(arg),
                (Kind::Uint, Kind::Int) => int_of(arg) >= 0 && uint_of(a1) == int_of(arg) as u64,
                _ => {
                    if !matches!(a1, Value::Missing) && !matches!(arg, Value::Missing) {
                        return Err(format!(
                            "incompatible types for comparison: {} and {}",
                            a1.type_name(),
                            arg.type_name()
                        ));
                    }
                    false
                }
            }
        } else {
            match k1 {
                Kind::Bool => matches!((a1, arg), (Value::Bool(x), Value::Bool(y)) if x == y),
                Kind::Float => float_of(a1) == float_of(arg),
                Kind::Int => int_of(a1) == int_of(arg),
                Kind::String => a1.as_str() == arg.as_str(),
                Kind::Uint => uint_of(a1) == uint_of(arg),
                Kind::Invalid => {
                    let same_kind = std::mem::discriminant(a1) == std::mem::discriminant(arg)
                        || matches!(a1, Value::Missing)
                        || matches!(arg, Value::Missing);
                    if !same_kind {
                        return Err(format!(
                            "non-comparable types {}: {}, {}: {}",
                            sprintf("%s", std::slice::from_ref(a1)),
                            a1.type_name(),
                            arg.type_name(),
                            crate::fmt::format_value(arg)
                        ));
                    }
                    if a1.is_nil() || arg.is_nil() {
                        a1.is_nil() == arg.is_nil()
                    } else {
                        return Err(format!(
                            "non-comparable type {}: {}",
                            sprintf("%s", std::slice::from_ref(arg)),
                            arg.type_name()
                        ));
                    }
                }
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Go's `lt`.
pub(crate) fn lt(a1: &Value, a2: &Value) -> Result<bool, String> {
    let a1 = ind(a1);
    let k1 = basic_kind(a1);
    if k1 == Kind::Invalid {
        return Err("invalid type for comparison".into());
    }
    let a2 = ind(a2);
    let k2 = basic_kind(a2);
    if k2 == Kind::Invalid {
        return Err("invalid type for comparison".into());
    }
    if k1 != k2 {
        return match (k1, k2) {
            (Kind::Int, Kind::Uint) => Ok(int_of(a1) < 0 || (int_of(a1) as u64) < uint_of(a2)),
            (Kind::Uint, Kind::Int) => Ok(int_of(a2) >= 0 && uint_of(a1) < int_of(a2) as u64),
            _ => Err(format!(
                "incompatible types for comparison: {} and {}",
                a1.type_name(),
                a2.type_name()
            )),
        };
    }
    Ok(match k1 {
        Kind::Bool | Kind::Invalid => return Err("invalid type for comparison".into()),
        Kind::Float => float_of(a1) < float_of(a2),
        Kind::Int => int_of(a1) < int_of(a2),
        Kind::String => a1.as_str() < a2.as_str(),
        Kind::Uint => uint_of(a1) < uint_of(a2),
    })
}

fn le(a1: &Value, a2: &Value) -> Result<bool, String> {
    if lt(a1, a2)? {
        return Ok(true);
    }
    eq(a1, std::slice::from_ref(a2))
}

/// Go's `indexArg`.
fn index_arg(index: &Value, cap: usize) -> Result<usize, String> {
    let x: i64 = match ind(index) {
        Value::Int(i) | Value::Int64(i) => *i,
        Value::Uint64(u) => *u as i64,
        Value::Byte(b) => i64::from(*b),
        Value::Missing => return Err("cannot index slice/array with nil".into()),
        v => {
            return Err(format!(
                "cannot index slice/array with type {}",
                v.type_name()
            ));
        }
    };
    if x < 0 || x as u64 > cap as u64 {
        return Err(format!("index out of range: {x}"));
    }
    Ok(x as usize)
}

fn index(item: &Value, indexes: &[Value]) -> FuncResult {
    let mut item = ind(item).clone();
    if let Value::Object(o) = &item
        && let Some(v) = o.as_value()
    {
        item = v;
    }
    if matches!(item, Value::Missing) {
        return Err("index of untyped nil".into());
    }
    for idx in indexes {
        if matches!(item, Value::Nil) {
            return Err("index of nil pointer".into());
        }
        item = match &item {
            Value::List(l) => {
                let x = index_arg(idx, l.len())?;
                l.get(x)
                    .cloned()
                    .ok_or("reflect: slice index out of range")?
            }
            Value::String(s) => {
                let x = index_arg(idx, s.len())?;
                Value::Byte(
                    *s.as_bytes()
                        .get(x)
                        .ok_or("reflect: string index out of range")?,
                )
            }
            Value::Map(m) => match ind(idx) {
                Value::String(k) => m.get(k).unwrap_or(Value::Nil),
                Value::Missing => return Err("value is nil; should be of type string".into()),
                v => {
                    return Err(format!(
                        "value has type {}; should be string",
                        v.type_name()
                    ));
                }
            },
            v => return Err(format!("can't index item of type {}", v.type_name())),
        };
    }
    Ok(item)
}

fn slice(item: &Value, indexes: &[Value]) -> FuncResult {
    let item = ind(item);
    if matches!(item, Value::Missing) {
        return Err("slice of untyped nil".into());
    }
    if indexes.len() > 3 {
        return Err(format!("too many slice indexes: {}", indexes.len()));
    }
    let (len, cap) = match item {
        Value::String(s) => {
            if indexes.len() == 3 {
                return Err("cannot 3-index slice a string".into());
            }
            (s.len(), s.len())
        }
        Value::List(l) => (l.len(), l.len()),
        v => return Err(format!("can't slice item of type {}", v.type_name())),
    };
    let mut idx = [0, len, 0];
    for (i, index) in indexes.iter().enumerate() {
        idx[i] = index_arg(index, cap)?;
    }
    if idx[0] > idx[1] {
        return Err(format!("invalid slice index: {} > {}", idx[0], idx[1]));
    }
    if indexes.len() == 3 && idx[1] > idx[2] {
        return Err(format!("invalid slice index: {} > {}", idx[1], idx[2]));
    }
    Ok(match item {
        Value::String(s) => {
            Value::str(String::from_utf8_lossy(&s.as_bytes()[idx[0]..idx[1]]).into_owned())
        }
        Value::List(l) => Value::List(l.slice(idx[0], idx[1])),
        _ => Value::Missing,
    })
}

fn length(item: &Value) -> FuncResult {
    if let Value::Object(o) = item
        && let Some(v) = o.as_value()
    {
        return length(&v);
    }
    match item {
        Value::Nil => Err("len of nil pointer".into()),
        Value::Missing => Err("reflect: call of reflect.Value.Type on zero Value".into()),
        Value::String(s) => Ok(Value::Int(s.len() as i64)),
        Value::List(l) => Ok(Value::Int(l.len() as i64)),
        Value::Map(m) => Ok(Value::Int(m.len() as i64)),
        v => Err(format!("len of type {}", v.type_name())),
    }
}

fn call(args: &[Value]) -> FuncResult {
    let name = args[0].as_str().unwrap_or("");
    match args.get(1).map(ind) {
        None | Some(Value::Missing) => Err("call of nil".into()),
        Some(v) => Err(format!("non-function {name} of type {}", v.type_name())),
    }
}

/// Go's `evalArgs` for `html`, `js` and `urlquery`.
fn eval_args(args: &[Value]) -> String {
    if let [Value::String(s)] = args {
        return s.to_string();
    }
    let args: Vec<Value> = args
        .iter()
        .map(|a| {
            if a.is_nil() {
                Value::str("<no value>")
            } else {
                a.clone()
            }
        })
        .collect();
    sprint(&args)
}

/// Go's `template.HTMLEscapeString`.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\0' => out.push('\u{FFFD}'),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Go's `template.JSEscapeString`.
pub fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u00{:02X}", c as u32)),
            c if c.is_ascii() => out.push(c),
            c if crate::fmt::is_print(c) => out.push(c),
            c => out.push_str(&format!("\\u{:04X}", c as u32)),
        }
    }
    out
}

/// Go's `url.QueryEscape`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
