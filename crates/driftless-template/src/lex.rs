//! The lexer: Go's `text/template/parse` scanner, item for item (delimiters, trim markers,
//! comments, raw strings, character constants and numbers in Go's syntax).

/// The kind of one lexed item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ItemType {
    Error,
    Bool,
    Char,
    CharConstant,
    Comment,
    Complex,
    Assign,
    Declare,
    Eof,
    Field,
    Identifier,
    LeftDelim,
    LeftParen,
    Number,
    Pipe,
    RawString,
    RightDelim,
    RightParen,
    Space,
    String,
    Text,
    Variable,
    // Keywords (Go orders them after itemKeyword).
    Block,
    Break,
    Continue,
    Dot,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
}

impl ItemType {
    fn is_keyword(self) -> bool {
        matches!(
            self,
            ItemType::Block
                | ItemType::Break
                | ItemType::Continue
                | ItemType::Dot
                | ItemType::Define
                | ItemType::Else
                | ItemType::End
                | ItemType::If
                | ItemType::Nil
                | ItemType::Range
                | ItemType::Template
                | ItemType::With
        )
    }
}

fn keyword(word: &str) -> Option<ItemType> {
    Some(match word {
        "." => ItemType::Dot,
        "block" => ItemType::Block,
        "break" => ItemType::Break,
        "continue" => ItemType::Continue,
        "define" => ItemType::Define,
        "else" => ItemType::Else,
        "end" => ItemType::End,
        "if" => ItemType::If,
        "range" => ItemType::Range,
        "nil" => ItemType::Nil,
        "template" => ItemType::Template,
        "with" => ItemType::With,
        _ => return None,
    })
}

/// One lexed item: its kind, byte offset, text and line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Item {
    pub typ: ItemType,
    pub pos: usize,
    pub val: String,
    pub line: usize,
}

impl std::fmt::Display for Item {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.typ {
            ItemType::Eof => f.write_str("EOF"),
            ItemType::Error => f.write_str(&self.val),
            t if t.is_keyword() => write!(f, "<{}>", self.val),
            _ => {
                if self.val.chars().count() > 10 {
                    let short: String = self.val.chars().take(10).collect();
                    write!(f, "{}...", crate::fmt::quote(&short))
                } else {
                    f.write_str(&crate::fmt::quote(&self.val))
                }
            }
        }
    }
}

const SPACE_CHARS: &[char] = &[' ', '\t', '\r', '\n'];
const TRIM_MARKER_LEN: usize = 2;

/// The scanner's state; `items` runs it to the end.
pub(crate) struct Lexer<'a> {
    input: &'a str,
    left: &'a str,
    right: &'a str,
    pos: usize,
    start: usize,
    at_eof: bool,
    paren_depth: i32,
    line: usize,
    start_line: usize,
    inside_action: bool,
    break_ok: bool,
    continue_ok: bool,
    done: bool,
}

fn is_space(r: char) -> bool {
    matches!(r, ' ' | '\t' | '\r' | '\n')
}

/// Go's `unicode.IsLetter || unicode.IsDigit`; Rust's classes are slightly wider outside ASCII
/// (marks, letter numbers), which only matters for identifiers no chart uses.
fn is_alphanumeric(r: char) -> bool {
    r == '_' || r.is_alphabetic() || r.is_numeric()
}

fn has_left_trim_marker(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0] == b'-' && is_space(b[1] as char)
}

fn has_right_trim_marker(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && is_space(b[0] as char) && b[1] == b'-'
}

