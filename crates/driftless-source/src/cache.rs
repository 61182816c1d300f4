//! The mirror cache: one mirror per repository URL, fetches shared between concurrent callers,
//! the last fetched state served when the remote is down.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Instant;

use driftless_render::{KUSTOMIZATION_FILES, join};
use gix::ObjectId;

use crate::auth::Source;
use crate::files::{self, FilesError, Limits};
use crate::mirror::{self, FetchError};
use crate::revision::{self, RevisionError};

/// Marks a mirror that has completed at least one fetch, so a later failed fetch can fall back to
/// it. Written after the first successful fetch.
const FETCHED_MARKER: &str = "driftless-fetched";

/// Why a source operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CacheError {
    /// The fetch failed and there is no earlier fetch to fall back to.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The revision does not resolve in the (freshly fetched) mirror.
    #[error("{url}: {source}")]
    Revision {
        /// The remote URL (without credentials).
        url: String,
        /// Why.
        #[source]
        source: RevisionError,
    },
    /// Blame, ancestry or the history of a commit could not be read.
    #[error("{url}: {message}")]
    History {
        /// The remote URL (without credentials).
        url: String,
        /// What was asked and why it failed.
        message: String,
    },
    /// The files of the commit could not be read.
    #[error("{url}: {source}")]
    Files {
        /// The remote URL (without credentials).
        url: String,
        /// Why.
        #[source]
        source: FilesError,
    },
}

/// A revision resolved to a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The full commit id, hexadecimal.
    pub commit: String,
    /// When the fetch failed and `commit` comes from the last successful fetch: why it failed.
    pub fetch_error: Option<FetchError>,
}

/// Per-URL coordination of fetches.
#[derive(Default)]
struct Slot {
    state: Mutex<SlotState>,
    finished: Condvar,
}

#[derive(Default)]
struct SlotState {
    /// A fetch is running.
    fetching: bool,
    /// Callers waiting for the running fetch.
    waiting: usize,
    /// Completed fetches (successful or not).
    generation: u64,
    /// The outcome of the last completed fetch.
    last: Option<Result<(), FetchError>>,
    /// When the running fetch started.
    started: Option<Instant>,
    /// When the last successful fetch started: what the remote held then is in the mirror.
    fresh_as_of: Option<Instant>,
}

/// Mirrors of remote repositories under one directory.
///
/// # Guarantees
/// - A caller that asks for a fetch while one of the same URL is running waits for it and shares
///   its outcome instead of starting another ([`Cache::fetch_since`]: when that fetch started no
///   earlier than the caller needs).
/// - A failed fetch never removes anything from a mirror; [`Cache::resolve`] then answers from the
///   last successful fetch and reports the error.
///
/// # Caveats
/// Sharing is within one process; two processes on one cache directory rely on Git's lock files.
pub struct Cache {
    root: PathBuf,
    slots: Mutex<HashMap<String, Arc<Slot>>>,
}

impl Cache {
    /// A cache keeping its mirrors under `root` (created on first use).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// The directory of the mirror of `key` ([`Source::mirror_key`]: the URL, and the
    /// credentials if any): a readable form of it plus a hash, so distinct keys never share a
    /// mirror.
    pub fn mirror_path(&self, key: &str) -> PathBuf {
        let readable: String = key
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .take(80)
            .collect();
        self.root
            .join(format!("{readable}-{:016x}", fnv1a(key.as_bytes())))
    }

