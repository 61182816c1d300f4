//! The Git side of a trace (blocking): render the deployed commit with provenance, find the
//! object and the field, blame their lines, and find the sync that applied that commit.

use std::path::PathBuf;

use anyhow::Context as _;
use driftless_api::{HistoryEntry, Source as SourceSpec};
use driftless_render::{MemoryTree, Place, normalize};
use driftless_resource::{FieldPath, ResourceKey};
use driftless_source::{Cache, Limits, Source, pull_request};
use serde_json::Value;

use super::{CommitReport, Location, SyncReport};

/// What the trace asks of Git.
pub struct Input {
    /// The mirror cache.
    pub cache_dir: PathBuf,
    /// The source as the last sync used it.
    pub spec: SourceSpec,
    /// The commit deployed.
    pub revision: String,
    /// The live object's identity.
    pub key: ResourceKey,
    /// The field, with `--field`.
    pub path: Option<FieldPath>,
    /// The Application's history, oldest first.
    pub history: Vec<HistoryEntry>,
}

/// What Git says.
pub struct Facts {
    /// Where the object is declared.
    pub declared: Location,
    /// The field's desired value and who set it.
    pub field: Option<(Value, Location)>,
    /// The commit that last changed the traced lines.
    pub commit: CommitReport,
    /// The sync that applied it.
    pub sync: Option<SyncReport>,
    /// Set when the fetch failed and the mirror answered.
    pub fetch_warning: Option<String>,
}

/// Runs the Git side.
pub fn trace(input: &Input) -> anyhow::Result<Facts> {
    let cache = Cache::new(&input.cache_dir);
    let source = Source::new(input.spec.repo_url.clone());
    // The deployed commit is usually in the mirror already; fetch when it is not (a fresh
    // cache), and carry on from the mirror when the remote is down.
    let fetch_warning = match cache.fetch(&source) {
        Ok(()) => None,
        Err(error) => Some(error.to_string()),
    };
    let dir = normalize(input.spec.path.as_deref().unwrap_or(""))?;
    let files = cache
        .read_render_files(&source, &input.revision, &dir, &Limits::default())
        .with_context(|| match &fetch_warning {
            Some(warning) => format!("commit {} (and {warning})", input.revision),
            None => format!("commit {}", input.revision),
        })?;
    let tree = MemoryTree::from(files);
    let renderers = driftless_controller::renderers(&input.spec)?;
    let traced = renderers
        .trace(&tree, &dir)
        .with_context(|| format!("rendering {} at {}", shown_dir(&dir), input.revision))?;
    let key = &input.key;
    let object = traced
        .iter()
        .find(|t| {
            let k = t.manifest.key();
            k.group == key.group
                && k.kind == key.kind
                && k.name == key.name
                && (k.namespace == key.namespace || k.namespace.is_empty())
        })
        .with_context(|| {
            format!(
                "{} {} is not declared in {} at the deployed commit {} (renamed, or removed and not pruned?)",
                key.kind,
                super::shown(&key.namespace, &key.name),
                shown_dir(&dir),
                input.revision
            )
        })?;
    let declared = location(object.declaration(&tree)?);
    let field = match &input.path {
        None => None,
        Some(path) => {
            let desired = path
                .get(object.manifest.object())
                .cloned()
                .with_context(|| {
                    format!(
                        "field {path} is not set in the manifests at the deployed commit {}",
                        input.revision
                    )
                })?;
            Some((desired, location(object.field_place(&tree, path)?)))
        }
    };
    let traced_at = field.as_ref().map_or(&declared, |(_, at)| at);
    let lines = traced_at
        .line
        .zip(traced_at.end_line)
        .and_then(|(start, end)| Some(u32::try_from(start).ok()?..=u32::try_from(end).ok()?));
    let blamed = cache.blame(&source, &input.revision, &traced_at.file, lines)?;
    let sync = applying_entry(&input.history, |revision| {
        Ok(cache.is_ancestor(&source, &blamed.id, revision)?)
    })?;
    let date = k8s_openapi::jiff::Timestamp::from_second(blamed.authored)
        .map(|t| t.to_string())
        .unwrap_or_default();
    Ok(Facts {
        declared,
        field,
        commit: CommitReport {
            pull_request: pull_request(&blamed.message),
            subject: blamed.subject().to_owned(),
            id: blamed.id,
            author: blamed.author,
            email: blamed.email,
            date,
            message: blamed.message,
        },
        sync,
        fetch_warning,
    })
}

