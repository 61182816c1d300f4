//! Comparison of desired and live Kubernetes objects.
//!
//! Pure: objects come in as [`serde_json::Value`] (with `preserve_order`), results come out. The
//! one entry point is [`diff_object`]; [`Summary`] counts results; [`managers_of`] and
//! [`other_managers`] name who owns a changed field.
//!
//! ```
//! use driftless_diff::{diff_object, Action, DiffOptions};
//! use serde_json::json;
//!
//! let desired = json!({"apiVersion": "v1", "kind": "ConfigMap",
//!     "metadata": {"name": "settings", "namespace": "shop"}, "data": {"mode": "fast"}});
//! let live = json!({"apiVersion": "v1", "kind": "ConfigMap",
//!     "metadata": {"name": "settings", "namespace": "shop", "uid": "0b1c",
//!         "managedFields": [{"manager": "driftless", "operation": "Apply",
//!             "fieldsV1": {"f:data": {"f:mode": {}}}}]},
//!     "data": {"mode": "slow"}});
//! let diff = diff_object(Some(&desired), Some(&live), &DiffOptions::default())?;
//! assert_eq!(diff.action, Action::Update);
//! assert_eq!(diff.changed_paths, ["/data/mode"]);
//! assert!(diff.unified.contains("-  mode: slow\n+  mode: fast"));
//! # Ok::<(), driftless_diff::Error>(())
//! ```
//!
//! # What is compared
//!
//! Both sides are reduced to the same set of fields, then normalized, then masked:
//!
//! 1. **Fields.** The comparison set is the union of the fields the manager (`driftless` by
//!    default) owns in the live object's `metadata.managedFields` and the fields the desired
//!    side claims: its own managed fields for that manager when it has some (a server-side
//!    dry-run result), else every field it sets (a manifest from Git). Both sides are projected
//!    onto that set ([`FieldSet::project`]), so fields only others own or the server defaulted
//!    never count, while a field Driftless owns but Git dropped shows as a removal. `apiVersion`,
//!    `kind`, `metadata.name` and `metadata.namespace` are always kept.
//! 2. **Ignore rules** ([`IgnoreRule`]) matching the object remove their fields from both sides.
//! 3. **Normalization** ([`normalize()`]) drops `status`, server-set metadata and the last-applied
//!    annotation; a Secret's `stringData` is folded into `data` first, as the API server does.
//!    For built-in kinds (API groups without a dot, or ending in `.k8s.io`), resource quantities
//!    Git spells differently from the server's canonical form but with the same value
//!    (`cpu: 0.5` / `500m`) take the live spelling ([`quantity`]); known server defaults inside
//!    atomic lists that Git leaves unset are dropped from the live side ([`defaults`]).
//! 4. **Masking** ([`mask_secret_values`]): a Secret's values become `++++++++`-style masks,
//!    equal values equal masks, so the diff says which keys changed and nothing more.
//!
//! Comparing a manifest locally can still report differences that applying would not make
//! (a defaulted field inside a list item Git declares, a value the server rewrites); the caller
//! confirms a suspected drift by passing the
//! server-side dry-run result of the apply as `desired`, which this crate compares the same way.

mod compare;
pub mod defaults;
pub mod fieldset;
pub mod ignore;
pub mod managed;
pub mod mask;
pub mod normalize;
pub mod paths;
pub mod pointer;
pub mod quantity;
pub mod render;

use std::fmt;

use serde::Serialize;
use serde_json::Value;

pub use compare::diff_object;
pub use fieldset::{FieldSet, FieldSetError, PathElement};
pub use ignore::{CompiledIgnoreRule, IgnoreError, IgnoreRule};
pub use managed::{ManagedFieldsEntry, ManagedFieldsError, fields_of, managed_fields};
pub use mask::mask_secret_values;
pub use normalize::normalize;

/// The field manager Driftless applies with.
pub const DEFAULT_MANAGER: &str = "driftless";

