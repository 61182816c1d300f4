//! The document tree sops encrypts, walked in document order to decrypt values and compute
//! the MAC.

use sha2::{Digest, Sha512};

use crate::ErrorKind;
use crate::metadata::Metadata;
use crate::value::{self, Plain};

/// What sops hashes first when `mac_only_encrypted` is set, so such a MAC never equals a
/// full one (its `MACOnlyEncryptedInitialization`).
const MAC_ONLY_ENCRYPTED_INIT: [u8; 32] = [
    0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b,
    0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
];

/// A node of a SOPS document.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A scalar value.
    Scalar(Plain),
    /// `null`: never encrypted, not part of the MAC.
    Null,
    /// A mapping in document order; comment entries sit between keys.
    Map(Vec<Entry>),
    /// A sequence.
    List(Vec<Node>),
    /// The documents of a multi-document YAML file, walked in order under the same key paths.
    Documents(Vec<Node>),
}

/// One entry of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// `key: value`.
    Pair(String, Node),
    /// A comment line (dotenv); encrypted by sops like a value.
    Comment(String),
}

/// Decrypts every value the metadata's rule says is encrypted, verifying the MAC.
pub fn decrypt(root: &mut Node, meta: &Metadata, key: &[u8; 32]) -> Result<(), ErrorKind> {
    let mut hash = mac_hash(meta);
    each_leaf(root, &mut Vec::new(), &mut |leaf, path| match leaf {
        Leaf::Comment(text) => {
            // sops decrypts comments that are encrypted and keeps the others.
            if meta.rule.encrypts(path)
                && let Ok(Plain::Comment(plain) | Plain::Str(plain)) =
                    value::decrypt(text, key, &aad(path))
            {
                *text = plain;
            }
            Ok(())
        }
        Leaf::Scalar(plain) => {
            let encrypted = meta.rule.encrypts(path);
            if encrypted {
                let Plain::Str(text) = &*plain else {
                    return Err(failed(
                        path,
                        "expected an encrypted value, found a plain non-string",
                    ));
                };
                *plain = value::decrypt(text, key, &aad(path)).map_err(|r| failed(path, r))?;
            }
            if (!meta.mac_only_encrypted || encrypted) && !matches!(plain, Plain::Comment(_)) {
                hash.update(value::mac_bytes(plain));
            }
            Ok(())
        }
    })?;
    let computed = hex_upper(&hash.finalize());
    let stored = match value::decrypt(&meta.mac, key, &meta.last_modified) {
        Ok(Plain::Str(s)) => s,
        _ => return Err(ErrorKind::MacMismatch),
    };
    if stored == computed {
        Ok(())
    } else {
        Err(ErrorKind::MacMismatch)
    }
}

/// Encrypts every value the metadata's rule says is to be encrypted, as sops does, and returns
/// the encrypted MAC over the plaintext values (authenticated with `meta.last_modified`).
pub fn encrypt(root: &mut Node, meta: &Metadata, key: &[u8; 32]) -> Result<String, ErrorKind> {
    let mut hash = mac_hash(meta);
    each_leaf(root, &mut Vec::new(), &mut |leaf, path| match leaf {
        Leaf::Comment(text) => {
            if meta.rule.encrypts(path) {
                *text = value::encrypt(&Plain::Comment(text.clone()), key, &aad(path))
                    .map_err(|r| failed(path, r))?;
            }
            Ok(())
        }
        Leaf::Scalar(plain) => {
            let encrypted = meta.rule.encrypts(path);
            if (!meta.mac_only_encrypted || encrypted) && !matches!(plain, Plain::Comment(_)) {
                hash.update(value::mac_bytes(plain));
            }
            if encrypted {
                *plain = Plain::Str(
                    value::encrypt(plain, key, &aad(path)).map_err(|r| failed(path, r))?,
                );
            }
            Ok(())
        }
    })?;
    let mac = Plain::Str(hex_upper(&hash.finalize()));
    value::encrypt(&mac, key, &meta.last_modified).map_err(|reason| ErrorKind::Value {
        path: "sops:mac".into(),
        reason,
    })
}

/// The MAC's hash before any value: primed when `mac_only_encrypted` is set.
fn mac_hash(meta: &Metadata) -> Sha512 {
    let mut hash = Sha512::new();
    if meta.mac_only_encrypted {
        hash.update(MAC_ONLY_ENCRYPTED_INIT);
    }
    hash
}

/// A value the walk reaches: a comment entry of a mapping, or a scalar.
enum Leaf<'a> {
    Comment(&'a mut String),
    Scalar(&'a mut Plain),
}

/// What [`each_leaf`] calls with each leaf and its key path.
type Visit<'v> = dyn FnMut(Leaf<'_>, &[String]) -> Result<(), ErrorKind> + 'v;

/// Calls `visit` with every comment and scalar of `node` in document order, with its key path
/// (`null`s are skipped: never encrypted, not part of the MAC); the first error stops the walk.
fn each_leaf(
    node: &mut Node,
    path: &mut Vec<String>,
    visit: &mut Visit<'_>,
) -> Result<(), ErrorKind> {
    match node {
        Node::Null => Ok(()),
        Node::Map(entries) => {
            for entry in entries {
                match entry {
                    Entry::Comment(text) => visit(Leaf::Comment(text), path)?,
                    Entry::Pair(k, v) => {
                        path.push(k.clone());
                        let r = each_leaf(v, path, visit);
                        path.pop();
                        r?;
                    }
                }
            }
            Ok(())
        }
        Node::List(items) | Node::Documents(items) => {
            for item in items {
                each_leaf(item, path, visit)?;
            }
            Ok(())
        }
        Node::Scalar(plain) => visit(Leaf::Scalar(plain), path),
    }
}

/// A value that does not decrypt or encrypt, named by its key path.
fn failed(path: &[String], reason: &'static str) -> ErrorKind {
    ErrorKind::Value {
        path: path.join(":"),
        reason,
    }
}

/// The authenticated data of a value: its key path joined with `:`, plus a trailing `:`.
fn aad(path: &[String]) -> String {
    let mut s = path.join(":");
    s.push(':');
    s
}

fn hex_upper(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02X}");
            s
        })
}
