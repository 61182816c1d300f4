//! Repository credentials: Secrets labelled `driftless.dev/secret-type` in the controller's
//! namespace, and which of them an Application's fetch uses (Argo CD's rules).
//!
//! A `repository` Secret is for one repository (its `url`, compared after normalization); a
//! `repo-creds` Secret is for every repository whose URL starts with its `url` (the longest such
//! prefix wins). A `repository` match beats a `repo-creds` one, and a `repository` Secret without
//! credentials of its own takes them from the matching `repo-creds`. A Secret with a `project`
//! serves only that project's Applications; among Secrets for the same URL, the project's own
//! beats an unrestricted one.
//!
//! Nothing here ever formats a password, token or key: errors name the Secret and the field.

use std::collections::BTreeMap;

use driftless_source::normalize_repo_url;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;

/// The label that marks a credential Secret, and its two values.
pub const SECRET_TYPE_LABEL: &str = "driftless.dev/secret-type";
/// `driftless.dev/secret-type` of a Secret for one repository.
pub const REPOSITORY: &str = "repository";
/// `driftless.dev/secret-type` of a Secret for every repository under a URL prefix.
pub const REPO_CREDS: &str = "repo-creds";

/// The kind of a credential Secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// One repository.
    Repository,
    /// A URL prefix.
    RepoCreds,
}

/// How a credential authenticates.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Auth {
    /// Nothing (a `repository` Secret that only names a project, or inherits).
    None,
    /// HTTP basic authentication.
    Basic {
        /// `username`.
        username: String,
        /// `password`.
        password: String,
    },
    /// An HTTP access token (`bearerToken`, sent as a password).
    Token(String),
    /// An SSH private key (`sshPrivateKey`).
    Ssh {
        /// The key, in OpenSSH or PEM form.
        private_key: String,
        /// `insecureIgnoreHostKey: "true"`: accept any host key.
        ignore_host_key: bool,
    },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Auth::None => "None",
            Auth::Basic { .. } => "Basic(***)",
            Auth::Token(_) => "Token(***)",
            Auth::Ssh { .. } => "Ssh(***)",
        })
    }
}

/// One credential Secret, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Credential {
    /// The Secret's name.
    pub secret: String,
    /// Its kind.
    pub kind: Kind,
    /// `url`, as written.
    pub url: String,
    /// `project`: the only project whose Applications may use it.
    pub project: Option<String>,
    /// How it authenticates.
    pub auth: Auth,
}

/// Reads a credential Secret; `None` when it is not one (no or another `secret-type` label).
///
/// # Errors
/// A one-line message naming the Secret and the field: no `url`, a `password` without a
/// `username` (or the reverse), two kinds of credentials at once, or a field that is not UTF-8.
pub(crate) fn parse(secret: &Secret) -> Option<Result<Credential, String>> {
    let kind = match secret.labels().get(SECRET_TYPE_LABEL).map(String::as_str) {
        Some(REPOSITORY) => Kind::Repository,
        Some(REPO_CREDS) => Kind::RepoCreds,
        _ => return None,
    };
    let name = secret.name_any();
    Some(read(secret, kind).map_err(|e| format!("repository credentials Secret {name}: {e}")))
}

fn read(secret: &Secret, kind: Kind) -> Result<Credential, String> {
    let fields = Fields {
        data: secret.data.as_ref(),
        string_data: secret.string_data.as_ref(),
    };
    let url = fields.get("url")?.ok_or("no `url`")?;
    let project = fields.get("project")?.filter(|p| !p.is_empty());
    let username = fields.get("username")?;
    let password = fields.get("password")?;
    let token = fields.get("bearerToken")?;
    let key = fields.get("sshPrivateKey")?;
    let ignore_host_key = match fields.get("insecureIgnoreHostKey")?.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err("`insecureIgnoreHostKey` must be \"true\" or \"false\"".into()),
    };
    let auth = match (username, password, token, key) {
        (None, None, None, None) => Auth::None,
        (Some(username), Some(password), None, None) => Auth::Basic { username, password },
        (Some(_), None, None, None) => return Err("`username` without `password`".into()),
        (None, Some(_), None, None) => return Err("`password` without `username`".into()),
        (None, None, Some(token), None) => Auth::Token(token),
        (None, None, None, Some(private_key)) => Auth::Ssh {
            private_key,
            ignore_host_key,
        },
        _ => {
            return Err(
                "more than one of `username`/`password`, `bearerToken` and `sshPrivateKey`".into(),
            );
        }
    };
    Ok(Credential {
        secret: secret.name_any(),
        kind,
        url,
        project,
        auth,
    })
}

/// A Secret's fields: `stringData` (as written, before the API server folds it) over `data`.
pub(crate) struct Fields<'a> {
    /// `data`.
    pub data: Option<&'a BTreeMap<String, ByteString>>,
    /// `stringData`.
    pub string_data: Option<&'a BTreeMap<String, String>>,
}

