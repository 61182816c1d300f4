//! SOPS-encrypted Secrets in Git (#17 items 2-4), against the real test control plane, real Git
//! repositories (file://) and files encrypted by the real `sops` (built by `testenv/build`):
//! a plain directory and a Kustomize `secretGenerator` with a SOPS `envs` file sync with their
//! plaintext and self-heal; rotating the key Secret works; a wrong key or a missing key Secret
//! leaves the cluster untouched with `Ready` = `DecryptionFailed` naming the file.

mod support;

use support::{commit, ready_reason, synced_at};

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, ensure};
use driftless_api::{Application, SyncStatusCode};
use driftless_controller::Context;
use driftless_testenv::{eventually, with_namespace};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

/// Generous bound for the controller to act on a busy machine; not a performance figure.
const SETTLE: Duration = Duration::from_secs(90);

fn controller() -> anyhow::Result<Arc<Context>> {
    static CONTEXT: std::sync::OnceLock<Arc<Context>> = std::sync::OnceLock::new();
    support::controller(|client| async move {
        let cache = tempfile::tempdir()?.keep();
        let mut registry = prometheus_client::registry::Registry::default();
        let metrics = driftless_controller::Metrics::new(&mut registry);
        let context = Arc::new(Context::new(client, cache, None, metrics).await?);
        let _ = CONTEXT.set(context.clone());
        Ok(context)
    })?;
    CONTEXT.get().cloned().context("no context")
}

fn sops_bin() -> anyhow::Result<PathBuf> {
    if let Some(bin) = std::env::var_os("DRIFTLESS_SOPS_BIN") {
        return Ok(bin.into());
    }
    let build = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testenv/build");
    let out = Command::new(build).arg("--print-sops").output()?;
    let path = PathBuf::from(String::from_utf8(out.stdout)?.trim());
    ensure!(
        path.is_file(),
        "{} is missing: run testenv/build",
        path.display()
    );
    Ok(path)
}

/// `plain` (named `name`, whose extension picks the format) encrypted by the real sops.
fn sops_encrypt(
    name: &str,
    plain: &str,
    recipient: &str,
    extra: &[&str],
) -> anyhow::Result<String> {
    let dir = tempfile::tempdir()?;
    let input = dir.path().join(name);
    std::fs::write(&input, plain)?;
    let out = Command::new(sops_bin()?)
        .current_dir(dir.path())
        .args(["--encrypt", "--age", recipient])
        .args(extra)
        .arg(&input)
        .output()?;
    ensure!(
        out.status.success(),
        "sops -e: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?)
}

/// The files of both applications, each value carrying `tag`, encrypted for `recipient`.
fn encrypted_files(tag: &str, recipient: &str) -> anyhow::Result<Vec<(&'static str, String)>> {
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\nstringData:\n  password: db-{tag}\n"
    );
    Ok(vec![
        (
            "plain/secret.yaml",
            sops_encrypt(
                "secret.yaml",
                &secret,
                recipient,
                &["--encrypted-regex", "^(data|stringData)$"],
            )?,
        ),
        (
            "plain/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain-settings}\ndata: {mode: plain}\n"
                .to_owned(),
        ),
        (
            "kust/kustomization.yaml",
            "secretGenerator:\n- name: app\n  envs: [app.env]\ngeneratorOptions: {disableNameSuffixHash: true}\n"
                .to_owned(),
        ),
        (
            "kust/app.env",
            sops_encrypt(
                "app.env",
                &format!("DB_USER=admin\nDB_PASSWORD=env-{tag}\n"),
                recipient,
                &[],
            )?,
        ),
    ])
}

