//! The parser: Go's `text/template/parse` recursive descent, with its token look-ahead (so that
//! parse errors name the same line), variable scoping and `define`/`block` handling.

use std::collections::HashMap;
use std::sync::Arc;

use crate::ast::{Arg, BranchKind, Command, List, Node, Number, Pipe, Tree};
use crate::lex::{Item, ItemType, Lexer};
use crate::strconv;

/// Parenthesis nesting accepted in one action. Go allows 10000 (its stacks grow); each level
/// here is a few Rust stack frames, and renders run on threads with 2 MiB stacks.
const MAX_STACK_DEPTH: usize = 100;

/// Nesting of `if`/`with`/`range`/`block` accepted, for the same reason (Go has no limit;
/// charts nest a handful of levels).
const MAX_NESTING: usize = 100;

/// A parse error, already in Go's words (`template: NAME:LINE: ...`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

/// The per-tree parser state; `define` and `block` get a fresh one over the same items.
struct TreeState {
    name: String,
    token: [Item; 3],
    peek_count: usize,
    vars: Vec<String>,
    range_depth: usize,
    action_line: usize,
    stack_depth: usize,
}

/// How deep control structures are nested, over all trees of one parse.
#[derive(Default)]
struct Nesting(usize);

struct Parser<'a> {
    items: Vec<Item>,
    next_item: usize,
    parse_name: String,
    text: Arc<str>,
    has_function: &'a dyn Fn(&str) -> bool,
    set: HashMap<String, Tree>,
    t: TreeState,
    nesting: Nesting,
}

type PResult<T> = Result<T, ParseError>;

enum ListEnd {
    End,
    Else,
}

enum Parsed {
    Node(Node),
    End,
    Else,
}

fn eof_item() -> Item {
    Item {
        typ: ItemType::Eof,
        pos: 0,
        val: String::new(),
        line: 1,
    }
}

impl TreeState {
    fn new(name: String) -> Self {
        TreeState {
            name,
            token: [eof_item(), eof_item(), eof_item()],
            peek_count: 0,
            vars: vec!["$".to_string()],
            range_depth: 0,
            action_line: 0,
            stack_depth: 0,
        }
    }
}

/// Parses `text` as Go's `Tree.Parse` does: the named tree and every `define`d or `block`ed
/// one, keyed by name.
pub(crate) fn parse(
    name: &str,
    text: &str,
    left: &str,
    right: &str,
    has_function: &dyn Fn(&str) -> bool,
) -> Result<HashMap<String, Tree>, ParseError> {
    let items = Lexer::new(
        text,
        left,
        right,
        !has_function("break"),
        !has_function("continue"),
    )
    .items();
    let mut p = Parser {
        items,
        next_item: 0,
        parse_name: name.to_string(),
        text: Arc::from(text),
        has_function,
        set: HashMap::new(),
        t: TreeState::new(name.to_string()),
        nesting: Nesting::default(),
    };
    let root = p.parse_root()?;
    p.add(name.to_string(), root)?;
    Ok(p.set)
}

