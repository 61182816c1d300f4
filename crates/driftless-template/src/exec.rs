//! The executor: Go's `text/template` `state.walk` and `eval*`, over [`Value`]s.

use std::cell::Cell;
use std::sync::Arc;

use crate::ast::{Arg, BranchKind, Command, List, Node, Pipe, Tree};
use crate::builtins::{self, Builtin};
use crate::error::Error;
use crate::fmt::quote;
use crate::func::{Body, Engine, Func, Param};
use crate::set::{MissingKey, Templates};
use crate::value::Value;

/// What one execution has used so far (shared by nested executions).
#[derive(Debug, Default)]
pub(crate) struct Budget {
    steps: Cell<u64>,
    output: Cell<u64>,
}

/// Where the executor is, for error messages.
#[derive(Clone, Copy)]
enum At<'t> {
    None,
    Node(&'t Node),
    Pipe(&'t Pipe),
    Cmd(&'t Command),
    Arg(&'t Arg),
}

/// Why a walk stopped early.
pub(crate) enum Flow {
    Break,
    Continue,
    Err(Error),
}

impl From<Error> for Flow {
    fn from(e: Error) -> Self {
        Flow::Err(e)
    }
}

type R<T> = Result<T, Flow>;

/// A value with whether it sits in an `interface{}` (a map or list element): Go names its
/// type `interface {}` in errors then, and a nil one is a nil interface rather than no value.
#[derive(Clone)]
struct Dot {
    v: Value,
    boxed: bool,
}

impl Dot {
    fn plain(v: Value) -> Dot {
        Dot { v, boxed: false }
    }
    fn type_name(&self) -> String {
        if self.boxed {
            "interface {}".into()
        } else {
            self.v.type_name()
        }
    }
}

/// The [`Engine`] an engine-aware function ([`Func::with_engine`]) gets: it executes other
/// templates of the same set, within the same budget and depth limit.
pub(crate) struct Ctx<'a> {
    set: &'a Templates,
    budget: &'a Budget,
    depth: usize,
}

impl Engine for Ctx<'_> {
    fn execute(&mut self, name: &str, data: &Value) -> Result<String, String> {
        if self.depth >= self.set.limits_ref().max_depth {
            return Err(format!(
                "exceeded maximum template depth ({})",
                self.set.limits_ref().max_depth
            ));
        }
        let Some(tree) = self.set.tree(name) else {
            return Err(format!(
                "template: no template {} associated with template {}",
                quote(name),
                quote(self.set.name())
            ));
        };
        execute_tree(self.set, &tree, data, self.budget, self.depth + 1).map_err(|e| e.to_string())
    }

    fn execute_text(&mut self, name: &str, text: &str, data: &Value) -> Result<String, String> {
        let mut copy = self.set.clone();
        let main = copy.parse_main(name, text).map_err(|e| e.to_string())?;
        let Some(tree) = main.or_else(|| copy.tree(name)) else {
            return Err(format!("template: no template {}", quote(name)));
        };
        execute_tree(&copy, &tree, data, self.budget, self.depth + 1).map_err(|e| e.to_string())
    }
}

/// Executes one tree of `set` with `data`.
pub(crate) fn execute_tree(
    set: &Templates,
    tree: &Arc<Tree>,
    data: &Value,
    budget: &Budget,
    depth: usize,
) -> Result<String, Error> {
    // Go's `reflect.ValueOf(nil)`: nil data is no value at all.
    let data = if matches!(data, Value::Nil) {
        &Value::Missing
    } else {
        data
    };
    let mut s = State {
        set,
        tree,
        vars: vec![("$".to_string(), Dot::plain(data.clone()))],
        depth,
        at: At::None,
        budget,
        out: String::new(),
    };
    match s.walk(&Dot::plain(data.clone()), &tree.root) {
        Ok(()) => Ok(s.out),
        Err(Flow::Err(e)) => Err(e),
        Err(_) => Ok(s.out),
    }
}

/// Executes `tree` as the entry point: a new budget.
impl Templates {
    /// Executes the template `name` with `data` as `.` and `$` (Go's `ExecuteTemplate`).
    pub fn execute(&self, name: &str, data: &Value) -> Result<String, Error> {
        let Some(tree) = self.tree(name) else {
            return Err(Error::exec(format!(
                "template: no template {} associated with template {}",
                quote(name),
                quote(self.name())
            )));
        };
        let budget = Budget::default();
        execute_tree(self, &tree, data, &budget, 0)
    }
}

struct State<'t> {
    set: &'t Templates,
    tree: &'t Tree,
    vars: Vec<(String, Dot)>,
    depth: usize,
    at: At<'t>,
    budget: &'t Budget,
    out: String,
}

