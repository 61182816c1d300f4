//! Starting, checking and stopping one control plane.

use std::future::Future;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Node, ServiceAccount};
use kube::api::{Api, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use crate::Error;
use crate::binaries::Binaries;
use crate::certs::Credentials;
use crate::process::{Guarded, Janitor};

/// How long each stage of start-up may take. A busy 2-core machine can need a minute for the
/// API server alone, so these are generous; a healthy start takes a few seconds.
const STAGE_TIMEOUT: Duration = Duration::from_secs(180);
/// How often readiness is polled.
const POLL: Duration = Duration::from_millis(100);
/// Name of the fake node kwok manages.
pub const FAKE_NODE: &str = "kwok-node-0";
/// The audit log's file name in the control plane's directory.
const AUDIT_LOG: &str = "audit.log";

/// A component of the control plane, for fault injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    /// The etcd member holding the cluster's state.
    Etcd,
    /// `kube-apiserver`.
    ApiServer,
    /// `kube-controller-manager`.
    ControllerManager,
    /// `kube-scheduler`.
    Scheduler,
    /// `kwok`, which runs the fake node.
    Kwok,
}

impl Component {
    /// The component's process (and log file) name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Etcd => "etcd",
            Self::ApiServer => "kube-apiserver",
            Self::ControllerManager => "kube-controller-manager",
            Self::Scheduler => "kube-scheduler",
            Self::Kwok => "kwok",
        }
    }
}

/// Where and how to start a control plane.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Directory for certificates, data, logs and the kubeconfig. When `None`, a temporary
    /// directory is created and removed again once the control plane has stopped.
    pub dir: Option<PathBuf>,
    /// An audit policy file (`audit.k8s.io/v1` `Policy`) for the API server. When set, the API
    /// server writes the events it selects, one JSON object a line, to [`ControlPlane::audit_log`].
    pub audit_policy: Option<PathBuf>,
}

/// A running control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok
/// with one fake node.
///
/// # Guarantees
/// Every process it started is stopped when it is dropped, and also when the process holding it
/// exits in any way (see [`crate::process`]), so a static one never leaks processes.
#[derive(Debug)]
pub struct ControlPlane {
    dir: PathBuf,
    kubeconfig: PathBuf,
    server: String,
    /// The admin's bearer token.
    token: String,
    /// The CA certificate (PEM) the API server's serving certificate is signed by.
    ca_cert: PathBuf,
    /// Started in order; stopped in reverse order.
    components: Mutex<Vec<Guarded>>,
    /// Removes a temporary directory once the components are gone.
    janitor: Option<Janitor>,
}

