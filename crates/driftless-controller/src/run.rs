//! Running the controller over every Application of the cluster.
//!
//! Two kinds of trigger wake an application: its own changes that matter (spec, annotations,
//! finalizers; not our status writes), and events from the shared watches of managed objects
//! and from webhooks, delivered as application ids.

use driftless_api::{AppProject, Application};
use futures::{StreamExt, TryStreamExt};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{self, ObjectRef};
use kube::runtime::{Predicate, WatchStreamExt, predicates, watcher};
use kube::{Api, ResourceExt};
use std::sync::Arc;

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
    let Some(parts) = context.take_run_parts() else {
        tracing::error!("the controller is already running on this context");
        return;
    };
    let (writer, triggers) = (parts.applications, parts.triggers);
    // Projects first: no Application is judged by a project not read yet.
    tokio::spawn(watch_projects(context.clone(), parts.projects));
    wait_for_projects(&context).await;
    let applications: Api<Application> = Api::all(context.client.clone());
    // Status writes change neither generation nor annotations, so they do not come back as
    // triggers; deletion bumps the generation.
    let seen = context.clone();
    let changes = watcher::watcher(applications, watcher::Config::default())
        .default_backoff()
        .reflect(writer)
        .inspect_ok(forgotten(context.clone()))
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

/// Keeps [`Context::projects`] filled, and wakes the Applications of a project that changes or
/// goes away.
async fn watch_projects(context: Arc<Context>, writer: reflector::store::Writer<AppProject>) {
    let projects: Api<AppProject> = Api::namespaced(context.client.clone(), &context.namespace);
    watcher::watcher(projects, watcher::Config::default())
        .default_backoff()
        .reflect(writer)
        .for_each(|event| {
            let context = context.clone();
            async move {
                match event {
                    Ok(watcher::Event::Apply(project) | watcher::Event::Delete(project)) => {
                        let name = project.name_any();
                        let woken = context.wake_project(&name);
                        tracing::info!(project = %name, applications = woken, "project changed");
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "watching AppProjects"),
                }
            }
        })
        .await;
}

/// Waits until the AppProjects have been listed once, saying so while it takes long.
async fn wait_for_projects(context: &Context) {
    loop {
        let waited = tokio::time::timeout(
            std::time::Duration::from_secs(30),
            context.projects.wait_until_ready(),
        )
        .await;
        match waited {
            Ok(Ok(())) => return,
            Ok(Err(error)) => {
                tracing::error!(%error, "the AppProject watch ended; no Application is reconciled");
                std::future::pending::<()>().await;
            }
            Err(_) => tracing::warn!(
                namespace = %context.namespace,
                "waiting for the AppProjects to be listed (is the AppProject CRD installed? `driftless crd | kubectl apply -f -`)"
            ),
        }
    }
}

/// A reconciliation, counted and timed.
async fn measured(app: Arc<Application>, ctx: Arc<Context>) -> Result<Action, Error> {
    let started = std::time::Instant::now();
    let result = reconcile(app, ctx.clone()).await;
    ctx.metrics
        .reconciled(crate::OpResult::of(&result), started.elapsed());
    result
}

/// A failed reconciliation is retried with a per-Application exponential backoff.
fn error_policy(app: Arc<Application>, error: &Error, ctx: Arc<Context>) -> Action {
    let failures = ctx.memory(&ObjectRef::from_obj(app.as_ref()), |m| {
        m.failures = m.failures.saturating_add(1);
        m.failures
    });
    let delay = crate::report::backoff(failures);
    tracing::debug!(application = %app.name_any(), %error, failures, delay_ms = delay.as_millis(), "retrying after a failure");
    Action::requeue(delay)
}

/// Forgets an Application the watch saw deleted (one without the finalizer is never reconciled
/// once gone): its memory and metric series.
fn forgotten(context: Arc<Context>) -> impl Fn(&watcher::Event<Application>) {
    move |event| {
        if let watcher::Event::Delete(app) = event {
            context.forget(&ObjectRef::from_obj(app));
        }
    }
}
