//! Running the controller over every Application of the cluster.
//!
//! Two kinds of trigger wake an application: its own changes that matter (spec, annotations,
//! finalizers; not our status writes), and events from the shared watches of managed objects
//! and from webhooks, delivered as application ids.

use driftless_api::{AppProject, Application};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{self, ObjectRef};
use kube::runtime::{Predicate, WatchStreamExt, predicates, watcher};
use kube::{Api, ResourceExt};
use std::sync::Arc;

use crate::reconcile::app_ref;
use crate::{
    CLUSTER, Context, Error, KNOWN_HOSTS_CONFIG_MAP, REPO_CREDS, REPOSITORY, SECRET_TYPE_LABEL,
    TLS_CONFIG_MAP, reconcile,
};

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
    // Projects and repository settings first: no Application is judged by a project, or
    // fetched without the credentials, not read yet.
    tokio::spawn(watch_projects(context.clone(), parts.projects));
    tokio::spawn(watch_credentials(context.clone(), parts.credentials));
    tokio::spawn(watch_settings(context.clone(), parts.settings));
    // Notifications never hold up reconciliation: their watches and delivery run apart, and
    // Applications are reconciled whether or not they are listed yet (events wait in a queue).
    tokio::spawn(crate::notify::watch_providers(
        context.clone(),
        parts.providers,
    ));
    tokio::spawn(crate::notify::watch_alerts(context.clone(), parts.alerts));
    tokio::spawn(crate::notify::dispatch(
        context.clone(),
        parts.notifications,
    ));
    wait_for(&context, "AppProjects", context.projects.wait_until_ready()).await;
    wait_for(
        &context,
        "repository credential Secrets",
        context.credentials.wait_until_ready(),
    )
    .await;
    wait_for(
        &context,
        "repository ConfigMaps",
        context.settings.wait_until_ready(),
    )
    .await;
    let applications: Api<Application> = Api::all(context.client.clone());
    // Status writes change neither generation nor annotations, so they do not come back as
    // triggers; deletion bumps the generation.
    let seen = context.clone();
    let changes = watcher::watcher(applications, watcher::Config::default())
        .backoff(driftless_cluster::WatchBackoff::default())
        .reflect(writer)
        .inspect_ok(forgotten(context.clone()))
        .inspect_ok(dependents(context.clone()))
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
    // The runtime runs up to the most workers there may be; `measured` holds each to the
    // current number.
    let bounds = context.workers.bounds();
    let config = kube::runtime::controller::Config::default().concurrency(bounds.max);
    context.metrics.set_workers(context.workers.limit());
    if bounds.min < bounds.max {
        tokio::spawn(tune_workers(context.clone()));
    }
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
    let ctx = context.clone();
    watch_into(
        projects,
        watcher::Config::default(),
        writer,
        "AppProjects",
        move |project| {
            let name = project.name_any();
            let woken = ctx.wake_project(&name);
            tracing::info!(project = %name, applications = woken, "project changed");
        },
    )
    .await;
}

/// Keeps [`Context::credentials`] filled (repository credentials and cluster Secrets), and wakes
/// the Applications whose repository a changed credential Secret is for, or that deploy to a
/// remote cluster when a cluster Secret changes. A Secret that does not read is named in the log
/// (never its data).
async fn watch_credentials(context: Arc<Context>, writer: reflector::store::Writer<Secret>) {
    let secrets: Api<Secret> = Api::namespaced(context.client.clone(), &context.namespace);
    let selector = format!("{SECRET_TYPE_LABEL} in ({REPOSITORY},{REPO_CREDS},{CLUSTER})");
    let config = watcher::Config::default().labels(&selector);
    let ctx = context.clone();
    watch_into(secrets, config, writer, "repository credential Secrets", move |secret| {
        match crate::credentials::parse(secret) {
            Some(Ok(credential)) => {
                let woken = ctx.wake_repository(&credential);
                tracing::info!(secret = %secret.name_any(), applications = woken, "repository credentials changed");
            }
            Some(Err(error)) => tracing::warn!(%error, "repository credentials not used"),
            None => {}
        }
        if let Some(cluster) = crate::clusters::secret::parse(secret) {
            let woken = ctx.wake_cluster(&secret.name_any());
            match cluster {
                Ok(cluster) => tracing::info!(secret = %secret.name_any(), cluster = %cluster.name, applications = woken, "cluster Secret changed"),
                Err(error) => tracing::warn!(%error, applications = woken, "cluster Secret does not read"),
            }
        }
    })
    .await;
}

