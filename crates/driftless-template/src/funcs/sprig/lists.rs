//! Sprig's list functions. The `mustX` forms return the error that `X` panics with, so both
//! report the same message.

use super::NIL_DEREF;
use super::convert::{deep_equal, kind, list_items, to_int64};
use super::defaults::empty;
use crate::func::{Func, FuncMap, FuncResult, Param};
use crate::value::Value;

use Param::{Any, Int};

/// The elements of a list argument, or Sprig's error naming the operation.
fn items(v: &Value, what: &str) -> Result<crate::value::List, String> {
    if v.is_nil() {
        return Err(NIL_DEREF.into());
    }
    list_items(v).ok_or_else(|| format!("Cannot {what} type {}", kind(v)))
}

fn push(a: &[Value]) -> FuncResult {
    let l = items(&a[0], "push on")?;
    let mut v = l.to_vec();
    v.push(a[1].clone());
    Ok(Value::list(v))
}

fn prepend(a: &[Value]) -> FuncResult {
    let l = items(&a[0], "prepend on")?;
    let mut v = Vec::with_capacity(l.len() + 1);
    v.push(a[1].clone());
    v.extend(l.iter().cloned());
    Ok(Value::list(v))
}

fn first(a: &[Value]) -> FuncResult {
    Ok(items(&a[0], "find first on")?
        .first()
        .cloned()
        .unwrap_or(Value::Nil))
}

fn last(a: &[Value]) -> FuncResult {
    Ok(items(&a[0], "find last on")?
        .last()
        .cloned()
        .unwrap_or(Value::Nil))
}

fn rest(a: &[Value]) -> FuncResult {
    let l = items(&a[0], "find rest on")?;
    Ok(Value::list(l.iter().skip(1).cloned().collect()))
}

fn initial(a: &[Value]) -> FuncResult {
    let l = items(&a[0], "find initial on")?;
    let n = l.len().saturating_sub(1);
    Ok(Value::list(l[..n].to_vec()))
}

fn reverse(a: &[Value]) -> FuncResult {
    let l = items(&a[0], "find reverse on")?;
    Ok(Value::list(l.iter().rev().cloned().collect()))
}

fn compact(a: &[Value]) -> FuncResult {
    let l = items(&a[0], "compact on")?;
    Ok(Value::list(
        l.iter().filter(|v| !empty(v)).cloned().collect(),
    ))
}

fn uniq(a: &[Value]) -> FuncResult {
    let l = items(&a[0], "find uniq on")?;
    let mut out: Vec<Value> = Vec::new();
    for v in l.iter() {
        if !out.iter().any(|o| deep_equal(v, o)) {
            out.push(v.clone());
        }
    }
    Ok(Value::list(out))
}

fn without(a: &[Value]) -> FuncResult {
    let l = items(&a[0], "find without on")?;
    let omit = &a[1..];
    Ok(Value::list(
        l.iter()
            .filter(|v| !omit.iter().any(|o| deep_equal(v, o)))
            .cloned()
            .collect(),
    ))
}

fn has(a: &[Value]) -> FuncResult {
    if a[1].is_nil() {
        return Ok(Value::Bool(false));
    }
    let l = items(&a[1], "find has on")?;
    Ok(Value::Bool(l.iter().any(|v| deep_equal(&a[0], v))))
}

fn slice(a: &[Value]) -> FuncResult {
    if a[0].is_nil() {
        return Err(NIL_DEREF.into());
    }
    let Some(l) = list_items(&a[0]) else {
        return Err(format!(
            "list should be type of slice or array but {}",
            kind(&a[0])
        ));
    };
    if l.is_empty() {
        return Ok(Value::Nil);
    }
    let start = a.get(1).map_or(0, to_int64);
    let end = if a.len() < 3 {
        l.len() as i64
    } else {
        to_int64(&a[2])
    };
    if start < 0 || end < start || end > l.len() as i64 {
        return Err("reflect.Value.Slice: slice index out of bounds".into());
    }
    Ok(Value::List(l.slice(start as usize, end as usize)))
}

