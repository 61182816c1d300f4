//! Writes generated values as YAML input text, choosing among the styles a person might have
//! used (plain, single or double quoted, literal blocks with each chomping), so that both tools
//! read the same values from text written in many ways.

use super::rng::Rng;
use serde_json::{Map, Value};

/// A value written as is (a number or other scalar spelled a particular way): `{"$raw": "1e3"}`.
pub fn raw(text: &&str) -> Value {
    let mut m = Map::new();
    m.insert("$raw".into(), Value::String((*text).into()));
    Value::Object(m)
}

fn as_raw(v: &Value) -> Option<&str> {
    match v {
        Value::Object(m) if m.len() == 1 => m.get("$raw").and_then(Value::as_str),
        _ => None,
    }
}

/// The writer: its output and the generator that picks styles.
pub struct Writer<'a> {
    out: String,
    rng: &'a mut Rng,
    /// Percent chance of a comment line between two mapping entries.
    comments: u64,
    /// Whether the reader is YAML 1.1 (kustomization files): `yes`, `on`... are then quoted,
    /// mostly (a plain one now and then checks that both tools refuse it where a string goes).
    yaml11: bool,
}

impl<'a> Writer<'a> {
    /// A writer whose choices come from `rng`.
    pub fn new(rng: &'a mut Rng) -> Self {
        Writer {
            out: String::new(),
            rng,
            comments: 0,
            yaml11: false,
        }
    }

    /// Comment lines between entries with this chance (percent).
    pub fn with_comments(mut self, percent: u64) -> Self {
        self.comments = percent;
        self
    }

    /// Writes for a YAML 1.1 reader.
    pub fn yaml11(mut self) -> Self {
        self.yaml11 = true;
        self
    }

    /// Appends raw text.
    pub fn text(&mut self, s: &str) {
        self.out.push_str(s);
    }

    /// Appends one document (a mapping or a sequence at the top level).
    pub fn document(&mut self, v: &Value) {
        match v {
            Value::Object(m) if !m.is_empty() && as_raw(v).is_none() => {
                self.entries(m, 0, false);
            }
            Value::Array(a) if !a.is_empty() => self.items(a, 0, false),
            other => {
                self.scalar(other, 0);
                self.out.push('\n');
            }
        }
    }

    /// The text so far.
    pub fn finish(self) -> String {
        self.out
    }

    fn pad(&mut self, n: usize) {
        for _ in 0..n {
            self.out.push(' ');
        }
    }

    fn entries(&mut self, m: &Map<String, Value>, indent: usize, inline: bool) {
        for (i, (k, v)) in m.iter().enumerate() {
            if i > 0 && self.comments > 0 && self.rng.chance(self.comments) {
                self.pad(indent);
                self.out.push_str("# a comment\n");
            }
            if i > 0 || !inline {
                self.pad(indent);
            }
            self.key(k);
            self.out.push(':');
            self.value_after(v, indent);
        }
    }

    /// The value of a mapping entry at `indent` (the cursor is after `key:`).
    fn value_after(&mut self, v: &Value, indent: usize) {
        match v {
            Value::Object(c) if !c.is_empty() && as_raw(v).is_none() => {
                self.out.push('\n');
                self.entries(c, indent + 2, false);
            }
            Value::Array(c) if !c.is_empty() => {
                self.out.push('\n');
                let seq_indent = if self.rng.chance(50) {
                    indent
                } else {
                    indent + 2
                };
                self.items(c, seq_indent, false);
            }
            other => {
                self.out.push(' ');
                self.scalar(other, indent + 2);
                self.out.push('\n');
            }
        }
    }

    fn items(&mut self, a: &[Value], indent: usize, inline: bool) {
        for (i, v) in a.iter().enumerate() {
            if i > 0 || !inline {
                self.pad(indent);
            }
            self.out.push_str("- ");
            match v {
                Value::Object(c) if !c.is_empty() && as_raw(v).is_none() => {
                    self.entries(c, indent + 2, true)
                }
                Value::Array(c) if !c.is_empty() => self.items(c, indent + 2, true),
                other => {
                    self.scalar(other, indent + 2);
                    self.out.push('\n');
                }
            }
        }
    }

    fn key(&mut self, k: &str) {
        if plain_ok(k) && !k.starts_with(|c: char| c.is_ascii_digit()) {
            self.out.push_str(k);
        } else if single_ok(k) && self.rng.chance(50) {
            single(&mut self.out, k);
        } else {
            double(&mut self.out, k);
        }
    }

