//! The file formats sops stores: how each is read into a [`Node`] tree with its metadata, and
//! how the decrypted tree is written back.

use serde_json::Value;

use crate::ErrorKind;
use crate::metadata;
use crate::tree::{Entry, Node};
use crate::value::Plain;

/// A SOPS file format, chosen from the file name as sops does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.yaml`, `.yml`.
    Yaml,
    /// `.json`.
    Json,
    /// `.env`.
    Dotenv,
    /// Anything else: the whole file as one `data` value, stored as JSON.
    Binary,
}

impl Format {
    /// The format sops infers from a file name's extension.
    pub fn from_path(path: &str) -> Self {
        let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
        match ext.as_deref() {
            Some("yaml" | "yml") => Format::Yaml,
            Some("json") => Format::Json,
            Some("env") => Format::Dotenv,
            _ => Format::Binary,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Format::Yaml => "YAML",
            Format::Json | Format::Binary => "JSON",
            Format::Dotenv => "dotenv",
        }
    }
}

/// Splits a file into its document tree and its `sops` metadata object.
pub fn load(format: Format, bytes: &[u8]) -> Result<(Node, Value), ErrorKind> {
    let text = std::str::from_utf8(bytes).map_err(|_| ErrorKind::Parse {
        format: format.name(),
        reason: "not UTF-8".into(),
    })?;
    match format {
        Format::Yaml => {
            let options = serde_saphyr::options! { strict_booleans: true };
            let docs: Vec<Value> = serde_saphyr::from_multiple_with_options(text, options)
                .map_err(|e| ErrorKind::Parse {
                    format: format.name(),
                    reason: first_line(&e.to_string()),
                })?;
            // Several documents, as sops stores them: the metadata of the first one counts,
            // every document's `sops` key is dropped, and the documents are walked in order
            // (a list at the root walks the same way, under the same empty key path).
            let mut docs = docs
                .into_iter()
                .filter(|d| !d.is_null())
                .collect::<Vec<_>>();
            let mut sops = None;
            for doc in &mut docs {
                let Value::Object(map) = doc else {
                    return Err(ErrorKind::Metadata("a document is not a mapping".into()));
                };
                let found = map.shift_remove("sops");
                if sops.is_none() {
                    sops = found;
                }
            }
            let sops =
                sops.ok_or_else(|| ErrorKind::Metadata("no `sops` key: not a SOPS file".into()))?;
            match docs.len() {
                1 => Ok((from_value(docs.remove(0)), sops)),
                _ => Ok((
                    Node::Documents(docs.into_iter().map(from_value).collect()),
                    sops,
                )),
            }
        }
        Format::Json | Format::Binary => {
            let mut doc: Value = serde_json::from_str(text).map_err(|e| ErrorKind::Parse {
                format: format.name(),
                reason: format!("line {} column {}", e.line(), e.column()),
            })?;
            let Value::Object(map) = &mut doc else {
                return Err(ErrorKind::Metadata("the document is not a mapping".into()));
            };
            let sops = map
                .shift_remove("sops")
                .ok_or_else(|| ErrorKind::Metadata("no `sops` key: not a SOPS file".into()))?;
            Ok((from_value(doc), sops))
        }
        Format::Dotenv => {
            let mut entries = Vec::new();
            let mut flat = Vec::new();
            for (n, line) in text.split('\n').enumerate() {
                if line.is_empty() {
                    continue;
                }
                if let Some(comment) = line.strip_prefix('#') {
                    entries.push(Entry::Comment(comment.to_string()));
                    continue;
                }
                let (k, v) = line.split_once('=').ok_or_else(|| ErrorKind::Parse {
                    format: "dotenv",
                    reason: format!("line {} has no `=`", n + 1),
                })?;
                let v = v.replace("\\n", "\n");
                match k.strip_prefix("sops_") {
                    Some(meta) => flat.push((meta.to_string(), v)),
                    None => entries.push(Entry::Pair(k.to_string(), Node::Scalar(Plain::Str(v)))),
                }
            }
            if flat.is_empty() {
                return Err(ErrorKind::Metadata(
                    "no `sops_` keys: not a SOPS file".into(),
                ));
            }
            Ok((Node::Map(entries), metadata::unflatten(&flat)))
        }
    }
}

