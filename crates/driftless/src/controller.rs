//! `driftless controller`: keeps every Application of the cluster equal to Git.
//!
//! Start-up order: the HTTP server first (so `/healthz` answers while this replica waits), then
//! leadership (with `--leader-elect`), then discovery and the watches, then reconciliation.
//! Losing leadership ends the process with an error, so its supervisor restarts it as a
//! follower; Ctrl-C or SIGTERM releases the lease for a successor.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};

use anyhow::Context as _;
use clap::Args;
use driftless_controller::workers::{Bounds, Workers};
use driftless_controller::{Context, Leadership, LeaseConfig, Metrics, run};
use driftless_server::{ServerState, WebhookSecrets};
use prometheus_client::registry::Registry;

use crate::cluster_args::ClusterArgs;

/// Run the controller until interrupted (in-cluster, or against --kubeconfig).
#[derive(Debug, Args)]
pub struct ControllerArgs {
    #[command(flatten)]
    cluster: ClusterArgs,
    /// Directory of the Git mirror cache [default: $XDG_CACHE_HOME/driftless/git or ~/.cache/driftless/git].
    #[arg(long, env = "DRIFTLESS_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    /// Address of the HTTP server: /healthz, /readyz, /metrics, /api/webhook.
    #[arg(long, env = "DRIFTLESS_LISTEN", default_value = "0.0.0.0:8080")]
    listen: SocketAddr,
    #[command(flatten)]
    secrets: SecretArgs,
    /// Take part in leader election on a Lease; only the leader reconciles.
    #[arg(long, env = "DRIFTLESS_LEADER_ELECT")]
    leader_elect: bool,
    /// The controller's namespace, where its AppProjects live [default: $POD_NAMESPACE, else driftless-system].
    #[arg(long, env = "DRIFTLESS_CONTROLLER_NAMESPACE")]
    namespace: Option<String>,
    /// Namespace of the leader election Lease [default: the controller's namespace].
    #[arg(long, env = "DRIFTLESS_LEASE_NAMESPACE")]
    lease_namespace: Option<String>,
    /// Name of the leader election Lease.
    #[arg(long, env = "DRIFTLESS_LEASE_NAME", default_value = driftless_controller::DEFAULT_LEASE_NAME)]
    lease_name: String,
    /// Never apply with the controller's own rights: an Application must name a ServiceAccount
    /// (spec.serviceAccountName, or its project's destinationServiceAccounts).
    #[arg(long, env = "DRIFTLESS_IMPERSONATE_ONLY")]
    impersonate_only: bool,
    /// How many Applications are reconciled at once at start; the number then follows the API
    /// server (more while it answers fast and work waits, fewer when it throttles or slows),
    /// between --min-concurrency and --max-concurrency.
    #[arg(long, env = "DRIFTLESS_CONCURRENCY", default_value_t = driftless_controller::DEFAULT_CONCURRENCY,
          value_parser = clap::value_parser!(u16).range(1..))]
    concurrency: u16,
    /// The fewest Applications reconciled at once, however slow the API server.
    #[arg(long, env = "DRIFTLESS_MIN_CONCURRENCY", default_value_t = 4,
          value_parser = clap::value_parser!(u16).range(1..))]
    min_concurrency: u16,
    /// The most Applications reconciled at once, however fast the API server (equal to
    /// --min-concurrency: a fixed number).
    #[arg(long, env = "DRIFTLESS_MAX_CONCURRENCY", default_value_t = 64,
          value_parser = clap::value_parser!(u16).range(1..))]
    max_concurrency: u16,
    /// The Secret (NAMESPACE/NAME, or NAME in the controller's namespace) whose `.agekey` keys
    /// decrypt the SOPS files of Applications without spec.decryption.secretRef.
    #[arg(
        long,
        env = "DRIFTLESS_DECRYPTION_SECRET",
        value_name = "[NAMESPACE/]NAME"
    )]
    decryption_secret: Option<String>,
}

/// Webhook secrets: one per provider, or one shared by all. A provider with none is refused.
#[derive(Args)]
struct SecretArgs {
    /// Secret of every webhook provider that has none of its own.
    #[arg(long, env = "DRIFTLESS_WEBHOOK_SECRET", hide_env_values = true)]
    webhook_secret: Option<String>,
    /// GitHub webhook secret (HMAC-SHA256, X-Hub-Signature-256).
    #[arg(long, env = "DRIFTLESS_WEBHOOK_GITHUB_SECRET", hide_env_values = true)]
    webhook_github_secret: Option<String>,
    /// GitLab webhook token (X-Gitlab-Token).
    #[arg(long, env = "DRIFTLESS_WEBHOOK_GITLAB_SECRET", hide_env_values = true)]
    webhook_gitlab_secret: Option<String>,
    /// Gitea webhook secret (HMAC-SHA256, X-Gitea-Signature).
    #[arg(long, env = "DRIFTLESS_WEBHOOK_GITEA_SECRET", hide_env_values = true)]
    webhook_gitea_secret: Option<String>,
}

impl std::fmt::Debug for SecretArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets never reach logs or error messages.
        f.debug_struct("SecretArgs").finish_non_exhaustive()
    }
}

/// Runs the command.
pub fn run_command(args: ControllerArgs) -> ExitCode {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    crate::exit::run_async(async move { controller(args).await })
}

