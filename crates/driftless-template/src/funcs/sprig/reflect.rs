//! Sprig's type tests (`typeOf typeIs typeIsLike kindOf kindIs deepEqual`) and Go's `path`
//! functions (`base dir clean ext isAbs`, and the `os` forms, the same on Linux).

use super::convert::deep_equal;
use crate::func::{Func, FuncMap, Param};
use crate::value::Value;

use Param::{Any, String as Str};

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// `%T` of an `interface{}` argument.
fn type_of(v: &Value) -> String {
    v.type_name()
}

/// Go's `path.Clean`.
pub(crate) fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            x => out.push(x),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

fn base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/".into();
    }
    t.rsplit('/').next().unwrap_or(t).to_string()
}

fn dir(p: &str) -> String {
    let i = p.rfind('/').map_or(0, |i| i + 1);
    clean(&p[..i])
}

fn ext(p: &str) -> String {
    for (i, c) in p.char_indices().rev() {
        if c == '/' {
            break;
        }
        if c == '.' {
            return p[i..].to_string();
        }
    }
    String::new()
}

pub(super) fn register(m: &mut FuncMap) {
    let mut add = |names: &[&str], f: Func| {
        for n in names {
            m.insert((*n).to_string(), f.clone());
        }
    };
    add(
        &["typeOf"],
        Func::new(&[Any], |a| Ok(Value::str(type_of(&a[0])))),
    );
    add(
        &["typeIs"],
        Func::new(&[Str, Any], |a| Ok(Value::Bool(s(&a[0]) == type_of(&a[1])))),
    );
    add(
        &["typeIsLike"],
        Func::new(&[Str, Any], |a| {
            let t = type_of(&a[1]);
            Ok(Value::Bool(s(&a[0]) == t || format!("*{}", s(&a[0])) == t))
        }),
    );
    add(
        &["kindOf"],
        Func::new(&[Any], |a| Ok(Value::str(a[0].kind_name()))),
    );
    add(
        &["kindIs"],
        Func::new(&[Str, Any], |a| {
            Ok(Value::Bool(s(&a[0]) == a[1].kind_name()))
        }),
    );
    add(
        &["deepEqual"],
        Func::new(&[Any, Any], |a| Ok(Value::Bool(deep_equal(&a[0], &a[1])))),
    );
    add(
        &["base", "osBase"],
        Func::new(&[Str], |a| Ok(Value::str(base(s(&a[0]))))),
    );
    add(
        &["dir", "osDir"],
        Func::new(&[Str], |a| Ok(Value::str(dir(s(&a[0]))))),
    );
    add(
        &["clean", "osClean"],
        Func::new(&[Str], |a| Ok(Value::str(clean(s(&a[0]))))),
    );
    add(
        &["ext", "osExt"],
        Func::new(&[Str], |a| Ok(Value::str(ext(s(&a[0]))))),
    );
    add(
        &["isAbs", "osIsAbs"],
        Func::new(&[Str], |a| Ok(Value::Bool(s(&a[0]).starts_with('/')))),
    );
    add(&["hello"], Func::new(&[], |_| Ok(Value::str("Hello!"))));
}
