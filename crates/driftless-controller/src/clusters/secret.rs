//! Cluster Secrets: Secrets labelled `driftless.dev/secret-type: cluster` in the controller's
//! namespace, in Argo CD's shape (`name`, `server`, `config` JSON) or holding a kubeconfig
//! (Flux's `kubeConfig.secretRef` shape: the key `value` or `value.yaml`), read into a client
//! configuration.
//!
//! Nothing here ever formats a token, password or key: errors name the Secret and the field.

use base64::Engine;
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde::Deserialize;

use crate::credentials::{Fields, SECRET_TYPE_LABEL};

/// `driftless.dev/secret-type` of a cluster Secret.
pub const CLUSTER: &str = "cluster";

/// One cluster Secret, read.
#[derive(Clone)]
pub struct ClusterSecret {
    /// The Secret's name.
    pub secret: String,
    /// Its resource version: a connection made from another version is made again.
    pub version: String,
    /// The cluster's name (`name`, else the Secret's name).
    pub name: String,
    /// The API server's URL (`server`, or the kubeconfig's current cluster).
    pub server: String,
    /// How to connect, as a kubeconfig.
    kubeconfig: Kubeconfig,
}

impl std::fmt::Debug for ClusterSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterSecret")
            .field("secret", &self.secret)
            .field("name", &self.name)
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl ClusterSecret {
    /// The client configuration (credentials included; never logged).
    pub async fn config(&self) -> Result<kube::Config, String> {
        kube::Config::from_custom_kubeconfig(self.kubeconfig.clone(), &KubeConfigOptions::default())
            .await
            .map_err(|e| format!("cluster Secret {}: {e}", self.secret))
    }
}

/// Argo CD's `config` JSON.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ArgoConfig {
    bearer_token: Option<String>,
    username: Option<String>,
    password: Option<String>,
    #[serde(default)]
    tls_client_config: TlsClientConfig,
    aws_auth_config: Option<serde_json::Value>,
    exec_provider_config: Option<serde_json::Value>,
}

/// Argo CD's `tlsClientConfig`; the data fields are base64, as Go encodes `[]byte`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct TlsClientConfig {
    #[serde(default)]
    insecure: bool,
    server_name: Option<String>,
    ca_data: Option<String>,
    cert_data: Option<String>,
    key_data: Option<String>,
}

/// Reads `secret` if it is a cluster Secret (`None` otherwise).
///
/// # Errors
/// A one-line message naming the Secret and the field: neither `config` nor a kubeconfig, a
/// `config` that is not JSON of Argo CD's shape, a data field that is not base64, a kubeconfig
/// that does not read or names no server.
pub fn parse(secret: &Secret) -> Option<Result<ClusterSecret, String>> {
    if secret.labels().get(SECRET_TYPE_LABEL).map(String::as_str) != Some(CLUSTER) {
        return None;
    }
    let name = format!(
        "{}/{}",
        secret.namespace().unwrap_or_default(),
        secret.name_any()
    );
    Some(read(secret).map_err(|e| format!("cluster Secret {name}: {e}")))
}

