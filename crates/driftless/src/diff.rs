//! `driftless diff`: what a sync would change, as unified YAML diffs. Exit codes follow
//! `kubectl diff`: 0 in sync, 1 differences, 2 error. Run it on a branch in CI to preview a
//! pull request's effect.

use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use driftless_cluster::KubeCluster;
use driftless_diff::{Action, DiffOptions, Summary};
use driftless_resource::Manifest;
use driftless_sync::{Settings, SyncOptions, drift, prepare};

use crate::app_args::AppArgs;
use crate::cluster_args::ClusterArgs;
use crate::input::InputArgs;

/// Show how the cluster differs from the manifests: objects to create, update and prune.
#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    app: AppArgs,
    #[command(flatten)]
    cluster: ClusterArgs,
}

/// Runs the command.
pub fn run(args: DiffArgs) -> ExitCode {
    crate::exit::run_async(async move { Ok(crate::exit::compared(diff_command(&args).await?)) })
}

async fn diff_command(args: &DiffArgs) -> anyhow::Result<bool> {
    let (client, context_namespace) = args.cluster.connect().await?;
    let destination = args.app.dest_namespace.clone().unwrap_or(context_namespace);
    let manifests = args
        .input
        .load_as(Some(&args.app.app), Some(&destination))?;
    let settings = compare_settings(args.app.app.clone(), SyncOptions::default(), destination);
    show(client, manifests, &settings, &DiffOptions::default()).await
}

/// Settings for comparing only: dry-run, and everything Git no longer declares counts as a
/// difference, whether or not a sync would prune it.
pub fn compare_settings(app: String, options: SyncOptions, destination: String) -> Settings {
    Settings {
        app,
        options: SyncOptions {
            prune: true,
            ..options
        },
        destination,
        dry_run: true,
        health_timeout: std::time::Duration::ZERO,
        poll: std::time::Duration::ZERO,
        wait_last_wave: false,
        yield_waits: false,
        resume: None,
        handled_before: Default::default(),
        permit: Default::default(),
    }
}

/// Compares `manifests` with the cluster, prints a unified diff per changed object (stdout) and
/// a summary (stderr); true when in sync.
pub async fn show(
    client: kube::Client,
    manifests: Vec<Manifest>,
    settings: &Settings,
    options: &DiffOptions,
) -> anyhow::Result<bool> {
    let cluster = KubeCluster::new(client)
        .await
        .context("reading the cluster's kinds")?;
    let plan = prepare(&cluster, manifests, settings).await?;
    let drifts = drift(&cluster, &plan, options).await?;
    let mut summary = Summary::default();
    let mut out = String::new();
    for drift in &drifts {
        summary.record(drift.diff.action);
        if !drift.diff.changed {
            continue;
        }
        let verb = match drift.diff.action {
            Action::Create => "create",
            Action::Update => "update",
            Action::Prune => "prune",
            Action::Unchanged => "unchanged",
        };
        out.push_str(&format!("=== {verb} {}\n", drift.diff.object));
        if !drift.changed_by.is_empty() {
            out.push_str(&format!(
                "# changed in the cluster by: {}\n",
                drift.changed_by.join(", ")
            ));
        }
        if let Some(error) = &drift.dry_run_error {
            out.push_str(&format!("# applying it would fail: {error}\n"));
        }
        out.push_str(&drift.diff.unified);
        if !drift.diff.unified.ends_with('\n') {
            out.push('\n');
        }
    }
    for untouched in &plan.untouched {
        out.push_str(&format!(
            "# left alone: {} ({})\n",
            untouched.key, untouched.reason
        ));
    }
    print!("{out}");
    eprintln!("{summary}");
    Ok(summary.in_sync())
}
