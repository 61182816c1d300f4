//! Running the controller over every Application of the cluster.

use std::sync::Arc;
use std::time::Duration;

use driftless_api::Application;
use futures::StreamExt;
use kube::Api;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;

use crate::{Context, Error, reconcile};

/// Reconciles Applications until `shutdown` completes.
pub async fn run(
    context: Arc<Context>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let applications: Api<Application> = Api::all(context.client.clone());
    Controller::new(applications, watcher::Config::default())
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, context)
        .for_each(|outcome| async move {
            match outcome {
                Ok((app, _)) => tracing::debug!(application = %app, "reconciled"),
                Err(error) => tracing::warn!(%error, "reconcile failed"),
            }
        })
        .await;
}

/// Spec errors wait for the user to change the Application; everything else is retried soon.
fn error_policy(_app: Arc<Application>, error: &Error, _ctx: Arc<Context>) -> Action {
    match error {
        Error::Spec(_) => Action::await_change(),
        _ => Action::requeue(Duration::from_secs(5)),
    }
}
