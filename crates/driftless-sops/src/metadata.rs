//! The `sops` metadata block: recipients, the MAC, and which values are encrypted.

use regex::Regex;
use serde_json::Value;

use crate::ErrorKind;

/// The largest list index accepted in flattened (dotenv) metadata.
const MAX_LIST_INDEX: usize = 1024;

/// The suffix sops leaves in the clear when a file names no encryption rule.
const DEFAULT_UNENCRYPTED_SUFFIX: &str = "_unencrypted";

/// One age recipient and the data key wrapped for it.
#[derive(Debug, Clone)]
pub struct AgeStanza {
    /// The recipient's public key, `age1…`.
    pub recipient: String,
    /// The data key, as an armored age message.
    pub enc: String,
}

/// One OpenPGP key and the data key encrypted for it.
#[derive(Debug, Clone)]
pub struct PgpStanza {
    /// The key's fingerprint, as sops records it.
    pub fp: String,
    /// The data key, as an armored OpenPGP message.
    pub enc: String,
}

/// Which values a file keeps encrypted: exactly one rule (sops refuses more than one).
#[derive(Debug, Clone)]
pub enum Rule {
    /// Every value except those under a key ending in this suffix.
    UnencryptedSuffix(String),
    /// Only values under a key ending in this suffix.
    EncryptedSuffix(String),
    /// Every value except those under a key matching this regex.
    UnencryptedRegex(Regex),
    /// Only values under a key matching this regex.
    EncryptedRegex(Regex),
}

impl Rule {
    /// sops' `shouldBeEncrypted` for a key path (list indices are not part of it).
    pub fn encrypts(&self, path: &[String]) -> bool {
        match self {
            Rule::UnencryptedSuffix(s) => !path.iter().any(|k| k.ends_with(s.as_str())),
            Rule::EncryptedSuffix(s) => path.iter().any(|k| k.ends_with(s.as_str())),
            Rule::UnencryptedRegex(r) => !path.iter().any(|k| r.is_match(k)),
            Rule::EncryptedRegex(r) => path.iter().any(|k| r.is_match(k)),
        }
    }
}

/// The parts of the metadata decryption needs.
#[derive(Debug, Clone)]
pub struct Metadata {
    /// The age recipients of the (single) key group.
    pub age: Vec<AgeStanza>,
    /// Its OpenPGP keys.
    pub pgp: Vec<PgpStanza>,
    /// `lastmodified`, verbatim: the MAC's authenticated data.
    pub last_modified: String,
    /// The encrypted MAC.
    pub mac: String,
    /// Which values are encrypted.
    pub rule: Rule,
    /// Whether the MAC covers only encrypted values.
    pub mac_only_encrypted: bool,
}

