//! A set of associated templates, as Go's `*template.Template` and its namespace: parsing
//! texts into it, functions, options, and execution.

use std::collections::HashMap;
use std::sync::Arc;

use crate::ast::Tree;
use crate::error::Error;
use crate::func::{Func, FuncMap};

/// How far an execution may go before it is stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Evaluation steps (nodes walked and commands evaluated), for all templates of one
    /// execution together, `include`s and `tpl`s included.
    pub max_steps: u64,
    /// Bytes of output, all templates of one execution together.
    pub max_output: u64,
    /// Nesting of `{{template}}` calls (and `include`s). Go allows 100000; each level costs
    /// stack here, so the default is lower (Helm stops `include` recursion at 1000 anyway).
    pub max_depth: usize,
}

impl Default for Limits {
    /// 100 million steps (seconds of work), 256 MiB of output, 1000 levels.
    fn default() -> Self {
        Limits {
            max_steps: 100_000_000,
            max_output: 256 << 20,
            max_depth: 1000,
        }
    }
}

/// Go's `missingkey` option: what a missing map key gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissingKey {
    /// `missingkey=default` (or `invalid`): no value, printed `<no value>`.
    #[default]
    Default,
    /// `missingkey=zero`: the map's zero value, a nil `interface{}` (printed `<no value>` too,
    /// which Helm then replaces).
    Zero,
    /// `missingkey=error`: execution stops with `map has no entry for key "K"`.
    Error,
}

/// A set of templates that can call one another, with their functions and options.
///
/// Cloning is cheap (trees and functions are shared): Helm's `tpl` executes in a clone.
#[derive(Debug, Clone)]
pub struct Templates {
    name: String,
    trees: HashMap<String, Arc<Tree>>,
    funcs: Arc<FuncMap>,
    missing_key: MissingKey,
    delims: (String, String),
    limits: Limits,
}

impl Templates {
    /// An empty set named `name` (Go's `template.New(name)`), with only the built-in
    /// functions.
    pub fn new(name: impl Into<String>) -> Self {
        Templates {
            name: name.into(),
            trees: HashMap::new(),
            funcs: Arc::new(FuncMap::new()),
            missing_key: MissingKey::Default,
            delims: (String::new(), String::new()),
            limits: Limits::default(),
        }
    }

    /// Adds functions (Go's `Funcs`); a name already there is replaced, and the built-ins
    /// can be overridden as in Go.
    pub fn funcs(&mut self, funcs: FuncMap) -> &mut Self {
        Arc::make_mut(&mut self.funcs).extend(funcs);
        self
    }

    /// Adds one function.
    pub fn func(&mut self, name: impl Into<String>, f: Func) -> &mut Self {
        Arc::make_mut(&mut self.funcs).insert(name.into(), f);
        self
    }

    /// Sets the `missingkey` option.
    pub fn missing_key(&mut self, m: MissingKey) -> &mut Self {
        self.missing_key = m;
        self
    }

    /// Sets the action delimiters for texts parsed afterwards (empty means `{{` and `}}`).
    pub fn delims(&mut self, left: impl Into<String>, right: impl Into<String>) -> &mut Self {
        self.delims = (left.into(), right.into());
        self
    }

    /// Sets the execution limits.
    pub fn limits(&mut self, limits: Limits) -> &mut Self {
        self.limits = limits;
        self
    }

    /// Parses `text` as the template `name` (Go's `t.New(name).Parse(text)`): the templates it
    /// `define`s join the set, replacing ones of the same name unless the new one is empty.
    pub fn parse(&mut self, name: &str, text: &str) -> Result<&mut Self, Error> {
        self.parse_main(name, text)?;
        Ok(self)
    }

    /// [`Templates::parse`], returning the tree of `name` itself as Go's `t.New(name).Parse`
    /// leaves it in the new template: its own (maybe empty) text, even where the set keeps an
    /// earlier non-empty definition of that name.
    pub(crate) fn parse_main(
        &mut self,
        name: &str,
        text: &str,
    ) -> Result<Option<Arc<Tree>>, Error> {
        let funcs = self.funcs.clone();
        let has = |f: &str| funcs.contains_key(f) || crate::builtins::is_builtin(f);
        let trees = crate::parse::parse(name, text, &self.delims.0, &self.delims.1, &has)
            .map_err(|e| Error::parse(e.0))?;
        let mut main = None;
        for (tname, tree) in trees {
            let tree = Arc::new(tree);
            if tname == name {
                main = Some(tree.clone());
            }
            // Go's `associate`: an empty definition does not replace an existing one.
            if tree.root.is_empty_tree() && self.trees.contains_key(&tname) {
                continue;
            }
            self.trees.insert(tname, tree);
        }
        Ok(main)
    }

    /// The set's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The names of the templates defined so far, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.trees.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    }

    /// Whether a template of that name is defined.
    pub fn has(&self, name: &str) -> bool {
        self.trees.contains_key(name)
    }

    /// The parse tree of a template as Go's `Tree.Root.String()` prints it (comments dropped,
    /// constants as written): two parses are the same when these are equal.
    pub fn tree_text(&self, name: &str) -> Option<String> {
        self.trees.get(name).map(|t| t.root.to_string())
    }

    pub(crate) fn tree(&self, name: &str) -> Option<Arc<Tree>> {
        self.trees.get(name).cloned()
    }

    pub(crate) fn func_ref(&self, name: &str) -> Option<&Func> {
        self.funcs.get(name)
    }

    pub(crate) fn missing_key_option(&self) -> MissingKey {
        self.missing_key
    }

    pub(crate) fn limits_ref(&self) -> &Limits {
        &self.limits
    }
}
