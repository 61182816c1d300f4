//! The hybrid RSA-OAEP + AES-256-GCM encryption of one value.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use rsa::Oaep;
use rsa::rand_core::{OsRng, RngCore};

use crate::{Error, PublicKey};

/// Encrypts `plaintext` for `key` with the RSA-OAEP `label`:
/// `u16 BE len(rsa) ‖ rsa ‖ AES-256-GCM(session key, zero nonce)`.
pub fn hybrid_encrypt(key: &PublicKey, plaintext: &[u8], label: &[u8]) -> Result<Vec<u8>, Error> {
    let mut session = [0u8; 32];
    OsRng
        .try_fill_bytes(&mut session)
        .map_err(|e| Error::Crypto(format!("random session key: {e}")))?;
    let label = String::from_utf8(label.to_vec())
        .map_err(|_| Error::Crypto("the label is not UTF-8".into()))?;
    let padding = Oaep::new_with_label::<sha2::Sha256, _>(label);
    let wrapped = key
        .key
        .encrypt(&mut OsRng, padding, &session)
        .map_err(|e| Error::Crypto(format!("RSA-OAEP: {e}")))?;
    let length =
        u16::try_from(wrapped.len()).map_err(|_| Error::Crypto("RSA key too large".into()))?;
    let cipher = Aes256Gcm::new_from_slice(&session)
        .map_err(|e| Error::Crypto(format!("AES-256-GCM key: {e}")))?;
    let sealed = cipher
        .encrypt(Nonce::from_slice(&[0u8; 12]), plaintext)
        .map_err(|e| Error::Crypto(format!("AES-256-GCM: {e}")))?;
    let mut out = Vec::with_capacity(2 + wrapped.len() + sealed.len());
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(&wrapped);
    out.extend_from_slice(&sealed);
    Ok(out)
}
