//! Go's `strconv` pieces the parser needs: `Unquote`, `UnquoteChar` and integer and float
//! parsing with base prefixes and underscores.

/// Go's `strconv.ErrSyntax` text.
pub(crate) const SYNTAX: &str = "invalid syntax";

/// `strconv.UnquoteChar`: the first character of `s` (escapes decoded) and the rest.
pub(crate) fn unquote_char(s: &str, quote: char) -> Result<(char, &str), &'static str> {
    let mut chars = s.chars();
    let c = chars.next().ok_or(SYNTAX)?;
    if c == quote && (quote == '\'' || quote == '"') {
        return Err(SYNTAX);
    }
    if c != '\\' {
        return Ok((c, chars.as_str()));
    }
    let e = chars.next().ok_or(SYNTAX)?;
    let rest = chars.as_str();
    let simple = match e {
        'a' => Some('\x07'),
        'b' => Some('\x08'),
        'f' => Some('\x0c'),
        'n' => Some('\n'),
        'r' => Some('\r'),
        't' => Some('\t'),
        'v' => Some('\x0b'),
        '\\' => Some('\\'),
        '\'' | '"' => {
            if e != quote {
                return Err(SYNTAX);
            }
            Some(e)
        }
        _ => None,
    };
    if let Some(c) = simple {
        return Ok((c, rest));
    }
    let hex = |n: usize| -> Result<(u32, &str), &'static str> {
        let digits = rest.get(..n).ok_or(SYNTAX)?;
        let v = u32::from_str_radix(digits, 16).map_err(|_| SYNTAX)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(SYNTAX);
        }
        Ok((v, &rest[n..]))
    };
    match e {
        'x' => {
            let (v, rest) = hex(2)?;
            // A byte value; in a Go string it is a raw byte, which Rust strings cannot hold.
            // Values below 0x80 are the same character either way.
            char::from_u32(v).map(|c| (c, rest)).ok_or(SYNTAX)
        }
        'u' | 'U' => {
            let (v, rest) = hex(if e == 'u' { 4 } else { 8 })?;
            let c = char::from_u32(v).ok_or(SYNTAX)?;
            Ok((c, rest))
        }
        '0'..='7' => {
            let digits = s.get(1..4).ok_or(SYNTAX)?;
            let v = u32::from_str_radix(digits, 8).map_err(|_| SYNTAX)?;
            if v > 255 || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
                return Err(SYNTAX);
            }
            char::from_u32(v).map(|c| (c, &s[4..])).ok_or(SYNTAX)
        }
        _ => Err(SYNTAX),
    }
}

/// `strconv.Unquote` for the three Go quote forms.
pub(crate) fn unquote(s: &str) -> Result<String, &'static str> {
    let n = s.len();
    if n < 2 {
        return Err(SYNTAX);
    }
    let quote = s.as_bytes()[0];
    if quote != s.as_bytes()[n - 1] {
        return Err(SYNTAX);
    }
    let body = &s[1..n - 1];
    match quote {
        b'`' => {
            if body.contains('`') {
                return Err(SYNTAX);
            }
            Ok(body.replace('\r', ""))
        }
        b'"' | b'\'' => {
            let q = quote as char;
            if body.contains('\n') {
                return Err(SYNTAX);
            }
            let mut out = String::new();
            let mut rest = body;
            while !rest.is_empty() {
                let (c, r) = unquote_char(rest, q)?;
                out.push(c);
                rest = r;
                if q == '\'' && !rest.is_empty() {
                    return Err(SYNTAX);
                }
            }
            if q == '\'' && out.chars().count() != 1 {
                return Err(SYNTAX);
            }
            Ok(out)
        }
        _ => Err(SYNTAX),
    }
}

/// Splits a Go integer literal into (negative, base, digits), checking underscores as Go's
/// `underscoreOK` does when the base is 0.
fn int_parts(text: &str) -> Option<(bool, u32, String)> {
    let (neg, s) = match text.as_bytes().first()? {
        b'+' => (false, &text[1..]),
        b'-' => (true, &text[1..]),
        _ => (false, text),
    };
    let lower = s.to_ascii_lowercase();
    let (base, digits, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d, true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d, true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d, true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..], true)
    } else {
        (10, lower.as_str(), false)
    };
    if digits.contains('_') && !underscore_ok(s, prefixed) {
        return None;
    }
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    if clean.is_empty() {
        return None;
    }
    Some((neg, base, clean))
}

/// Go's rule: underscores only between digits or after a base prefix.
fn underscore_ok(s: &str, prefixed: bool) -> bool {
    let b = s.as_bytes();
    let mut saw = '^';
    let mut i = 0;
    let hex = b.len() >= 2 && (b[1] == b'x' || b[1] == b'X') && b[0] == b'0';
    if prefixed && b.len() >= 2 && b[0] == b'0' && b[1].is_ascii_alphabetic() {
        i = 2;
        saw = '0';
    } else if prefixed {
        saw = '0';
        i = 1;
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = '0';
        } else if c == b'_' {
            if saw != '0' {
                return false;
            }
            saw = '_';
        } else {
            if saw == '_' {
                return false;
            }
            saw = '!';
        }
        i += 1;
    }
    saw != '_'
}

/// `strconv.ParseInt(text, 0, 64)`.
pub(crate) fn parse_int(text: &str) -> Option<i64> {
    let (neg, base, digits) = int_parts(text)?;
    let u = u64::from_str_radix(&digits, base).ok()?;
    if neg {
        if u <= i64::MAX as u64 + 1 {
            Some((u as i128).wrapping_neg() as i64)
        } else {
            None
        }
    } else {
        i64::try_from(u).ok()
    }
}

/// `strconv.ParseUint(text, 0, 64)` (no sign allowed).
pub(crate) fn parse_uint(text: &str) -> Option<u64> {
    if text.starts_with(['+', '-']) {
        return None;
    }
    let (_, base, digits) = int_parts(text)?;
    u64::from_str_radix(&digits, base).ok()
}

/// `strconv.ParseFloat(text, 64)` for decimal and hexadecimal literals; `Err(true)` when the
/// syntax is right but the value is out of range.
pub(crate) fn parse_float(text: &str) -> Option<f64> {
    let (neg, s) = match text.as_bytes().first()? {
        b'+' => (false, &text[1..]),
        b'-' => (true, &text[1..]),
        _ => (false, text),
    };
    let lower = s.to_ascii_lowercase();
    let v = if let Some(h) = lower.strip_prefix("0x") {
        parse_hex_float(&h.replace('_', ""))?
    } else {
        if lower.contains('_') && !underscore_ok(s, false) {
            return None;
        }
        let clean = lower.replace('_', "");
        if clean.is_empty() || clean.starts_with(['e']) || clean == "." {
            return None;
        }
        if !clean
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'+' | b'-'))
        {
            return None;
        }
        let v: f64 = clean.parse().ok()?;
        if v.is_infinite() {
            return None;
        }
        v
    };
    Some(if neg { -v } else { v })
}

fn parse_hex_float(s: &str) -> Option<f64> {
    let (mant, exp) = match s.split_once('p') {
        Some((m, e)) => (m, e.parse::<i32>().ok()?),
        None => (s, 0),
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int.chars() {
        v = v * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in frac.chars() {
        v += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    Some(v * 2f64.powi(exp))
}
