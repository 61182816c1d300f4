//! The YAML writer of `sigs.k8s.io/yaml`: a value encoded as JSON, re-encoded as YAML by the
//! YAML 1.1 encoder (go-yaml v2). The observable rules reproduced here:
//! mapping keys in "natural" order (runs of digits compare as numbers, non-letters before
//! letters); block style everywhere, sequences under a mapping key not indented; strings plain
//! unless a YAML 1.1 reader would take them for something else (then double quoted), or unless a
//! character forbids the plain style (then single quoted, or double quoted when that is not
//! possible either); multi-line strings as literal blocks; long lines folded at column 80.

use crate::scalar::{format_number, is_base60_float, natural_cmp, resolves_as_string};
use serde_json::{Map, Value};

const BEST_WIDTH: usize = 80;

/// Renders one document (without a leading `---`), ending in a newline.
pub fn to_yaml(value: &Value) -> String {
    let mut w = Writer::default();
    match value {
        Value::Object(m) if !m.is_empty() => w.mapping(m, 0, false),
        Value::Array(a) if !a.is_empty() => w.sequence(a, 0, false),
        // A scalar document: its continuation lines and block content are indented by two.
        other => {
            w.scalar(other, 2, false);
        }
    }
    if !w.raw_break {
        w.out.push('\n');
    }
    w.out
}

/// Renders several documents separated by `---` lines, as `kustomize build` prints them.
pub fn to_yaml_stream(values: &[Value]) -> String {
    let mut out = String::new();
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&to_yaml(v));
    }
    out
}

#[derive(Default)]
struct Writer {
    out: String,
    column: usize,
    /// The last thing written was a literal block ending in a line or paragraph separator,
    /// written as is: the encoder counts it as the end of the line and writes no line break
    /// before what follows.
    raw_break: bool,
}

impl Writer {
    fn push(&mut self, s: &str) {
        self.out.push_str(s);
        self.column += s.chars().count();
    }

    fn newline_indent(&mut self, indent: usize) {
        if !std::mem::take(&mut self.raw_break) {
            self.out.push('\n');
        }
        self.column = 0;
        self.pad(indent);
    }

    fn pad(&mut self, indent: usize) {
        for _ in 0..indent {
            self.out.push(' ');
        }
        self.column = indent;
    }

    /// A non-empty mapping whose keys start at column `indent`; `inline` when the first key
    /// continues the current line (after `- `).
    fn mapping(&mut self, m: &Map<String, Value>, indent: usize, inline: bool) {
        let mut keys: Vec<&String> = m.keys().collect();
        keys.sort_by(|a, b| natural_cmp(a, b));
        for (i, k) in keys.into_iter().enumerate() {
            if i > 0 || !inline {
                if !self.out.is_empty() || i > 0 {
                    self.newline_indent(indent);
                } else {
                    self.pad(indent);
                }
            }
            // Keys longer than 128 characters cannot be simple keys: `? key` / `: value`.
            let complex = k.chars().count() > 128;
            if complex {
                self.push("? ");
                self.key(k);
                self.newline_indent(indent);
            } else {
                self.key(k);
            }
            self.push(":");
            let v = m.get(k).unwrap_or(&Value::Null);
            match v {
                Value::Object(c) if !c.is_empty() => self.mapping(c, indent + 2, false),
                Value::Array(c) if !c.is_empty() => self.sequence(c, indent, false),
                other => {
                    self.push(" ");
                    self.scalar(other, indent + 2, true);
                }
            }
        }
    }

    fn sequence(&mut self, a: &[Value], indent: usize, inline: bool) {
        for (i, v) in a.iter().enumerate() {
            if i > 0 || !inline {
                if !self.out.is_empty() || i > 0 {
                    self.newline_indent(indent);
                } else {
                    self.pad(indent);
                }
            }
            self.push("- ");
            match v {
                Value::Object(c) if !c.is_empty() => self.mapping(c, indent + 2, true),
                Value::Array(c) if !c.is_empty() => self.sequence(c, indent + 2, true),
                other => self.scalar(other, indent + 2, true),
            }
        }
    }

