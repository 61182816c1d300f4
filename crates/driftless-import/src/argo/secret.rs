//! Argo CD's repository credential Secrets as Driftless's.

use serde_json::{Map, Value, json};

use crate::finding::{Finding, Notes};
use crate::{Input, Options, meta};

/// The label that makes a Secret one of Argo CD's repository credentials.
pub(crate) const SECRET_TYPE_LABEL: &str = "argocd.argoproj.io/secret-type";

/// Whether `object` is one of Argo CD's repository credential Secrets.
pub(crate) fn is_repository_secret(object: &Value) -> bool {
    matches!(
        object
            .pointer("/metadata/labels")
            .and_then(|l| l.get(SECRET_TYPE_LABEL))
            .and_then(Value::as_str),
        Some("repository" | "repo-creds")
    )
}

/// Keys of an Argo CD repository Secret that Driftless reads the same way.
const SECRET_KEYS: [&str; 7] = [
    "url",
    "username",
    "password",
    "bearerToken",
    "sshPrivateKey",
    "insecureIgnoreHostKey",
    "project",
];

/// An Argo CD repository credential Secret (`repository` or `repo-creds`) as Driftless's:
/// the same keys, the label `driftless.dev/secret-type`, in the controller's namespace.
pub(crate) fn repository_secret(
    input: &Input,
    options: &Options,
    name: &str,
    findings: &mut Vec<Finding>,
) -> Option<Value> {
    let mut notes = Notes::new(name.to_owned(), findings);
    let object = &input.object;
    let (_, secret_name) = meta::name_of(object);
    let secret_type = object
        .pointer("/metadata/labels")
        .and_then(|l| l.get(SECRET_TYPE_LABEL))
        .cloned()
        .unwrap_or(Value::Null);
    let value_of = |key: &str| -> Option<String> {
        if let Some(text) = object
            .pointer(&format!("/stringData/{key}"))
            .and_then(Value::as_str)
        {
            return Some(text.to_owned());
        }
        let encoded = object
            .pointer(&format!("/data/{key}"))
            .and_then(Value::as_str)?;
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?;
        String::from_utf8(bytes).ok()
    };
    match value_of("type").as_deref() {
        None | Some("git") => {}
        Some(other) => {
            notes.not_converted(
                Some("data.type"),
                format!("a {other} repository: Driftless reads Git repositories only (Helm charts: issue #16)"),
            );
            return None;
        }
    }
    let mut out = json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {
            "name": secret_name,
            "namespace": options.namespace,
            "labels": {"driftless.dev/secret-type": secret_type},
        },
        "type": "Opaque",
    });
    for field in ["data", "stringData"] {
        let Some(map) = object.get(field).and_then(Value::as_object) else {
            continue;
        };
        let mut kept = Map::new();
        for (key, value) in map {
            if SECRET_KEYS.contains(&key.as_str()) {
                kept.insert(key.clone(), value.clone());
            } else if key != "type" {
                let reason = match key.as_str() {
                    "name" => "a display name: Driftless names credentials by their Secret",
                    "insecure" => {
                        "Driftless always verifies TLS certificates: trust a private CA with the ConfigMap driftless-tls-certs"
                    }
                    "tlsClientCertData" | "tlsClientCertKey" => {
                        "TLS client certificates: not supported by Driftless yet"
                    }
                    k if k.starts_with("githubApp") => {
                        "GitHub App credentials: not supported by Driftless yet; use a token (bearerToken or password)"
                    }
                    "proxy" | "noProxy" => "Driftless does not fetch through proxies yet",
                    _ => "no equivalent in Driftless",
                };
                notes.dropped(&format!("{field}.{key}"), reason);
            }
        }
        if !kept.is_empty() {
            out[field] = Value::Object(kept);
        }
    }
    if value_of("url").is_none() {
        notes.not_converted(Some("data.url"), "no url: not a usable credential");
        return None;
    }
    let labels = object
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (key, value) in labels {
        if key != SECRET_TYPE_LABEL {
            out["metadata"]["labels"][key] = value;
        }
    }
    Some(out)
}
