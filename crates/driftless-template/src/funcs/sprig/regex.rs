//! Sprig's regular expressions, Go RE2 syntax (the `regex` crate is RE2-like).

use crate::func::{Func, FuncMap, FuncResult, Param};
use crate::value::Value;

use Param::{Int, String as Str};

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// Go's RE2 syntax where the `regex` crate's differs: in a class, a `-` right after a class
/// escape (`[\\w-.]`) is a literal `-` in Go and a bad range in Rust, so it is escaped.
fn go_syntax(re: &str) -> std::borrow::Cow<'_, str> {
    if !re.contains('-') {
        return re.into();
    }
    let chars: Vec<char> = re.chars().collect();
    let mut out = String::with_capacity(re.len() + 4);
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            let e = chars[i + 1];
            out.push(c);
            out.push(e);
            i += 2;
            if in_class
                && matches!(e, 'w' | 'W' | 'd' | 'D' | 's' | 'S')
                && chars.get(i) == Some(&'-')
                && chars.get(i + 1).is_some_and(|&n| n != ']')
            {
                out.push_str("\\-");
                i += 1;
            }
            continue;
        }
        if !in_class && c == '[' {
            in_class = true;
            out.push(c);
            i += 1;
            // A `]` (after an optional `^`) first in a class is literal.
            if chars.get(i) == Some(&'^') {
                out.push('^');
                i += 1;
            }
            if chars.get(i) == Some(&']') {
                out.push(']');
                i += 1;
            }
            continue;
        }
        if in_class && c == '[' && chars.get(i + 1) == Some(&':') {
            // A POSIX class `[:alpha:]` inside a class.
            if let Some(end) = (i + 2..chars.len().saturating_sub(1))
                .find(|&j| chars[j] == ':' && chars[j + 1] == ']')
            {
                out.extend(&chars[i..end + 2]);
                i = end + 2;
                continue;
            }
        }
        if in_class && c == ']' {
            in_class = false;
        }
        out.push(c);
        i += 1;
    }
    out.into()
}

fn compile(re: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(&go_syntax(re)).map_err(|e| {
        let msg = e.to_string();
        let last = msg
            .lines()
            .last()
            .unwrap_or("")
            .trim()
            .trim_start_matches("error: ")
            .to_string();
        format!(
            "regexp: Compile({}): error parsing regexp: {last}",
            go_backquote(re)
        )
    })
}

fn go_backquote(s: &str) -> String {
    if crate::fmt::quote(s).contains('\\') || s.contains('`') {
        crate::fmt::quote(s)
    } else {
        format!("`{s}`")
    }
}

fn strings(v: Vec<&str>) -> Value {
    Value::strings(v)
}

/// Go's `FindAllString(s, n)`: empty matches right after a match are skipped.
fn find_all(re: &regex::Regex, text: &str, n: i64) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    if n == 0 {
        return out;
    }
    let mut prev_end: Option<usize> = None;
    for m in re.find_iter(text) {
        if m.start() == m.end() && prev_end == Some(m.start()) {
            continue;
        }
        out.push((m.start(), m.end()));
        prev_end = Some(m.end());
        if n > 0 && out.len() as i64 >= n {
            break;
        }
    }
    let _ = text;
    out
}

/// Go's `Regexp.Split`.
fn split<'a>(re: &regex::Regex, text: &'a str, n: i64) -> Vec<&'a str> {
    if n == 0 {
        return vec![];
    }
    if !re.as_str().is_empty() && text.is_empty() {
        return vec![""];
    }
    let matches = find_all(re, text, n);
    let mut out = Vec::new();
    let (mut beg, mut end) = (0, 0);
    for (a, b) in matches {
        if n > 0 && out.len() as i64 == n - 1 {
            break;
        }
        end = a;
        if b != 0 {
            out.push(&text[beg..end]);
        }
        beg = b;
    }
    if end != text.len() {
        out.push(&text[beg..]);
    }
    out
}

/// Go's `regexp.QuoteMeta`.
fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn find(a: &[Value]) -> FuncResult {
    let re = compile(s(&a[0]))?;
    Ok(Value::str(re.find(s(&a[1])).map_or("", |m| m.as_str())))
}

fn find_all_fn(a: &[Value]) -> FuncResult {
    let re = compile(s(&a[0]))?;
    let text = s(&a[1]);
    let n = match a[2] {
        Value::Int(i) => i,
        _ => -1,
    };
    Ok(strings(
        find_all(&re, text, n)
            .into_iter()
            .map(|(x, y)| &text[x..y])
            .collect(),
    ))
}

fn replace_all(a: &[Value]) -> FuncResult {
    let re = compile(s(&a[0]))?;
    Ok(Value::str(re.replace_all(s(&a[1]), s(&a[2])).into_owned()))
}

fn replace_literal(a: &[Value]) -> FuncResult {
    let re = compile(s(&a[0]))?;
    Ok(Value::str(
        re.replace_all(s(&a[1]), regex::NoExpand(s(&a[2])))
            .into_owned(),
    ))
}

fn split_fn(a: &[Value]) -> FuncResult {
    let re = compile(s(&a[0]))?;
    let n = match a[2] {
        Value::Int(i) => i,
        _ => -1,
    };
    Ok(strings(split(&re, s(&a[1]), n)))
}

pub(super) fn register(m: &mut FuncMap) {
    let mut add = |names: &[&str], f: Func| {
        for n in names {
            m.insert((*n).to_string(), f.clone());
        }
    };
    add(
        &["regexMatch"],
        Func::new(&[Str, Str], |a| {
            Ok(Value::Bool(
                compile(s(&a[0])).is_ok_and(|re| re.is_match(s(&a[1]))),
            ))
        }),
    );
    add(
        &["mustRegexMatch"],
        Func::new(&[Str, Str], |a| {
            Ok(Value::Bool(compile(s(&a[0]))?.is_match(s(&a[1]))))
        }),
    );
    add(
        &["regexFind", "mustRegexFind"],
        Func::new(&[Str, Str], find),
    );
    add(
        &["regexFindAll", "mustRegexFindAll"],
        Func::new(&[Str, Str, Int], find_all_fn),
    );
    add(
        &["regexReplaceAll", "mustRegexReplaceAll"],
        Func::new(&[Str, Str, Str], replace_all),
    );
    add(
        &["regexReplaceAllLiteral", "mustRegexReplaceAllLiteral"],
        Func::new(&[Str, Str, Str], replace_literal),
    );
    add(
        &["regexSplit", "mustRegexSplit"],
        Func::new(&[Str, Str, Int], split_fn),
    );
    add(
        &["regexQuoteMeta"],
        Func::new(&[Str], |a| Ok(Value::str(quote_meta(s(&a[0]))))),
    );
}
