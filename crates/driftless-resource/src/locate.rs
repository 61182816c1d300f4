//! Where in a manifest file a field is written: the lines of a key and its value, found by
//! parsing the file again with positions. Only `driftless trace` asks; rendering never pays
//! for positions below the document.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::field_path::{FieldPath, Segment};
use crate::node::Key;
use crate::yaml::{ParseError, parse_options, yaml_error};

/// 1-based lines, `start..=end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lines {
    /// First line.
    pub start: u64,
    /// Last line (`>= start`).
    pub end: u64,
}

/// A YAML node with the line it starts on.
#[derive(Debug)]
enum Tree {
    /// Keys (with their lines) and values.
    Map(Vec<(Spanned<Key>, Spanned<Tree>)>),
    /// Elements.
    Seq(Vec<Spanned<Tree>>),
    /// A scalar, as text (`None` for null).
    Scalar(Option<String>),
}

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TreeVisitor)
    }
}

struct TreeVisitor;

impl<'de> Visitor<'de> for TreeVisitor {
    type Value = Tree;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Tree, E> {
        Ok(Tree::Scalar(Some(v.to_string())))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Tree, E> {
        Ok(Tree::Scalar(Some(v.to_string())))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Tree, E> {
        Ok(Tree::Scalar(Some(v.to_string())))
    }

    fn visit_i128<E>(self, v: i128) -> Result<Tree, E> {
        Ok(Tree::Scalar(Some(v.to_string())))
    }

    fn visit_u128<E>(self, v: u128) -> Result<Tree, E> {
        Ok(Tree::Scalar(Some(v.to_string())))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Tree, E> {
        Ok(Tree::Scalar(Some(v.to_string())))
    }

    fn visit_str<E>(self, v: &str) -> Result<Tree, E> {
        Ok(Tree::Scalar(Some(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Tree, E> {
        Ok(Tree::Scalar(Some(v)))
    }

    fn visit_unit<E>(self) -> Result<Tree, E> {
        Ok(Tree::Scalar(None))
    }

    fn visit_none<E>(self) -> Result<Tree, E> {
        Ok(Tree::Scalar(None))
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Tree, D::Error> {
        Tree::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tree, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Tree::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tree, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<Key>>()? {
            let value: Spanned<Tree> = map.next_value()?;
            entries.push((key, value));
        }
        Ok(Tree::Map(entries))
    }
}

/// The last line a node reaches (its own line, or the last line of a descendant).
fn last_line(node: &Spanned<Tree>) -> u64 {
    let own = node.referenced.line();
    match &node.value {
        Tree::Scalar(_) => own,
        Tree::Seq(items) => items.iter().map(last_line).fold(own, u64::max),
        Tree::Map(entries) => entries
            .iter()
            .map(|(key, value)| key.referenced.line().max(last_line(value)))
            .fold(own, u64::max),
    }
}

fn text_of(node: &Spanned<Tree>) -> Option<&str> {
    match &node.value {
        Tree::Scalar(Some(text)) => Some(text),
        _ => None,
    }
}

fn get<'a>(node: &'a Spanned<Tree>, key: &str) -> Option<&'a Spanned<Tree>> {
    match &node.value {
        Tree::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.value.0 == key)
            .map(|(_, v)| v),
        _ => None,
    }
}

/// The lines of the node at `path` below `node`: from its key's line (or the element's line)
/// to its last line.
fn find(node: &Spanned<Tree>, path: &[Segment]) -> Option<Lines> {
    let Some((first, rest)) = path.split_first() else {
        return Some(Lines {
            start: node.referenced.line(),
            end: last_line(node),
        });
    };
    match (&node.value, first) {
        (Tree::Map(entries), Segment::Key(key)) => {
            let (k, value) = entries.iter().find(|(k, _)| k.value.0 == *key)?;
            if rest.is_empty() {
                let start = k.referenced.line();
                return Some(Lines {
                    start,
                    end: last_line(value).max(start),
                });
            }
            find(value, rest)
        }
        (Tree::Seq(items), segment) => {
            let item = match segment {
                Segment::Index(i) => items.get(*i),
                Segment::Key(k) => k.parse::<usize>().ok().and_then(|i| items.get(i)),
                Segment::Match { key, value } => items
                    .iter()
                    .find(|item| get(item, key).and_then(text_of) == Some(value.as_str())),
            }?;
            find(item, rest)
        }
        _ => None,
    }
}

fn documents(file: &str, bytes: &[u8]) -> Result<Vec<Spanned<Tree>>, ParseError> {
    serde_saphyr::from_slice_multiple_with_options(bytes, parse_options())
        .map_err(|err| yaml_error(file, &err))
}

/// The lines of the field at `path` in document `document` of a manifest file (counted as
/// [`crate::Provenance::document`] counts them), below item `item` of a `kind: List`.
///
/// # Errors
/// The file does not parse (it did when it was rendered, unless it changed since).
pub fn locate_field(
    file: &str,
    bytes: &[u8],
    document: usize,
    item: Option<usize>,
    path: &FieldPath,
) -> Result<Option<Lines>, ParseError> {
    let docs = documents(file, bytes)?;
    let Some(doc) = docs.get(document) else {
        return Ok(None);
    };
    let mut full = Vec::new();
    if let Some(item) = item {
        full.push(Segment::Key("items".to_owned()));
        full.push(Segment::Index(item));
    }
    full.extend(path.0.iter().cloned());
    Ok(find(doc, &full))
}

/// The document (or `kind: List` item) of a file that declares `kind`/`name`: its index, the
/// item index, and its lines.
///
/// # Errors
/// The file does not parse.
pub fn locate_object(
    file: &str,
    bytes: &[u8],
    kind: &str,
    name: &str,
) -> Result<Option<(usize, Option<usize>, Lines)>, ParseError> {
    let names = |node: &Spanned<Tree>| {
        get(node, "kind").and_then(text_of) == Some(kind)
            && get(node, "metadata")
                .and_then(|m| get(m, "name"))
                .and_then(text_of)
                == Some(name)
    };
    for (index, doc) in documents(file, bytes)?.iter().enumerate() {
        if names(doc) {
            return Ok(find(doc, &[]).map(|lines| (index, None, lines)));
        }
        if let Some(Tree::Seq(items)) = get(doc, "items").map(|i| &i.value)
            && let Some(position) = items.iter().position(names)
        {
            let lines = items.get(position).and_then(|i| find(i, &[]));
            return Ok(lines.map(|lines| (index, Some(position), lines)));
        }
    }
    Ok(None)
}

/// Where a patch file sets the field at `path`: in a strategic merge patch, the field itself
/// (in the first document that has it); in a JSON patch (a sequence of operations), the
/// operation whose `path` is `pointer`, an ancestor or a descendant of it. `None` when the
/// file does not mention the field.
///
/// # Errors
/// The file does not parse.
pub fn locate_in_patch(
    file: &str,
    bytes: &[u8],
    path: &FieldPath,
    pointer: Option<&str>,
) -> Result<Option<Lines>, ParseError> {
    for doc in documents(file, bytes)? {
        if let Tree::Seq(ops) = &doc.value {
            let Some(pointer) = pointer else { continue };
            let related = |op: &&Spanned<Tree>| {
                get(op, "path").and_then(text_of).is_some_and(|p| {
                    p == pointer
                        || pointer.starts_with(&format!("{p}/"))
                        || p.starts_with(&format!("{pointer}/"))
                })
            };
            if let Some(op) = ops.iter().rev().find(related) {
                return Ok(find(op, &[]));
            }
            continue;
        }
        if let Some(lines) = find(&doc, &path.0) {
            return Ok(Some(lines));
        }
    }
    Ok(None)
}

/// The lines of the top-level field `path` of a YAML file (a kustomization's `images`,
/// `patches[1]`).
///
/// # Errors
/// The file does not parse.
pub fn locate_top(file: &str, bytes: &[u8], path: &FieldPath) -> Result<Option<Lines>, ParseError> {
    Ok(documents(file, bytes)?
        .first()
        .and_then(|doc| find(doc, &path.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEPLOYMENT: &str = "\
# a comment
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  template:
    spec:
      containers:
      - name: side
        image: busybox
      - name: web
        image: nginx:1
        ports:
        - containerPort: 80
";

    fn path(text: &str) -> FieldPath {
        text.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    fn lines(start: u64, end: u64) -> Option<Lines> {
        Some(Lines { start, end })
    }

    #[test]
    fn fields_are_found_on_their_lines() -> Result<(), ParseError> {
        let at = |p: &str| locate_field("d.yaml", DEPLOYMENT.as_bytes(), 0, None, &path(p));
        assert_eq!(at("spec.replicas")?, lines(7, 7));
        assert_eq!(
            at("spec.template.spec.containers[name=web].image")?,
            lines(14, 14)
        );
        assert_eq!(at("spec.template.spec.containers[1].image")?, lines(14, 14));
        assert_eq!(
            at("spec.template.spec.containers[name=web]")?,
            lines(13, 16)
        );
        assert_eq!(at("spec")?, lines(6, 16));
        assert_eq!(at("spec.paused")?, None);
        Ok(())
    }

    #[test]
    fn objects_are_found_by_kind_and_name_in_documents_and_lists() -> Result<(), ParseError> {
        let text = format!(
            "{DEPLOYMENT}---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {{name: a}}\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: b\n  data: {{k: v}}\n"
        );
        let found = |kind, name| locate_object("f.yaml", text.as_bytes(), kind, name);
        assert_eq!(
            found("Deployment", "web")?,
            Some((0, None, Lines { start: 2, end: 16 }))
        );
        assert_eq!(
            found("ConfigMap", "b")?,
            Some((1, Some(1), Lines { start: 24, end: 28 }))
        );
        assert_eq!(found("ConfigMap", "c")?, None);
        let item = locate_field("f.yaml", text.as_bytes(), 1, Some(1), &path("data.k"))?;
        assert_eq!(item, lines(28, 28));
        Ok(())
    }

    #[test]
    fn patches_point_at_the_field_or_the_operation() -> Result<(), ParseError> {
        let smp =
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 5\n";
        assert_eq!(
            locate_in_patch("p.yaml", smp.as_bytes(), &path("spec.replicas"), None)?,
            lines(6, 6)
        );
        let json = "- op: add\n  path: /metadata/labels/x\n  value: y\n- op: replace\n  path: /spec/replicas\n  value: 4\n";
        assert_eq!(
            locate_in_patch(
                "p.yaml",
                json.as_bytes(),
                &path("spec.replicas"),
                Some("/spec/replicas")
            )?,
            lines(4, 6)
        );
        let kustomization = "resources:\n- ../base\nimages:\n- name: nginx\n  newTag: \"2\"\nreplicas:\n- name: web\n  count: 3\n";
        assert_eq!(
            locate_top("k.yaml", kustomization.as_bytes(), &path("images"))?,
            lines(3, 5)
        );
        assert_eq!(
            locate_top("k.yaml", kustomization.as_bytes(), &path("replicas[0]"))?,
            lines(7, 8)
        );
        Ok(())
    }
}
