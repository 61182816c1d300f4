//! Sprig's dict functions. Maps are shared as in Go: `set` changes the map every holder sees.

use super::convert::strval;
use crate::func::{Func, FuncMap, FuncResult, Param};
use crate::value::{Dict, Value};

use Param::{Any, Map, String as Str};

fn dict_of(v: &Value) -> Option<&Dict> {
    match v {
        Value::Map(m) => Some(m),
        _ => None,
    }
}

fn key(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// mergo's `isEmptyValue` (dereferencing interfaces).
fn is_empty_value(v: &Value) -> bool {
    super::defaults::empty(v)
}

/// mergo's `Merge` (and `MergeWithOverwrite`) of `src` into `dst`, in place.
fn merge_into(dst: &Dict, src: &Dict, overwrite: bool) {
    let entries: Vec<(String, Value)> = src
        .read()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (k, sv) in entries {
        let dv = dst.get(&k);
        if matches!(sv, Value::Nil) {
            if overwrite {
                dst.insert(k, Value::Nil);
            }
            continue;
        }
        if let (Value::Map(sm), Some(Value::Map(dm))) = (&sv, &dv)
            && !sm.same(dm)
        {
            merge_into(dm, sm, overwrite);
        }
        if let Some(d) = &dv
            && !is_empty_value(d)
        {
            if matches!(sv, Value::List(_)) && !overwrite {
                continue;
            }
            if matches!(sv, Value::Map(_)) && matches!(d, Value::Map(_)) {
                continue;
            }
        }
        if overwrite || dv.is_none() || dv.as_ref().is_some_and(is_empty_value) {
            dst.insert(k, sv);
        }
    }
}

fn merge(a: &[Value], overwrite: bool) -> FuncResult {
    let dst = match &a[0] {
        Value::Map(m) => m.clone(),
        _ => Dict::new(),
    };
    for src in &a[1..] {
        if let Value::Map(s) = src {
            merge_into(&dst, s, overwrite);
        }
    }
    Ok(Value::Map(dst))
}

fn dig(a: &[Value]) -> FuncResult {
    if a.len() < 3 {
        return Err("dig needs at least three arguments".into());
    }
    let assert = |v: &Value, want: &str| -> String {
        let got = if v.is_nil() {
            "nil".to_string()
        } else {
            v.type_name()
        };
        format!("interface conversion: interface {{}} is {got}, not {want}")
    };
    let last = &a[a.len() - 1];
    let Some(mut dict) = dict_of(last).cloned() else {
        return Err(assert(last, "map[string]interface {}"));
    };
    let default = a[a.len() - 2].clone();
    let keys = &a[..a.len() - 2];
    let mut names = Vec::with_capacity(keys.len());
    for k in keys {
        match k {
            Value::String(s) => names.push(s.to_string()),
            other => return Err(assert(other, "string")),
        }
    }
    for (i, k) in names.iter().enumerate() {
        let Some(step) = dict.get(k) else {
            return Ok(default);
        };
        if i + 1 == names.len() {
            return Ok(step);
        }
        match step {
            Value::Map(m) => dict = m,
            other => return Err(assert(&other, "map[string]interface {}")),
        }
    }
    Ok(default)
}

pub(super) fn register(m: &mut FuncMap) {
    let mut add = |names: &[&str], f: Func| {
        for n in names {
            m.insert((*n).to_string(), f.clone());
        }
    };
    add(
        &["dict"],
        Func::variadic(&[], Any, |a| {
            let d = Dict::new();
            for pair in a.chunks(2) {
                let v = pair.get(1).cloned().unwrap_or_else(|| Value::str(""));
                d.insert(strval(&pair[0]), v);
            }
            Ok(Value::Map(d))
        }),
    );
    add(
        &["get"],
        Func::new(&[Map, Str], |a| {
            Ok(dict_of(&a[0])
                .and_then(|d| d.get(key(&a[1])))
                .unwrap_or_else(|| Value::str("")))
        }),
    );
    add(
        &["set"],
        Func::new(&[Map, Str, Any], |a| match dict_of(&a[0]) {
            Some(d) => {
                d.insert(key(&a[1]), a[2].clone());
                Ok(a[0].clone())
            }
            None => Err("assignment to entry in nil map".into()),
        }),
    );
    add(
        &["unset"],
        Func::new(&[Map, Str], |a| match dict_of(&a[0]) {
            Some(d) => {
                d.write().remove(key(&a[1]));
                Ok(a[0].clone())
            }
            None => Ok(Value::Map(Dict::new())),
        }),
    );
    add(
        &["hasKey"],
        Func::new(&[Map, Str], |a| {
            Ok(Value::Bool(
                dict_of(&a[0]).is_some_and(|d| d.read().contains_key(key(&a[1]))),
            ))
        }),
    );
    add(
        &["pluck"],
        Func::variadic(&[Str], Map, |a| {
            Ok(Value::list(
                a[1..]
                    .iter()
                    .filter_map(|d| dict_of(d).and_then(|d| d.get(key(&a[0]))))
                    .collect(),
            ))
        }),
    );
    add(
        &["keys"],
        Func::variadic(&[], Map, |a| {
            let mut out: Vec<String> = Vec::new();
            for d in a.iter().filter_map(dict_of) {
                out.extend(d.read().keys().cloned());
            }
            Ok(Value::strings(out))
        }),
    );
    add(
        &["pick"],
        Func::variadic(&[Map], Str, |a| {
            let res = Dict::new();
            if let Some(d) = dict_of(&a[0]) {
                for k in &a[1..] {
                    if let Some(v) = d.get(key(k)) {
                        res.insert(key(k), v);
                    }
                }
            }
            Ok(Value::Map(res))
        }),
    );
    add(
        &["omit"],
        Func::variadic(&[Map], Str, |a| {
            let res = Dict::new();
            if let Some(d) = dict_of(&a[0]) {
                for (k, v) in d.read().iter() {
                    if !a[1..].iter().any(|o| key(o) == k) {
                        res.insert(k.clone(), v.clone());
                    }
                }
            }
            Ok(Value::Map(res))
        }),
    );
    add(
        &["merge", "mustMerge"],
        Func::variadic(&[Map], Map, |a| merge(a, false)),
    );
    add(
        &["mergeOverwrite", "mustMergeOverwrite"],
        Func::variadic(&[Map], Map, |a| merge(a, true)),
    );
    add(
        &["values"],
        Func::new(&[Map], |a| {
            Ok(Value::list(
                dict_of(&a[0])
                    .map(|d| d.read().values().cloned().collect())
                    .unwrap_or_default(),
            ))
        }),
    );
    add(&["dig"], Func::variadic(&[], Any, dig));
}