/// A Go "%#U" rendering of a rune, for the lexer's errors.
fn sharp_u(r: Option<char>) -> String {
    match r {
        None => "U+FFFFFFFFFFFFFFFF".to_string(),
        Some(r) => crate::fmt::sharp_u(r),
    }
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(
        input: &'a str,
        left: &'a str,
        right: &'a str,
        break_ok: bool,
        continue_ok: bool,
    ) -> Self {
        Lexer {
            input,
            left: if left.is_empty() { "{{" } else { left },
            right: if right.is_empty() { "}}" } else { right },
            pos: 0,
            start: 0,
            at_eof: false,
            paren_depth: 0,
            line: 1,
            start_line: 1,
            inside_action: false,
            break_ok,
            continue_ok,
            done: false,
        }
    }

    /// Every item up to and including the EOF or the first error.
    pub(crate) fn items(mut self) -> Vec<Item> {
        let mut out = Vec::new();
        loop {
            let item = self.next_item();
            let stop = matches!(item.typ, ItemType::Eof | ItemType::Error);
            out.push(item);
            if stop {
                return out;
            }
        }
    }

    fn next(&mut self) -> Option<char> {
        if self.pos >= self.input.len() {
            self.at_eof = true;
            return None;
        }
        let r = self.input[self.pos..].chars().next()?;
        self.pos += r.len_utf8();
        if r == '\n' {
            self.line += 1;
        }
        Some(r)
    }

    fn peek(&mut self) -> Option<char> {
        let r = self.next();
        self.backup();
        r
    }

    fn backup(&mut self) {
        if !self.at_eof
            && self.pos > 0
            && let Some(r) = self.input[..self.pos].chars().next_back()
        {
            self.pos -= r.len_utf8();
            if r == '\n' {
                self.line -= 1;
            }
        }
    }

    fn this_item(&mut self, typ: ItemType) -> Item {
        let i = Item {
            typ,
            pos: self.start,
            val: self.input[self.start..self.pos].to_string(),
            line: self.start_line,
        };
        self.start = self.pos;
        self.start_line = self.line;
        i
    }

    fn ignore(&mut self) {
        self.line += self.input[self.start..self.pos].matches('\n').count();
        self.start = self.pos;
        self.start_line = self.line;
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.next() {
            Some(r) if valid.contains(r) => true,
            _ => {
                self.backup();
                false
            }
        }
    }

    fn accept_run(&mut self, valid: &str) {
        while let Some(r) = self.next() {
            if !valid.contains(r) {
                break;
            }
        }
        self.backup();
    }

    fn error(&mut self, msg: String) -> Item {
        let item = Item {
            typ: ItemType::Error,
            pos: self.start,
            val: msg,
            line: self.start_line,
        };
        self.done = true;
        item
    }

    fn next_item(&mut self) -> Item {
        if self.done {
            return Item {
                typ: ItemType::Eof,
                pos: self.pos,
                val: "EOF".into(),
                line: self.start_line,
            };
        }
        let item = if self.inside_action {
            self.lex_inside_action()
        } else {
            self.lex_text()
        };
        match item {
            Some(i) => i,
            None => Item {
                typ: ItemType::Eof,
                pos: self.pos,
                val: "EOF".into(),
                line: self.start_line,
            },
        }
    }

    /// Text up to the next left delimiter; loops through comments.
    fn lex_text(&mut self) -> Option<Item> {
        loop {
            if let Some(x) = self.input[self.pos..].find(self.left) {
                if x > 0 {
                    self.pos += x;
                    let mut trim = 0;
                    let delim_end = self.pos + self.left.len();
                    if has_left_trim_marker(&self.input[delim_end..]) {
                        let s = &self.input[self.start..self.pos];
                        trim = s.len() - s.trim_end_matches(SPACE_CHARS).len();
                    }
                    self.pos -= trim;
                    self.line += self.input[self.start..self.pos].matches('\n').count();
                    let i = self.this_item(ItemType::Text);
                    self.pos += trim;
                    self.ignore();
                    if !i.val.is_empty() {
                        return Some(i);
                    }
                }
                match self.lex_left_delim() {
                    Step::Emit(i) => return Some(i),
                    Step::Continue => continue,
                }
            }
            self.pos = self.input.len();
            if self.pos > self.start {
                self.line += self.input[self.start..self.pos].matches('\n').count();
                return Some(self.this_item(ItemType::Text));
            }
            return Some(self.this_item(ItemType::Eof));
        }
    }

    fn at_right_delim(&self) -> (bool, bool) {
        let rest = &self.input[self.pos..];
        if has_right_trim_marker(rest) && rest[TRIM_MARKER_LEN..].starts_with(self.right) {
            return (true, true);
        }
        (rest.starts_with(self.right), false)
    }

    fn lex_left_delim(&mut self) -> Step {
        self.pos += self.left.len();
        let trim = has_left_trim_marker(&self.input[self.pos..]);
        let after = if trim { TRIM_MARKER_LEN } else { 0 };
        if self.input[self.pos + after..].starts_with("/*") {
            self.pos += after;
            self.ignore();
            return self.lex_comment();
        }
        let i = self.this_item(ItemType::LeftDelim);
        self.inside_action = true;
        self.pos += after;
        self.ignore();
        self.paren_depth = 0;
        Step::Emit(i)
    }

    fn lex_comment(&mut self) -> Step {
        self.pos += 2;
        let Some(x) = self.input[self.pos..].find("*/") else {
            return Step::Emit(self.error("unclosed comment".into()));
        };
        self.pos += x + 2;
        let (delim, trim) = self.at_right_delim();
        if !delim {
            return Step::Emit(self.error("comment ends before closing delimiter".into()));
        }
        self.line += self.input[self.start..self.pos].matches('\n').count();
        let _comment = self.this_item(ItemType::Comment);
        if trim {
            self.pos += TRIM_MARKER_LEN;
        }
        self.pos += self.right.len();
        if trim {
            let s = &self.input[self.pos..];
            self.pos += s.len() - s.trim_start_matches(SPACE_CHARS).len();
        }
        self.ignore();
        Step::Continue
    }

    fn lex_right_delim(&mut self) -> Item {
        let (_, trim) = self.at_right_delim();
        if trim {
            self.pos += TRIM_MARKER_LEN;
            self.ignore();
        }
        self.pos += self.right.len();
        let i = self.this_item(ItemType::RightDelim);
        if trim {
            let s = &self.input[self.pos..];
            self.pos += s.len() - s.trim_start_matches(SPACE_CHARS).len();
            self.ignore();
        }
        self.inside_action = false;
        i
    }

    fn emit(&mut self, t: ItemType) -> Option<Item> {
        Some(self.this_item(t))
    }

    fn lex_inside_action(&mut self) -> Option<Item> {
        let (delim, _) = self.at_right_delim();
        if delim {
            if self.paren_depth == 0 {
                return Some(self.lex_right_delim());
            }
            return Some(self.error("unclosed left paren".into()));
        }
        let r = self.next();
        let Some(r) = r else {
            return Some(self.error("unclosed action".into()));
        };
        match r {
            r if is_space(r) => {
                self.backup();
                self.lex_space()
            }
            '=' => self.emit(ItemType::Assign),
            ':' => {
                if self.next() != Some('=') {
                    return Some(self.error("expected :=".into()));
                }
                self.emit(ItemType::Declare)
            }
            '|' => self.emit(ItemType::Pipe),
            '"' => Some(self.lex_quote()),
            '`' => Some(self.lex_raw_quote()),
            '$' => Some(self.lex_variable()),
            '\'' => Some(self.lex_char()),
            '.' => {
                if let Some(&b) = self.input.as_bytes().get(self.pos)
                    && !b.is_ascii_digit()
                {
                    return Some(self.lex_field_or_variable(ItemType::Field));
                }
                self.backup();
                Some(self.lex_number())
            }
            '+' | '-' | '0'..='9' => {
                self.backup();
                Some(self.lex_number())
            }
            r if is_alphanumeric(r) => {
                self.backup();
                Some(self.lex_identifier())
            }
            '(' => {
                self.paren_depth += 1;
                self.emit(ItemType::LeftParen)
            }
            ')' => {
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    return Some(self.error("unexpected right paren".into()));
                }
                self.emit(ItemType::RightParen)
            }
            r if r.is_ascii() && !r.is_ascii_control() => self.emit(ItemType::Char),
            r => Some(self.error(format!(
                "unrecognized character in action: {}",
                sharp_u(Some(r))
            ))),
        }
    }

    fn lex_space(&mut self) -> Option<Item> {
        let mut spaces = 0;
        while let Some(r) = self.peek() {
            if !is_space(r) {
                break;
            }
            self.next();
            spaces += 1;
        }
        let before = &self.input[self.pos - 1..];
        if has_right_trim_marker(before) && before[TRIM_MARKER_LEN..].starts_with(self.right) {
            self.backup();
            if spaces == 1 {
                return Some(self.lex_right_delim());
            }
        }
        self.emit(ItemType::Space)
    }

    fn lex_identifier(&mut self) -> Item {
        loop {
            let r = self.next();
            if matches!(r, Some(r) if is_alphanumeric(r)) {
                continue;
            }
            self.backup();
            let word = self.input[self.start..self.pos].to_string();
            if !self.at_terminator() {
                return self.error(format!("bad character {}", sharp_u(r)));
            }
            if let Some(k) = keyword(&word) {
                if (k == ItemType::Break && !self.break_ok)
                    || (k == ItemType::Continue && !self.continue_ok)
                {
                    return self.this_item(ItemType::Identifier);
                }
                return self.this_item(k);
            }
            if word.starts_with('.') {
                return self.this_item(ItemType::Field);
            }
            if word == "true" || word == "false" {
                return self.this_item(ItemType::Bool);
            }
            return self.this_item(ItemType::Identifier);
        }
    }

    fn lex_variable(&mut self) -> Item {
        if self.at_terminator() {
            return self.this_item(ItemType::Variable);
        }
        self.lex_field_or_variable(ItemType::Variable)
    }

    fn lex_field_or_variable(&mut self, typ: ItemType) -> Item {
        if self.at_terminator() {
            return self.this_item(if typ == ItemType::Variable {
                ItemType::Variable
            } else {
                ItemType::Dot
            });
        }
        let mut r;
        loop {
            r = self.next();
            if !matches!(r, Some(c) if is_alphanumeric(c)) {
                self.backup();
                break;
            }
        }
        if !self.at_terminator() {
            return self.error(format!("bad character {}", sharp_u(r)));
        }
        self.this_item(typ)
    }

    fn at_terminator(&mut self) -> bool {
        match self.peek() {
            None => true,
            Some(r) if is_space(r) => true,
            Some('.' | ',' | '|' | ':' | ')' | '(') => true,
            _ => self.input[self.pos..].starts_with(self.right),
        }
    }

    fn lex_char(&mut self) -> Item {
        loop {
            match self.next() {
                Some('\\') => {
                    if let Some(r) = self.next()
                        && r != '\n'
                    {
                        continue;
                    }
                    return self.error("unterminated character constant".into());
                }
                None | Some('\n') => return self.error("unterminated character constant".into()),
                Some('\'') => break,
                _ => {}
            }
        }
        self.this_item(ItemType::CharConstant)
    }

    fn lex_number(&mut self) -> Item {
        if !self.scan_number() {
            let text = self.input[self.start..self.pos].to_string();
            return self.error(format!("bad number syntax: {}", crate::fmt::quote(&text)));
        }
        if let Some('+' | '-') = self.peek() {
            if !self.scan_number() || self.input.as_bytes()[self.pos - 1] != b'i' {
                let text = self.input[self.start..self.pos].to_string();
                return self.error(format!("bad number syntax: {}", crate::fmt::quote(&text)));
            }
            return self.this_item(ItemType::Complex);
        }
        self.this_item(ItemType::Number)
    }

    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 23 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if matches!(self.peek(), Some(r) if is_alphanumeric(r)) {
            self.next();
            return false;
        }
        true
    }

    fn lex_quote(&mut self) -> Item {
        loop {
            match self.next() {
                Some('\\') => {
                    if let Some(r) = self.next()
                        && r != '\n'
                    {
                        continue;
                    }
                    return self.error("unterminated quoted string".into());
                }
                None | Some('\n') => return self.error("unterminated quoted string".into()),
                Some('"') => break,
                _ => {}
            }
        }
        self.this_item(ItemType::String)
    }

    fn lex_raw_quote(&mut self) -> Item {
        loop {
            match self.next() {
                None => return self.error("unterminated raw quoted string".into()),
                Some('`') => break,
                _ => {}
            }
        }
        self.this_item(ItemType::RawString)
    }
}

enum Step {
    Emit(Item),
    Continue,
}
