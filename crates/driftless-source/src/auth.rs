//! Where a repository is and how to authenticate to it, kept out of every message.

use std::fmt;
use std::path::PathBuf;

use sha2::{Digest as _, Sha256};

/// How to authenticate to a remote.
#[derive(Clone, Default)]
pub enum Credentials {
    /// No credentials (public HTTP(S), `file://`, `git://`).
    #[default]
    None,
    /// HTTP(S) basic authentication.
    Basic {
        /// User name.
        username: String,
        /// Password or personal access token.
        password: String,
    },
    /// An HTTP(S) access token, sent as the password of the user `x-access-token`, which GitHub,
    /// Gitea and Bitbucket accept (GitLab accepts any user name with a token).
    Token(String),
    /// SSH with a private key, checking the server against a known_hosts file (never trusting
    /// an unknown host key).
    SshKey {
        /// Path of the private key file.
        private_key: PathBuf,
        /// Path of the known_hosts file; `None` accepts any host key (Argo CD's
        /// `insecureIgnoreHostKey`), which only an explicit setting may choose.
        known_hosts: Option<PathBuf>,
    },
}

impl Credentials {
    /// The secret strings to scrub from any message.
    pub(crate) fn secrets(&self) -> Vec<&str> {
        match self {
            Credentials::Basic { password, .. } => vec![password.as_str()],
            Credentials::Token(token) => vec![token.as_str()],
            Credentials::None | Credentials::SshKey { .. } => Vec::new(),
        }
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect()
    }

    /// What identifies these credentials (not the secret itself: a digest of it), `None` for
    /// none.
    fn identity(&self) -> Option<String> {
        let material = match self {
            Credentials::None => return None,
            Credentials::Basic { username, password } => format!("basic\0{username}\0{password}"),
            Credentials::Token(token) => format!("token\0{token}"),
            Credentials::SshKey { private_key, .. } => format!("ssh\0{}", private_key.display()),
        };
        let digest = Sha256::digest(material.as_bytes());
        Some(digest.iter().take(8).map(|b| format!("{b:02x}")).collect())
    }

    /// User name and password for HTTP, if any.
    pub(crate) fn http_account(&self) -> Option<(String, String)> {
        match self {
            Credentials::Basic { username, password } => Some((username.clone(), password.clone())),
            Credentials::Token(token) => Some(("x-access-token".to_owned(), token.clone())),
            Credentials::None | Credentials::SshKey { .. } => None,
        }
    }
}

/// Never prints a secret.
impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::None => f.write_str("None"),
            Credentials::Basic { username, .. } => {
                write!(f, "Basic {{ username: {username:?}, password: *** }}")
            }
            Credentials::Token(_) => f.write_str("Token(***)"),
            Credentials::SshKey {
                private_key,
                known_hosts,
            } => write!(
                f,
                "SshKey {{ private_key: {private_key:?}, known_hosts: {known_hosts:?} }}"
            ),
        }
    }
}

/// A remote repository: its URL and credentials.
///
/// User information in the URL (`https://user:pass@host/...`) is taken out of the URL and used as
/// basic-auth credentials, so the URL that appears in messages and keys the cache never carries
/// a secret.
#[derive(Clone, Debug)]
pub struct Source {
    url: String,
    credentials: Credentials,
    ca_certificate: Option<Vec<u8>>,
}

impl Source {
    /// A source without credentials (or with credentials embedded in the URL).
    pub fn new(url: impl Into<String>) -> Self {
        let (url, credentials) = split_userinfo(&url.into());
        Self {
            url,
            credentials,
            ca_certificate: None,
        }
    }

    /// Trusts this PEM certificate (a private CA) for HTTPS, in addition to the public roots.
    #[must_use]
    pub fn with_ca_certificate(mut self, pem: Vec<u8>) -> Self {
        self.ca_certificate = Some(pem);
        self
    }

    /// The extra CA certificate for HTTPS, PEM.
    pub fn ca_certificate(&self) -> Option<&[u8]> {
        self.ca_certificate.as_deref()
    }

    /// Sets the credentials (replacing any taken from the URL).
    #[must_use]
    pub fn with_credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// The URL, without credentials.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The credentials.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// What a mirror is shared by: the URL and the credentials. Sources of one URL with other
    /// credentials (or none) get mirrors and fetches of their own, so what one tenant's
    /// credentials fetched never serves another.
    pub fn mirror_key(&self) -> String {
        match self.credentials.identity() {
            None => self.url.clone(),
            Some(identity) => format!("{}#{identity}", self.url),
        }
    }

    /// Replaces every secret in `message` with `***`.
    pub(crate) fn scrub(&self, message: &str) -> String {
        let mut message = message.to_owned();
        for secret in self.credentials.secrets() {
            message = message.replace(secret, "***");
        }
        message
    }
}

/// Takes `user:password@` out of an `http(s)://` URL. SSH URLs keep their user (it is not a
/// secret: `git@host`).
fn split_userinfo(url: &str) -> (String, Credentials) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_owned(), Credentials::None);
    };
    if scheme != "http" && scheme != "https" {
        return (url.to_owned(), Credentials::None);
    }
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return (url.to_owned(), Credentials::None);
    };
    let (username, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let credentials = Credentials::Basic {
        username: username.to_owned(),
        password: password.to_owned(),
    };
    (format!("{scheme}://{host}{path}"), credentials)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_leaves_the_url_and_becomes_credentials() {
        let source = Source::new("https://bob:s3cret@git.example.com/org/repo.git");
        assert_eq!(source.url(), "https://git.example.com/org/repo.git");
        assert_eq!(
            source.credentials().http_account(),
            Some(("bob".to_owned(), "s3cret".to_owned()))
        );
        assert!(!format!("{source:?}").contains("s3cret"));
        assert_eq!(
            source.scrub("auth failed for s3cret"),
            "auth failed for ***"
        );
        let ssh = Source::new("ssh://git@host/repo.git");
        assert_eq!(ssh.url(), "ssh://git@host/repo.git");
    }

    #[test]
    fn token_is_never_printed() {
        let source =
            Source::new("https://h/r").with_credentials(Credentials::Token("tok-123".into()));
        assert!(!format!("{source:?}").contains("tok-123"));
        assert_eq!(source.scrub("x tok-123 y"), "x *** y");
    }
}
