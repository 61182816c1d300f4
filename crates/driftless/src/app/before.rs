//! `--at TIME` before the oldest history entry kept: what was live then, inferred from Git.
//!
//! `status.history` keeps only the last deployments. For an earlier moment the answer is
//! inferred, not recorded: the first-parent history of the oldest kept entry's commit says what
//! its branch pointed at over time (a merge or a push lands as the newest commit on that line),
//! and an Application deploys its branch's newest commit. So the commit live at TIME is taken
//! to be the newest commit on that line committed at or before TIME. The recorded times bound
//! the question: TIME must be before the oldest kept entry (else the history answers) and not
//! before the Application was created (nothing was deployed then).

use std::path::PathBuf;

use anyhow::Context as _;
use driftless_api::{Application, HistoryEntry};
use driftless_source::{Cache, CommitInfo, Source};
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

/// Most commits walked back from the oldest entry's commit.
const MAX_COMMITS: usize = 10_000;

/// A commit inferred to have been live at a moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Inferred {
    /// The commit.
    pub revision: String,
    /// When it was committed (RFC 3339).
    pub committed_at: String,
    /// Its author.
    pub author: String,
    /// Its subject.
    pub subject: String,
    /// The oldest history entry kept, whose commit's history was walked.
    pub from_entry: i64,
    /// Always true: this answer is inferred from Git, not recorded.
    pub inferred: bool,
}

/// The commit live at `at`, which is before the oldest entry of `history` (sorted or not),
/// inferred from Git as the module documentation says.
///
/// # Errors
/// No history; `at` before the Application was created or before the first commit (the
/// message names the earliest moment that can be answered); Git errors.
pub async fn live_before(
    app: &Application,
    history: &[HistoryEntry],
    at: Timestamp,
    cache_dir: PathBuf,
) -> anyhow::Result<Inferred> {
    let oldest = history
        .iter()
        .min_by_key(|entry| entry.id)
        .context("no history yet")?
        .clone();
    let created = app.metadata.creation_timestamp.as_ref().map(|t| t.0);
    if let Some(created) = created
        && at < created
    {
        anyhow::bail!(
            "{at} is before the application was created ({created}); the earliest moment with an answer is {created}"
        );
    }
    let repo_url = oldest
        .source
        .as_ref()
        .map_or_else(|| app.spec.source.repo_url.clone(), |s| s.repo_url.clone());
    let revision = oldest.revision.clone();
    let commits = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<CommitInfo>> {
        let cache = Cache::new(cache_dir);
        let source = Source::new(repo_url);
        if let Err(error) = cache.fetch(&source) {
            eprintln!("warning: {error}; using the last fetched commits");
        }
        Ok(cache.first_parent_history(&source, &revision, MAX_COMMITS)?)
    })
    .await
    .context("reading Git's history")??;
    pick(&commits, &oldest, at)
}

/// The newest of `commits` (first-parent history of `oldest`'s commit, newest first) committed
/// at or before `at`.
fn pick(commits: &[CommitInfo], oldest: &HistoryEntry, at: Timestamp) -> anyhow::Result<Inferred> {
    let found = commits.iter().find(|c| c.committed <= at.as_second());
    let Some(commit) = found else {
        let first = commits.last().map_or_else(String::new, |c| {
            format!("; the earliest is commit {} at {}", c.id, time(c.committed))
        });
        if commits.len() >= MAX_COMMITS {
            anyhow::bail!(
                "{at} is more than {MAX_COMMITS} commits before history entry {} (commit {})",
                oldest.id,
                oldest.revision
            );
        }
        anyhow::bail!(
            "{at} is before the first commit of history entry {}'s branch{first}",
            oldest.id
        );
    };
    Ok(Inferred {
        revision: commit.id.clone(),
        committed_at: time(commit.committed),
        author: commit.author.clone(),
        subject: commit.subject().to_owned(),
        from_entry: oldest.id,
        inferred: true,
    })
}

fn time(seconds: i64) -> String {
    Timestamp::from_second(seconds).map_or_else(|_| seconds.to_string(), |t| t.to_string())
}

/// The note printed with an inferred answer.
pub fn note(inferred: &Inferred, first_deployed: &str) -> String {
    format!(
        "note: before history entry {} (deployed {first_deployed}) nothing is recorded; inferred from Git: commit {} ({:?} by {}, committed {}) was the newest commit of that entry's first-parent history by then",
        inferred.from_entry,
        inferred.revision,
        inferred.subject,
        inferred.author,
        inferred.committed_at
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(id: &str, committed: i64) -> CommitInfo {
        CommitInfo {
            id: id.to_owned(),
            author: "A".to_owned(),
            email: "a@example.com".to_owned(),
            authored: committed,
            committed,
            message: format!("{id} subject\n\nbody"),
        }
    }

    fn entry() -> HistoryEntry {
        HistoryEntry {
            id: 11,
            revision: "c".to_owned(),
            deployed_at: "2026-12-01T12:00:00Z".to_owned(),
            initiated_by: None,
            source: None,
        }
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_newest_commit_by_then_is_inferred_and_the_earliest_is_named() -> anyhow::Result<()> {
        // c at 11:00, b at 10:00, a at 09:00 (2026-12-01), newest first.
        let base = at("2026-12-01T09:00:00Z").as_second();
        let commits = [
            commit("c", base + 7200),
            commit("b", base + 3600),
            commit("a", base),
        ];
        let pick_at = |t| pick(&commits, &entry(), at(t)).map(|i| i.revision);
        assert_eq!(pick_at("2026-12-01T10:30:00Z")?, "b");
        assert_eq!(pick_at("2026-12-01T10:00:00Z")?, "b");
        assert_eq!(pick_at("2026-12-01T11:30:00Z")?, "c");
        assert_eq!(pick_at("2026-12-01T09:59:59Z")?, "a");
        let inferred = pick(&commits, &entry(), at("2026-12-01T10:30:00Z"))?;
        assert_eq!(inferred.subject, "b subject");
        assert_eq!(inferred.committed_at, "2026-12-01T10:00:00Z");
        assert_eq!(inferred.from_entry, 11);
        let early = pick_at("2026-12-01T08:00:00Z").err().map(|e| e.to_string());
        assert_eq!(
            early.as_deref(),
            Some(
                "2026-12-01T08:00:00Z is before the first commit of history entry 11's branch; the earliest is commit a at 2026-12-01T09:00:00Z"
            )
        );
        Ok(())
    }
}