impl Metadata {
    /// Reads the metadata from the `sops` object (for dotenv and INI, the object rebuilt from
    /// the flattened `sops_*` keys).
    pub fn from_value(sops: &Value) -> Result<Self, ErrorKind> {
        let bad = |m: &str| ErrorKind::Metadata(m.to_string());
        let obj = sops
            .as_object()
            .ok_or_else(|| bad("`sops` is not a mapping"))?;
        let text = |k: &str| obj.get(k).and_then(scalar_text);
        let last_modified = text("lastmodified").ok_or_else(|| bad("no `lastmodified`"))?;
        let mac = text("mac").ok_or_else(|| bad("no `mac`"))?;
        if mac.is_empty() {
            return Err(bad("empty `mac`"));
        }
        for (field, what) in [
            ("encrypted_comment_regex", "encrypted_comment_regex"),
            ("unencrypted_comment_regex", "unencrypted_comment_regex"),
        ] {
            if text(field).is_some_and(|v| !v.is_empty()) {
                return Err(ErrorKind::Unsupported(format!("`{what}`")));
            }
        }
        let mut rules = Vec::new();
        let regex = |k: &str, v: &str| {
            Regex::new(v).map_err(|_| ErrorKind::Metadata(format!("`{k}` is not a valid regex")))
        };
        for key in [
            "unencrypted_suffix",
            "encrypted_suffix",
            "unencrypted_regex",
            "encrypted_regex",
        ] {
            let Some(v) = text(key).filter(|v| !v.is_empty()) else {
                continue;
            };
            rules.push(match key {
                "unencrypted_suffix" => Rule::UnencryptedSuffix(v),
                "encrypted_suffix" => Rule::EncryptedSuffix(v),
                "unencrypted_regex" => Rule::UnencryptedRegex(regex(key, &v)?),
                _ => Rule::EncryptedRegex(regex(key, &v)?),
            });
        }
        if rules.len() > 1 {
            return Err(bad(
                "more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, unencrypted_regex",
            ));
        }
        let rule = rules
            .pop()
            .unwrap_or_else(|| Rule::UnencryptedSuffix(DEFAULT_UNENCRYPTED_SUFFIX.into()));
        let mac_only_encrypted = text("mac_only_encrypted").is_some_and(|v| v == "true");

        let top_level = [
            "pgp", "kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "age",
        ]
        .iter()
        .any(|k| {
            obj.get(*k)
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty())
        });
        let group = if top_level {
            sops
        } else {
            match obj
                .get("key_groups")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
            {
                Some([one]) => one,
                Some([]) | None => return Err(bad("no keys found in the file")),
                Some(_) => {
                    return Err(ErrorKind::Unsupported(
                        "several key groups (Shamir threshold)".into(),
                    ));
                }
            }
        };
        let age = group
            .get("age")
            .and_then(Value::as_array)
            .map(|entries| {
                entries
                    .iter()
                    .map(|e| {
                        Ok(AgeStanza {
                            recipient: e.get("recipient").and_then(scalar_text).unwrap_or_default(),
                            enc: e
                                .get("enc")
                                .and_then(scalar_text)
                                .ok_or_else(|| bad("an age entry has no `enc`"))?,
                        })
                    })
                    .collect::<Result<Vec<_>, ErrorKind>>()
            })
            .transpose()?
            .unwrap_or_default();
        let pgp = group
            .get("pgp")
            .and_then(Value::as_array)
            .map(|entries| {
                entries
                    .iter()
                    .map(|e| {
                        Ok(PgpStanza {
                            fp: e.get("fp").and_then(scalar_text).unwrap_or_default(),
                            enc: e
                                .get("enc")
                                .and_then(scalar_text)
                                .ok_or_else(|| bad("a pgp entry has no `enc`"))?,
                        })
                    })
                    .collect::<Result<Vec<_>, ErrorKind>>()
            })
            .transpose()?
            .unwrap_or_default();
        if age.is_empty() && pgp.is_empty() {
            let kinds: Vec<&str> = ["kms", "gcp_kms", "hckms", "azure_kv", "hc_vault"]
                .into_iter()
                .filter(|k| {
                    group
                        .get(*k)
                        .and_then(Value::as_array)
                        .is_some_and(|a| !a.is_empty())
                })
                .collect();
            return Err(ErrorKind::Unsupported(format!(
                "the file has no age or PGP recipient, only {} (only age and PGP are supported)",
                kinds.join(", ")
            )));
        }
        Ok(Self {
            age,
            pgp,
            last_modified,
            mac,
            rule,
            mac_only_encrypted,
        })
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Rebuilds the `sops` object from dotenv/INI keys flattened with `__map_` and `__list_`
/// (the key already stripped of its `sops_` prefix).
pub fn unflatten(entries: &[(String, String)]) -> Value {
    let mut root = Value::Object(serde_json::Map::new());
    for (key, value) in entries {
        place(&mut root, &tokenize(key), value);
    }
    root
}

/// Puts `value` at the path `tokens` below `node`, making containers on the way.
fn place(node: &mut Value, tokens: &[Token], value: &str) {
    let Some((first, rest)) = tokens.split_first() else {
        *node = Value::String(value.to_string());
        return;
    };
    match first {
        Token::Map(k) => {
            if !node.is_object() {
                *node = Value::Object(serde_json::Map::new());
            }
            if let Value::Object(map) = node {
                place(map.entry(k.clone()).or_insert(Value::Null), rest, value);
            }
        }
        // An index past any real metadata list is ignored rather than allocated: the file
        // is untrusted, and sops' own lists hold one entry per recipient.
        Token::List(n) if *n > MAX_LIST_INDEX => {}
        Token::List(n) => {
            if !node.is_array() {
                *node = Value::Array(Vec::new());
            }
            if let Value::Array(list) = node {
                if list.len() <= *n {
                    list.resize(n + 1, Value::Null);
                }
                if let Some(slot) = list.get_mut(*n) {
                    place(slot, rest, value);
                }
            }
        }
    }
}

enum Token {
    Map(String),
    List(usize),
}

/// Splits `age__list_0__map_enc` into `age`, `[0]`, `enc`.
fn tokenize(key: &str) -> Vec<Token> {
    const MAP: &str = "__map_";
    const LIST: &str = "__list_";
    let mut tokens = Vec::new();
    let mut rest = key;
    let mut list = false;
    loop {
        let next = [
            rest.find(MAP).map(|i| (i, false)),
            rest.find(LIST).map(|i| (i, true)),
        ]
        .into_iter()
        .flatten()
        .min_by_key(|(i, _)| *i);
        let (piece, after) = match next {
            Some((i, is_list)) => {
                let sep = if is_list { LIST } else { MAP };
                (&rest[..i], Some((&rest[i + sep.len()..], is_list)))
            }
            None => (rest, None),
        };
        tokens.push(if list {
            // sops ignores a malformed index the same way (Atoi error → 0).
            Token::List(piece.parse().unwrap_or(0))
        } else {
            Token::Map(piece.to_string())
        });
        match after {
            Some((r, is_list)) => {
                rest = r;
                list = is_list;
            }
            None => return tokens,
        }
    }
}
