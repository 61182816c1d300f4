//! Revision resolution: branch, tag, full or short commit id, `HEAD`, or a semver range over
//! tags, always to a full commit id.

use gix::ObjectId;
use semver::{Version, VersionReq};

/// The local reference where a fetch stores the remote's `HEAD`.
pub(crate) const REMOTE_HEAD: &str = "refs/driftless/HEAD";

/// Why a revision could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RevisionError {
    /// No branch, tag or commit has this name.
    #[error("revision {0:?} not found (no such branch, tag or commit)")]
    NotFound(String),
    /// The range is valid but no tag satisfies it.
    #[error("no tag satisfies the semver range {0:?}")]
    NoMatchingTag(String),
    /// The revision looks like a semver range but is not one.
    #[error("invalid semver range {range:?}: {message}")]
    InvalidRange {
        /// The range as given.
        range: String,
        /// Why it is invalid.
        message: String,
    },
    /// A short commit id matches several objects, or the name points at something else than a
    /// commit.
    #[error("revision {revision:?} is not a single commit: {message}")]
    NotACommit {
        /// The revision as given.
        revision: String,
        /// Why.
        message: String,
    },
}

/// Resolves `revision` in a mirror to a full commit id. Order: `HEAD` (or empty), a full commit
/// id, a branch, a tag, a full reference name, a semver range over tags, a short commit id.
pub(crate) fn resolve(repo: &gix::Repository, revision: &str) -> Result<ObjectId, RevisionError> {
    let rev = revision.trim();
    let not_a_commit = |err: &dyn std::fmt::Display| RevisionError::NotACommit {
        revision: rev.to_owned(),
        message: err.to_string(),
    };
    if rev.is_empty() || rev == "HEAD" {
        return peel(repo, REMOTE_HEAD)?.ok_or_else(|| RevisionError::NotFound("HEAD".to_owned()));
    }
    if rev.len() == 40
        && let Ok(id) = ObjectId::from_hex(rev.as_bytes())
    {
        return match repo.find_commit(id) {
            Ok(commit) => Ok(commit.id),
            Err(_) => Err(RevisionError::NotFound(rev.to_owned())),
        };
    }
    let candidates = [format!("refs/heads/{rev}"), format!("refs/tags/{rev}")];
    for name in candidates
        .iter()
        .map(String::as_str)
        .chain(rev.starts_with("refs/").then_some(rev))
    {
        if let Some(id) = peel(repo, name)? {
            return Ok(id);
        }
    }
    if looks_like_range(rev) {
        let tags = tag_names(repo).map_err(|e| not_a_commit(&e))?;
        let tag = semver_range(rev, tags.iter().map(String::as_str))?;
        return peel(repo, &format!("refs/tags/{tag}"))?.ok_or(RevisionError::NotFound(tag));
    }
    if (4..40).contains(&rev.len()) && rev.bytes().all(|b| b.is_ascii_hexdigit()) {
        let id = repo.rev_parse_single(rev).map_err(|e| {
            let message = e.to_string();
            if message.contains("ambiguous") {
                not_a_commit(&message)
            } else {
                RevisionError::NotFound(rev.to_owned())
            }
        })?;
        let commit = id
            .object()
            .map_err(|e| not_a_commit(&e))?
            .peel_to_commit()
            .map_err(|e| not_a_commit(&e))?;
        return Ok(commit.id);
    }
    Err(RevisionError::NotFound(rev.to_owned()))
}

/// The commit a reference points to (through annotated tags), `None` when it does not exist.
fn peel(repo: &gix::Repository, name: &str) -> Result<Option<ObjectId>, RevisionError> {
    let Ok(Some(mut reference)) = repo.try_find_reference(name) else {
        return Ok(None);
    };
    let commit = reference
        .peel_to_commit()
        .map_err(|e| RevisionError::NotACommit {
            revision: name.to_owned(),
            message: e.to_string(),
        })?;
    Ok(Some(commit.id))
}

/// The short names of all tags in the mirror.
fn tag_names(repo: &gix::Repository) -> Result<Vec<String>, gix::Error> {
    let mut names = Vec::new();
    for reference in repo.references()?.tags()?.flatten() {
        let name = reference.name().as_bstr().to_string();
        if let Some(short) = name.strip_prefix("refs/tags/") {
            names.push(short.to_owned());
        }
    }
    Ok(names)
}

/// Whether a revision is meant as a version range rather than a name: it has a comparison
/// operator, `||`, or a wildcard component (`1.x`, `1.2.*`).
fn looks_like_range(rev: &str) -> bool {
    rev.contains(['<', '>', '=', '~', '^', '*', '|', ' '])
        || rev
            .trim_start_matches('v')
            .split('.')
            .any(|part| part.eq_ignore_ascii_case("x"))
}

