//! `driftless cluster ...`: the clusters Applications deploy to, as cluster Secrets in the
//! controller's namespace — add (from a kubeconfig context, with a ServiceAccount of its own in
//! the target, as `argocd cluster add` does), list (with connection state, version and
//! Applications), rm.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use base64::Engine;
use clap::{Args, Subcommand};
use driftless_api::Application;
use driftless_controller::{CLUSTER, SECRET_TYPE_LABEL, parse_cluster_secret};
use k8s_openapi::api::core::v1::{Namespace, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::{Client, ResourceExt};
use serde_json::json;

use crate::cluster_args::ClusterArgs;
use crate::table::Table;

/// The ServiceAccount, ClusterRole and ClusterRoleBinding `cluster add` makes in the target.
const MANAGER: &str = "driftless-manager";
/// Its token Secret.
const MANAGER_TOKEN: &str = "driftless-manager-token";
/// The field manager of what `cluster add` writes.
const FIELD_MANAGER: &str = "driftless-cli";
/// How long the target's controller-manager may take to fill the token Secret.
const TOKEN_WAIT: Duration = Duration::from_secs(60);
/// How long `cluster list` waits for each cluster's answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Operate on clusters.
#[derive(Debug, Args)]
pub struct ClusterCli {
    #[command(subcommand)]
    command: ClusterCommand,
    #[command(flatten)]
    cluster: ClusterArgs,
    /// The controller's namespace, where cluster Secrets live.
    #[arg(short = 'n', long, env = "DRIFTLESS_CONTROLLER_NAMESPACE", global = true,
          default_value = driftless_controller::DEFAULT_NAMESPACE)]
    namespace: String,
}

/// The `cluster` subcommands.
#[derive(Debug, Subcommand)]
enum ClusterCommand {
    /// Register the cluster of a kubeconfig context: a ServiceAccount with the rights Driftless
    /// needs in it, and a cluster Secret with its token in the controller's namespace.
    Add(AddArgs),
    /// List the clusters: connection state, server version, Applications.
    List,
    /// Remove a cluster Secret (by cluster name or Secret name).
    Rm(RmArgs),
}

#[derive(Debug, Args)]
struct AddArgs {
    /// The kubeconfig context of the cluster to add.
    context_name: String,
    /// The cluster's name in Driftless (`destination.name`) [default: the context's name].
    #[arg(long)]
    name: Option<String>,
    /// The target's namespace for the ServiceAccount and its token.
    #[arg(long, default_value = "kube-system")]
    system_namespace: String,
}

#[derive(Debug, Args)]
struct RmArgs {
    /// The cluster's name, or its Secret's.
    name: String,
}

/// Runs a `cluster` subcommand.
pub fn run(cli: ClusterCli) -> ExitCode {
    crate::exit::run_async(async move {
        let (client, _) = cli.cluster.connect().await?;
        let secrets: Api<Secret> = Api::namespaced(client.clone(), &cli.namespace);
        match cli.command {
            ClusterCommand::Add(args) => add(&cli.cluster, &secrets, &cli.namespace, &args).await,
            ClusterCommand::List => list(&client, &secrets, &cli.namespace).await,
            ClusterCommand::Rm(args) => rm(&secrets, &cli.namespace, &args.name).await,
        }
    })
}

/// Server-side applies `object` through `api`.
async fn apply<K>(api: &Api<K>, name: &str, object: serde_json::Value) -> anyhow::Result<K>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let params = PatchParams::apply(FIELD_MANAGER).force();
    Ok(api.patch(name, &params, &Patch::Apply(object)).await?)
}

