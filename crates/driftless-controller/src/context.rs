//! What every reconciliation shares: the client, the watched cluster, the Git mirror cache, the
//! last render of each application, and the triggers that wake an application up.

pub(crate) mod triage;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use driftless_api::{Alert, AppProject, Application, ApplicationStatus, Provider, Source};
use driftless_cluster::{Impersonated, KubeCluster};
use driftless_resource::{Manifest, Provenance};
use driftless_source::Cache;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::{Client, ResourceExt};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::Metrics;
use crate::clusters::{ClusterRef, Clusters, Target};
use crate::heal::Backoff;
use crate::notify::Notifier;
use crate::workers::{Bounds, Workers};

/// The reporting controller of every Event Driftless writes.
pub const CONTROLLER_NAME: &str = "driftless-controller";

/// How many Applications are reconciled at once by default. A reconciliation never waits on a
/// rollout (health is assessed by the watches), so a few workers keep the API server busy; more
/// only add connections and memory. Argo CD's default is 10 operation processors, Flux's 4.
pub const DEFAULT_CONCURRENCY: u16 = 16;

/// The controller's namespace when none is given: where its AppProjects live.
pub const DEFAULT_NAMESPACE: &str = "driftless-system";

/// Shared state of the controller.
pub struct Context {
    /// The Kubernetes client.
    pub client: Client,
    /// The cluster the controller runs in, with its discovered kinds and the live cache of
    /// managed objects.
    pub cluster: Arc<KubeCluster>,
    /// It, as a destination.
    pub(crate) local: Arc<Target>,
    /// The remote clusters in use (cluster Secrets), each with its own client and watches.
    pub(crate) clusters: Clusters,
    /// Git mirrors, one per repository URL.
    pub cache: Arc<Cache>,
    /// Writes Kubernetes Events about Applications.
    pub recorder: Recorder,
    /// Every Application, as the controller's watch last saw it.
    pub applications: Store<Application>,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// The reconciliation workers: [`DEFAULT_CONCURRENCY`] of them, fixed, unless set (the
    /// CLI makes them adaptive, [`crate::workers`]).
    pub workers: Arc<Workers>,
    /// The controller's namespace ([`DEFAULT_NAMESPACE`] unless set): its AppProjects live
    /// there, and its Applications may use any project.
    pub namespace: String,
    /// Every AppProject of [`Context::namespace`], as the controller's watch last saw it.
    pub projects: Store<AppProject>,
    /// The repository credential and cluster Secrets of [`Context::namespace`] (labelled
    /// `driftless.dev/secret-type`), as the controller's watch last saw them.
    pub credentials: Store<Secret>,
    /// The ConfigMaps of [`Context::namespace`]: SSH known hosts and TLS certificates for
    /// repositories live there.
    pub settings: Store<ConfigMap>,
    /// Notification Alerts of every namespace, as the controller's watch last saw them.
    pub alerts: Store<Alert>,
    /// Notification Providers of every namespace, as the controller's watch last saw them.
    pub providers: Store<Provider>,
    /// The queue of notifications: reconciliations put events in, never waiting.
    pub notifier: Notifier,
    /// Where SSH keys and known_hosts files for fetches are written (mode 0600).
    pub(crate) credentials_dir: PathBuf,
    /// The client configuration that impersonating clients are made from (the controller's
    /// own); without it, an Application with a ServiceAccount is not synced.
    pub impersonation: Option<kube::Config>,
    /// The Secret (namespace, name) whose `.agekey` keys decrypt the SOPS files of
    /// Applications without `spec.decryption.secretRef` (`--decryption-secret`).
    pub decryption_secret: Option<(String, String)>,
    /// Every Application must name a ServiceAccount to write as: none uses the controller's
    /// own rights.
    pub impersonate_only: bool,
    /// One client per cluster and impersonated ServiceAccount, made on first use.
    impersonating: Mutex<HashMap<(String, String, String), Client>>,
    /// When this context was made: no render is older than that.
    pub(crate) started: Instant,
    writer: Mutex<Option<reflector::store::Writer<Application>>>,
    project_writer: Mutex<Option<reflector::store::Writer<AppProject>>>,
    credential_writer: Mutex<Option<reflector::store::Writer<Secret>>>,
    settings_writer: Mutex<Option<reflector::store::Writer<ConfigMap>>>,
    alert_writer: Mutex<Option<reflector::store::Writer<Alert>>>,
    provider_writer: Mutex<Option<reflector::store::Writer<Provider>>>,
    pub(crate) triggers: UnboundedSender<String>,
    receiver: Mutex<Option<UnboundedReceiver<String>>>,
    pub(crate) apps: Mutex<HashMap<ObjectRef<Application>, AppMemory>>,
    /// Which Applications a new commit of each repository changed, to reconcile them first.
    pub(crate) triages: triage::Triages,
    /// Who depends on whom (`spec.dependsOn`), to wake dependents when a dependency changes.
    pub(crate) dependents: Mutex<crate::dependencies::Index>,
}

