//! A Provider's spec and Secret, checked and resolved into where and how to deliver.

use std::collections::BTreeMap;
use std::time::Duration;

use driftless_api::ProviderSpec;

/// How long one delivery may take when the Provider does not say: chat and forge APIs answer
/// in well under a second; fifteen seconds is Flux's default too.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// The longest `timeout` accepted: a delivery holds its Provider's queue while it waits.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(600);

/// The API of github.com.
pub const GITHUB_API: &str = "https://api.github.com";
/// gitlab.com (its API is under `/api/v4`).
pub const GITLAB_URL: &str = "https://gitlab.com";

/// The key of the Provider's Secret that holds the address.
pub const ADDRESS_KEY: &str = "address";
/// The key of the Provider's Secret that holds the token (or the HMAC key).
pub const TOKEN_KEY: &str = "token";

/// The kinds of Provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProviderType {
    /// A JSON POST of the event.
    Generic,
    /// The same, signed: `X-Signature: sha256=<hex of HMAC-SHA256(token, body)>`.
    GenericHmac,
    /// A Slack-compatible incoming webhook (`{"text": ...}`).
    Slack,
    /// A Microsoft Teams workflow webhook (an Adaptive Card).
    MsTeams,
    /// GitHub commit statuses.
    GitHub,
    /// GitLab commit statuses.
    GitLab,
    /// Gitea (and Forgejo) commit statuses.
    Gitea,
}

impl ProviderType {
    /// Parses `spec.type`.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "generic" => Self::Generic,
            "generic-hmac" => Self::GenericHmac,
            "slack" => Self::Slack,
            "msteams" => Self::MsTeams,
            "github" => Self::GitHub,
            "gitlab" => Self::GitLab,
            "gitea" => Self::Gitea,
            _ => return None,
        })
    }

    /// `spec.type`, also the metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Generic => "generic",
            Self::GenericHmac => "generic-hmac",
            Self::Slack => "slack",
            Self::MsTeams => "msteams",
            Self::GitHub => "github",
            Self::GitLab => "gitlab",
            Self::Gitea => "gitea",
        }
    }

    /// Whether it posts commit statuses (and so needs a revision and a token).
    pub fn is_forge(self) -> bool {
        matches!(self, Self::GitHub | Self::GitLab | Self::Gitea)
    }
}

/// A secret value: never printed, not even by `{:?}`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Where and how a Provider delivers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// Its type.
    pub kind: ProviderType,
    /// The webhook URL or the forge API's base URL, without a trailing `/`. A secret when it
    /// came from the Secret (a Slack webhook URL is its own credential).
    pub address: Secret,
    /// The token, or the HMAC key.
    pub token: Option<Secret>,
    /// Slack's channel.
    pub channel: Option<String>,
    /// Slack's user name.
    pub username: Option<String>,
    /// How long one delivery may take.
    pub timeout: Duration,
}

/// Why a Provider cannot deliver; names the field or Secret key, never a secret value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// `spec.type` is unknown.
    #[error(
        "spec.type: {0:?} is not one of generic, generic-hmac, slack, msteams, github, gitlab, gitea"
    )]
    Type(String),
    /// No address where one is needed.
    #[error("spec.address: required for type {0} (or the key address in spec.secretRef)")]
    NoAddress(&'static str),
    /// `spec.address` is not an http(s) URL.
    #[error("spec.address: {0:?} is not an http:// or https:// URL")]
    Address(String),
    /// The Secret's `address` is not an http(s) URL (its value is not repeated).
    #[error("Secret {0}: the key address is not an http:// or https:// URL")]
    SecretAddress(String),
    /// A key the type needs is missing from the Secret, or there is no Secret.
    #[error("{0}")]
    Missing(String),
    /// A key of the Secret is not UTF-8.
    #[error("Secret {secret}: the key {key} is not UTF-8 text")]
    NotText {
        /// The Secret's name.
        secret: String,
        /// The key.
        key: &'static str,
    },
    /// `spec.timeout` is not a duration, or out of bounds.
    #[error("spec.timeout: {0:?} is not a duration between 1s and 10m")]
    Timeout(String),
}

fn is_http(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/') && !r.contains(char::is_whitespace))
}

fn text(
    data: &BTreeMap<String, Vec<u8>>,
    secret: &str,
    key: &'static str,
) -> Result<Option<String>, ProviderError> {
    data.get(key)
        .map(|bytes| {
            String::from_utf8(bytes.clone())
                .map(|t| t.trim().to_owned())
                .map_err(|_| ProviderError::NotText {
                    secret: secret.to_owned(),
                    key,
                })
        })
        .transpose()
}