fn read(secret: &Secret) -> Result<ClusterSecret, String> {
    let fields = Fields {
        data: secret.data.as_ref(),
        string_data: secret.string_data.as_ref(),
    };
    let name = fields
        .get("name")?
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| secret.name_any());
    let kubeconfig_text = match fields.get("value")? {
        Some(text) => Some(("value", text)),
        None => fields.get("value.yaml")?.map(|text| ("value.yaml", text)),
    };
    let (server, kubeconfig) = match (fields.get("config")?, kubeconfig_text) {
        (Some(config), None) => {
            let server = fields
                .get("server")?
                .filter(|s| !s.is_empty())
                .ok_or("data.server: missing (the API server's URL)")?;
            let kubeconfig = from_argo(&server, &config)?;
            (server, kubeconfig)
        }
        (None, Some((key, text))) => {
            let kubeconfig = Kubeconfig::from_yaml(&text)
                .map_err(|e| format!("data.{key}: not a kubeconfig: {e}"))?;
            let server = current_server(&kubeconfig)
                .ok_or_else(|| format!("data.{key}: the kubeconfig names no cluster server"))?;
            (server, kubeconfig)
        }
        (Some(_), Some((key, _))) => {
            return Err(format!(
                "data.config and data.{key}: both Argo CD's config and a kubeconfig; keep one"
            ));
        }
        (None, None) => {
            return Err(
                "neither data.config (Argo CD's shape) nor data.value / data.value.yaml (a kubeconfig)"
                    .to_owned(),
            );
        }
    };
    Ok(ClusterSecret {
        secret: secret.name_any(),
        version: secret.resource_version().unwrap_or_default(),
        name,
        server: server.trim_end_matches('/').to_owned(),
        kubeconfig,
    })
}

/// The kubeconfig equivalent to Argo CD's `server` and `config`.
fn from_argo(server: &str, text: &str) -> Result<Kubeconfig, String> {
    let config: ArgoConfig = serde_json::from_str(text)
        .map_err(|e| format!("data.config: not Argo CD's cluster config JSON: {e}"))?;
    if config.aws_auth_config.is_some() || config.exec_provider_config.is_some() {
        return Err(
            "data.config: awsAuthConfig and execProviderConfig are not supported; use bearerToken or a client certificate"
                .to_owned(),
        );
    }
    let tls = &config.tls_client_config;
    let base64 = |field: &str, value: &Option<String>| -> Result<Option<String>, String> {
        match value.as_deref().filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(text) => base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map(|_| Some(text.trim().to_owned()))
                .map_err(|_| format!("data.config: tlsClientConfig.{field} is not base64")),
        }
    };
    let ca = base64("caData", &tls.ca_data)?;
    let cert = base64("certData", &tls.cert_data)?;
    let key = base64("keyData", &tls.key_data)?;
    if cert.is_some() != key.is_some() {
        return Err(
            "data.config: tlsClientConfig.certData and keyData go together (a client certificate and its key)"
                .to_owned(),
        );
    }
    if config.username.is_some() != config.password.is_some() {
        return Err("data.config: username and password go together".to_owned());
    }
    if config.bearer_token.is_none() && cert.is_none() && config.username.is_none() {
        return Err(
            "data.config: no credentials (bearerToken, tlsClientConfig.certData/keyData, or username/password)"
                .to_owned(),
        );
    }
    let mut cluster = serde_json::json!({"server": server});
    if let Some(ca) = ca {
        cluster["certificate-authority-data"] = ca.into();
    }
    if tls.insecure {
        cluster["insecure-skip-tls-verify"] = true.into();
    }
    if let Some(name) = tls.server_name.as_deref().filter(|n| !n.is_empty()) {
        cluster["tls-server-name"] = name.into();
    }
    let mut user = serde_json::json!({});
    if let Some(token) = &config.bearer_token {
        user["token"] = token.as_str().into();
    }
    if let (Some(cert), Some(key)) = (cert, key) {
        user["client-certificate-data"] = cert.into();
        user["client-key-data"] = key.into();
    }
    if let (Some(username), Some(password)) = (&config.username, &config.password) {
        user["username"] = username.as_str().into();
        user["password"] = password.as_str().into();
    }
    serde_json::from_value(serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "cluster", "cluster": cluster}],
        "users": [{"name": "driftless", "user": user}],
        "contexts": [{"name": "cluster", "context": {"cluster": "cluster", "user": "driftless"}}],
        "current-context": "cluster",
    }))
    .map_err(|e| format!("data.config: {e}"))
}

