//! The Secret of a GitRepository's `secretRef` as a Driftless repository credential Secret,
//! and the known-hosts and CA ConfigMaps it needs.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use super::{Key, Sources};
use crate::finding::Notes;
use crate::{Input, Options, meta};

/// The ConfigMap of SSH known hosts Driftless reads (docs/repositories.md).
const KNOWN_HOSTS_CONFIG_MAP: &str = "driftless-ssh-known-hosts";
/// Its key.
const KNOWN_HOSTS_KEY: &str = "ssh_known_hosts";
/// The ConfigMap of certificate authorities per host Driftless reads.
const TLS_CONFIG_MAP: &str = "driftless-tls-certs";
/// The label that makes a Secret a repository credential.
const SECRET_TYPE_LABEL: &str = "driftless.dev/secret-type";

/// The repository credential Secret (and known hosts, CA ConfigMaps) for a GitRepository's
/// `secretRef`; the Secret's keys without equivalent reported.
pub(super) fn credentials(
    repo: &Input,
    repo_key: &Key,
    url: &str,
    sources: &Sources<'_>,
    options: &Options,
    notes: &mut Notes<'_>,
) -> Vec<Value> {
    let Some(secret_name) = repo
        .object
        .pointer("/spec/secretRef/name")
        .and_then(Value::as_str)
    else {
        return Vec::new();
    };
    let Some(secret) = sources
        .secrets
        .get(&(repo_key.0.clone(), secret_name.to_owned()))
    else {
        notes.dropped(
            "spec.sourceRef",
            format!(
                "the credentials of GitRepository {}/{} are in Secret {}/{secret_name}, which is not among the inputs: create a repository credential Secret for {url} in {} (docs/repositories.md)",
                repo_key.0, repo_key.1, repo_key.0, options.namespace
            ),
        );
        return Vec::new();
    };
    let secret_label = meta::describe(secret);
    let values = secret_values(&secret.object);
    let ssh = url.starts_with("ssh://") || !url.contains("://");
    let mut data = Map::new();
    let mut out = Vec::new();
    let mut secret_notes: Vec<(String, String, bool)> = Vec::new();
    for (key, bytes) in &values {
        let encoded = STANDARD.encode(bytes);
        match key.as_str() {
            "username" | "password" if !ssh => {
                data.insert(key.clone(), json!(encoded));
            }
            "password" => secret_notes.push((
                key.clone(),
                "the passphrase of the SSH key: Driftless takes keys without passphrase only; decrypt the key (ssh-keygen -p)".into(),
                false,
            )),
            "bearerToken" => {
                data.insert(key.clone(), json!(encoded));
                secret_notes.push((
                    key.clone(),
                    "Driftless sends it as the password of the user x-access-token (GitHub, Gitea, Bitbucket, GitLab accept that), not as an Authorization: Bearer header".into(),
                    true,
                ));
            }
            "identity" => {
                data.insert("sshPrivateKey".into(), json!(encoded));
            }
            "known_hosts" => match String::from_utf8(bytes.clone()) {
                Ok(hosts) => {
                    out.push(json!({
                        "apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": KNOWN_HOSTS_CONFIG_MAP, "namespace": options.namespace},
                        "data": {KNOWN_HOSTS_KEY: hosts},
                    }));
                    secret_notes.push((
                        key.clone(),
                        format!("moved to the ConfigMap {KNOWN_HOSTS_CONFIG_MAP}, which Driftless reads for every repository"),
                        true,
                    ));
                }
                Err(_) => secret_notes.push((key.clone(), "not UTF-8".into(), false)),
            },
            "ca.crt" | "caFile" => {
                let host = host_of(url);
                match (String::from_utf8(bytes.clone()), host) {
                    (Ok(pem), Some(host)) => {
                        // `ca.crt` wins over `caFile` in Flux: the later one does not replace it.
                        if key == "caFile" && values.contains_key("ca.crt") {
                            continue;
                        }
                        out.push(json!({
                            "apiVersion": "v1", "kind": "ConfigMap",
                            "metadata": {"name": TLS_CONFIG_MAP, "namespace": options.namespace},
                            "data": {host.clone(): pem},
                        }));
                        secret_notes.push((
                            key.clone(),
                            format!("moved to the ConfigMap {TLS_CONFIG_MAP}, key {host}: trusted for every fetch from that host"),
                            true,
                        ));
                    }
                    _ => secret_notes.push((key.clone(), "not a UTF-8 PEM bundle, or no host in the URL".into(), false)),
                }
            }
            "tls.crt" | "tls.key" | "certFile" | "keyFile" => secret_notes.push((
                key.clone(),
                "TLS client certificates: not supported by Driftless yet".into(),
                false,
            )),
            _ => secret_notes.push((key.clone(), "no equivalent".into(), false)),
        }
    }
    {
        let mut findings = Vec::new();
        let mut notes_of_secret = Notes::new(secret_label, &mut findings);
        for (key, reason, changed) in secret_notes {
            let field = format!("data.{key}");
            if changed {
                notes_of_secret.changed(&field, reason);
            } else {
                notes_of_secret.dropped(&field, reason);
            }
        }
        drop(notes_of_secret);
        for finding in findings {
            notes.push_finding(finding);
        }
    }
    if !data.is_empty() {
        let mut string_data = Map::new();
        string_data.insert("url".into(), json!(url));
        out.insert(
            0,
            json!({
                "apiVersion": "v1", "kind": "Secret",
                "metadata": {
                    "name": format!("flux-{}-{}", repo_key.0, repo_key.1),
                    "namespace": options.namespace,
                    "labels": {SECRET_TYPE_LABEL: "repository"},
                },
                "type": "Opaque",
                "stringData": string_data,
                "data": data,
            }),
        );
    }
    out
}