/// What `run` takes from the context once.
pub(crate) struct RunParts {
    /// Fills [`Context::applications`].
    pub applications: reflector::store::Writer<Application>,
    /// Fills [`Context::projects`].
    pub projects: reflector::store::Writer<AppProject>,
    /// Fills [`Context::credentials`].
    pub credentials: reflector::store::Writer<Secret>,
    /// Fills [`Context::settings`].
    pub settings: reflector::store::Writer<ConfigMap>,
    /// Fills [`Context::alerts`].
    pub alerts: reflector::store::Writer<Alert>,
    /// Fills [`Context::providers`].
    pub providers: reflector::store::Writer<Provider>,
    /// The notifications to dispatch.
    pub notifications: tokio::sync::mpsc::Receiver<driftless_notify::Event>,
    /// Application ids to reconcile now.
    pub triggers: UnboundedReceiver<String>,
}

/// What the controller remembers of one application between reconciliations (lost on restart,
/// and rebuilt from Git and the cluster; only the status is durable).
#[derive(Debug, Default)]
pub(crate) struct AppMemory {
    /// The last render of the source at its target revision.
    pub render: Option<CachedRender>,
    /// A refresh was asked for (webhook) at this instant: fetch at the next reconciliation.
    pub refresh: Option<Instant>,
    /// Self-heal attempts while something keeps changing the cluster back.
    pub heal: Backoff,
    /// Reconciliations in a row that ended in an error, for the backoff of the next one.
    pub failures: u32,
    /// The last status written, and the resource version the write produced.
    pub written: Option<(ApplicationStatus, u64)>,
}

