//! Git push webhooks from GitHub, GitLab and Gitea (or Gogs): which provider sent a request,
//! whether it is authentic, and what it says. Pure: headers, body and secrets in, an
//! [`Outcome`] or a [`WebhookError`] out.

use std::fmt;

use axum::http::{HeaderMap, StatusCode};
use driftless_source::normalize_repo_url;

use crate::payload::parse_push;
use crate::signature::{hmac_sha256_matches, token_matches};

/// The largest webhook body accepted (1 MiB). GitHub caps its payloads at 25 MB, but a push
/// payload carries at most a few commits' summaries; anything bigger is not worth buffering.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A Git hosting service that sends push webhooks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Provider {
    /// GitHub (`X-GitHub-Event`, `X-Hub-Signature-256`).
    GitHub,
    /// GitLab (`X-Gitlab-Event`, `X-Gitlab-Token`).
    GitLab,
    /// Gitea or Gogs (`X-Gitea-Event` or `X-Gogs-Event`, `X-Gitea-Signature` or
    /// `X-Gogs-Signature`).
    Gitea,
}

impl Provider {
    /// The lowercase name used in messages and logs: `github`, `gitlab`, `gitea`.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::GitHub => "github",
            Provider::GitLab => "gitlab",
            Provider::Gitea => "gitea",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The secrets webhooks are authenticated with: one per provider, and a shared one used for any
/// provider that has none of its own. A provider with neither is refused.
///
/// `Debug` shows only which secrets are set.
#[derive(Clone, Default)]
pub struct WebhookSecrets {
    /// GitHub's webhook secret (HMAC key).
    pub github: Option<String>,
    /// GitLab's secret token.
    pub gitlab: Option<String>,
    /// Gitea's (or Gogs') webhook secret (HMAC key).
    pub gitea: Option<String>,
    /// The secret for every provider without its own.
    pub shared: Option<String>,
}

impl WebhookSecrets {
    /// The secret for `provider`: its own, else the shared one. Empty strings count as unset, so
    /// an empty environment variable never means "accept anything".
    pub fn for_provider(&self, provider: Provider) -> Option<&str> {
        let own = match provider {
            Provider::GitHub => &self.github,
            Provider::GitLab => &self.gitlab,
            Provider::Gitea => &self.gitea,
        };
        [own, &self.shared]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .find(|secret| !secret.is_empty())
    }
}

impl fmt::Debug for WebhookSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |secret: &Option<String>| if secret.is_some() { "***" } else { "unset" };
        f.debug_struct("WebhookSecrets")
            .field("github", &set(&self.github))
            .field("gitlab", &set(&self.gitlab))
            .field("gitea", &set(&self.gitea))
            .field("shared", &set(&self.shared))
            .finish()
    }
}

/// A push to a repository, as a webhook reported it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushEvent {
    /// Who sent it.
    pub provider: Provider,
    /// Every URL the payload names for the repository (clone, SSH, web, ...), as sent; compare
    /// with [`PushEvent::names_repository`].
    pub repository_urls: Vec<String>,
    /// The pushed ref, e.g. `refs/heads/main` or `refs/tags/v1.2.0`.
    pub git_ref: String,
    /// The commit the ref points to now; `None` when the ref was deleted or the payload does not
    /// say.
    pub after: Option<String>,
}

impl PushEvent {
    /// Whether this push is to the repository at `repo_url`, however either spells the URL
    /// (see [`normalize_repo_url`]).
    pub fn names_repository(&self, repo_url: &str) -> bool {
        let wanted = normalize_repo_url(repo_url);
        self.repository_urls
            .iter()
            .any(|url| normalize_repo_url(url) == wanted)
    }

    /// The branch name when the ref is a branch (`refs/heads/main` → `main`).
    pub fn branch(&self) -> Option<&str> {
        self.git_ref.strip_prefix("refs/heads/")
    }

    /// The tag name when the ref is a tag (`refs/tags/v1` → `v1`).
    pub fn tag(&self) -> Option<&str> {
        self.git_ref.strip_prefix("refs/tags/")
    }
}

/// What an authentic webhook request amounts to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A push: refresh the Applications of this repository.
    Push(PushEvent),
    /// An authentic request that asks for nothing (GitHub's `ping`, or another event).
    Ignored {
        /// Who sent it.
        provider: Provider,
        /// The event name from its header.
        event: String,
    },
}

