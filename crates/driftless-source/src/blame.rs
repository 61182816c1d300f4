//! Who changed what: blame of lines of a file at a commit, ancestry between commits, and the
//! first-parent history of a revision, all read from the mirror (no `git` process).

use std::ops::RangeInclusive;

use gix::ObjectId;
use gix::bstr::{BStr, ByteSlice};

use crate::auth::Source;
use crate::cache::{Cache, CacheError};
use crate::mirror;
use crate::revision::RevisionError;

/// One commit, as a trace shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    /// The full commit id, hexadecimal.
    pub id: String,
    /// The author's name.
    pub author: String,
    /// The author's e-mail address.
    pub email: String,
    /// When the author made it, seconds since the Unix epoch.
    pub authored: i64,
    /// When it was committed (what orders history), seconds since the Unix epoch.
    pub committed: i64,
    /// The whole message, trailing whitespace removed.
    pub message: String,
}

impl CommitInfo {
    /// The message's first line.
    pub fn subject(&self) -> &str {
        self.message.lines().next().unwrap_or_default()
    }
}

/// A blame or history failure, as a [`CacheError`].
fn failed(source: &Source, what: String, e: &dyn std::fmt::Display) -> CacheError {
    CacheError::History {
        url: source.url().to_owned(),
        message: format!("{what}: {e}"),
    }
}

fn object_id(source: &Source, commit: &str) -> Result<ObjectId, CacheError> {
    ObjectId::from_hex(commit.as_bytes()).map_err(|_| CacheError::Revision {
        url: source.url().to_owned(),
        source: RevisionError::NotFound(commit.to_owned()),
    })
}

fn info(repo: &gix::Repository, id: ObjectId) -> Result<CommitInfo, String> {
    let commit = repo.find_commit(id).map_err(|e| e.to_string())?;
    let author = commit.author().map_err(|e| e.to_string())?;
    let committed = commit.time().map_err(|e| e.to_string())?.seconds;
    let message = commit
        .message_raw_sloppy()
        .to_str_lossy()
        .trim_end()
        .to_owned();
    Ok(CommitInfo {
        id: id.to_string(),
        author: author.name.to_str_lossy().trim().to_owned(),
        email: author.email.to_str_lossy().trim().to_owned(),
        authored: author.seconds(),
        committed,
        message,
    })
}

/// Whether `commit` has `ancestor` (hexadecimal) among its ancestors.
fn descends(repo: &gix::Repository, commit: ObjectId, ancestor: &str) -> bool {
    let Ok(ancestor) = ObjectId::from_hex(ancestor.as_bytes()) else {
        return false;
    };
    repo.merge_base(commit, ancestor)
        .ok()
        .flatten()
        .is_some_and(|base| base.detach() == ancestor)
}

impl Cache {
    /// The commit that last changed any of `lines` (1-based, inclusive; the whole file when
    /// `None`) of `file` as it is at `commit`: of the commits blame attributes those lines to,
    /// the one committed last.
    ///
    /// # Errors
    /// [`CacheError::Revision`] for a commit not in the mirror; [`CacheError::History`] when
    /// the file is not in the commit, the lines are past its end, or the history cannot be
    /// read.
    pub fn blame(
        &self,
        source: &Source,
        commit: &str,
        file: &str,
        lines: Option<RangeInclusive<u32>>,
    ) -> Result<CommitInfo, CacheError> {
        let repo = mirror::open(&self.mirror_path(&source.mirror_key()), source)?;
        let id = object_id(source, commit)?;
        let what = || format!("blame of {file} at {commit}");
        let ranges = match lines {
            Some(lines) => gix::blame::BlameRanges::from_one_based_inclusive_range(lines)
                .map_err(|e| failed(source, what(), &e))?,
            None => gix::blame::BlameRanges::WholeFile,
        };
        let options = gix::repository::blame_file::Options {
            ranges,
            ..Default::default()
        };
        let outcome = repo
            .blame_file(BStr::new(file), id, options)
            .map_err(|e| failed(source, what(), &e))?;
        let mut newest: Option<CommitInfo> = None;
        let mut seen: Vec<ObjectId> = Vec::new();
        for entry in &outcome.entries {
            if seen.contains(&entry.commit_id) {
                continue;
            }
            seen.push(entry.commit_id);
            let candidate = info(&repo, entry.commit_id).map_err(|e| failed(source, what(), &e))?;
            let later = match &newest {
                None => true,
                Some(n) if candidate.committed != n.committed => candidate.committed > n.committed,
                // Committed in the same second: the descendant is the later one.
                Some(n) => descends(&repo, entry.commit_id, &n.id),
            };
            if later {
                newest = Some(candidate);
            }
        }
        newest.ok_or_else(|| failed(source, what(), &"no lines to blame"))
    }

