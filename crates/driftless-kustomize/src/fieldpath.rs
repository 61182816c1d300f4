//! Field paths (`spec/template/metadata/labels`) and the walk that applies a change at every
//! place a path reaches, stepping into each element of a list on the way.

use serde_json::{Map, Value};

/// Makes `v` an object (replacing anything else) and returns it.
pub fn ensure_object(v: &mut Value) -> &mut Map<String, Value> {
    if !v.is_object() {
        *v = Value::Object(Map::new());
    }
    match v {
        Value::Object(m) => m,
        // Just made an object above.
        _ => unreachable!("value was just made an object"),
    }
}

/// A JSON pointer segment for `key` (`~` and `/` escaped).
pub(crate) fn segment(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Splits a path on `/`, keeping `\/` as a literal slash inside a segment.
pub fn split_path(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'/') => {
                cur.push('/');
                chars.next();
            }
            '/' => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter().filter(|s| !s.is_empty()).collect()
}

/// Calls `f` on the value at `segments` below `v`, for every element of every list on the way.
/// With `create`, missing objects along the way (and the final field, as `null`) are created.
pub fn visit(v: &mut Value, segments: &[String], create: bool, f: &mut dyn FnMut(&mut Value)) {
    let Some((first, rest)) = segments.split_first() else {
        f(v);
        return;
    };
    let key = first.strip_suffix("[]").unwrap_or(first);
    match v {
        Value::Array(items) => {
            for item in items {
                visit(item, segments, create, f);
            }
        }
        Value::Object(m) => {
            if let Some(child) = m.get_mut(key) {
                if child.is_null() && !rest.is_empty() {
                    if create {
                        *child = Value::Object(Map::new());
                    } else {
                        return;
                    }
                }
                visit(child, rest, create, f);
            } else if create && !first.ends_with("[]") {
                let mut child = if rest.is_empty() {
                    Value::Null
                } else {
                    Value::Object(Map::new())
                };
                visit(&mut child, rest, create, f);
                m.insert(key.to_string(), child);
            }
        }
        _ => {}
    }
}

/// Like [`visit`], also giving `f` the JSON pointer (from `v`) of each place it reaches.
pub fn visit_at(
    v: &mut Value,
    segments: &[String],
    create: bool,
    at: &mut String,
    f: &mut dyn FnMut(&str, &mut Value),
) {
    let Some((first, rest)) = segments.split_first() else {
        f(at, v);
        return;
    };
    let key = first.strip_suffix("[]").unwrap_or(first);
    let len = at.len();
    match v {
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                at.push_str(&format!("/{i}"));
                visit_at(item, segments, create, at, f);
                at.truncate(len);
            }
        }
        Value::Object(m) => {
            at.push('/');
            at.push_str(&segment(key));
            if let Some(child) = m.get_mut(key) {
                if child.is_null() && !rest.is_empty() {
                    if create {
                        *child = Value::Object(Map::new());
                    } else {
                        at.truncate(len);
                        return;
                    }
                }
                visit_at(child, rest, create, at, f);
            } else if create && !first.ends_with("[]") {
                let mut child = if rest.is_empty() {
                    Value::Null
                } else {
                    Value::Object(Map::new())
                };
                visit_at(&mut child, rest, create, at, f);
                m.insert(key.to_string(), child);
            }
            at.truncate(len);
        }
        _ => {}
    }
}

/// The value at a `/`- or `.`-free segment list, without stepping into lists.
pub fn get<'a>(v: &'a Value, segments: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for s in segments {
        cur = cur.get(*s)?;
    }
    Some(cur)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn visits_through_lists_and_creates_when_asked() {
        let mut v = json!({"spec": {"containers": [{"image": "a"}, {"image": "b"}]}});
        let mut seen = Vec::new();
        visit(
            &mut v,
            &split_path("spec/containers[]/image"),
            false,
            &mut |x| seen.push(x.clone()),
        );
        assert_eq!(seen, vec![json!("a"), json!("b")]);
        visit(&mut v, &split_path("metadata/labels"), true, &mut |x| {
            *x = json!({"k": "v"})
        });
        assert_eq!(v["metadata"]["labels"]["k"], json!("v"));
        assert_eq!(
            split_path("a/b\\/c"),
            vec!["a".to_string(), "b/c".to_string()]
        );
    }
}