fn concat(a: &[Value]) -> FuncResult {
    let mut out = Vec::new();
    for v in a {
        if v.is_nil() {
            return Err(NIL_DEREF.into());
        }
        let Some(l) = list_items(v) else {
            return Err(format!("Cannot concat type {} as list", kind(v)));
        };
        out.extend(l.iter().cloned());
    }
    Ok(Value::list(out))
}

fn chunk(a: &[Value]) -> FuncResult {
    let size = match a[0] {
        Value::Int(i) => i,
        _ => 0,
    };
    let l = items(&a[1], "chunk")?;
    if size <= 0 {
        return Err("runtime error: integer divide by zero".into());
    }
    let out: Vec<Value> = l
        .chunks(size as usize)
        .map(|c| Value::list(c.to_vec()))
        .collect();
    Ok(Value::list(out))
}

/// Sprig's `untilStep`.
pub(crate) fn until_step(start: i64, stop: i64, step: i64) -> Vec<i64> {
    let mut v = Vec::new();
    if stop < start {
        if step >= 0 {
            return v;
        }
        let mut i = start;
        while i > stop {
            v.push(i);
            i += step;
        }
        return v;
    }
    if step <= 0 {
        return v;
    }
    let mut i = start;
    while i < stop {
        v.push(i);
        i += step;
    }
    v
}

fn ints(v: Vec<i64>) -> Value {
    Value::ints(v)
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i,
        _ => 0,
    }
}

fn seq(a: &[Value]) -> FuncResult {
    let p: Vec<i64> = a.iter().map(int).collect();
    let list = match p.as_slice() {
        [end] => {
            let inc = if *end < 1 { -1 } else { 1 };
            until_step(1, end + inc, inc)
        }
        [start, end] => {
            let step = if end < start { -1 } else { 1 };
            until_step(*start, end + step, step)
        }
        [start, step, end] => {
            let mut inc = 1;
            if end < start {
                inc = -1;
                if *step > 0 {
                    return Ok(Value::str(""));
                }
            }
            until_step(*start, end + inc, *step)
        }
        _ => return Ok(Value::str("")),
    };
    let s: Vec<String> = list.iter().map(i64::to_string).collect();
    Ok(Value::str(s.join(" ")))
}

pub(super) fn register(m: &mut FuncMap) {
    let mut add = |names: &[&str], f: Func| {
        for n in names {
            m.insert((*n).to_string(), f.clone());
        }
    };
    add(
        &["list", "tuple"],
        Func::variadic(&[], Any, |a| Ok(Value::list(a.to_vec()))),
    );
    add(
        &["append", "push", "mustAppend", "mustPush"],
        Func::new(&[Any, Any], push),
    );
    add(&["prepend", "mustPrepend"], Func::new(&[Any, Any], prepend));
    add(&["first", "mustFirst"], Func::new(&[Any], first));
    add(&["last", "mustLast"], Func::new(&[Any], last));
    add(&["rest", "mustRest"], Func::new(&[Any], rest));
    add(&["initial", "mustInitial"], Func::new(&[Any], initial));
    add(&["reverse", "mustReverse"], Func::new(&[Any], reverse));
    add(&["compact", "mustCompact"], Func::new(&[Any], compact));
    add(&["uniq", "mustUniq"], Func::new(&[Any], uniq));
    add(
        &["without", "mustWithout"],
        Func::variadic(&[Any], Any, without),
    );
    add(&["has", "mustHas"], Func::new(&[Any, Any], has));
    add(&["slice", "mustSlice"], Func::variadic(&[Any], Any, slice));
    add(&["concat"], Func::variadic(&[], Any, concat));
    add(&["chunk", "mustChunk"], Func::new(&[Int, Any], chunk));
    add(
        &["until"],
        Func::new(&[Int], |a| {
            let n = int(&a[0]);
            Ok(ints(until_step(0, n, if n < 0 { -1 } else { 1 })))
        }),
    );
    add(
        &["untilStep"],
        Func::new(&[Int, Int, Int], |a| {
            Ok(ints(until_step(int(&a[0]), int(&a[1]), int(&a[2]))))
        }),
    );
    add(&["seq"], Func::variadic(&[], Int, seq));
}