impl AppMemory {
    /// The application's status, or the one last written when the watch has not caught up.
    pub fn newer_status(&self, app: &Application) -> ApplicationStatus {
        match &self.written {
            Some((status, version)) if *version > seen_version(app) => status.clone(),
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
    /// was asked for; else how fresh a fetch must be to serve (it must have started at that
    /// instant or later). Takes the refresh request.
    ///
    /// A first render needs a fetch no older than `first` (when the application appeared).
    pub fn fresh_render(
        &mut self,
        source: &Source,
        every: Duration,
        first: Instant,
    ) -> Result<CachedRender, Instant> {
        let refresh = self.refresh.take();
        match (&self.render, refresh) {
            (_, Some(asked)) => Err(asked),
            (None, None) => Err(first),
            (Some(r), None) if r.source == *source => {
                let due = r.fetched_at + every + r.jitter;
                if Instant::now() < due {
                    Ok(r.clone())
                } else {
                    Err(due)
                }
            }
            _ => Err(Instant::now()),
        }
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
    pub manifests: Packed,
    /// When it was fetched.
    pub fetched_at: Instant,
    /// Added to the interval for this render, so applications polling one repository spread out.
    pub jitter: Duration,
    /// Set when the fetch failed and the last fetched commit was used.
    pub fetch_error: Option<String>,
    /// What the render read, to tell whether a new commit must be rendered again (absent: it
    /// must).
    pub inputs: Option<Arc<crate::source::LastInputs>>,
    /// Earlier commits this render also stands for, newest last (as the render's `same_as`).
    pub same_as: Vec<String>,
}

/// How many earlier commits a render remembers standing for.
pub(crate) const SAME_AS_KEPT: usize = 32;

/// `same_as` with `earlier` added (the oldest dropped beyond [`SAME_AS_KEPT`]).
pub(crate) fn carried(mut same_as: Vec<String>, earlier: String) -> Vec<String> {
    same_as.retain(|c| *c != earlier);
    same_as.push(earlier);
    if same_as.len() > SAME_AS_KEPT {
        same_as.remove(0);
    }
    same_as
}

impl CachedRender {
    /// Carries this render over to `commit`, where nothing it read changed.
    pub(crate) fn carry_to(&mut self, commit: &str) {
        if self.commit != commit {
            let earlier = std::mem::replace(&mut self.commit, commit.to_owned());
            self.same_as = carried(std::mem::take(&mut self.same_as), earlier);
        }
    }
}

/// Manifests kept as JSON text: a parsed [`serde_json::Value`] costs ten times the memory, and
/// a thousand applications keep one render each.
#[derive(Debug, Clone)]
pub(crate) struct Packed(Arc<[(Box<[u8]>, Provenance)]>);

impl Packed {
    /// Packs `manifests`.
    pub fn pack(manifests: &[Manifest]) -> Result<Self, serde_json::Error> {
        let packed = manifests
            .iter()
            .map(|m| {
                let json = serde_json::to_vec(m.object())?;
                Ok((json.into_boxed_slice(), m.provenance().clone()))
            })
            .collect::<Result<Vec<_>, serde_json::Error>>()?;
        Ok(Self(packed.into()))
    }

    /// The manifests again, every one of them, or why one does not read back.
    pub fn unpack(&self) -> Result<Vec<Manifest>, String> {
        self.0
            .iter()
            .map(|(json, provenance)| {
                let object = serde_json::from_slice(json).map_err(|e| e.to_string())?;
                Manifest::new(object, provenance.clone()).map_err(|e| e.to_string())
            })
            .collect()
    }
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
        let cluster = Arc::new(KubeCluster::watched(client.clone(), triggers.clone()).await?);
        let local = Arc::new(Target {
            name: crate::local::IN_CLUSTER_NAME.to_owned(),
            server: crate::local::IN_CLUSTER_SERVER.to_owned(),
            cluster: cluster.clone(),
            config: None,
            kube_version: tokio::sync::OnceCell::new(),
        });
        let (applications, writer) = reflector::store();
        let (projects, project_writer) = reflector::store();
        let (credentials, credential_writer) = reflector::store();
        let (settings, settings_writer) = reflector::store();
        let (alerts, alert_writer) = reflector::store();
        let (providers, provider_writer) = reflector::store();
        let notifier = Notifier::new(crate::notify::QUEUE, metrics.clone());
        let credentials_dir = cache_dir.join(".credentials");
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
            local,
            clusters: Clusters::default(),
            cache: Arc::new(Cache::new(cache_dir)),
            recorder,
            applications,
            metrics,
            workers: Workers::new(Bounds::fixed(DEFAULT_CONCURRENCY)),
            namespace: DEFAULT_NAMESPACE.to_owned(),
            projects,
            credentials,
            settings,
            alerts,
            providers,
            notifier,
            credentials_dir,
            impersonation: None,
            decryption_secret: None,
            impersonate_only: false,
            impersonating: Mutex::new(HashMap::new()),
            started: Instant::now(),
            writer: Mutex::new(Some(writer)),
            project_writer: Mutex::new(Some(project_writer)),
            credential_writer: Mutex::new(Some(credential_writer)),
            settings_writer: Mutex::new(Some(settings_writer)),
            alert_writer: Mutex::new(Some(alert_writer)),
            provider_writer: Mutex::new(Some(provider_writer)),
            triggers,
            receiver: Mutex::new(Some(receiver)),
            apps: Mutex::new(HashMap::new()),
            triages: triage::Triages::default(),
            dependents: Mutex::default(),
        })
    }

