//! Go's `text/template`, in Rust, with Go's exact semantics and messages, and Sprig's
//! functions: the engine under Driftless's Helm renderer and ApplicationSet templates. Pure:
//! no I/O, no cluster, no Git.
//!
//! ```
//! use driftless_template::{Templates, Value};
//!
//! let mut t = Templates::new("example");
//! t.parse("main", "{{range $i, $v := .}}{{$i}}={{printf \"%05.1f\" $v}} {{end}}").unwrap();
//! let data = Value::from_json(&serde_json::json!([1.5, 20]));
//! assert_eq!(t.execute("main", &data).unwrap(), "0=001.5 1=020.0 ");
//! ```
//!
//! Functions are registered with their Go signature ([`Func`], [`Param`]) so that arguments
//! are converted and refused as Go's `reflect` does. Functions that run other templates
//! (Helm's `include`, `tpl`) use [`Func::with_engine`] and get an [`Engine`].

mod ast;
mod builtins;
mod error;
mod exec;
mod fmt;
mod func;
pub mod funcs;
mod lex;
mod parse;
mod set;
mod strconv;
mod value;

pub use builtins::{html_escape, js_escape, query_escape};
pub use error::{Error, ErrorKind};
pub use fmt::{format_value, sprint, sprintf, sprintln};
pub use func::Engine;
pub use func::{Func, FuncMap, FuncResult, Param};
pub use set::Limits;
pub use set::{MissingKey, Templates};
pub use value::{Dict, Elem, List, Object, Value};
