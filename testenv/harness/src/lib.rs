//! A real Kubernetes control plane for tests, benchmarks and the demo.
//!
//! The binaries come from `testenv/build`, which compiles them from their published Go modules:
//! etcd, kube-apiserver, kube-controller-manager (so Deployments get ReplicaSets, namespaces are
//! finalized and garbage collection runs), kube-scheduler and kwok (fake nodes whose pods become
//! Running without containers).
//!
//! Tests share one control plane per test binary and work in a namespace of their own:
//!
//! ```no_run
//! # async fn example() -> Result<(), driftless_testenv::Error> {
//! driftless_testenv::with_namespace("my-test", |client, namespace| async move {
//!     // ... use `client` in `namespace`; it is deleted afterwards, even on panic.
//! })
//! .await?;
//! # Ok(())
//! # }
//! ```

mod binaries;
mod certs;
mod control_plane;
mod crd;
mod error;
mod git;
mod git_daemon;
mod gpg;
mod namespace;
pub mod process;
pub mod proxy;
mod sealed_secrets;

pub use binaries::{
    Binaries, kubernetes_version, reference_helm, reference_kustomize, reference_sealed_secrets,
    reference_sops, reference_yaml,
};
pub use control_plane::{Component, ControlPlane, FAKE_NODE, Options};
pub use crd::{install_crd, install_project_crds};
pub use error::Error;
pub use git::git;
pub use git_daemon::GitDaemon;
pub use gpg::{GpgKey, gpg_key};
pub use namespace::{TestNamespace, with_namespace};
pub use proxy::{ApiProxy, Faults};
pub use sealed_secrets::SealedSecretsController;

use std::future::Future;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The control plane shared by every test of this test binary.
static SHARED: OnceLock<Result<ControlPlane, String>> = OnceLock::new();

/// How many extra control planes a test binary may start ([`extra`]): each costs a few
/// hundred megabytes and some CPU, and the test machines have 2 cores.
pub const MAX_EXTRA: usize = 3;

/// Extra control planes of this test binary, by index, for tests of several clusters.
static EXTRA: [OnceLock<Result<ControlPlane, String>>; MAX_EXTRA] =
    [OnceLock::new(), OnceLock::new(), OnceLock::new()];

/// The control plane of this test binary, started on first use.
///
/// It is started on a thread of its own so that it outlives the async runtime of the test that
/// happened to start it; each test then builds its own client with [`ControlPlane::client`].
pub fn shared() -> Result<&'static ControlPlane, Error> {
    started(&SHARED)
}

/// Extra control plane number `index` (0-based, below [`MAX_EXTRA`]) of this test binary,
/// started on first use: independent of [`shared`] and of each other, each with its own etcd,
/// API server, controller-manager, scheduler and kwok node, data directory and ports. For
/// tests of a controller that deploys to several clusters.
pub fn extra(index: usize) -> Result<&'static ControlPlane, Error> {
    let slot = EXTRA.get(index).ok_or_else(|| {
        Error::Shared(format!(
            "extra control plane {index}: at most {MAX_EXTRA} per test binary"
        ))
    })?;
    started(slot)
}

fn started(
    slot: &'static OnceLock<Result<ControlPlane, String>>,
) -> Result<&'static ControlPlane, Error> {
    let started = slot.get_or_init(|| {
        std::thread::spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("building a runtime: {e}"))?;
            runtime
                .block_on(ControlPlane::start(Options::default()))
                .map_err(|e| e.to_string())
        })
        .join()
        .unwrap_or_else(|_| Err("the start-up thread panicked".to_owned()))
    });
    match started {
        Ok(plane) => Ok(plane),
        Err(message) => Err(Error::Shared(message.clone())),
    }
}

/// Polls `check` every 100 ms until it returns `Some`, or fails after `timeout` naming `what`.
///
/// For waiting on controllers in tests. The timeout is a bound on liveness, not a performance
/// assertion: pick it generously.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return Ok(value);
        }
        if Instant::now() > deadline {
            let dir = SHARED
                .get()
                .and_then(|s| s.as_ref().ok())
                .map(|plane| plane.dir().to_owned())
                .unwrap_or_default();
            return Err(Error::Timeout {
                what: what.to_owned(),
                seconds: timeout.as_secs(),
                dir,
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
