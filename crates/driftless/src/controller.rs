//! `driftless controller`: keeps every Application of the cluster equal to Git.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use driftless_controller::{Context, run};

use crate::cluster_args::ClusterArgs;

/// Run the controller until interrupted (in-cluster, or against --kubeconfig).
#[derive(Debug, Args)]
pub struct ControllerArgs {
    #[command(flatten)]
    cluster: ClusterArgs,
    /// Directory of the Git mirror cache [default: $XDG_CACHE_HOME/driftless/git or ~/.cache/driftless/git].
    #[arg(long, env = "DRIFTLESS_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
}

/// Runs the command.
pub fn run_command(args: ControllerArgs) -> ExitCode {
    crate::exit::run_async(async move {
        let (client, _) = args.cluster.connect().await?;
        let cache = match args.cache_dir {
            Some(dir) => dir,
            None => crate::input::default_cache_dir()?,
        };
        let context = Context::new(client, cache, std::env::var("POD_NAME").ok())
            .await
            .context("reading the cluster's kinds")?;
        eprintln!("driftless controller: watching Applications; Ctrl-C stops it");
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        run(Arc::new(context), shutdown).await;
        Ok(ExitCode::SUCCESS)
    })
}