async fn add(
    args: &ClusterArgs,
    secrets: &Api<Secret>,
    namespace: &str,
    add: &AddArgs,
) -> anyhow::Result<ExitCode> {
    let context = &add.context_name;
    let config = args.context_config(context).await?;
    let server = config
        .cluster_url
        .to_string()
        .trim_end_matches('/')
        .to_owned();
    let tls_server_name = config.tls_server_name.clone();
    let insecure = config.accept_invalid_certs;
    let target = Client::try_from(config).with_context(|| format!("a client for {context:?}"))?;
    let system = &add.system_namespace;
    let what = |step: &str| format!("{step} in the cluster of context {context:?} ({server})");

    let namespaces: Api<Namespace> = Api::all(target.clone());
    apply(
        &namespaces,
        system,
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": system}}),
    )
    .await
    .with_context(|| what(&format!("creating namespace {system}")))?;
    let accounts: Api<ServiceAccount> = Api::namespaced(target.clone(), system);
    apply(
        &accounts,
        MANAGER,
        json!({"apiVersion": "v1", "kind": "ServiceAccount",
               "metadata": {"name": MANAGER, "namespace": system}}),
    )
    .await
    .with_context(|| what(&format!("creating ServiceAccount {system}/{MANAGER}")))?;
    // What the controller does in a cluster it deploys to: discover, watch and read every kind,
    // apply, replace and delete objects, and impersonate the ServiceAccounts Applications name.
    let roles: Api<ClusterRole> = Api::all(target.clone());
    apply(
        &roles,
        MANAGER,
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": MANAGER},
               "rules": [{"apiGroups": ["*"], "resources": ["*"],
                          "verbs": ["get", "list", "watch", "create", "update", "patch", "delete", "impersonate"]}]}),
    )
    .await
    .with_context(|| what(&format!("creating ClusterRole {MANAGER}")))?;
    let bindings: Api<ClusterRoleBinding> = Api::all(target.clone());
    apply(
        &bindings,
        MANAGER,
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": MANAGER},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": MANAGER},
               "subjects": [{"kind": "ServiceAccount", "name": MANAGER, "namespace": system}]}),
    )
    .await
    .with_context(|| what(&format!("creating ClusterRoleBinding {MANAGER}")))?;
    // A long-lived token, as `argocd cluster add` makes: the controller-manager fills it in.
    let target_secrets: Api<Secret> = Api::namespaced(target.clone(), system);
    apply(
        &target_secrets,
        MANAGER_TOKEN,
        json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
               "metadata": {"name": MANAGER_TOKEN, "namespace": system,
                            "annotations": {"kubernetes.io/service-account.name": MANAGER}}}),
    )
    .await
    .with_context(|| what(&format!("creating Secret {system}/{MANAGER_TOKEN}")))?;
    let (token, ca) = filled_token(&target_secrets).await.with_context(|| {
        what(&format!(
            "waiting for the token of Secret {system}/{MANAGER_TOKEN} (is kube-controller-manager running?)"
        ))
    })?;

    let name = add.name.clone().unwrap_or_else(|| context.clone());
    let mut tls = json!({"insecure": insecure});
    if !insecure && !ca.is_empty() {
        tls["caData"] = base64::engine::general_purpose::STANDARD.encode(&ca).into();
    }
    if let Some(server_name) = tls_server_name {
        tls["serverName"] = server_name.into();
    }
    let config = json!({"bearerToken": token, "tlsClientConfig": tls});
    let secret_name = secret_name(&name);
    apply(
        secrets,
        &secret_name,
        json!({"apiVersion": "v1", "kind": "Secret",
               "metadata": {"name": secret_name, "namespace": namespace,
                            "labels": {SECRET_TYPE_LABEL: CLUSTER}},
               "stringData": {"name": name, "server": server, "config": config.to_string()}}),
    )
    .await
    .with_context(|| format!("writing cluster Secret {namespace}/{secret_name}"))?;
    println!(
        "cluster {name:?} ({server}) added: ServiceAccount {system}/{MANAGER} in it, Secret {namespace}/{secret_name}"
    );
    Ok(ExitCode::SUCCESS)
}

