//! One mirror: a bare repository on disk holding every branch and tag of one remote.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use gix::protocol::transport::client::blocking_io::http;

use gix::remote::Direction;

use crate::auth::{Credentials, Source};
use crate::revision::REMOTE_HEAD;

/// What a fetch mirrors: every branch and tag, force-updated (a force-pushed branch or moved tag
/// follows the remote), and the remote's `HEAD`.
const REFSPECS: [&str; 3] = [
    "+refs/heads/*:refs/heads/*",
    "+refs/tags/*:refs/tags/*",
    "+HEAD:refs/driftless/HEAD",
];

/// Why a fetch failed. Messages never contain credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The mirror on disk could not be created or opened.
    #[error("mirror of {url} at {path}: {message}")]
    Mirror {
        /// The remote URL (without credentials).
        url: String,
        /// The mirror's directory.
        path: String,
        /// Why.
        message: String,
    },
    /// The remote could not be reached, refused us, or sent something wrong.
    #[error("fetching {url}: {message}")]
    Remote {
        /// The remote URL (without credentials).
        url: String,
        /// Why.
        message: String,
    },
}

/// Opens the mirror at `path`, creating an empty bare repository the first time.
///
/// The repository is opened isolated from the user's and system's Git configuration, so a
/// `~/.gitconfig` cannot change what Driftless fetches or which credentials it sends.
pub(crate) fn open(path: &Path, source: &Source) -> Result<gix::Repository, FetchError> {
    let failed = |e: &dyn std::error::Error| FetchError::Mirror {
        url: source.url().to_owned(),
        path: path.display().to_string(),
        message: source.scrub(&chain(e)),
    };
    if !path.join("HEAD").exists() {
        std::fs::create_dir_all(path).map_err(|e| failed(&e))?;
        gix::init_bare(path).map_err(|e| failed(&e))?;
    }
    let options = gix::open::Options::isolated().config_overrides(overrides(source.credentials()));
    gix::open_opts(path, options).map_err(|e| failed(&e))
}

/// Configuration for the transport: the SSH command for key-based SSH.
fn overrides(credentials: &Credentials) -> Vec<String> {
    match credentials {
        Credentials::SshKey {
            private_key,
            known_hosts,
        } => {
            let host_keys = match known_hosts {
                Some(file) => format!(
                    "-o UserKnownHostsFile={} -o StrictHostKeyChecking=yes",
                    shell_quote(&file.display().to_string())
                ),
                None => "-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no".to_owned(),
            };
            vec![format!(
                "core.sshCommand=ssh -i {} -o IdentitiesOnly=yes {host_keys} -o BatchMode=yes",
                shell_quote(&private_key.display().to_string()),
            )]
        }
        _ => Vec::new(),
    }
}

/// An error and its causes on one line, `outer: inner: root`, without repeats.
fn chain(error: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(err) = next {
        let text = err
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = err.source();
    }
    parts.join(": ")
}

/// Single-quotes a word for `sh`.
fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// Fetches every branch and tag into the mirror, then deletes local branches and tags that the
/// remote no longer has. On failure nothing already in the mirror is removed: refs are only
/// updated after the pack has been received and indexed.
pub(crate) fn fetch(repo: &gix::Repository, source: &Source) -> Result<(), FetchError> {
    let failed = |e: &dyn std::error::Error| FetchError::Remote {
        url: source.url().to_owned(),
        message: source.scrub(&chain(e)),
    };
    let remote = repo
        .remote_at(source.url())
        .and_then(|r| r.with_refspecs(REFSPECS, Direction::Fetch))
        .map_err(|e| failed(&e))?
        .with_fetch_tags(gix::remote::fetch::Tags::None);
    let account = source.credentials().http_account();
    if account.is_some() && source.url().starts_with("http://") {
        return Err(FetchError::Remote {
            url: source.url().to_owned(),
            message: "refusing to send credentials over plain http; use https".to_owned(),
        });
    }
    let mut connection = remote.connect(Direction::Fetch).map_err(|e| failed(&e))?;
    if let Some(pem) = source.ca_certificate() {
        let options = with_ca_certificate(repo, source.url(), pem).map_err(|e| failed(&*e))?;
        connection = connection.with_transport_options(options);
    }
    let connection = connection.with_credentials(move |action| match (action, &account) {
        (gix::credentials::helper::Action::Get(context), Some((username, password))) => {
            Ok(Some(gix::credentials::protocol::Outcome {
                identity: gix::sec::identity::Account {
                    username: username.clone(),
                    password: password.clone(),
                    oauth_refresh_token: None,
                },
                next: context.into(),
            }))
        }
        _ => Ok(None),
    });
    let interrupt = AtomicBool::new(false);
    let outcome = connection
        .prepare_fetch(gix::progress::Discard, Default::default())
        .map_err(|e| failed(&e))?
        .receive(gix::progress::Discard, &interrupt)
        .map_err(|e| failed(&e))?;
    let remote_names: HashSet<String> = outcome
        .ref_map
        .remote_refs
        .iter()
        .map(|r| r.unpack().0.to_string())
        .collect();
    prune(repo, &remote_names).map_err(|e| failed(&e))
}

/// HTTP transport options (as configured) whose client also trusts `pem`.
fn with_ca_certificate(
    repo: &gix::Repository,
    url: &str,
    pem: &[u8],
) -> Result<Box<dyn std::any::Any>, Box<dyn std::error::Error + Send + Sync>> {
    let certificate = reqwest::Certificate::from_pem(pem)?;
    let mut options = repo
        .transport_options(url, None)?
        .and_then(|o| o.downcast::<http::Options>().ok())
        .map(|o| *o)
        .unwrap_or_default();
    let backend = http::reqwest::Options {
        configure_client: Some(Box::new(move |builder| {
            Ok(builder.add_root_certificate(certificate.clone()))
        })),
        ..Default::default()
    };
    options.backend = Some(Arc::new(Mutex::new(backend)));
    Ok(Box::new(options))
}

/// Deletes local branches and tags absent from the remote's advertisement.
fn prune(repo: &gix::Repository, remote_names: &HashSet<String>) -> Result<(), gix::Error> {
    let mut stale = Vec::new();
    for prefix in ["refs/heads/", "refs/tags/"] {
        for reference in repo.references()?.prefixed(prefix)?.flatten() {
            if !remote_names.contains(&reference.name().as_bstr().to_string()) {
                stale.push(reference);
            }
        }
    }
    if !remote_names.contains("HEAD")
        && let Ok(Some(head)) = repo.try_find_reference(REMOTE_HEAD)
    {
        stale.push(head);
    }
    for reference in stale {
        reference.delete()?;
    }
    Ok(())
}
