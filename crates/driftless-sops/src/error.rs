//! Why a SOPS file could not be decrypted. Every message names the file and, where one is
//! involved, the key path inside it; none ever carries a plaintext value or key material.

/// A failed decryption: the file it concerns and what went wrong.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {kind}")]
pub struct Error {
    /// The file as the caller named it.
    pub file: String,
    /// What went wrong.
    pub kind: ErrorKind,
}

/// What went wrong while decrypting one file.
#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    /// The file does not parse in its format.
    #[error("not valid {format}: {reason}")]
    Parse {
        /// The format tried.
        format: &'static str,
        /// The parser's reason, without the file's content.
        reason: String,
    },
    /// The file has no `sops` metadata, or metadata that does not parse.
    #[error("sops metadata: {0}")]
    Metadata(String),
    /// The file needs a feature this implementation does not have.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// No key was given at all.
    #[error("no decryption key: the file is encrypted for {recipients}, and no key was given")]
    NoKey {
        /// The file's recipients: `age recipients age1…`, `PGP keys <fingerprint>`.
        recipients: String,
    },
    /// None of the keys given opens the data key.
    #[error("none of the {given} given decrypts the data key (file recipients: {recipients})")]
    WrongKey {
        /// What was tried: `2 age identities`, `1 age identities and 1 PGP keys`.
        given: String,
        /// The file's recipients (public keys, PGP fingerprints), comma-separated.
        recipients: String,
    },
    /// An `ENC[...]` value is malformed or does not authenticate.
    #[error("value at {path}: {reason}")]
    Value {
        /// The key path, `a:b:c`.
        path: String,
        /// Why, never the value.
        reason: &'static str,
    },
    /// The MAC over the decrypted values does not match the file's.
    #[error(
        "MAC mismatch: the file was modified after it was encrypted (or the data key is wrong)"
    )]
    MacMismatch,
}
