//! age identities and unwrapping the data key.

use std::io::Read;

use age::x25519::Identity;

use pgp::composed::{Deserializable, Message, SignedSecretKey};
use pgp::types::Password;

use crate::ErrorKind;
use crate::metadata::{AgeStanza, Metadata, PgpStanza};

/// age X25519 identities and OpenPGP private keys to decrypt with. Debug output never shows
/// key material.
#[derive(Default)]
pub struct Keys {
    age: Vec<Identity>,
    pgp: Vec<SignedSecretKey>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keys({})", self.describe())
    }
}

/// An OpenPGP private key that does not parse; never shows the key.
#[derive(Debug, thiserror::Error)]
#[error("not an armored OpenPGP private key (gpg --export-secret-keys --armor)")]
pub struct PgpKeyError;

/// An identity file that does not parse; says which line, never the line itself.
#[derive(Debug, thiserror::Error)]
#[error("line {line} is not an age identity (AGE-SECRET-KEY-1...)")]
pub struct KeyError {
    /// 1-based line number in the text given.
    pub line: usize,
}

impl Keys {
    /// No keys.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the identities in an age identity file's text (`age-keygen` output: one
    /// `AGE-SECRET-KEY-1…` per line, `#` comments and blank lines ignored).
    pub fn add_age_identities(&mut self, text: &str) -> Result<(), KeyError> {
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let identity = line
                .parse::<Identity>()
                .map_err(|_| KeyError { line: i + 1 })?;
            self.age.push(identity);
        }
        Ok(())
    }

    /// Adds the OpenPGP private keys of an armored block (`gpg --export-secret-keys --armor`,
    /// the `.asc` keys of a Flux decryption Secret). Keys protected by a passphrase are
    /// accepted but open nothing: sops' keys for automation have none.
    pub fn add_pgp_keys(&mut self, armored: &str) -> Result<(), PgpKeyError> {
        let (keys, _) = SignedSecretKey::from_string_many(armored).map_err(|_| PgpKeyError)?;
        let mut added = 0;
        for key in keys {
            self.pgp.push(key.map_err(|_| PgpKeyError)?);
            added += 1;
        }
        if added == 0 {
            return Err(PgpKeyError);
        }
        Ok(())
    }

    /// How many keys there are (age identities and PGP keys).
    pub fn len(&self) -> usize {
        self.age.len() + self.pgp.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `2 age identities`, `1 age identities and 1 PGP keys`.
    fn describe(&self) -> String {
        if self.pgp.is_empty() {
            format!("{} age identities", self.age.len())
        } else {
            format!(
                "{} age identities and {} PGP keys",
                self.age.len(),
                self.pgp.len()
            )
        }
    }

    /// Unwraps the 32-byte data key from the first stanza one of the keys opens.
    pub(crate) fn data_key(&self, meta: &Metadata) -> Result<[u8; 32], ErrorKind> {
        if self.is_empty() {
            return Err(ErrorKind::NoKey {
                recipients: recipients(&meta.age, &meta.pgp, true),
            });
        }
        for stanza in &meta.age {
            if let Some(key) = self.open(&stanza.enc) {
                return Ok(key);
            }
        }
        for stanza in &meta.pgp {
            if let Some(key) = self.open_pgp(&stanza.enc) {
                return Ok(key);
            }
        }
        Err(ErrorKind::WrongKey {
            given: self.describe(),
            recipients: recipients(&meta.age, &meta.pgp, false),
        })
    }

    fn open_pgp(&self, armored: &str) -> Option<[u8; 32]> {
        for key in &self.pgp {
            let Ok((message, _)) = Message::from_string(armored) else {
                return None;
            };
            let Ok(mut message) = message.decrypt(&Password::empty(), key) else {
                continue;
            };
            if message.is_compressed() {
                message = message.decompress().ok()?;
            }
            let data = message.as_data_vec().ok()?;
            if let Ok(key) = data.try_into() {
                return Some(key);
            }
        }
        None
    }

    fn open(&self, armored: &str) -> Option<[u8; 32]> {
        let reader = age::armor::ArmoredReader::new(armored.as_bytes());
        let decryptor = age::Decryptor::new(reader).ok()?;
        let mut plain = decryptor
            .decrypt(self.age.iter().map(|i| i as &dyn age::Identity))
            .ok()?;
        let mut key = Vec::with_capacity(32);
        plain.read_to_end(&mut key).ok()?;
        key.try_into().ok()
    }
}

/// The recipients of a file for messages: `age recipients age1…; PGP keys FP` (labelled), or
/// comma-separated.
fn recipients(age: &[AgeStanza], pgp: &[PgpStanza], labelled: bool) -> String {
    let age: Vec<&str> = age.iter().map(|s| s.recipient.as_str()).collect();
    let pgp: Vec<&str> = pgp.iter().map(|s| s.fp.as_str()).collect();
    if !labelled {
        return age
            .iter()
            .chain(&pgp)
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
    }
    let mut parts = Vec::new();
    if !age.is_empty() {
        parts.push(format!("age recipients {}", age.join(", ")));
    }
    if !pgp.is_empty() {
        parts.push(format!("PGP keys {}", pgp.join(", ")));
    }
    parts.join("; ")
}

/// A new age X25519 identity, as `age-keygen` makes one.
pub struct NewIdentity {
    /// The secret key, `AGE-SECRET-KEY-1…`.
    pub secret: String,
    /// Its public key (the recipient to encrypt for), `age1…`.
    pub recipient: String,
}

impl std::fmt::Debug for NewIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NewIdentity({}, secret redacted)", self.recipient)
    }
}

/// Generates a new age identity from the operating system's random source.
pub fn generate_identity() -> NewIdentity {
    use age::secrecy::ExposeSecret;
    let identity = Identity::generate();
    NewIdentity {
        secret: identity.to_string().expose_secret().to_owned(),
        recipient: identity.to_public().to_string(),
    }
}
