//! `driftless app diff NAME`: `driftless diff` for an Application — its source at its target
//! revision, rendered as the controller renders it, compared under the controller's identity
//! (`<namespace>_<name>`), destination and `ignoreDifferences`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use driftless_controller::{app_id, fetch_and_render};
use driftless_source::Source;

use driftless_source::Cache;
use driftless_sync::SyncOptions;

use super::Apps;

/// Diff an Application against Git.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The Application's name.
    name: String,
    /// Compare with this branch, tag or commit instead of the target revision (preview a change).
    #[arg(long)]
    revision: Option<String>,
    /// Directory of the Git mirror cache [default: $XDG_CACHE_HOME/driftless/git or ~/.cache/driftless/git].
    #[arg(long, env = "DRIFTLESS_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    #[command(flatten)]
    decryption: crate::keys::DecryptionArgs,
}

/// Runs the command: 0 in sync, 1 differences (2 on error, by the caller).
pub async fn run(apps: &Apps, args: &DiffArgs) -> anyhow::Result<ExitCode> {
    let app = apps.get(&args.name).await?;
    let shown = apps.display(&args.name);
    let cache_dir = match &args.cache_dir {
        Some(dir) => dir.clone(),
        None => crate::input::default_cache_dir()?,
    };
    let mut source = app.spec.source.clone();
    if let Some(revision) = &args.revision {
        source.target_revision = Some(revision.clone());
    }
    let keys = args.decryption.keys();
    let chart = driftless_controller::ChartContext::new(
        &app.metadata.name.clone().unwrap_or_default(),
        &app.destination_namespace(),
    );
    let rendered = tokio::task::spawn_blocking(move || {
        fetch_and_render(
            &Cache::new(cache_dir),
            &Source::new(source.repo_url.clone()),
            &source,
            None,
            std::time::Instant::now(),
            &chart,
            || keys.map_err(|e| format!("{e:#}")),
        )
    })
    .await
    .context("rendering the source")?
    .with_context(|| format!("application {shown}"))?;
    if let Some(error) = &rendered.fetch_error {
        eprintln!("warning: {error}; using the last fetched commit");
    }
    eprintln!("commit {}", rendered.commit);
    let options = app
        .spec
        .sync_policy
        .as_ref()
        .map(|policy| SyncOptions::parse(&policy.sync_options))
        .transpose()
        .with_context(|| format!("application {shown}: syncPolicy.syncOptions"))?
        .unwrap_or_default();
    let diff_options = driftless_controller::diff_options(&app)
        .with_context(|| format!("application {shown}: ignoreDifferences"))?;
    let namespace = app.metadata.namespace.clone().unwrap_or_default();
    let settings = crate::diff::compare_settings(
        app_id(&namespace, &args.name),
        options,
        app.destination_namespace(),
    );
    let in_sync = crate::diff::show(
        apps.client.clone(),
        rendered.manifests,
        &settings,
        &diff_options,
    )
    .await?;
    Ok(crate::exit::compared(in_sync))
}