impl Parser<'_> {
    fn lex(&mut self) -> Item {
        match self.items.get(self.next_item) {
            Some(i) => {
                self.next_item += 1;
                i.clone()
            }
            None => self.items.last().cloned().unwrap_or_else(eof_item),
        }
    }

    fn next(&mut self) -> Item {
        if self.t.peek_count > 0 {
            self.t.peek_count -= 1;
        } else {
            self.t.token[0] = self.lex();
        }
        self.t.token[self.t.peek_count].clone()
    }

    fn backup(&mut self) {
        self.t.peek_count += 1;
    }

    fn backup2(&mut self, t1: Item) {
        self.t.token[1] = t1;
        self.t.peek_count = 2;
    }

    fn backup3(&mut self, t2: Item, t1: Item) {
        self.t.token[1] = t1;
        self.t.token[2] = t2;
        self.t.peek_count = 3;
    }

    fn peek(&mut self) -> Item {
        if self.t.peek_count > 0 {
            return self.t.token[self.t.peek_count - 1].clone();
        }
        self.t.peek_count = 1;
        self.t.token[0] = self.lex();
        self.t.token[0].clone()
    }

    fn next_non_space(&mut self) -> Item {
        loop {
            let t = self.next();
            if t.typ != ItemType::Space {
                return t;
            }
        }
    }

    fn peek_non_space(&mut self) -> Item {
        let t = self.next_non_space();
        self.backup();
        t
    }

    fn errorf(&self, msg: impl std::fmt::Display) -> ParseError {
        ParseError(format!(
            "template: {}:{}: {}",
            self.parse_name, self.t.token[0].line, msg
        ))
    }

    fn expect(&mut self, expected: ItemType, context: &str) -> PResult<Item> {
        let token = self.next_non_space();
        if token.typ != expected {
            return Err(self.unexpected(&token, context));
        }
        Ok(token)
    }

    fn unexpected(&self, token: &Item, context: &str) -> ParseError {
        if token.typ == ItemType::Error {
            let mut extra = String::new();
            if self.t.action_line != 0 && self.t.action_line != token.line {
                extra = format!(
                    " in action started at {}:{}",
                    self.parse_name, self.t.action_line
                );
                if token.val.ends_with(" action") {
                    extra = extra[" in action".len()..].to_string();
                }
            }
            return self.errorf(format!("{token}{extra}"));
        }
        self.errorf(format!("unexpected {token} in {context}"))
    }

    /// Go's `Tree.add` within one parse.
    fn add(&mut self, name: String, root: List) -> PResult<()> {
        if let Some(existing) = self.set.get(&name)
            && !existing.root.is_empty_tree()
        {
            if !root.is_empty_tree() {
                return Err(self.errorf(format!(
                    "template: multiple definition of template {}",
                    crate::fmt::quote(&name)
                )));
            }
            return Ok(());
        }
        let tree = Tree {
            name: name.clone(),
            parse_name: self.parse_name.clone(),
            text: self.text.clone(),
            root,
        };
        self.set.insert(name, tree);
        Ok(())
    }

    fn parse_root(&mut self) -> PResult<List> {
        let mut root = List::default();
        while self.peek().typ != ItemType::Eof {
            if self.peek().typ == ItemType::LeftDelim {
                let delim = self.next();
                if self.next_non_space().typ == ItemType::Define {
                    let outer = std::mem::replace(&mut self.t, TreeState::new("definition".into()));
                    let r = self.parse_definition();
                    self.t = outer;
                    r?;
                    continue;
                }
                self.backup2(delim);
            }
            match self.text_or_action()? {
                Parsed::Node(n) => root.nodes.push(n),
                Parsed::End => return Err(self.errorf("unexpected {{end}}")),
                Parsed::Else => return Err(self.errorf("unexpected {{else}}")),
            }
        }
        Ok(root)
    }

    fn parse_definition(&mut self) -> PResult<()> {
        let context = "define clause";
        let token = self.next_non_space();
        if token.typ != ItemType::String && token.typ != ItemType::RawString {
            return Err(self.unexpected(&token, context));
        }
        let name = strconv::unquote(&token.val).map_err(|e| self.errorf(e))?;
        self.t.name = name.clone();
        self.expect(ItemType::RightDelim, context)?;
        let (list, end) = self.item_list()?;
        if let ListEnd::Else = end {
            return Err(self.errorf(format!("unexpected {{{{else}}}} in {context}")));
        }
        self.add(name, list)
    }

    fn item_list(&mut self) -> PResult<(List, ListEnd)> {
        let mut list = List::default();
        while self.peek_non_space().typ != ItemType::Eof {
            match self.text_or_action()? {
                Parsed::Node(n) => list.nodes.push(n),
                Parsed::End => return Ok((list, ListEnd::End)),
                Parsed::Else => return Ok((list, ListEnd::Else)),
            }
        }
        Err(self.errorf("unexpected EOF"))
    }

    fn text_or_action(&mut self) -> PResult<Parsed> {
        let token = self.next_non_space();
        match token.typ {
            ItemType::Text => Ok(Parsed::Node(Node::Text { text: token.val })),
            ItemType::LeftDelim => {
                self.t.action_line = token.line;
                let r = self.action();
                self.t.action_line = 0;
                r
            }
            ItemType::Comment => Ok(Parsed::Node(Node::Comment)),
            _ => Err(self.unexpected(&token, "input")),
        }
    }

    fn action(&mut self) -> PResult<Parsed> {
        let token = self.next_non_space();
        match token.typ {
            ItemType::Block => return self.block_control().map(Parsed::Node),
            ItemType::Break => {
                return self
                    .break_control(token.pos, "{{break}}", true)
                    .map(Parsed::Node);
            }
            ItemType::Continue => {
                return self
                    .break_control(token.pos, "{{continue}}", false)
                    .map(Parsed::Node);
            }
            ItemType::Else => return self.else_control(),
            ItemType::End => {
                self.expect(ItemType::RightDelim, "end")?;
                return Ok(Parsed::End);
            }
            ItemType::If => return self.branch_control(BranchKind::If).map(Parsed::Node),
            ItemType::Range => return self.branch_control(BranchKind::Range).map(Parsed::Node),
            ItemType::Template => return self.template_control().map(Parsed::Node),
            ItemType::With => return self.branch_control(BranchKind::With).map(Parsed::Node),
            _ => {}
        }
        self.backup();
        let pos = self.peek().pos;
        let pipe = self.pipeline("command", ItemType::RightDelim)?;
        Ok(Parsed::Node(Node::Action { pos, pipe }))
    }

    fn break_control(&mut self, pos: usize, context: &str, is_break: bool) -> PResult<Node> {
        let token = self.next_non_space();
        if token.typ != ItemType::RightDelim {
            return Err(self.unexpected(&token, context));
        }
        if self.t.range_depth == 0 {
            return Err(self.errorf(format!("{context} outside {{{{range}}}}")));
        }
        Ok(if is_break {
            Node::Break { pos }
        } else {
            Node::Continue { pos }
        })
    }

    fn pipeline(&mut self, context: &str, end: ItemType) -> PResult<Pipe> {
        let token = self.peek_non_space();
        let mut pipe = Pipe {
            pos: token.pos,
            is_assign: false,
            decl: vec![],
            decl_pos: vec![],
            cmds: vec![],
        };
        'decls: loop {
            let v = self.peek_non_space();
            if v.typ == ItemType::Variable {
                self.next();
                let after = self.peek();
                let next = self.peek_non_space();
                if next.typ == ItemType::Assign || next.typ == ItemType::Declare {
                    pipe.is_assign = next.typ == ItemType::Assign;
                    self.next_non_space();
                    pipe.decl.push(v.val.clone());
                    pipe.decl_pos.push(v.pos);
                    self.t.vars.push(v.val);
                } else if next.typ == ItemType::Char && next.val == "," {
                    self.next_non_space();
                    pipe.decl.push(v.val.clone());
                    pipe.decl_pos.push(v.pos);
                    self.t.vars.push(v.val);
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space().typ {
                            ItemType::Variable | ItemType::RightDelim | ItemType::RightParen => {
                                continue 'decls;
                            }
                            _ => return Err(self.errorf("range can only initialize variables")),
                        }
                    }
                    return Err(self.errorf(format!("too many declarations in {context}")));
                } else if after.typ == ItemType::Space {
                    self.backup3(v, after);
                } else {
                    self.backup2(v);
                }
            }
            break;
        }
        loop {
            let token = self.next_non_space();
            match token.typ {
                t if t == end => {
                    self.check_pipeline(&pipe, context)?;
                    return Ok(pipe);
                }
                ItemType::Bool
                | ItemType::CharConstant
                | ItemType::Complex
                | ItemType::Dot
                | ItemType::Field
                | ItemType::Identifier
                | ItemType::Number
                | ItemType::Nil
                | ItemType::RawString
                | ItemType::String
                | ItemType::Variable
                | ItemType::LeftParen => {
                    self.backup();
                    let cmd = self.command()?;
                    pipe.cmds.push(cmd);
                }
                _ => return Err(self.unexpected(&token, context)),
            }
        }
    }

    fn check_pipeline(&self, pipe: &Pipe, context: &str) -> PResult<()> {
        if pipe.cmds.is_empty() {
            return Err(self.errorf(format!("missing value for {context}")));
        }
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                c.args.first(),
                Some(
                    Arg::Bool { .. }
                        | Arg::Dot { .. }
                        | Arg::Nil { .. }
                        | Arg::Number { .. }
                        | Arg::String { .. }
                )
            ) {
                return Err(self.errorf(format!(
                    "non executable command in pipeline stage {}",
                    i + 1
                )));
            }
        }
        Ok(())
    }

    fn branch_control(&mut self, kind: BranchKind) -> PResult<Node> {
        let context = match kind {
            BranchKind::If => "if",
            BranchKind::Range => "range",
            BranchKind::With => "with",
        };
        if self.nesting.0 >= MAX_NESTING {
            return Err(self.errorf(format!(
                "max nesting depth exceeded ({MAX_NESTING} levels of if, with, range and block)"
            )));
        }
        self.nesting.0 += 1;
        let vars = self.t.vars.len();
        let r = self.branch_body(kind, context);
        self.t.vars.truncate(vars);
        self.nesting.0 -= 1;
        r
    }

    fn branch_body(&mut self, kind: BranchKind, context: &str) -> PResult<Node> {
        let pipe = self.pipeline(context, ItemType::RightDelim)?;
        if kind == BranchKind::Range {
            self.t.range_depth += 1;
        }
        let (list, next) = self.item_list()?;
        if kind == BranchKind::Range {
            self.t.range_depth -= 1;
        }
        let mut else_list = None;
        if let ListEnd::Else = next {
            if kind == BranchKind::If && self.peek().typ == ItemType::If {
                self.next();
                else_list = Some(List {
                    nodes: vec![self.branch_control(BranchKind::If)?],
                });
            } else if kind == BranchKind::With && self.peek().typ == ItemType::With {
                self.next();
                else_list = Some(List {
                    nodes: vec![self.branch_control(BranchKind::With)?],
                });
            } else {
                let (list, next) = self.item_list()?;
                if let ListEnd::Else = next {
                    return Err(self.errorf("expected end; found {{else}}"));
                }
                else_list = Some(list);
            }
        }
        Ok(Node::Branch {
            kind,
            pos: pipe.pos,
            pipe,
            list,
            else_list,
        })
    }

    fn else_control(&mut self) -> PResult<Parsed> {
        let peek = self.peek_non_space();
        if peek.typ == ItemType::If || peek.typ == ItemType::With {
            return Ok(Parsed::Else);
        }
        self.expect(ItemType::RightDelim, "else")?;
        Ok(Parsed::Else)
    }

    fn block_control(&mut self) -> PResult<Node> {
        let context = "block clause";
        let token = self.next_non_space();
        let name = self.parse_template_name(&token, context)?;
        let pipe = self.pipeline(context, ItemType::RightDelim)?;
        if self.nesting.0 >= MAX_NESTING {
            return Err(self.errorf(format!(
                "max nesting depth exceeded ({MAX_NESTING} levels of if, with, range and block)"
            )));
        }
        self.nesting.0 += 1;
        let outer = std::mem::replace(&mut self.t, TreeState::new(name.clone()));
        let body = self.item_list();
        let inner = std::mem::replace(&mut self.t, outer);
        self.nesting.0 -= 1;
        let (list, end) = body?;
        if let ListEnd::Else = end {
            return Err(self.errorf(format!("unexpected {{{{else}}}} in {context}")));
        }
        let saved = std::mem::replace(&mut self.t, inner);
        let r = self.add(name.clone(), list);
        self.t = saved;
        r?;
        Ok(Node::Template {
            pos: token.pos,
            name,
            pipe: Some(pipe),
        })
    }

    fn template_control(&mut self) -> PResult<Node> {
        let context = "template clause";
        let token = self.next_non_space();
        let name = self.parse_template_name(&token, context)?;
        let mut pipe = None;
        if self.next_non_space().typ != ItemType::RightDelim {
            self.backup();
            pipe = Some(self.pipeline(context, ItemType::RightDelim)?);
        }
        Ok(Node::Template {
            pos: token.pos,
            name,
            pipe,
        })
    }

    fn parse_template_name(&self, token: &Item, context: &str) -> PResult<String> {
        match token.typ {
            ItemType::String | ItemType::RawString => {
                strconv::unquote(&token.val).map_err(|e| self.errorf(e))
            }
            _ => Err(self.unexpected(token, context)),
        }
    }

    fn command(&mut self) -> PResult<Command> {
        let pos = self.peek_non_space().pos;
        let mut cmd = Command { pos, args: vec![] };
        loop {
            self.peek_non_space();
            if let Some(op) = self.operand()? {
                cmd.args.push(op);
            }
            let token = self.next();
            match token.typ {
                ItemType::Space => continue,
                ItemType::RightDelim | ItemType::RightParen => self.backup(),
                ItemType::Pipe => {}
                _ => return Err(self.unexpected(&token, "operand")),
            }
            break;
        }
        if cmd.args.is_empty() {
            return Err(self.errorf("empty command"));
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().typ == ItemType::Field {
            let pos = self.peek().pos;
            let mut fields = Vec::new();
            while self.peek().typ == ItemType::Field {
                let f = self.next().val;
                fields.push(f[1..].to_string());
            }
            return Ok(Some(match node {
                Arg::Field { mut ident, .. } => {
                    ident.extend(fields);
                    Arg::Field { pos, ident }
                }
                Arg::Variable { mut ident, .. } => {
                    ident.extend(fields);
                    Arg::Variable { pos, ident }
                }
                Arg::Bool { .. }
                | Arg::String { .. }
                | Arg::Number { .. }
                | Arg::Nil { .. }
                | Arg::Dot { .. } => {
                    return Err(self.errorf(format!(
                        "unexpected . after term {}",
                        crate::fmt::quote(&node.to_string())
                    )));
                }
                other => Arg::Chain {
                    pos,
                    node: Box::new(other),
                    fields,
                },
            }));
        }
        Ok(Some(node))
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let token = self.next_non_space();
        let pos = token.pos;
        Ok(Some(match token.typ {
            ItemType::Identifier => {
                if !(self.has_function)(&token.val) {
                    return Err(self.errorf(format!(
                        "function {} not defined",
                        crate::fmt::quote(&token.val)
                    )));
                }
                Arg::Identifier {
                    pos,
                    name: token.val,
                }
            }
            ItemType::Dot => Arg::Dot { pos },
            ItemType::Nil => Arg::Nil { pos },
            ItemType::Variable => {
                let ident: Vec<String> = token.val.split('.').map(str::to_string).collect();
                if !self.t.vars.iter().any(|v| *v == ident[0]) {
                    return Err(self.errorf(format!(
                        "undefined variable {}",
                        crate::fmt::quote(&ident[0])
                    )));
                }
                Arg::Variable { pos, ident }
            }
            ItemType::Field => Arg::Field {
                pos,
                ident: token.val[1..].split('.').map(str::to_string).collect(),
            },
            ItemType::Bool => Arg::Bool {
                pos,
                value: token.val == "true",
            },
            ItemType::CharConstant | ItemType::Complex | ItemType::Number => {
                let number = self.number(&token)?;
                Arg::Number { pos, number }
            }
            ItemType::LeftParen => {
                if self.t.stack_depth >= MAX_STACK_DEPTH {
                    return Err(self.errorf("max expression depth exceeded"));
                }
                self.t.stack_depth += 1;
                let r = self.pipeline("parenthesized pipeline", ItemType::RightParen);
                self.t.stack_depth -= 1;
                Arg::Pipe(Box::new(r?))
            }
            ItemType::String | ItemType::RawString => {
                let text = strconv::unquote(&token.val).map_err(|e| self.errorf(e))?;
                Arg::String {
                    pos,
                    quoted: token.val,
                    text,
                }
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }

    /// Go's `newNumber`; complex constants are refused (no chart uses them).
    fn number(&self, token: &Item) -> PResult<Number> {
        let text = token.val.as_str();
        let mut n = Number {
            text: text.to_string(),
            ..Number::default()
        };
        if token.typ == ItemType::CharConstant {
            let (c, tail) = strconv::unquote_char(&text[1..], '\'').map_err(|e| self.errorf(e))?;
            if tail != "'" {
                return Err(self.errorf(format!("malformed character constant: {text}")));
            }
            n.int64 = i64::from(u32::from(c));
            n.uint64 = u64::from(u32::from(c));
            n.float64 = f64::from(u32::from(c));
            n.is_int = true;
            n.is_uint = true;
            n.is_float = true;
            return Ok(n);
        }
        if token.typ == ItemType::Complex || text.ends_with('i') {
            return Err(self.errorf(format!("complex constants are not supported: {text}")));
        }
        let u = strconv::parse_uint(text);
        if let Some(u) = u {
            n.is_uint = true;
            n.uint64 = u;
        }
        if let Some(i) = strconv::parse_int(text) {
            n.is_int = true;
            n.int64 = i;
            if i == 0 {
                n.is_uint = true;
                n.uint64 = u.unwrap_or(0);
            }
        }
        if n.is_int {
            n.is_float = true;
            n.float64 = n.int64 as f64;
        } else if n.is_uint {
            n.is_float = true;
            n.float64 = n.uint64 as f64;
        } else if let Some(f) = strconv::parse_float(text) {
            if !text.contains(['.', 'e', 'E', 'p', 'P']) {
                return Err(self.errorf(format!("integer overflow: {}", crate::fmt::quote(text))));
            }
            n.is_float = true;
            n.float64 = f;
            if !n.is_int && (f as i64) as f64 == f {
                n.is_int = true;
                n.int64 = f as i64;
            }
            if !n.is_uint && (f as u64) as f64 == f {
                n.is_uint = true;
                n.uint64 = f as u64;
            }
        }
        if !n.is_int && !n.is_uint && !n.is_float {
            return Err(self.errorf(format!(
                "illegal number syntax: {}",
                crate::fmt::quote(text)
            )));
        }
        Ok(n)
    }
}
