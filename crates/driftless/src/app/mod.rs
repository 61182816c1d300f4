//! `driftless app ...`: operations on `Application` resources (`driftless.dev/v1alpha1`) —
//! list, inspect, history, request a sync or a rollback, and diff against Git.
//!
//! Syncs and rollbacks are requests: the CLI writes the `driftless.dev/sync-request` annotation
//! and the controller answers in `status.operationState` (see `driftless_api::SyncRequest`).

use std::process::ExitCode;

use clap::{Args, Subcommand};
use driftless_api::Application;
use kube::Api;

use crate::cluster_args::ClusterArgs;

mod before;
mod diff;
mod get;
mod history;
mod list;
pub(crate) mod output;
mod rollback;
mod summary;
mod sync;
mod wait;
mod when;

/// Operate on Applications.
#[derive(Debug, Args)]
pub struct AppCli {
    #[command(subcommand)]
    command: AppCommand,
    #[command(flatten)]
    target: Target,
}

/// Where the Applications are: the cluster and the namespace.
#[derive(Debug, Args)]
struct Target {
    #[command(flatten)]
    cluster: ClusterArgs,
    /// Namespace of the Application [default: the kubeconfig context's, else `default`].
    #[arg(short = 'n', long, env = "DRIFTLESS_NAMESPACE", global = true)]
    namespace: Option<String>,
}

/// The `app` subcommands.
#[derive(Debug, Subcommand)]
enum AppCommand {
    /// List Applications with their sync state, health and revision.
    List(list::ListArgs),
    /// Show one Application: source, destination, policy, conditions, resources, last operation.
    Get(get::GetArgs),
    /// Show the syncs an Application has deployed, newest last.
    History(history::HistoryArgs),
    /// Ask the controller to sync now, and wait for the result (exit 0 succeeded, 2 failed,
    /// error or timeout).
    Sync(sync::SyncArgs),
    /// Sync to the commit of a history entry and suspend automated sync.
    Rollback(rollback::RollbackArgs),
    /// Resume automated sync after a rollback (sets `spec.suspend` to false).
    Resume(rollback::ResumeArgs),
    /// Show how the cluster differs from the Application's source (exit 0 in sync, 1 differs,
    /// 2 error).
    Diff(diff::DiffArgs),
}

/// Runs an `app` subcommand.
pub fn run(cli: AppCli) -> ExitCode {
    crate::exit::run_async(async move {
        let (client, context_namespace) = cli.target.cluster.connect().await?;
        let namespace = cli.target.namespace.clone().unwrap_or(context_namespace);
        let apps = Apps { client, namespace };
        match cli.command {
            AppCommand::List(args) => list::run(&apps, &args).await,
            AppCommand::Get(args) => get::run(&apps, &args).await,
            AppCommand::History(args) => history::run(&apps, &args).await,
            AppCommand::Sync(args) => sync::run(&apps, &args).await,
            AppCommand::Rollback(args) => rollback::run(&apps, &args).await,
            AppCommand::Resume(args) => rollback::resume(&apps, &args).await,
            AppCommand::Diff(args) => diff::run(&apps, &args).await,
        }
    })
}

/// The cluster and the namespace the commands act in.
struct Apps {
    client: kube::Client,
    namespace: String,
}

impl Apps {
    /// The Applications of the namespace.
    fn api(&self) -> Api<Application> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// `namespace/name`, as errors and messages name an Application.
    fn display(&self, name: &str) -> String {
        format!("{}/{name}", self.namespace)
    }

    /// Reads one Application; a missing one is the one-line `application NS/NAME not found`.
    async fn get(&self, name: &str) -> anyhow::Result<Application> {
        self.api()
            .get(name)
            .await
            .map_err(|error| self.error(name, error))
    }

    /// A Kubernetes error about one Application, as one line naming it.
    fn error(&self, name: &str, error: kube::Error) -> anyhow::Error {
        match error {
            kube::Error::Api(status) if status.code == 404 => {
                anyhow::anyhow!("application {} not found", self.display(name))
            }
            other => {
                anyhow::Error::new(other).context(format!("application {}", self.display(name)))
            }
        }
    }
}