/// A Secret's values by key: `data` (base64) and `stringData`, the latter winning as the API
/// server has it. Values that are not valid base64 are left out.
fn secret_values(secret: &Value) -> BTreeMap<String, Vec<u8>> {
    let mut values = BTreeMap::new();
    if let Some(data) = secret.get("data").and_then(Value::as_object) {
        for (key, value) in data {
            if let Some(bytes) = value.as_str().and_then(|v| STANDARD.decode(v.trim()).ok()) {
                values.insert(key.clone(), bytes);
            }
        }
    }
    if let Some(data) = secret.get("stringData").and_then(Value::as_object) {
        for (key, value) in data {
            if let Some(text) = value.as_str() {
                values.insert(key.clone(), text.as_bytes().to_vec());
            }
        }
    }
    values
}

/// The host of a URL, lowercased, without user or port.
fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = host.split(':').next()?;
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// The objects for the output, with the known-hosts and CA ConfigMaps of several repositories
/// merged into one each (Driftless reads one of each).
pub(crate) fn merge_config_maps(objects: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for object in objects {
        let name = object.pointer("/metadata/name").and_then(Value::as_str);
        let merge_into = (object.get("kind").and_then(Value::as_str) == Some("ConfigMap"))
            .then(|| {
                out.iter().position(|o| {
                    o.get("kind").and_then(Value::as_str) == Some("ConfigMap")
                        && o.pointer("/metadata/name").and_then(Value::as_str) == name
                })
            })
            .flatten();
        let Some(index) = merge_into else {
            if !out.contains(&object) {
                out.push(object);
            }
            continue;
        };
        let Some(data) = object.get("data").and_then(Value::as_object) else {
            continue;
        };
        for (key, value) in data {
            let Some(slot) = out[index].pointer_mut("/data") else {
                continue;
            };
            let joined = match (slot.get(key).and_then(Value::as_str), value.as_str()) {
                (Some(old), Some(new)) if key == KNOWN_HOSTS_KEY && !old.contains(new) => {
                    format!("{}\n{new}", old.trim_end())
                }
                (Some(old), _) => old.to_owned(),
                (None, Some(new)) => new.to_owned(),
                (None, None) => continue,
            };
            slot[key] = json!(joined);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_come_out_of_urls() {
        assert_eq!(
            host_of("https://Git.Example:8443/org/app.git").as_deref(),
            Some("git.example")
        );
        assert_eq!(
            host_of("ssh://git@git.example/org/app").as_deref(),
            Some("git.example")
        );
        assert_eq!(host_of("not a url"), None);
    }
}
