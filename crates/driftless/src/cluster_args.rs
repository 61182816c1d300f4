//! Reaching the cluster: `--kubeconfig` / `KUBECONFIG`, `--context`, as kubectl does.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

/// Which cluster to talk to.
#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// Kubeconfig file [default: $KUBECONFIG, then ~/.kube/config, then in-cluster].
    #[arg(long, env = "KUBECONFIG", global = true)]
    kubeconfig: Option<PathBuf>,
    /// Kubeconfig context [default: the current context].
    #[arg(long, env = "DRIFTLESS_CONTEXT", global = true)]
    context: Option<String>,
}

impl ClusterArgs {
    /// A client, and the namespace of the chosen context (`default` when it names none).
    pub async fn connect(&self) -> anyhow::Result<(Client, String)> {
        let config = self.config().await?;
        let namespace = config.default_namespace.clone();
        Ok((Client::try_from(config)?, namespace))
    }

    /// The client configuration of the chosen cluster and context.
    pub async fn config(&self) -> anyhow::Result<Config> {
        self.config_of(self.context.clone()).await
    }

    /// The client configuration of context `context` of the same kubeconfig.
    pub async fn context_config(&self, context: &str) -> anyhow::Result<Config> {
        self.config_of(Some(context.to_owned()))
            .await
            .with_context(|| format!("kubeconfig context {context:?}"))
    }

    async fn config_of(&self, context: Option<String>) -> anyhow::Result<Config> {
        let options = KubeConfigOptions {
            context: context.clone(),
            ..KubeConfigOptions::default()
        };
        let config = match &self.kubeconfig {
            Some(path) => {
                let kubeconfig = Kubeconfig::read_from(path)
                    .with_context(|| format!("reading kubeconfig {}", path.display()))?;
                Config::from_custom_kubeconfig(kubeconfig, &options).await?
            }
            None if context.is_some() => Config::from_kubeconfig(&options).await?,
            None => Config::infer()
                .await
                .context("finding a cluster (set KUBECONFIG or --kubeconfig)")?,
        };
        Ok(config)
    }
}
