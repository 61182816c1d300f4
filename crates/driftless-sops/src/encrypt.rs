//! Encryption as `sops --encrypt` does it, for age recipients: a fresh data key wrapped for
//! each recipient, every value the rule selects sealed with AES-256-GCM under its key path, and
//! the MAC over the plaintext values. The file written decrypts with the real `sops`.

use std::io::Write;

use regex::Regex;
use serde_json::{Map, Value, json};

use crate::format::{self, Format};
use crate::metadata::{Metadata, Rule};
use crate::tree::{self, Entry, Node};
use crate::value::Plain;
use crate::{Error, ErrorKind};

/// The sops version written in the metadata: the format of the reference this output is
/// tested against.
pub const SOPS_VERSION: &str = "3.13.3";

/// Which values are encrypted: at most one rule, as sops allows (none: every value except
/// those under a key ending in `_unencrypted`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncryptionRule {
    /// `unencrypted_suffix`.
    UnencryptedSuffix(String),
    /// `encrypted_suffix`.
    EncryptedSuffix(String),
    /// `unencrypted_regex`.
    UnencryptedRegex(String),
    /// `encrypted_regex`.
    EncryptedRegex(String),
}

/// How to encrypt a file.
#[derive(Debug, Clone, Default)]
pub struct EncryptOptions {
    /// age recipients (`age1…`), one data key stanza each.
    pub recipients: Vec<String>,
    /// Which values are encrypted.
    pub rule: Option<EncryptionRule>,
    /// The MAC covers only encrypted values.
    pub mac_only_encrypted: bool,
    /// `lastmodified`, RFC 3339 in UTC (`2006-01-02T15:04:05Z`): the caller's clock.
    pub last_modified: String,
}

