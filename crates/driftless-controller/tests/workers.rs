//! Adaptive concurrency (#22 item 2) against the real test control plane, reached through a
//! fault-injecting proxy: with work waiting and an API server answering steadily the number of workers grows to
//! its maximum, when the API server throttles it falls to its minimum, and it never leaves its
//! bounds.

mod support;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use anyhow::Context as _;
use driftless_api::{Application, SyncStatusCode};
use driftless_controller::Context;
use driftless_controller::workers::{Bounds, Workers};
use driftless_testenv::proxy::{ApiProxy, Faults};
use driftless_testenv::{eventually, git, with_namespace};
use kube::api::{Api, Patch, PatchParams, PostParams};

/// Generous bound for the controller to act on a busy machine; not a performance figure.
const SETTLE: Duration = Duration::from_secs(120);

/// The bounds under test: few enough to reach both ends quickly.
const MIN: u16 = 2;
const MAX: u16 = 6;

/// Applications: several times the most workers, so work waits for a worker.
const APPS: usize = 30;

static CONTEXT: OnceLock<Arc<Context>> = OnceLock::new();
static PROXY: OnceLock<ApiProxy> = OnceLock::new();

/// One controller whose client goes through the proxy and feeds its workers.
fn controller() -> anyhow::Result<(Arc<Context>, &'static ApiProxy)> {
    support::controller(|_admin| async move {
        let plane = driftless_testenv::shared()?;
        let proxy = ApiProxy::start(plane.kubeconfig()).await?;
        let workers = Workers::new(Bounds::new(MIN, MIN, MAX).map_err(anyhow::Error::msg)?);
        let client = kube::client::ClientBuilder::try_from(proxy.config().await?)?
            .with_layer(&workers.probe())
            .build();
        let _ = PROXY.set(proxy);
        let cache = tempfile::tempdir()?.keep();
        let mut registry = prometheus_client::registry::Registry::default();
        let metrics = driftless_controller::Metrics::new(&mut registry);
        let mut context = Context::new(client, cache, None, metrics).await?;
        context.workers = workers;
        let context = Arc::new(context);
        let _ = CONTEXT.set(context.clone());
        Ok(context)
    })?;
    Ok((
        CONTEXT.get().cloned().context("no context")?,
        PROXY.get().context("no proxy")?,
    ))
}

#[tokio::test]
async fn the_number_of_workers_grows_while_the_api_server_answers_steadily_and_falls_when_it_throttles()
-> anyhow::Result<()> {
    let (context, proxy) = controller()?;
    // Every value the number of workers takes (it changes at most once a second).
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sampler = {
        let (context, seen) = (context.clone(), seen.clone());
        tokio::spawn(async move {
            loop {
                let limit = context.workers.limit();
                if let Ok(mut seen) = seen.lock()
                    && seen.last() != Some(&limit)
                {
                    seen.push(limit);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    // Every request of the controller takes a while, the same while, so that work waits for
    // workers long enough to watch their number grow; steady latency is no sign of load.
    let steady = Faults {
        delay: Duration::from_millis(150),
        ..Faults::default()
    };
    proxy.set_faults(steady.clone());
    let result = with_namespace("workers", |client, ns| async move {
        let repo = tempfile::tempdir()?;
        git(repo.path(), &["init", "-q", "-b", "main"])?;
        for i in 0..APPS {
            let dir = repo.path().join(format!("apps/a{i}"));
            std::fs::create_dir_all(&dir)?;
            std::fs::write(
                dir.join("cm.yaml"),
                format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{i}}}\ndata: {{n: \"{i}\"}}\n"),
            )?;
        }
        git(repo.path(), &["-c", "user.email=t@example.com", "-c", "user.name=t", "add", "-A"])?;
        git(repo.path(), &["-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "apps"])?;
        let url = format!("file://{}", repo.path().display());
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        for i in 0..APPS {
            let app: Application = serde_json::from_value(serde_json::json!({
                "apiVersion": "driftless.dev/v1alpha1",
                "kind": "Application",
                "metadata": {"name": format!("a{i}"), "namespace": &ns},
                "spec": {
                    "source": {"repoURL": &url, "targetRevision": "main", "path": format!("apps/a{i}")},
                    "destination": {"namespace": &ns},
                    "interval": "1h",
                    "syncPolicy": {"automated": {"prune": true, "selfHeal": true}},
                },
            }))?;
            apps.create(&PostParams::default(), &app).await?;
        }
        // Work waits and the API server answers steadily: the workers grow to the most allowed.
        eventually("the workers at their maximum", SETTLE, || async {
            (context.workers.limit() == MAX).then_some(())
        })
        .await?;
        for i in 0..APPS {
            eventually(&format!("a{i} synced"), SETTLE, || async {
                let app = apps.get(&format!("a{i}")).await.ok()?;
                (app.status?.sync?.status == SyncStatusCode::Synced).then_some(())
            })
            .await?;
        }
        // Now the API server throttles half of the requests, while every Application is asked
        // for a sync (which applies, is throttled and is retried): the workers fall to the
        // fewest allowed.
        proxy.set_faults(Faults {
            throttle_rate: 0.5,
            ..steady
        });
        for i in 0..APPS {
            let request = serde_json::json!({"id": format!("r{i}")}).to_string();
            let patch = serde_json::json!({"metadata": {"annotations": {
                driftless_api::SYNC_REQUEST_ANNOTATION: request}}});
            // Through the admin client, not the proxy: the test's own writes are not throttled.
            apps.patch(&format!("a{i}"), &PatchParams::default(), &Patch::Merge(&patch))
                .await?;
        }
        eventually("the workers at their minimum", SETTLE, || async {
            (context.workers.limit() == MIN).then_some(())
        })
        .await?;
        proxy.set_faults(Faults::default());
        anyhow::ensure!(proxy.stats().throttled > 0, "the proxy throttled nothing");
        Ok(())
    })
    .await;
    sampler.abort();
    result??;
    let seen = seen
        .lock()
        .map_err(|_| anyhow::anyhow!("sampler poisoned"))?
        .clone();
    anyhow::ensure!(
        seen.iter().all(|n| (MIN..=MAX).contains(n)),
        "the number of workers left {MIN}..={MAX}: {seen:?}"
    );
    anyhow::ensure!(
        seen.first() == Some(&MIN) && seen.contains(&MAX),
        "the workers did not go from {MIN} up to {MAX}: {seen:?}"
    );
    Ok(())
}
