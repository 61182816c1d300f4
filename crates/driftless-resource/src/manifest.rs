//! A manifest: one Kubernetes object as declared in a file, with where it came from.

use std::fmt;

use serde_json::Value;

use crate::ResourceKey;

/// Where a manifest was declared.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Provenance {
    /// Path of the file relative to the rendered root, `/`-separated.
    pub file: String,
    /// Index of the YAML document in the file, from 0 (empty documents count).
    pub document: usize,
    /// 1-based line where the document's content starts (0 when unknown).
    pub line: u64,
    /// Index in `items` when the object came from a flattened `kind: List`.
    pub item: Option<usize>,
}

/// `file:line (document N[, item M])`.
impl fmt::Display for Provenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{} (document {}", self.file, self.line, self.document)?;
        if let Some(item) = self.item {
            write!(f, ", item {item}")?;
        }
        f.write_str(")")
    }
}

/// Why a value is not a Kubernetes object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// The document is not a mapping.
    #[error("{at}: not a Kubernetes object (expected a mapping, found {found})")]
    NotAnObject {
        /// Where the document is.
        at: Provenance,
        /// What was found instead (`a sequence`, `a string`, ...).
        found: &'static str,
    },
    /// A required field is missing, empty, or not a string.
    #[error("{at}: object has no {field}")]
    MissingField {
        /// Where the object is.
        at: Provenance,
        /// `apiVersion`, `kind` or `metadata.name`.
        field: &'static str,
    },
}

/// One Kubernetes object as declared in a file, in the key order of the file.
///
/// A `Manifest` always has a non-empty `apiVersion`, `kind` and `metadata.name`; its
/// [`ResourceKey`] is computed once when it is built.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    object: Value,
    key: ResourceKey,
    provenance: Provenance,
}

impl Manifest {
    /// Checks that `object` is a Kubernetes object and wraps it with its provenance.
    ///
    /// `metadata.generateName` is not accepted in place of a name: a GitOps engine must be able to
    /// find the object again.
    pub fn new(object: Value, provenance: Provenance) -> Result<Self, ManifestError> {
        let Some(map) = object.as_object() else {
            return Err(ManifestError::NotAnObject {
                at: provenance,
                found: type_name(&object),
            });
        };
        let missing = |field| ManifestError::MissingField {
            at: provenance.clone(),
            field,
        };
        let api_version = text(map.get("apiVersion")).ok_or_else(|| missing("apiVersion"))?;
        let kind = text(map.get("kind")).ok_or_else(|| missing("kind"))?;
        let metadata = map.get("metadata");
        let name =
            text(metadata.and_then(|m| m.get("name"))).ok_or_else(|| missing("metadata.name"))?;
        let namespace = text(metadata.and_then(|m| m.get("namespace"))).unwrap_or("");
        let key = ResourceKey::new(api_version, kind, namespace, name);
        Ok(Self {
            object,
            key,
            provenance,
        })
    }

    /// The object, keys in file order.
    pub fn object(&self) -> &Value {
        &self.object
    }

    /// The object's identity.
    pub fn key(&self) -> &ResourceKey {
        &self.key
    }

    /// Where the object was declared.
    pub fn provenance(&self) -> &Provenance {
        &self.provenance
    }

    /// The object and its provenance, for stages that transform objects (and build a new
    /// `Manifest` afterwards, so the key is checked again).
    pub fn into_parts(self) -> (Value, Provenance) {
        (self.object, self.provenance)
    }
}

/// The value if it is a non-empty string.
fn text(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// A short English name of a JSON value's type, for error messages.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a sequence",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn at() -> Provenance {
        Provenance {
            file: "a.yaml".into(),
            document: 1,
            line: 7,
            item: None,
        }
    }

    #[test]
    fn key_comes_from_api_version_kind_namespace_and_name() -> Result<(), ManifestError> {
        let m = Manifest::new(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "prod"}}),
            at(),
        )?;
        assert_eq!(
            m.key(),
            &ResourceKey::new("apps/v1", "Deployment", "prod", "web")
        );
        Ok(())
    }

    #[test]
    fn each_missing_field_is_named_with_file_and_line() {
        let cases = [
            (
                json!({"kind": "A", "metadata": {"name": "n"}}),
                "apiVersion",
            ),
            (
                json!({"apiVersion": "v1", "metadata": {"name": "n"}}),
                "kind",
            ),
            (
                json!({"apiVersion": "v1", "kind": "A", "metadata": {}}),
                "metadata.name",
            ),
            (
                json!({"apiVersion": "v1", "kind": "A", "metadata": {"name": ""}}),
                "metadata.name",
            ),
            (
                json!({"apiVersion": "v1", "kind": 3, "metadata": {"name": "n"}}),
                "kind",
            ),
        ];
        for (object, field) in cases {
            let err = Manifest::new(object, at()).err();
            assert_eq!(err, Some(ManifestError::MissingField { at: at(), field }));
            let text = err.map(|e| e.to_string()).unwrap_or_default();
            assert_eq!(
                text,
                format!("a.yaml:7 (document 1): object has no {field}")
            );
        }
    }

    #[test]
    fn a_sequence_is_not_an_object() {
        let err = Manifest::new(json!([1]), at()).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "a.yaml:7 (document 1): not a Kubernetes object (expected a mapping, found a sequence)"
            )
        );
    }
}