/// Writes a decrypted tree in its format: dotenv and binary byte for byte as `sops -d` does;
/// YAML and JSON with the same content (key order kept), in this crate's formatting.
pub fn emit(format: Format, node: &Node) -> Result<Vec<u8>, ErrorKind> {
    match format {
        Format::Binary => match node {
            Node::Map(entries) => entries
                .iter()
                .find_map(|e| match e {
                    Entry::Pair(k, Node::Scalar(Plain::Str(s))) if k == "data" => {
                        Some(s.clone().into_bytes())
                    }
                    _ => None,
                })
                .ok_or_else(|| ErrorKind::Metadata("binary file without a `data` string".into())),
            _ => Err(ErrorKind::Metadata(
                "binary file without a `data` string".into(),
            )),
        },
        Format::Dotenv => {
            let mut out = String::new();
            if let Node::Map(entries) = node {
                for entry in entries {
                    match entry {
                        Entry::Comment(c) => {
                            out.push('#');
                            out.push_str(c);
                        }
                        Entry::Pair(k, v) => {
                            out.push_str(k);
                            out.push('=');
                            out.push_str(&dotenv_value(v));
                        }
                    }
                    out.push('\n');
                }
            }
            Ok(out.into_bytes())
        }
        Format::Json => {
            let mut out =
                serde_json::to_vec_pretty(&to_value(node)).map_err(|e| ErrorKind::Parse {
                    format: "JSON",
                    reason: e.to_string(),
                })?;
            out.push(b'\n');
            Ok(out)
        }
        Format::Yaml => {
            let yaml = |node: &Node| {
                serde_saphyr::to_string(&to_value(node)).map_err(|e| ErrorKind::Parse {
                    format: "YAML",
                    reason: first_line(&e.to_string()),
                })
            };
            match node {
                Node::Documents(docs) => {
                    let docs = docs.iter().map(yaml).collect::<Result<Vec<_>, _>>()?;
                    Ok(docs.join("---\n").into_bytes())
                }
                node => yaml(node).map(String::into_bytes),
            }
        }
    }
}

fn dotenv_value(v: &Node) -> String {
    match v {
        Node::Scalar(Plain::Str(s)) => s.replace('\n', "\\n"),
        Node::Scalar(p) => String::from_utf8_lossy(&crate::value::mac_bytes(p)).into_owned(),
        _ => String::new(),
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_string()
}

/// A JSON/YAML document as a tree.
pub fn from_value(v: Value) -> Node {
    match v {
        Value::Null => Node::Null,
        Value::Bool(b) => Node::Scalar(Plain::Bool(b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Node::Scalar(Plain::Int(i)),
            None => Node::Scalar(Plain::Float(n.as_f64().unwrap_or(f64::NAN))),
        },
        Value::String(s) => Node::Scalar(Plain::Str(s)),
        Value::Array(a) => Node::List(a.into_iter().map(from_value).collect()),
        Value::Object(m) => Node::Map(
            m.into_iter()
                .map(|(k, v)| Entry::Pair(k, from_value(v)))
                .collect(),
        ),
    }
}

/// A tree as a JSON/YAML document (comment entries dropped).
pub fn to_value(node: &Node) -> Value {
    match node {
        Node::Null => Value::Null,
        Node::Scalar(Plain::Str(s) | Plain::Comment(s)) => Value::String(s.clone()),
        Node::Scalar(Plain::Int(i)) => Value::from(*i),
        Node::Scalar(Plain::Float(f)) => {
            serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
        }
        Node::Scalar(Plain::Bool(b)) => Value::Bool(*b),
        Node::List(items) | Node::Documents(items) => {
            Value::Array(items.iter().map(to_value).collect())
        }
        Node::Map(entries) => Value::Object(
            entries
                .iter()
                .filter_map(|e| match e {
                    Entry::Pair(k, v) => Some((k.clone(), to_value(v))),
                    Entry::Comment(_) => None,
                })
                .collect(),
        ),
    }
}
