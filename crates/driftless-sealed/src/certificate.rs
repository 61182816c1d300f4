//! The controller's public certificate (`kubeseal --fetch-cert`, `/v1/cert.pem`).

use rsa::RsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::Error;

/// The RSA public key of a sealed-secrets controller, taken from its PEM certificate.
#[derive(Debug, Clone)]
pub struct PublicKey {
    pub(crate) key: RsaPublicKey,
}

impl PublicKey {
    /// Reads the first certificate of `pem`; refuses one that is not RSA or whose validity
    /// ended before `now_unix` (seconds since the epoch), as `kubeseal` does.
    pub fn from_pem(pem: &[u8], now_unix: i64) -> Result<Self, Error> {
        let (_, block) = x509_parser::pem::parse_x509_pem(pem)
            .map_err(|e| Error::Certificate(format!("not a PEM certificate ({e})")))?;
        if block.label != "CERTIFICATE" {
            return Err(Error::Certificate(format!(
                "PEM block is {:?}, not CERTIFICATE",
                block.label
            )));
        }
        let (_, cert) = X509Certificate::from_der(&block.contents)
            .map_err(|e| Error::Certificate(format!("not an X.509 certificate ({e})")))?;
        let not_after = cert.validity().not_after;
        if not_after.timestamp() < now_unix {
            return Err(Error::Expired(not_after.to_string()));
        }
        let key = RsaPublicKey::from_public_key_der(cert.public_key().raw)
            .map_err(|e| Error::Certificate(format!("expected an RSA public key ({e})")))?;
        Ok(Self { key })
    }
}
