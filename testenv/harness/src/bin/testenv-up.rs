//! `testenv-up`: starts the test control plane for people and scripts.
//!
//! Prints `KUBECONFIG=<path>` on one line once everything is ready, then stays up until
//! interrupted (SIGINT or SIGTERM), and stops every component on the way out.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use driftless_testenv::{ControlPlane, Options};

/// Start a real Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager,
/// kube-scheduler, kwok with one fake node) on loopback.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Directory for certificates, data, logs and the kubeconfig; kept after exit.
    /// Without it a temporary directory is used and removed on exit.
    #[arg(long, env = "DRIFTLESS_TESTENV_RUN_DIR")]
    dir: Option<PathBuf>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut plane = ControlPlane::start(Options {
        dir: args.dir,
        ..Options::default()
    })
    .await
    .context("starting the test control plane")?;
    println!("KUBECONFIG={}", plane.kubeconfig().display());
    eprintln!(
        "testenv: API server {} (Kubernetes {}); logs in {}; Ctrl-C stops it",
        plane.server(),
        driftless_testenv::kubernetes_version(),
        plane.dir().display()
    );

    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let outcome = loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break Ok(()),
            _ = terminate.recv() => break Ok(()),
            _ = tick.tick() => {
                if let Err(err) = plane.check_running() {
                    break Err(anyhow::Error::new(err).context("a component stopped"));
                }
            }
        }
    };
    plane.stop();
    outcome
}
