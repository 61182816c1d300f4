//! Which cluster an Application's `spec.destination` names: the one the controller runs in
//! (no server and no name, `in-cluster`, `https://kubernetes.default.svc`), or the cluster
//! Secret whose `name` or `server` it gives.

use std::sync::Arc;

use driftless_api::Application;
use k8s_openapi::api::core::v1::Secret;

use super::secret::{CLUSTER, ClusterSecret, parse};
use crate::credentials::SECRET_TYPE_LABEL;
use crate::local::{IN_CLUSTER_NAME, IN_CLUSTER_SERVER, LOCAL_SERVERS};

/// Why a destination names no usable cluster: the field, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unresolved {
    /// `spec.destination`, `spec.destination.name` or `spec.destination.server`.
    pub field: String,
    /// What is wrong, naming the Secret when one is at fault.
    pub message: String,
}

/// The cluster of a destination.
#[derive(Debug, Clone, Default)]
pub(crate) enum ClusterRef {
    /// The cluster the controller runs in.
    #[default]
    Local,
    /// The cluster of a cluster Secret.
    Remote(Arc<ClusterSecret>),
}

impl ClusterRef {
    /// The cluster's name (`in-cluster` for the local one).
    pub fn name(&self) -> &str {
        match self {
            Self::Local => IN_CLUSTER_NAME,
            Self::Remote(secret) => &secret.name,
        }
    }

    /// The cluster's API server (`https://kubernetes.default.svc` for the local one).
    pub fn server(&self) -> &str {
        match self {
            Self::Local => IN_CLUSTER_SERVER,
            Self::Remote(secret) => &secret.server,
        }
    }
}

/// The cluster `app`'s destination names, among the cluster Secrets in `secrets` (the
/// controller's namespace `namespace`).
///
/// # Errors
/// Both `server` and `name`, a name or server no cluster Secret has, two Secrets for it, or the
/// matching Secret's bad data: the field, and the Secret.
pub(crate) fn resolve(
    app: &Application,
    secrets: &[Arc<Secret>],
    namespace: &str,
) -> Result<ClusterRef, Unresolved> {
    let destination = &app.spec.destination;
    let server = destination
        .server
        .as_deref()
        .map(|s| s.trim_end_matches('/'))
        .filter(|s| !s.is_empty());
    let name = destination.name.as_deref().filter(|n| !n.is_empty());
    let (field, wanted, by_name) = match (server, name) {
        (None, None) => return Ok(ClusterRef::Local),
        (Some(_), Some(_)) => {
            return Err(invalid(
                "spec.destination",
                "both server and name are set; set one of them",
            ));
        }
        (Some(server), None) if LOCAL_SERVERS.contains(&server) => return Ok(ClusterRef::Local),
        (None, Some(IN_CLUSTER_NAME)) => return Ok(ClusterRef::Local),
        (Some(server), None) => ("spec.destination.server", server, false),
        (None, Some(name)) => ("spec.destination.name", name, true),
    };
    let clusters: Vec<&Arc<Secret>> = secrets
        .iter()
        .filter(|s| {
            use kube::ResourceExt;
            s.labels().get(SECRET_TYPE_LABEL).map(String::as_str) == Some(CLUSTER)
        })
        .collect();
    let mut found: Vec<Result<ClusterSecret, String>> = Vec::new();
    for secret in clusters {
        let Some(read) = parse(secret) else { continue };
        let matches = match (&read, by_name) {
            (Ok(read), true) => read.name == wanted,
            (Ok(read), false) => read.server == wanted,
            // A Secret that does not read matches when its name (or server) field does, so
            // its error is the one given.
            (Err(_), true) => identity(secret, "name").as_deref() == Some(wanted),
            (Err(_), false) => {
                identity(secret, "server")
                    .as_deref()
                    .map(|s| s.trim_end_matches('/'))
                    == Some(wanted)
            }
        };
        if matches {
            found.push(read);
        }
    }
    let what = if by_name { "named" } else { "with server" };
    match found.len() {
        0 => Err(invalid(
            field,
            format!(
                "no cluster {what} {wanted:?}: no Secret labelled {SECRET_TYPE_LABEL}={CLUSTER} in namespace {namespace:?} has it; nothing is applied"
            ),
        )),
        1 => match found.pop() {
            Some(Ok(read)) => Ok(ClusterRef::Remote(Arc::new(read))),
            Some(Err(error)) => Err(invalid(field, format!("{error}; nothing is applied"))),
            None => Err(invalid(field, "no cluster")),
        },
        n => {
            let names: Vec<String> = found
                .iter()
                .map(|f| match f {
                    Ok(read) => read.secret.clone(),
                    Err(error) => error.clone(),
                })
                .collect();
            Err(invalid(
                field,
                format!(
                    "{n} cluster Secrets {what} {wanted:?} in namespace {namespace:?} ({}); keep one",
                    names.join(", ")
                ),
            ))
        }
    }
}