/// Checks `spec` and, when it names one, its Secret's `data` (a missing Secret is the caller's
/// to report, with [`ProviderError::Missing`]). `duration` parses `spec.timeout`.
pub fn resolve(
    spec: &ProviderSpec,
    secret: Option<&BTreeMap<String, Vec<u8>>>,
    duration: impl Fn(&str) -> Option<Duration>,
) -> Result<Target, ProviderError> {
    let kind =
        ProviderType::parse(&spec.type_).ok_or_else(|| ProviderError::Type(spec.type_.clone()))?;
    let timeout = match spec.timeout.as_deref() {
        None => DEFAULT_TIMEOUT,
        Some(text) => duration(text)
            .filter(|d| *d >= Duration::from_secs(1) && *d <= MAX_TIMEOUT)
            .ok_or_else(|| ProviderError::Timeout(text.to_owned()))?,
    };
    let secret_name = spec.secret_ref.as_ref().map(|r| r.name.as_str());
    let empty = BTreeMap::new();
    let data = secret.unwrap_or(&empty);
    let name = secret_name.unwrap_or_default();
    let (secret_address, token) = match secret_name {
        Some(_) => (text(data, name, ADDRESS_KEY)?, text(data, name, TOKEN_KEY)?),
        None => (None, None),
    };
    let address = match (secret_address, spec.address.as_deref()) {
        (Some(address), _) if !address.is_empty() => {
            if !is_http(&address) {
                return Err(ProviderError::SecretAddress(name.to_owned()));
            }
            address
        }
        (_, Some(address)) if !address.trim().is_empty() => {
            let address = address.trim();
            if !is_http(address) {
                return Err(ProviderError::Address(address.to_owned()));
            }
            address.to_owned()
        }
        _ => match kind {
            ProviderType::GitHub => GITHUB_API.to_owned(),
            ProviderType::GitLab => GITLAB_URL.to_owned(),
            _ => return Err(ProviderError::NoAddress(kind.as_str())),
        },
    };
    let token = token.filter(|t| !t.is_empty());
    let needs_token = kind.is_forge() || kind == ProviderType::GenericHmac;
    if needs_token && token.is_none() {
        return Err(ProviderError::Missing(match secret_name {
            Some(name) => format!(
                "Secret {name}: the key token is missing (type {} needs it)",
                kind.as_str()
            ),
            None => format!(
                "spec.secretRef: required for type {} (a Secret with the key token)",
                kind.as_str()
            ),
        }));
    }
    Ok(Target {
        kind,
        address: Secret(address.trim_end_matches('/').to_owned()),
        token: token.map(Secret),
        channel: spec.channel.clone().filter(|c| !c.is_empty()),
        username: spec.username.clone().filter(|u| !u.is_empty()),
        timeout,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use driftless_api::LocalObjectReference;

    fn spec(kind: &str, address: Option<&str>, secret: Option<&str>) -> ProviderSpec {
        ProviderSpec {
            type_: kind.into(),
            address: address.map(Into::into),
            secret_ref: secret.map(|name| LocalObjectReference { name: name.into() }),
            ..ProviderSpec::default()
        }
    }

    fn secs(text: &str) -> Option<Duration> {
        text.strip_suffix('s')?
            .parse()
            .ok()
            .map(Duration::from_secs)
    }

    fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn the_secrets_address_wins_and_is_never_shown() {
        let with = data(&[("address", "https://hooks.slack.example/T0/B0/xyzzy")]);
        let target = resolve(
            &spec("slack", Some("https://ignored.example"), Some("hook")),
            Some(&with),
            secs,
        )
        .unwrap();
        assert_eq!(
            target.address.expose(),
            "https://hooks.slack.example/T0/B0/xyzzy"
        );
        assert!(!format!("{target:?}").contains("xyzzy"));
        let bad = data(&[("address", "hooks.slack.example/xyzzy")]);
        let error = resolve(&spec("slack", None, Some("hook")), Some(&bad), secs).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Secret hook: the key address is not an http:// or https:// URL"
        );
    }

    #[test]
    fn forges_default_their_api_and_need_a_token() {
        let token = data(&[("token", "ghp_secret\n")]);
        let github = resolve(&spec("github", None, Some("gh")), Some(&token), secs).unwrap();
        assert_eq!(github.address.expose(), GITHUB_API);
        assert_eq!(
            github.token.as_ref().map(Secret::expose),
            Some("ghp_secret")
        );
        let gitlab = resolve(&spec("gitlab", None, Some("gl")), Some(&token), secs).unwrap();
        assert_eq!(gitlab.address.expose(), GITLAB_URL);
        assert_eq!(
            resolve(&spec("gitea", None, Some("g")), Some(&token), secs).unwrap_err(),
            ProviderError::NoAddress("gitea")
        );
        assert_eq!(
            resolve(&spec("github", None, Some("gh")), Some(&data(&[])), secs)
                .unwrap_err()
                .to_string(),
            "Secret gh: the key token is missing (type github needs it)"
        );
        assert_eq!(
            resolve(
                &spec("generic-hmac", Some("http://127.0.0.1:1/"), None),
                None,
                secs
            )
            .unwrap_err()
            .to_string(),
            "spec.secretRef: required for type generic-hmac (a Secret with the key token)"
        );
    }

    #[test]
    fn bad_fields_are_named() {
        assert_eq!(
            resolve(&spec("pagerduty", None, None), None, secs)
                .unwrap_err()
                .to_string(),
            "spec.type: \"pagerduty\" is not one of generic, generic-hmac, slack, msteams, github, gitlab, gitea"
        );
        assert_eq!(
            resolve(&spec("generic", Some("ftp://x"), None), None, secs).unwrap_err(),
            ProviderError::Address("ftp://x".into())
        );
        assert_eq!(
            resolve(&spec("msteams", None, None), None, secs).unwrap_err(),
            ProviderError::NoAddress("msteams")
        );
        let mut slow = spec("generic", Some("http://127.0.0.1:9/hook/"), None);
        slow.timeout = Some("3600s".into());
        assert_eq!(
            resolve(&slow, None, secs).unwrap_err(),
            ProviderError::Timeout("3600s".into())
        );
        slow.timeout = Some("30s".into());
        let target = resolve(&slow, None, secs).unwrap();
        assert_eq!(target.timeout, Duration::from_secs(30));
        assert_eq!(target.address.expose(), "http://127.0.0.1:9/hook");
        let binary = BTreeMap::from([("token".to_owned(), vec![0xff, 0xfe])]);
        assert_eq!(
            resolve(&spec("github", None, Some("gh")), Some(&binary), secs).unwrap_err(),
            ProviderError::NotText {
                secret: "gh".into(),
                key: "token"
            }
        );
    }
}
