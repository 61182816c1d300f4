//! `driftless`: the command-line interface of the Driftless GitOps engine.

use clap::{Parser, Subcommand};

mod kustomize;

/// Driftless keeps Kubernetes clusters equal to what Git declares.
#[derive(Debug, Parser)]
#[command(name = "driftless", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Render a Kustomize directory, byte-identical to `kubectl kustomize`.
    Kustomize(kustomize::KustomizeArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Kustomize(args)) => kustomize::run(&args),
        None => Ok(()),
    }
}