/// Encrypts `plain`, the content of `file` (named in errors), in `format`.
///
/// # Errors
/// A file that does not parse, is already encrypted, names no or a bad recipient, or a bad
/// rule regex; one line naming the file, never a value.
pub fn encrypt(
    file: &str,
    plain: &[u8],
    format: Format,
    options: &EncryptOptions,
) -> Result<Vec<u8>, Error> {
    let fail = |kind| Error {
        file: file.to_string(),
        kind,
    };
    let bad = |m: String| fail(ErrorKind::Metadata(m));
    if options.recipients.is_empty() {
        return Err(bad("no age recipient to encrypt for".into()));
    }
    let recipients = options
        .recipients
        .iter()
        .map(|r| {
            r.trim()
                .parse::<age::x25519::Recipient>()
                .map_err(|_| bad(format!("{:?} is not an age recipient (age1...)", r.trim())))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut root = load_plain(format, plain).map_err(fail)?;
    let (rule, rule_field) = match &options.rule {
        None => (
            Rule::UnencryptedSuffix("_unencrypted".into()),
            ("unencrypted_suffix", "_unencrypted".to_owned()),
        ),
        Some(EncryptionRule::UnencryptedSuffix(s)) => (
            Rule::UnencryptedSuffix(s.clone()),
            ("unencrypted_suffix", s.clone()),
        ),
        Some(EncryptionRule::EncryptedSuffix(s)) => (
            Rule::EncryptedSuffix(s.clone()),
            ("encrypted_suffix", s.clone()),
        ),
        Some(EncryptionRule::UnencryptedRegex(r)) => (
            Rule::UnencryptedRegex(compile(r).map_err(bad)?),
            ("unencrypted_regex", r.clone()),
        ),
        Some(EncryptionRule::EncryptedRegex(r)) => (
            Rule::EncryptedRegex(compile(r).map_err(bad)?),
            ("encrypted_regex", r.clone()),
        ),
    };
    let mut key = [0u8; 32];
    getrandom::fill(&mut key)
        .map_err(|_| bad("no random bytes from the operating system".into()))?;
    let meta = Metadata {
        age: Vec::new(),
        pgp: Vec::new(),
        last_modified: options.last_modified.clone(),
        mac: String::new(),
        rule,
        mac_only_encrypted: options.mac_only_encrypted,
    };
    let mac = tree::encrypt(&mut root, &meta, &key).map_err(fail)?;
    let mut age = Vec::new();
    for (recipient, text) in recipients.iter().zip(&options.recipients) {
        age.push(json!({"recipient": text.trim(), "enc": wrap(&key, recipient).map_err(bad)?}));
    }
    let mut sops = Map::new();
    sops.insert("age".into(), Value::Array(age));
    sops.insert("lastmodified".into(), json!(options.last_modified));
    sops.insert("mac".into(), json!(mac));
    if options.mac_only_encrypted {
        sops.insert("mac_only_encrypted".into(), json!(true));
    }
    sops.insert(rule_field.0.into(), json!(rule_field.1));
    sops.insert("version".into(), json!(SOPS_VERSION));
    emit_encrypted(format, &root, Value::Object(sops)).map_err(fail)
}

fn compile(regex: &str) -> Result<Regex, String> {
    Regex::new(regex).map_err(|_| format!("{regex:?} is not a valid regex"))
}

/// The data key as an armored age message for one recipient, as sops stores it.
fn wrap(key: &[u8; 32], recipient: &age::x25519::Recipient) -> Result<String, String> {
    let failed = |e: std::io::Error| format!("age encryption failed: {e}");
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
            .map_err(|e| format!("age encryption failed: {e}"))?;
    let mut out = Vec::new();
    let armor = age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor)
        .map_err(failed)?;
    let mut writer = encryptor.wrap_output(armor).map_err(failed)?;
    writer.write_all(key).map_err(failed)?;
    writer
        .finish()
        .and_then(|armor| armor.finish())
        .map_err(failed)?;
    let mut text = String::from_utf8(out).map_err(|_| "age armor is not UTF-8".to_owned())?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

/// A plaintext file as a tree: YAML and JSON documents, dotenv lines, or (binary) the whole
/// file as one `data` string.
fn load_plain(format: Format, bytes: &[u8]) -> Result<Node, ErrorKind> {
    let parse = |reason: String| ErrorKind::Parse {
        format: match format {
            Format::Yaml => "YAML",
            Format::Json => "JSON",
            Format::Dotenv => "dotenv",
            Format::Binary => "binary",
        },
        reason,
    };
    let text = std::str::from_utf8(bytes).map_err(|_| parse("not UTF-8".into()))?;
    let node = match format {
        Format::Binary => Node::Map(vec![Entry::Pair(
            "data".into(),
            Node::Scalar(Plain::Str(text.to_owned())),
        )]),
        Format::Dotenv => {
            let mut entries = Vec::new();
            for (n, line) in text.split('\n').enumerate() {
                if line.is_empty() {
                    continue;
                }
                if let Some(comment) = line.strip_prefix('#') {
                    entries.push(Entry::Comment(comment.to_owned()));
                    continue;
                }
                let (k, v) = line
                    .split_once('=')
                    .ok_or_else(|| parse(format!("line {} has no `=`", n + 1)))?;
                entries.push(Entry::Pair(
                    k.to_owned(),
                    Node::Scalar(Plain::Str(v.replace("\\n", "\n"))),
                ));
            }
            Node::Map(entries)
        }
        Format::Yaml | Format::Json => {
            let doc: Value = if format == Format::Yaml {
                let options = serde_saphyr::options! { strict_booleans: true };
                serde_saphyr::from_str_with_options(text, options)
                    .map_err(|e| parse(e.to_string().lines().next().unwrap_or_default().into()))?
            } else {
                serde_json::from_str(text)
                    .map_err(|e| parse(format!("line {} column {}", e.line(), e.column())))?
            };
            if !doc.is_object() {
                return Err(ErrorKind::Metadata("the document is not a mapping".into()));
            }
            if doc.get("sops").is_some() {
                return Err(ErrorKind::Metadata(
                    "the file has a top-level `sops` key: already encrypted".into(),
                ));
            }
            format::from_value(doc)
        }
    };
    if format == Format::Dotenv
        && let Node::Map(entries) = &node
        && entries
            .iter()
            .any(|e| matches!(e, Entry::Pair(k, _) if k.starts_with("sops_")))
    {
        return Err(ErrorKind::Metadata(
            "the file has `sops_` keys: already encrypted".into(),
        ));
    }
    Ok(node)
}

/// The encrypted tree with its metadata, in the file's format.
fn emit_encrypted(format: Format, root: &Node, sops: Value) -> Result<Vec<u8>, ErrorKind> {
    match format {
        Format::Dotenv => {
            let mut text = String::from_utf8(format::emit(Format::Dotenv, root)?)
                .map_err(|_| ErrorKind::Metadata("dotenv output is not UTF-8".into()))?;
            let mut flat = Vec::new();
            flatten("sops", &sops, &mut flat);
            for (k, v) in flat {
                text.push_str(&k);
                text.push('=');
                text.push_str(&v.replace('\n', "\\n"));
                text.push('\n');
            }
            Ok(text.into_bytes())
        }
        Format::Yaml | Format::Json | Format::Binary => {
            let mut doc = format::to_value(root);
            if let Value::Object(map) = &mut doc {
                map.insert("sops".into(), sops);
            }
            if format == Format::Yaml {
                serde_saphyr::to_string(&doc)
                    .map(String::into_bytes)
                    .map_err(|e| ErrorKind::Parse {
                        format: "YAML",
                        reason: e.to_string(),
                    })
            } else {
                let mut out = serde_json::to_vec_pretty(&doc).map_err(|e| ErrorKind::Parse {
                    format: "JSON",
                    reason: e.to_string(),
                })?;
                out.push(b'\n');
                Ok(out)
            }
        }
    }
}

/// sops' flattening of metadata for dotenv: `sops_age__list_0__map_enc`.
fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix == "sops" {
                    format!("sops_{k}")
                } else {
                    format!("{prefix}__map_{k}")
                };
                flatten(&key, v, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten(&format!("{prefix}__list_{i}"), v, out);
            }
        }
        Value::String(s) => out.push((prefix.to_owned(), s.clone())),
        other => out.push((prefix.to_owned(), other.to_string())),
    }
}