/// The Secret's `name` (else its own name) or `server`, read as plainly as possible.
fn identity(secret: &Secret, key: &str) -> Option<String> {
    use kube::ResourceExt;
    let fields = crate::credentials::Fields {
        data: secret.data.as_ref(),
        string_data: secret.string_data.as_ref(),
    };
    match fields.get(key).ok().flatten() {
        Some(value) => Some(value),
        None if key == "name" => Some(secret.name_any()),
        None => None,
    }
}

fn invalid(field: &str, message: impl Into<String>) -> Unresolved {
    Unresolved {
        field: field.to_owned(),
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(destination: serde_json::Value) -> Application {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "driftless.dev/v1alpha1", "kind": "Application",
            "metadata": {"name": "web", "namespace": "apps"},
            "spec": {"source": {"repoURL": "https://git.example/r.git"}, "destination": destination},
        }))
        .unwrap_or_else(|e| panic!("app: {e}"))
    }

    fn secret(name: &str, data: serde_json::Value) -> Arc<Secret> {
        Arc::new(
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": name, "namespace": "driftless-system",
                    "labels": {SECRET_TYPE_LABEL: CLUSTER}},
                "stringData": data,
            }))
            .unwrap_or_else(|e| panic!("secret: {e}")),
        )
    }

    fn secrets() -> Vec<Arc<Secret>> {
        vec![
            secret(
                "prod",
                serde_json::json!({"name": "prod", "server": "https://prod:6443",
                "config": "{\"bearerToken\": \"t\"}"}),
            ),
            secret(
                "broken",
                serde_json::json!({"name": "broken", "server": "https://broken:6443",
                "config": "{\"tlsClientConfig\": {\"caData\": \"%%\"}, \"bearerToken\": \"t\"}"}),
            ),
        ]
    }

    fn resolved(destination: serde_json::Value) -> Result<String, Unresolved> {
        resolve(&app(destination), &secrets(), "driftless-system").map(|c| c.name().to_owned())
    }

    #[test]
    fn the_local_cluster_in_each_spelling_and_remote_ones_by_name_or_server() {
        for local in [
            serde_json::json!({}),
            serde_json::json!({"name": "in-cluster"}),
            serde_json::json!({"server": "https://kubernetes.default.svc/"}),
            serde_json::json!({"server": "https://kubernetes.default.svc:443"}),
        ] {
            assert_eq!(
                resolved(local.clone()).ok().as_deref(),
                Some("in-cluster"),
                "{local}"
            );
        }
        assert_eq!(
            resolved(serde_json::json!({"name": "prod"}))
                .ok()
                .as_deref(),
            Some("prod")
        );
        assert_eq!(
            resolved(serde_json::json!({"server": "https://prod:6443/"}))
                .ok()
                .as_deref(),
            Some("prod")
        );
    }

    #[test]
    fn unknown_clusters_bad_secrets_and_both_fields_are_named() {
        let cases = [
            (
                serde_json::json!({"name": "staging"}),
                "spec.destination.name",
                "no cluster named \"staging\"",
            ),
            (
                serde_json::json!({"server": "https://nowhere"}),
                "spec.destination.server",
                "no cluster with server",
            ),
            (
                serde_json::json!({"name": "broken"}),
                "spec.destination.name",
                "cluster Secret driftless-system/broken: data.config: tlsClientConfig.caData is not base64",
            ),
            (
                serde_json::json!({"name": "prod", "server": "https://prod:6443"}),
                "spec.destination",
                "both server and name",
            ),
        ];
        for (destination, field, wanted) in cases {
            let error = resolved(destination.clone())
                .err()
                .unwrap_or_else(|| panic!("{destination} resolved"));
            assert_eq!(error.field, field, "{destination}");
            assert!(
                error.message.contains(wanted),
                "{} lacks {wanted}",
                error.message
            );
        }
    }
}
