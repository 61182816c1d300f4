//! `driftless`: the command-line interface of the Driftless GitOps engine.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod render;

/// Driftless keeps Kubernetes clusters equal to what Git declares.
#[derive(Debug, Parser)]
#[command(name = "driftless", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Print the manifests a directory or a Git repository declares.
    Render(render::RenderArgs),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Render(args) => render::run(args),
    }
}