    /// A scalar or empty collection; block scalar content goes at `indent`.
    fn scalar(&mut self, v: &Value, indent: usize) {
        if let Some(r) = as_raw(v) {
            self.out.push_str(r);
            return;
        }
        match v {
            Value::Null => {
                let s = *self.rng.pick(&["null", "~", ""]);
                self.out.push_str(s)
            }
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => self.out.push_str(&n.to_string()),
            Value::Array(_) => self.out.push_str("[]"),
            Value::Object(_) => self.out.push_str("{}"),
            Value::String(s) => self.string(s, indent),
        }
    }

    fn string(&mut self, s: &str, indent: usize) {
        let mut styles = vec![0];
        let yaml11_bool = matches!(
            s,
            "y" | "Y"
                | "yes"
                | "Yes"
                | "YES"
                | "n"
                | "N"
                | "no"
                | "No"
                | "NO"
                | "on"
                | "On"
                | "ON"
                | "off"
                | "Off"
                | "OFF"
        );
        if plain_ok(s) && !(self.yaml11 && yaml11_bool && !self.rng.chance(5)) {
            styles.push(1);
            styles.push(1);
        }
        if single_ok(s) {
            styles.push(2);
        }
        if literal_ok(s) {
            styles.push(3);
            styles.push(3);
        }
        match *self.rng.pick(&styles) {
            1 => self.out.push_str(s),
            2 => single(&mut self.out, s),
            3 => self.literal(s, indent),
            _ => double(&mut self.out, s),
        }
    }

    fn literal(&mut self, s: &str, indent: usize) {
        self.out.push('|');
        if s.starts_with([' ', '\n']) {
            self.out.push('2');
        }
        let body = s.trim_end_matches('\n');
        let trailing = s.len() - body.len();
        match trailing {
            0 => self.out.push('-'),
            1 => {}
            _ => self.out.push('+'),
        }
        if self.rng.chance(10) {
            self.out.push_str(" # note");
        }
        self.out.push('\n');
        for line in body.split('\n') {
            if !line.is_empty() {
                self.pad(indent);
                self.out.push_str(line);
            }
            self.out.push('\n');
        }
        for _ in 1..trailing {
            self.out.push('\n');
        }
        // The caller ends the value with a line break of its own.
        self.out.pop();
    }
}

/// Words a YAML 1.2 reader would take for something other than a string.
const NOT_STRINGS: &[&str] = &[
    "true", "false", "True", "False", "TRUE", "FALSE", "null", "Null", "NULL", "~",
];

/// Whether `s` may be written plain and read back as the same string by any reader.
pub fn plain_ok(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || first == '_' || first == '/') {
        return false;
    }
    if NOT_STRINGS.contains(&s) || s.ends_with(' ') || s.contains("  ") {
        return false;
    }
    s.chars().all(|c| {
        c.is_ascii_alphanumeric()
            || " _./-=+,()".contains(c)
            || (c as u32) >= 0xa0 && c != '\u{feff}' && !is_break(c) && (c as u32) < 0xd800
    })
}

fn is_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn printable(c: char) -> bool {
    let u = c as u32;
    u == 9
        || (0x20..=0x7e).contains(&u)
        || (0xa0..=0xd7ff).contains(&u)
        || (0xe000..=0xfffd).contains(&u) && u != 0xfeff
        || (0x10000..=0x10ffff).contains(&u)
}

fn single_ok(s: &str) -> bool {
    s.chars().all(|c| printable(c) && !is_break(c))
}

fn literal_ok(s: &str) -> bool {
    if s.trim().is_empty() || s.starts_with('\t') {
        return false;
    }
    let body = s.trim_end_matches('\n');
    let last_line = body.rsplit('\n').next().unwrap_or("");
    !last_line.trim().is_empty()
        && s.chars()
            .all(|c| c == '\n' || (printable(c) && !is_break(c)))
        && body
            .split('\n')
            .all(|l| !(l.starts_with('\t') || l.starts_with(' ') && l.trim().is_empty()))
}

fn single(out: &mut String, s: &str) {
    out.push('\'');
    out.push_str(&s.replace('\'', "''"));
    out.push('\'');
}

fn double(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if !printable(c) => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}