impl Fields<'_> {
    /// The field `key` as text, or why it is not text.
    pub fn get(&self, key: &str) -> Result<Option<String>, String> {
        if let Some(value) = self.string_data.and_then(|d| d.get(key)) {
            return Ok(Some(value.clone()));
        }
        match self.data.and_then(|d| d.get(key)) {
            None => Ok(None),
            Some(bytes) => String::from_utf8(bytes.0.clone())
                .map(Some)
                .map_err(|_| format!("`{key}` is not UTF-8")),
        }
    }
}

impl Credential {
    /// Whether this Secret is for the repository `url` (whatever its project).
    pub(crate) fn covers(&self, url: &str) -> bool {
        match self.kind {
            Kind::Repository => same_repository(&self.url, url),
            Kind::RepoCreds => under_prefix(&self.url, url),
        }
    }
}

/// What an Application's fetch uses.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Selection<'a> {
    /// The credentials to authenticate with (`None`: fetch without).
    pub auth: Option<&'a Auth>,
    /// The Secret they come from.
    pub secret: Option<&'a str>,
    /// Secrets that match the URL but belong to another project: never used, named in errors.
    pub withheld: Vec<&'a Credential>,
}

/// The credentials for `url` for an Application of `project`.
pub(crate) fn select<'a>(credentials: &'a [Credential], url: &str, project: &str) -> Selection<'a> {
    let mut selection = Selection::default();
    let allowed = |c: &&'a Credential| c.project.as_deref().is_none_or(|p| p == project);
    let mut repositories: Vec<&Credential> = Vec::new();
    let mut prefixes: Vec<&Credential> = Vec::new();
    for credential in credentials {
        if !credential.covers(url) {
            continue;
        }
        if !allowed(&credential) {
            selection.withheld.push(credential);
        } else if credential.kind == Kind::Repository {
            repositories.push(credential);
        } else {
            prefixes.push(credential);
        }
    }
    // The project's own before an unrestricted one; then by name, so the choice is stable.
    let rank = |c: &&Credential| (c.project.is_none(), c.secret.clone());
    repositories.sort_by_key(rank);
    prefixes.sort_by_key(|c| {
        (
            std::cmp::Reverse(c.url.len()),
            c.project.is_none(),
            c.secret.clone(),
        )
    });
    let chosen = repositories
        .iter()
        .find(|c| c.auth != Auth::None)
        .or_else(|| prefixes.iter().find(|c| c.auth != Auth::None));
    if let Some(credential) = chosen {
        selection.auth = Some(&credential.auth);
        selection.secret = Some(&credential.secret);
    }
    selection
}

/// `a` and `b` name the same repository over the same protocol.
fn same_repository(a: &str, b: &str) -> bool {
    scheme(a) == scheme(b) && normalize_repo_url(a) == normalize_repo_url(b)
}

/// `url` starts with `prefix`, case aside (Argo CD's `repo-creds` rule).
fn under_prefix(prefix: &str, url: &str) -> bool {
    let (prefix, url) = (prefix.trim(), url.trim());
    !prefix.is_empty() && url.to_lowercase().starts_with(&prefix.to_lowercase())
}

