//! `driftless seal`: a Secret manifest into a SealedSecret that the sealed-secrets controller
//! unseals, as `kubeseal` makes it (strict, namespace-wide or cluster-wide scope), for the
//! controller's certificate from a file or fetched from its Service through the API server.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use clap::Args;
use driftless_sealed::{PublicKey, Scope, SealOptions};

use crate::cluster_args::ClusterArgs;

/// `driftless seal`.
#[derive(Debug, Args)]
pub struct SealArgs {
    /// The Secret manifest (YAML or JSON, one or more documents) [default: standard input].
    file: Option<PathBuf>,
    /// The controller's certificate (PEM), as `kubeseal --fetch-cert` prints it
    /// [default: fetched from the controller's Service through the API server (not yet tested
    /// against a real controller)].
    #[arg(long, env = "SEALED_SECRETS_CERT")]
    cert: Option<PathBuf>,
    /// strict (the default: same name and namespace), namespace-wide or cluster-wide; replaces
    /// the scope the Secret's annotations ask for.
    #[arg(long)]
    scope: Option<Scope>,
    /// Seal for this name instead of the Secret's.
    #[arg(long)]
    name: Option<String>,
    /// Seal for this namespace instead of the Secret's [a Secret without one: the kubeconfig
    /// context's].
    #[arg(short, long)]
    namespace: Option<String>,
    /// Seal a Secret that has no data.
    #[arg(long)]
    allow_empty_data: bool,
    /// The controller's Service's namespace (for fetching the certificate).
    #[arg(
        long,
        default_value = "kube-system",
        env = "SEALED_SECRETS_CONTROLLER_NAMESPACE"
    )]
    controller_namespace: String,
    /// The controller's Service's name (for fetching the certificate).
    #[arg(
        long,
        default_value = "sealed-secrets-controller",
        env = "SEALED_SECRETS_CONTROLLER_NAME"
    )]
    controller_name: String,
    /// Print JSON instead of YAML.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    cluster: ClusterArgs,
}

/// Runs `driftless seal`.
pub fn run(args: SealArgs) -> ExitCode {
    crate::exit::run_async(async move {
        seal(args).await?;
        Ok(ExitCode::SUCCESS)
    })
}

async fn seal(args: SealArgs) -> anyhow::Result<()> {
    let (source, bytes) = match &args.file {
        Some(path) => (
            path.display().to_string(),
            std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
        ),
        None => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .context("reading standard input")?;
            ("<stdin>".to_string(), bytes)
        }
    };
    let manifests =
        driftless_resource::parse_manifests(&source, &bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
    if manifests.is_empty() {
        bail!("{source}: no Secret to seal");
    }
    let needs_namespace = args.namespace.is_none()
        && manifests.iter().any(|m| {
            m.object()
                .pointer("/metadata/namespace")
                .and_then(serde_json::Value::as_str)
                .is_none_or(str::is_empty)
        });
    let (pem, default_namespace) = match &args.cert {
        Some(path) => {
            let pem = std::fs::read(path)
                .with_context(|| format!("reading the certificate {}", path.display()))?;
            let namespace = if needs_namespace {
                args.cluster.connect().await.ok().map(|(_, ns)| ns)
            } else {
                None
            };
            (pem, namespace)
        }
        None => {
            let (client, namespace) = args.cluster.connect().await?;
            let pem = fetch_certificate(&client, &args.controller_namespace, &args.controller_name)
                .await?;
            (pem, Some(namespace))
        }
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let key = PublicKey::from_pem(&pem, now).map_err(|e| match &args.cert {
        Some(path) => anyhow::anyhow!("{}: {e}", path.display()),
        None => anyhow::anyhow!(
            "Service {}/{}: {e}",
            args.controller_namespace,
            args.controller_name
        ),
    })?;
    let options = SealOptions {
        scope: args.scope,
        name: args.name.clone(),
        namespace: args.namespace.clone(),
        default_namespace,
        allow_empty_data: args.allow_empty_data,
    };
    let mut out = String::new();
    for (index, manifest) in manifests.iter().enumerate() {
        let sealed = driftless_sealed::seal(manifest.object(), &key, &options)
            .map_err(|e| anyhow::anyhow!("{source}: document {}: {e}", index + 1))?;
        if args.json {
            out.push_str(&serde_json::to_string_pretty(&sealed)?);
            out.push('\n');
        } else {
            out.push_str("---\n");
            out.push_str(&serde_saphyr::to_string(&sealed)?);
        }
    }
    std::io::stdout()
        .write_all(out.as_bytes())
        .context("writing the SealedSecret")?;
    Ok(())
}

/// The controller's certificate, as `kubeseal` fetches it: the first port of Service
/// `namespace/name`, then `GET /v1/cert.pem` on it through the API server's service proxy.
async fn fetch_certificate(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> anyhow::Result<Vec<u8>> {
    let services: kube::Api<k8s_openapi::api::core::v1::Service> =
        kube::Api::namespaced(client.clone(), namespace);
    let service = services.get(name).await.with_context(|| {
        format!(
            "Service {namespace}/{name} of the sealed-secrets controller (give --controller-namespace and --controller-name, or --cert)"
        )
    })?;
    let port = service
        .spec
        .and_then(|s| s.ports)
        .and_then(|p| p.into_iter().next())
        .ok_or_else(|| anyhow::anyhow!("Service {namespace}/{name} has no port"))?;
    let port = port.name.unwrap_or_else(|| port.port.to_string());
    let path =
        format!("/api/v1/namespaces/{namespace}/services/http:{name}:{port}/proxy/v1/cert.pem");
    let request = http::Request::get(path)
        .body(Vec::new())
        .context("building the certificate request")?;
    let text = client.request_text(request).await.with_context(|| {
        format!("fetching the certificate from Service {namespace}/{name} through the API server")
    })?;
    Ok(text.into_bytes())
}
