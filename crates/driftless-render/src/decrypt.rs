//! SOPS decryption of the files a render reads, in memory, as Flux does it: any file that
//! carries SOPS metadata (a manifest of a plain directory or of Kustomize `resources`, a
//! `secretGenerator` `files` or `envs` entry) reads as its plaintext.
//!
//! [`Decrypting`] wraps a [`FileTree`], so every renderer sees the plaintext through the same
//! one call it reads every file with, and no renderer (Kustomize included) knows about SOPS.
//! The keys are asked for once, the first time an encrypted file is read: a tree without one
//! never needs them.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;

use driftless_sops::{Format, Keys};

use driftless_resource::Manifest;

use crate::renderer::{RenderError, Renderers};
use crate::tree::{EntryKind, FileTree, TreeError};

/// What every SOPS value and MAC starts with: files without it are never parsed here.
const SOPS_VALUE: &[u8] = b"ENC[AES256_GCM,data:";

/// Gives the keys the first time an encrypted file is read; its error (a missing key Secret,
/// a key that does not parse) is one line for people, without key material.
pub type KeySupplier<'a> = Box<dyn FnOnce() -> Result<Keys, String> + 'a>;

/// Why a file could not be decrypted: one line naming the file (and the key path inside it),
/// never a value or a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DecryptError(pub String);

/// A [`FileTree`] whose SOPS files read as their plaintext (see the module's documentation).
///
/// # Guarantees
/// Plaintext lives only in memory, in this value and in what the renderers make of it. The
/// first failure is kept ([`Decrypting::failure`]): a render error caused by it can be reported
/// as the decryption failure it is, whatever the renderer made of the read error.
pub struct Decrypting<'a, T> {
    tree: T,
    supplier: RefCell<Option<KeySupplier<'a>>>,
    keys: RefCell<Option<Result<Keys, String>>>,
    plain: RefCell<HashMap<String, Vec<u8>>>,
    failure: RefCell<Option<DecryptError>>,
}

impl<T> std::fmt::Debug for Decrypting<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Decrypting({} files decrypted, redacted)",
            self.plain.borrow().len()
        )
    }
}

impl<'a, T: FileTree> Decrypting<'a, T> {
    /// Wraps `tree`; `keys` is called at most once, at the first encrypted file.
    pub fn new(tree: T, keys: KeySupplier<'a>) -> Self {
        Self {
            tree,
            supplier: RefCell::new(Some(keys)),
            keys: RefCell::new(None),
            plain: RefCell::new(HashMap::new()),
            failure: RefCell::new(None),
        }
    }

    /// A tree that decrypts with `keys`.
    pub fn with_keys(tree: T, keys: Keys) -> Self {
        Self::new(tree, Box::new(move || Ok(keys)))
    }

    /// The first file that did not decrypt, and why.
    pub fn failure(&self) -> Option<DecryptError> {
        self.failure.borrow().clone()
    }

    /// How many files were decrypted.
    pub fn decrypted(&self) -> usize {
        self.plain.borrow().len()
    }

    fn decrypt(&self, path: &str, bytes: &[u8], format: Format) -> Result<Vec<u8>, DecryptError> {
        if self.keys.borrow().is_none() {
            let supplier = self.supplier.borrow_mut().take();
            let keys = match supplier {
                Some(supply) => supply(),
                None => Err("no decryption keys".to_owned()),
            };
            *self.keys.borrow_mut() = Some(keys);
        }
        let keys = self.keys.borrow();
        let keys = match keys.as_ref() {
            Some(Ok(keys)) => keys,
            Some(Err(message)) => return Err(DecryptError(format!("{path}: {message}"))),
            None => return Err(DecryptError(format!("{path}: no decryption keys"))),
        };
        driftless_sops::decrypt(path, bytes, format, keys)
            .map(|decrypted| decrypted.bytes)
            .map_err(|e| DecryptError(e.to_string()))
    }
}

impl<T: FileTree> FileTree for Decrypting<'_, T> {
    fn kind(&self, path: &str) -> Option<EntryKind> {
        self.tree.kind(path)
    }

    fn read_dir(&self, dir: &str) -> Result<Vec<String>, TreeError> {
        self.tree.read_dir(dir)
    }

    fn read_file(&self, path: &str) -> Result<Cow<'_, [u8]>, TreeError> {
        if let Some(plain) = self.plain.borrow().get(path) {
            return Ok(Cow::Owned(plain.clone()));
        }
        let bytes = self.tree.read_file(path)?;
        let Some(format) = sops_format(path, &bytes) else {
            return Ok(bytes);
        };
        match self.decrypt(path, &bytes, format) {
            Ok(plain) => {
                self.plain
                    .borrow_mut()
                    .insert(path.to_owned(), plain.clone());
                Ok(Cow::Owned(plain))
            }
            Err(error) => {
                let message = error
                    .0
                    .strip_prefix(&format!("{path}: "))
                    .unwrap_or(&error.0)
                    .to_owned();
                self.failure.borrow_mut().get_or_insert(error);
                Err(TreeError::Io {
                    path: path.to_owned(),
                    message,
                })
            }
        }
    }
}

/// The SOPS format of a file, when it is a SOPS file: its name picks the format as sops does,
/// and its content must carry that format's metadata (a top-level `sops` key with a `mac`, or
/// `sops_mac=` in dotenv). Other files, plain manifests that merely mention `ENC[`, read as
/// they are.
pub fn sops_format(path: &str, bytes: &[u8]) -> Option<Format> {
    if !bytes.windows(SOPS_VALUE.len()).any(|w| w == SOPS_VALUE) {
        return None;
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let format = Format::from_path(path);
    let is_sops = match format {
        Format::Dotenv => driftless_sops::is_sops_dotenv(text),
        // A top-level `sops:` key (in any document of the file): decrypted, so that a file
        // whose metadata is broken is an error rather than applied encrypted.
        Format::Yaml => text
            .lines()
            .any(|l| l.strip_prefix("sops:").is_some_and(|r| r.trim().is_empty())),
        Format::Json | Format::Binary => serde_json::from_str::<serde_json::Value>(text)
            .is_ok_and(|doc| driftless_sops::is_sops_document(&doc)),
    };
    is_sops.then_some(format)
}

/// Renders `dir` of `tree` with `renderers`; when a SOPS file did not decrypt, the error is
/// that failure ([`RenderError::Decryption`]), however the renderer reported the read.
///
/// # Errors
/// As [`Renderers::render`], and [`RenderError::Decryption`].
pub fn render_decrypted<T: FileTree>(
    renderers: &Renderers,
    tree: &Decrypting<'_, T>,
    dir: &str,
) -> Result<Vec<Manifest>, RenderError> {
    renderers
        .render(tree, dir)
        .map_err(|error| match tree.failure() {
            Some(failure) => RenderError::Decryption(failure),
            None => error,
        })
}