/// The protocol of a repository URL: its scheme, `ssh` for `user@host:path`, `file` for a path.
fn scheme(url: &str) -> String {
    let url = url.trim();
    match url.split_once("://") {
        Some((scheme, _)) => match scheme.to_ascii_lowercase().as_str() {
            "git+ssh" | "ssh+git" => "ssh".to_owned(),
            other => other.to_owned(),
        },
        None if url.starts_with('/') => "file".to_owned(),
        None if url.contains(':') => "ssh".to_owned(),
        None => "file".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secret(name: &str, kind: &str, data: serde_json::Value) -> Secret {
        serde_json::from_value(json!({
            "metadata": {"name": name, "labels": {SECRET_TYPE_LABEL: kind}},
            "stringData": data,
        }))
        .unwrap_or_default()
    }

    fn credential(name: &str, kind: &str, data: serde_json::Value) -> Credential {
        match parse(&secret(name, kind, data)) {
            Some(Ok(credential)) => credential,
            other => panic!("{name}: {other:?}"),
        }
    }

    #[test]
    fn secrets_read_into_credentials_and_bad_ones_name_the_field_not_the_value() {
        let basic = credential(
            "a",
            REPOSITORY,
            json!({"url": "https://h/r", "username": "u", "password": "hunter2", "project": "p"}),
        );
        assert_eq!(basic.kind, Kind::Repository);
        assert_eq!(basic.project.as_deref(), Some("p"));
        assert_eq!(
            basic.auth,
            Auth::Basic {
                username: "u".into(),
                password: "hunter2".into()
            }
        );
        assert!(!format!("{basic:?}").contains("hunter2"));
        let ssh = credential(
            "b",
            REPO_CREDS,
            json!({"url": "ssh://git@h/", "sshPrivateKey": "KEY", "insecureIgnoreHostKey": "true"}),
        );
        assert_eq!(
            ssh.auth,
            Auth::Ssh {
                private_key: "KEY".into(),
                ignore_host_key: true
            }
        );
        assert_eq!(
            credential("c", REPOSITORY, json!({"url": "u", "bearerToken": "t"})).auth,
            Auth::Token("t".into())
        );

        let unlabelled: Secret =
            serde_json::from_value(json!({"metadata": {"name": "x"}})).unwrap_or_default();
        assert!(parse(&unlabelled).is_none());
        assert!(parse(&secret("x", "other", json!({}))).is_none());
        for (data, wanted) in [
            (json!({}), "no `url`"),
            (
                json!({"url": "u", "password": "hunter2"}),
                "`password` without `username`",
            ),
            (
                json!({"url": "u", "username": "u"}),
                "`username` without `password`",
            ),
            (
                json!({"url": "u", "bearerToken": "hunter2", "sshPrivateKey": "k"}),
                "more than one of",
            ),
            (
                json!({"url": "u", "insecureIgnoreHostKey": "yes"}),
                "`insecureIgnoreHostKey` must be",
            ),
        ] {
            let error = match parse(&secret("bad", REPOSITORY, data.clone())) {
                Some(Err(error)) => error,
                other => panic!("{data}: {other:?}"),
            };
            assert!(
                error.starts_with("repository credentials Secret bad: "),
                "{error}"
            );
            assert!(error.contains(wanted), "{error}");
            assert!(!error.contains("hunter2"), "{error}");
        }
        let binary: Secret = serde_json::from_value(json!({
            "metadata": {"name": "bin", "labels": {SECRET_TYPE_LABEL: REPOSITORY}},
            "data": {"url": "/w=="},
        }))
        .unwrap_or_default();
        assert!(matches!(parse(&binary), Some(Err(e)) if e.contains("`url` is not UTF-8")));
    }

    fn basic(name: &str, kind: &str, url: &str, project: Option<&str>) -> Credential {
        let mut data = json!({"url": url, "username": name, "password": "pw"});
        if let Some(project) = project {
            data["project"] = json!(project);
        }
        credential(name, kind, data)
    }

    fn chosen<'a>(all: &'a [Credential], url: &str, project: &str) -> Option<&'a str> {
        select(all, url, project).secret
    }

    #[test]
    fn a_repository_secret_beats_the_longest_prefix_which_beats_a_shorter_one() {
        let all = [
            basic("org", REPO_CREDS, "https://git.example/org", None),
            basic("org-team", REPO_CREDS, "https://git.example/org/team", None),
            basic(
                "one",
                REPOSITORY,
                "https://git.example/org/team/app.git",
                None,
            ),
        ];
        // Same repository however it is spelled, over the same protocol.
        assert_eq!(
            chosen(&all, "https://GIT.example/org/team/app/", "default"),
            Some("one")
        );
        assert_eq!(
            chosen(&all, "https://git.example/org/team/other", "default"),
            Some("org-team")
        );
        assert_eq!(
            chosen(&all, "https://git.example/org/x", "default"),
            Some("org")
        );
        assert_eq!(
            chosen(&all, "https://git.example/elsewhere", "default"),
            None
        );
        // Another protocol is another repository.
        assert_eq!(
            chosen(&all, "ssh://git@git.example/org/team/app", "default"),
            None
        );
        assert_eq!(scheme("git@git.example:org/app"), "ssh");
        assert_eq!(scheme("/srv/repo"), "file");
    }

    #[test]
    fn a_project_secret_serves_only_its_project_and_is_named_to_others() {
        let all = [
            basic("team-a", REPOSITORY, "https://h/app", Some("a")),
            basic("shared", REPOSITORY, "https://h/app", None),
            basic("b-prefix", REPO_CREDS, "https://h/", Some("b")),
        ];
        assert_eq!(chosen(&all, "https://h/app", "a"), Some("team-a"));
        let other = select(&all, "https://h/app", "c");
        assert_eq!(other.secret, Some("shared"));
        let withheld: Vec<&str> = other.withheld.iter().map(|c| c.secret.as_str()).collect();
        assert_eq!(withheld, ["team-a", "b-prefix"]);
        // Only the other project's: nothing to authenticate with, and the Secret is named.
        let only = [basic("team-a", REPOSITORY, "https://h/app", Some("a"))];
        let refused = select(&only, "https://h/app", "b");
        assert_eq!(refused.auth, None);
        assert_eq!(refused.withheld.len(), 1);
    }

    #[test]
    fn a_repository_secret_without_credentials_takes_them_from_its_prefix() {
        let all = [
            credential("bare", REPOSITORY, json!({"url": "https://h/org/app"})),
            basic("org", REPO_CREDS, "https://h/org", None),
        ];
        assert_eq!(chosen(&all, "https://h/org/app", "default"), Some("org"));
    }
}
