//! What the steps of a build share: the build options, the builder (the file system and the
//! options), a loaded kustomization ([`Target`]) and what has been accumulated so far. The
//! steps themselves (generators, transformers, patches, vars, sorting) depend on this module,
//! never on the build that runs them.

use crate::error::Error;
use crate::fs::FileSystem;
use crate::kustomization::Kustomization;
use crate::resource::{Resource, ns_eq};
use serde_json::Value;

/// The order of the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reorder {
    /// kustomize's legacy order (by kind, then id) unless `sortOptions` says otherwise; what
    /// `kubectl kustomize` does.
    #[default]
    Legacy,
    /// Input order unless `sortOptions` says otherwise (kustomize's library default).
    None,
}

/// Why a kustomization with Helm charts does not build (rather than building without them).
pub(crate) const HELM_UNSUPPORTED: &str = "Helm charts in kustomizations are not supported yet (render the chart into a file and list it in resources)";

/// Fetches remote bases (Git URLs in `resources`) for a build that allows them. This crate does
/// no I/O of its own: the caller decides whether and how remote content is reached.
pub trait RemoteLoader: Send + Sync + std::fmt::Debug {
    /// Loads the remote resource `url` (as written in the kustomization): the file system holding
    /// its content and the directory in it to build. The error is one line for people.
    fn load(&self, url: &str) -> Result<(Box<dyn FileSystem>, String), String>;
}

/// Build options.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Output order when the kustomization has no `sortOptions`.
    pub reorder: Reorder,
    /// Allow files outside a kustomization's directory (`--load-restrictor LoadRestrictionsNone`).
    pub allow_outside_root: bool,
    /// Where remote bases come from; `None` (the default) refuses them.
    pub remote: Option<std::sync::Arc<dyn RemoteLoader>>,
}

/// Whether a `resources` entry names remote content rather than a path.
pub fn is_remote(entry: &str) -> bool {
    entry.contains("://") || entry.starts_with("github.com/") || entry.starts_with("git@")
}

/// Resources and vars collected so far.
#[derive(Debug, Default)]
pub(crate) struct Accumulator {
    pub(crate) resources: Vec<Resource>,
    pub(crate) vars: Vec<crate::kustomization::Var>,
    /// Transformer configuration from `configurations` files.
    pub(crate) config: crate::config::TransformerConfig,
    /// The custom OpenAPI document (`openapi.path`) in effect, inherited from bases.
    pub(crate) schema: Option<std::sync::Arc<Value>>,
}

impl Accumulator {
    pub(crate) fn append(&mut self, r: Resource) -> Result<(), Error> {
        let id = r.id();
        if self.resources.iter().any(|x| same_id(&x.id(), &id)) {
            return Err(Error::msg(format!(
                "may not add resource with an already registered id: {id}"
            )));
        }
        self.resources.push(r);
        Ok(())
    }
}

/// kustomize's id equality: the same group, version, kind and name, in the same effective
/// namespace (an empty one is `default`; every cluster-scoped object is in none).
pub(crate) fn same_id(a: &crate::resource::ResId, b: &crate::resource::ResId) -> bool {
    a.kind == b.kind
        && a.group == b.group
        && a.version == b.version
        && a.name == b.name
        && (!crate::fieldspecs::id_is_namespaced(a) || ns_eq(&a.namespace, &b.namespace))
}

/// Reads the files of a build.
pub(crate) struct Builder<'a> {
    pub(crate) fs: &'a dyn FileSystem,
    pub(crate) options: &'a Options,
    /// The kustomization directories being accumulated, outermost first (to refuse cycles).
    pub(crate) chain: std::cell::RefCell<Vec<String>>,
    /// Kustomizations accumulated so far in this build, bounded by [`MAX_KUSTOMIZATIONS`].
    pub(crate) loads: std::cell::Cell<usize>,
    /// Whether each step's changes are recorded (see [`crate::provenance`]).
    pub(crate) record: bool,
}

/// Most kustomizations one build accumulates. Without cycles, bases shared along many paths
/// (each overlay listing two variants of the next, twenty levels deep) make a build accumulate
/// millions of them; real trees accumulate at most a few hundred.
pub(crate) const MAX_KUSTOMIZATIONS: usize = 10_000;

impl<'a> Builder<'a> {
    /// A builder reading from `fs`.
    pub(crate) fn new(fs: &'a dyn FileSystem, options: &'a Options) -> Self {
        Builder {
            fs,
            options,
            chain: std::cell::RefCell::new(Vec::new()),
            loads: std::cell::Cell::new(0),
            record: false,
        }
    }
}

/// A loaded kustomization with its location.
pub(crate) struct Target {
    pub(crate) dir: String,
    pub(crate) file: String,
    pub(crate) k: Kustomization,
    /// The custom OpenAPI document for this kustomization's patches (its own or a base's).
    pub(crate) schema: Option<std::sync::Arc<Value>>,
}

/// The path of a directory (a base, a component, a plugin configuration) named in kustomization
/// `t`: anywhere in the tree, but never above its root (a `..` is not clamped there).
pub(crate) fn dir_in_tree(t: &Target, rel: &str) -> Result<String, Error> {
    if crate::fs::escapes_root(&t.dir, rel) {
        return Err(Error::msg(outside_tree(rel)));
    }
    Ok(crate::fs::join(&t.dir, rel))
}

/// The error for a path that climbs above the root of the tree being built.
pub(crate) fn outside_tree(rel: &str) -> String {
    format!("'{rel}' lies outside the root of the tree being built")
}
