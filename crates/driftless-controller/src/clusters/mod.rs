//! The clusters Applications deploy to: the one the controller runs in, and the clusters of
//! cluster Secrets ([`secret`]), each with its own client, discovery and shared watch cache.
//!
//! A remote cluster is connected on first use by an Application that deploys to it, probed
//! while any Application uses it, and disconnected (its watches stopped) when none does. A
//! cluster that cannot be reached, or refuses the credentials, fails only its own
//! Applications: its connection is retried with backoff by whichever of them comes first, and
//! the others get the last error at once instead of waiting on it.

pub(crate) mod resolve;
pub(crate) mod secret;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use driftless_cluster::KubeCluster;
use kube::Client;
use tokio::sync::mpsc::UnboundedSender;

pub(crate) use resolve::{ClusterRef, Unresolved, resolve};
pub(crate) use secret::ClusterSecret;

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The guarded maps stay consistent even if a holder panicked.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// How often a connected remote cluster is probed (`/readyz`): a cluster that went down makes
/// its Applications Unknown within this, without a request per Application. One request per
/// cluster every few seconds costs the API server nothing (Argo CD refreshes cluster info every
/// 10 s).
const PROBE_EVERY: Duration = Duration::from_secs(3);

/// How long connecting or a probe may take: a cluster that does not answer must not hold a
/// reconciliation worker for the client's default 30 s.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest wait between two connection attempts to a cluster that is down.
const MAX_RETRY: Duration = Duration::from_secs(30);

/// One cluster an Application writes to, connected.
pub(crate) struct Target {
    /// `in-cluster`, or the cluster's name.
    pub name: String,
    /// Its API server.
    pub server: String,
    /// Its kinds, reads, writes and live cache.
    pub cluster: Arc<KubeCluster>,
    /// The configuration impersonating clients are made from (`None` for the cluster the
    /// controller runs in: the context's).
    pub config: Option<kube::Config>,
    /// Its Kubernetes version (`/version`'s `gitVersion`), asked once: the default
    /// `.Capabilities.KubeVersion` of the Helm charts deployed to it.
    pub kube_version: tokio::sync::OnceCell<String>,
}

impl Target {
    /// The cluster's version ([`Target::kube_version`]), or `None` when `/version` does not
    /// answer (asked again next time; Helm's default is used meanwhile).
    pub async fn kube_version(&self) -> Option<String> {
        self.kube_version
            .get_or_try_init(|| async {
                self.cluster
                    .client()
                    .apiserver_version()
                    .await
                    .map(|info| info.git_version)
            })
            .await
            .ok()
            .cloned()
    }
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("name", &self.name)
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

/// The connection state of one remote cluster.
enum State {
    /// Not tried yet (or made again for a changed Secret).
    New,
    /// The last attempt failed; the next one not before `retry_at`.
    Failed {
        error: String,
        attempts: u32,
        retry_at: Instant,
    },
    /// Connected; `down` holds the last probe's error while it fails.
    Live {
        target: Arc<Target>,
        down: Option<String>,
    },
}

/// One remote cluster's connection and the Applications that use it.
struct Connection {
    secret: Arc<ClusterSecret>,
    state: Mutex<State>,
    /// Held while connecting, so one Application connects and the others wait for it.
    connecting: tokio::sync::Mutex<()>,
    /// Ids of the Applications that deploy to it (woken when it goes down or comes back).
    apps: Mutex<HashSet<String>>,
    probe: Mutex<Option<tokio::task::AbortHandle>>,
}

impl Connection {
    fn stop(&self) {
        if let Some(probe) = lock(&self.probe).take() {
            probe.abort();
        }
        if let State::Live { target, .. } = &*lock(&self.state) {
            target.cluster.stop();
        }
    }

