//! What the controller's integration tests share: one controller per test binary, started on a
//! thread of its own against the shared test control plane.

use std::future::Future;
use std::sync::{Arc, OnceLock};

use driftless_controller::{Context, run};
use kube::Client;

/// Installs the project's CRDs and starts one controller for the whole test binary, with the
/// context `build` makes from an admin client of the shared control plane (on the controller's
/// own runtime). Later calls return what the first one did.
pub fn controller<F, Fut>(build: F) -> anyhow::Result<()>
where
    F: FnOnce(Client) -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<Arc<Context>>>,
{
    static STARTED: OnceLock<Result<(), String>> = OnceLock::new();
    STARTED
        .get_or_init(|| {
            let (ready_tx, ready_rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let started = async {
                        let client = driftless_testenv::shared()?.client().await?;
                        driftless_testenv::install_project_crds(&client).await?;
                        build(client).await
                    }
                    .await;
                    match started {
                        Ok(context) => {
                            let _ = ready_tx.send(Ok(()));
                            run(context, std::future::pending()).await;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(format!("{e:#}")));
                        }
                    }
                });
            });
            ready_rx
                .recv()
                .unwrap_or_else(|_| Err("controller thread died".to_owned()))
        })
        .clone()
        .map_err(anyhow::Error::msg)
}

/// How long the helpers below wait for the controller.
#[allow(dead_code)] // not every test binary uses every helper
pub const SETTLE: std::time::Duration = std::time::Duration::from_secs(90);

/// Writes `files` (and removes `gone`) in the repository `dir`, made on first use, and
/// commits; returns the commit.
#[allow(dead_code)] // not every test binary uses every helper
pub fn commit(
    dir: &std::path::Path,
    files: &[(&str, String)],
    gone: &[&str],
) -> anyhow::Result<String> {
    use driftless_testenv::git;
    if !dir.join(".git").exists() {
        git(dir, &["init", "-q", "-b", "main"])?;
        git(dir, &["config", "user.email", "t@example.com"])?;
        git(dir, &["config", "user.name", "t"])?;
    }
    for (path, text) in files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, text)?;
    }
    for path in gone {
        std::fs::remove_file(dir.join(path))?;
    }
    git(dir, &["add", "-A"])?;
    git(dir, &["commit", "-qm", "change"])?;
    Ok(git(dir, &["rev-parse", "HEAD"])?)
}

/// Waits until the Application `name` is Synced at `revision`; else fails with its conditions.
#[allow(dead_code)] // not every test binary uses every helper
pub async fn synced_at(
    apps: &kube::Api<driftless_api::Application>,
    name: &str,
    revision: &str,
) -> anyhow::Result<()> {
    let synced =
        driftless_testenv::eventually(&format!("{name} synced at {revision}"), SETTLE, || async {
            let app = apps.get(name).await.ok()?;
            let sync = app.status?.sync?;
            (sync.status == driftless_api::SyncStatusCode::Synced
                && sync.revision.as_deref() == Some(revision))
            .then_some(())
        })
        .await;
    if synced.is_err() {
        let conditions = apps.get(name).await?.status.map(|s| s.conditions);
        anyhow::bail!("{name} not synced at {revision}: {conditions:?}");
    }
    Ok(())
}

/// The `Ready` condition's message once its reason is `reason`.
#[allow(dead_code)] // not every test binary uses every helper
pub async fn ready_reason(
    apps: &kube::Api<driftless_api::Application>,
    name: &str,
    reason: &str,
) -> anyhow::Result<String> {
    driftless_testenv::eventually(
        &format!("{name} Ready with reason {reason}"),
        SETTLE,
        || async {
            let app = apps.get(name).await.ok()?;
            let ready = app
                .status?
                .conditions
                .into_iter()
                .find(|c| c.type_ == "Ready")?;
            (ready.reason == reason).then_some(ready.message)
        },
    )
    .await
    .map_err(Into::into)
}
