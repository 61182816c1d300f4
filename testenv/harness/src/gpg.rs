//! GnuPG keys for tests, made by the real `gpg` (Debian's gnupg), as sops users make theirs.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::Error;

/// A new GnuPG key without a passphrase, in a GNUPGHOME of its own.
#[derive(Debug)]
pub struct GpgKey {
    /// The GNUPGHOME holding the key; removed when dropped.
    pub home: tempfile::TempDir,
    /// The primary key's fingerprint.
    pub fingerprint: String,
    /// The armored private key (`gpg --export-secret-keys --armor`).
    pub armored: String,
}

/// Makes a key whose primary key is of `primary` (`ed25519`, `rsa3072`, ...) and whose
/// encryption subkey is of `encryption` (`cv25519`, `rsa3072`, ...).
///
/// # Errors
/// [`Error::Io`] when gpg cannot be started or the home not made, [`Error::Gpg`] when gpg
/// fails or lists no fingerprint.
pub fn gpg_key(primary: &str, encryption: &str) -> Result<GpgKey, Error> {
    let io = |what: &str| {
        let what = what.to_owned();
        move |source| Error::Io { what, source }
    };
    let home = tempfile::tempdir().map_err(io("making a GNUPGHOME"))?;
    std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o700))
        .map_err(io("making a GNUPGHOME private"))?;
    let gpg = |args: &[&str]| -> Result<String, Error> {
        let out = Command::new("gpg")
            .args(["--batch", "--quiet", "--pinentry-mode", "loopback"])
            .args(["--passphrase", ""])
            .args(args)
            .env("GNUPGHOME", home.path())
            .output()
            .map_err(io("running gpg"))?;
        if !out.status.success() {
            return Err(Error::Gpg {
                args: args.join(" "),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let user = "Driftless Test <test@example.com>";
    gpg(&["--quick-gen-key", user, primary, "cert", "never"])?;
    let listing = gpg(&["--list-secret-keys", "--with-colons"])?;
    let fingerprint = listing
        .lines()
        .find_map(|l| l.strip_prefix("fpr:"))
        .and_then(|rest| rest.split(':').find(|f| !f.is_empty()))
        .ok_or_else(|| Error::Gpg {
            args: "--list-secret-keys --with-colons".into(),
            stderr: "no fingerprint listed".into(),
        })?
        .to_owned();
    gpg(&["--quick-add-key", &fingerprint, encryption, "encr", "never"])?;
    let armored = gpg(&["--export-secret-keys", "--armor", &fingerprint])?;
    Ok(GpgKey {
        home,
        fingerprint,
        armored,
    })
}
