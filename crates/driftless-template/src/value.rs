//! The values templates compute with, modelled on what Go's `reflect` sees when Helm renders:
//! data decoded from YAML/JSON (`map[string]interface{}`, `[]interface{}`, `float64`, `string`,
//! `bool`, `nil`), template constants (`int`, `float64`), and what functions return (`int`,
//! `int64`, `[]interface{}`...).

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// A value.
///
/// `Missing` is Go's invalid `reflect.Value` (a missing map key, or no value at all): it prints
/// as `<no value>`. `Nil` is a nil `interface{}` held in a map or list (a YAML/JSON `null`).
#[derive(Debug, Clone, Default)]
pub enum Value {
    /// No value at all (Go's zero `reflect.Value`).
    #[default]
    Missing,
    /// A nil `interface{}`.
    Nil,
    /// A Go `bool`.
    Bool(bool),
    /// A Go `int`.
    Int(i64),
    /// A Go `int64`.
    Int64(i64),
    /// A Go `uint64`.
    Uint64(u64),
    /// A Go `uint8` (a byte, as `index` of a string gives it).
    Byte(u8),
    /// A Go `float64`.
    Float(f64),
    /// A Go `string`.
    String(Arc<str>),
    /// A Go slice: `[]interface{}`, or `[]string`/`[]int` where Sprig returns those.
    List(List),
    /// A Go `map[string]interface{}`: shared and mutable, as Go's maps are (Sprig's `set`
    /// changes the map every holder sees).
    Map(Dict),
    /// A host object with fields and methods (Helm's `.Files`, `.Capabilities`...).
    Object(Arc<dyn Object>),
}

impl Value {
    /// A string value.
    pub fn str(s: impl Into<Arc<str>>) -> Value {
        Value::String(s.into())
    }

    /// A `[]interface{}` value.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(List::new(items))
    }

    /// A `[]string` value.
    pub fn strings(items: impl IntoIterator<Item = impl Into<Arc<str>>>) -> Value {
        Value::List(List::typed(
            Elem::String,
            items.into_iter().map(|s| Value::String(s.into())).collect(),
        ))
    }

    /// A `[]int` value.
    pub fn ints(items: impl IntoIterator<Item = i64>) -> Value {
        Value::List(List::typed(
            Elem::Int,
            items.into_iter().map(Value::Int).collect(),
        ))
    }

    /// Go's type name, as `%T` prints it.
    pub fn type_name(&self) -> String {
        match self {
            Value::Missing | Value::Nil => "<nil>".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) => "int".into(),
            Value::Int64(_) => "int64".into(),
            Value::Uint64(_) => "uint64".into(),
            Value::Byte(_) => "uint8".into(),
            Value::Float(_) => "float64".into(),
            Value::String(_) => "string".into(),
            Value::List(l) => l.elem.go_type().into(),
            Value::Map(_) => "map[string]interface {}".into(),
            Value::Object(o) => o.type_name(),
        }
    }

    /// Go's `reflect.Kind` name (Sprig's `kindOf`).
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Missing | Value::Nil => "invalid",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Int64(_) => "int64",
            Value::Uint64(_) => "uint64",
            Value::Byte(_) => "uint8",
            Value::Float(_) => "float64",
            Value::String(_) => "string",
            Value::List(_) => "slice",
            Value::Map(_) => "map",
            Value::Object(_) => "struct",
        }
    }

    /// Go's `template.IsTrue`.
    pub fn is_true(&self) -> bool {
        match self {
            Value::Missing | Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) | Value::Int64(i) => *i != 0,
            Value::Uint64(u) => *u != 0,
            Value::Byte(b) => *b != 0,
            Value::Float(f) => *f != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::Object(o) => o.is_true(),
        }
    }

    /// The string inside, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// True for `Missing` and `Nil`.
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Missing | Value::Nil)
    }

    /// A copy that shares nothing mutable with `self` (maps are copied all the way down; below
    /// 200 levels, where only a map containing itself reaches, the rest is shared).
    pub fn deep_copy(&self) -> Value {
        self.deep_copy_at(0)
    }

    fn deep_copy_at(&self, depth: usize) -> Value {
        if depth > 200 {
            return self.clone();
        }
        match self {
            Value::Map(m) => Value::Map(Dict::from_map(
                m.read()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.deep_copy_at(depth + 1)))
                    .collect(),
            )),
            Value::List(l) => Value::List(List::typed(
                l.elem,
                l.iter().map(|v| v.deep_copy_at(depth + 1)).collect(),
            )),
            v => v.clone(),
        }
    }

    /// Converts JSON into the values Go's `encoding/json` makes in an `interface{}`: numbers
    /// are `float64`, objects `map[string]interface{}`, arrays `[]interface{}`, `null` is nil.
    pub fn from_json(v: &serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Nil,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(0.0)),
            serde_json::Value::String(s) => Value::str(s.as_str()),
            serde_json::Value::Array(a) => Value::list(a.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(o) => Value::Map(Dict::from_map(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            )),
        }
    }
}