    fn slot(&self, key: &str) -> Arc<Slot> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(slots.entry(key.to_owned()).or_default())
    }

    /// Fetches all branches and tags of `source` into its mirror (cloning the first time).
    ///
    /// # Errors
    /// [`FetchError`] without credentials in it.
    pub fn fetch(&self, source: &Source) -> Result<(), FetchError> {
        self.fetch_when(source, None)
    }

    /// Fetches `source` unless a fetch that started at `not_before` or later has succeeded
    /// already, or is running (then it waits for it and shares its outcome). A thousand
    /// applications of one repository refreshed by one push share one fetch this way, and none
    /// is served by a fetch that started before the push.
    ///
    /// # Errors
    /// [`FetchError`] without credentials in it.
    pub fn fetch_since(&self, source: &Source, not_before: Instant) -> Result<(), FetchError> {
        self.fetch_when(source, Some(not_before))
    }

    /// `not_before: None`: any running fetch serves.
    fn fetch_when(&self, source: &Source, not_before: Option<Instant>) -> Result<(), FetchError> {
        let recent = |t: Option<Instant>| match (t, not_before) {
            (Some(t), Some(not_before)) => t >= not_before,
            (Some(_), None) => true,
            (None, _) => false,
        };
        let slot = self.slot(&source.mirror_key());
        let mut state = slot.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if !state.fetching {
                if not_before.is_some() && recent(state.fresh_as_of) {
                    return Ok(());
                }
                break;
            }
            let generation = state.generation;
            let shared = recent(state.started);
            state.waiting += 1;
            while state.generation == generation {
                state = slot
                    .finished
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            state.waiting -= 1;
            if shared {
                return state.last.clone().unwrap_or(Ok(()));
            }
            // That fetch started too early for this caller: look again.
        }
        let started = Instant::now();
        state.fetching = true;
        state.started = Some(started);
        drop(state);
        let outcome = self.fetch_now(source);
        let mut state = slot.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.fetching = false;
        state.started = None;
        state.generation += 1;
        if outcome.is_ok() {
            state.fresh_as_of = Some(started);
        }
        state.last = Some(outcome.clone());
        slot.finished.notify_all();
        outcome
    }

    fn fetch_now(&self, source: &Source) -> Result<(), FetchError> {
        let path = self.mirror_path(&source.mirror_key());
        let repo = mirror::open(&path, source)?;
        mirror::fetch(&repo, source)?;
        // Best effort: without the marker a later outage is reported as an error instead of
        // served from this fetch, which is safe.
        let _ = std::fs::write(path.join(FETCHED_MARKER), b"");
        Ok(())
    }

    /// Completed fetches of `url` in this process (successful or not).
    pub fn fetches(&self, url: &str) -> u64 {
        self.slot(url)
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .generation
    }

    /// Callers currently waiting for a running fetch of `url`.
    pub fn waiting(&self, url: &str) -> usize {
        self.slot(url)
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .waiting
    }

    /// Whether a fetch of `url` is running.
    pub fn fetching(&self, url: &str) -> bool {
        self.slot(url)
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .fetching
    }

    /// Fetches, then resolves `revision` to a full commit id. When the fetch fails but an earlier
    /// fetch succeeded, resolves against that and reports the error in
    /// [`Resolved::fetch_error`].
    ///
    /// # Errors
    /// [`CacheError::Fetch`] when the fetch failed and the mirror cannot answer;
    /// [`CacheError::Revision`] when the revision does not exist.
    pub fn resolve(&self, source: &Source, revision: &str) -> Result<Resolved, CacheError> {
        let fetched = self.fetch(source);
        self.resolve_fetched(source, revision, fetched)
    }

    /// [`Cache::resolve`] after [`Cache::fetch_since`]: a fetch that started at `not_before`
    /// or later serves.
    ///
    /// # Errors
    /// As [`Cache::resolve`].
    pub fn resolve_since(
        &self,
        source: &Source,
        revision: &str,
        not_before: Instant,
    ) -> Result<Resolved, CacheError> {
        let fetched = self.fetch_since(source, not_before);
        self.resolve_fetched(source, revision, fetched)
    }

    fn resolve_fetched(
        &self,
        source: &Source,
        revision: &str,
        fetched: Result<(), FetchError>,
    ) -> Result<Resolved, CacheError> {
        let path = self.mirror_path(&source.mirror_key());
        let fetch_error = match fetched {
            Ok(()) => None,
            Err(err) if path.join(FETCHED_MARKER).exists() => Some(err),
            Err(err) => return Err(err.into()),
        };
        match (self.resolve_cached(source, revision), fetch_error) {
            (Ok(commit), fetch_error) => Ok(Resolved {
                commit,
                fetch_error,
            }),
            // The revision may exist on the remote we could not reach: report the outage.
            (Err(_), Some(fetch_error)) => Err(CacheError::Fetch(fetch_error)),
            (Err(err), None) => Err(err),
        }
    }

    /// Resolves `revision` against the mirror as last fetched, without network.
    ///
    /// # Errors
    /// [`CacheError::Fetch`] when the mirror cannot be opened, [`CacheError::Revision`].
    pub fn resolve_cached(&self, source: &Source, revision: &str) -> Result<String, CacheError> {
        let repo = mirror::open(&self.mirror_path(&source.mirror_key()), source)?;
        revision::resolve(&repo, revision)
            .map(|id| id.to_string())
            .map_err(|source_err| CacheError::Revision {
                url: source.url().to_owned(),
                source: source_err,
            })
    }

    /// Reads what rendering `dir` at `commit` needs: the files under `dir`, or every file of the
    /// commit when `dir` holds a kustomization file (its bases may live anywhere in the
    /// repository). Reading no more than needed keeps unrelated content, such as an escaping
    /// symbolic link elsewhere, from failing the render.
    ///
    /// # Errors
    /// As [`Cache::read_files`].
    pub fn read_render_files(
        &self,
        source: &Source,
        commit: &str,
        dir: &str,
        limits: &Limits,
    ) -> Result<BTreeMap<String, Vec<u8>>, CacheError> {
        let files = self.read_files(source, commit, dir, limits)?;
        let dir = dir.trim_matches('/');
        let kustomize = KUSTOMIZATION_FILES
            .iter()
            .any(|name| files.contains_key(&join(dir, name)));
        if kustomize && !dir.is_empty() {
            self.read_files(source, commit, "", limits)
        } else {
            Ok(files)
        }
    }

    /// Reads the files under `dir` (`""` for the whole repository) at `commit` into memory,
    /// keyed by path relative to the repository root.
    ///
    /// # Errors
    /// [`CacheError::Files`]: limits exceeded, symbolic link leaving the repository, submodule,
    /// missing path; [`CacheError::Revision`] when `commit` is not a commit of the mirror.
    pub fn read_files(
        &self,
        source: &Source,
        commit: &str,
        dir: &str,
        limits: &Limits,
    ) -> Result<BTreeMap<String, Vec<u8>>, CacheError> {
        let repo = mirror::open(&self.mirror_path(&source.mirror_key()), source)?;
        let not_found = || CacheError::Revision {
            url: source.url().to_owned(),
            source: RevisionError::NotFound(commit.to_owned()),
        };
        let id = ObjectId::from_hex(commit.as_bytes()).map_err(|_| not_found())?;
        files::read(&repo, id, dir.trim_matches('/'), *limits).map_err(|source_err| {
            CacheError::Files {
                url: source.url().to_owned(),
                source: source_err,
            }
        })
    }

    /// The fingerprints of renders' `inputs` at `commit` (see [`Fingerprints`]), one for each,
    /// from object ids alone: no file is read, and the mirror is opened once for all of them.
    ///
    /// # Errors
    /// [`CacheError::Revision`] when `commit` is not a commit of the mirror;
    /// [`CacheError::Files`] when the object database fails.
    pub fn fingerprints(
        &self,
        source: &Source,
        commit: &str,
        inputs: &[&driftless_render::Inputs],
    ) -> Result<Vec<crate::Fingerprints>, CacheError> {
        let repo = mirror::open(&self.mirror_path(&source.mirror_key()), source)?;
        let not_found = || CacheError::Revision {
            url: source.url().to_owned(),
            source: RevisionError::NotFound(commit.to_owned()),
        };
        let id = ObjectId::from_hex(commit.as_bytes()).map_err(|_| not_found())?;
        let files = |source_err| CacheError::Files {
            url: source.url().to_owned(),
            source: source_err,
        };
        let root = repo
            .find_commit(id)
            .map_err(|_| not_found())?
            .tree_id()
            .map_err(|e| {
                files(FilesError::Git {
                    path: String::new(),
                    message: e.to_string(),
                })
            })?
            .detach();
        crate::fingerprint::fingerprints(&repo, root, inputs).map_err(files)
    }

    /// The root directory of the cache.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

/// FNV-1a, 64 bits: a stable, dependency-free hash for directory names (not for security).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_urls_get_distinct_readable_mirrors() {
        let cache = Cache::new("/c");
        let a = cache.mirror_path("https://h/org/a.git");
        let b = cache.mirror_path("https://h/org/a_git");
        assert_ne!(a, b);
        assert!(
            a.display()
                .to_string()
                .starts_with("/c/https___h_org_a.git-")
        );
        assert_eq!(a, cache.mirror_path("https://h/org/a.git"));
    }
}