/// Keeps [`Context::settings`] filled (known hosts, TLS certificates), and wakes every
/// Application when one of them changes.
async fn watch_settings(context: Arc<Context>, writer: reflector::store::Writer<ConfigMap>) {
    let config_maps: Api<ConfigMap> = Api::namespaced(context.client.clone(), &context.namespace);
    let ctx = context.clone();
    watch_into(config_maps, watcher::Config::default(), writer, "ConfigMaps", move |map| {
        let name = map.name_any();
        if [KNOWN_HOSTS_CONFIG_MAP, TLS_CONFIG_MAP].contains(&name.as_str()) {
            let woken = ctx.wake_all();
            tracing::info!(config_map = %name, applications = woken, "repository settings changed");
        }
    })
    .await;
}

/// Watches `api` into `writer`, calling `changed` with each object that is applied or deleted.
async fn watch_into<K>(
    api: Api<K>,
    config: watcher::Config,
    writer: reflector::store::Writer<K>,
    what: &str,
    changed: impl Fn(&K),
) where
    K: kube::Resource
        + Clone
        + std::fmt::Debug
        + k8s_openapi::serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone,
{
    watcher::watcher(api, config)
        .backoff(driftless_cluster::WatchBackoff::default())
        .reflect(writer)
        .for_each(|event| {
            match event {
                Ok(watcher::Event::Apply(object) | watcher::Event::Delete(object)) => {
                    changed(&object)
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "watching {what}"),
            }
            std::future::ready(())
        })
        .await;
}

/// Waits until `ready` (a store listed once), saying so while it takes long.
async fn wait_for(
    context: &Context,
    what: &str,
    ready: impl std::future::Future<Output = Result<(), reflector::store::WriterDropped>>,
) {
    let mut ready = std::pin::pin!(ready);
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(30), &mut ready).await {
            Ok(Ok(())) => return,
            Ok(Err(error)) => {
                tracing::error!(%error, "the watch of {what} ended; no Application is reconciled");
                std::future::pending::<()>().await;
            }
            Err(_) => tracing::warn!(
                namespace = %context.namespace,
                "waiting for the {what} to be listed (is the AppProject CRD installed: `driftless crd | kubectl apply -f -`? may the controller list them: docs/install.md?)"
            ),
        }
    }
}

/// A reconciliation, counted and timed.
async fn measured(app: Arc<Application>, ctx: Arc<Context>) -> Result<Action, Error> {
    let _worker = ctx.workers.acquire().await;
    let started = std::time::Instant::now();
    let me = ObjectRef::from_obj(app.as_ref());
    let result = reconcile(app, ctx.clone()).await;
    ctx.reconciled(&me);
    ctx.metrics
        .reconciled(crate::OpResult::of(&result), started.elapsed());
    result
}

/// Decides the number of workers once a [`crate::workers::WINDOW`], for as long as the controller
/// runs.
async fn tune_workers(context: Arc<Context>) {
    let mut ticks = tokio::time::interval(crate::workers::WINDOW);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Some(workers) = context.workers.tune() {
            context.metrics.set_workers(workers);
            tracing::debug!(workers, "reconciliation workers");
        }
    }
}

/// A failed reconciliation is retried with a per-Application exponential backoff.
fn error_policy(app: Arc<Application>, error: &Error, ctx: Arc<Context>) -> Action {
    let failures = ctx.memory(&ObjectRef::from_obj(app.as_ref()), |m| {
        m.failures = m.failures.saturating_add(1);
        m.failures
    });
    let delay = crate::report::backoff(failures).min(crate::spec::retry_bound(&app));
    tracing::debug!(application = %app.name_any(), %error, failures, delay_ms = delay.as_millis(), "retrying after a failure");
    Action::requeue(delay)
}

/// Wakes the dependents of an Application the watch saw change (its status included: that is
/// how a dependency becoming ready reaches them at once).
fn dependents(context: Arc<Context>) -> impl Fn(&watcher::Event<Application>) {
    move |event| match event {
        watcher::Event::Apply(app) | watcher::Event::InitApply(app) => {
            context.wake_dependents(app, false);
        }
        watcher::Event::Delete(app) => {
            context.wake_dependents(app, true);
        }
        watcher::Event::Init | watcher::Event::InitDone => {}
    }
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
