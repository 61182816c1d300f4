//! `toToml`: a map encoded as TOML in the layout of Go's `BurntSushi/toml` encoder (keys in
//! order, plain keys before tables, a blank line before each top-level table, keys and nested
//! tables indented by two spaces per level; numbers from YAML are floats, `8080.0`). Arrays of
//! tables are not written (an error).

use driftless_template::Value;

/// The TOML text of `v`, or the encoder's error.
pub(crate) fn to_toml(v: &Value) -> Result<String, String> {
    let Value::Map(m) = v else {
        // A scalar is written as its TOML value.
        return Ok(scalar(v)?.unwrap_or_default());
    };
    let mut out = String::new();
    table(&Value::Map(m.clone()), &mut Vec::new(), &mut out)?;
    Ok(out)
}

fn key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_owned()
    } else {
        quote(k)
    }
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn scalar(v: &Value) -> Result<Option<String>, String> {
    Ok(Some(match v {
        Value::Missing | Value::Nil => return Ok(None),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) | Value::Int64(i) => i.to_string(),
        Value::Uint64(u) => u.to_string(),
        Value::Byte(b) => b.to_string(),
        Value::Float(f) => {
            if f.is_nan() {
                "nan".into()
            } else if f.is_infinite() {
                if *f > 0.0 {
                    "inf".into()
                } else {
                    "-inf".into()
                }
            } else if f.fract() == 0.0 && f.abs() < 1e16 {
                format!("{f:.1}")
            } else {
                format!("{f}")
            }
        }
        Value::String(s) => quote(s),
        Value::List(l) => {
            let mut items = Vec::new();
            for x in l.iter() {
                if let Some(s) = scalar(x)? {
                    items.push(s);
                }
            }
            format!("[{}]", items.join(", "))
        }
        Value::Map(_) | Value::Object(_) => return Err("toml: nested map in array".into()),
    }))
}

fn table(v: &Value, path: &mut Vec<String>, out: &mut String) -> Result<(), String> {
    let Value::Map(m) = v else {
        return Ok(());
    };
    let entries: Vec<(String, Value)> = m
        .read()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    // A key is indented by its table's depth, a table's header by one less.
    let indent = "  ".repeat(path.len());
    for (k, v) in &entries {
        if matches!(v, Value::Map(_)) {
            continue;
        }
        if let Some(s) = scalar(v)? {
            out.push_str(&format!("{indent}{} = {s}\n", key(k)));
        }
    }
    for (k, v) in &entries {
        if !matches!(v, Value::Map(_)) {
            continue;
        }
        path.push(key(k));
        let ind = "  ".repeat(path.len() - 1);
        // A blank line before a top-level table, unless nothing is written yet.
        if path.len() == 1 && !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&format!("{ind}[{}]\n", path.join(".")));
        table(v, path, out)?;
        path.pop();
    }
    Ok(())
}
