//! Git sources: a mirror cache per repository on local disk, fetches, revision resolution and
//! reading the files of a commit into memory without a working copy.
//!
//! This is the only Driftless crate that talks to Git. It uses `gix` (blocking API); call it from
//! a blocking thread in async code.
//!
//! ```no_run
//! use driftless_source::{Cache, Limits, Source};
//!
//! let cache = Cache::new("/var/cache/driftless/git");
//! let source = Source::new("https://example.com/org/app.git");
//! let resolved = cache.resolve(&source, "main")?;
//! if let Some(err) = &resolved.fetch_error {
//!     eprintln!("serving the last fetched commit: {err}");
//! }
//! let files = cache.read_files(&source, &resolved.commit, "deploy", &Limits::default())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod auth;
mod blame;
mod cache;
mod files;
mod fingerprint;
mod mirror;
mod revision;
mod url;

pub use auth::{Credentials, Source};
pub use blame::{CommitInfo, pull_request};
pub use cache::{Cache, CacheError, Resolved};
pub use files::{FilesError, Limits};
pub use fingerprint::Fingerprints;
pub use mirror::FetchError;
pub use revision::{RevisionError, semver_range};
pub use url::normalize_repo_url;
