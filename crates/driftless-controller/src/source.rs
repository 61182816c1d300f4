//! Fetching and rendering an Application's source (blocking: run it on the blocking pool).

use std::time::Instant;

use driftless_api::Source as SourceSpec;
use driftless_render::{
    Decrypting, Helm, Inputs, Kustomize, MemoryTree, Plain, PlainOptions, Recorded, RenderError,
    Renderers, normalize, render_decrypted,
};
use driftless_resource::Manifest;
use driftless_sops::Keys;
use driftless_source::{Cache, Fingerprints, Limits, Source};

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

/// The renderers of an Application's source ([`renderers_for`]) with no Application context
/// (release `release-name`, namespace `default`, Helm's default Kubernetes version).
///
/// # Errors
/// [`Error::Render`] for an invalid include or exclude glob.
pub fn renderers(spec: &SourceSpec) -> Result<Renderers, Error> {
    renderers_for(spec, &crate::ChartContext::new("release-name", "default"))
}

/// The renderers of an Application's source: Helm for a chart directory (a `Chart.yaml`), with
/// `spec.source.helm` in `chart`'s context; Kustomize for a directory with a kustomization
/// file; else plain manifests with the spec's directory options.
///
/// # Errors
/// [`Error::Render`] for an invalid include or exclude glob.
pub fn renderers_for(spec: &SourceSpec, chart: &crate::ChartContext) -> Result<Renderers, Error> {
    let directory = spec.directory.clone().unwrap_or_default();
    let options = PlainOptions {
        recursive: directory.recurse,
        include: directory.include.into_iter().collect(),
        exclude: directory.exclude.into_iter().collect(),
    };
    let plain = Plain::new(&options).map_err(|e| Error::Render(e.to_string()))?;
    let helm = Helm::new(
        crate::chart::helm_options(spec, chart),
        driftless_render::template_engine(),
    );
    Ok(Renderers::new(vec![
        Box::new(helm),
        Box::new(Kustomize::new()),
        Box::new(plain),
    ]))
}

/// Resolves the revision (`revision`, or the spec's target revision) of `source` (the spec's
/// repository, with its credentials) after a fetch that started at `not_before` or later, reads
/// the path at that commit and renders it (Kustomize or plain), SOPS files decrypted with the
/// keys `keys` gives (asked for at the first encrypted file only).
pub fn fetch_and_render(
    cache: &Cache,
    source: &Source,
    spec: &SourceSpec,
    revision: Option<&str>,
    not_before: Instant,
    chart: &crate::ChartContext,
    keys: impl FnOnce() -> Result<Keys, String>,
) -> Result<Rendered, Error> {
    match fetch_and_render_since(
        cache,
        source,
        spec,
        revision,
        not_before,
        chart,
        None,
        |_| {},
        keys,
    )? {
        Fresh::Rendered { rendered, .. } => Ok(rendered),
        // Without a last render there is nothing to keep.
        Fresh::Unchanged { commit, .. } => Err(Error::Render(format!(
            "{commit}: nothing to reuse without a last render"
        ))),
    }
}

/// What the last render of an Application read, and what that was at its commit.
#[derive(Debug, Clone)]
pub(crate) struct LastInputs {
    /// The commit it was rendered at.
    pub commit: String,
    /// Every path it read.
    pub inputs: Inputs,
    /// What those were at `commit`.
    pub fingerprints: Fingerprints,
}

/// A fetch with or without a new render.
#[derive(Debug)]
pub(crate) enum Fresh {
    /// Rendered at the resolved commit, with what the render read (absent when the
    /// fingerprints could not be taken: the next commit renders again).
    Rendered {
        rendered: Rendered,
        inputs: Option<LastInputs>,
    },
    /// Nothing the last render read differs at the resolved commit: its manifests stand.
    Unchanged {
        commit: String,
        fetch_error: Option<String>,
    },
}

impl Fresh {
    /// How the fetch ended, as [`Rendered::fetch_result`] tells it.
    pub(crate) fn fetch_result(fresh: &Result<Self, Error>) -> crate::OpResult {
        match fresh {
            Ok(Fresh::Rendered { rendered, .. }) if rendered.fetch_error.is_none() => {
                crate::OpResult::Success
            }
            Ok(Fresh::Unchanged { fetch_error, .. }) if fetch_error.is_none() => {
                crate::OpResult::Success
            }
            _ => crate::OpResult::Error,
        }
    }
}

/// As [`fetch_and_render`], but a commit at which nothing `last` read has changed is not read
/// or rendered ([`Fresh::Unchanged`]). `resolved` is told the commit before anything is read.
/// A render that decrypted anything, or read `valuesFrom`, keeps no inputs: the keys (values)
/// are not among them, so such a
/// render is never reused for a new fetch (a fixed or rotated key Secret takes effect then).
#[allow(clippy::too_many_arguments)]
pub(crate) fn fetch_and_render_since(
    cache: &Cache,
    source: &Source,
    spec: &SourceSpec,
    revision: Option<&str>,
    not_before: Instant,
    chart: &crate::ChartContext,
    last: Option<&LastInputs>,
    resolved: impl FnOnce(&str),
    keys: impl FnOnce() -> Result<Keys, String>,
) -> Result<Fresh, Error> {
    let revision = revision
        .or(spec.target_revision.as_deref())
        .unwrap_or("HEAD");
    let found = cache
        .resolve_since(source, revision, not_before)
        .map_err(|e| Error::Source(e.to_string()))?;
    resolved(&found.commit);
    let fetch_error = found.fetch_error.map(|e| e.to_string());
    if let Some(last) = last {
        let same = last.commit == found.commit
            || cache
                .fingerprints(source, &found.commit, &[&last.inputs])
                .is_ok_and(|now| now.first().is_some_and(|f| f.matches(&last.fingerprints)));
        if same {
            return Ok(Fresh::Unchanged {
                commit: found.commit,
                fetch_error,
            });
        }
    }
    let dir =
        normalize(spec.path.as_deref().unwrap_or("")).map_err(|e| Error::Render(e.to_string()))?;
    // A chart's values files may live elsewhere in the repository (Argo CD allows it).
    let read = if crate::chart::reads_outside(spec.helm.as_ref(), &dir) {
        cache.read_files(source, &found.commit, "", &Limits::default())
    } else {
        cache.read_render_files(source, &found.commit, &dir, &Limits::default())
    };
    let tree = read
        .map(MemoryTree::from)
        .map_err(|e| Error::Source(e.to_string()))?;
    let recorded = Recorded::new(&tree);
    let decrypting = Decrypting::new(&recorded, Box::new(keys));
    let manifests =
        render_decrypted(&renderers_for(spec, chart)?, &decrypting, &dir).map_err(|e| match e {
            RenderError::Decryption(e) => Error::Decryption(e.to_string()),
            e => Error::Render(e.to_string()),
        })?;
    // Values read from the cluster are not among the tree's inputs either.
    let decrypted = decrypting.decrypted() > 0 || !chart.values_from.is_empty();
    drop(decrypting);
    let inputs = recorded.inputs();
    let inputs = match cache.fingerprints(source, &found.commit, &[&inputs]) {
        Ok(_) if decrypted => None,
        Ok(mut fingerprints) => fingerprints.pop().map(|fingerprints| LastInputs {
            commit: found.commit.clone(),
            inputs,
            fingerprints,
        }),
        Err(error) => {
            tracing::warn!(%error, "the inputs of a render could not be fingerprinted; the next commit renders again");
            None
        }
    };
    Ok(Fresh::Rendered {
        rendered: Rendered {
            commit: found.commit,
            manifests,
            fetch_error,
        },
        inputs,
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