fn ideal_is_float(text: &str) -> bool {
    let hex_int = text.len() > 2
        && text.starts_with('0')
        && matches!(text.as_bytes()[1], b'x' | b'X')
        && !text.contains(['p', 'P']);
    let rune = text.starts_with('\'');
    !hex_int && !rune && text.contains(['.', 'e', 'E', 'p', 'P'])
}

impl<'t> State<'t> {
    fn context(&self) -> Option<(usize, String)> {
        match self.at {
            At::None => None,
            At::Node(n) => Some((node_pos(n), n.to_string())),
            At::Pipe(p) => Some((p.pos, p.to_string())),
            At::Cmd(c) => Some((c.pos, c.to_string())),
            At::Arg(a) => Some((a.pos(), a.to_string())),
        }
    }

    fn error(&self, msg: impl Into<String>) -> Flow {
        Flow::Err(self.error_value(msg.into()))
    }

    fn error_value(&self, msg: String) -> Error {
        let name = self.tree.name();
        match self.context() {
            None => Error::exec(format!("template: {name}: {msg}")),
            Some((pos, ctx)) => Error::exec(format!(
                "template: {}: executing {} at <{}>: {}",
                self.tree.location(pos),
                quote(name),
                ctx,
                msg
            )),
        }
    }

    fn step(&self) -> R<()> {
        let n = self.budget.steps.get() + 1;
        self.budget.steps.set(n);
        if n > self.set.limits_ref().max_steps {
            let e = self.error_value(format!(
                "execution budget exceeded: more than {} steps",
                self.set.limits_ref().max_steps
            ));
            return Err(Flow::Err(e.into_budget()));
        }
        Ok(())
    }

    fn write(&mut self, s: &str) -> R<()> {
        let n = self.budget.output.get() + s.len() as u64;
        self.budget.output.set(n);
        if n > self.set.limits_ref().max_output {
            let e = self.error_value(format!(
                "execution budget exceeded: more than {} bytes of output",
                self.set.limits_ref().max_output
            ));
            return Err(Flow::Err(e.into_budget()));
        }
        self.out.push_str(s);
        Ok(())
    }

    fn mark(&self) -> usize {
        self.vars.len()
    }

    fn pop(&mut self, mark: usize) {
        self.vars.truncate(mark);
    }

    fn set_var(&mut self, name: &str, v: Dot) -> R<()> {
        match self.vars.iter_mut().rev().find(|(n, _)| n == name) {
            Some(slot) => {
                slot.1 = v;
                Ok(())
            }
            None => Err(self.error(format!("undefined variable: {name}"))),
        }
    }

    fn set_top_var(&mut self, n: usize, v: Dot) {
        let len = self.vars.len();
        if let Some(slot) = self.vars.get_mut(len - n) {
            slot.1 = v;
        }
    }

    fn var_value(&self, name: &str) -> R<Dot> {
        match self.vars.iter().rev().find(|(n, _)| n == name) {
            Some((_, v)) => Ok(v.clone()),
            None => Err(self.error(format!("undefined variable: {name}"))),
        }
    }

    fn walk(&mut self, dot: &Dot, list: &'t List) -> R<()> {
        for node in &list.nodes {
            self.walk_node(dot, node)?;
        }
        Ok(())
    }