    fn key(&mut self, k: &str) {
        let style = choose_style(k, true);
        self.string(k, style, 0, false);
    }

    /// A scalar (or empty collection) value; `indent` is where continuation lines start.
    fn scalar(&mut self, v: &Value, indent: usize, _in_block: bool) {
        match v {
            Value::Null => self.push("null"),
            Value::Bool(b) => self.push(if *b { "true" } else { "false" }),
            Value::Number(n) => {
                let s = format_number(n);
                self.push(&s);
            }
            Value::String(s) => {
                // The JSON round trip leaves U+0085 unescaped inside a quoted scalar,
                // where the YAML reader folds that line break into a space.
                let folded;
                let s = if s.contains('\u{85}') {
                    folded = crate::fold_nel(s);
                    folded.as_str()
                } else {
                    s.as_str()
                };
                let style = choose_style(s, false);
                self.string(s, style, indent, true);
            }
            Value::Array(_) => self.push("[]"),
            Value::Object(_) => self.push("{}"),
        }
    }

    fn string(&mut self, s: &str, style: Style, indent: usize, allow_breaks: bool) {
        match style {
            Style::Plain => self.plain(s, indent, allow_breaks),
            Style::Single => self.single_quoted(s, indent, allow_breaks),
            Style::Double => self.double_quoted(s, indent, allow_breaks),
            Style::Literal => self.literal(s, indent),
        }
    }

