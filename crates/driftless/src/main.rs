//! `driftless`: the command-line interface of the Driftless GitOps engine.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod app;
mod app_args;
mod cluster;
mod cluster_args;
mod controller;
mod crd;
mod diff;
mod exit;
mod helm;
mod import;
mod input;
mod keys;
mod kustomize;
mod proj;
mod remote;
mod render;
mod seal;
mod secret;
mod sync;
mod table;
mod trace;

/// Driftless keeps Kubernetes clusters equal to what Git declares.
///
/// Exit codes, as `kubectl diff`: 0 success, 1 differences found (diff commands only), 2 error.
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
    /// Show how the cluster differs from the manifests (exit 0 in sync, 1 differences, 2 error).
    Diff(diff::DiffArgs),
    /// Apply the manifests wave by wave with server-side apply; prune with --prune.
    Sync(sync::SyncArgs),
    /// Render a Kustomize directory, byte-identical to `kubectl kustomize`.
    Kustomize(kustomize::KustomizeArgs),
    /// Render a Helm chart directory as `helm template` does.
    Helm(helm::HelmCli),
    /// Keep every Application equal to Git (runs until interrupted).
    Controller(controller::ControllerArgs),
    /// Print the CustomResourceDefinitions (Application, AppProject).
    Crd,
    /// Operate on Applications: list, get, history, sync, rollback, resume, diff.
    App(app::AppCli),
    /// Operate on AppProjects: list, get, create, windows.
    Proj(proj::ProjCli),
    /// Operate on clusters: add (from a kubeconfig context), list, rm.
    Cluster(cluster::ClusterCli),
    /// Trace a live object (or one field) to its Application, file, line, commit and sync.
    Trace(trace::TraceArgs),
    /// SOPS files without sops: encrypt (with .sops.yaml creation rules), decrypt, keygen.
    Secret(secret::SecretCli),
    /// Seal a Secret manifest into a SealedSecret for the sealed-secrets controller (as kubeseal).
    Seal(seal::SealArgs),
    /// Convert Argo CD and Flux objects into Driftless ones; --adopt takes over what they manage.
    Import(import::ImportArgs),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Render(args) => render::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Sync(args) => sync::run(args),
        Command::Kustomize(args) => exit::finish(kustomize::run(&args)),
        Command::Helm(args) => exit::finish(helm::run(&args)),
        Command::Controller(args) => controller::run_command(args),
        Command::Crd => crd::run(),
        Command::App(args) => app::run(args),
        Command::Proj(args) => proj::run(args),
        Command::Cluster(args) => cluster::run(args),
        Command::Trace(args) => trace::run(args),
        Command::Import(args) => import::run(args),
        Command::Secret(args) => secret::run(args),
        Command::Seal(args) => seal::run(args),
    }
}
