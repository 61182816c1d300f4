//! Commit statuses on Git forges: which repository and commit an event is about, the state it
//! maps to, and each forge's URL and body.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

use crate::event::{Event, EventKind};
use crate::provider::ProviderType;

/// GitHub caps a status's description at 140 characters.
pub const MAX_DESCRIPTION: usize = 140;

/// What a path segment keeps as is; everything else is percent-encoded (GitLab's project id is
/// the whole path with `/` encoded).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// Why no commit status can be posted for an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForgeError {
    /// The event is about no commit.
    #[error("the event names no commit")]
    NoRevision,
    /// The revision is not a commit id.
    #[error("the revision {0:?} is not a commit id")]
    Revision(String),
    /// The repository URL has no `owner/repository` path.
    #[error("source.repoURL {0:?} has no owner/repository path")]
    Repository(String),
}

/// The path of a repository URL without host and `.git`: `acme/web` of
/// `https://github.com/acme/web.git`, `git@github.com:acme/web` and
/// `ssh://git@host:22/acme/web`; the whole path of a `file://` URL.
pub fn repository_path(repo_url: &str) -> Option<String> {
    let url = repo_url.trim();
    let path = if let Some(path) = url.strip_prefix("file://") {
        path
    } else if let Some((_, rest)) = url.split_once("://") {
        let rest = rest.split(['?', '#']).next().unwrap_or_default();
        rest.split_once('/').map_or("", |(_, path)| path)
    } else if let Some((authority, path)) = url.split_once(':')
        && !authority.contains('/')
    {
        path
    } else {
        url
    };
    let path = path.trim_matches('/');
    let path = path
        .strip_suffix(".git")
        .unwrap_or(path)
        .trim_end_matches('/');
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segments.is_empty() || segments.iter().any(|s| *s == "." || *s == "..") {
        return None;
    }
    Some(segments.join("/"))
}

fn is_commit(revision: &str) -> bool {
    matches!(revision.len(), 40 | 64) && revision.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The state of a commit status, per forge.
pub fn state(kind: ProviderType, event: EventKind) -> &'static str {
    use EventKind::*;
    match (kind, event) {
        (ProviderType::GitLab, SyncStarted) => "running",
        (_, SyncStarted | OutOfSync) => "pending",
        (_, SyncSucceeded | DriftCorrected) => "success",
        (ProviderType::GitLab, SyncFailed | HealthDegraded) => "failed",
        (_, SyncFailed | HealthDegraded) => "failure",
    }
}

/// The commit status's name (GitHub and Gitea's `context`, GitLab's `name`): one per
/// Application, so each keeps its own status on a shared repository.
pub fn context(event: &Event) -> String {
    format!("driftless/{}/{}", event.namespace, event.name)
}

