//! The repository an Application fetches, with the credentials, known hosts and TLS certificate
//! that the controller's namespace holds for it.
//!
//! SSH needs files: the key and the known_hosts go to [`Context::credentials_dir`] (mode 0700),
//! each named by the hash of its content and written once (mode 0600), so a fetch never reads a
//! half-written file and a changed key is a new file.

use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use driftless_source::{Credentials, Source};
use sha2::{Digest as _, Sha256};

use crate::Context;
use crate::credentials::{Auth, Credential, parse, select};

/// The ConfigMap of known SSH host keys (key [`KNOWN_HOSTS_KEY`], known_hosts format).
pub const KNOWN_HOSTS_CONFIG_MAP: &str = "driftless-ssh-known-hosts";
/// The key of [`KNOWN_HOSTS_CONFIG_MAP`] that holds the host keys.
pub const KNOWN_HOSTS_KEY: &str = "ssh_known_hosts";
/// The ConfigMap of TLS certificates to trust, one key per repository host name (no port), each
/// a PEM bundle.
pub const TLS_CONFIG_MAP: &str = "driftless-tls-certs";

/// The source to fetch for an Application of `project` whose repository is `url`, and a note for
/// a failed fetch when credentials of another project match the URL.
///
/// # Errors
/// Writing the SSH key or known_hosts file failed (the message names the directory, never the
/// key).
pub(crate) fn source_for(
    ctx: &Context,
    url: &str,
    project: &str,
) -> Result<(Source, Option<String>), String> {
    let credentials: Vec<Credential> = ctx
        .credentials
        .state()
        .iter()
        .filter_map(|secret| parse(secret)?.ok())
        .collect();
    let selection = select(&credentials, url, project);
    let mut source = Source::new(url);
    if let Some(auth) = selection.auth {
        source = source.with_credentials(match auth {
            Auth::None => Credentials::None,
            Auth::Basic { username, password } => Credentials::Basic {
                username: username.clone(),
                password: password.clone(),
            },
            Auth::Token(token) => Credentials::Token(token.clone()),
            Auth::Ssh {
                private_key,
                ignore_host_key,
            } => {
                let dir = &ctx.credentials_dir;
                let mut key = private_key.clone();
                if !key.ends_with('\n') {
                    // OpenSSH refuses a key file without its final newline.
                    key.push('\n');
                }
                let known_hosts = if *ignore_host_key {
                    None
                } else {
                    let hosts = setting(ctx, KNOWN_HOSTS_CONFIG_MAP, KNOWN_HOSTS_KEY);
                    Some(written(dir, "known_hosts", &hosts.unwrap_or_default())?)
                };
                Credentials::SshKey {
                    private_key: written(dir, "key", &key)?,
                    known_hosts,
                }
            }
        });
    }
    if let Some(pem) = host(url).and_then(|host| setting(ctx, TLS_CONFIG_MAP, &host)) {
        source = source.with_ca_certificate(pem.into_bytes());
    }
    let note = (selection.auth.is_none() && !selection.withheld.is_empty()).then(|| {
        let named: Vec<String> = selection
            .withheld
            .iter()
            .map(|c| {
                format!(
                    "{} (project {})",
                    c.secret,
                    c.project.as_deref().unwrap_or_default()
                )
            })
            .collect();
        format!(
            "fetched without credentials: the repository credentials for this URL ({}) are not for project {project}",
            named.join(", ")
        )
    });
    Ok((source, note))
}

/// A key of one of the controller namespace's ConfigMaps.
fn setting(ctx: &Context, config_map: &str, key: &str) -> Option<String> {
    ctx.settings
        .state()
        .iter()
        .find(|c| c.metadata.name.as_deref() == Some(config_map))
        .and_then(|c| c.data.as_ref()?.get(key).cloned())
}

/// The host name of a `scheme://[user@]host[:port]/path` URL, lowercased, without port.
fn host(url: &str) -> Option<String> {
    let (_, rest) = url.trim().split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.strip_prefix('[') {
        Some(bracketed) => bracketed.split_once(']')?.0,
        None => host_port.split(':').next()?,
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// `content` in `dir/<what>-<sha256>`, written once with mode 0600.
fn written(dir: &Path, what: &str, content: &str) -> Result<PathBuf, String> {
    let failed =
        |e: std::io::Error| format!("writing an SSH {what} file under {}: {e}", dir.display());
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(failed)?;
    let digest = Sha256::digest(content.as_bytes());
    let name: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let path = dir.join(format!("{what}-{name}"));
    if path.exists() {
        return Ok(path);
    }
    let partial = dir.join(format!(".{what}-{name}.{}", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&partial)
        .map_err(failed)?;
    file.write_all(content.as_bytes()).map_err(failed)?;
    file.sync_all().map_err(failed)?;
    std::fs::rename(&partial, &path).map_err(failed)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_of_a_url_drops_user_port_and_case() {
        assert_eq!(
            host("https://u:p@Git.Example:8443/org/r").as_deref(),
            Some("git.example")
        );
        assert_eq!(
            host("ssh://git@127.0.0.1:2222/r").as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(host("https://[::1]:8443/r").as_deref(), Some("::1"));
        assert_eq!(host("git@host:org/r"), None);
        assert_eq!(host("/srv/repo"), None);
    }

    #[test]
    fn files_are_private_named_by_content_and_written_once() -> Result<(), String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let keys = dir.path().join("keys");
        let first = written(&keys, "key", "secret\n")?;
        let again = written(&keys, "key", "secret\n")?;
        let other = written(&keys, "key", "other\n")?;
        assert_eq!(first, again);
        assert_ne!(first, other);
        assert_eq!(
            std::fs::read_to_string(&first).map_err(|e| e.to_string())?,
            "secret\n"
        );
        let mode = |p: &Path| {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777)
        };
        assert_eq!(mode(&first).map_err(|e| e.to_string())?, 0o600);
        assert_eq!(mode(&keys).map_err(|e| e.to_string())?, 0o700);
        Ok(())
    }
}
