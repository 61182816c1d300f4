//! Parsing manifest files (YAML or JSON) the way `kubectl` reads them.
//!
//! Kubernetes reads YAML with YAML 1.1 rules (`sigs.k8s.io/yaml`): `0644` is the octal integer
//! 420, `yes`/`no`/`on`/`off` are booleans, anchors and merge keys (`<<`) work; plain keys read
//! as booleans, numbers or null become their value's text, and integral floats integers (see
//! [`crate::node`]). Keys keep their file order. Duplicate mapping keys (also two that read the
//! same, `on` and `true`) are an error: kubectl's strict validation refuses them, and its reader
//! would keep the last silently.

use serde_json::Value;
use serde_saphyr::{Spanned, options::DuplicateKeyPolicy};

use crate::manifest::type_name;
use crate::node::Node;
use crate::{Manifest, ManifestError, Provenance};

/// Alias replay budget per file. A legitimate manifest file replays at most a few thousand events
/// through aliases; an "alias bomb" (aliases of aliases, doubling at each level) needs millions.
/// 100,000 events bound the expanded tree to a few megabytes of values.
const MAX_REPLAYED_ALIAS_EVENTS: usize = 100_000;

/// Why a manifest file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The file is not valid YAML (or JSON), exceeds a parser budget (alias expansion, nesting
    /// depth, document count), or repeats a key in one mapping.
    #[error("{file}:{line}: {message}")]
    Yaml {
        /// File path as given.
        file: String,
        /// 1-based line of the problem (0 when the parser could not tell).
        line: u64,
        /// The parser's message, on one line.
        message: String,
    },
    /// A document, or an item of a `kind: List`, is not a valid Kubernetes object.
    #[error(transparent)]
    Object(#[from] ManifestError),
    /// A `kind: List` has an `items` field that is not a sequence.
    #[error("{at}: {kind} has items that are {found}, not a sequence")]
    BadList {
        /// Where the list is.
        at: Provenance,
        /// The list's kind.
        kind: String,
        /// What `items` is instead.
        found: &'static str,
    },
}

/// Parses one file (any number of YAML documents, or JSON) into manifests.
///
/// Empty documents and documents that are `null` are skipped, as `kubectl` does. A `kind: List`
/// (or any `*List` kind with an `items` sequence) is replaced by its items. `file` is only used for
/// provenance and error messages.
///
/// # Errors
/// The first problem found, naming `file` and the line: invalid YAML, a duplicate key in one
/// mapping, an exhausted budget (alias bomb), a document that is not an object, or one without
/// `apiVersion`, `kind` or `metadata.name`.
pub fn parse_manifests(file: &str, bytes: &[u8]) -> Result<Vec<Manifest>, ParseError> {
    let documents: Vec<Spanned<Node>> =
        serde_saphyr::from_slice_multiple_with_options(bytes, parse_options())
            .map_err(|err| yaml_error(file, &err))?;
    let mut manifests = Vec::with_capacity(documents.len());
    for (document, spanned) in documents.into_iter().enumerate() {
        let at = Provenance {
            file: file.to_owned(),
            document,
            line: spanned.referenced.line(),
            item: None,
        };
        push_document(spanned.value.0, at, &mut manifests)?;
    }
    Ok(manifests)
}

/// The parser options of every manifest file: Kubernetes' YAML 1.1 reading, duplicate keys
/// refused, an alias budget.
pub(crate) fn parse_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        legacy_octal_numbers: true,
        strict_booleans: false,
        duplicate_keys: DuplicateKeyPolicy::Error,
        with_snippet: false,
        // Comments are not needed, and capturing them bounds how many may stand in a row where
        // the parser looks ahead (between a key and its value).
        emit_comments: false,
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: MAX_REPLAYED_ALIAS_EVENTS,
        },
    }
}

/// A parser error as a [`ParseError`] naming `file` and the line.
pub(crate) fn yaml_error(file: &str, err: &serde_saphyr::Error) -> ParseError {
    ParseError::Yaml {
        file: file.to_owned(),
        line: err.location().map_or(0, |l| l.line()),
        message: one_line(&err.to_string()),
    }
}

