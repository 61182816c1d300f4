//! Sealing Kubernetes Secrets for the [sealed-secrets] controller, as `kubeseal` does.
//!
//! Each value is encrypted on its own: a random 32-byte session key seals the value with
//! AES-256-GCM (zero nonce: the key is used once), and RSA-OAEP (SHA-256) wraps the session key
//! for the controller's public key, with a label that binds the value to where it may be
//! unsealed: `<namespace>/<name>` (strict scope), `<namespace>` (namespace-wide) or nothing
//! (cluster-wide). The ciphertext is `u16 big-endian length of the RSA part ‖ RSA part ‖ GCM
//! part`, base64 in `spec.encryptedData`.
//!
//! [sealed-secrets]: https://github.com/bitnami-labs/sealed-secrets

mod certificate;
mod cipher;
mod error;
mod scope;
mod secret;

pub use certificate::PublicKey;
pub use cipher::hybrid_encrypt;
pub use error::Error;
pub use scope::Scope;
pub use secret::{SealOptions, seal};