/// An automated, self-healing Application of `path` whose keys are in the Secret `keys`,
/// polling every hour: what happens is the refresh's doing.
fn application(
    ns: &str,
    name: &str,
    url: &str,
    path: &str,
    keys: &str,
) -> anyhow::Result<Application> {
    Ok(serde_json::from_value(json!({
        "apiVersion": "driftless.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "source": {"repoURL": url, "targetRevision": "main", "path": path},
            "destination": {"namespace": ns},
            "interval": "1h",
            "syncPolicy": {"automated": {"prune": true, "selfHeal": true}},
            "decryption": {"provider": "sops", "secretRef": {"name": keys}},
        },
    }))?)
}

async fn put_keys(secrets: &Api<Secret>, name: &str, identities: &[&str]) -> anyhow::Result<()> {
    let text = identities
        .iter()
        .map(|id| format!("# an age identity\n{id}\n"))
        .collect::<String>();
    let secret: Secret = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": name},
        "stringData": {"identity.agekey": text},
    }))?;
    secrets
        .patch(
            name,
            &PatchParams::apply("test").force(),
            &Patch::Apply(&secret),
        )
        .await?;
    Ok(())
}

/// Waits until the Secret `name` has `key` = `value`.
async fn holds(secrets: &Api<Secret>, name: &str, key: &str, value: &str) -> anyhow::Result<()> {
    eventually(
        &format!("Secret {name} with {key}={value}"),
        SETTLE,
        || async {
            let secret = secrets.get(name).await.ok()?;
            (secret.data?.get(key)? == &ByteString(value.as_bytes().to_vec())).then_some(())
        },
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn sops_secrets_sync_with_their_plaintext_self_heal_and_follow_a_key_rotation()
-> anyhow::Result<()> {
    let context = controller()?;
    with_namespace("sops-sync", |client, ns| async move {
        let first_key = driftless_sops::generate_identity();
        let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
        put_keys(&secrets, "sops-keys", &[&first_key.secret]).await?;
        let repo = tempfile::tempdir()?;
        let first = commit(
            repo.path(),
            &encrypted_files("one", &first_key.recipient)?,
            &[],
        )?;
        let url = format!("file://{}", repo.path().display());
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        for (name, path) in [("plain", "plain"), ("kust", "kust")] {
            apps.create(
                &PostParams::default(),
                &application(&ns, name, &url, path, "sops-keys")?,
            )
            .await?;
        }
        synced_at(&apps, "plain", &first).await?;
        synced_at(&apps, "kust", &first).await?;
        holds(&secrets, "db", "password", "db-one").await?;
        holds(&secrets, "app", "DB_PASSWORD", "env-one").await?;
        holds(&secrets, "app", "DB_USER", "admin").await?;
        let db = secrets.get("db").await?;
        ensure!(
            db.data
                .iter()
                .flatten()
                .all(|(k, _)| !k.starts_with("sops")),
            "sops metadata reached the Secret"
        );

        // A hand edit of a decrypted value is reverted.
        for (name, key) in [("db", "password"), ("app", "DB_PASSWORD")] {
            secrets
                .patch(
                    name,
                    &PatchParams::default(),
                    &Patch::Merge(json!({"stringData": {key: "edited-by-hand"}})),
                )
                .await?;
        }
        holds(&secrets, "db", "password", "db-one").await?;
        holds(&secrets, "app", "DB_PASSWORD", "env-one").await?;

        // Rotation: the new key joins the Secret, the files are encrypted for it alone in a
        // new commit, then the old key leaves.
        let second_key = driftless_sops::generate_identity();
        put_keys(
            &secrets,
            "sops-keys",
            &[&first_key.secret, &second_key.secret],
        )
        .await?;
        let second = commit(
            repo.path(),
            &encrypted_files("two", &second_key.recipient)?,
            &[],
        )?;
        put_keys(&secrets, "sops-keys", &[&second_key.secret]).await?;
        ensure!(context.refresh_repository(&url) == 2);
        synced_at(&apps, "plain", &second).await?;
        synced_at(&apps, "kust", &second).await?;
        holds(&secrets, "db", "password", "db-two").await?;
        holds(&secrets, "app", "DB_PASSWORD", "env-two").await?;
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn a_wrong_key_or_a_missing_key_secret_leaves_the_cluster_untouched_with_decryption_failed()
-> anyhow::Result<()> {
    let context = controller()?;
    with_namespace("sops-wrong", |client, ns| async move {
        let key = driftless_sops::generate_identity();
        let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
        put_keys(&secrets, "sops-keys", &[&key.secret]).await?;
        let repo = tempfile::tempdir()?;
        let first = commit(repo.path(), &encrypted_files("one", &key.recipient)?, &[])?;
        let url = format!("file://{}", repo.path().display());
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        apps.create(
            &PostParams::default(),
            &application(&ns, "plain", &url, "plain", "sops-keys")?,
        )
        .await?;
        synced_at(&apps, "plain", &first).await?;
        holds(&secrets, "db", "password", "db-one").await?;

        // A commit encrypted for a key the Secret does not hold, which also drops the
        // ConfigMap: nothing of it is applied, nothing pruned.
        let stranger = driftless_sops::generate_identity();
        commit(
            repo.path(),
            &encrypted_files("two", &stranger.recipient)?,
            &["plain/cm.yaml"],
        )?;
        ensure!(context.refresh_repository(&url) == 1);
        let message = ready_reason(&apps, "plain", "DecryptionFailed").await?;
        ensure!(
            message.contains("plain/secret.yaml: none of the 1 age identities given decrypts the data key")
                && message.contains(&stranger.recipient)
                && !message.contains('\n')
                && !message.contains(&key.secret),
            "{message}"
        );
        let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        ensure!(config_maps.get_opt("plain-settings").await?.is_some(), "pruned");
        holds(&secrets, "db", "password", "db-one").await?;

        // An Application whose key Secret does not exist.
        apps.create(
            &PostParams::default(),
            &application(&ns, "keyless", &url, "plain", "no-such-keys")?,
        )
        .await?;
        let message = ready_reason(&apps, "keyless", "DecryptionFailed").await?;
        ensure!(
            message.contains(&format!(
                "plain/secret.yaml: Secret {ns}/no-such-keys (spec.decryption.secretRef) does not exist"
            )),
            "{message}"
        );
        ensure!(
            apps.get("keyless").await?.status.and_then(|s| s.sync).map(|s| s.status)
                != Some(SyncStatusCode::Synced)
        );
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn an_asc_key_in_the_key_secret_decrypts_files_sops_encrypted_for_pgp() -> anyhow::Result<()>
{
    controller()?;
    with_namespace("sops-pgp", |client, ns| async move {
        let driftless_testenv::GpgKey {
            home,
            fingerprint: fp,
            armored,
        } = driftless_testenv::gpg_key("ed25519", "cv25519")?;
        let dir = tempfile::tempdir()?;
        std::fs::write(
            dir.path().join("secret.yaml"),
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: pgp-one\n",
        )?;
        let out = Command::new(sops_bin()?)
            .current_dir(dir.path())
            .args(["--encrypt", "--pgp", &fp, "--encrypted-regex", "^stringData$", "secret.yaml"])
            .env("GNUPGHOME", home.path())
            .output()?;
        ensure!(out.status.success(), "sops -e --pgp: {}", String::from_utf8_lossy(&out.stderr));
        let repo = tempfile::tempdir()?;
        let first = commit(
            repo.path(),
            &[("plain/secret.yaml", String::from_utf8(out.stdout)?)],
            &[],
        )?;
        let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
        let keys: Secret = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "pgp-keys"},
            "stringData": {"sops.asc": armored},
        }))?;
        secrets.create(&PostParams::default(), &keys).await?;
        let url = format!("file://{}", repo.path().display());
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        apps.create(
            &PostParams::default(),
            &application(&ns, "pgp", &url, "plain", "pgp-keys")?,
        )
        .await?;
        synced_at(&apps, "pgp", &first).await?;
        holds(&secrets, "db", "password", "pgp-one").await?;
        Ok(())
    })
    .await?
}
