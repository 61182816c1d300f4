//! `driftless app history NAME`: what was deployed, when, by whom; the ids `app rollback` takes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use driftless_api::HistoryEntry;

use super::Apps;
use super::output::{Format, commit, or_none, print_object};

/// Show an Application's deployments.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The Application's name.
    name: String,
    /// Output format [default: a table]; wide shows full commits, yaml and json the entries.
    #[arg(short = 'o', long, value_enum, env = "DRIFTLESS_OUTPUT")]
    output: Option<Format>,
    /// Only the entry that was live at this time: 2026-12-01T14:00Z, "2026-12-01 14:00" (local
    /// zone), -3d, -12h, "yesterday 09:00", "last tuesday 14:00".
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// Directory of the Git mirror cache, read when --at is before the oldest entry kept
    /// [default: $XDG_CACHE_HOME/driftless/git or ~/.cache/driftless/git].
    #[arg(long, env = "DRIFTLESS_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
}

/// Runs the command.
pub async fn run(apps: &Apps, args: &HistoryArgs) -> anyhow::Result<ExitCode> {
    let app = apps.get(&args.name).await?;
    let mut history = app
        .status
        .as_ref()
        .map(|s| s.history.clone())
        .unwrap_or_default();
    if let Some(at) = &args.at {
        let moment = super::when::moment(at, &k8s_openapi::jiff::Zoned::now())
            .map_err(anyhow::Error::msg)?;
        let shown = apps.display(&args.name);
        if let Some(first) = super::when::before_first(&history, moment) {
            let cache_dir = match &args.cache_dir {
                Some(dir) => dir.clone(),
                None => crate::input::default_cache_dir()?,
            };
            let inferred = super::before::live_before(&app, &history, moment, cache_dir)
                .await
                .map_err(|why| anyhow::anyhow!("application {shown}: {why:#}"))?;
            eprintln!("{}", super::before::note(&inferred, &first.deployed_at));
            match args.output {
                Some(format @ (Format::Yaml | Format::Json)) => print_object(&[inferred], format)?,
                wide => print!("{}", inferred_table(&inferred, wide == Some(Format::Wide))),
            }
            return Ok(ExitCode::SUCCESS);
        }
        let live = super::when::live_at(&history, moment)
            .map_err(|why| anyhow::anyhow!("application {shown}: {why}"))?
            .clone();
        history = vec![live];
    }
    match args.output {
        Some(format @ (Format::Yaml | Format::Json)) => print_object(&history, format)?,
        _ if history.is_empty() => {
            eprintln!(
                "application {} has no history yet",
                apps.display(&args.name)
            );
        }
        wide => print!("{}", table(&history, wide == Some(Format::Wide))),
    }
    Ok(ExitCode::SUCCESS)
}

/// The table of an inferred answer: no id, the commit time, `inferred from Git`.
fn inferred_table(inferred: &super::before::Inferred, full: bool) -> String {
    let rows = vec![
        ["ID", "REVISION", "DEPLOYED AT", "INITIATED BY"]
            .map(str::to_owned)
            .to_vec(),
        vec![
            "-".to_owned(),
            commit(Some(&inferred.revision), full),
            format!("{} (committed)", inferred.committed_at),
            "inferred from Git".to_owned(),
        ],
    ];
    crate::table::render_rows(&rows)
}

/// ID, REVISION, DEPLOYED AT, INITIATED BY; oldest first, newest last, whatever the status order.
pub fn table(history: &[HistoryEntry], full: bool) -> String {
    let mut entries: Vec<&HistoryEntry> = history.iter().collect();
    entries.sort_by_key(|entry| entry.id);
    let mut rows = vec![
        ["ID", "REVISION", "DEPLOYED AT", "INITIATED BY"]
            .map(str::to_owned)
            .to_vec(),
    ];
    for entry in entries {
        rows.push(vec![
            entry.id.to_string(),
            commit(Some(&entry.revision), full),
            entry.deployed_at.clone(),
            or_none(entry.initiated_by.as_deref()),
        ]);
    }
    crate::table::render_rows(&rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: i64, revision: &str, by: Option<&str>) -> HistoryEntry {
        HistoryEntry {
            id,
            revision: revision.to_owned(),
            deployed_at: format!("2025-01-0{id}T00:00:00Z"),
            initiated_by: by.map(str::to_owned),
            source: None,
        }
    }

    #[test]
    fn history_lists_newest_last_with_short_commits() {
        let history = [
            entry(2, "bbbbbbbbbbbb", Some("rollback to 1")),
            entry(1, "aaaaaaaaaaaa", None),
        ];
        assert_eq!(
            table(&history, false),
            "ID   REVISION   DEPLOYED AT            INITIATED BY\n\
             1    aaaaaaa    2025-01-01T00:00:00Z   <none>\n\
             2    bbbbbbb    2025-01-02T00:00:00Z   rollback to 1\n"
        );
        assert!(table(&history, true).contains("bbbbbbbbbbbb"));
    }
}
