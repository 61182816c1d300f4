//! Remote Kustomize bases, when allowed: a Git URL in `resources` is fetched through the same
//! mirror cache as `--repo`, and the base is built from that commit's files, confined to them.
//!
//! Accepted forms (kustomize's): `<repo URL>//<path>[?ref=<revision>]` for any scheme Driftless
//! fetches (`https://`, `ssh://`, `git://`, `file://`), `github.com/<org>/<repo>[/<path>]` and
//! `gitlab.com/...` (fetched over HTTPS), and `<URL ending in .git>[/<path>]`. `?version=` is a
//! synonym of `?ref=`; without either, the remote's HEAD is used. No credentials are sent.

use std::path::PathBuf;

use driftless_kustomize::{FileSystem, RemoteLoader};
use driftless_render::{MemoryTree, TreeFs};
use driftless_source::{Cache, Limits, Source};

/// Loads remote bases from Git.
pub struct GitRemote {
    cache: Cache,
}

impl std::fmt::Debug for GitRemote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitRemote").finish_non_exhaustive()
    }
}

impl GitRemote {
    /// A loader keeping its mirrors in `cache_dir`.
    pub fn new(cache_dir: PathBuf) -> Self {
        Self {
            cache: Cache::new(cache_dir),
        }
    }
}

impl RemoteLoader for GitRemote {
    fn load(&self, url: &str) -> Result<(Box<dyn FileSystem>, String), String> {
        let remote = parse(url)?;
        let source = Source::new(remote.repo.clone());
        let resolved = self
            .cache
            .resolve(&source, &remote.revision)
            .map_err(|e| e.to_string())?;
        if let Some(error) = &resolved.fetch_error {
            eprintln!(
                "warning: {error}; using the last fetched commit of {}",
                remote.repo
            );
        }
        let files = self
            .cache
            .read_files(&source, &resolved.commit, "", &Limits::default())
            .map_err(|e| e.to_string())?;
        Ok((
            Box::new(TreeFs(MemoryTree::from(files))),
            format!("/{}", remote.path),
        ))
    }
}

/// A remote base: repository, path in it, revision.
#[derive(Debug, PartialEq, Eq)]
struct Remote {
    repo: String,
    path: String,
    revision: String,
}

fn parse(url: &str) -> Result<Remote, String> {
    let (rest, query) = url.split_once('?').unwrap_or((url, ""));
    let revision = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == "ref" || *key == "version")
        .map_or_else(|| "HEAD".to_owned(), |(_, value)| value.to_owned());
    let scheme_end = rest.find("://").map_or(0, |i| i + 3);
    let (repo, path) = if let Some(i) = rest[scheme_end..].find("//") {
        let split = scheme_end + i;
        (rest[..split].to_owned(), rest[split + 2..].to_owned())
    } else if let Some(hosted) = ["github.com/", "gitlab.com/"]
        .iter()
        .find(|host| rest.starts_with(**host))
    {
        let mut parts = rest[hosted.len()..].splitn(3, '/');
        let (Some(org), Some(name)) = (parts.next(), parts.next()) else {
            return Err(format!("{url}: expected {hosted}<org>/<repo>[/<path>]"));
        };
        let host = hosted.trim_end_matches('/');
        (
            format!("https://{host}/{org}/{}", name.trim_end_matches(".git")),
            parts.next().unwrap_or_default().to_owned(),
        )
    } else if let Some(i) = rest.find(".git/") {
        (rest[..i + 4].to_owned(), rest[i + 5..].to_owned())
    } else if rest.ends_with(".git") {
        (rest.to_owned(), String::new())
    } else {
        return Err(format!(
            "{url}: cannot tell the repository from the path; write <repo URL>//<path>?ref=<revision>"
        ));
    };
    Ok(Remote {
        repo,
        path: path.trim_matches('/').to_owned(),
        revision,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(repo: &str, path: &str, revision: &str) -> Result<Remote, String> {
        Ok(Remote {
            repo: repo.to_owned(),
            path: path.to_owned(),
            revision: revision.to_owned(),
        })
    }

    #[test]
    fn kustomize_url_forms_split_into_repository_path_and_revision() {
        assert_eq!(
            parse("https://git.example/org/app.git//deploy/base?ref=v1.2.0"),
            remote("https://git.example/org/app.git", "deploy/base", "v1.2.0")
        );
        assert_eq!(
            parse("file:///srv/repos/app//base"),
            remote("file:///srv/repos/app", "base", "HEAD")
        );
        assert_eq!(
            parse("github.com/org/app/examples/base?version=main"),
            remote("https://github.com/org/app", "examples/base", "main")
        );
        assert_eq!(
            parse("ssh://git@git.example/org/app.git/base?ref=abc123&timeout=30s"),
            remote("ssh://git@git.example/org/app.git", "base", "abc123")
        );
        assert!(parse("https://git.example/org/app").is_err());
    }
}
