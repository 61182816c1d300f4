//! Functions callable from templates: their Go signature (so arguments are checked and
//! converted as Go's `reflect` does) and their body.

use std::collections::HashMap;
use std::sync::Arc;

use crate::value::Value;

/// The Go type of one parameter; it decides how an argument is converted and which error a
/// wrong one gives ("wrong type for value; expected string; got float64").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// `interface{}`: anything; a missing value arrives as `Value::Nil`.
    Any,
    /// `string`.
    String,
    /// `int`.
    Int,
    /// `int64`.
    Int64,
    /// `float64`.
    Float64,
    /// `bool`.
    Bool,
    /// `map[string]interface{}`; a missing value arrives as `Value::Nil` (a nil map).
    Map,
    /// `[]interface{}`; a missing value arrives as `Value::Nil` (a nil slice).
    List,
    /// `reflect.Value`, as Go's built-ins take it: the value as it is, `Value::Missing` kept.
    Reflect,
}

impl Param {
    /// Go's name of the type.
    pub fn go_type(self) -> &'static str {
        match self {
            Param::Any => "interface {}",
            Param::String => "string",
            Param::Int => "int",
            Param::Int64 => "int64",
            Param::Float64 => "float64",
            Param::Bool => "bool",
            Param::Map => "map[string]interface {}",
            Param::List => "[]interface {}",
            Param::Reflect => "reflect.Value",
        }
    }

    /// Whether Go's `canBeNil` holds for the type.
    pub(crate) fn can_be_nil(self) -> bool {
        matches!(self, Param::Any | Param::Map | Param::List | Param::Reflect)
    }

    /// Whether a value of this concrete kind is assignable to the parameter.
    pub(crate) fn accepts(self, v: &Value) -> bool {
        match self {
            Param::Any | Param::Reflect => true,
            Param::String => matches!(v, Value::String(_)),
            Param::Int => matches!(v, Value::Int(_)),
            Param::Int64 => matches!(v, Value::Int64(_)),
            Param::Float64 => matches!(v, Value::Float(_)),
            Param::Bool => matches!(v, Value::Bool(_)),
            Param::Map => matches!(v, Value::Map(_)),
            Param::List => matches!(v, Value::List(l) if l.elem() == crate::value::Elem::Any),
        }
    }
}

/// What a function body returns: a value, or the error Go prints after
/// `error calling NAME: `.
pub type FuncResult = Result<Value, String>;

type PureFn = dyn Fn(&[Value]) -> FuncResult + Send + Sync;
type EngineFn = dyn Fn(&mut dyn Engine, &[Value]) -> FuncResult + Send + Sync;

/// What an engine-aware function ([`Func::with_engine`]) can ask of the execution it runs in:
/// to execute other templates of the same set, within the same budget and depth limit. The
/// executor's handle is the one implementation.
pub trait Engine {
    /// Executes the template `name` with `data` as dot into a new string (Helm's `include`).
    /// The error is Go's message (`template: ...`).
    fn execute(&mut self, name: &str, data: &Value) -> Result<String, String>;

    /// Parses `text` as a new template `name` in a copy of the set and executes it with
    /// `data` (Helm's `tpl`): the text sees every template of the set, and what it defines is
    /// dropped afterwards.
    fn execute_text(&mut self, name: &str, text: &str, data: &Value) -> Result<String, String>;
}

#[derive(Clone)]
pub(crate) enum Body {
    Pure(Arc<PureFn>),
    Engine(Arc<EngineFn>),
}

/// A template function: its parameters (the last may be variadic) and its body.
#[derive(Clone)]
pub struct Func {
    pub(crate) params: Arc<[Param]>,
    pub(crate) variadic: Option<Param>,
    pub(crate) body: Body,
}

impl std::fmt::Debug for Func {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Func")
            .field("params", &self.params)
            .field("variadic", &self.variadic)
            .finish()
    }
}

impl Func {
    /// A function of fixed parameters, e.g. Sprig's `indent` is
    /// `Func::new(&[Param::Int, Param::String], ...)`.
    pub fn new(
        params: &[Param],
        body: impl Fn(&[Value]) -> FuncResult + Send + Sync + 'static,
    ) -> Self {
        Func {
            params: params.into(),
            variadic: None,
            body: Body::Pure(Arc::new(body)),
        }
    }

    /// A function whose last parameter is variadic (`...rest`); the body gets the fixed
    /// arguments then every variadic one.
    pub fn variadic(
        params: &[Param],
        rest: Param,
        body: impl Fn(&[Value]) -> FuncResult + Send + Sync + 'static,
    ) -> Self {
        Func {
            params: params.into(),
            variadic: Some(rest),
            body: Body::Pure(Arc::new(body)),
        }
    }

    /// A function that calls back into the template set it runs in (Helm's `include` and
    /// `tpl`): the body gets an [`Engine`] to execute other templates with the same budget.
    pub fn with_engine(
        params: &[Param],
        rest: Option<Param>,
        body: impl Fn(&mut dyn Engine, &[Value]) -> FuncResult + Send + Sync + 'static,
    ) -> Self {
        Func {
            params: params.into(),
            variadic: rest,
            body: Body::Engine(Arc::new(body)),
        }
    }

    /// The number of Go parameters (the variadic slice counts as one).
    pub(crate) fn num_in(&self) -> usize {
        self.params.len() + usize::from(self.variadic.is_some())
    }

    /// The parameter type of argument `i`.
    pub(crate) fn param(&self, i: usize) -> Param {
        match self.params.get(i) {
            Some(p) => *p,
            None => self.variadic.unwrap_or(Param::Any),
        }
    }
}

/// Functions by name, as Go's `template.FuncMap`.
pub type FuncMap = HashMap<String, Func>;