    fn walk_node(&mut self, dot: &Dot, node: &'t Node) -> R<()> {
        self.step()?;
        self.at = At::Node(node);
        match node {
            Node::Action { pipe, .. } => {
                let val = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    self.at = At::Node(node);
                    self.print_value(&val)?;
                }
                Ok(())
            }
            Node::Break { .. } => Err(Flow::Break),
            Node::Continue { .. } => Err(Flow::Continue),
            Node::Comment => Ok(()),
            Node::Text { text } => self.write(text),
            Node::Branch {
                kind: BranchKind::Range,
                pipe,
                list,
                else_list,
                ..
            } => self.walk_range(dot, node, pipe, list, else_list.as_ref()),
            Node::Branch {
                kind,
                pipe,
                list,
                else_list,
                ..
            } => {
                let mark = self.mark();
                let r = self.walk_if_or_with(*kind, dot, pipe, list, else_list.as_ref());
                self.pop(mark);
                r
            }
            Node::Template { name, pipe, .. } => self.walk_template(dot, node, name, pipe.as_ref()),
        }
    }

    fn walk_if_or_with(
        &mut self,
        kind: BranchKind,
        dot: &Dot,
        pipe: &'t Pipe,
        list: &'t List,
        else_list: Option<&'t List>,
    ) -> R<()> {
        let val = self.eval_pipeline(dot, pipe)?;
        if val.is_true() {
            if kind == BranchKind::With {
                self.walk(&Dot::plain(val), list)
            } else {
                self.walk(dot, list)
            }
        } else if let Some(e) = else_list {
            self.walk(dot, e)
        } else {
            Ok(())
        }
    }

    fn walk_range(
        &mut self,
        dot: &Dot,
        node: &'t Node,
        pipe: &'t Pipe,
        list: &'t List,
        else_list: Option<&'t List>,
    ) -> R<()> {
        self.at = At::Node(node);
        let outer = self.mark();
        let r = self.range_body(dot, pipe, list, else_list);
        self.pop(outer);
        match r {
            Err(Flow::Break) => Ok(()),
            other => other,
        }
    }

    fn one_iteration(&mut self, pipe: &'t Pipe, list: &'t List, index: Value, elem: Dot) -> R<()> {
        // Each iteration is a step, so that a range with an empty body is within the budget.
        self.step()?;
        let mark = self.mark();
        if !pipe.decl.is_empty() {
            if pipe.is_assign {
                if pipe.decl.len() > 1 {
                    self.set_var(&pipe.decl[0], Dot::plain(index.clone()))?;
                } else {
                    self.set_var(&pipe.decl[0], elem.clone())?;
                }
            } else {
                self.set_top_var(1, elem.clone());
            }
        }
        if pipe.decl.len() > 1 {
            if pipe.is_assign {
                self.set_var(&pipe.decl[1], elem.clone())?;
            } else {
                self.set_top_var(2, Dot::plain(index));
            }
        }
        let r = self.walk(&elem, list);
        self.pop(mark);
        match r {
            Err(Flow::Continue) => Ok(()),
            other => other,
        }
    }

    fn range_body(
        &mut self,
        dot: &Dot,
        pipe: &'t Pipe,
        list: &'t List,
        else_list: Option<&'t List>,
    ) -> R<()> {
        let mut val = self.eval_pipeline(dot, pipe)?;
        if let Value::Object(o) = &val
            && let Some(v) = o.as_value()
        {
            val = v;
        }
        match &val {
            Value::Int(n) | Value::Int64(n) => {
                if pipe.decl.len() > 1 {
                    return Err(self.error(format!(
                        "can't use {} to iterate over more than one variable",
                        crate::fmt::format_value(&val)
                    )));
                }
                if *n > 0 {
                    let int = matches!(val, Value::Int(_));
                    for i in 0..*n {
                        let v = if int { Value::Int(i) } else { Value::Int64(i) };
                        self.one_iteration(pipe, list, Value::Missing, Dot::plain(v))?;
                    }
                    return Ok(());
                }
            }
            Value::Uint64(_) | Value::Byte(_) => {
                let (n, byte) = match val {
                    Value::Byte(b) => (u64::from(b), true),
                    Value::Uint64(n) => (n, false),
                    _ => (0, false),
                };
                if pipe.decl.len() > 1 {
                    return Err(self.error(format!(
                        "can't use {} to iterate over more than one variable",
                        crate::fmt::format_value(&val)
                    )));
                }
                if n > 0 {
                    for i in 0..n {
                        let v = if byte {
                            Value::Byte(i as u8)
                        } else {
                            Value::Uint64(i)
                        };
                        self.one_iteration(pipe, list, Value::Missing, Dot::plain(v))?;
                    }
                    return Ok(());
                }
            }
            Value::List(items) => {
                if !items.is_empty() {
                    // Elements of a []interface{} sit in interfaces; a []string's do not.
                    let boxed = items.elem() == crate::value::Elem::Any;
                    for (i, item) in items.iter().enumerate() {
                        let elem = Dot {
                            v: item.clone(),
                            boxed,
                        };
                        self.one_iteration(pipe, list, Value::Int(i as i64), elem)?;
                    }
                    return Ok(());
                }
            }
            Value::Map(m) => {
                let entries: Vec<(String, Value)> = m
                    .read()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                if !entries.is_empty() {
                    for (k, v) in entries {
                        self.one_iteration(pipe, list, Value::str(k), Dot { v, boxed: true })?;
                    }
                    return Ok(());
                }
            }
            Value::Missing | Value::Nil => {}
            _ => {
                return Err(self.error(format!(
                    "range can't iterate over {}",
                    crate::fmt::format_value(&val)
                )));
            }
        }
        if let Some(e) = else_list {
            self.walk(dot, e)?;
        }
        Ok(())
    }

    fn walk_template(
        &mut self,
        dot: &Dot,
        node: &'t Node,
        name: &str,
        pipe: Option<&'t Pipe>,
    ) -> R<()> {
        self.at = At::Node(node);
        let Some(tree) = self.set.tree(name) else {
            return Err(self.error(format!("template {} not defined", quote(name))));
        };
        if self.depth >= self.set.limits_ref().max_depth {
            return Err(self.error(format!(
                "exceeded maximum template depth ({})",
                self.set.limits_ref().max_depth
            )));
        }
        let new_dot = match pipe {
            Some(p) => self.eval_pipeline(dot, p)?,
            None => Value::Missing,
        };
        let mut inner = State {
            set: self.set,
            tree: &tree,
            vars: vec![("$".to_string(), Dot::plain(new_dot.clone()))],
            depth: self.depth + 1,
            at: At::None,
            budget: self.budget,
            out: std::mem::take(&mut self.out),
        };
        let r = inner.walk(&Dot::plain(new_dot), &tree.root);
        self.out = std::mem::take(&mut inner.out);
        match r {
            Err(Flow::Err(e)) => Err(Flow::Err(e)),
            _ => Ok(()),
        }
    }

    fn eval_pipeline(&mut self, dot: &Dot, pipe: &'t Pipe) -> R<Value> {
        self.at = At::Pipe(pipe);
        let mut value: Option<Value> = None;
        for cmd in &pipe.cmds {
            let v = self.eval_command(dot, cmd, value.take())?;
            // A nil interface{} result is no value at all (Go's `value.Elem()`).
            value = Some(if matches!(v, Value::Nil) {
                Value::Missing
            } else {
                v
            });
        }
        let value = value.unwrap_or(Value::Missing);
        for name in &pipe.decl {
            if pipe.is_assign {
                self.set_var(name, Dot::plain(value.clone()))?;
            } else {
                self.vars.push((name.clone(), Dot::plain(value.clone())));
            }
        }
        Ok(value)
    }

    fn not_a_function(&self, args: &[Arg], fin: &Option<Value>) -> R<()> {
        if args.len() > 1 || fin.is_some() {
            return Err(self.error(format!("can't give argument to non-function {}", args[0])));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Dot, cmd: &'t Command, fin: Option<Value>) -> R<Value> {
        self.step()?;
        let first = &cmd.args[0];
        match first {
            Arg::Field { ident, .. } => {
                self.at = At::Arg(first);
                return self
                    .eval_field_chain(dot, dot.clone(), first, ident, &cmd.args, fin)
                    .map(|d| d.v);
            }
            Arg::Chain { .. } => return self.eval_chain(dot, first, &cmd.args, fin).map(|d| d.v),
            Arg::Identifier { name, .. } => {
                self.at = At::Arg(first);
                return self
                    .eval_function(dot, name, At::Cmd(cmd), &cmd.args, fin)
                    .map(|d| d.v);
            }
            Arg::Pipe(p) => {
                self.not_a_function(&cmd.args, &fin)?;
                return self.eval_pipeline(dot, p);
            }
            Arg::Variable { .. } => {
                return self.eval_variable(dot, first, &cmd.args, fin).map(|d| d.v);
            }
            _ => {}
        }
        self.at = At::Arg(first);
        self.not_a_function(&cmd.args, &fin)?;
        match first {
            Arg::Bool { value, .. } => Ok(Value::Bool(*value)),
            Arg::Dot { .. } => Ok(dot.v.clone()),
            Arg::Nil { .. } => Err(self.error("nil is not a command")),
            Arg::Number { .. } => self.ideal_constant(first),
            Arg::String { text, .. } => Ok(Value::str(text.as_str())),
            _ => Err(self.error(format!(
                "can't evaluate command {}",
                quote(&first.to_string())
            ))),
        }
    }

    fn ideal_constant(&mut self, arg: &'t Arg) -> R<Value> {
        self.at = At::Arg(arg);
        let Arg::Number { number: n, .. } = arg else {
            return Ok(Value::Missing);
        };
        if n.is_float && ideal_is_float(&n.text) {
            return Ok(Value::Float(n.float64));
        }
        if n.is_int {
            return Ok(Value::Int(n.int64));
        }
        if n.is_uint {
            return Err(self.error(format!("{} overflows int", n.text)));
        }
        Ok(Value::Missing)
    }

    fn eval_chain(
        &mut self,
        dot: &Dot,
        chain: &'t Arg,
        args: &'t [Arg],
        fin: Option<Value>,
    ) -> R<Dot> {
        self.at = At::Arg(chain);
        let Arg::Chain { node, fields, .. } = chain else {
            return Err(self.error("internal error: not a chain"));
        };
        if matches!(node.as_ref(), Arg::Nil { .. }) {
            return Err(self.error(format!("indirection through explicit nil in {chain}")));
        }
        let pipe = self.eval_arg(dot, None, node)?;
        self.eval_field_chain(dot, Dot::plain(pipe), chain, fields, args, fin)
    }

    fn eval_variable(
        &mut self,
        dot: &Dot,
        var: &'t Arg,
        args: &'t [Arg],
        fin: Option<Value>,
    ) -> R<Dot> {
        self.at = At::Arg(var);
        let Arg::Variable { ident, .. } = var else {
            return Err(self.error("internal error: not a variable"));
        };
        let value = self.var_value(&ident[0])?;
        if ident.len() == 1 {
            self.not_a_function(args, &fin)?;
            return Ok(value);
        }
        self.eval_field_chain(dot, value, var, &ident[1..], args, fin)
    }

    fn eval_field_chain(
        &mut self,
        dot: &Dot,
        mut receiver: Dot,
        node: &'t Arg,
        ident: &[String],
        args: &'t [Arg],
        fin: Option<Value>,
    ) -> R<Dot> {
        let n = ident.len();
        for name in &ident[..n - 1] {
            receiver = self.eval_field(dot, name, node, &[], None, receiver)?;
        }
        self.eval_field(dot, &ident[n - 1], node, args, fin, receiver)
    }

    fn eval_field(
        &mut self,
        dot: &Dot,
        name: &str,
        node: &'t Arg,
        args: &'t [Arg],
        fin: Option<Value>,
        receiver: Dot,
    ) -> R<Dot> {
        let has_args = args.len() > 1 || fin.is_some();
        match &receiver.v {
            Value::Missing => {
                if self.set.missing_key_option() == MissingKey::Error {
                    return Err(self.error(format!("nil data; no entry for key {}", quote(name))));
                }
                Ok(Dot::plain(Value::Missing))
            }
            Value::Nil => Err(self.error(format!("nil pointer evaluating interface {{}}.{name}"))),
            Value::Object(o) => {
                if let Some(method) = o.method(name) {
                    return self.eval_call(dot, &method, None, At::Arg(node), name, args, fin);
                }
                match o.field(name) {
                    Some(v) => {
                        if has_args {
                            return Err(self.error(format!(
                                "{name} has arguments but cannot be invoked as function"
                            )));
                        }
                        let boxed = matches!(v, Value::Nil);
                        Ok(Dot { v, boxed })
                    }
                    None => Err(self.error(format!(
                        "can't evaluate field {name} in type {}",
                        receiver.type_name()
                    ))),
                }
            }
            Value::Map(m) => {
                if has_args {
                    return Err(self.error(format!("{name} is not a method but has arguments")));
                }
                match m.get(name) {
                    Some(v) => Ok(Dot { v, boxed: true }),
                    None => match self.set.missing_key_option() {
                        MissingKey::Default => Ok(Dot::plain(Value::Missing)),
                        MissingKey::Zero => Ok(Dot {
                            v: Value::Nil,
                            boxed: true,
                        }),
                        MissingKey::Error => {
                            Err(self.error(format!("map has no entry for key {}", quote(name))))
                        }
                    },
                }
            }
            _ => Err(self.error(format!(
                "can't evaluate field {name} in type {}",
                receiver.type_name()
            ))),
        }
    }

    fn eval_function(
        &mut self,
        dot: &Dot,
        name: &str,
        node: At<'t>,
        args: &'t [Arg],
        fin: Option<Value>,
    ) -> R<Dot> {
        if let Some(f) = self.set.func_ref(name) {
            let f = f.clone();
            return self.eval_call(dot, &f, None, node, name, args, fin);
        }
        if let Some((b, f)) = builtins::lookup(name) {
            return self.eval_call(dot, &f, Some(b), node, name, args, fin);
        }
        Err(self.error(format!("{} is not a defined function", quote(name))))
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_call(
        &mut self,
        dot: &Dot,
        f: &Func,
        builtin: Option<Builtin>,
        node: At<'t>,
        name: &str,
        args: &'t [Arg],
        fin: Option<Value>,
    ) -> R<Dot> {
        let args = if args.is_empty() { args } else { &args[1..] };
        let num_in = args.len() + usize::from(fin.is_some());
        let mut num_fixed = args.len();
        if f.variadic.is_some() {
            num_fixed = f.params.len();
            if num_in < num_fixed {
                return Err(self.error(format!(
                    "wrong number of args for {name}: want at least {} got {}",
                    f.params.len(),
                    args.len()
                )));
            }
        } else if num_in != f.num_in() {
            return Err(self.error(format!(
                "wrong number of args for {name}: want {} got {num_in}",
                f.num_in()
            )));
        }

        if let Some(b @ (Builtin::And | Builtin::Or)) = builtin {
            let is_or = b == Builtin::Or;
            let mut v = Value::Missing;
            for arg in args {
                v = self.eval_arg(dot, Some(Param::Reflect), arg)?;
                if v.is_true() == is_or {
                    return Ok(Dot::plain(v));
                }
            }
            if let Some(fv) = fin {
                v = fv;
            }
            return Ok(Dot::plain(v));
        }

        let mut argv = Vec::with_capacity(num_in);
        let mut i = 0;
        while i < num_fixed && i < args.len() {
            argv.push(self.eval_arg(dot, Some(f.param(i)), &args[i])?);
            i += 1;
        }
        if let Some(rest) = f.variadic {
            while i < args.len() {
                argv.push(self.eval_arg(dot, Some(rest), &args[i])?);
                i += 1;
            }
        }
        if let Some(fv) = fin {
            let t = if f.variadic.is_some() {
                if num_in - 1 < num_fixed {
                    f.param(num_in - 1)
                } else {
                    f.variadic.unwrap_or(Param::Any)
                }
            } else {
                f.param(f.num_in() - 1)
            };
            argv.push(self.validate(Dot::plain(fv), Some(t))?);
        }

        if builtin == Some(Builtin::Call) {
            let callee = match args.first() {
                Some(a) => a.to_string(),
                None => String::from("<reflect.Value>"),
            };
            argv.insert(0, Value::str(callee));
        }
        let result = match &f.body {
            Body::Pure(body) => body(&argv),
            Body::Engine(body) => {
                let mut ctx = Ctx {
                    set: self.set,
                    budget: self.budget,
                    depth: self.depth,
                };
                body(&mut ctx, &argv)
            }
        };
        match result {
            Ok(v) => {
                let boxed = matches!(v, Value::Nil);
                Ok(Dot { v, boxed })
            }
            Err(e) => {
                self.at = node;
                if let Some(budget) = self.budget_error(&e) {
                    return Err(Flow::Err(budget));
                }
                Err(self.error(format!("error calling {name}: {e}")))
            }
        }
    }

    /// A budget error raised inside an `include`d template is passed on as a budget error.
    fn budget_error(&self, msg: &str) -> Option<Error> {
        if msg.contains("execution budget exceeded")
            && (self.budget.steps.get() > self.set.limits_ref().max_steps
                || self.budget.output.get() > self.set.limits_ref().max_output)
        {
            return Some(Error::exec(msg.to_string()).into_budget());
        }
        None
    }

    /// Go's `validateType`.
    fn validate(&mut self, d: Dot, typ: Option<Param>) -> R<Value> {
        let Some(typ) = typ else {
            return Ok(d.v);
        };
        match (&d.v, typ) {
            (Value::Missing, Param::Reflect) => Ok(Value::Missing),
            (Value::Missing, t) if t.can_be_nil() => Ok(Value::Nil),
            (Value::Missing, t) => {
                Err(self.error(format!("invalid value; expected {}", t.go_type())))
            }
            (v, t) if t.accepts(v) => Ok(d.v),
            (Value::Nil, t) => Err(self.error(format!(
                "wrong type for value; expected {}; got interface {{}}",
                t.go_type()
            ))),
            (v, t) => Err(self.error(format!(
                "wrong type for value; expected {}; got {}",
                t.go_type(),
                v.type_name()
            ))),
        }
    }

    fn eval_arg(&mut self, dot: &Dot, typ: Option<Param>, n: &'t Arg) -> R<Value> {
        self.at = At::Arg(n);
        match n {
            Arg::Dot { .. } => return self.validate(dot.clone(), typ),
            Arg::Nil { .. } => {
                return match typ {
                    Some(Param::Reflect) => Ok(Value::Missing),
                    Some(t) if t.can_be_nil() => Ok(Value::Nil),
                    None => Ok(Value::Nil),
                    Some(t) => Err(self.error(format!("cannot assign nil to {}", t.go_type()))),
                };
            }
            Arg::Field { ident, .. } => {
                let d = self.eval_field_chain(
                    dot,
                    dot.clone(),
                    n,
                    ident,
                    std::slice::from_ref(n),
                    None,
                )?;
                return self.validate(d, typ);
            }
            Arg::Variable { .. } => {
                let d = self.eval_variable(dot, n, &[], None)?;
                return self.validate(d, typ);
            }
            Arg::Pipe(p) => {
                let v = self.eval_pipeline(dot, p)?;
                return self.validate(Dot::plain(v), typ);
            }
            Arg::Identifier { name, .. } => {
                let d = self.eval_function(dot, name, At::Arg(n), std::slice::from_ref(n), None)?;
                return self.validate(d, typ);
            }
            Arg::Chain { .. } => {
                let d = self.eval_chain(dot, n, &[], None)?;
                return self.validate(d, typ);
            }
            _ => {}
        }
        let typ = typ.unwrap_or(Param::Any);
        match typ {
            Param::Bool => match n {
                Arg::Bool { value, .. } => Ok(Value::Bool(*value)),
                _ => Err(self.error(format!("expected bool; found {n}"))),
            },
            Param::Float64 => match n {
                Arg::Number { number, .. } if number.is_float => Ok(Value::Float(number.float64)),
                _ => Err(self.error(format!("expected float; found {n}"))),
            },
            Param::Int | Param::Int64 => match n {
                Arg::Number { number, .. } if number.is_int => Ok(if typ == Param::Int {
                    Value::Int(number.int64)
                } else {
                    Value::Int64(number.int64)
                }),
                _ => Err(self.error(format!("expected integer; found {n}"))),
            },
            Param::String => match n {
                Arg::String { text, .. } => Ok(Value::str(text.as_str())),
                _ => Err(self.error(format!("expected string; found {n}"))),
            },
            Param::Any | Param::Reflect => match n {
                Arg::Bool { value, .. } => Ok(Value::Bool(*value)),
                Arg::Number { .. } => self.ideal_constant(n),
                Arg::String { text, .. } => Ok(Value::str(text.as_str())),
                _ => Err(self.error(format!(
                    "can't handle assignment of {n} to empty interface argument"
                ))),
            },
            Param::Map | Param::List => Err(self.error(format!(
                "can't handle {n} for arg of type {}",
                typ.go_type()
            ))),
        }
    }

    fn print_value(&mut self, v: &Value) -> R<()> {
        let s = match v {
            Value::Missing => "<no value>".to_string(),
            v => crate::fmt::format_value(v),
        };
        self.write(&s)
    }
}

fn node_pos(n: &Node) -> usize {
    match n {
        Node::Action { pos, .. }
        | Node::Branch { pos, .. }
        | Node::Template { pos, .. }
        | Node::Break { pos }
        | Node::Continue { pos } => *pos,
        Node::Text { .. } | Node::Comment => 0,
    }
}
