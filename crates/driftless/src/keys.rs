//! The keys the CLI decrypts SOPS files with, found the way `sops` finds them: the identities
//! in `SOPS_AGE_KEY`, the file `SOPS_AGE_KEY_FILE` names (else the default
//! `$XDG_CONFIG_HOME/sops/age/keys.txt`, `~/.config/sops/age/keys.txt`, when it exists), and
//! every `--decryption-key FILE`.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use driftless_sops::Keys;

/// Where SOPS keys come from, besides the `sops` environment variables.
#[derive(Debug, Clone, Args)]
pub struct DecryptionArgs {
    /// An age identity file (`AGE-SECRET-KEY-1...` lines, as age-keygen writes) or an armored
    /// OpenPGP private key (`gpg --export-secret-keys --armor`, no passphrase) to decrypt SOPS
    /// files with, in addition to SOPS_AGE_KEY, SOPS_AGE_KEY_FILE and
    /// ~/.config/sops/age/keys.txt; repeatable.
    #[arg(long = "decryption-key", value_name = "FILE")]
    files: Vec<PathBuf>,
}

impl DecryptionArgs {
    /// Every identity found. A file named by a flag or `SOPS_AGE_KEY_FILE` must exist; the
    /// default file may not.
    pub fn keys(&self) -> anyhow::Result<Keys> {
        let mut keys = Keys::new();
        if let Some(text) = std::env::var_os("SOPS_AGE_KEY") {
            let text = text.to_str().context("SOPS_AGE_KEY is not UTF-8")?;
            keys.add_age_identities(text)
                .map_err(|e| anyhow::anyhow!("SOPS_AGE_KEY: {e}"))?;
        }
        let mut files: Vec<(PathBuf, bool)> =
            self.files.iter().map(|f| (f.clone(), true)).collect();
        match std::env::var_os("SOPS_AGE_KEY_FILE") {
            Some(file) => files.push((file.into(), true)),
            None => {
                if let Some(default) = default_key_file() {
                    files.push((default, false));
                }
            }
        }
        for (file, required) in files {
            let text = match std::fs::read_to_string(&file) {
                Ok(text) => text,
                Err(error) if !required && error.kind() == std::io::ErrorKind::NotFound => {
                    continue;
                }
                Err(error) => {
                    anyhow::bail!("reading age identities from {}: {error}", file.display())
                }
            };
            if text.contains("-----BEGIN PGP PRIVATE KEY BLOCK-----") {
                keys.add_pgp_keys(&text)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            } else {
                keys.add_age_identities(&text)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            }
        }
        Ok(keys)
    }

    /// [`DecryptionArgs::keys`] as a render asks for them (at the first encrypted file).
    pub fn supplier(&self) -> impl FnOnce() -> Result<Keys, String> + '_ {
        move || self.keys().map_err(|e| format!("{e:#}"))
    }
}

/// sops' default identity file: `sops/age/keys.txt` in the user's configuration directory.
fn default_key_file() -> Option<PathBuf> {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))?;
    Some(config.join("sops").join("age").join("keys.txt"))
}