/// The token and CA certificate of the token Secret, once the controller-manager filled it.
async fn filled_token(secrets: &Api<Secret>) -> anyhow::Result<(String, Vec<u8>)> {
    let deadline = tokio::time::Instant::now() + TOKEN_WAIT;
    loop {
        let secret = secrets.get(MANAGER_TOKEN).await?;
        let data = secret.data.unwrap_or_default();
        if let Some(token) = data.get("token").filter(|t| !t.0.is_empty()) {
            let token = String::from_utf8(token.0.clone()).context("the token is not UTF-8")?;
            let ca = data.get("ca.crt").map(|c| c.0.clone()).unwrap_or_default();
            return Ok((token, ca));
        }
        if tokio::time::Instant::now() > deadline {
            bail!("not filled in within {}s", TOKEN_WAIT.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The cluster Secret's name for cluster `name`: `cluster-` and the name made DNS-safe.
fn secret_name(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let safe = safe.trim_matches('-');
    let mut secret = format!("cluster-{safe}");
    secret.truncate(253);
    secret
}

async fn cluster_secrets(secrets: &Api<Secret>, namespace: &str) -> anyhow::Result<Vec<Secret>> {
    let selector = format!("{SECRET_TYPE_LABEL}={CLUSTER}");
    let mut list = secrets
        .list(&ListParams::default().labels(&selector))
        .await
        .with_context(|| format!("listing cluster Secrets in namespace {namespace}"))?;
    list.items.sort_by_key(ResourceExt::name_any);
    Ok(list.items)
}

async fn list(client: &Client, secrets: &Api<Secret>, namespace: &str) -> anyhow::Result<ExitCode> {
    let applications = Api::<Application>::all(client.clone())
        .list(&ListParams::default())
        .await
        .context("listing Applications")?
        .items;
    let count = |name: &str, server: &str| {
        applications
            .iter()
            .filter(|app| destination_is(app, name, server))
            .count()
            .to_string()
    };
    let mut table = Table::new(["NAME", "SERVER", "STATE", "VERSION", "APPS", "SECRET"]);
    let (state, version) = probe(client).await;
    table.row([
        "in-cluster".to_owned(),
        "https://kubernetes.default.svc".to_owned(),
        state,
        version,
        count("in-cluster", "https://kubernetes.default.svc"),
        "-".to_owned(),
    ]);
    for secret in cluster_secrets(secrets, namespace).await? {
        let Some(read) = parse_cluster_secret(&secret) else {
            continue;
        };
        let row = match read {
            Ok(cluster) => {
                let (state, version) = match cluster.config().await {
                    Ok(mut config) => {
                        config.connect_timeout = Some(PROBE_TIMEOUT);
                        match Client::try_from(config) {
                            Ok(client) => probe(&client).await,
                            Err(error) => (format!("Failed: {error}"), "-".to_owned()),
                        }
                    }
                    Err(error) => (format!("Failed: {error}"), "-".to_owned()),
                };
                [
                    cluster.name.clone(),
                    cluster.server.clone(),
                    state,
                    version,
                    count(&cluster.name, &cluster.server),
                    cluster.secret.clone(),
                ]
            }
            Err(error) => [
                "-".to_owned(),
                "-".to_owned(),
                format!("Invalid: {error}"),
                "-".to_owned(),
                "-".to_owned(),
                secret.name_any(),
            ],
        };
        table.row(row);
    }
    print!("{}", table.render());
    Ok(ExitCode::SUCCESS)
}

/// Whether `app` deploys to the cluster `name` at `server` (as the controller resolves it:
/// an empty destination is in-cluster).
fn destination_is(app: &Application, name: &str, server: &str) -> bool {
    let d = &app.spec.destination;
    let app_server = d
        .server
        .as_deref()
        .unwrap_or_default()
        .trim_end_matches('/');
    let app_name = d.name.as_deref().unwrap_or_default();
    let local = name == "in-cluster";
    match (app_name.is_empty(), app_server.is_empty()) {
        (false, _) => app_name == name,
        (true, false) => {
            app_server == server || (local && app_server == "https://kubernetes.default.svc:443")
        }
        (true, true) => local,
    }
}

/// `Connected` or `Failed: <error>`, and the server's version, from `/version`.
async fn probe(client: &Client) -> (String, String) {
    match tokio::time::timeout(PROBE_TIMEOUT, client.apiserver_version()).await {
        Ok(Ok(info)) => ("Connected".to_owned(), info.git_version),
        Ok(Err(error)) => (format!("Failed: {error}"), "-".to_owned()),
        Err(_) => (
            format!("Failed: no answer within {}s", PROBE_TIMEOUT.as_secs()),
            "-".to_owned(),
        ),
    }
}

async fn rm(secrets: &Api<Secret>, namespace: &str, name: &str) -> anyhow::Result<ExitCode> {
    let found: Vec<Secret> = cluster_secrets(secrets, namespace)
        .await?
        .into_iter()
        .filter(|secret| {
            secret.name_any() == name
                || matches!(parse_cluster_secret(secret), Some(Ok(c)) if c.name == name)
        })
        .collect();
    let [secret] = found.as_slice() else {
        if found.is_empty() {
            bail!(
                "no cluster {name:?}: no Secret labelled {SECRET_TYPE_LABEL}={CLUSTER} in namespace {namespace} has that name"
            );
        }
        bail!(
            "{} cluster Secrets match {name:?} in namespace {namespace}; remove one by its Secret name",
            found.len()
        );
    };
    secrets
        .delete(&secret.name_any(), &DeleteParams::default())
        .await
        .with_context(|| format!("deleting Secret {namespace}/{}", secret.name_any()))?;
    println!(
        "cluster {name:?} removed (Secret {namespace}/{}); its Applications are InvalidSpec until it is added again",
        secret.name_any()
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_are_dns_safe() {
        assert_eq!(secret_name("kind-Prod.EU"), "cluster-kind-prod-eu");
        assert_eq!(secret_name("_east_"), "cluster-east");
    }
}
