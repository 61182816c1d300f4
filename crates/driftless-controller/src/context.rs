//! What every reconciliation shares: the client, the watched cluster, the Git mirror cache, the
//! last render of each application, and the triggers that wake an application up.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use driftless_api::{Application, ApplicationStatus, Source};
use driftless_cluster::KubeCluster;
use driftless_resource::Manifest;
use driftless_source::Cache;
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::{Client, ResourceExt};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::Metrics;
use crate::heal::Backoff;

/// The reporting controller of every Event Driftless writes.
pub const CONTROLLER_NAME: &str = "driftless-controller";

/// Shared state of the controller.
pub struct Context {
    /// The Kubernetes client.
    pub client: Client,
    /// The cluster, with its discovered kinds and the live cache of managed objects.
    pub cluster: KubeCluster,
    /// Git mirrors, one per repository URL.
    pub cache: Arc<Cache>,
    /// Writes Kubernetes Events about Applications.
    pub recorder: Recorder,
    /// Every Application, as the controller's watch last saw it.
    pub applications: Store<Application>,
    /// Prometheus metrics.
    pub metrics: Metrics,
    writer: Mutex<Option<reflector::store::Writer<Application>>>,
    triggers: UnboundedSender<String>,
    receiver: Mutex<Option<UnboundedReceiver<String>>>,
    apps: Mutex<HashMap<ObjectRef<Application>, AppMemory>>,
}

/// What the controller remembers of one application between reconciliations (lost on restart,
/// and rebuilt from Git and the cluster; only the status is durable).
#[derive(Debug, Default)]
pub(crate) struct AppMemory {
    /// The last render of the source at its target revision.
    pub render: Option<CachedRender>,
    /// A refresh was asked for (webhook): fetch at the next reconciliation.
    pub refresh: bool,
    /// Self-heal attempts while something keeps changing the cluster back.
    pub heal: Backoff,
    /// This process has run a sync of the application (so a Running operation in a status it
    /// reads is its own, seen through a stale cache, not one cut short by a restart).
    pub ran_operation: bool,
    /// The last status written, and the resource version the write produced.
    pub written: Option<(ApplicationStatus, u64)>,
}

impl AppMemory {
    /// The application's status, or the one last written when the watch has not caught up.
    pub fn newer_status(&self, app: &Application) -> ApplicationStatus {
        let seen = app
            .resource_version()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        match &self.written {
            Some((status, version)) if *version > seen => status.clone(),
            _ => app.status.clone().unwrap_or_default(),
        }
    }

    /// Records a status write (`None`: nothing was written).
    pub fn wrote(&mut self, status: &ApplicationStatus, version: Option<String>) {
        if let Some(version) = version.and_then(|v| v.parse().ok()) {
            self.written = Some((status.clone(), version));
        }
    }

    /// The last render, if it is of `source` and younger than the interval, and no refresh
    /// was asked for. Takes the refresh request.
    pub fn fresh_render(&mut self, source: &Source, every: Duration) -> Option<CachedRender> {
        let refresh = std::mem::take(&mut self.refresh);
        self.render.clone().filter(|r| {
            !refresh && r.source == *source && r.fetched_at.elapsed() < every + r.jitter
        })
    }

    /// How long until the source is due again.
    pub fn next_poll(&self, every: Duration) -> Duration {
        self.render.as_ref().map_or(every, |r| {
            (every + r.jitter).saturating_sub(r.fetched_at.elapsed())
        })
    }
}

/// A render of the target revision, reused until the next poll is due.
#[derive(Debug, Clone)]
pub(crate) struct CachedRender {
    /// The source it was rendered from.
    pub source: Source,
    /// The commit.
    pub commit: String,
    /// The manifests.
    pub manifests: Arc<Vec<Manifest>>,
    /// When it was fetched.
    pub fetched_at: Instant,
    /// Added to the interval for this render, so applications polling one repository spread out.
    pub jitter: Duration,
    /// Set when the fetch failed and the last fetched commit was used.
    pub fetch_error: Option<String>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context").finish_non_exhaustive()
    }
}

impl Context {
    /// Discovers the cluster's kinds, starts the watches of managed objects and opens the Git
    /// cache in `cache_dir`. `instance` names this replica in Events; metrics are recorded in
    /// `metrics`.
    pub async fn new(
        client: Client,
        cache_dir: PathBuf,
        instance: Option<String>,
        metrics: Metrics,
    ) -> Result<Self, crate::Error> {
        let (triggers, receiver) = unbounded_channel();
        let cluster = KubeCluster::watched(client.clone(), triggers.clone()).await?;
        let (applications, writer) = reflector::store();
        let recorder = Recorder::new(
            client.clone(),
            Reporter {
                controller: CONTROLLER_NAME.to_owned(),
                instance,
            },
        );
        Ok(Self {
            client,
            cluster,
            cache: Arc::new(Cache::new(cache_dir)),
            recorder,
            applications,
            metrics,
            writer: Mutex::new(Some(writer)),
            triggers,
            receiver: Mutex::new(Some(receiver)),
            apps: Mutex::new(HashMap::new()),
        })
    }

    /// The store writer and trigger receiver, taken once by [`crate::run`].
    pub(crate) fn take_run_parts(
        &self,
    ) -> Option<(
        reflector::store::Writer<Application>,
        UnboundedReceiver<String>,
    )> {
        let writer = lock(&self.writer).take()?;
        let receiver = lock(&self.receiver).take()?;
        Some((writer, receiver))
    }

    /// Asks every Application whose `source.repoURL` is `repo_url` (compared after
    /// normalization) to fetch its source now; returns how many there were.
    pub fn refresh_repository(&self, repo_url: &str) -> usize {
        let wanted = driftless_source::normalize_repo_url(repo_url);
        let matching: Vec<Arc<Application>> = self
            .applications
            .state()
            .into_iter()
            .filter(|app| driftless_source::normalize_repo_url(&app.spec.source.repo_url) == wanted)
            .collect();
        let mut apps = lock(&self.apps);
        for app in &matching {
            apps.entry(ObjectRef::from_obj(app.as_ref()))
                .or_default()
                .refresh = true;
            let id = crate::app_id(&app.namespace().unwrap_or_default(), &app.name_any());
            // The receiver is gone only when the controller stops.
            let _ = self.triggers.send(id);
        }
        matching.len()
    }

    /// Runs `f` on what the controller remembers of `app`.
    pub(crate) fn memory<T>(
        &self,
        app: &ObjectRef<Application>,
        f: impl FnOnce(&mut AppMemory) -> T,
    ) -> T {
        f(lock(&self.apps).entry(app.clone()).or_default())
    }

    /// Whether the live cache has listed every kind (the controller is ready to compare).
    pub fn ready(&self) -> bool {
        self.cluster.live_cache().is_some_and(|live| live.synced())
    }

    /// Forgets a deleted application.
    pub(crate) fn forget(&self, app: &ObjectRef<Application>) {
        lock(&self.apps).remove(app);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded maps stay consistent even if a holder panicked.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