    /// The store writers and trigger receiver, taken once by `run`.
    pub(crate) fn take_run_parts(&self) -> Option<RunParts> {
        let applications = lock(&self.writer).take()?;
        let projects = lock(&self.project_writer).take()?;
        let credentials = lock(&self.credential_writer).take()?;
        let settings = lock(&self.settings_writer).take()?;
        let alerts = lock(&self.alert_writer).take()?;
        let providers = lock(&self.provider_writer).take()?;
        let notifications = self.notifier.take_receiver()?;
        let triggers = lock(&self.receiver).take()?;
        Some(RunParts {
            applications,
            projects,
            credentials,
            settings,
            alerts,
            providers,
            notifications,
            triggers,
        })
    }

    /// The cluster `target` as an application writes to it: as the ServiceAccount `account`
    /// (namespace, name), or with the controller's own client for it. Reads and the live cache
    /// are shared.
    pub(crate) fn writer<'a>(
        &self,
        target: &'a Target,
        account: Option<&(String, String)>,
    ) -> Result<Impersonated<'a>, String> {
        let Some((namespace, name)) = account else {
            return Ok(target.cluster.writing_as(target.cluster.client().clone()));
        };
        let key = (target.name.clone(), namespace.clone(), name.clone());
        if let Some(client) = lock(&self.impersonating).get(&key) {
            return Ok(target.cluster.writing_as(client.clone()));
        }
        let base = target.config.as_ref().or(self.impersonation.as_ref());
        let mut config = base.cloned().ok_or_else(|| {
            format!(
                "cannot write as ServiceAccount {namespace}/{name}: the controller has no client configuration to impersonate with"
            )
        })?;
        config.auth_info.impersonate = Some(format!("system:serviceaccount:{namespace}:{name}"));
        config.auth_info.impersonate_groups = None;
        let client = Client::try_from(config)
            .map_err(|e| format!("a client for ServiceAccount {namespace}/{name}: {e}"))?;
        lock(&self.impersonating).insert(key, client.clone());
        Ok(target.cluster.writing_as(client))
    }

    /// The connected cluster `spec` deploys to, for the Application `app`; the error names the
    /// cluster. An Application of the local cluster leaves any remote one it used.
    pub(crate) async fn target(
        &self,
        spec: &crate::spec::ValidSpec,
        app: &ObjectRef<Application>,
    ) -> Result<Arc<Target>, String> {
        let id = crate::app_id(app.namespace.as_deref().unwrap_or_default(), &app.name);
        match &spec.cluster {
            ClusterRef::Local => {
                self.clusters.release(&id);
                Ok(self.local.clone())
            }
            ClusterRef::Remote(secret) => self.clusters.target(secret, &id, &self.triggers).await,
        }
    }

    /// Wakes the Applications that deploy to a cluster of Secret `secret` (changed), and every
    /// Application with a remote destination (which may name it now); returns how many.
    pub(crate) fn wake_cluster(&self, secret: &str) -> usize {
        self.clusters.wake(secret, &self.triggers);
        self.wake_where(|app| {
            let d = &app.spec.destination;
            d.name.as_deref().is_some_and(|n| !n.is_empty())
                || d.server.as_deref().is_some_and(|s| !s.is_empty())
        })
    }

    /// Wakes every Application of project `name` (a changed project takes effect at once);
    /// returns how many there were.
    pub(crate) fn wake_project(&self, name: &str) -> usize {
        self.wake_where(|app| app.project() == name)
    }

    /// Wakes every Application whose repository `credential` is for; returns how many.
    pub(crate) fn wake_repository(&self, credential: &crate::credentials::Credential) -> usize {
        self.wake_where(|app| credential.covers(&app.spec.source.repo_url))
    }

    /// Wakes every Application; returns how many.
    pub(crate) fn wake_all(&self) -> usize {
        self.wake_where(|_| true)
    }

    /// Records `app` as the watch delivered it (`deleted`: gone) and wakes the Applications
    /// that depend on it, so they go on as soon as it is ready; returns how many.
    pub(crate) fn wake_dependents(&self, app: &Application, deleted: bool) -> usize {
        let woken = self
            .dependents
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .saw(app, deleted);
        for dependent in &woken {
            let id = crate::app_id(
                dependent.namespace.as_deref().unwrap_or_default(),
                &dependent.name,
            );
            // The receiver is gone only when the controller stops.
            let _ = self.triggers.send(id);
        }
        woken.len()
    }

    fn wake_where(&self, wanted: impl Fn(&Application) -> bool) -> usize {
        let mut woken = 0;
        for app in self.applications.state() {
            if wanted(&app) {
                let id = crate::app_id(&app.namespace().unwrap_or_default(), &app.name_any());
                // The receiver is gone only when the controller stops.
                let _ = self.triggers.send(id);
                woken += 1;
            }
        }
        woken
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
        let asked = Instant::now();
        let mut apps = lock(&self.apps);
        for app in &matching {
            apps.entry(ObjectRef::from_obj(app.as_ref()))
                .or_default()
                .refresh = Some(asked);
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
        let mut apps = lock(&self.apps);
        if !apps.contains_key(app) && self.applications.get(app).is_none() {
            // Gone (or not yet seen): nothing is kept for it, so a reconciliation that ends
            // after the deletion was seen leaves nothing behind.
            return f(&mut AppMemory::default());
        }
        f(apps.entry(app.clone()).or_default())
    }

    /// The remote clusters (by name) that some Application deploys to, each with its client,
    /// discovery and watches; a cluster no Application uses any more is not among them.
    pub fn connected_clusters(&self) -> Vec<String> {
        self.clusters.names()
    }

    /// Whether the live cache has listed every kind (the controller is ready to compare).
    pub fn ready(&self) -> bool {
        self.cluster.live_cache().is_some_and(|live| live.synced())
    }

    /// Drops the copy of the last status written for `app` once the watch has delivered it, so
    /// a thousand statuses are not kept twice.
    pub(crate) fn caught_up(&self, app: &Application) {
        let mut apps = lock(&self.apps);
        if let Some(memory) = apps.get_mut(&ObjectRef::from_obj(app))
            && memory
                .written
                .as_ref()
                .is_some_and(|(_, version)| *version <= seen_version(app))
        {
            memory.written = None;
        }
    }

    /// Forgets a deleted application: what the controller remembers of it and its metric
    /// series.
    pub(crate) fn forget(&self, app: &ObjectRef<Application>) {
        lock(&self.apps).remove(app);
        self.clusters.release(&crate::app_id(
            app.namespace.as_deref().unwrap_or_default(),
            &app.name,
        ));
        self.reconciled(app);
        self.metrics
            .remove_app(app.namespace.as_deref().unwrap_or_default(), &app.name);
    }

    /// Whether the controller remembers anything of `app`.
    pub fn remembers(&self, app: &ObjectRef<Application>) -> bool {
        lock(&self.apps).contains_key(app)
    }
}