/// Why a webhook request was refused. Messages are one line and never contain a secret or an
/// expected signature.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebhookError {
    /// None of the providers' event headers is present.
    #[error(
        "not a Git webhook: no X-GitHub-Event, X-Gitlab-Event, X-Gitea-Event or X-Gogs-Event header"
    )]
    UnknownProvider,
    /// No secret is configured for the provider, so its requests cannot be authenticated.
    #[error("no secret configured for {0} webhooks")]
    NoSecret(Provider),
    /// The request carries no signature or token.
    #[error("{provider} webhook without {header} header")]
    MissingSignature {
        /// Who sent it.
        provider: Provider,
        /// The header(s) that should have been there.
        header: &'static str,
    },
    /// The signature or token does not match the configured secret.
    #[error("{provider} webhook {header} does not match the configured secret")]
    BadSignature {
        /// Who sent it.
        provider: Provider,
        /// The header that was checked.
        header: &'static str,
    },
    /// The body is larger than [`MAX_BODY_BYTES`].
    #[error("webhook body is larger than the limit of {MAX_BODY_BYTES} bytes")]
    TooLarge,
    /// The body is not a push payload that can be understood.
    #[error("{provider} push webhook: {message}")]
    InvalidPayload {
        /// Who sent it.
        provider: Provider,
        /// What is wrong, one line.
        message: String,
    },
    /// An authentic request whose delivery id was received before: a replay.
    #[error("{provider} webhook delivery {id} was received before; a replay is refused")]
    Replayed {
        /// Who sent it.
        provider: Provider,
        /// The delivery id from its header.
        id: String,
    },
    /// The source address sent more than its rate allows (or too many refused requests).
    #[error("too many webhook requests from this address; retry in {} s", .0.as_secs().max(1))]
    RateLimited(std::time::Duration),
}

impl WebhookError {
    /// The HTTP status that answers this error.
    pub fn status(&self) -> StatusCode {
        match self {
            WebhookError::UnknownProvider | WebhookError::InvalidPayload { .. } => {
                StatusCode::BAD_REQUEST
            }
            WebhookError::MissingSignature { .. } | WebhookError::BadSignature { .. } => {
                StatusCode::UNAUTHORIZED
            }
            WebhookError::NoSecret(_) => StatusCode::FORBIDDEN,
            WebhookError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            WebhookError::Replayed { .. } => StatusCode::CONFLICT,
            WebhookError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
        }
    }
}

/// The delivery id a provider gives each request (`X-GitHub-Delivery`, `X-Gitea-Delivery`,
/// `X-Gogs-Delivery`, GitLab's `X-Gitlab-Event-UUID` or `Idempotency-Key`), if any: the same id
/// twice is the same request sent twice. A redelivery asked for in the provider's UI gets a
/// new id on GitHub; GitLab and Gitea resend with the same one, and that is refused too.
pub fn delivery(headers: &HeaderMap) -> Option<&str> {
    [
        "x-github-delivery",
        "x-gitea-delivery",
        "x-gogs-delivery",
        "x-gitlab-event-uuid",
        "idempotency-key",
    ]
    .into_iter()
    .find_map(|name| header(headers, name))
    .filter(|id| !id.is_empty())
}

/// Authenticates a webhook request and reads it.
///
/// # Guarantees
/// - Nothing is parsed, and nothing is accepted, before the request is authenticated with the
///   provider's secret; a provider without a secret is always refused.
/// - Signatures and tokens are compared in constant time.
pub fn handle(
    headers: &HeaderMap,
    body: &[u8],
    secrets: &WebhookSecrets,
) -> Result<Outcome, WebhookError> {
    let (provider, event) = detect(headers)?;
    if body.len() > MAX_BODY_BYTES {
        return Err(WebhookError::TooLarge);
    }
    let secret = secrets
        .for_provider(provider)
        .ok_or(WebhookError::NoSecret(provider))?;
    authenticate(provider, headers, body, secret)?;
    if !is_push(provider, &event) {
        return Ok(Outcome::Ignored { provider, event });
    }
    let push =
        parse_push(body).map_err(|message| WebhookError::InvalidPayload { provider, message })?;
    Ok(Outcome::Push(PushEvent {
        provider,
        repository_urls: push.repository_urls,
        git_ref: push.git_ref,
        after: push.after,
    }))
}

