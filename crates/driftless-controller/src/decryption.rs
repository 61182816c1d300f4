//! The keys an Application's SOPS files decrypt with: the Secret `spec.decryption.secretRef`
//! names in the Application's namespace, else the controller's default (`--decryption-secret`).
//! A Secret is read only when a render meets an encrypted file, and its keys live only in
//! that render: never in the status, a log, an Event or the controller's memory.

use std::sync::Arc;

use driftless_api::Application;
use driftless_sops::Keys;
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;

use crate::context::Context;

/// Data keys holding age identities, as Flux names them.
const AGE_SUFFIX: &str = ".agekey";

/// Data keys holding armored OpenPGP private keys, as Flux names them.
const PGP_SUFFIX: &str = ".asc";

/// Where an Application's keys are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeySecret {
    /// The Secret's namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// The setting that named it, for messages.
    pub from: &'static str,
}

impl KeySecret {
    /// The key Secret of `app`: its `secretRef`, else the controller's default.
    pub fn of(app: &Application, default: Option<&(String, String)>) -> Option<Self> {
        let named = app
            .spec
            .decryption
            .as_ref()
            .and_then(|d| d.secret_ref.as_ref());
        match (named, default) {
            (Some(secret), _) => Some(Self {
                namespace: app.namespace().unwrap_or_default(),
                name: secret.name.clone(),
                from: "spec.decryption.secretRef",
            }),
            (None, Some((namespace, name))) => Some(Self {
                namespace: namespace.clone(),
                name: name.clone(),
                from: "the controller's --decryption-secret",
            }),
            (None, None) => None,
        }
    }
}

/// What the render of `app` asks for its keys with (called on a blocking thread, at most once,
/// at the first encrypted file).
pub(crate) fn supplier(
    ctx: &Arc<Context>,
    app: &Application,
) -> impl FnOnce() -> Result<Keys, String> + Send + 'static {
    let secret = KeySecret::of(app, ctx.decryption_secret.as_ref());
    let client = ctx.client.clone();
    let runtime = tokio::runtime::Handle::current();
    move || {
        let Some(secret) = secret else {
            // The file's own error says which recipients it needs.
            return Ok(Keys::new());
        };
        runtime.block_on(read(client, &secret))
    }
}

/// Reads the key Secret; its errors name it and the setting that named it.
async fn read(client: kube::Client, secret: &KeySecret) -> Result<Keys, String> {
    let api: kube::Api<Secret> = kube::Api::namespaced(client, &secret.namespace);
    let shown = format!(
        "Secret {}/{} ({})",
        secret.namespace, secret.name, secret.from
    );
    match api.get_opt(&secret.name).await {
        Ok(Some(found)) => keys(&found, &shown),
        Ok(None) => Err(format!("{shown} does not exist")),
        Err(error) => Err(format!("reading {shown}: {error}")),
    }
}

/// The keys of `secret`: the age identities of every `.agekey` data key (several per key
/// allowed, comments ignored) and the armored OpenPGP private keys of every `.asc` data key
/// (without a passphrase). Other data keys are ignored.
pub(crate) fn keys(secret: &Secret, shown: &str) -> Result<Keys, String> {
    let mut keys = Keys::new();
    for (name, value) in secret.data.iter().flatten() {
        let age = name.ends_with(AGE_SUFFIX);
        if !age && !name.ends_with(PGP_SUFFIX) {
            continue;
        }
        let text = std::str::from_utf8(&value.0)
            .map_err(|_| format!("{shown}: key {name} is not UTF-8 text"))?;
        if age {
            keys.add_age_identities(text)
                .map_err(|e| format!("{shown}: key {name}: {e}"))?;
        } else {
            keys.add_pgp_keys(text)
                .map_err(|e| format!("{shown}: key {name}: {e}"))?;
        }
    }
    if keys.is_empty() {
        return Err(format!(
            "{shown} has no key ending in {AGE_SUFFIX} or {PGP_SUFFIX}"
        ));
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use k8s_openapi::ByteString;

    use super::*;

    fn secret(data: &[(&str, &str)]) -> Secret {
        Secret {
            data: Some(
                data.iter()
                    .map(|(k, v)| ((*k).to_owned(), ByteString(v.as_bytes().to_vec())))
                    .collect::<BTreeMap<_, _>>(),
            ),
            ..Secret::default()
        }
    }

    fn app(decryption: serde_json::Value) -> Result<Application, serde_json::Error> {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "driftless.dev/v1alpha1", "kind": "Application",
            "metadata": {"name": "a", "namespace": "team"},
            "spec": {"source": {"repoURL": "file:///r"}, "destination": {}, "decryption": decryption},
        }))
    }

    #[test]
    fn the_secret_ref_wins_over_the_controller_default() -> Result<(), serde_json::Error> {
        let default = ("driftless-system".to_owned(), "keys".to_owned());
        let named = app(serde_json::json!({"provider": "sops", "secretRef": {"name": "mine"}}))?;
        assert_eq!(
            KeySecret::of(&named, Some(&default)).map(|k| (k.namespace, k.name)),
            Some(("team".to_owned(), "mine".to_owned()))
        );
        let unnamed = app(serde_json::json!({"provider": "sops"}))?;
        assert_eq!(
            KeySecret::of(&unnamed, Some(&default)).map(|k| (k.namespace, k.name, k.from)),
            Some((
                "driftless-system".to_owned(),
                "keys".to_owned(),
                "the controller's --decryption-secret"
            ))
        );
        let none = app(serde_json::Value::Null)?;
        assert_eq!(
            KeySecret::of(&none, Some(&default)).map(|k| k.name),
            Some("keys".to_owned())
        );
        assert_eq!(KeySecret::of(&none, None), None);
        Ok(())
    }

    #[test]
    fn every_agekey_key_adds_its_identities_and_comments_are_ignored() -> Result<(), String> {
        let a = driftless_sops::generate_identity();
        let b = driftless_sops::generate_identity();
        let c = driftless_sops::generate_identity();
        let found = keys(
            &secret(&[
                (
                    "one.agekey",
                    &format!(
                        "# public key: {}\n{}\n\n{}\n",
                        a.recipient, a.secret, b.secret
                    ),
                ),
                ("two.agekey", &c.secret),
                ("notes.txt", "not a key"),
            ]),
            "Secret apps/keys",
        )?;
        assert_eq!(found.len(), 3);
        Ok(())
    }

    #[test]
    fn bad_or_unsupported_keys_are_one_line_without_the_key() {
        let a = driftless_sops::generate_identity();
        let error = keys(
            &secret(&[("k.agekey", &format!("{}\nAGE-SECRET-KEY-1NOPE\n", a.secret))]),
            "Secret apps/keys",
        )
        .err()
        .unwrap_or_default();
        assert_eq!(
            error,
            "Secret apps/keys: key k.agekey: line 2 is not an age identity (AGE-SECRET-KEY-1...)"
        );
        let error = keys(&secret(&[("k.asc", "pgp")]), "Secret apps/keys")
            .err()
            .unwrap_or_default();
        assert_eq!(
            error,
            "Secret apps/keys: key k.asc: not an armored OpenPGP private key (gpg --export-secret-keys --armor)"
        );
        let error = keys(&secret(&[("notes.txt", "x")]), "Secret apps/keys")
            .err()
            .unwrap_or_default();
        assert_eq!(
            error,
            "Secret apps/keys has no key ending in .agekey or .asc"
        );
    }
}
