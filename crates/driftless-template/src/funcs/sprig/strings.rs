//! Sprig's string functions.

use super::case;
use super::convert::{list_items, strval};
use crate::fmt::{quote, sprintf};
use crate::func::{Func, FuncMap, FuncResult, Param};
use crate::value::Value;

use Param::{Any, Int, String as Str};

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i,
        _ => 0,
    }
}

fn ok(v: impl Into<std::sync::Arc<str>>) -> FuncResult {
    Ok(Value::String(v.into()))
}

/// Go's `unicode.ToUpper`/`ToLower` per rune (no multi-rune special casing, unlike Rust's).
fn map_runes(s: &str, f: fn(char) -> char) -> String {
    s.chars().map(f).collect()
}

fn upper(c: char) -> char {
    let mut u = c.to_uppercase();
    match (u.next(), u.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

fn lower(c: char) -> char {
    let mut u = c.to_lowercase();
    match (u.next(), u.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

/// `strings.Title`: upper-cases the first letter of each word.
fn title(s: &str) -> String {
    let mut prev = ' ';
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_separator(prev) {
            out.push(upper(c));
        } else {
            out.push(c);
        }
        prev = c;
    }
    out
}

fn is_separator(r: char) -> bool {
    if r.is_ascii() {
        return !(r.is_ascii_alphanumeric() || r == '_');
    }
    if r.is_alphabetic() || r.is_numeric() {
        return false;
    }
    r.is_whitespace()
}

/// Go's `unicode.IsSpace` on a single byte read as a rune (goutils works byte by byte).
fn byte_is_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ' | 0x85 | 0xA0)
}

/// goutils' `DeleteWhiteSpace`, byte by byte as it is written (bytes above 0x7F come out as
/// the Latin-1 characters of the same number).
fn nospace(s: &str) -> String {
    if !s.bytes().any(byte_is_space) {
        return s.to_string();
    }
    s.bytes()
        .filter(|b| !byte_is_space(*b))
        .map(char::from)
        .collect()
}

/// goutils' `Initials`, byte by byte.
fn initials(s: &str) -> String {
    let mut out = String::new();
    let mut gap = true;
    for b in s.bytes() {
        if byte_is_space(b) {
            gap = true;
        } else if gap {
            out.push(char::from(b));
            gap = false;
        }
    }
    out
}

fn untitle(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut next = true;
    for c in s.chars() {
        if c.is_whitespace() {
            next = true;
            out.push(c);
        } else if next {
            out.push(lower(c));
            next = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn swapcase(s: &str) -> String {
    // goutils title-cases a lower-case letter after a space and upper-cases the others; the
    // two differ only for digraphs (U+01C4...), which Rust's mapping does not single out.
    s.chars()
        .map(|c| {
            if c.is_uppercase() {
                lower(c)
            } else if c.is_lowercase() {
                upper(c)
            } else {
                c
            }
        })
        .collect()
}

/// goutils' `AbbreviateFull`.
fn abbreviate_full(s: &str, mut offset: i64, max: i64) -> Result<String, String> {
    if s.is_empty() {
        return Ok(String::new());
    }
    if max < 4 {
        return Err("stringutils illegal argument: Minimum abbreviation width is 4".into());
    }
    let len = s.len() as i64;
    if len <= max {
        return Ok(s.to_string());
    }
    if offset > len {
        offset = len;
    }
    if len - offset < max - 3 {
        offset = len - (max - 3);
    }
    let b = s.as_bytes();
    let cut = |a: i64, z: i64| {
        String::from_utf8_lossy(&b[a.max(0) as usize..z.clamp(0, len) as usize]).into_owned()
    };
    if offset <= 4 {
        return Ok(cut(0, max - 3) + "...");
    }
    if max < 7 {
        return Err(
            "stringutils illegal argument: Minimum abbreviation width with offset is 7".into(),
        );
    }
    if offset + max - 3 < len {
        let tail = abbreviate_full(&cut(offset, len), 0, max - 3)?;
        return Ok(format!("...{tail}"));
    }
    Ok(format!("...{}", cut(len - (max - 3), len)))
}

/// goutils' `WrapCustom`.
fn wrap_custom(s: &str, wrap: i64, newline: &str, long_words: bool) -> String {
    if s.is_empty() {
        return String::new();
    }
    let newline = if newline.is_empty() { "\n" } else { newline };
    let wrap = wrap.max(1) as usize;
    let b = s.as_bytes();
    let len = b.len();
    let mut offset = 0;
    let mut out: Vec<u8> = Vec::new();
    while len - offset > wrap {
        if b[offset] == b' ' {
            offset += 1;
            continue;
        }
        let end = wrap + offset + 1;
        let space = b[offset..end]
            .iter()
            .rposition(|&c| c == b' ')
            .map(|i| i + offset);
        if let Some(sp) = space {
            out.extend_from_slice(&b[offset..sp]);
            out.extend_from_slice(newline.as_bytes());
            offset = sp + 1;
        } else if long_words {
            let end = wrap + offset;
            out.extend_from_slice(&b[offset..end]);
            out.extend_from_slice(newline.as_bytes());
            offset += wrap;
        } else {
            let end = wrap + offset;
            match b[end..].iter().position(|&c| c == b' ') {
                None => {
                    out.extend_from_slice(&b[offset..]);
                    offset = len;
                }
                Some(i) => {
                    let sp = i + end;
                    out.extend_from_slice(&b[offset..sp]);
                    out.extend_from_slice(newline.as_bytes());
                    offset = sp + 1;
                }
            }
        }
    }
    out.extend_from_slice(&b[offset.min(len)..]);
    String::from_utf8_lossy(&out).into_owned()
}

/// Go's message for a slice expression out of range.
fn bounds(a: i64, b: i64) -> String {
    format!("runtime error: slice bounds out of range [{a}:{b}]")
}

fn substr(start: i64, end: i64, s: &str) -> FuncResult {
    let len = s.len() as i64;
    let b = s.as_bytes();
    let cut = |a: i64, z: i64| -> FuncResult {
        if z > len {
            return Err(format!(
                "runtime error: slice bounds out of range [:{z}] with length {len}"
            ));
        }
        if a > z {
            return Err(bounds(a, z));
        }
        if a < 0 {
            return Err(format!("runtime error: slice bounds out of range [{a}:]"));
        }
        ok(String::from_utf8_lossy(&b[a as usize..z as usize]).into_owned())
    };
    if start < 0 {
        if end < 0 {
            return Err(format!("runtime error: slice bounds out of range [:{end}]"));
        }
        return cut(0, end);
    }
    if end < 0 || end > len {
        if start > len {
            return Err(format!(
                "runtime error: slice bounds out of range [{start}:{len}]"
            ));
        }
        return cut(start, len);
    }
    cut(start, end)
}

fn trunc(c: i64, s: &str) -> String {
    let len = s.len() as i64;
    let b = s.as_bytes();
    if c < 0 && len + c > 0 {
        return String::from_utf8_lossy(&b[(len + c) as usize..]).into_owned();
    }
    if c >= 0 && len > c {
        return String::from_utf8_lossy(&b[..c as usize]).into_owned();
    }
    s.to_string()
}

/// Sprig's `strslice`: a list's non-nil elements as strings, anything else as one string.
pub(crate) fn strslice(v: &Value) -> Vec<String> {
    match list_items(v) {
        Some(items) => items.iter().filter(|i| !i.is_nil()).map(strval).collect(),
        None if v.is_nil() => vec![],
        None => vec![strval(v)],
    }
}

fn split_map(parts: Vec<&str>) -> Value {
    let m = crate::value::Dict::new();
    for (i, p) in parts.into_iter().enumerate() {
        m.insert(format!("_{i}"), Value::str(p));
    }
    Value::Map(m)
}

/// Go's `strings.SplitN`.
fn split_n<'a>(s: &'a str, sep: &str, n: i64) -> Vec<&'a str> {
    if n == 0 {
        return vec![];
    }
    if sep.is_empty() {
        let mut out: Vec<&str> = Vec::new();
        let mut idx: Vec<usize> = s.char_indices().map(|(i, _)| i).collect();
        idx.push(s.len());
        let count = idx.len() - 1;
        let limit = if n < 0 || n as usize > count {
            count
        } else {
            n as usize
        };
        for i in 0..limit {
            let end = if i + 1 == limit { s.len() } else { idx[i + 1] };
            out.push(&s[idx[i]..end]);
        }
        return out;
    }
    if n < 0 {
        return s.split(sep).collect();
    }
    s.splitn(n as usize, sep).collect()
}

/// Sprig's `indent`.
fn indent(n: i64, text: &str) -> Result<String, String> {
    if n < 0 {
        return Err("strings: negative Repeat count".into());
    }
    let pad = " ".repeat(n as usize);
    Ok(format!("{pad}{}", text.replace('\n', &format!("\n{pad}"))))
}

pub(super) fn register(m: &mut FuncMap) {
    let mut add = |name: &str, f: Func| {
        m.insert(name.to_string(), f);
    };
    add("trim", Func::new(&[Str], |a| ok(s(&a[0]).trim())));
    add(
        "trimAll",
        Func::new(&[Str, Str], |a| {
            ok(s(&a[1]).trim_matches(|c| s(&a[0]).contains(c)))
        }),
    );
    add(
        "trimall",
        Func::new(&[Str, Str], |a| {
            ok(s(&a[1]).trim_matches(|c| s(&a[0]).contains(c)))
        }),
    );
    add(
        "trimSuffix",
        Func::new(&[Str, Str], |a| {
            ok(s(&a[1]).strip_suffix(s(&a[0])).unwrap_or(s(&a[1])))
        }),
    );
    add(
        "trimPrefix",
        Func::new(&[Str, Str], |a| {
            ok(s(&a[1]).strip_prefix(s(&a[0])).unwrap_or(s(&a[1])))
        }),
    );
    add(
        "upper",
        Func::new(&[Str], |a| ok(map_runes(s(&a[0]), upper))),
    );
    add(
        "lower",
        Func::new(&[Str], |a| ok(map_runes(s(&a[0]), lower))),
    );
    add("title", Func::new(&[Str], |a| ok(title(s(&a[0])))));
    add("untitle", Func::new(&[Str], |a| ok(untitle(s(&a[0])))));
    add("swapcase", Func::new(&[Str], |a| ok(swapcase(s(&a[0])))));
    add(
        "substr",
        Func::new(&[Int, Int, Str], |a| {
            substr(int(&a[0]), int(&a[1]), s(&a[2]))
        }),
    );
    add(
        "repeat",
        Func::new(&[Int, Str], |a| {
            let n = int(&a[0]);
            if n < 0 {
                return Err("strings: negative Repeat count".into());
            }
            ok(s(&a[1]).repeat(n as usize))
        }),
    );
    add("nospace", Func::new(&[Str], |a| ok(nospace(s(&a[0])))));
    add("initials", Func::new(&[Str], |a| ok(initials(s(&a[0])))));
    add(
        "camelcase",
        Func::new(&[Str], |a| ok(case::pascal(s(&a[0])))),
    );
    add(
        "snakecase",
        Func::new(&[Str], |a| ok(case::lower_case(s(&a[0]), '_'))),
    );
    add(
        "kebabcase",
        Func::new(&[Str], |a| ok(case::lower_case(s(&a[0]), '-'))),
    );
    add(
        "wrap",
        Func::new(&[Int, Str], |a| {
            ok(wrap_custom(s(&a[1]), int(&a[0]), "", false))
        }),
    );
    add(
        "wrapWith",
        Func::new(&[Int, Str, Str], |a| {
            ok(wrap_custom(s(&a[2]), int(&a[0]), s(&a[1]), true))
        }),
    );
    add(
        "contains",
        Func::new(&[Str, Str], |a| {
            Ok(Value::Bool(s(&a[1]).contains(s(&a[0]))))
        }),
    );
    add(
        "hasPrefix",
        Func::new(&[Str, Str], |a| {
            Ok(Value::Bool(s(&a[1]).starts_with(s(&a[0]))))
        }),
    );
    add(
        "hasSuffix",
        Func::new(&[Str, Str], |a| {
            Ok(Value::Bool(s(&a[1]).ends_with(s(&a[0]))))
        }),
    );
    add(
        "quote",
        Func::variadic(&[], Any, |a| {
            let parts: Vec<String> = a
                .iter()
                .filter(|v| !v.is_nil())
                .map(|v| quote(&strval(v)))
                .collect();
            ok(parts.join(" "))
        }),
    );
    add(
        "squote",
        Func::variadic(&[], Any, |a| {
            let parts: Vec<String> = a
                .iter()
                .filter(|v| !v.is_nil())
                .map(|v| sprintf("'%v'", std::slice::from_ref(v)))
                .collect();
            ok(parts.join(" "))
        }),
    );
    add(
        "cat",
        Func::variadic(&[], Any, |a| {
            let v: Vec<Value> = a.iter().filter(|v| !v.is_nil()).cloned().collect();
            let f = "%v ".repeat(v.len());
            ok(sprintf(f.trim(), &v))
        }),
    );
    add(
        "indent",
        Func::new(&[Int, Str], |a| ok(indent(int(&a[0]), s(&a[1]))?)),
    );
    add(
        "nindent",
        Func::new(&[Int, Str], |a| {
            ok(format!("\n{}", indent(int(&a[0]), s(&a[1]))?))
        }),
    );
    add(
        "replace",
        Func::new(&[Str, Str, Str], |a| {
            ok(s(&a[2]).replace(s(&a[0]), s(&a[1])))
        }),
    );
    add(
        "plural",
        Func::new(&[Str, Str, Int], |a| {
            Ok(if int(&a[2]) == 1 {
                a[0].clone()
            } else {
                a[1].clone()
            })
        }),
    );
    add("toString", Func::new(&[Any], |a| ok(strval(&a[0]))));
    add(
        "trunc",
        Func::new(&[Int, Str], |a| ok(trunc(int(&a[0]), s(&a[1])))),
    );
    add(
        "abbrev",
        Func::new(&[Int, Str], |a| {
            let w = int(&a[0]);
            if w < 4 {
                return Ok(a[1].clone());
            }
            ok(abbreviate_full(s(&a[1]), 0, w).unwrap_or_default())
        }),
    );
    add(
        "abbrevboth",
        Func::new(&[Int, Int, Str], |a| {
            let (l, r) = (int(&a[0]), int(&a[1]));
            if r < 4 || l > 0 && r < 7 {
                return Ok(a[2].clone());
            }
            ok(abbreviate_full(s(&a[2]), l, r).unwrap_or_default())
        }),
    );
    add(
        "split",
        Func::new(&[Str, Str], |a| {
            Ok(split_map(split_n(s(&a[1]), s(&a[0]), -1)))
        }),
    );
    add(
        "splitn",
        Func::new(&[Str, Int, Str], |a| {
            Ok(split_map(split_n(s(&a[2]), s(&a[0]), int(&a[1]))))
        }),
    );
    add(
        "splitList",
        Func::new(&[Str, Str], |a| {
            Ok(Value::strings(split_n(s(&a[1]), s(&a[0]), -1)))
        }),
    );
    add(
        "join",
        Func::new(&[Str, Any], |a| ok(strslice(&a[1]).join(s(&a[0])))),
    );
    add(
        "toStrings",
        Func::new(&[Any], |a| Ok(Value::strings(strslice(&a[0])))),
    );
    add(
        "sortAlpha",
        Func::new(&[Any], |a| {
            let mut v = match &a[0] {
                Value::List(_) => strslice(&a[0]),
                other => vec![strval(other)],
            };
            v.sort();
            Ok(Value::strings(v))
        }),
    );
}
