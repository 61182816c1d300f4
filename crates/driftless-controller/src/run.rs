//! Running the controller over every Application of the cluster.
//!
//! Two kinds of trigger wake an application: its own changes that matter (spec, annotations,
//! finalizers; not our status writes), and events from the shared watches of managed objects
//! and from webhooks, delivered as application ids.

use std::sync::Arc;
use std::time::Duration;

use driftless_api::Application;
use futures::{StreamExt, TryStreamExt};
use kube::Api;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::{Predicate, WatchStreamExt, predicates, watcher};

use crate::reconcile::app_ref;
use crate::{Context, Error, reconcile};

/// Reconciles Applications until `shutdown` completes.
///
/// # Caveats
/// Runs once per [`Context`]: a second call returns at once.
pub async fn run(
    context: Arc<Context>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let Some((writer, triggers)) = context.take_run_parts() else {
        tracing::error!("the controller is already running on this context");
        return;
    };
    let applications: Api<Application> = Api::all(context.client.clone());
    // Status writes change neither generation nor annotations, so they do not come back as
    // triggers; deletion bumps the generation.
    let seen = context.clone();
    let changes = watcher::watcher(applications, watcher::Config::default())
        .default_backoff()
        .reflect(writer)
        .applied_objects()
        .inspect_ok(move |app| seen.caught_up(app))
        .predicate_filter(
            predicates::generation
                .combine(predicates::annotations)
                .combine(predicates::finalizers),
            Default::default(),
        );
    let mut triggers = triggers;
    let woken = futures::stream::poll_fn(move |cx| triggers.poll_recv(cx))
        .filter_map(|id| async move { app_ref(&id) });
    let config = kube::runtime::controller::Config::default().concurrency(context.concurrency);
    Controller::for_stream(changes, context.applications.clone())
        .with_config(config)
        .reconcile_on(woken)
        .graceful_shutdown_on(shutdown)
        .run(measured, error_policy, context)
        .for_each(|outcome| async move {
            match outcome {
                Ok((app, _)) => tracing::debug!(application = %app, "reconciled"),
                Err(error) => tracing::warn!(%error, "reconcile failed"),
            }
        })
        .await;
}

/// A reconciliation, counted and timed.
async fn measured(app: Arc<Application>, ctx: Arc<Context>) -> Result<Action, Error> {
    let started = std::time::Instant::now();
    let result = reconcile(app, ctx.clone()).await;
    ctx.metrics
        .reconciled(crate::OpResult::of(&result), started.elapsed());
    result
}

/// Spec errors wait for the user to change the Application; everything else is retried soon.
fn error_policy(_app: Arc<Application>, error: &Error, _ctx: Arc<Context>) -> Action {
    match error {
        Error::Spec(_) => Action::await_change(),
        _ => Action::requeue(Duration::from_secs(5)),
    }
}
