//! A resource being built: the object plus what kustomize remembers about it (earlier names,
//! generator settings).

use serde_json::{Map, Value};
use std::fmt;

/// Group, version, kind, namespace and name: how kustomize identifies a resource.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ResId {
    /// API group (empty for the core group).
    pub group: String,
    /// API version.
    pub version: String,
    /// Kind.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Namespace (empty when none).
    pub namespace: String,
}

impl fmt::Display for ResId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let group = if self.group.is_empty() {
            "[noGrp]"
        } else {
            &self.group
        };
        let ns = if self.namespace.is_empty() {
            "[noNs]"
        } else {
            &self.namespace
        };
        write!(
            f,
            "{}.{}.{}/{}.{}",
            self.kind, self.version, group, self.name, ns
        )
    }
}

/// How a generated resource combines with one of the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Behavior {
    /// A new resource (an existing one of the same id is an error).
    #[default]
    Create,
    /// Merged into the existing one.
    Merge,
    /// Replaces the existing one.
    Replace,
}

/// One resource in the build.
#[derive(Debug, Clone)]
pub struct Resource {
    /// The object (a JSON object).
    pub obj: Map<String, Value>,
    /// Names, namespaces and kinds this resource had before, oldest first (its original id
    /// first; kustomize's previous ids).
    pub history: Vec<(String, String, String)>,
    /// The kind the resource was loaded with (patches may change it).
    pub orig_kind: String,
    /// Whether a content hash is appended to the name at the end of the build.
    pub needs_hash: bool,
    /// Generator behavior (only for generated resources).
    pub behavior: Behavior,
    /// Name prefixes and suffixes applied to this resource, outermost last.
    pub affixes: Vec<(String, String)>,
    /// Where the resource came from (for `buildMetadata: [originAnnotations]`).
    pub origin: Option<Origin>,
    /// A number unique to this resource within the process (vars bind to it).
    pub uid: u64,
    /// The transformers that ran over this resource (for `transformerAnnotations`).
    pub transformations: Vec<Origin>,
    /// The steps that changed this resource, when the build records them.
    pub changes: Vec<crate::provenance::Change>,
    /// Fields that hold one shared YAML node in kustomize's tree, as JSON pointers into `obj`,
    /// one group per node (see the `alias` module).
    pub aliases: Vec<Vec<String>>,
}

static NEXT_UID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Where a resource came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Read from this file.
    File(String),
    /// Made (or, in a transformations record, changed) by a builtin plugin configured in
    /// `file`.
    Generator {
        /// The kustomization or plugin configuration file.
        file: String,
        /// The generator kind (`ConfigMapGenerator`...).
        kind: String,
        /// The plugin configuration's name, when configured by a separate file.
        name: Option<String>,
        /// The plugin configuration's namespace, when it has one.
        namespace: Option<String>,
    },
}

impl Origin {
    /// The annotation text, with paths relative to `dir`.
    pub fn annotation(&self, dir: &str) -> String {
        match self {
            Origin::File(p) => format!("path: {}\n", crate::fs::relative(dir, p)),
            Origin::Generator {
                file,
                kind,
                name,
                namespace,
            } => {
                let mut s = format!(
                    "configuredIn: {}\nconfiguredBy:\n  apiVersion: builtin\n  kind: {kind}\n",
                    crate::fs::relative(dir, file)
                );
                if let Some(n) = name {
                    s.push_str(&format!("  name: {n}\n"));
                }
                if let Some(n) = namespace {
                    s.push_str(&format!("  namespace: {n}\n"));
                }
                s
            }
        }
    }

    /// A transformations record of a builtin transformer configured in a kustomization field.
    pub fn builtin(file: &str, kind: &str) -> Self {
        Origin::Generator {
            file: file.to_string(),
            kind: kind.to_string(),
            name: None,
            namespace: None,
        }
    }
}

