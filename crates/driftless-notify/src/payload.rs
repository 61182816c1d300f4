//! The HTTP request each Provider type sends for an event: a URL, headers and a JSON body.

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::event::{Event, Severity};
use crate::forge::{self, ForgeError};
use crate::provider::{ProviderType, Target};

/// The header of `generic-hmac`'s signature: `sha256=<hex>` of HMAC-SHA256 over the body.
pub const SIGNATURE_HEADER: &str = "X-Signature";

/// Who sends: the generic payload's `reportingController` and the User-Agent (GitHub refuses
/// requests without one).
pub const REPORTER: &str = "driftless-controller";

/// One POST to make. Its `Debug` shows neither the URL (a webhook URL can be a credential) nor
/// header values.
#[derive(Clone, PartialEq, Eq)]
pub struct Request {
    /// Where.
    pub url: String,
    /// Headers besides `Content-Type: application/json`.
    pub headers: Vec<(&'static str, String)>,
    /// The JSON body.
    pub body: Vec<u8>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| *name).collect();
        f.debug_struct("Request")
            .field("headers", &names)
            .field("body_bytes", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// Why an event cannot be sent to a Provider.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// A commit status needs a commit and a repository.
    #[error(transparent)]
    Forge(#[from] ForgeError),
}

/// The generic payload (the shape of Flux's event): the object, severity, time, message,
/// reason, and metadata (revision, repository, project, then the Alert's `eventMetadata`).
pub fn generic_body(event: &Event, message: &str, metadata: &BTreeMap<String, String>) -> Value {
    let mut meta = serde_json::Map::new();
    for (key, value) in metadata {
        meta.insert(key.clone(), Value::from(value.as_str()));
    }
    if let Some(revision) = &event.revision {
        meta.insert("revision".into(), Value::from(revision.as_str()));
    }
    meta.insert("repoURL".into(), Value::from(event.repo_url.as_str()));
    meta.insert("project".into(), Value::from(event.project.as_str()));
    json!({
        "involvedObject": {
            "apiVersion": "driftless.dev/v1alpha1",
            "kind": "Application",
            "namespace": event.namespace,
            "name": event.name,
        },
        "severity": event.severity().as_str(),
        "timestamp": event.time,
        "message": message,
        "reason": event.kind.reason(),
        "metadata": meta,
        "reportingController": REPORTER,
    })
}

fn slack_body(target: &Target, event: &Event, message: &str) -> Value {
    let mut body = json!({
        "text": message,
        "attachments": [{
            "color": if event.severity() == Severity::Error { "danger" } else { "good" },
            "fields": facts(event)
                .into_iter()
                .map(|(title, value)| json!({"title": title, "value": value, "short": true}))
                .collect::<Vec<_>>(),
        }],
    });
    if let Some(channel) = &target.channel {
        body["channel"] = Value::from(channel.as_str());
    }
    if let Some(username) = &target.username {
        body["username"] = Value::from(username.as_str());
    }
    body
}

fn teams_body(event: &Event, message: &str) -> Value {
    let title = format!(
        "{}: {}/{}",
        event.kind.reason(),
        event.namespace,
        event.name
    );
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                    {
                        "type": "TextBlock",
                        "text": title,
                        "weight": "bolder",
                        "size": "medium",
                        "wrap": true,
                        "color": if event.severity() == Severity::Error { "attention" } else { "good" },
                    },
                    {"type": "TextBlock", "text": message, "wrap": true},
                    {
                        "type": "FactSet",
                        "facts": facts(event)
                            .into_iter()
                            .map(|(title, value)| json!({"title": title, "value": value}))
                            .collect::<Vec<_>>(),
                    },
                ],
            },
        }],
    })
}

/// The facts chats show beside the message.
fn facts(event: &Event) -> Vec<(&'static str, String)> {
    let mut facts = vec![
        ("application", format!("{}/{}", event.namespace, event.name)),
        ("project", event.project.clone()),
    ];
    if let Some(revision) = &event.revision {
        facts.push(("revision", revision.clone()));
    }
    facts
}

