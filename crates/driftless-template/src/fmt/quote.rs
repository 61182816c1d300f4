//! Go's `strconv.Quote` family and `%#U`.

/// Go's `strconv.IsPrint`, approximated with Rust's character classes: letters, marks,
/// numbers, punctuation, symbols and the ASCII space.
pub(crate) fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let u = u32::from(c);
    // Format characters, surrogates' neighbours and private use areas are not printable in Go.
    !matches!(u,
        0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E
        | 0x2060..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB | 0xE000..=0xF8FF | 0xF0000..=0x10FFFF
        | 0xFFFE | 0xFFFF)
}

fn escape(out: &mut String, r: char, quote: char, ascii: bool) {
    if r == quote || r == '\\' {
        out.push('\\');
        out.push(r);
        return;
    }
    if ascii {
        if r.is_ascii() && is_print(r) {
            out.push(r);
            return;
        }
    } else if is_print(r) {
        out.push(r);
        return;
    }
    match r {
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        r if u32::from(r) < 0x20 || r == '\x7f' => {
            out.push_str(&format!("\\x{:02x}", u32::from(r)))
        }
        r if u32::from(r) < 0x10000 => out.push_str(&format!("\\u{:04x}", u32::from(r))),
        r => out.push_str(&format!("\\U{:08x}", u32::from(r))),
    }
}

/// `strconv.Quote`.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for r in s.chars() {
        escape(&mut out, r, '"', false);
    }
    out.push('"');
    out
}

/// `strconv.QuoteToASCII`.
pub(crate) fn quote_ascii(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for r in s.chars() {
        escape(&mut out, r, '"', true);
    }
    out.push('"');
    out
}

/// `strconv.QuoteRune`.
pub(crate) fn quote_rune(r: char) -> String {
    let mut out = String::from("'");
    escape(&mut out, r, '\'', false);
    out.push('\'');
    out
}

/// `strconv.QuoteRuneToASCII`.
pub(crate) fn quote_rune_ascii(r: char) -> String {
    let mut out = String::from("'");
    escape(&mut out, r, '\'', true);
    out.push('\'');
    out
}

/// `strconv.CanBackquote`.
pub(crate) fn can_backquote(s: &str) -> bool {
    s.chars()
        .all(|c| c != '`' && c != '\u{FEFF}' && (c == '\t' || !(c < ' ' || c == '\x7f')))
}

/// `fmt.Sprintf("%#U", r)`.
pub(crate) fn sharp_u(r: char) -> String {
    if is_print(r) {
        format!("U+{:04X} '{}'", u32::from(r), r)
    } else {
        format!("U+{:04X}", u32::from(r))
    }
}
