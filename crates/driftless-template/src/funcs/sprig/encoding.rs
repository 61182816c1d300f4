//! Sprig's encodings and hashes: `b64enc b64dec b32enc b32dec toJson toPrettyJson toRawJson
//! fromJson sha1sum sha256sum sha512sum adler32sum`.

use base64::Engine;
use sha2::Digest;

use crate::func::{Func, FuncMap, Param};
use crate::value::Value;

use Param::{Any, String as Str};

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `hash/adler32`.
fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    (b << 16) | a
}

const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn b32enc(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let n = u64::from_be_bytes([0, 0, 0, buf[0], buf[1], buf[2], buf[3], buf[4]]);
        let chars = match chunk.len() {
            1 => 2,
            2 => 4,
            3 => 5,
            4 => 7,
            _ => 8,
        };
        for i in 0..8 {
            if i < chars {
                out.push(B32[((n >> (35 - 5 * i)) & 31) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `base32.StdEncoding.DecodeString`: newlines dropped first, then Go's quantum decoder
/// with its error positions.
fn b32dec(text: &str) -> Result<Vec<u8>, String> {
    let src: Vec<u8> = text.bytes().filter(|&b| b != b'\n' && b != b'\r').collect();
    let bad = |i: usize| format!("illegal base32 data at input byte {i}");
    let olen = src.len();
    let mut rest: &[u8] = &src;
    let mut out = Vec::new();
    let mut end = false;
    while !rest.is_empty() && !end {
        let mut dbuf = [0u8; 8];
        let mut dlen = 8;
        let mut j = 0;
        while j < 8 {
            if rest.is_empty() {
                return Err(bad(olen - j));
            }
            let c = rest[0];
            rest = &rest[1..];
            if c == b'=' && j >= 2 && rest.len() < 8 {
                if rest.len() + j < 7 {
                    return Err(bad(olen));
                }
                for k in 0..7 - j {
                    if rest.len() > k && rest[k] != b'=' {
                        return Err(bad(olen - rest.len() + k - 1));
                    }
                }
                dlen = j;
                end = true;
                if matches!(dlen, 1 | 3 | 6) {
                    return Err(bad(olen - rest.len() - 1));
                }
                break;
            }
            match B32.iter().position(|&x| x == c) {
                Some(v) => dbuf[j] = v as u8,
                None => return Err(bad(olen - rest.len() - 1)),
            }
            j += 1;
        }
        let n = dbuf.iter().fold(0u64, |n, &d| (n << 5) | u64::from(d));
        let bytes = n.to_be_bytes();
        let len = match dlen {
            2 => 1,
            4 => 2,
            5 => 3,
            7 => 4,
            _ => 5,
        };
        out.extend_from_slice(&bytes[3..3 + len]);
    }
    Ok(out)
}

/// `base64.StdEncoding.DecodeString`: Go's quantum decoder (newlines skipped, trailing bits
/// ignored) with its error positions.
fn b64dec(text: &str) -> Result<Vec<u8>, String> {
    let src = text.as_bytes();
    let bad = |i: usize| format!("illegal base64 data at input byte {i}");
    let mut si = 0;
    let mut out = Vec::new();
    loop {
        let mut dbuf = [0u8; 4];
        let mut dlen = 4;
        let mut j = 0i64;
        let mut finished = false;
        while j < 4 {
            if si == src.len() {
                if j == 0 {
                    return Ok(out);
                }
                return Err(bad(si - j as usize));
            }
            let c = src[si];
            si += 1;
            if let Some(v) = B64.iter().position(|&x| x == c) {
                dbuf[j as usize] = v as u8;
                j += 1;
                continue;
            }
            if c == b'\n' || c == b'\r' {
                continue;
            }
            if c != b'=' {
                return Err(bad(si - 1));
            }
            match j {
                0 | 1 => return Err(bad(si - 1)),
                2 => {
                    while si < src.len() && (src[si] == b'\n' || src[si] == b'\r') {
                        si += 1;
                    }
                    if si == src.len() {
                        return Err(bad(src.len()));
                    }
                    if src[si] != b'=' {
                        return Err(bad(si - 1));
                    }
                    si += 1;
                }
                _ => {}
            }
            while si < src.len() && (src[si] == b'\n' || src[si] == b'\r') {
                si += 1;
            }
            if si < src.len() {
                return Err(bad(si));
            }
            dlen = j as usize;
            finished = true;
            break;
        }
        let n = (u32::from(dbuf[0]) << 18)
            | (u32::from(dbuf[1]) << 12)
            | (u32::from(dbuf[2]) << 6)
            | u32::from(dbuf[3]);
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..dlen]);
        if finished {
            return Ok(out);
        }
    }
}

/// Go's `encoding/json` string encoding.
fn json_string(out: &mut String, s: &str, escape_html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            '<' | '>' | '&' if escape_html => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Go's `encoding/json` float encoding: shortest digits, fixed notation unless the exponent
/// is below -6 or at least 21 (then `1e-07` is written `1e-7`).
fn json_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let r = format!("{f:e}");
        let (mant, exp) = r.split_once('e').unwrap_or((&r, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        return if exp < 0 {
            format!("{mant}e-{}", -exp)
        } else {
            format!("{mant}e+{exp}")
        };
    }
    format!("{f}")
}

fn to_json(
    v: &Value,
    out: &mut String,
    escape_html: bool,
    pretty: bool,
    level: usize,
) -> Result<(), String> {
    // Go's encoder looks for cycles after 1000 levels and names the type it met there; 200
    // levels keep this recursion inside a 2 MiB stack, and no real value is nested that deep.
    if level > 200 {
        return Err(format!(
            "json: unsupported value: encountered a cycle via {}",
            v.type_name()
        ));
    }
    let nl = |out: &mut String, depth: usize| {
        if pretty {
            out.push('\n');
            for _ in 0..depth {
                out.push_str("  ");
            }
        }
    };
    let depth = level;
    match v {
        Value::Missing | Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) | Value::Int64(i) => out.push_str(&i.to_string()),
        Value::Uint64(u) => out.push_str(&u.to_string()),
        Value::Byte(b) => out.push_str(&b.to_string()),
        Value::Float(f) => {
            if !f.is_finite() {
                return Err(format!(
                    "json: unsupported value: {}",
                    crate::fmt::sprint(std::slice::from_ref(v))
                ));
            }
            out.push_str(&json_float(*f));
        }
        Value::String(s) => json_string(out, s, escape_html),
        Value::List(l) => {
            if l.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, item) in l.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                nl(out, depth + 1);
                to_json(item, out, escape_html, pretty, level + 1)?;
            }
            nl(out, depth);
            out.push(']');
        }
        Value::Map(m) => {
            let entries: Vec<(String, Value)> = m
                .read()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if entries.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            out.push('{');
            for (i, (k, val)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                nl(out, depth + 1);
                json_string(out, k, escape_html);
                out.push(':');
                if pretty {
                    out.push(' ');
                }
                to_json(val, out, escape_html, pretty, level + 1)?;
            }
            nl(out, depth);
            out.push('}');
        }
        Value::Object(o) => json_string(out, &o.format(), escape_html),
    }
    Ok(())
}

/// Go's `json.Marshal` of a value (HTML characters escaped, as Sprig's `toJson` does).
pub fn marshal(v: &Value) -> Result<String, String> {
    let mut out = String::new();
    to_json(v, &mut out, true, false, 0)?;
    Ok(out)
}

fn from_json(text: &str) -> Result<Value, String> {
    serde_json::from_str::<serde_json::Value>(text)
        .map(|j| Value::from_json(&j))
        .map_err(|e| e.to_string())
}

pub(super) fn register(m: &mut FuncMap) {
    let mut add = |names: &[&str], f: Func| {
        for n in names {
            m.insert((*n).to_string(), f.clone());
        }
    };
    add(
        &["b64enc"],
        Func::new(&[Str], |a| {
            Ok(Value::str(
                base64::engine::general_purpose::STANDARD.encode(s(&a[0])),
            ))
        }),
    );
    add(
        &["b64dec"],
        Func::new(&[Str], |a| {
            Ok(Value::str(match b64dec(s(&a[0])) {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(e) => e,
            }))
        }),
    );
    add(
        &["b32enc"],
        Func::new(&[Str], |a| Ok(Value::str(b32enc(s(&a[0]).as_bytes())))),
    );
    add(
        &["b32dec"],
        Func::new(&[Str], |a| {
            Ok(Value::str(match b32dec(s(&a[0])) {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(e) => e,
            }))
        }),
    );
    add(
        &["sha1sum"],
        Func::new(&[Str], |a| {
            Ok(Value::str(hex(&sha1::Sha1::digest(s(&a[0]).as_bytes()))))
        }),
    );
    add(
        &["sha256sum"],
        Func::new(&[Str], |a| {
            Ok(Value::str(hex(&sha2::Sha256::digest(s(&a[0]).as_bytes()))))
        }),
    );
    add(
        &["sha512sum"],
        Func::new(&[Str], |a| {
            Ok(Value::str(hex(&sha2::Sha512::digest(s(&a[0]).as_bytes()))))
        }),
    );
    add(
        &["adler32sum"],
        Func::new(&[Str], |a| {
            Ok(Value::str(adler32(s(&a[0]).as_bytes()).to_string()))
        }),
    );
    add(
        &["toJson"],
        Func::new(&[Any], |a| {
            Ok(Value::str(marshal(&a[0]).unwrap_or_default()))
        }),
    );
    add(
        &["mustToJson"],
        Func::new(&[Any], |a| Ok(Value::str(marshal(&a[0])?))),
    );
    add(
        &["toPrettyJson", "mustToPrettyJson"],
        Func::new(&[Any], |a| {
            let mut out = String::new();
            Ok(Value::str(match to_json(&a[0], &mut out, true, true, 0) {
                Ok(()) => out,
                Err(_) => String::new(),
            }))
        }),
    );
    add(
        &["toRawJson", "mustToRawJson"],
        Func::new(&[Any], |a| {
            let mut out = String::new();
            to_json(&a[0], &mut out, false, false, 0)?;
            Ok(Value::str(out))
        }),
    );
    add(
        &["fromJson"],
        Func::new(&[Str], |a| Ok(from_json(s(&a[0])).unwrap_or(Value::Nil))),
    );
    add(
        &["mustFromJson"],
        Func::new(&[Str], |a| from_json(s(&a[0]))),
    );
}