/// Something [`diff_object`] or a helper could not do. Messages name the object and never
/// contain a field value.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Both `desired` and `live` were `None`.
    #[error("nothing to compare: neither a desired nor a live object")]
    NothingToCompare,
    /// A side lacks `apiVersion`, `kind` or `metadata.name`.
    #[error(
        "{side} object is not a Kubernetes object: it needs apiVersion, kind and metadata.name"
    )]
    NotAnObject {
        /// `"desired"` or `"live"`.
        side: &'static str,
    },
    /// `desired` and `live` are different objects.
    #[error("desired {desired} and live {live} are different objects")]
    Mismatch {
        /// The desired object.
        desired: Box<ObjectRef>,
        /// The live object.
        live: Box<ObjectRef>,
    },
    /// An object's `metadata.managedFields` is malformed.
    #[error("{object}: {source}")]
    ManagedFields {
        /// The object.
        object: Box<ObjectRef>,
        /// What is wrong.
        #[source]
        source: ManagedFieldsError,
    },
    /// An ignore rule is invalid or failed on an object.
    #[error(transparent)]
    Ignore(#[from] IgnoreError),
    /// An object could not be written as YAML.
    #[error(transparent)]
    Render(#[from] render::RenderError),
    /// A path given to a helper is not a JSON Pointer.
    #[error(transparent)]
    Pointer(#[from] pointer::PointerError),
}

/// Which object: API group (empty for the core group), kind, namespace (empty when
/// cluster-scoped) and name. Displays as `apps/Deployment shop/web`, `Secret shop/creds` or
/// `Namespace shop`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ObjectRef {
    /// API group, `""` for the core group.
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Namespace, `""` for cluster-scoped objects.
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl ObjectRef {
    /// The reference of an object, if it has `apiVersion`, `kind` and `metadata.name`.
    pub fn of(obj: &Value) -> Option<ObjectRef> {
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        let api_version = text(obj.get("apiVersion"))?;
        let metadata = obj.get("metadata");
        Some(ObjectRef {
            group: driftless_resource::api_group(&api_version).to_owned(),
            kind: text(obj.get("kind"))?,
            namespace: text(metadata.and_then(|m| m.get("namespace"))).unwrap_or_default(),
            name: text(metadata.and_then(|m| m.get("name")))?,
        })
    }

    /// Whether this is a core Secret, whose values are masked.
    pub fn is_secret(&self) -> bool {
        self.group.is_empty() && self.kind == "Secret"
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.group.is_empty() {
            write!(f, "{}/", self.group)?;
        }
        write!(f, "{} ", self.kind)?;
        if !self.namespace.is_empty() {
            write!(f, "{}/", self.namespace)?;
        }
        f.write_str(&self.name)
    }
}

/// How objects are compared: the field manager whose fields count, and the ignore rules.
///
/// Build it once per application (rules are validated and jq expressions compiled here) and
/// reuse it for every object; it is `Send + Sync`.
#[derive(Debug)]
pub struct DiffOptions {
    manager: String,
    ignore: Vec<CompiledIgnoreRule>,
}

impl DiffOptions {
    /// Options for `manager` with `ignore` rules (an Application's `ignoreDifferences`).
    ///
    /// Fails on the first invalid rule: a malformed JSON Pointer or a jq expression that does
    /// not compile; the error names the rule.
    pub fn new(manager: impl Into<String>, ignore: Vec<IgnoreRule>) -> Result<DiffOptions, Error> {
        let ignore = ignore
            .into_iter()
            .map(CompiledIgnoreRule::compile)
            .collect::<Result<_, _>>()?;
        Ok(DiffOptions {
            manager: manager.into(),
            ignore,
        })
    }

    /// The field manager whose fields are compared.
    pub fn manager(&self) -> &str {
        &self.manager
    }

    /// The ignore rules, as written.
    pub fn ignore_rules(&self) -> impl Iterator<Item = &IgnoreRule> {
        self.ignore.iter().map(CompiledIgnoreRule::rule)
    }

    pub(crate) fn compiled_rules(&self) -> &[CompiledIgnoreRule] {
        &self.ignore
    }
}

impl Default for DiffOptions {
    /// Manager [`DEFAULT_MANAGER`], no ignore rules.
    fn default() -> Self {
        DiffOptions {
            manager: DEFAULT_MANAGER.to_owned(),
            ignore: Vec::new(),
        }
    }
}

/// What applying the desired state would do to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Action {
    /// Desired and live are equal on the compared fields ("in sync").
    Unchanged,
    /// Both exist and differ: the live object would be updated.
    Update,
    /// Only desired exists: it would be created.
    Create,
    /// Only live exists: it would be pruned (deleting it is still the caller's decision: this
    /// crate does not look at ownership or `Prune=false`).
    Prune,
}

/// The comparison of one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectDiff {
    /// Which object.
    pub object: ObjectRef,
    /// What applying would do.
    pub action: Action,
    /// Whether `action` is anything but [`Action::Unchanged`].
    pub changed: bool,
    /// A unified diff of the compared YAML, live (`---`) to desired (`+++`), Secret values
    /// masked; empty when unchanged. A create diffs from nothing, a prune to nothing.
    pub unified: String,
    /// JSON Pointers of every compared field that differs (`/spec/replicas`,
    /// `/spec/template/spec/containers/0/image`), indices as in the live object; `[""]` (the
    /// whole object) for a create or prune. Feed them to [`other_managers`] to name who changed
    /// a field.
    pub changed_paths: Vec<String>,
}