/// The URL and JSON body of the commit status for `event` with `description`, posted to the
/// API at `base`.
pub fn status(
    kind: ProviderType,
    base: &str,
    event: &Event,
    description: &str,
) -> Result<(String, Value), ForgeError> {
    let revision = event.revision.as_deref().ok_or(ForgeError::NoRevision)?;
    if !is_commit(revision) {
        return Err(ForgeError::Revision(revision.to_owned()));
    }
    let path = repository_path(&event.repo_url)
        .ok_or_else(|| ForgeError::Repository(event.repo_url.clone()))?;
    let segments: Vec<String> = path
        .split('/')
        .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
        .collect();
    // GitHub and Gitea name a repository by owner and name: the last two segments (a Gitea
    // served under a sub-path, or a local mirror's deeper path, still ends in them).
    let owner_repo = || -> Result<String, ForgeError> {
        match segments.as_slice() {
            [.., owner, repo] => Ok(format!("{owner}/{repo}")),
            _ => Err(ForgeError::Repository(event.repo_url.clone())),
        }
    };
    let description = crate::template::cut(description.to_owned(), MAX_DESCRIPTION);
    let state = state(kind, event.kind);
    let context = context(event);
    Ok(match kind {
        ProviderType::GitLab => (
            format!(
                "{base}/api/v4/projects/{}/statuses/{revision}",
                segments.join("%2F")
            ),
            json!({"state": state, "name": context, "description": description}),
        ),
        ProviderType::Gitea => (
            format!("{base}/api/v1/repos/{}/statuses/{revision}", owner_repo()?),
            json!({"state": state, "context": context, "description": description}),
        ),
        _ => (
            format!("{base}/repos/{}/statuses/{revision}", owner_repo()?),
            json!({"state": state, "context": context, "description": description}),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{REVISION, event};

    #[test]
    fn repository_paths_of_every_url_shape() {
        for (url, path) in [
            ("https://github.com/acme/web.git", "acme/web"),
            ("https://github.com/acme/web", "acme/web"),
            ("https://gitlab.example/group/sub/web.git/", "group/sub/web"),
            ("git@github.com:acme/web.git", "acme/web"),
            ("ssh://git@git.example:2222/acme/web", "acme/web"),
            ("file:///srv/git/acme/web", "srv/git/acme/web"),
            ("git://127.0.0.1:9418/work/.git", "work"),
        ] {
            assert_eq!(repository_path(url).as_deref(), Some(path), "{url}");
        }
        assert_eq!(repository_path("https://github.com/"), None);
        assert_eq!(repository_path("https://github.com/acme/../web"), None);
    }

    #[test]
    fn each_forge_has_its_url_state_and_body() {
        let mut started = event(EventKind::SyncStarted, "team-a", "web");
        started.repo_url = "https://git.example/acme/web.git".into();
        let (url, body) = status(
            ProviderType::GitHub,
            "http://127.0.0.1:8080",
            &started,
            "syncing",
        )
        .unwrap();
        assert_eq!(
            url,
            format!("http://127.0.0.1:8080/repos/acme/web/statuses/{REVISION}")
        );
        assert_eq!(
            body,
            json!({"state": "pending", "context": "driftless/team-a/web", "description": "syncing"})
        );
        let (url, body) = status(
            ProviderType::GitLab,
            "https://gitlab.example",
            &started,
            "syncing",
        )
        .unwrap();
        assert_eq!(
            url,
            format!("https://gitlab.example/api/v4/projects/acme%2Fweb/statuses/{REVISION}")
        );
        assert_eq!(body["state"], "running");
        assert_eq!(body["name"], "driftless/team-a/web");
        let (url, _) = status(
            ProviderType::Gitea,
            "https://gitea.example/git",
            &started,
            "x",
        )
        .unwrap();
        assert_eq!(
            url,
            format!("https://gitea.example/git/api/v1/repos/acme/web/statuses/{REVISION}")
        );
    }

    #[test]
    fn states_follow_the_event() {
        let states: Vec<(&str, &str)> = EventKind::ALL
            .into_iter()
            .map(|k| {
                (
                    state(ProviderType::GitHub, k),
                    state(ProviderType::GitLab, k),
                )
            })
            .collect();
        assert_eq!(
            states,
            [
                ("pending", "running"),
                ("success", "success"),
                ("failure", "failed"),
                ("failure", "failed"),
                ("success", "success"),
                ("pending", "pending"),
            ]
        );
    }

    #[test]
    fn no_commit_no_status_and_descriptions_are_cut() {
        let mut none = event(EventKind::OutOfSync, "team-a", "web");
        none.revision = None;
        assert_eq!(
            status(ProviderType::GitHub, "x", &none, "d").unwrap_err(),
            ForgeError::NoRevision
        );
        none.revision = Some("main/../../etc".into());
        assert!(matches!(
            status(ProviderType::GitHub, "x", &none, "d"),
            Err(ForgeError::Revision(_))
        ));
        let mut one = event(EventKind::SyncFailed, "team-a", "web");
        one.repo_url = "https://git.example/web".into();
        assert_eq!(
            status(ProviderType::GitHub, "x", &one, "d").unwrap_err(),
            ForgeError::Repository("https://git.example/web".into())
        );
        let ok = event(EventKind::SyncFailed, "team-a", "web");
        let (_, body) = status(ProviderType::GitHub, "x", &ok, &"e".repeat(500)).unwrap();
        assert_eq!(
            body["description"].as_str().map(str::len),
            Some(MAX_DESCRIPTION)
        );
    }
}
