//! `driftless sync`: make the cluster equal to the manifests, and print what was done.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use driftless_cluster::KubeCluster;
use driftless_diff::DiffOptions;
use driftless_sync::{Outcome, RetryPolicy, Settings, SyncOptions, SyncReport, readiness, sync};

use crate::app_args::AppArgs;
use crate::cluster_args::ClusterArgs;
use crate::input::InputArgs;
use crate::table::Table;

/// Apply the manifests with server-side apply, wave by wave, and prune what Git dropped.
#[derive(Debug, Args)]
pub struct SyncArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    app: AppArgs,
    #[command(flatten)]
    cluster: ClusterArgs,
    /// Delete objects this application owns that the manifests no longer declare.
    #[arg(long)]
    prune: bool,
    /// Validate everything with a server-side dry run; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// A sync option, KEY=VALUE: CreateNamespace, Prune, PruneLast, PrunePropagationPolicy,
    /// ApplyOutOfSyncOnly, Replace, Validate, Force. Repeatable.
    #[arg(long = "sync-option", value_name = "KEY=VALUE", value_delimiter = ',')]
    sync_options: Vec<String>,
    /// How long each wave and hook may take to become healthy, e.g. 90s, 5m.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    timeout: Duration,
    /// Retries after a failed attempt (with exponential backoff from 5 s, at most 3 min apart).
    #[arg(long, default_value_t = 0)]
    retries: u32,
}

/// Parses `90s`, `5m`, `1h` (the durations an Application's `interval` takes) or plain seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    text.parse::<u64>()
        .ok()
        .map(Duration::from_secs)
        .or_else(|| driftless_controller::parse_duration(text))
        .ok_or_else(|| format!("{text:?} is not a duration like 90s, 5m or 1h"))
}

/// Runs the command: 0 when the sync succeeded, [`crate::exit::ERROR`] when it failed or could
/// not start.
pub fn run(args: SyncArgs) -> ExitCode {
    crate::exit::run_async(async move {
        let report = sync_command(&args).await?;
        print(&report);
        Ok(if report.succeeded() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(crate::exit::ERROR)
        })
    })
}

async fn sync_command(args: &SyncArgs) -> anyhow::Result<SyncReport> {
    let mut options = SyncOptions::parse(&args.sync_options)?;
    options.prune |= args.prune;
    let (client, context_namespace) = args.cluster.connect().await?;
    let destination = args.app.dest_namespace.clone().unwrap_or(context_namespace);
    let manifests = args
        .input
        .load_as(Some(&args.app.app), Some(&destination))?;
    let settings = Settings {
        app: args.app.app.clone(),
        options,
        destination,
        dry_run: args.dry_run,
        health_timeout: args.timeout,
        poll: Duration::from_millis(500),
        wait_last_wave: true,
        yield_waits: false,
        resume: None,
        handled_before: Default::default(),
        permit: Default::default(),
    };
    let cluster = KubeCluster::new(client)
        .await
        .context("reading the cluster's kinds")?;
    let retry = RetryPolicy {
        limit: args.retries,
        ..RetryPolicy::default()
    };
    Ok(sync(
        &cluster,
        readiness,
        manifests,
        &settings,
        retry,
        &DiffOptions::default(),
    )
    .await?)
}

fn print(report: &SyncReport) {
    let mut table = Table::new([
        "KIND",
        "NAMESPACE",
        "NAME",
        "WAVE",
        "ACTION",
        "RESULT",
        "MESSAGE",
    ]);
    for result in &report.results {
        table.row([
            result.key.kind.clone(),
            result.key.namespace.clone(),
            result.key.name.clone(),
            result
                .wave
                .map_or_else(|| "-".to_owned(), |w| w.to_string()),
            result.action.to_string(),
            result.outcome.to_string(),
            result.message.replace('\n', " "),
        ]);
    }
    print!("{}", table.render());
    let count = |outcome| {
        report
            .results
            .iter()
            .filter(|r| r.outcome == outcome)
            .count()
    };
    let summary = format!(
        "{} synced, {} unchanged, {} pruned, {} failed, {} skipped, {} conflicts",
        count(Outcome::Synced),
        count(Outcome::Unchanged),
        count(Outcome::Pruned),
        count(Outcome::Failed),
        count(Outcome::Skipped),
        count(Outcome::Conflict),
    );
    match &report.failure {
        None => println!("sync succeeded: {summary}"),
        Some(failure) => {
            println!("sync failed: {summary}");
            eprintln!("error: {}", failure.replace('\n', " "));
        }
    }
}