/// The server of the kubeconfig's current context (else its only cluster).
fn current_server(kubeconfig: &Kubeconfig) -> Option<String> {
    let cluster_name = kubeconfig
        .current_context
        .as_ref()
        .and_then(|current| kubeconfig.contexts.iter().find(|c| &c.name == current))
        .and_then(|c| c.context.as_ref())
        .map(|c| c.cluster.clone());
    let cluster = match cluster_name {
        Some(name) => kubeconfig.clusters.iter().find(|c| c.name == name),
        None if kubeconfig.clusters.len() == 1 => kubeconfig.clusters.first(),
        None => None,
    }?;
    cluster.cluster.as_ref()?.server.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(data: serde_json::Value) -> Secret {
        let secret = serde_json::json!({
            "metadata": {"name": "prod-secret", "namespace": "driftless-system",
                "labels": {SECRET_TYPE_LABEL: CLUSTER}},
            "stringData": data,
        });
        serde_json::from_value(secret).unwrap_or_else(|e| panic!("secret: {e}"))
    }

    fn error(data: serde_json::Value) -> String {
        match parse(&secret(data)) {
            Some(Err(error)) => error,
            Some(Ok(read)) => panic!("read: {read:?}"),
            None => panic!("not a cluster Secret"),
        }
    }

    #[test]
    fn argo_cd_s_shape_reads_with_its_field_names() -> Result<(), String> {
        let read = parse(&secret(serde_json::json!({
            "name": "prod", "server": "https://prod.example:6443/",
            "config": r#"{"bearerToken": "t0ken", "tlsClientConfig": {"insecure": false, "caData": "Y2E=", "serverName": "api"}}"#,
        })))
        .ok_or("not a cluster")??;
        assert_eq!(read.name, "prod");
        assert_eq!(read.server, "https://prod.example:6443");
        let cluster = read.kubeconfig.clusters[0]
            .cluster
            .clone()
            .ok_or("no cluster")?;
        assert_eq!(cluster.certificate_authority_data.as_deref(), Some("Y2E="));
        assert_eq!(cluster.tls_server_name.as_deref(), Some("api"));
        assert!(!format!("{read:?}").contains("t0ken"), "no token in Debug");
        Ok(())
    }

    #[test]
    fn a_kubeconfig_under_value_reads_with_its_current_server() -> Result<(), String> {
        let kubeconfig = "apiVersion: v1\nkind: Config\nclusters:\n- name: a\n  cluster: {server: 'https://a:6443'}\nusers:\n- name: u\n  user: {token: x}\ncontexts:\n- name: c\n  context: {cluster: a, user: u}\ncurrent-context: c\n";
        let read = parse(&secret(serde_json::json!({"value": kubeconfig}))).ok_or("no")??;
        assert_eq!(read.name, "prod-secret", "the Secret's name without `name`");
        assert_eq!(read.server, "https://a:6443");
        Ok(())
    }

    #[test]
    fn bad_data_is_named_by_secret_and_field_without_credentials() {
        let cases = [
            (
                serde_json::json!({"server": "https://x"}),
                "neither data.config",
            ),
            (
                serde_json::json!({"config": "{\"bearerToken\": \"s3cret\"}"}),
                "data.server: missing",
            ),
            (
                serde_json::json!({"server": "https://x", "config": "{bearer"}),
                "data.config: not Argo CD's cluster config JSON",
            ),
            (
                serde_json::json!({"server": "https://x", "config": r#"{"bearerToken": "s3cret", "tlsClientConfig": {"caData": "not base64!"}}"#}),
                "tlsClientConfig.caData is not base64",
            ),
            (
                serde_json::json!({"server": "https://x", "config": "{}"}),
                "data.config: no credentials",
            ),
            (
                serde_json::json!({"value.yaml": "clusters: 5"}),
                "data.value.yaml: not a kubeconfig",
            ),
        ];
        for (data, wanted) in cases {
            let error = error(data);
            assert!(
                error.starts_with("cluster Secret driftless-system/prod-secret: "),
                "{error}"
            );
            assert!(error.contains(wanted), "{error} lacks {wanted}");
            assert!(!error.contains("s3cret"), "{error}");
        }
    }
}
