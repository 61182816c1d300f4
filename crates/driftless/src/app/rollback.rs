//! `driftless app rollback NAME ID` and `driftless app resume NAME`: go back to a deployed
//! commit with automated sync suspended (so the next commit does not undo the rollback), and
//! turn automated sync back on.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use driftless_api::{HistoryEntry, SyncRequest};
use kube::api::{Patch, PatchParams};
use serde_json::json;

use super::Apps;
use super::sync::request_sync;
use super::wait::{WaitArgs, new_id};

/// Roll back to a history entry.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The Application's name.
    name: String,
    /// The history entry to go back to (see `driftless app history NAME`).
    #[arg(required_unless_present = "at", conflicts_with = "at")]
    history_id: Option<i64>,
    /// Go back to the entry that was live at this time instead: 2026-12-01T14:00Z,
    /// "2026-12-01 14:00" (local zone), -3d, "last tuesday 14:00".
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// Directory of the Git mirror cache, read when --at is before the oldest entry kept
    /// [default: $XDG_CACHE_HOME/driftless/git or ~/.cache/driftless/git].
    #[arg(long, env = "DRIFTLESS_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    /// Delete objects the entry's commit does not declare.
    #[arg(long)]
    prune: bool,
    #[command(flatten)]
    wait: WaitArgs,
}

/// Resume automated sync.
#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The Application's name.
    name: String,
}

/// Runs `rollback`.
pub async fn run(apps: &Apps, args: &RollbackArgs) -> anyhow::Result<ExitCode> {
    let app = apps.get(&args.name).await?;
    let history = app
        .status
        .as_ref()
        .map(|s| s.history.clone())
        .unwrap_or_default();
    let shown = apps.display(&args.name);
    let failed = |why: String| anyhow::anyhow!("application {shown}: {why}");
    // The commit to go back to and what the request and messages call it.
    let (revision, called) = match (&args.at, args.history_id) {
        (Some(at), _) => {
            let moment = super::when::moment(at, &k8s_openapi::jiff::Zoned::now())
                .map_err(anyhow::Error::msg)?;
            match super::when::before_first(&history, moment) {
                Some(first) => {
                    let cache_dir = match &args.cache_dir {
                        Some(dir) => dir.clone(),
                        None => crate::input::default_cache_dir()?,
                    };
                    let inferred = super::before::live_before(&app, &history, moment, cache_dir)
                        .await
                        .map_err(|why| failed(format!("{why:#}")))?;
                    eprintln!("{}", super::before::note(&inferred, &first.deployed_at));
                    let called = format!("commit {} (inferred from Git)", inferred.revision);
                    (inferred.revision, called)
                }
                None => {
                    let entry = super::when::live_at(&history, moment).map_err(failed)?;
                    (
                        entry.revision.clone(),
                        format!("history entry {}", entry.id),
                    )
                }
            }
        }
        (None, Some(id)) => {
            let entry = find(&history, id).map_err(failed)?;
            (
                entry.revision.clone(),
                format!("history entry {}", entry.id),
            )
        }
        (None, None) => return Err(failed("give a history id or --at TIME".to_owned())),
    };
    let initiated_by = match called.strip_prefix("history entry ") {
        Some(id) => format!("rollback to {id}"),
        None => format!("rollback to {}", short(&revision)),
    };
    let request = SyncRequest {
        id: new_id(),
        revision: Some(revision.clone()),
        prune: args.prune,
        initiated_by: Some(initiated_by),
    };
    request_sync(apps, &args.name, &request, Some(json!({"suspend": true}))).await?;
    let what = if called.starts_with("history entry") {
        format!("{called} (commit {revision})")
    } else {
        called
    };
    println!(
        "rollback of application {} to {what} requested (request {})",
        apps.display(&args.name),
        request.id
    );
    println!(
        "automated sync is suspended; resume it with: driftless app resume {} -n {}",
        args.name, apps.namespace
    );
    args.wait.wait(apps, &args.name, &request.id).await
}

/// Runs `resume`.
pub async fn resume(apps: &Apps, args: &ResumeArgs) -> anyhow::Result<ExitCode> {
    apps.get(&args.name).await?;
    apps.api()
        .patch(
            &args.name,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"suspend": false}})),
        )
        .await
        .map_err(|e| apps.error(&args.name, e))?;
    println!(
        "automated sync of application {} resumed",
        apps.display(&args.name)
    );
    Ok(ExitCode::SUCCESS)
}

/// The first 7 characters of a commit id.
fn short(revision: &str) -> String {
    revision.chars().take(7).collect()
}

/// The entry with this id, or why there is none (naming the ids there are).
fn find(history: &[HistoryEntry], id: i64) -> Result<&HistoryEntry, String> {
    if let Some(entry) = history.iter().find(|entry| entry.id == id) {
        return Ok(entry);
    }
    if history.is_empty() {
        return Err(format!("no history entry {id} (no history yet)"));
    }
    let mut known: Vec<i64> = history.iter().map(|entry| entry.id).collect();
    known.sort_unstable();
    let known: Vec<String> = known.iter().map(ToString::to_string).collect();
    Err(format!(
        "no history entry {id} (known ids: {})",
        known.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: i64) -> HistoryEntry {
        HistoryEntry {
            id,
            revision: format!("rev{id}"),
            deployed_at: String::new(),
            initiated_by: None,
            source: None,
        }
    }

    #[test]
    fn unknown_entries_name_the_known_ids() {
        let history = [entry(3), entry(1)];
        assert_eq!(find(&history, 3).map(|e| e.revision.as_str()), Ok("rev3"));
        assert_eq!(
            find(&history, 2).map(|e| e.id),
            Err("no history entry 2 (known ids: 1, 3)".to_owned())
        );
        assert_eq!(
            find(&[], 1).map(|e| e.id),
            Err("no history entry 1 (no history yet)".to_owned())
        );
    }
}
