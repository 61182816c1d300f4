//! Credentials generated fresh for every control plane: a CA, the API server's serving
//! certificate, the service-account signing key and the admin bearer token. Nothing is reused
//! between runs and nothing is written outside the control plane's own directory.

use std::path::{Path, PathBuf};

use rand::Rng;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

use crate::Error;

/// Paths of the generated files.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The CA that signed the serving certificate; clients trust it.
    pub ca_cert: PathBuf,
    /// The API server's serving certificate (SANs `localhost` and `127.0.0.1`).
    pub serving_cert: PathBuf,
    /// Its private key.
    pub serving_key: PathBuf,
    /// Service-account token signing key (private).
    pub sa_key: PathBuf,
    /// Its public half, for token verification.
    pub sa_pub: PathBuf,
    /// The static token file naming the admin user (group `system:masters`).
    pub token_file: PathBuf,
    /// The admin's bearer token.
    pub token: String,
}

impl Credentials {
    /// Generates everything into `dir`.
    pub fn generate(dir: &Path) -> Result<Self, Error> {
        let ca_key = KeyPair::generate()?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "driftless-testenv-ca");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca_params.self_signed(&ca_key)?;
        let issuer = Issuer::new(ca_params, ca_key);

        let serving_key = KeyPair::generate()?;
        let mut serving =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
        serving
            .distinguished_name
            .push(DnType::CommonName, "kube-apiserver");
        serving.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        serving.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let serving_cert = serving.signed_by(&serving_key, &issuer)?;

        let sa_key = KeyPair::generate()?;
        let token: String = {
            let mut rng = rand::rng();
            (0..32)
                .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
                .collect()
        };

        let creds = Self {
            ca_cert: dir.join("ca.crt"),
            serving_cert: dir.join("apiserver.crt"),
            serving_key: dir.join("apiserver.key"),
            sa_key: dir.join("sa.key"),
            sa_pub: dir.join("sa.pub"),
            token_file: dir.join("tokens.csv"),
            token,
        };
        write(&creds.ca_cert, &ca_cert.pem())?;
        write(&creds.serving_cert, &serving_cert.pem())?;
        write(&creds.serving_key, &serving_key.serialize_pem())?;
        write(&creds.sa_key, &sa_key.serialize_pem())?;
        write(&creds.sa_pub, &sa_key.public_key_pem())?;
        write(
            &creds.token_file,
            &format!("{},admin,admin-uid,system:masters\n", creds.token),
        )?;
        Ok(creds)
    }
}

fn write(path: &Path, contents: &str) -> Result<(), Error> {
    std::fs::write(path, contents).map_err(|source| Error::Io {
        what: format!("writing {}", path.display()),
        source,
    })
}