    fn wake(&self, triggers: &UnboundedSender<String>) {
        for id in lock(&self.apps).iter() {
            // The receiver is gone only when the controller stops.
            let _ = triggers.send(id.clone());
        }
    }
}

/// Every remote cluster in use.
#[derive(Default)]
pub(crate) struct Clusters {
    /// By cluster Secret name.
    connections: Mutex<HashMap<String, Arc<Connection>>>,
    /// Application id → the cluster Secret it deploys to.
    users: Mutex<HashMap<String, String>>,
}

impl Clusters {
    /// The connected cluster of `secret` for the Application `app` (an id), connecting first
    /// when needed; the error names the cluster.
    pub async fn target(
        &self,
        secret: &Arc<ClusterSecret>,
        app: &str,
        triggers: &UnboundedSender<String>,
    ) -> Result<Arc<Target>, String> {
        let connection = self.use_by(secret, app);
        let named = |error: &str| {
            format!(
                "cluster {:?} ({}) is unreachable: {error}",
                secret.name, secret.server
            )
        };
        if let Some(ready) = ready(&connection) {
            return ready.map_err(|e| named(&e));
        }
        let _connecting = connection.connecting.lock().await;
        if let Some(ready) = ready(&connection) {
            return ready.map_err(|e| named(&e));
        }
        match connect(secret, triggers).await {
            Ok(target) => {
                let target = Arc::new(target);
                *lock(&connection.state) = State::Live {
                    target: target.clone(),
                    down: None,
                };
                let probe = tokio::spawn(probe(connection.clone(), triggers.clone()));
                *lock(&connection.probe) = Some(probe.abort_handle());
                tracing::info!(cluster = %secret.name, server = %secret.server, "connected");
                Ok(target)
            }
            Err(error) => {
                let mut state = lock(&connection.state);
                let attempts = match &*state {
                    State::Failed { attempts, .. } => attempts.saturating_add(1),
                    _ => 1,
                };
                let wait = retry_after(attempts);
                tracing::warn!(cluster = %secret.name, %error, retry_ms = wait.as_millis(), "cannot connect");
                *state = State::Failed {
                    error: error.clone(),
                    attempts,
                    retry_at: Instant::now() + wait,
                };
                Err(named(&error))
            }
        }
    }

    /// Records that `app` deploys to `secret`'s cluster (and no longer to another), and returns
    /// the connection, made anew when the Secret changed.
    fn use_by(&self, secret: &Arc<ClusterSecret>, app: &str) -> Arc<Connection> {
        let previous = lock(&self.users).insert(app.to_owned(), secret.secret.clone());
        if let Some(previous) = previous.filter(|p| *p != secret.secret) {
            self.leave(&previous, app);
        }
        let mut connections = lock(&self.connections);
        let stale = connections
            .get(&secret.secret)
            .is_some_and(|c| c.secret.version != secret.version);
        if stale && let Some(old) = connections.remove(&secret.secret) {
            tracing::info!(cluster = %secret.name, "cluster Secret changed; connecting again");
            old.stop();
        }
        let connection = connections
            .entry(secret.secret.clone())
            .or_insert_with(|| {
                Arc::new(Connection {
                    secret: secret.clone(),
                    state: Mutex::new(State::New),
                    connecting: tokio::sync::Mutex::new(()),
                    apps: Mutex::new(HashSet::new()),
                    probe: Mutex::new(None),
                })
            })
            .clone();
        lock(&connection.apps).insert(app.to_owned());
        connection
    }

    /// `app` deploys to no remote cluster (any more): a cluster left without Applications is
    /// disconnected.
    pub fn release(&self, app: &str) {
        if let Some(previous) = lock(&self.users).remove(app) {
            self.leave(&previous, app);
        }
    }

    fn leave(&self, secret: &str, app: &str) {
        let mut connections = lock(&self.connections);
        let unused = connections.get(secret).is_some_and(|c| {
            let mut apps = lock(&c.apps);
            apps.remove(app);
            apps.is_empty()
        });
        if unused && let Some(connection) = connections.remove(secret) {
            tracing::info!(cluster = %connection.secret.name, "no Application uses the cluster; disconnected");
            connection.stop();
        }
    }