/// The provider and event name. Gitea also sends `X-GitHub-Event` and `X-Gogs-Event` for
/// compatibility, so its own header is looked at first.
fn detect(headers: &HeaderMap) -> Result<(Provider, String), WebhookError> {
    [
        ("x-gitea-event", Provider::Gitea),
        ("x-gogs-event", Provider::Gitea),
        ("x-gitlab-event", Provider::GitLab),
        ("x-github-event", Provider::GitHub),
    ]
    .into_iter()
    .find_map(|(name, provider)| Some((provider, header(headers, name)?.to_owned())))
    .ok_or(WebhookError::UnknownProvider)
}

fn is_push(provider: Provider, event: &str) -> bool {
    match provider {
        Provider::GitHub | Provider::Gitea => event == "push",
        Provider::GitLab => event == "Push Hook" || event == "Tag Push Hook",
    }
}

fn authenticate(
    provider: Provider,
    headers: &HeaderMap,
    body: &[u8],
    secret: &str,
) -> Result<(), WebhookError> {
    match provider {
        Provider::GitHub => check_hub_signature(provider, headers, body, secret).unwrap_or(Err(
            WebhookError::MissingSignature {
                provider,
                header: "X-Hub-Signature-256",
            },
        )),
        Provider::GitLab => {
            const HEADER: &str = "X-Gitlab-Token";
            let token = header(headers, HEADER).ok_or(WebhookError::MissingSignature {
                provider,
                header: HEADER,
            })?;
            if token_matches(secret, token) {
                Ok(())
            } else {
                Err(WebhookError::BadSignature {
                    provider,
                    header: HEADER,
                })
            }
        }
        Provider::Gitea => {
            for name in ["X-Gitea-Signature", "X-Gogs-Signature"] {
                if let Some(signature) = header(headers, name) {
                    return if hmac_sha256_matches(secret, body, signature) {
                        Ok(())
                    } else {
                        Err(WebhookError::BadSignature {
                            provider,
                            header: name,
                        })
                    };
                }
            }
            check_hub_signature(provider, headers, body, secret).unwrap_or(Err(
                WebhookError::MissingSignature {
                    provider,
                    header: "X-Gitea-Signature",
                },
            ))
        }
    }
}

/// Checks `X-Hub-Signature-256: sha256=<hex>`; `None` when the header is absent.
fn check_hub_signature(
    provider: Provider,
    headers: &HeaderMap,
    body: &[u8],
    secret: &str,
) -> Option<Result<(), WebhookError>> {
    const HEADER: &str = "X-Hub-Signature-256";
    let value = header(headers, HEADER)?;
    let matches = value
        .strip_prefix("sha256=")
        .is_some_and(|hex| hmac_sha256_matches(secret, body, hex));
    Some(if matches {
        Ok(())
    } else {
        Err(WebhookError::BadSignature {
            provider,
            header: HEADER,
        })
    })
}

