//! Fetching and rendering an Application's source (blocking: run it on the blocking pool).

use std::time::Instant;

use driftless_api::Source as SourceSpec;
use driftless_render::{Kustomize, MemoryTree, Plain, PlainOptions, Renderers, normalize};
use driftless_resource::Manifest;
use driftless_source::{Cache, Limits, Source};

use crate::Error;

/// What Git declares at the resolved commit.
#[derive(Debug)]
pub struct Rendered {
    /// The full commit id.
    pub commit: String,
    /// The manifests.
    pub manifests: Vec<Manifest>,
    /// Set when the fetch failed and the last fetched commit was used.
    pub fetch_error: Option<String>,
}

impl Rendered {
    /// How the fetch behind a render ended, for `driftless_git_fetch_duration`: a fetch that
    /// failed and fell back to the last fetched commit is an `error`, though the render is kept.
    pub fn fetch_result(rendered: &Result<Self, Error>) -> crate::OpResult {
        match rendered {
            Ok(render) if render.fetch_error.is_none() => crate::OpResult::Success,
            _ => crate::OpResult::Error,
        }
    }
}

/// The renderers of an Application's source: Kustomize for a directory with a kustomization
/// file, else plain manifests with the spec's directory options.
///
/// # Errors
/// [`Error::Render`] for an invalid include or exclude glob.
pub fn renderers(spec: &SourceSpec) -> Result<Renderers, Error> {
    let directory = spec.directory.clone().unwrap_or_default();
    let options = PlainOptions {
        recursive: directory.recurse,
        include: directory.include.into_iter().collect(),
        exclude: directory.exclude.into_iter().collect(),
    };
    let plain = Plain::new(&options).map_err(|e| Error::Render(e.to_string()))?;
    Ok(Renderers::new(vec![
        Box::new(Kustomize::new()),
        Box::new(plain),
    ]))
}

/// Resolves the revision (`revision`, or the spec's target revision) of `source` (the spec's
/// repository, with its credentials) after a fetch that started at `not_before` or later, reads
/// the path at that commit and renders it (Kustomize or plain).
pub fn fetch_and_render(
    cache: &Cache,
    source: &Source,
    spec: &SourceSpec,
    revision: Option<&str>,
    not_before: Instant,
) -> Result<Rendered, Error> {
    let revision = revision
        .or(spec.target_revision.as_deref())
        .unwrap_or("HEAD");
    let resolved = cache
        .resolve_since(source, revision, not_before)
        .map_err(|e| Error::Source(e.to_string()))?;
    let dir =
        normalize(spec.path.as_deref().unwrap_or("")).map_err(|e| Error::Render(e.to_string()))?;
    let tree = cache
        .read_render_files(source, &resolved.commit, &dir, &Limits::default())
        .map(MemoryTree::from)
        .map_err(|e| Error::Source(e.to_string()))?;
    let manifests = renderers(spec)?
        .render(&tree, &dir)
        .map_err(|e| Error::Render(e.to_string()))?;
    Ok(Rendered {
        commit: resolved.commit,
        manifests,
        fetch_error: resolved.fetch_error.map(|e| e.to_string()),
    })
}

#[cfg(test)]
mod fetch_result_tests {
    use super::*;
    use crate::OpResult;

    fn rendered(fetch_error: Option<&str>) -> Result<Rendered, Error> {
        Ok(Rendered {
            commit: "0123abcd".to_owned(),
            manifests: Vec::new(),
            fetch_error: fetch_error.map(str::to_owned),
        })
    }

    #[test]
    fn a_fetch_that_fell_back_to_the_last_commit_is_counted_as_an_error() {
        assert_eq!(Rendered::fetch_result(&rendered(None)), OpResult::Success);
        assert_eq!(
            Rendered::fetch_result(&rendered(Some("git daemon down"))),
            OpResult::Error
        );
        assert_eq!(
            Rendered::fetch_result(&Err(Error::Source("unreachable".to_owned()))),
            OpResult::Error
        );
    }
}