    /// The Applications deploying to the cluster of Secret `secret`, woken (its Secret
    /// changed); returns how many.
    pub fn wake(&self, secret: &str, triggers: &UnboundedSender<String>) -> usize {
        match lock(&self.connections).get(secret) {
            Some(connection) => {
                connection.wake(triggers);
                lock(&connection.apps).len()
            }
            None => 0,
        }
    }
}

impl Clusters {
    /// The names of the remote clusters connected or being connected (some Application uses
    /// each), sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = lock(&self.connections)
            .values()
            .map(|c| c.secret.name.clone())
            .collect();
        names.sort();
        names
    }
}

/// The wait after `attempts` failed connections in a row: 1 s, 2 s, 4 s... at most
/// [`MAX_RETRY`].
fn retry_after(attempts: u32) -> Duration {
    Duration::from_secs(1)
        .saturating_mul(2u32.saturating_pow(attempts.saturating_sub(1).min(16)))
        .min(MAX_RETRY)
}

/// The connection's answer without connecting: the target, the error to give now, or `None`
/// when an attempt is due.
fn ready(connection: &Connection) -> Option<Result<Arc<Target>, String>> {
    match &*lock(&connection.state) {
        State::Live { target, down: None } => Some(Ok(target.clone())),
        State::Live {
            down: Some(error), ..
        } => Some(Err(error.clone())),
        State::Failed {
            error, retry_at, ..
        } if Instant::now() < *retry_at => Some(Err(error.clone())),
        _ => None,
    }
}

/// A client for the cluster, its discovery and its watches.
async fn connect(
    secret: &ClusterSecret,
    triggers: &UnboundedSender<String>,
) -> Result<Target, String> {
    let mut config = secret.config().await?;
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    let client = Client::try_from(config.clone()).map_err(|e| e.to_string())?;
    let cluster = tokio::time::timeout(
        CONNECT_TIMEOUT * 2,
        KubeCluster::watched(client, triggers.clone()),
    )
    .await
    .map_err(|_| format!("discovery took longer than {:?}", CONNECT_TIMEOUT * 2))?
    .map_err(|e| e.to_string())?;
    Ok(Target {
        name: secret.name.clone(),
        server: secret.server.clone(),
        cluster: Arc::new(cluster),
        config: Some(config),
        kube_version: tokio::sync::OnceCell::new(),
    })
}

/// Asks the cluster's `/readyz` every [`PROBE_EVERY`]; each change between answering and not
/// wakes the cluster's Applications.
async fn probe(connection: Arc<Connection>, triggers: UnboundedSender<String>) {
    let client = match &*lock(&connection.state) {
        State::Live { target, .. } => target.cluster.client().clone(),
        _ => return,
    };
    loop {
        tokio::time::sleep(PROBE_EVERY).await;
        let answer = tokio::time::timeout(CONNECT_TIMEOUT, readyz(&client))
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {CONNECT_TIMEOUT:?}")));
        let changed = match &mut *lock(&connection.state) {
            State::Live { down, .. } => {
                let was_down = down.is_some();
                *down = answer.err();
                was_down != down.is_some()
            }
            _ => return,
        };
        if changed {
            tracing::info!(cluster = %connection.secret.name, "cluster reachability changed");
            connection.wake(&triggers);
        }
    }
}

async fn readyz(client: &Client) -> Result<(), String> {
    let request = http::Request::get("/readyz")
        .body(Vec::new())
        .map_err(|e| e.to_string())?;
    match client.request_text(request).await {
        Ok(text) if text.trim() == "ok" => Ok(()),
        Ok(text) => Err(format!(
            "/readyz answered {:?}",
            text.chars().take(200).collect::<String>()
        )),
        Err(error) => Err(error.to_string()),
    }
}