    fn plain(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let next_is_space = chars.get(i + 1) == Some(&' ');
                if allow_breaks && !spaces && self.column > BEST_WIDTH && !next_is_space {
                    self.newline_indent(indent);
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
    }

    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn single_quoted(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        self.put('\'');
        let chars: Vec<char> = s.chars().collect();
        let last = chars.len().saturating_sub(1);
        let mut spaces = false;
        let mut breaks = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let next_is_space = chars.get(i + 1) == Some(&' ');
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i != 0
                    && i != last
                    && !next_is_space
                {
                    self.newline_indent(indent);
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                // Only U+2028 / U+2029 get here (strings with newlines use other styles): the
                // break is written as is and the text continues on the next line.
                self.out.push(c);
                self.column = 0;
                breaks = true;
                spaces = false;
            } else {
                if breaks {
                    self.pad(indent);
                    breaks = false;
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.put(c);
                spaces = false;
            }
        }
        self.put('\'');
    }

    fn double_quoted(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        self.put('"');
        let bom_string = s.starts_with('\u{feff}');
        let chars: Vec<char> = s.chars().collect();
        let last = chars.len().saturating_sub(1);
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            // The encoder tests for a byte order mark at the start of the string rather than at
            // each character, so a string that starts with one is escaped throughout.
            if bom_string || !is_printable(c) || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                match c {
                    '\0' => self.put('0'),
                    '\u{7}' => self.put('a'),
                    '\u{8}' => self.put('b'),
                    '\t' => self.put('t'),
                    '\n' => self.put('n'),
                    '\u{b}' => self.put('v'),
                    '\u{c}' => self.put('f'),
                    '\r' => self.put('r'),
                    '\u{1b}' => self.put('e'),
                    '"' => self.put('"'),
                    '\\' => self.put('\\'),
                    '\u{85}' => self.put('N'),
                    '\u{a0}' => self.put('_'),
                    '\u{2028}' => self.put('L'),
                    '\u{2029}' => self.put('P'),
                    c if (c as u32) <= 0xff => self.push(&format!("x{:02X}", c as u32)),
                    c if (c as u32) <= 0xffff => self.push(&format!("u{:04X}", c as u32)),
                    c => self.push(&format!("U{:08X}", c as u32)),
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks && !spaces && self.column > BEST_WIDTH && i != 0 && i != last {
                    self.newline_indent(indent);
                    if chars.get(i + 1) == Some(&' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.put('"');
    }

    fn literal(&mut self, s: &str, indent: usize) {
        self.put('|');
        let chars: Vec<char> = s.chars().collect();
        if chars.first().is_some_and(|&c| c == ' ' || is_break(c)) {
            self.put('2');
        }
        match chars.last() {
            Some(&c) if !is_break(c) => self.put('-'),
            None => self.put('-'),
            Some(_) => {
                if chars.len() == 1 || chars.get(chars.len() - 2).is_some_and(|&c| is_break(c)) {
                    self.put('+');
                }
            }
        }
        let mut breaks = true;
        self.out.push('\n');
        self.column = 0;
        for &c in &chars {
            if is_break(c) {
                // A line or paragraph separator is written as is (it ends the line for a YAML
                // reader); the next line's indentation follows it directly.
                self.out.push(c);
                self.column = 0;
                breaks = true;
            } else {
                if breaks {
                    self.pad(indent);
                    breaks = false;
                }
                self.put(c);
            }
        }
        if breaks {
            // The block ended with a line break; the next token starts on a fresh line, and the
            // caller's newline must not add an empty one.
            if self.out.ends_with('\n') {
                self.out.pop();
            } else {
                self.raw_break = true;
            }
        }
    }
}

/// Whether kustomize's YAML library (go-yaml v3, which kustomize uses inside a build, unlike
/// the final output) writes the multi-line string `s` as a literal block that it cannot read
/// back: the block's indentation is found from its first line, and a tab there is refused
/// ("found a tab character where an indentation space is expected"). That encoder allows a
/// block where this module's analysis does, except that a tab, which the final output's encoder
/// treats as a special character, is ordinary text to it.
pub fn unreadable_literal(s: &str) -> bool {
    s.starts_with('\t') && s.chars().any(is_break) && analyze(&s.replace('\t', "x")).block
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

fn is_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// The encoder's notion of printable: the Basic Multilingual Plane minus controls, surrogates,
/// U+FEFF, U+FFFE and U+FFFF. NEL (U+0085) and characters beyond U+FFFF are not, so strings
/// holding them are double quoted with escapes.
fn is_printable(c: char) -> bool {
    let u = c as u32;
    u == 0x0a
        || (0x20..=0x7e).contains(&u)
        || (0xa0..=0xd7ff).contains(&u)
        || ((0xe000..=0xfffd).contains(&u) && u != 0xfeff)
}

fn is_blank_or_end(c: Option<char>) -> bool {
    match c {
        None => true,
        Some(c) => c == ' ' || c == '\t' || is_break(c),
    }
}

/// Picks the style the encoder ends up with for a string.
fn choose_style(s: &str, simple_key: bool) -> Style {
    let requested = if s.contains('\n') {
        Style::Literal
    } else if resolves_as_string(s) && !is_base60_float(s) {
        Style::Plain
    } else {
        Style::Double
    };
    let a = analyze(s);
    match requested {
        Style::Plain => {
            if !a.block_plain || (s.is_empty() && simple_key) {
                if a.single_quoted {
                    Style::Single
                } else {
                    Style::Double
                }
            } else {
                Style::Plain
            }
        }
        Style::Literal => {
            if !a.block || simple_key {
                Style::Double
            } else {
                Style::Literal
            }
        }
        other => other,
    }
}

struct Analysis {
    block_plain: bool,
    single_quoted: bool,
    block: bool,
}

fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            block_plain: false,
            single_quoted: true,
            block: false,
        };
    }
    let chars: Vec<char> = s.chars().collect();
    let mut block_indicators = s.starts_with("---") || s.starts_with("...");
    let (mut special, mut line_breaks) = (false, false);
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    let mut preceded_by_whitespace = true;
    let last = chars.len() - 1;
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_whitespace = is_blank_or_end(chars.get(i + 1).copied());
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' if followed_by_whitespace => {
                    block_indicators = true;
                }
                '-' if followed_by_whitespace => {
                    block_indicators = true;
                }
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_whitespace => {
                    block_indicators = true;
                }
                '#' if preceded_by_whitespace => {
                    block_indicators = true;
                }
                _ => {}
            }
        }
        if !is_printable(c) {
            special = true;
        }
        if is_break(c) {
            line_breaks = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if i == last {
                trailing_space = true;
            }
            if previous_break {
                break_space = true;
            }
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            if i == 0 {
                leading_break = true;
            }
            if i == last {
                trailing_break = true;
            }
            if previous_space {
                space_break = true;
            }
            previous_break = true;
            previous_space = false;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = c == ' ' || c == '\t' || is_break(c);
    }
    let mut a = Analysis {
        block_plain: true,
        single_quoted: true,
        block: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain = false;
    }
    if trailing_space {
        a.block = false;
    }
    if break_space {
        a.block_plain = false;
        a.single_quoted = false;
    }
    if space_break || special {
        a = Analysis {
            block_plain: false,
            single_quoted: false,
            block: false,
        };
    }
    if line_breaks || block_indicators {
        a.block_plain = false;
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quotes_what_yaml_1_1_would_misread() {
        let v = json!({"a": "yes", "b": "8080", "c": "a: b", "d": "", "e": "plain", "n": "x"});
        assert_eq!(
            to_yaml(&v),
            "a: \"yes\"\nb: \"8080\"\nc: 'a: b'\nd: \"\"\ne: plain\n\"n\": x\n"
        );
    }

    #[test]
    fn leaves_floats_beyond_float64_plain() {
        let v = json!({"a": "1e400", "b": "1e31_000", "c": "-1e309", "d": "1e308", "e": "1_0e3"});
        assert_eq!(
            to_yaml(&v),
            "a: 1e400\nb: 1e31_000\nc: -1e309\nd: \"1e308\"\ne: \"1_0e3\"\n"
        );
    }

    #[test]
    fn sorts_keys_naturally() {
        let v = json!({"a10": 1, "a9": 2, "_x": 3, "1": 4, "A": 5});
        assert_eq!(to_yaml(&v), "_x: 3\n\"1\": 4\nA: 5\na9: 2\na10: 1\n");
    }

    #[test]
    fn writes_nested_collections_in_block_style() {
        let v = json!({"l": [{"a": 1, "b": [1, 2]}, [3]], "m": {"x": {}}, "e": []});
        assert_eq!(
            to_yaml(&v),
            "e: []\nl:\n- a: 1\n  b:\n  - 1\n  - 2\n- - 3\nm:\n  x: {}\n"
        );
    }

    #[test]
    fn writes_literal_blocks_with_chomping() {
        let v = json!({"a": "x\ny", "b": "x\n", "c": "\nx\n", "d": "x\n\n"});
        assert_eq!(
            to_yaml(&v),
            "a: |-\n  x\n  y\nb: |\n  x\nc: |2\n\n  x\nd: |+\n  x\n\n"
        );
    }

    #[test]
    fn writes_line_separators_in_literal_blocks_as_they_are() {
        let v = json!({"k": "a\u{2028}b\nc\n"});
        assert_eq!(to_yaml(&v), "k: |\n  a\u{2028}  b\n  c\n");
        let v = json!({"a": "x\nwith\u{2028}", "b": ["y\nz\u{2029}", "w"], "c": "y\u{2028}"});
        assert_eq!(
            to_yaml(&v),
            "a: |\n  x\n  with\u{2028}b:\n- |\n  y\n  z\u{2029}- w\nc: 'y\u{2028}'\n"
        );
    }

    #[test]
    fn formats_floats_like_the_json_round_trip() {
        let n = |f: f64| serde_json::Number::from_f64(f).map(|n| format_number(&n));
        assert_eq!(n(1.0).as_deref(), Some("1"));
        assert_eq!(n(0.5).as_deref(), Some("0.5"));
        assert_eq!(n(1e30).as_deref(), Some("1e+30"));
        assert_eq!(
            n(1.2345678901234568e20).as_deref(),
            Some("1.2345678901234568e+20")
        );
    }
}
