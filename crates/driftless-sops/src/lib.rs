//! SOPS decryption in memory, pure: files encrypted by `sops` for age (X25519) recipients, in
//! YAML, JSON, dotenv and binary form, with the MAC verified; and encryption for age
//! recipients that the real `sops` decrypts, with `.sops.yaml` creation rules.
//!
//! The caller hands in the file's bytes and the identities; nothing is read from the
//! environment or the disk here. Errors name the file and the key path inside it, never a
//! value or a key.
//!
//! OpenPGP keys decrypt too (armored private keys without a passphrase, as Flux takes them).
//!
//! *Not yet supported* (refused with an `unsupported` error): cloud KMS recipients, several key groups (Shamir threshold), `encrypted_comment_regex` /
//! `unencrypted_comment_regex`, the INI format.

mod config;
mod encrypt;
mod error;
mod format;
mod keys;
mod metadata;
mod tree;
mod value;

pub use config::{CreationRule, creation_rule};
pub use encrypt::{EncryptOptions, EncryptionRule, SOPS_VERSION, encrypt};
pub use error::{Error, ErrorKind};
pub use format::Format;
pub use keys::{KeyError, Keys, NewIdentity, PgpKeyError, generate_identity};
pub use tree::{Entry, Node};
pub use value::Plain;

/// A decrypted file.
#[derive(Clone, PartialEq)]
pub struct Decrypted {
    /// The document tree with every value in the clear.
    pub tree: Node,
    /// The file written back in its format without the `sops` metadata (what `sops -d`
    /// prints: byte for byte for dotenv and binary, the same document for YAML and JSON).
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Decrypted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Decrypted({} bytes, redacted)", self.bytes.len())
    }
}

/// Decrypts `bytes`, the content of `file` (the name used in errors, and, with [`Format::from_path`],
/// usually the format), with `keys`.
pub fn decrypt(file: &str, bytes: &[u8], format: Format, keys: &Keys) -> Result<Decrypted, Error> {
    let fail = |kind| Error {
        file: file.to_string(),
        kind,
    };
    let (mut tree, sops) = format::load(format, bytes).map_err(fail)?;
    let meta = metadata::Metadata::from_value(&sops).map_err(fail)?;
    let key = keys.data_key(&meta).map_err(fail)?;
    tree::decrypt(&mut tree, &meta, &key).map_err(fail)?;
    let bytes = format::emit(format, &tree).map_err(fail)?;
    Ok(Decrypted { tree, bytes })
}

/// Whether a YAML or JSON document (already parsed) is a SOPS file: a top-level `sops`
/// mapping carrying a `mac`. Used to pick files to decrypt among plain manifests.
pub fn is_sops_document(doc: &serde_json::Value) -> bool {
    doc.get("sops")
        .and_then(|s| s.get("mac"))
        .is_some_and(serde_json::Value::is_string)
}

/// Whether dotenv text is a SOPS file (it has a `sops_mac=` line).
pub fn is_sops_dotenv(text: &str) -> bool {
    text.lines().any(|l| l.starts_with("sops_mac="))
}