/// Adds one document's object(s) to `out`, flattening lists.
fn push_document(value: Value, at: Provenance, out: &mut Vec<Manifest>) -> Result<(), ParseError> {
    let list_kind = match &value {
        Value::Null => return Ok(()),
        Value::Object(map) => map
            .get("kind")
            .and_then(Value::as_str)
            .filter(|kind| kind.ends_with("List") && map.contains_key("items"))
            .map(str::to_owned),
        _ => None,
    };
    let Some(kind) = list_kind else {
        out.push(Manifest::new(value, at)?);
        return Ok(());
    };
    let items = match value {
        Value::Object(mut map) => map.remove("items").unwrap_or(Value::Null),
        _ => Value::Null,
    };
    let items = match items {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        other => {
            return Err(ParseError::BadList {
                at,
                kind,
                found: type_name(&other),
            });
        }
    };
    for (index, item) in items.into_iter().enumerate() {
        let at = Provenance {
            item: Some(index),
            ..at.clone()
        };
        out.push(Manifest::new(item, at)?);
    }
    Ok(())
}

/// Collapses a multi-line parser message into one line, without advice meant for programmers
/// using the parser library.
fn one_line(message: &str) -> String {
    message
        .replace(", set DuplicateKeyPolicy in Options if acceptable", "")
        .split_whitespace()
        .map(shorten)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Longest word of a parser message shown whole; the parser quotes the offending token, which
/// in a hostile file can be a number of a hundred thousand digits.
const MAX_WORD: usize = 64;

/// A word of at most [`MAX_WORD`] characters: a longer one keeps its start and says how long
/// it was.
fn shorten(word: &str) -> String {
    let count = word.chars().count();
    if count <= MAX_WORD {
        return word.to_owned();
    }
    let start: String = word.chars().take(MAX_WORD / 2).collect();
    format!("{start}… ({count} characters)")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(text: &str) -> Result<Vec<Manifest>, ParseError> {
        parse_manifests("dir/f.yaml", text.as_bytes())
    }

    fn objects(text: &str) -> Result<Vec<Value>, ParseError> {
        Ok(parse(text)?.into_iter().map(|m| m.into_parts().0).collect())
    }

    #[test]
    fn reads_thousands_of_comment_lines_anywhere() -> Result<(), ParseError> {
        let comments: String = (0..3000).map(|i| format!("# line {i}\n")).collect();
        let text = format!(
            "{comments}apiVersion: v1\nkind: ConfigMap\nmetadata:\n{comments}  name: c\ndata:\n{comments}  k: v\n{comments}"
        );
        assert_eq!(
            objects(&text)?,
            vec![
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}})
            ]
        );
        Ok(())
    }

    #[test]
    fn yaml_1_1_scalars_read_as_kubernetes_reads_them() -> Result<(), ParseError> {
        let got = objects(
            "apiVersion: v1\nkind: X\nmetadata: {name: web}\nspec:\n  mode: 0644\n  a: yes\n  b: no\n  c: on\n  d: off\n  e: 'yes'\n  f: 0x1F\n  g: 1e3\n  h: ~\n  i: \"0644\"\n",
        )?;
        assert_eq!(
            got[0]["spec"],
            json!({"mode": 420, "a": true, "b": false, "c": true, "d": false, "e": "yes", "f": 31, "g": 1000, "h": null, "i": "0644"})
        );
        Ok(())
    }

    #[test]
    fn keys_and_integral_floats_convert_as_sigs_k8s_io_yaml_converts_them() -> Result<(), ParseError>
    {
        let got = objects(
            "apiVersion: v1\nkind: X\nmetadata: {name: web}\nspec:\n  on: 1\n  n: 2\n  007: 3\n  '~': 4\n  1.5: 5\n  'yes': 6\n  2e2: 1.0\n  f: [1e3, 2.5, -0.0]\n",
        )?;
        assert_eq!(
            got[0]["spec"],
            json!({"true": 1, "false": 2, "7": 3, "~": 4, "1.5": 5, "yes": 6, "200": 1, "f": [1000, 2.5, 0]})
        );
        let keys: Vec<&String> = got[0]["spec"]
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        assert_eq!(keys, ["true", "false", "7", "~", "1.5", "yes", "200", "f"]);
        // Two keys that read the same are a duplicate.
        let err =
            parse("apiVersion: v1\nkind: X\nmetadata: {name: web}\nspec:\n  on: 1\n  true: 2\n")
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
        assert!(err.starts_with("dir/f.yaml:"), "{err}");
        assert!(err.contains("two keys read as \"true\""), "{err}");
        // A key that reads as null is refused, as kubectl's reader refuses it.
        for key in ["~", "null", "Null"] {
            let err = parse(&format!(
                "apiVersion: v1\nkind: X\nmetadata: {{name: web}}\nspec:\n  {key}: 1\n"
            ))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
            assert!(err.contains("a mapping key reads as null"), "{key}: {err}");
        }
        Ok(())
    }

    #[test]
    fn key_order_is_the_file_order() -> Result<(), ParseError> {
        let got = objects("metadata: {name: web}\nkind: X\napiVersion: v1\nzeta: 1\nalpha: 2\n")?;
        let keys: Vec<&String> = got[0]
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        assert_eq!(keys, ["metadata", "kind", "apiVersion", "zeta", "alpha"]);
        Ok(())
    }

    #[test]
    fn anchors_and_merge_keys_expand() -> Result<(), ParseError> {
        let got = objects(
            "apiVersion: v1\nkind: X\nmetadata:\n  name: web\n  labels: &l {app: web, tier: fe}\nspec:\n  selector: *l\n  template:\n    <<: *l\n    tier: be\n",
        )?;
        assert_eq!(
            got[0]["spec"]["selector"],
            json!({"app": "web", "tier": "fe"})
        );
        assert_eq!(
            got[0]["spec"]["template"],
            json!({"app": "web", "tier": "be"})
        );
        Ok(())
    }

    #[test]
    fn documents_keep_index_and_line_and_empty_ones_are_skipped() -> Result<(), ParseError> {
        let got = parse(
            "# leading comment\n---\napiVersion: v1\nkind: A\nmetadata: {name: a}\n---\n---\n\napiVersion: v1\nkind: B\nmetadata: {name: b}\n",
        )?;
        let places: Vec<(usize, u64)> = got
            .iter()
            .map(|m| (m.provenance().document, m.provenance().line))
            .collect();
        assert_eq!(got.len(), 2);
        assert_eq!(places[0].1, 3);
        assert_eq!(places[1].1, 9);
        assert!(places[0].0 < places[1].0);
        Ok(())
    }

    #[test]
    fn json_files_parse_too() -> Result<(), ParseError> {
        let got = objects(
            r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j"}, "data": {"k": "v"}}"#,
        )?;
        assert_eq!(got[0]["data"]["k"], "v");
        Ok(())
    }

    #[test]
    fn lists_are_flattened_with_item_provenance() -> Result<(), ParseError> {
        let got = parse(
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: A\n  metadata: {name: a}\n- apiVersion: v1\n  kind: B\n  metadata: {name: b}\n",
        )?;
        let names: Vec<String> = got.iter().map(|m| m.key().to_string()).collect();
        assert_eq!(names, ["/A//a", "/B//b"]);
        assert_eq!(got[1].provenance().item, Some(1));
        Ok(())
    }

    #[test]
    fn list_item_without_name_is_reported_with_its_index() {
        let err = parse("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: A\n")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("dir/f.yaml:1 (document 0, item 0): object has no metadata.name")
        );
    }

    #[test]
    fn bad_yaml_names_file_and_line() {
        let err = parse("apiVersion: v1\nkind: X\nmetadata:\n  name: [unclosed\n").err();
        let Some(ParseError::Yaml {
            file,
            line,
            message,
        }) = err
        else {
            panic!("expected a YAML error, got {err:?}");
        };
        assert_eq!(file, "dir/f.yaml");
        assert!(line >= 4, "line {line}");
        assert!(!message.contains('\n'));
    }

    #[test]
    fn duplicate_key_in_a_mapping_is_an_error() {
        let err = parse("apiVersion: v1\nkind: X\nmetadata:\n  name: a\n  name: b\n").err();
        let Some(ParseError::Yaml { line, message, .. }) = err else {
            panic!("expected a YAML error, got {err:?}");
        };
        assert_eq!(line, 5);
        assert!(message.to_lowercase().contains("duplicate"), "{message}");
    }

    #[test]
    fn missing_kind_names_file_and_line() {
        let err = parse("apiVersion: v1\nkind: A\nmetadata: {name: a}\n---\napiVersion: v1\nmetadata: {name: b}\n")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("dir/f.yaml:5 (document 1): object has no kind")
        );
    }

    #[test]
    fn alias_bomb_is_refused_by_the_budget() {
        let mut text = String::from(
            "apiVersion: v1\nkind: X\nmetadata: {name: web}\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n",
        );
        for level in 1..=9 {
            let prev = level - 1;
            text.push_str(&format!(
                "a{level}: &a{level} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let err = parse(&text).err();
        let Some(ParseError::Yaml { message, .. }) = err else {
            panic!("expected a budget error, got {err:?}");
        };
        assert!(message.to_lowercase().contains("alias"), "{message}");
    }
}
