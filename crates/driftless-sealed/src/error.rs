//! Why sealing failed; never carries a secret value.

/// A sealing error: one line, naming what was wrong with the input.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The certificate is not a PEM X.509 certificate with an RSA public key.
    #[error("certificate: {0}")]
    Certificate(String),
    /// The certificate's validity ended.
    #[error("certificate: expired on {0}; fetch the controller's current certificate")]
    Expired(String),
    /// The input is not a Secret manifest that can be sealed.
    #[error("{0}")]
    Secret(String),
    /// The cryptography failed (the operating system's random generator, or a key too small).
    #[error("encryption failed: {0}")]
    Crypto(String),
}
