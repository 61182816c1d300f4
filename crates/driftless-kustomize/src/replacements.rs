//! `replacements`: copy a field of one resource into fields of others.

use crate::error::Error;
use crate::kustomization::Selector;
use crate::parse::parse_documents;
use crate::patch::select_with;
use crate::resource::Resource;
use crate::resource::scalar_text;
use crate::target::{Builder, Target};
use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Replacement {
    path: Option<String>,
    source: Option<Source>,
    targets: Vec<TargetSpec>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Source {
    #[serde(flatten)]
    select: Selector,
    field_path: Option<String>,
    options: Option<Opts>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct TargetSpec {
    select: Option<Selector>,
    reject: Vec<Selector>,
    field_paths: Vec<String>,
    options: Option<Opts>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Opts {
    delimiter: Option<String>,
    index: i64,
    create: bool,
}

/// Runs the replacements of one kustomization.
pub(crate) fn run(b: &Builder<'_>, t: &Target, res: &mut [Resource]) -> Result<(), Error> {
    apply(b, t, res, &t.k.replacements).map_err(|e| e.in_field(&t.file, "replacements"))
}

/// Applies replacement entries (inline, or `path:` files holding one or a list).
pub(crate) fn apply(
    b: &Builder<'_>,
    t: &Target,
    res: &mut [Resource],
    reps: &[Value],
) -> Result<(), Error> {
    for rep in reps {
        let r: Replacement = serde_json::from_value(rep.clone())
            .map_err(|e| Error::msg(format!("invalid replacement: {e}")))?;
        if let Some(path) = &r.path {
            let text = b.read_in_root(t, path)?;
            let mut list = Vec::new();
            for doc in parse_documents(&text, path)? {
                match doc {
                    Value::Array(items) => list.extend(items),
                    other => list.push(other),
                }
            }
            apply(b, t, res, &list)?;
            continue;
        }
        one(res, &r)?;
    }
    Ok(())
}

fn one(res: &mut [Resource], r: &Replacement) -> Result<(), Error> {
    let Some(src) = &r.source else {
        return Err(Error::msg("replacement has no source"));
    };
    let found = select_with(res, &src.select, false)?;
    let i = match found.as_slice() {
        [i] => *i,
        [] => {
            return Err(Error::msg(format!(
                "nothing selected by {}",
                describe(&src.select)
            )));
        }
        _ => {
            return Err(Error::msg(format!(
                "multiple matches for selector {}",
                describe(&src.select)
            )));
        }
    };
    let path = src
        .field_path
        .clone()
        .unwrap_or_else(|| "metadata.name".into());
    let obj = Value::Object(res.get(i).map(|r| r.obj.clone()).unwrap_or_default());
    let mut value = lookup(&obj, &parse_path(&path)).ok_or_else(|| {
        Error::msg(format!(
            "fieldPath `{path}` is missing for replacement source {}",
            describe(&src.select)
        ))
    })?;
    if let Some(o) = &src.options
        && let Some(d) = o.delimiter.as_deref().filter(|d| !d.is_empty())
    {
        let text = scalar_text(&value);
        let parts: Vec<&str> = text.split(d).collect();
        let part = usize::try_from(o.index)
            .ok()
            .and_then(|i| parts.get(i))
            .ok_or_else(|| {
                Error::msg(format!(
                    "options.index {} is out of bounds for value {text}",
                    o.index
                ))
            })?;
        value = Value::String((*part).to_string());
    }
    for tgt in &r.targets {
        let Some(sel) = &tgt.select else {
            return Err(Error::msg("target must specify resources to select"));
        };
        let mut idx = select_with(res, sel, false)?;
        for rej in &tgt.reject {
            let rejected = select_with(res, rej, false)?;
            idx.retain(|i| !rejected.contains(i));
        }
        for i in idx {
            let Some(r) = res.get_mut(i) else { continue };
            let mut obj = Value::Object(std::mem::take(&mut r.obj));
            let mut result = Ok(());
            for fp in &tgt.field_paths {
                let opts = tgt.options.clone().unwrap_or_default();
                // kustomize refuses a target field it can neither find nor create.
                let what = if opts.create {
                    "unable to find or create field"
                } else {
                    "unable to find field"
                };
                match set(&mut obj, &parse_path(fp), &value, &opts) {
                    Ok(0) => {
                        result = Err(Error::msg(format!("{what} {fp:?} in replacement target")));
                    }
                    Ok(_) => {}
                    Err(e) => {
                        result = Err(Error::msg(format!(
                            "{what} {fp:?} in replacement target: {e}"
                        )));
                    }
                }
            }
            if let Value::Object(m) = obj {
                r.obj = m;
            }
            result?;
        }
    }
    Ok(())
}

fn describe(s: &Selector) -> String {
    let mut parts = Vec::new();
    for (k, v) in [
        ("group", &s.group),
        ("version", &s.version),
        ("kind", &s.kind),
        ("name", &s.name),
        ("namespace", &s.namespace),
    ] {
        if let Some(v) = v {
            parts.push(format!("{k}: {v}"));
        }
    }
    format!("{{{}}}", parts.join(", "))
}

/// Splits `a.b.[name=x].c` (also `b[name=x]`, `[a.b]` for keys with dots) into segments.
fn parse_path(p: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0;
    for c in p.chars() {
        match c {
            '[' => {
                if depth == 0 && !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                depth += 1;
                cur.push(c);
            }
            ']' => {
                depth -= 1;
                cur.push(c);
            }
            '.' if depth == 0 => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

enum Seg<'a> {
    Key(&'a str),
    Match(&'a str, &'a str),
    Index(usize),
    All,
}

fn seg(s: &str) -> Seg<'_> {
    if s == "*" {
        return Seg::All;
    }
    if let Some(inner) = s.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
        return match inner.split_once('=') {
            Some((k, v)) => Seg::Match(k, v),
            None => Seg::Key(inner),
        };
    }
    if let Ok(i) = s.parse::<usize>() {
        return Seg::Index(i);
    }
    Seg::Key(s)
}

fn lookup(v: &Value, path: &[String]) -> Option<Value> {
    let Some((first, rest)) = path.split_first() else {
        return Some(v.clone());
    };
    match (seg(first), v) {
        (Seg::Key(k), Value::Object(m)) => lookup(m.get(k)?, rest),
        (Seg::Index(i), Value::Array(a)) => lookup(a.get(i)?, rest),
        (Seg::Index(i), Value::Object(m)) => lookup(m.get(&i.to_string())?, rest),
        (Seg::Match(k, val), Value::Array(a)) => lookup(
            a.iter()
                .find(|e| e.get(k).map(scalar_text).as_deref() == Some(val))?,
            rest,
        ),
        _ => None,
    }
}

/// Sets the value at every field `path` reaches in `v` and returns how many it reached. With
/// `create`, missing fields are created as kustomize creates them: a list where the next segment
/// is an index or a `[key=value]` match, a map otherwise; index `len` appends, and a missing
/// `[key=value]` element is appended with that key.
fn set(v: &mut Value, path: &[String], value: &Value, o: &Opts) -> Result<usize, String> {
    let Some((first, rest)) = path.split_first() else {
        *v = combine(v, value, o);
        return Ok(1);
    };
    let fresh = || match rest.first().map(|s| seg(s)) {
        None => Value::Null,
        Some(Seg::Index(_) | Seg::Match(..)) => Value::Array(Vec::new()),
        Some(_) => Value::Object(Map::new()),
    };
    if v.is_null() && o.create && matches!(seg(first), Seg::Key(_)) {
        *v = Value::Object(Map::new());
    }
    match (seg(first), v) {
        (Seg::Key(k), Value::Object(m)) => {
            if !m.contains_key(k) {
                if !o.create {
                    return Ok(0);
                }
                m.insert(k.to_string(), fresh());
            }
            match m.get_mut(k) {
                Some(child) => set(child, rest, value, o),
                None => Ok(0),
            }
        }
        (Seg::Index(i), Value::Array(a)) => {
            if i == a.len() && o.create {
                a.push(fresh());
            }
            let len = a.len();
            match a.get_mut(i) {
                Some(child) => set(child, rest, value, o),
                None => Err(format!("index {i} specified but only {len} elements found")),
            }
        }
        (Seg::Match(k, val), Value::Array(a)) => {
            let matches = |e: &Value| e.get(k).map(scalar_text).as_deref() == Some(val);
            if o.create && !a.iter().any(matches) {
                let mut m = Map::new();
                m.insert(k.to_string(), Value::String(val.to_string()));
                a.push(Value::Object(m));
            }
            let mut n = 0;
            for e in a.iter_mut().filter(|e| matches(e)) {
                n += set(e, rest, value, o)?;
            }
            Ok(n)
        }
        (Seg::All, Value::Array(a)) => {
            let mut n = 0;
            for e in a.iter_mut() {
                n += set(e, rest, value, o)?;
            }
            Ok(n)
        }
        _ => Ok(0),
    }
}

fn combine(old: &Value, value: &Value, o: &Opts) -> Value {
    let Some(d) = o.delimiter.as_deref().filter(|d| !d.is_empty()) else {
        return value.clone();
    };
    let text = scalar_text(old);
    let mut parts: Vec<String> = text.split(d).map(str::to_string).collect();
    let new = scalar_text(value);
    if o.index < 0 {
        parts.insert(0, new);
    } else if let Some(p) = usize::try_from(o.index).ok().and_then(|i| parts.get_mut(i)) {
        *p = new;
    } else {
        parts.push(new);
    }
    Value::String(parts.join(d))
}