/// The resource version of `app` as a number (0 when it is not one).
fn seen_version(app: &Application) -> u64 {
    app.resource_version()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded maps stay consistent even if a holder panicked.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(name: &str, line: u64) -> Manifest {
        let object = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name}, "data": {"k": "v"}});
        let at = Provenance {
            file: "deploy/a.yaml".to_owned(),
            document: 0,
            line,
            item: None,
        };
        Manifest::new(object, at).unwrap_or_else(|e| panic!("manifest: {e}"))
    }

    #[test]
    fn a_packed_render_unpacks_to_every_manifest_with_its_provenance() -> Result<(), String> {
        let manifests = vec![manifest("a", 1), manifest("b", 7)];
        let packed = Packed::pack(&manifests).map_err(|e| e.to_string())?;
        let back = packed.unpack()?;
        assert_eq!(back.len(), 2);
        for (before, after) in manifests.iter().zip(&back) {
            assert_eq!(before.object(), after.object());
            assert_eq!(before.provenance(), after.provenance());
        }
        Ok(())
    }

    #[test]
    fn an_entry_that_does_not_read_back_is_an_error_not_a_missing_object() {
        let at = manifest("a", 1).provenance().clone();
        let broken = Packed(Arc::from(vec![
            (
                b"{\"apiVersion\":\"v1\"".to_vec().into_boxed_slice(),
                at.clone(),
            ),
            (b"{}".to_vec().into_boxed_slice(), at),
        ]));
        assert!(broken.unpack().is_err());
    }
}