    /// Whether `ancestor` is `descendant` or one of its ancestors.
    ///
    /// # Errors
    /// [`CacheError::Revision`] for a commit not in the mirror, [`CacheError::History`].
    pub fn is_ancestor(
        &self,
        source: &Source,
        ancestor: &str,
        descendant: &str,
    ) -> Result<bool, CacheError> {
        let (a, d) = (object_id(source, ancestor)?, object_id(source, descendant)?);
        if a == d {
            return Ok(true);
        }
        let repo = mirror::open(&self.mirror_path(&source.mirror_key()), source)?;
        let base = repo.merge_base(a, d).map_err(|e| {
            failed(
                source,
                format!("merge base of {ancestor} and {descendant}"),
                &e,
            )
        })?;
        Ok(base.is_some_and(|base| base.detach() == a))
    }

    /// The commit `commit` itself.
    ///
    /// # Errors
    /// As [`Cache::is_ancestor`].
    pub fn commit_info(&self, source: &Source, commit: &str) -> Result<CommitInfo, CacheError> {
        let repo = mirror::open(&self.mirror_path(&source.mirror_key()), source)?;
        let id = object_id(source, commit)?;
        info(&repo, id).map_err(|e| failed(source, format!("commit {commit}"), &e))
    }

    /// The first-parent history of `commit`, newest first, at most `limit` commits: what a
    /// branch pointed at over time, as far as merges and fast-forwards tell.
    ///
    /// # Errors
    /// As [`Cache::is_ancestor`].
    pub fn first_parent_history(
        &self,
        source: &Source,
        commit: &str,
        limit: usize,
    ) -> Result<Vec<CommitInfo>, CacheError> {
        let repo = mirror::open(&self.mirror_path(&source.mirror_key()), source)?;
        let id = object_id(source, commit)?;
        let what = || format!("history of {commit}");
        let walk = repo
            .rev_walk([id])
            .first_parent_only()
            .all()
            .map_err(|e| failed(source, what(), &e))?;
        let mut out = Vec::new();
        for step in walk.take(limit) {
            let step = step.map_err(|e| failed(source, what(), &e))?;
            out.push(info(&repo, step.id).map_err(|e| failed(source, what(), &e))?);
        }
        Ok(out)
    }
}

/// The pull request a commit message names: `Merge pull request #123 from ...` (GitHub's merge
/// commits, Gitea's too), or `(#123)` at the end of the subject (GitHub's squash merges).
pub fn pull_request(message: &str) -> Option<u64> {
    let subject = message.lines().next().unwrap_or_default().trim();
    let number = |text: &str| -> Option<u64> {
        let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
        if digits.is_empty() {
            return None;
        }
        digits.parse().ok()
    };
    if let Some(rest) = subject.strip_prefix("Merge pull request #") {
        return number(rest);
    }
    let inner = subject.strip_suffix(')')?;
    let open = inner.rfind("(#")?;
    let digits = inner.get(open + 2..)?;
    if digits.chars().all(|c| c.is_ascii_digit()) {
        number(digits)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_requests_are_read_from_merge_and_squash_subjects() {
        assert_eq!(
            pull_request("Merge pull request #123 from alice/scale\n\nScale web"),
            Some(123)
        );
        assert_eq!(pull_request("Scale web to 3 (#45)"), Some(45));
        assert_eq!(pull_request("Scale web to 3 (#45)\n\nbody (#99)"), Some(45));
        assert_eq!(pull_request("  Fix typo (#7)  "), Some(7));
        for none in [
            "Scale web to 3",
            "Fixes #12 in the body",
            "Merge branch 'main'",
            "Bump (#12a)",
            "Mention (#12) in the middle of the subject",
            "Merge pull request #",
            "()",
            "",
        ] {
            assert_eq!(pull_request(none), None, "{none:?}");
        }
    }
}
