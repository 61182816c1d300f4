//! No decrypted value leaks (#17 item 6): the `driftless controller` binary, logging at
//! `debug`, syncs an Application whose SOPS files (encrypted by the real `sops`) carry unique
//! marker values, reverts a hand edit, meets a commit it cannot decrypt; the CLI renders, diffs
//! and shows it. Then the controller's log, every Event of the namespace, the Application's
//! status, `/metrics` and the output of every CLI command run are searched for the markers:
//! zero hits. (`render --show-secrets` and `secret decrypt` print plaintext on purpose and are
//! not run here.)

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::ensure;
use driftless_api::{Application, SyncStatusCode};
use driftless_testenv::{eventually, with_namespace};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

/// Generous bound for the controller to act on a busy machine; not a performance figure.
const SETTLE: Duration = Duration::from_secs(90);

/// A controller process logging at debug to a file, stopped when dropped.
struct Controller {
    child: Child,
    port: u16,
}

impl Controller {
    fn start(cache: &Path, log: &Path) -> anyhow::Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let kubeconfig = driftless_testenv::shared()?.kubeconfig().to_owned();
        let child = Command::new(env!("CARGO_BIN_EXE_driftless"))
            .args(["controller", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--cache-dir")
            .arg(cache)
            .env("KUBECONFIG", kubeconfig)
            .env("RUST_LOG", "debug")
            .stdout(std::fs::File::create(log.with_extension("out"))?)
            .stderr(std::fs::File::create(log)?)
            .spawn()?;
        Ok(Self { child, port })
    }

    fn metrics(&self) -> anyhow::Result<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(
            stream,
            "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        )?;
        let mut text = String::new();
        stream.read_to_string(&mut text)?;
        Ok(text)
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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

fn sops_encrypt(dir: &Path, name: &str, plain: &str, recipient: &str) -> anyhow::Result<String> {
    let input = dir.join(name);
    std::fs::write(&input, plain)?;
    let out = Command::new(sops_bin()?)
        .current_dir(dir)
        .args([
            "--encrypt",
            "--age",
            recipient,
            "--encrypted-regex",
            "^(data|stringData|DB_.*)$",
        ])
        .arg(&input)
        .output()?;
    std::fs::remove_file(&input)?;
    ensure!(
        out.status.success(),
        "sops -e: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?)
}

fn git(dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new("git").args(args).current_dir(dir).output()?;
    ensure!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?.trim().to_owned())
}

/// Writes the app's files with values `db` and `env`, encrypted for `recipient`; commits.
fn commit(repo: &Path, db: &str, env: &str, recipient: &str) -> anyhow::Result<String> {
    if !repo.join(".git").exists() {
        git(repo, &["init", "-q", "-b", "main"])?;
        git(repo, &["config", "user.email", "t@example.com"])?;
        git(repo, &["config", "user.name", "t"])?;
    }
    let app = repo.join("app");
    std::fs::create_dir_all(&app)?;
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\nstringData:\n  password: {db}\n"
    );
    std::fs::write(
        app.join("secret.yaml"),
        sops_encrypt(&app, "secret.yaml", &secret, recipient)?,
    )?;
    std::fs::write(
        app.join("app.env"),
        sops_encrypt(&app, "app.env", &format!("DB_PASSWORD={env}\n"), recipient)?,
    )?;
    std::fs::write(
        app.join("kustomization.yaml"),
        "resources: [secret.yaml]\nsecretGenerator:\n- name: app\n  envs: [app.env]\ngeneratorOptions: {disableNameSuffixHash: true}\n",
    )?;
    git(repo, &["add", "-A"])?;
    git(repo, &["commit", "-qm", "change"])?;
    git(repo, &["rev-parse", "HEAD"])
}

/// Runs the CLI; returns stdout and stderr together.
fn cli(args: &[&str], cwd: &Path, env: &[(&str, &Path)]) -> anyhow::Result<String> {
    let kubeconfig = driftless_testenv::shared()?.kubeconfig().to_owned();
    let mut command = Command::new(env!("CARGO_BIN_EXE_driftless"));
    command
        .args(args)
        .current_dir(cwd)
        .env("KUBECONFIG", kubeconfig)
        .env_remove("SOPS_AGE_KEY")
        .env_remove("SOPS_AGE_KEY_FILE")
        .stdin(Stdio::null());
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output()?;
    Ok(format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

fn b64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn marker(what: &str) -> String {
    format!("leak-{what}-{:016x}", rand_u64())
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    h.finish()
}

#[tokio::test]
async fn decrypted_values_never_reach_logs_events_status_metrics_or_cli_output()
-> anyhow::Result<()> {
    with_namespace("sops-leak", |client, ns| async move {
        driftless_testenv::install_project_crds(&client).await?;
        let work = tempfile::tempdir()?;
        let log = work.path().join("controller.log");
        let controller = Controller::start(&work.path().join("cache"), &log)?;
        let key = driftless_sops::generate_identity();
        let key_file = work.path().join("keys.txt");
        std::fs::write(&key_file, format!("{}\n", key.secret))?;
        let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
        let keys: Secret = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "sops-keys"},
            "stringData": {"identity.agekey": format!("{}\n", key.secret)},
        }))?;
        secrets.create(&PostParams::default(), &keys).await?;

        let (db, env) = (marker("db"), marker("env"));
        let repo = work.path().join("repo");
        std::fs::create_dir_all(&repo)?;
        let first = commit(&repo, &db, &env, &key.recipient)?;
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        let app: Application = serde_json::from_value(json!({
            "apiVersion": "driftless.dev/v1alpha1", "kind": "Application",
            "metadata": {"name": "leaky", "namespace": ns},
            "spec": {
                "source": {"repoURL": format!("file://{}", repo.display()), "targetRevision": "main", "path": "app"},
                "destination": {"namespace": ns},
                "interval": "2s",
                "syncPolicy": {"automated": {"prune": true, "selfHeal": true}},
                "decryption": {"provider": "sops", "secretRef": {"name": "sops-keys"}},
            },
        }))?;
        apps.create(&PostParams::default(), &app).await?;
        eventually("leaky synced", SETTLE, || async {
            let sync = apps.get("leaky").await.ok()?.status?.sync?;
            (sync.status == SyncStatusCode::Synced && sync.revision.as_deref() == Some(first.as_str()))
                .then_some(())
        })
        .await?;
        let holds = |name: &'static str, key: &'static str, value: String| {
            let secrets = secrets.clone();
            async move {
                eventually(&format!("{name}.{key} back to Git's"), SETTLE, || async {
                    let data = secrets.get(name).await.ok()?.data?;
                    (data.get(key)? == &ByteString(value.as_bytes().to_vec())).then_some(())
                })
                .await
            }
        };
        holds("db", "password", db.clone()).await?;
        holds("app", "DB_PASSWORD", env.clone()).await?;

        // Drift: a hand edit with a marker of its own, reverted.
        let drifted = marker("drift");
        secrets
            .patch("db", &PatchParams::default(), &Patch::Merge(json!({"stringData": {"password": drifted}})))
            .await?;
        holds("db", "password", db.clone()).await?;

        // The CLI: render (masked), diff against a local change that is not committed, app
        // diff, get, list, history.
        let mut outputs = Vec::new();
        let keys_env = [("SOPS_AGE_KEY_FILE", key_file.as_path())];
        // The control: the plaintext is there to leak (and the search finds it).
        let shown = cli(&["render", "app", "--show-secrets"], &repo, &keys_env)?;
        ensure!(
            shown.contains(&db) && shown.contains(&b64(&env)),
            "{shown}"
        );
        outputs.push(cli(&["render", "app"], &repo, &keys_env)?);
        outputs.push(cli(&["render", "app", "-o", "json"], &repo, &keys_env)?);
        let local = marker("local");
        let app_dir = repo.join("app");
        std::fs::write(
            app_dir.join("secret.yaml"),
            sops_encrypt(
                &app_dir,
                "secret.yaml",
                &format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\nstringData:\n  password: {local}\n"),
                &key.recipient,
            )?,
        )?;
        let diff = cli(
            &["diff", "app", "--app", &format!("{ns}_leaky"), "--dest-namespace", &ns],
            &repo,
            &keys_env,
        )?;
        ensure!(diff.contains("=== update") && diff.contains("password"), "{diff}");
        outputs.push(diff);
        git(&repo, &["checkout", "--", "app"])?;
        for args in [
            &["app", "-n", &ns, "diff", "leaky"][..],
            &["app", "-n", &ns, "get", "leaky"],
            &["app", "-n", &ns, "get", "leaky", "-o", "yaml"],
            &["app", "-n", &ns, "list"],
            &["app", "-n", &ns, "history", "leaky"],
        ] {
            outputs.push(cli(args, &repo, &keys_env)?);
        }

        // A commit for a key the controller does not have: DecryptionFailed.
        let stranger = driftless_sops::generate_identity();
        let (db2, env2) = (marker("db2"), marker("env2"));
        commit(&repo, &db2, &env2, &stranger.recipient)?;
        eventually("leaky DecryptionFailed", SETTLE, || async {
            let status = apps.get("leaky").await.ok()?.status?;
            status
                .conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.reason == "DecryptionFailed")
                .then_some(())
        })
        .await?;
        outputs.push(cli(&["app", "-n", &ns, "get", "leaky"], &repo, &keys_env)?);

        let metrics = controller.metrics()?;
        ensure!(metrics.contains("driftless_reconcile_total"), "{metrics}");
        let events: Api<Event> = Api::namespaced(client.clone(), &ns);
        let events = serde_json::to_string(&events.list(&ListParams::default()).await?.items)?;
        ensure!(events.contains("leaky"), "no Events about the Application: {events}");
        let status = serde_json::to_string(&apps.get("leaky").await?.status)?;
        let logs = std::fs::read_to_string(&log)? + &std::fs::read_to_string(log.with_extension("out"))?;
        ensure!(
            logs.lines().count() > 10 && logs.contains("DEBUG"),
            "the controller logged almost nothing at debug:\n{logs}"
        );

        // Each value as itself and base64-encoded, as a Secret's `data` holds it.
        let markers: Vec<String> = [&db, &env, &drifted, &local, &db2, &env2]
            .into_iter()
            .flat_map(|m| [m.clone(), b64(m)])
            .collect();
        let mut places = vec![
            ("controller log", logs),
            ("Events", events),
            ("status", status),
            ("/metrics", metrics),
        ];
        places.extend(outputs.into_iter().map(|o| ("CLI output", o)));
        let mut hits = Vec::new();
        for (place, text) in &places {
            for marker in &markers {
                if text.contains(marker.as_str()) {
                    let line = text.lines().find(|l| l.contains(marker.as_str())).unwrap_or_default();
                    hits.push(format!("{place}: {line}"));
                }
            }
        }
        ensure!(hits.is_empty(), "markers leaked:\n{}", hits.join("\n"));
        drop(controller);
        Ok(())
    })
    .await?
}