fn shown_dir(dir: &str) -> String {
    if dir.is_empty() {
        "the repository's root".to_owned()
    } else {
        dir.to_owned()
    }
}

fn location(place: Place) -> Location {
    Location {
        file: place.file,
        line: place.lines.map(|l| l.start),
        end_line: place.lines.map(|l| l.end),
        how: place.how,
        kustomization_field: place.field,
    }
}

/// The sync that put a commit live: of the newest run of history entries whose revision
/// contains the commit (`contains`), the oldest. `None` when the newest entry does not contain
/// it. When the run reaches the oldest entry kept and older ones were dropped (its id is above
/// 1), the commit may have been applied earlier: `or_earlier`.
pub fn applying_entry(
    history: &[HistoryEntry],
    mut contains: impl FnMut(&str) -> anyhow::Result<bool>,
) -> anyhow::Result<Option<SyncReport>> {
    let mut found: Option<&HistoryEntry> = None;
    for entry in history.iter().rev() {
        if !contains(&entry.revision)? {
            break;
        }
        found = Some(entry);
    }
    let oldest = history.first().map(|entry| entry.id);
    Ok(found.map(|entry| SyncReport {
        id: entry.id,
        deployed_at: entry.deployed_at.clone(),
        initiated_by: entry.initiated_by.clone(),
        revision: entry.revision.clone(),
        or_earlier: Some(entry.id) == oldest && entry.id > 1,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: i64, revision: &str) -> HistoryEntry {
        HistoryEntry {
            id,
            revision: revision.to_owned(),
            deployed_at: format!("2026-12-0{id}T00:00:00Z"),
            initiated_by: Some("automated".to_owned()),
            source: None,
        }
    }

    /// Commits a < b < c on one line; `x` is an unrelated branch.
    fn contains(commit: &str) -> impl FnMut(&str) -> anyhow::Result<bool> {
        let order = ["a", "b", "c"];
        let commit = commit.to_owned();
        move |revision| {
            let at = |c: &str| order.iter().position(|o| *o == c);
            Ok(match (at(&commit), at(revision)) {
                (Some(c), Some(r)) => c <= r,
                _ => false,
            })
        }
    }

    #[test]
    fn the_applying_sync_is_the_first_of_the_last_run_containing_the_commit() -> anyhow::Result<()>
    {
        let history = [entry(1, "a"), entry(2, "b"), entry(3, "c")];
        let id = |commit| -> anyhow::Result<Option<(i64, bool)>> {
            Ok(applying_entry(&history, contains(commit))?.map(|s| (s.id, s.or_earlier)))
        };
        assert_eq!(id("b")?, Some((2, false)));
        assert_eq!(id("a")?, Some((1, false)));
        assert_eq!(id("c")?, Some((3, false)));
        assert_eq!(id("x")?, None);
        // A rollback to a, then forward to c: b went live again with entry 5.
        let rolled = [entry(3, "c"), entry(4, "a"), entry(5, "c")];
        let again = applying_entry(&rolled, contains("b"))?.map(|s| (s.id, s.or_earlier));
        assert_eq!(again, Some((5, false)));
        // Older entries dropped: the oldest kept may not be the first to apply it.
        let kept = [entry(4, "b"), entry(5, "c")];
        let early = applying_entry(&kept, contains("a"))?.map(|s| (s.id, s.or_earlier));
        assert_eq!(early, Some((4, true)));
        Ok(())
    }
}
