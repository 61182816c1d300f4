//! Sprig's defaults and flow helpers: `default empty coalesce all any ternary deepCopy fail`.

use crate::func::{Func, FuncMap, Param};
use crate::value::Value;

use Param::{Any, Bool, String as Str};

/// Sprig's `empty`: nil, zero numbers, false, and empty strings, lists and maps.
pub fn empty(v: &Value) -> bool {
    match v {
        Value::Missing | Value::Nil => true,
        Value::Bool(b) => !b,
        Value::Int(i) | Value::Int64(i) => *i == 0,
        Value::Uint64(u) => *u == 0,
        Value::Byte(b) => *b == 0,
        Value::Float(f) => *f == 0.0,
        Value::String(s) => s.is_empty(),
        Value::List(l) => l.is_empty(),
        Value::Map(m) => m.is_empty(),
        Value::Object(_) => false,
    }
}

pub(super) fn register(m: &mut FuncMap) {
    let mut add = |name: &str, f: Func| {
        m.insert(name.to_string(), f);
    };
    add(
        "default",
        Func::variadic(&[Any], Any, |a| {
            Ok(match a.get(1) {
                Some(g) if !empty(g) => g.clone(),
                _ => a[0].clone(),
            })
        }),
    );
    add(
        "empty",
        Func::new(&[Any], |a| Ok(Value::Bool(empty(&a[0])))),
    );
    add(
        "coalesce",
        Func::variadic(&[], Any, |a| {
            Ok(a.iter().find(|v| !empty(v)).cloned().unwrap_or(Value::Nil))
        }),
    );
    add(
        "all",
        Func::variadic(&[], Any, |a| Ok(Value::Bool(a.iter().all(|v| !empty(v))))),
    );
    add(
        "any",
        Func::variadic(&[], Any, |a| Ok(Value::Bool(a.iter().any(|v| !empty(v))))),
    );
    add(
        "ternary",
        Func::new(&[Any, Any, Bool], |a| {
            Ok(if matches!(a[2], Value::Bool(true)) {
                a[0].clone()
            } else {
                a[1].clone()
            })
        }),
    );
    let copy = |a: &[Value]| {
        if a[0].is_nil() {
            // copystructure asks reflect for the type of nothing.
            return Err("reflect: call of reflect.Value.Type on zero Value".to_string());
        }
        Ok(a[0].deep_copy())
    };
    add("deepCopy", Func::new(&[Any], copy));
    add("mustDeepCopy", Func::new(&[Any], copy));
    add(
        "fail",
        Func::new(&[Str], |a| Err(a[0].as_str().unwrap_or("").to_string())),
    );
}
