//! One comparable form for the many ways of writing a repository's address.
//!
//! A push webhook names a repository by its clone, SSH and web URLs; an Application names it by
//! whatever URL its author typed. Both go through [`normalize_repo_url`] before they are compared.

/// The comparable form of a repository URL: `host/path` for remote repositories, the path itself
/// for `file://` URLs and local paths.
///
/// Equal results mean "the same repository" for the usual spellings:
/// `https://Host/org/repo.git`, `https://host/org/repo`, `http://user:pw@host/org/repo/`,
/// `git@host:org/repo.git` and `ssh://git@host:22/org/repo` all become `host/org/repo`.
///
/// # Guarantees
/// - The scheme (`http`, `https`, `ssh`, `git`, `git+ssh`), user information (and so any
///   password in it), a query or fragment, one trailing `.git` and trailing `/` are dropped.
/// - The host is lowercased; the path keeps its case (most Git servers are case-sensitive).
/// - Default ports (`:443`, `:80`, `:22`, `:9418`) are dropped, other ports are kept.
/// - `file:///srv/repo.git` and `/srv/repo` compare equal; a local path is never confused with a
///   remote one, because remote forms always start with a host.
///
/// # Caveats
/// A pure string transformation: it never resolves DNS, aliases or redirects, so
/// `github.com/org/repo` and `www.github.com/org/repo` stay different.
pub fn normalize_repo_url(url: &str) -> String {
    let url = url.trim();
    if let Some(path) = url.strip_prefix("file://") {
        return trim_path(path).to_owned();
    }
    if let Some((scheme, rest)) = url.split_once("://") {
        // http(s)://, ssh://, git://, git+ssh://: authority up to the first '/'.
        let rest = rest.split(['?', '#']).next().unwrap_or_default();
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let host = host_of(authority, scheme);
        return join(&host, path);
    }
    if let Some((authority, path)) = scp_like(url) {
        return join(&host_of(authority, "ssh"), path);
    }
    trim_path(url).to_owned()
}

/// `user@host:path` (scp-like SSH syntax), which Git accepts when the part before the first `:`
/// has no `/` (otherwise it is a local path).
fn scp_like(url: &str) -> Option<(&str, &str)> {
    let (authority, path) = url.split_once(':')?;
    if authority.is_empty() || authority.contains('/') || path.starts_with("//") {
        return None;
    }
    Some((authority, path))
}

/// The lowercased host (with a non-default port) of an authority `user:pw@host:port`.
fn host_of(authority: &str, scheme: &str) -> String {
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host_port = host_port.to_ascii_lowercase();
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "https" => ":443",
        "http" => ":80",
        "git" => ":9418",
        _ => ":22",
    };
    match host_port.strip_suffix(default_port) {
        Some(host) => host.to_owned(),
        None => host_port,
    }
}

fn join(host: &str, path: &str) -> String {
    let path = trim_path(path).trim_start_matches('/');
    if path.is_empty() {
        host.to_owned()
    } else {
        format!("{host}/{path}")
    }
}

/// Drops trailing `/`, then one `.git`, then `/` again (`repo.git/` → `repo`).
fn trim_path(path: &str) -> &str {
    let path = path.trim_end_matches('/');
    path.strip_suffix(".git")
        .unwrap_or(path)
        .trim_end_matches('/')
}

#[cfg(test)]
mod tests {
    use super::normalize_repo_url as n;

    #[test]
    fn the_usual_spellings_of_one_repository_are_equal() {
        let forms = [
            "https://Host.Example/org/repo.git",
            "https://host.example/org/repo",
            "http://user:pw@host.example/org/repo/",
            "git@host.example:org/repo.git",
            "ssh://git@host.example/org/repo",
            "ssh://git@HOST.example:22/org/repo.git",
            "https://host.example:443/org/repo.git/",
            "git://host.example/org/repo",
            "https://host.example/org/repo.git?ref=main#frag",
        ];
        for form in forms {
            assert_eq!(n(form), "host.example/org/repo", "{form}");
        }
    }

    #[test]
    fn different_repositories_stay_different() {
        assert_ne!(n("https://host/org/repo"), n("https://host/org/other"));
        assert_ne!(n("https://host/org/repo"), n("https://other/org/repo"));
        // Paths are case-sensitive on most servers.
        assert_ne!(n("https://host/Org/Repo"), n("https://host/org/repo"));
        // A non-default port is another server.
        assert_eq!(n("https://host:8443/org/repo"), "host:8443/org/repo");
        assert_eq!(n("ssh://git@host:2222/org/repo.git"), "host:2222/org/repo");
    }

    #[test]
    fn passwords_never_survive() {
        let normalized = n("https://user:s3cr3t@host/org/repo.git");
        assert!(!normalized.contains("s3cr3t"), "{normalized}");
        assert!(!normalized.contains("user"), "{normalized}");
    }

    #[test]
    fn file_urls_and_local_paths_are_kept_as_paths() {
        assert_eq!(n("file:///srv/git/repo.git"), "/srv/git/repo");
        assert_eq!(n("file:///srv/git/repo/"), "/srv/git/repo");
        assert_eq!(n("/srv/git/repo.git"), "/srv/git/repo");
        assert_eq!(n(" ./relative/repo "), "./relative/repo");
        // A local path with a colon after a slash is not scp-like SSH.
        assert_eq!(n("/tmp/a:b/repo"), "/tmp/a:b/repo");
    }

    #[test]
    fn only_one_git_suffix_is_dropped() {
        assert_eq!(n("https://host/org/repo.git.git"), "host/org/repo.git");
        assert_eq!(n("https://host/org/repo.github"), "host/org/repo.github");
    }
}