/// A header's value as text, trimmed; `None` when absent, empty or not visible ASCII.
fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::sign;
    use axum::http::{HeaderName, HeaderValue};

    const SECRET: &str = "correct horse battery staple";

    const GITHUB_PUSH: &[u8] = br#"{"ref":"refs/heads/main",
        "before":"1111111111111111111111111111111111111111",
        "after":"2222222222222222222222222222222222222222",
        "repository":{"full_name":"acme/shop","clone_url":"https://github.example/acme/shop.git",
            "ssh_url":"git@github.example:acme/shop.git","html_url":"https://github.example/acme/shop"}}"#;

    const GITLAB_PUSH: &[u8] = br#"{"object_kind":"push","ref":"refs/heads/main",
        "after":"3333333333333333333333333333333333333333",
        "project":{"git_http_url":"https://gitlab.example/team/api.git",
            "git_ssh_url":"git@gitlab.example:team/api.git","web_url":"https://gitlab.example/team/api"}}"#;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    HeaderValue::from_str(value).unwrap(),
                )
            })
            .collect()
    }

    fn shared() -> WebhookSecrets {
        WebhookSecrets {
            shared: Some(SECRET.to_owned()),
            ..WebhookSecrets::default()
        }
    }

    fn github_signature(body: &[u8]) -> String {
        format!("sha256={}", sign(SECRET, body))
    }

    #[test]
    fn a_signed_github_push_is_read() {
        let sig = github_signature(GITHUB_PUSH);
        let h = headers(&[("X-GitHub-Event", "push"), ("X-Hub-Signature-256", &sig)]);
        let Outcome::Push(push) = handle(&h, GITHUB_PUSH, &shared()).unwrap() else {
            panic!("not a push");
        };
        assert_eq!(push.provider, Provider::GitHub);
        assert_eq!(push.git_ref, "refs/heads/main");
        assert_eq!(push.branch(), Some("main"));
        assert_eq!(push.tag(), None);
        assert_eq!(
            push.after.as_deref(),
            Some("2222222222222222222222222222222222222222")
        );
        assert_eq!(push.repository_urls.len(), 3);
        assert!(push.names_repository("https://GITHUB.example/acme/shop"));
        assert!(push.names_repository("ssh://git@github.example/acme/shop.git"));
        assert!(!push.names_repository("https://github.example/acme/other"));
    }

    #[test]
    fn a_wrong_or_missing_github_signature_is_refused() {
        let wrong = format!("sha256={}", sign("guess", GITHUB_PUSH));
        for value in [wrong.as_str(), "sha256=zz", "sha1=abcd", "garbage"] {
            let h = headers(&[("X-GitHub-Event", "push"), ("X-Hub-Signature-256", value)]);
            let error = handle(&h, GITHUB_PUSH, &shared()).unwrap_err();
            assert_eq!(
                error,
                WebhookError::BadSignature {
                    provider: Provider::GitHub,
                    header: "X-Hub-Signature-256"
                }
            );
            assert_eq!(error.status(), 401);
            let message = error.to_string();
            assert!(!message.contains(SECRET), "{message}");
            assert!(!message.contains(&sign(SECRET, GITHUB_PUSH)), "{message}");
        }
        let h = headers(&[("X-GitHub-Event", "push")]);
        let error = handle(&h, GITHUB_PUSH, &shared()).unwrap_err();
        assert_eq!(error.status(), 401);
        assert_eq!(
            error.to_string(),
            "github webhook without X-Hub-Signature-256 header"
        );
    }

    #[test]
    fn a_signature_of_another_body_is_refused() {
        let sig = github_signature(GITHUB_PUSH);
        let tampered = String::from_utf8_lossy(GITHUB_PUSH).replace("main", "evil");
        let h = headers(&[("X-GitHub-Event", "push"), ("X-Hub-Signature-256", &sig)]);
        assert_eq!(
            handle(&h, tampered.as_bytes(), &shared())
                .unwrap_err()
                .status(),
            401
        );
    }

    #[test]
    fn gitlab_tokens_are_compared() {
        let ok = headers(&[("X-Gitlab-Event", "Push Hook"), ("X-Gitlab-Token", SECRET)]);
        let Outcome::Push(push) = handle(&ok, GITLAB_PUSH, &shared()).unwrap() else {
            panic!("not a push");
        };
        assert_eq!(push.provider, Provider::GitLab);
        assert!(push.names_repository("git@gitlab.example:team/api"));
        let wrong = headers(&[("X-Gitlab-Event", "Push Hook"), ("X-Gitlab-Token", "nope")]);
        let error = handle(&wrong, GITLAB_PUSH, &shared()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "gitlab webhook X-Gitlab-Token does not match the configured secret"
        );
        let missing = headers(&[("X-Gitlab-Event", "Push Hook")]);
        assert_eq!(
            handle(&missing, GITLAB_PUSH, &shared())
                .unwrap_err()
                .status(),
            401
        );
    }

    #[test]
    fn gitea_and_gogs_signatures_are_checked() {
        let sig = sign(SECRET, GITHUB_PUSH);
        let hub = format!("sha256={sig}");
        // What Gitea sends: its own headers plus GitHub- and Gogs-compatible ones.
        let gitea = headers(&[
            ("X-GitHub-Event", "push"),
            ("X-Gogs-Event", "push"),
            ("X-Gitea-Event", "push"),
            ("X-Gitea-Signature", &sig),
        ]);
        let gogs = headers(&[("X-Gogs-Event", "push"), ("X-Gogs-Signature", &sig)]);
        let hub_only = headers(&[("X-Gitea-Event", "push"), ("X-Hub-Signature-256", &hub)]);
        for h in [gitea, gogs, hub_only] {
            let Outcome::Push(push) = handle(&h, GITHUB_PUSH, &shared()).unwrap() else {
                panic!("not a push");
            };
            assert_eq!(push.provider, Provider::Gitea);
        }
        let wrong = headers(&[
            ("X-Gitea-Event", "push"),
            ("X-Gitea-Signature", &sign("x", GITHUB_PUSH)),
        ]);
        assert_eq!(
            handle(&wrong, GITHUB_PUSH, &shared()).unwrap_err(),
            WebhookError::BadSignature {
                provider: Provider::Gitea,
                header: "X-Gitea-Signature"
            }
        );
    }

    #[test]
    fn a_provider_without_a_secret_is_refused() {
        let secrets = WebhookSecrets {
            github: Some(SECRET.to_owned()),
            gitlab: Some(String::new()),
            ..WebhookSecrets::default()
        };
        let h = headers(&[("X-Gitlab-Event", "Push Hook"), ("X-Gitlab-Token", "")]);
        let error = handle(&h, GITLAB_PUSH, &secrets).unwrap_err();
        assert_eq!(error.status(), 403);
        assert_eq!(
            error.to_string(),
            "no secret configured for gitlab webhooks"
        );
        let h = headers(&[("X-GitHub-Event", "push")]);
        assert_eq!(
            handle(&h, GITHUB_PUSH, &WebhookSecrets::default()).unwrap_err(),
            WebhookError::NoSecret(Provider::GitHub)
        );
    }

    #[test]
    fn a_provider_secret_wins_over_the_shared_one() {
        let secrets = WebhookSecrets {
            gitlab: Some("own".to_owned()),
            shared: Some(SECRET.to_owned()),
            ..WebhookSecrets::default()
        };
        assert_eq!(secrets.for_provider(Provider::GitLab), Some("own"));
        assert_eq!(secrets.for_provider(Provider::GitHub), Some(SECRET));
        let h = headers(&[("X-Gitlab-Event", "Push Hook"), ("X-Gitlab-Token", SECRET)]);
        assert_eq!(handle(&h, GITLAB_PUSH, &secrets).unwrap_err().status(), 401);
    }

    #[test]
    fn pings_and_other_events_are_ignored_but_still_authenticated() {
        let ping = br#"{"zen":"Keep it logically awesome.","hook_id":1}"#;
        let sig = github_signature(ping);
        let h = headers(&[("X-GitHub-Event", "ping"), ("X-Hub-Signature-256", &sig)]);
        assert_eq!(
            handle(&h, ping, &shared()).unwrap(),
            Outcome::Ignored {
                provider: Provider::GitHub,
                event: "ping".to_owned()
            }
        );
        let unsigned = headers(&[("X-GitHub-Event", "ping")]);
        assert_eq!(
            handle(&unsigned, ping, &shared()).unwrap_err().status(),
            401
        );
        let issue = headers(&[("X-Gitlab-Event", "Issue Hook"), ("X-Gitlab-Token", SECRET)]);
        assert!(matches!(
            handle(&issue, b"{}", &shared()),
            Ok(Outcome::Ignored {
                provider: Provider::GitLab,
                ..
            })
        ));
    }

    #[test]
    fn bad_requests_are_named() {
        assert_eq!(
            handle(&HeaderMap::new(), GITHUB_PUSH, &shared()).unwrap_err(),
            WebhookError::UnknownProvider
        );
        let body = b"{\"ref\": ";
        let sig = github_signature(body);
        let h = headers(&[("X-GitHub-Event", "push"), ("X-Hub-Signature-256", &sig)]);
        let error = handle(&h, body, &shared()).unwrap_err();
        assert_eq!(error.status(), 400);
        assert!(
            error
                .to_string()
                .starts_with("github push webhook: webhook body is not valid JSON"),
            "{error}"
        );
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(handle(&h, &big, &shared()).unwrap_err().status(), 413);
    }

    #[test]
    fn debug_never_shows_secrets() {
        let secrets = WebhookSecrets {
            github: Some(SECRET.to_owned()),
            ..shared()
        };
        let text = format!("{secrets:?}");
        assert!(!text.contains(SECRET), "{text}");
        assert!(text.contains("github: \"***\""), "{text}");
        assert!(text.contains("gitlab: \"unset\""), "{text}");
    }
}
