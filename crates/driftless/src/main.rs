//! `driftless`: the command-line interface of the Driftless GitOps engine.

use clap::Parser;

/// Driftless keeps Kubernetes clusters equal to what Git declares.
#[derive(Debug, Parser)]
#[command(name = "driftless", version, about)]
struct Cli {}

fn main() -> anyhow::Result<()> {
    let _cli = Cli::parse();
    Ok(())
}