impl ControlPlane {
    /// Starts every component and returns once the API server is ready, the controller-manager
    /// has created the default ServiceAccount and kwok reports the fake node Ready.
    pub async fn start(options: Options) -> Result<Self, Error> {
        let binaries = Binaries::locate()?;
        let (dir, temporary) = match options.dir {
            Some(dir) => {
                std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
                    what: format!("creating {}", dir.display()),
                    source,
                })?;
                (dir, false)
            }
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("driftless-testenv-")
                    .tempdir()
                    .map_err(|source| Error::Io {
                        what: "creating a temporary directory".to_owned(),
                        source,
                    })?
                    .keep();
                (dir, true)
            }
        };
        let janitor = if temporary {
            Some(Janitor::spawn(&dir)?)
        } else {
            None
        };
        let creds = Credentials::generate(&dir)?;
        let etcd_port = free_port()?;
        let etcd_peer_port = free_port()?;
        let api_port = free_port()?;
        let kwok_port = free_port()?;
        let server = format!("https://127.0.0.1:{api_port}");
        let kubeconfig = dir.join("kubeconfig");
        write_kubeconfig(&kubeconfig, &server, &creds)?;

        let mut plane = Self {
            dir: dir.clone(),
            kubeconfig: kubeconfig.clone(),
            server: server.clone(),
            token: creds.token.clone(),
            ca_cert: creds.ca_cert.clone(),
            components: Mutex::new(Vec::new()),
            janitor,
        };
        let etcd_url = format!("http://127.0.0.1:{etcd_port}");
        let audit: Vec<String> = match &options.audit_policy {
            Some(policy) => vec![
                format!("--audit-policy-file={}", policy.display()),
                format!("--audit-log-path={}", dir.join(AUDIT_LOG).display()),
                "--audit-log-format=json".to_owned(),
                // Each event is written before the request returns, so a test reading the log
                // after its requests sees all of them.
                "--audit-log-mode=blocking".to_owned(),
            ],
            None => Vec::new(),
        };
        plane.spawn(
            &binaries,
            "etcd",
            vec![
                format!("--data-dir={}", dir.join("etcd").display()),
                format!("--listen-client-urls={etcd_url}"),
                format!("--advertise-client-urls={etcd_url}"),
                format!("--listen-peer-urls=http://127.0.0.1:{etcd_peer_port}"),
                format!("--initial-advertise-peer-urls=http://127.0.0.1:{etcd_peer_port}"),
                format!("--initial-cluster=default=http://127.0.0.1:{etcd_peer_port}"),
                "--unsafe-no-fsync".to_owned(),
                "--log-level=warn".to_owned(),
            ],
        )?;
        plane.spawn(
            &binaries,
            "kube-apiserver",
            vec![
                format!("--etcd-servers={etcd_url}"),
                "--bind-address=127.0.0.1".to_owned(),
                "--advertise-address=127.0.0.1".to_owned(),
                format!("--secure-port={api_port}"),
                format!("--cert-dir={}", dir.join("apiserver-certs").display()),
                format!("--tls-cert-file={}", creds.serving_cert.display()),
                format!("--tls-private-key-file={}", creds.serving_key.display()),
                format!("--token-auth-file={}", creds.token_file.display()),
                format!("--service-account-issuer={server}"),
                format!("--service-account-key-file={}", creds.sa_pub.display()),
                format!(
                    "--service-account-signing-key-file={}",
                    creds.sa_key.display()
                ),
                // Virtual ClusterIPs only (nothing routes to them here); a /16 leaves room for
                // benchmarks with thousands of Services.
                "--service-cluster-ip-range=10.96.0.0/16".to_owned(),
                "--authorization-mode=RBAC".to_owned(),
                "--allow-privileged=true".to_owned(),
                // Neither is needed on one loopback API server, and both slow start-up.
                "--enable-priority-and-fairness=false".to_owned(),
                "--endpoint-reconciler-type=none".to_owned(),
                "--profiling=false".to_owned(),
            ]
            .into_iter()
            .chain(audit)
            .collect(),
        )?;
        let client = client_for(&kubeconfig).await?;
        plane
            .wait_for("kube-apiserver /readyz", || async {
                let request = http::Request::get("/readyz").body(Vec::new());
                match request {
                    Ok(request) => client.request_text(request).await.is_ok_and(|t| t == "ok"),
                    Err(_) => false,
                }
            })
            .await?;

        let kubeconfig_arg = format!("--kubeconfig={}", kubeconfig.display());
        plane.spawn(
            &binaries,
            "kube-controller-manager",
            vec![
                kubeconfig_arg.clone(),
                "--leader-elect=false".to_owned(),
                "--secure-port=0".to_owned(),
                "--controllers=*".to_owned(),
                format!(
                    "--service-account-private-key-file={}",
                    creds.sa_key.display()
                ),
                format!("--root-ca-file={}", creds.ca_cert.display()),
                // Tests create many objects at once; the defaults (20/30) make them wait.
                "--kube-api-qps=200".to_owned(),
                "--kube-api-burst=400".to_owned(),
            ],
        )?;
        plane.spawn(
            &binaries,
            "kube-scheduler",
            vec![
                kubeconfig_arg.clone(),
                "--leader-elect=false".to_owned(),
                "--secure-port=0".to_owned(),
                "--kube-api-qps=200".to_owned(),
                "--kube-api-burst=400".to_owned(),
            ],
        )?;
        plane.spawn(
            &binaries,
            "kwok",
            vec![
                kubeconfig_arg,
                format!("--config={}", binaries.kwok_stages().display()),
                "--manage-all-nodes=false".to_owned(),
                "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake".to_owned(),
                format!("--server-address=127.0.0.1:{kwok_port}"),
                "--node-ip=127.0.0.1".to_owned(),
            ],
        )?;

        // kwok builds the CEL environment of its metrics server after its controllers have
        // started, and easycel keeps process-wide maps that it writes without a lock; the first node
        // event compiles the node stages into the same maps. Creating the fake node while the
        // metrics environment is still being built crashes kwok ("concurrent map writes"). The
        // server listens only after that environment is built, so wait for it first.
        plane
            .wait_for("kwok's server to listen", || async move {
                // Loopback: refused or accepted at once, so a blocking connect is fine here.
                std::net::TcpStream::connect(("127.0.0.1", kwok_port)).is_ok()
            })
            .await?;
        create_fake_node(&client).await?;
        let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), "default");
        plane
            .wait_for(
                "the default ServiceAccount (kube-controller-manager)",
                || async {
                    accounts
                        .get_opt("default")
                        .await
                        .is_ok_and(|sa| sa.is_some())
                },
            )
            .await?;
        let nodes: Api<Node> = Api::all(client.clone());
        plane
            .wait_for("the fake node to be Ready (kwok)", || async {
                nodes
                    .get_opt(FAKE_NODE)
                    .await
                    .is_ok_and(|node| node_ready(node.as_ref()))
            })
            .await?;
        Ok(plane)
    }

    /// The kubeconfig file (admin credentials, default namespace `default`).
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// The API server's URL.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The admin's bearer token (what the kubeconfig authenticates with).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The PEM CA certificate that signs the API server's serving certificate.
    pub fn ca_pem(&self) -> Result<Vec<u8>, Error> {
        std::fs::read(&self.ca_cert).map_err(|source| Error::Io {
            what: format!("reading {}", self.ca_cert.display()),
            source,
        })
    }

    /// The directory holding certificates, etcd data, the kubeconfig and each component's log.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the API server writes its audit events when started with [`Options::audit_policy`].
    pub fn audit_log(&self) -> PathBuf {
        self.dir.join(AUDIT_LOG)
    }

    /// A new client with admin rights. Each async runtime (each test) should build its own.
    pub async fn client(&self) -> Result<Client, Error> {
        client_for(&self.kubeconfig).await
    }

    /// Fails with the component's log when any component has exited.
    pub fn check_running(&self) -> Result<(), Error> {
        let mut components = self
            .components
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        components.iter_mut().try_for_each(Guarded::check_running)
    }

    /// Stops `component` gracefully (SIGTERM) and waits until it has exited. The others keep
    /// running; [`ControlPlane::start_component`] brings it back.
    pub fn stop_component(&self, component: Component) -> Result<(), Error> {
        self.with_component(component, Guarded::terminate)
    }

    /// Kills `component` with SIGKILL (no clean shutdown) and waits until it is gone.
    pub fn kill_component(&self, component: Component) -> Result<(), Error> {
        self.with_component(component, Guarded::kill)
    }

    /// Starts a stopped or killed `component` again with the same configuration (ports, data
    /// directory, certificates) and, for etcd and the API server, waits until the API server is
    /// ready again. Does nothing to a component that is running.
    pub async fn start_component(&self, component: Component) -> Result<(), Error> {
        self.with_component(component, Guarded::start)?;
        if matches!(component, Component::Etcd | Component::ApiServer) {
            self.wait_until_ready().await?;
        }
        Ok(())
    }

    /// Kills `component` (SIGKILL) and starts it again: [`ControlPlane::kill_component`] then
    /// [`ControlPlane::start_component`].
    pub async fn restart_component(&self, component: Component) -> Result<(), Error> {
        self.kill_component(component)?;
        self.start_component(component).await
    }

    /// Waits until the API server answers `/readyz` with `ok` (which includes its etcd check).
    pub async fn wait_until_ready(&self) -> Result<(), Error> {
        let client = self.client().await?;
        self.wait_for("kube-apiserver /readyz", || async {
            match http::Request::get("/readyz").body(Vec::new()) {
                Ok(request) => client.request_text(request).await.is_ok_and(|t| t == "ok"),
                Err(_) => false,
            }
        })
        .await
    }

    fn with_component(
        &self,
        component: Component,
        act: impl FnOnce(&mut Guarded) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut components = self
            .components
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let guarded = components
            .iter_mut()
            .find(|c| c.name() == component.name())
            .ok_or_else(|| Error::Shared(format!("no component {}", component.name())))?;
        act(guarded)
    }

    /// Stops every component, newest first.
    pub fn stop(&mut self) {
        let components = self
            .components
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while let Some(mut component) = components.pop() {
            component.stop();
        }
        if let Some(janitor) = self.janitor.take() {
            janitor.clean_now();
        }
    }

    fn spawn(&mut self, binaries: &Binaries, name: &str, args: Vec<String>) -> Result<(), Error> {
        let log = self.dir.join(format!("{name}.log"));
        let component = Guarded::spawn(name, &binaries.path(name), &args, &log)?;
        self.components
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(component);
        Ok(())
    }

    /// Polls `ready` until it holds, failing early when a component dies.
    async fn wait_for<F, Fut>(&self, what: &str, mut ready: F) -> Result<(), Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = bool>,
    {
        let deadline = Instant::now() + STAGE_TIMEOUT;
        loop {
            self.check_running()?;
            if ready().await {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(Error::Timeout {
                    what: what.to_owned(),
                    seconds: STAGE_TIMEOUT.as_secs(),
                    dir: self.dir.clone(),
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> Result<u16, Error> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|source| Error::Io {
        what: "finding a free loopback port".to_owned(),
        source,
    })?;
    listener
        .local_addr()
        .map(|addr| addr.port())
        .map_err(|source| Error::Io {
            what: "finding a free loopback port".to_owned(),
            source,
        })
}

fn write_kubeconfig(path: &Path, server: &str, creds: &Credentials) -> Result<(), Error> {
    let contents = format!(
        "apiVersion: v1
kind: Config
clusters:
- name: driftless-testenv
  cluster:
    server: {server}
    certificate-authority: {ca}
users:
- name: admin
  user:
    token: {token}
contexts:
- name: driftless-testenv
  context:
    cluster: driftless-testenv
    user: admin
    namespace: default
current-context: driftless-testenv
",
        ca = creds.ca_cert.display(),
        token = creds.token,
    );
    std::fs::write(path, contents).map_err(|source| Error::Io {
        what: format!("writing {}", path.display()),
        source,
    })
}

pub(crate) async fn client_for(kubeconfig: &Path) -> Result<Client, Error> {
    let fail = |message: String| Error::Client {
        path: kubeconfig.to_owned(),
        message,
    };
    let kc = Kubeconfig::read_from(kubeconfig).map_err(|e| fail(e.to_string()))?;
    let config = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .map_err(|e| fail(e.to_string()))?;
    Client::try_from(config).map_err(|e| fail(e.to_string()))
}

async fn create_fake_node(client: &Client) -> Result<(), Error> {
    let node: Node = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": FAKE_NODE,
            "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {
                "type": "kwok",
                "kubernetes.io/hostname": FAKE_NODE,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
            },
        },
        "status": {
            "allocatable": {"cpu": "32", "memory": "256Gi", "pods": "110"},
            "capacity": {"cpu": "32", "memory": "256Gi", "pods": "110"},
        },
    }))
    .map_err(|e| Error::Client {
        path: PathBuf::new(),
        message: format!("building the fake node: {e}"),
    })?;
    Api::<Node>::all(client.clone())
        .create(&PostParams::default(), &node)
        .await
        .map_err(|source| Error::Kube {
            what: format!("creating node {FAKE_NODE}"),
            source: Box::new(source),
        })?;
    Ok(())
}

fn node_ready(node: Option<&Node>) -> bool {
    node.and_then(|n| n.status.as_ref())
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True")
        })
}