/// Picks the tag with the highest version satisfying `range`, written the way Flux and Argo CD
/// users write it: comparators separated by spaces or commas (`>=1.2.0 <2.0.0`), alternatives by
/// `||`, wildcards (`1.x`, `1.2.*`), and bare versions meaning exactly that version. Tags may
/// carry a leading `v`. Pre-releases match only when the range names one. Ties between tags of
/// the same version (`v1.0.0` and `1.0.0`) go to the greatest tag name, so the choice is stable.
///
/// # Errors
/// [`RevisionError::InvalidRange`] or [`RevisionError::NoMatchingTag`].
pub fn semver_range<'a>(
    range: &str,
    tags: impl IntoIterator<Item = &'a str>,
) -> Result<String, RevisionError> {
    let invalid = |message: String| RevisionError::InvalidRange {
        range: range.to_owned(),
        message,
    };
    let alternatives = range
        .split("||")
        .map(|alternative| {
            VersionReq::parse(&normalize_alternative(alternative))
                .map_err(|e| invalid(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut best: Option<(Version, &str)> = None;
    for tag in tags {
        let Ok(version) = Version::parse(tag.strip_prefix('v').unwrap_or(tag)) else {
            continue;
        };
        if !alternatives.iter().any(|req| req.matches(&version)) {
            continue;
        }
        let better = match &best {
            None => true,
            Some((best_version, best_tag)) => (&version, tag) > (best_version, *best_tag),
        };
        if better {
            best = Some((version, tag));
        }
    }
    best.map(|(_, tag)| tag.to_owned())
        .ok_or_else(|| RevisionError::NoMatchingTag(range.to_owned()))
}

/// `>= 1.2.0 <2` → `>=1.2.0, <2`; a bare `1.2.3` → `=1.2.3` (exact, unlike Cargo's caret).
fn normalize_alternative(alternative: &str) -> String {
    let mut comparators: Vec<String> = Vec::new();
    let mut pending_operator = String::new();
    for token in alternative
        .split([' ', ',', '\t'])
        .filter(|t| !t.is_empty())
    {
        let token = without_v(token);
        if token.chars().all(|c| "<>=~^".contains(c)) {
            pending_operator.push_str(&token);
            continue;
        }
        let operator = std::mem::take(&mut pending_operator);
        let has_operator = !operator.is_empty() || token.starts_with(['<', '>', '=', '~', '^']);
        let wildcard = token
            .split('.')
            .any(|p| p == "*" || p.eq_ignore_ascii_case("x"));
        if has_operator || wildcard {
            comparators.push(format!("{operator}{token}"));
        } else {
            comparators.push(format!("={token}"));
        }
    }
    comparators.join(", ")
}

/// `>=v1.2` → `>=1.2`: tags and ranges are often written with a `v`.
fn without_v(token: &str) -> String {
    let operators_end = token.find(|c| !"<>=~^".contains(c)).unwrap_or(token.len());
    let (operators, version) = token.split_at(operators_end);
    format!(
        "{operators}{}",
        version.strip_prefix('v').unwrap_or(version)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAGS: [&str; 8] = [
        "v1.0.0",
        "v1.2.0",
        "v1.2.5",
        "1.9.1",
        "v2.0.0",
        "v2.1.0-rc.1",
        "not-a-version",
        "v0.9.0",
    ];

    fn pick(range: &str) -> Result<String, RevisionError> {
        semver_range(range, TAGS)
    }

    #[test]
    fn ranges_pick_the_highest_matching_tag() {
        assert_eq!(pick(">=1.2.0 <2.0.0").as_deref(), Ok("1.9.1"));
        assert_eq!(pick(">= 1.2.0, < 1.9.0").as_deref(), Ok("v1.2.5"));
        assert_eq!(pick("1.x").as_deref(), Ok("1.9.1"));
        assert_eq!(pick("1.2.*").as_deref(), Ok("v1.2.5"));
        assert_eq!(pick("~1.2").as_deref(), Ok("v1.2.5"));
        assert_eq!(pick("^1").as_deref(), Ok("1.9.1"));
        assert_eq!(pick("*").as_deref(), Ok("v2.0.0"));
        assert_eq!(pick("<1.0.0 || >=2.0.0").as_deref(), Ok("v2.0.0"));
        assert_eq!(pick("1.2.0").as_deref(), Ok("v1.2.0"));
        assert_eq!(pick(">=2.1.0-rc.0").as_deref(), Ok("v2.1.0-rc.1"));
    }

    #[test]
    fn no_match_and_invalid_range_are_distinct_errors() {
        assert_eq!(
            pick(">=3.0.0"),
            Err(RevisionError::NoMatchingTag(">=3.0.0".into()))
        );
        assert!(matches!(
            pick(">=banana"),
            Err(RevisionError::InvalidRange { .. })
        ));
    }

    #[test]
    fn ties_go_to_the_greatest_tag_name() {
        assert_eq!(
            semver_range("1.x", ["1.0.0", "v1.0.0"]).as_deref(),
            Ok("v1.0.0")
        );
        assert_eq!(
            semver_range("1.x", ["v1.0.0", "1.0.0"]).as_deref(),
            Ok("v1.0.0")
        );
    }

    #[test]
    fn ranges_are_told_from_names() {
        assert!(looks_like_range(">=1.2.0 <2.0.0"));
        assert!(looks_like_range("1.x"));
        assert!(looks_like_range("v2.X"));
        assert!(!looks_like_range("main"));
        assert!(!looks_like_range("release-1.2"));
        assert!(!looks_like_range("v1.2.3"));
    }
}