async fn controller(args: ControllerArgs) -> anyhow::Result<ExitCode> {
    let config = args.cluster.config().await?;
    let bounds = Bounds::new(args.min_concurrency, args.concurrency, args.max_concurrency)
        .map_err(|e| anyhow::anyhow!("--min-concurrency/--max-concurrency: {e}"))?;
    let workers = Workers::new(bounds);
    // Every API request of the controller is timed, so the number of workers follows the API
    // server.
    let client = kube::client::ClientBuilder::try_from(config.clone())?
        .with_layer(&workers.probe())
        .build();
    let cache = match args.cache_dir {
        Some(dir) => dir,
        None => crate::input::default_cache_dir()?,
    };
    let mut registry = Registry::default();
    let metrics = Metrics::new(&mut registry);
    // Filled once this replica leads and has discovered the cluster; until then webhooks are
    // accepted and dropped (the leader fetches everything when it starts) and /readyz says no.
    let context: Arc<OnceLock<Arc<Context>>> = Arc::new(OnceLock::new());
    let state = ServerState {
        registry: Arc::new(registry),
        ready: {
            let context = context.clone();
            Arc::new(move || context.get().is_some_and(|c| c.ready()))
        },
        secrets: WebhookSecrets {
            github: args.secrets.webhook_github_secret,
            gitlab: args.secrets.webhook_gitlab_secret,
            gitea: args.secrets.webhook_gitea_secret,
            shared: args.secrets.webhook_secret,
        },
        guard: Arc::new(driftless_server::Guard::default()),
        on_push: {
            let context = context.clone();
            Arc::new(move |push| {
                let Some(context) = context.get() else {
                    return;
                };
                let mut woken = 0;
                for url in &push.repository_urls {
                    woken += context.refresh_repository(url);
                }
                tracing::info!(git_ref = %push.git_ref, applications = woken, "webhook: refreshing");
            })
        },
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let server_stop = wait_for(stop_rx.clone());
    let server = tokio::spawn(driftless_server::serve(listener, state, server_stop));

    let home = args
        .namespace
        .or_else(|| std::env::var("POD_NAMESPACE").ok())
        .unwrap_or_else(|| driftless_controller::DEFAULT_NAMESPACE.to_owned());
    let leadership = if args.leader_elect {
        let namespace = args.lease_namespace.unwrap_or_else(|| home.clone());
        let config = LeaseConfig::new(
            namespace,
            args.lease_name,
            driftless_controller::default_identity(),
        );
        eprintln!(
            "driftless controller: waiting to lead (lease {}/{}, identity {})",
            config.namespace, config.name, config.identity
        );
        let leading = tokio::select! {
            leading = Leadership::acquire(client.clone(), config) => leading?,
            _ = tokio::signal::ctrl_c() => return Ok(ExitCode::SUCCESS),
        };
        eprintln!("driftless controller: leading");
        Some(leading)
    } else {
        None
    };

    let mut built = Context::new(client, cache, std::env::var("POD_NAME").ok(), metrics)
        .await
        .context("reading the cluster's kinds")?;
    built.workers = workers;
    built.namespace = home;
    built.impersonation = Some(config);
    built.impersonate_only = args.impersonate_only;
    built.decryption_secret = args
        .decryption_secret
        .as_deref()
        .map(|text| decryption_secret(text, &built.namespace))
        .transpose()?;
    let built = Arc::new(built);
    let _ = context.set(built.clone());
    eprintln!("driftless controller: watching Applications; Ctrl-C stops it");

    let (why_tx, mut why_rx) = tokio::sync::mpsc::unbounded_channel::<bool>();
    let interrupted = why_tx.clone();
    tokio::spawn(async move {
        let _ = terminated().await;
        let _ = interrupted.send(false);
    });
    if let Some(leadership) = &leadership {
        let lost = why_tx.clone();
        let watch = leadership.watch();
        tokio::spawn(async move {
            let mut watch = watch;
            while *watch.borrow() {
                if watch.changed().await.is_err() {
                    break;
                }
            }
            let _ = lost.send(true);
        });
    }
    let (reconcile_stop_tx, reconcile_stop_rx) = tokio::sync::watch::channel(false);
    let controller = tokio::spawn(run(built, wait_for(reconcile_stop_rx)));
    let lost = why_rx.recv().await.unwrap_or(false);
    let _ = reconcile_stop_tx.send(true);
    if lost {
        // Another replica may be acting already: stop at once, without waiting for work.
        eprintln!("driftless controller: leadership lost; exiting");
        let _ = stop_tx.send(true);
        return Ok(ExitCode::from(crate::exit::ERROR));
    }
    let _ = controller.await;
    if let Some(leadership) = leadership {
        leadership
            .release()
            .await
            .context("releasing the leader lease")?;
    }
    let _ = stop_tx.send(true);
    let _ = server.await;
    Ok(ExitCode::SUCCESS)
}

/// Completes on Ctrl-C or SIGTERM (what Kubernetes sends).
async fn terminated() -> std::io::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result,
        _ = term.recv() => Ok(()),
    }
}

/// Completes when the flag turns true (or its sender is gone).
async fn wait_for(mut flag: tokio::sync::watch::Receiver<bool>) {
    while !*flag.borrow() {
        if flag.changed().await.is_err() {
            return;
        }
    }
}

/// `--decryption-secret`: `NAMESPACE/NAME`, or `NAME` in the controller's namespace.
fn decryption_secret(text: &str, home: &str) -> anyhow::Result<(String, String)> {
    let (namespace, name) = text.split_once('/').unwrap_or((home, text));
    anyhow::ensure!(
        !namespace.is_empty() && !name.is_empty() && !name.contains('/'),
        "--decryption-secret {text:?}: expected NAMESPACE/NAME or NAME"
    );
    Ok((namespace.to_owned(), name.to_owned()))
}