/// Counts of actions over a set of objects: the line under a diff.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Objects to create.
    pub create: usize,
    /// Objects to update.
    pub update: usize,
    /// Objects to prune.
    pub prune: usize,
    /// Objects in sync.
    pub unchanged: usize,
}

impl Summary {
    /// Counts one more object.
    pub fn record(&mut self, action: Action) {
        match action {
            Action::Create => self.create += 1,
            Action::Update => self.update += 1,
            Action::Prune => self.prune += 1,
            Action::Unchanged => self.unchanged += 1,
        }
    }

    /// Whether everything is in sync (nothing to create, update or prune).
    pub fn in_sync(&self) -> bool {
        self.create == 0 && self.update == 0 && self.prune == 0
    }

    /// The number of objects counted.
    pub fn total(&self) -> usize {
        self.create + self.update + self.prune + self.unchanged
    }
}

impl<'a> FromIterator<&'a ObjectDiff> for Summary {
    fn from_iter<I: IntoIterator<Item = &'a ObjectDiff>>(diffs: I) -> Self {
        let mut summary = Summary::default();
        for diff in diffs {
            summary.record(diff.action);
        }
        summary
    }
}

impl fmt::Display for Summary {
    /// `1 to create, 2 to update, 0 to prune, 7 unchanged`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} to create, {} to update, {} to prune, {} unchanged",
            self.create, self.update, self.prune, self.unchanged
        )
    }
}

/// Every manager owning the field at `pointer` (a JSON Pointer such as an entry of
/// [`ObjectDiff::changed_paths`]) in `live`, in `managedFields` order. See
/// [`managed::managers_of`] for what "owning" covers.
pub fn managers_of(live: &Value, pointer: &str) -> Result<Vec<String>, Error> {
    let segments = pointer::parse(pointer)?;
    managed::managers_of(live, &segments).map_err(|source| Error::ManagedFields {
        object: Box::new(ObjectRef::of(live).unwrap_or_else(unnamed)),
        source,
    })
}

/// The managers other than `ours` owning the field at `pointer` in `live`: who to name when a
/// field Driftless manages has drifted ("changed by kubectl-edit").
pub fn other_managers(live: &Value, pointer: &str, ours: &str) -> Result<Vec<String>, Error> {
    let mut managers = managers_of(live, pointer)?;
    managers.retain(|m| m != ours);
    Ok(managers)
}

/// The reference shown for an object without a name (only in error messages).
fn unnamed() -> ObjectRef {
    ObjectRef {
        group: String::new(),
        kind: "object".to_owned(),
        namespace: String::new(),
        name: "(unnamed)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn object_refs_display_group_kind_namespace_name() {
        let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"}});
        let namespace =
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}});
        let show = |v: &Value| ObjectRef::of(v).map(|r| r.to_string());
        assert_eq!(
            show(&deployment).as_deref(),
            Some("apps/Deployment shop/web")
        );
        assert_eq!(show(&namespace).as_deref(), Some("Namespace shop"));
        assert_eq!(show(&json!({"kind": "Pod"})), None);
    }

    #[test]
    fn summary_counts_and_prints() {
        let mut summary = Summary::default();
        for action in [
            Action::Create,
            Action::Update,
            Action::Update,
            Action::Unchanged,
        ] {
            summary.record(action);
        }
        assert_eq!(
            summary.to_string(),
            "1 to create, 2 to update, 0 to prune, 1 unchanged"
        );
        assert!(!summary.in_sync());
        assert_eq!(summary.total(), 4);
        assert!(Summary::default().in_sync());
    }

    #[test]
    fn options_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<DiffOptions>();
    }
}