/// The `alpha.config.kubernetes.io/transformations` text for a list of records.
pub fn transformations_annotation(records: &[Origin], dir: &str) -> String {
    let mut out = String::new();
    for r in records {
        for (i, line) in r.annotation(dir).lines().enumerate() {
            out.push_str(if i == 0 { "- " } else { "  " });
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

impl Resource {
    /// Wraps an object loaded from a file or a generator.
    pub fn new(obj: Map<String, Value>) -> Self {
        let mut r = Self {
            obj,
            history: Vec::new(),
            orig_kind: String::new(),
            needs_hash: false,
            behavior: Behavior::Create,
            affixes: Vec::new(),
            origin: None,
            transformations: Vec::new(),
            changes: Vec::new(),
            aliases: Vec::new(),
            uid: NEXT_UID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        };
        r.orig_kind = r.kind().to_string();
        r
    }

    /// The value at JSON pointer `pointer` (`/spec/replicas`) of the object.
    pub(crate) fn pointer(&self, pointer: &str) -> Option<&Value> {
        let (first, rest) = split_pointer(pointer)?;
        let child = self.obj.get(&first)?;
        match rest {
            None => Some(child),
            Some(rest) => child.pointer(&format!("/{rest}")),
        }
    }

    /// The value at JSON pointer `pointer` of the object, to change.
    pub(crate) fn pointer_mut(&mut self, pointer: &str) -> Option<&mut Value> {
        let (first, rest) = split_pointer(pointer)?;
        let child = self.obj.get_mut(&first)?;
        match rest {
            None => Some(child),
            Some(rest) => child.pointer_mut(&format!("/{rest}")),
        }
    }

    /// A string field at a top-level path such as `["metadata", "name"]`.
    pub fn str_at(&self, path: &[&str]) -> Option<&str> {
        let mut cur = self.obj.get(*path.first()?)?;
        for p in &path[1..] {
            cur = cur.get(*p)?;
        }
        cur.as_str()
    }

    /// `kind`.
    pub fn kind(&self) -> &str {
        self.str_at(&["kind"]).unwrap_or("")
    }

    /// `apiVersion`.
    pub fn api_version(&self) -> &str {
        self.str_at(&["apiVersion"]).unwrap_or("")
    }

    /// The group part of `apiVersion`.
    pub fn group(&self) -> &str {
        split_api_version(self.api_version()).0
    }

    /// The version part of `apiVersion`.
    pub fn version(&self) -> &str {
        split_api_version(self.api_version()).1
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        self.str_at(&["metadata", "name"]).unwrap_or("")
    }

    /// `metadata.namespace`.
    pub fn namespace(&self) -> &str {
        self.str_at(&["metadata", "namespace"]).unwrap_or("")
    }

    /// The current id.
    pub fn id(&self) -> ResId {
        ResId {
            group: self.group().to_string(),
            version: self.version().to_string(),
            kind: self.kind().to_string(),
            name: self.name().to_string(),
            namespace: self.namespace().to_string(),
        }
    }

    /// The id the resource was loaded with (original name and namespace).
    pub fn orig_id(&self) -> ResId {
        let mut id = self.id();
        if let Some((n, ns, _)) = self.history.first() {
            id.name = n.clone();
            id.namespace = ns.clone();
        }
        id.kind = self.orig_kind.clone();
        id
    }

    /// The mutable `metadata` object, created when missing.
    pub fn metadata_mut(&mut self) -> &mut Map<String, Value> {
        crate::fieldpath::ensure_object(self.obj.entry("metadata").or_insert(Value::Null))
    }

    /// Records the current name and namespace, then renames.
    pub fn set_name(&mut self, name: &str) {
        self.remember();
        self.metadata_mut()
            .insert("name".into(), Value::String(name.to_string()));
    }

    /// Records the current name and namespace, then moves to `ns`.
    pub fn set_namespace(&mut self, ns: &str) {
        self.remember();
        self.metadata_mut()
            .insert("namespace".into(), Value::String(ns.to_string()));
    }

    /// Records the current name and namespace as a previous id (kustomize's `StorePreviousId`;
    /// only objects with previous ids are candidates of name references).
    pub fn remember(&mut self) {
        let cur = (
            self.name().to_string(),
            self.namespace().to_string(),
            self.kind().to_string(),
        );
        if self.history.last() != Some(&cur) {
            self.history.push(cur);
        }
    }

    /// Whether this resource once had (or has) the given name.
    pub fn had_name(&self, name: &str) -> bool {
        self.name() == name || self.history.iter().any(|(n, _, _)| n == name)
    }

    /// `metadata.labels` as strings.
    pub fn labels(&self) -> Map<String, Value> {
        self.obj
            .get("metadata")
            .and_then(|m| m.get("labels"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    }

    /// `metadata.annotations`.
    pub fn annotations(&self) -> Map<String, Value> {
        self.obj
            .get("metadata")
            .and_then(|m| m.get("annotations"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    }
}

/// A JSON pointer's first key (unescaped) and the rest of it.
fn split_pointer(pointer: &str) -> Option<(String, Option<&str>)> {
    let body = pointer.strip_prefix('/')?;
    let (first, rest) = body
        .split_once('/')
        .map_or((body, None), |(first, rest)| (first, Some(rest)));
    Some((first.replace("~1", "/").replace("~0", "~"), rest))
}

/// Splits `apps/v1` into (`apps`, `v1`) and `v1` into (``, `v1`).
pub fn split_api_version(av: &str) -> (&str, &str) {
    match av.rsplit_once('/') {
        Some((g, v)) => (g, v),
        None => ("", av),
    }
}

/// Namespaces compare with the empty one equal to `default`.
pub(crate) fn ns_eq(a: &str, b: &str) -> bool {
    let n = |s: &str| {
        if s.is_empty() {
            "default".to_string()
        } else {
            s.to_string()
        }
    };
    n(a) == n(b)
}

/// The text of a scalar as a string.
pub(crate) fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Number(n) => driftless_goyaml::scalar::format_number(n),
        other => other.to_string(),
    }
}

/// Marks resources as generated with the given behavior (used by generators).
pub(crate) fn generated(obj: Map<String, Value>, behavior: Behavior, hash: bool) -> Resource {
    let mut r = Resource::new(obj);
    r.behavior = behavior;
    r.needs_hash = hash;
    r
}
