//! age identities and unwrapping the data key.

use std::io::Read;

use age::x25519::Identity;

use crate::ErrorKind;
use crate::metadata::AgeStanza;

/// age X25519 identities to decrypt with. Debug output never shows key material.
#[derive(Default)]
pub struct Keys {
    age: Vec<Identity>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keys({} age identities)", self.age.len())
    }
}

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

    /// How many identities there are.
    pub fn len(&self) -> usize {
        self.age.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.age.is_empty()
    }

    /// Unwraps the 32-byte data key from the first stanza one of the identities opens.
    pub(crate) fn data_key(&self, stanzas: &[AgeStanza]) -> Result<[u8; 32], ErrorKind> {
        let recipients = || {
            stanzas
                .iter()
                .map(|s| s.recipient.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if self.age.is_empty() {
            return Err(ErrorKind::NoKey {
                recipients: recipients(),
            });
        }
        for stanza in stanzas {
            if let Some(key) = self.open(&stanza.enc) {
                return Ok(key);
            }
        }
        Err(ErrorKind::WrongKey {
            given: self.age.len(),
            recipients: recipients(),
        })
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
