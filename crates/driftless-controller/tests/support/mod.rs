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
