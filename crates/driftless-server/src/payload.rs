//! Reading a push event out of a webhook body. GitHub and Gitea name the repository in
//! `repository`, GitLab in `project` (and an older `repository`); all three give `ref` and `after`.

use serde_json::Value;

/// The URL fields a push payload may carry, in the order they are reported. Every one is kept,
/// because an Application may name its repository by any of them.
const URL_FIELDS: [&str; 11] = [
    "clone_url",
    "git_http_url",
    "http_url",
    "ssh_url",
    "git_ssh_url",
    "git_url",
    "html_url",
    "web_url",
    "url",
    "homepage",
    "svn_url",
];

/// The objects that hold those fields.
const REPOSITORY_OBJECTS: [&str; 2] = ["repository", "project"];

/// What a push payload says: repository URLs, the ref and the new commit.
#[derive(Debug, PartialEq)]
pub(crate) struct Push {
    pub(crate) repository_urls: Vec<String>,
    pub(crate) git_ref: String,
    pub(crate) after: Option<String>,
}

/// Parses a push payload of any of the three providers.
///
/// Errors are one line naming what is missing or malformed.
pub(crate) fn parse_push(body: &[u8]) -> Result<Push, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("webhook body is not valid JSON: {e}"))?;
    let Value::Object(object) = &value else {
        return Err("webhook body is not a JSON object".to_owned());
    };
    let git_ref = match object.get("ref") {
        Some(Value::String(git_ref)) if !git_ref.is_empty() => git_ref.clone(),
        Some(_) => return Err("push payload field \"ref\" is not a non-empty string".to_owned()),
        None => return Err("push payload has no \"ref\" field".to_owned()),
    };
    let after = match object.get("after") {
        Some(Value::String(commit)) if !is_null_commit(commit) => Some(commit.clone()),
        Some(Value::String(_) | Value::Null) | None => None,
        Some(_) => return Err("push payload field \"after\" is not a string".to_owned()),
    };
    let mut repository_urls: Vec<String> = Vec::new();
    for holder in REPOSITORY_OBJECTS {
        let Some(Value::Object(repository)) = object.get(holder) else {
            continue;
        };
        for field in URL_FIELDS {
            if let Some(Value::String(url)) = repository.get(field)
                && !url.trim().is_empty()
                && !repository_urls.iter().any(|known| known == url)
            {
                repository_urls.push(url.clone());
            }
        }
    }
    if repository_urls.is_empty() {
        return Err(
            "push payload names no repository URL (repository.clone_url, project.git_http_url, ...)"
                .to_owned(),
        );
    }
    Ok(Push {
        repository_urls,
        git_ref,
        after,
    })
}

/// The all-zero commit id that stands for "no commit" (a deleted branch).
fn is_null_commit(commit: &str) -> bool {
    commit.is_empty() || commit.bytes().all(|b| b == b'0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_github_style_payload_gives_every_url() {
        let body = br#"{
            "ref": "refs/heads/main",
            "before": "1111111111111111111111111111111111111111",
            "after": "2222222222222222222222222222222222222222",
            "repository": {
                "full_name": "acme/shop",
                "html_url": "https://git.example/acme/shop",
                "clone_url": "https://git.example/acme/shop.git",
                "ssh_url": "git@git.example:acme/shop.git",
                "git_url": "git://git.example/acme/shop.git",
                "url": "https://git.example/acme/shop"
            },
            "pusher": {"name": "dev"}
        }"#;
        let push = parse_push(body).unwrap();
        assert_eq!(push.git_ref, "refs/heads/main");
        assert_eq!(
            push.after.as_deref(),
            Some("2222222222222222222222222222222222222222")
        );
        assert_eq!(
            push.repository_urls,
            [
                "https://git.example/acme/shop.git",
                "git@git.example:acme/shop.git",
                "git://git.example/acme/shop.git",
                "https://git.example/acme/shop",
            ]
        );
    }

    #[test]
    fn a_gitlab_style_payload_reads_project_and_repository() {
        let body = br#"{
            "object_kind": "push",
            "ref": "refs/heads/release",
            "after": "3333333333333333333333333333333333333333",
            "checkout_sha": "3333333333333333333333333333333333333333",
            "project": {
                "path_with_namespace": "team/api",
                "web_url": "https://gitlab.example/team/api",
                "git_ssh_url": "git@gitlab.example:team/api.git",
                "git_http_url": "https://gitlab.example/team/api.git"
            },
            "repository": {
                "url": "git@gitlab.example:team/api.git",
                "homepage": "https://gitlab.example/team/api",
                "git_http_url": "https://gitlab.example/team/api.git"
            }
        }"#;
        let push = parse_push(body).unwrap();
        assert_eq!(push.git_ref, "refs/heads/release");
        assert_eq!(
            push.repository_urls,
            [
                "https://gitlab.example/team/api.git",
                "git@gitlab.example:team/api.git",
                "https://gitlab.example/team/api",
            ]
        );
    }

    #[test]
    fn a_deleted_branch_has_no_new_commit() {
        let body = br#"{"ref":"refs/heads/old","after":"0000000000000000000000000000000000000000",
            "repository":{"clone_url":"https://git.example/a/b.git"}}"#;
        assert_eq!(parse_push(body).unwrap().after, None);
        let body = br#"{"ref":"refs/tags/v1.0.0","repository":{"clone_url":"https://git.example/a/b.git"}}"#;
        let push = parse_push(body).unwrap();
        assert_eq!(
            (push.git_ref.as_str(), push.after),
            ("refs/tags/v1.0.0", None)
        );
    }

    #[test]
    fn malformed_payloads_are_named() {
        let error = parse_push(b"{not json").unwrap_err();
        assert!(
            error.starts_with("webhook body is not valid JSON: "),
            "{error}"
        );
        assert!(!error.contains('\n'), "{error}");
        assert_eq!(
            parse_push(b"[1, 2]").unwrap_err(),
            "webhook body is not a JSON object"
        );
        assert_eq!(
            parse_push(br#"{"repository":{"clone_url":"https://h/a/b"}}"#).unwrap_err(),
            "push payload has no \"ref\" field"
        );
        assert_eq!(
            parse_push(br#"{"ref":7,"repository":{"clone_url":"https://h/a/b"}}"#).unwrap_err(),
            "push payload field \"ref\" is not a non-empty string"
        );
        assert_eq!(
            parse_push(
                br#"{"ref":"refs/heads/x","after":5,"repository":{"clone_url":"https://h/a/b"}}"#
            )
            .unwrap_err(),
            "push payload field \"after\" is not a string"
        );
        let error = parse_push(br#"{"ref":"refs/heads/x","repository":{"name":"b"}}"#).unwrap_err();
        assert!(
            error.starts_with("push payload names no repository URL"),
            "{error}"
        );
    }
}