/// Hex of HMAC-SHA256(`key`, `body`).
pub fn sign(key: &[u8], body: &[u8]) -> String {
    // HMAC takes keys of any length: `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The request `target` sends for `event`, whose rendered message is `message`.
pub fn request(
    target: &Target,
    event: &Event,
    message: &str,
    metadata: &BTreeMap<String, String>,
) -> Result<Request, PayloadError> {
    let address = target.address.expose();
    let mut headers = vec![("User-Agent", REPORTER.to_owned())];
    let token = target.token.as_ref().map(|t| t.expose());
    let (url, body) = match target.kind {
        ProviderType::Generic | ProviderType::GenericHmac => {
            (address.to_owned(), generic_body(event, message, metadata))
        }
        ProviderType::Slack => (address.to_owned(), slack_body(target, event, message)),
        ProviderType::MsTeams => (address.to_owned(), teams_body(event, message)),
        kind => forge::status(kind, address, event, message)?,
    };
    let body = serde_json::to_vec(&body).unwrap_or_default();
    match (target.kind, token) {
        (ProviderType::GenericHmac, Some(key)) => headers.push((
            SIGNATURE_HEADER,
            format!("sha256={}", sign(key.as_bytes(), &body)),
        )),
        (ProviderType::Generic | ProviderType::Slack | ProviderType::MsTeams, Some(token)) => {
            headers.push(("Authorization", format!("Bearer {token}")));
        }
        (ProviderType::GitHub, Some(token)) => {
            headers.push(("Authorization", format!("Bearer {token}")));
            headers.push(("Accept", "application/vnd.github+json".to_owned()));
        }
        (ProviderType::GitLab, Some(token)) => headers.push(("PRIVATE-TOKEN", token.to_owned())),
        (ProviderType::Gitea, Some(token)) => {
            headers.push(("Authorization", format!("token {token}")));
        }
        _ => {}
    }
    Ok(Request { url, headers, body })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EventKind;
    use crate::fixtures::{REVISION, event};
    use crate::provider::Secret;
    use std::time::Duration;

    fn target(kind: ProviderType, token: Option<&str>) -> Target {
        Target {
            kind,
            address: Secret::new("http://127.0.0.1:9/hook".into()),
            token: token.map(|t| Secret::new(t.into())),
            channel: None,
            username: None,
            timeout: Duration::from_secs(1),
        }
    }

    fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
        request
            .headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn the_generic_body_carries_the_event_and_metadata() {
        let metadata = BTreeMap::from([("cluster".to_owned(), "eu-1".to_owned())]);
        let request = request(
            &target(ProviderType::Generic, None),
            &event(EventKind::SyncFailed, "team-a", "web"),
            "web: apply failed",
            &metadata,
        )
        .unwrap();
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(
            body,
            json!({
                "involvedObject": {"apiVersion": "driftless.dev/v1alpha1", "kind": "Application",
                    "namespace": "team-a", "name": "web"},
                "severity": "error",
                "timestamp": "2026-12-07T05:00:00Z",
                "message": "web: apply failed",
                "reason": "SyncFailed",
                "metadata": {"cluster": "eu-1", "revision": REVISION,
                    "repoURL": "https://git.example/acme/web.git", "project": "default"},
                "reportingController": "driftless-controller",
            })
        );
        assert_eq!(header(&request, "Authorization"), None);
        assert_eq!(header(&request, SIGNATURE_HEADER), None);
    }

    #[test]
    fn generic_hmac_signs_the_exact_body() {
        let request = request(
            &target(ProviderType::GenericHmac, Some("k3y")),
            &event(EventKind::SyncStarted, "team-a", "web"),
            "m",
            &BTreeMap::new(),
        )
        .unwrap();
        let signature = header(&request, SIGNATURE_HEADER).unwrap();
        assert_eq!(signature, format!("sha256={}", sign(b"k3y", &request.body)));
        // RFC 4231 test case 2.
        assert_eq!(
            sign(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn chats_get_their_shapes_and_the_url_is_never_debug_printed() {
        let mut slack = target(ProviderType::Slack, None);
        slack.channel = Some("#deploys".into());
        slack.username = Some("driftless".into());
        slack.address = Secret::new("https://hooks.example/T0/B0/xyzzy".into());
        let degraded = event(EventKind::HealthDegraded, "team-a", "web");
        let request = request(&slack, &degraded, "web is degraded", &BTreeMap::new()).unwrap();
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body["text"], "web is degraded");
        assert_eq!(body["channel"], "#deploys");
        assert_eq!(body["username"], "driftless");
        assert_eq!(body["attachments"][0]["color"], "danger");
        assert!(!format!("{request:?}").contains("xyzzy"));
        let teams = super::request(
            &target(ProviderType::MsTeams, None),
            &degraded,
            "web is degraded",
            &BTreeMap::new(),
        )
        .unwrap();
        let body: Value = serde_json::from_slice(&teams.body).unwrap();
        let card = &body["attachments"][0]["content"];
        assert_eq!(
            body["attachments"][0]["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        assert_eq!(card["type"], "AdaptiveCard");
        assert_eq!(card["body"][0]["text"], "HealthDegraded: team-a/web");
        assert_eq!(card["body"][1]["text"], "web is degraded");
    }

    #[test]
    fn forges_authenticate_their_way() {
        let succeeded = event(EventKind::SyncSucceeded, "team-a", "web");
        let github = request(
            &target(ProviderType::GitHub, Some("t0k")),
            &succeeded,
            "ok",
            &BTreeMap::new(),
        )
        .unwrap();
        assert_eq!(header(&github, "Authorization"), Some("Bearer t0k"));
        assert_eq!(header(&github, "User-Agent"), Some(REPORTER));
        assert!(
            github
                .url
                .ends_with(&format!("/repos/acme/web/statuses/{REVISION}"))
        );
        let gitlab = request(
            &target(ProviderType::GitLab, Some("t0k")),
            &succeeded,
            "ok",
            &BTreeMap::new(),
        )
        .unwrap();
        assert_eq!(header(&gitlab, "PRIVATE-TOKEN"), Some("t0k"));
        let gitea = request(
            &target(ProviderType::Gitea, Some("t0k")),
            &succeeded,
            "ok",
            &BTreeMap::new(),
        )
        .unwrap();
        assert_eq!(header(&gitea, "Authorization"), Some("token t0k"));
        assert!(!format!("{gitea:?}").contains("t0k"));
    }
}