/// The element type of a slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Elem {
    /// `interface{}`: elements are boxed, as in data read from YAML or JSON.
    #[default]
    Any,
    /// `string`
    String,
    /// `int`
    Int,
}

impl Elem {
    /// Go's name of the slice type.
    pub fn go_type(self) -> &'static str {
        match self {
            Elem::Any => "[]interface {}",
            Elem::String => "[]string",
            Elem::Int => "[]int",
        }
    }
}

/// A Go slice: shared, immutable elements and their static type.
#[derive(Debug, Clone, Default)]
pub struct List {
    items: Arc<Vec<Value>>,
    elem: Elem,
}

impl List {
    /// A `[]interface{}`.
    pub fn new(items: Vec<Value>) -> Self {
        List {
            items: Arc::new(items),
            elem: Elem::Any,
        }
    }

    /// A slice of the element type `elem` (the items must be of that type).
    pub fn typed(elem: Elem, items: Vec<Value>) -> Self {
        List {
            items: Arc::new(items),
            elem,
        }
    }

    /// The element type.
    pub fn elem(&self) -> Elem {
        self.elem
    }

    /// A sub-slice of the same type.
    pub fn slice(&self, from: usize, to: usize) -> List {
        List::typed(
            self.elem,
            self.items
                .get(from..to)
                .map(<[Value]>::to_vec)
                .unwrap_or_default(),
        )
    }
}

impl std::ops::Deref for List {
    type Target = Vec<Value>;
    fn deref(&self) -> &Vec<Value> {
        &self.items
    }
}

/// A Go `map[string]interface{}`: keys in sorted order (as Go's fmt and `range` visit them),
/// shared by every clone.
#[derive(Debug, Clone, Default)]
pub struct Dict(Arc<RwLock<BTreeMap<String, Value>>>);

impl Dict {
    /// An empty map.
    pub fn new() -> Self {
        Dict::default()
    }

    /// A map holding `entries`.
    pub fn from_map(entries: BTreeMap<String, Value>) -> Self {
        Dict(Arc::new(RwLock::new(entries)))
    }

    /// Reads the entries.
    pub fn read(&self) -> RwLockReadGuard<'_, BTreeMap<String, Value>> {
        self.0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Changes the entries (every holder of this map sees the change).
    pub fn write(&self) -> RwLockWriteGuard<'_, BTreeMap<String, Value>> {
        self.0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The value at `key`.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.read().get(key).cloned()
    }

    /// Sets `key`.
    pub fn insert(&self, key: impl Into<String>, value: Value) {
        self.write().insert(key.into(), value);
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// True when both are the same map.
    pub fn same(&self, other: &Dict) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// A copy sharing nothing mutable.
    pub fn deep_copy(&self) -> Dict {
        match Value::Map(self.clone()).deep_copy() {
            Value::Map(m) => m,
            _ => Dict::new(),
        }
    }
}

/// A host object: a Go struct or pointer with fields and methods, as Helm passes `.Chart`,
/// `.Files` or `.Capabilities`.
pub trait Object: Send + Sync + Debug {
    /// Go's type name (`%T`, and "can't evaluate field X in type T").
    fn type_name(&self) -> String;
    /// An exported field, or `None` when there is no such field.
    fn field(&self, name: &str) -> Option<Value>;
    /// A method, or `None` when there is no such method; called with the evaluated arguments.
    fn method(&self, _name: &str) -> Option<crate::Func> {
        None
    }
    /// Go's truth of this value (structs are always true; nil pointers are false).
    fn is_true(&self) -> bool {
        true
    }
    /// What `%v` prints.
    fn format(&self) -> String;
    /// The Go map or slice this object is, when its Go type is a named map or slice type
    /// with methods (Helm's `.Files` is a `map[string][]byte`, `.Capabilities.APIVersions` a
    /// `[]string`): `range`, `len` and `index` see this value.
    fn as_value(&self) -> Option<Value> {
        None
    }
    /// The object itself, for functions that take it back (Sprig's date functions take the
    /// `time.Time` that `now` returned).
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }
}
