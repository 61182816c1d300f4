//! Leader election on a `coordination.k8s.io/v1` Lease, so that only one replica reconciles and
//! writes status while the others wait to take over.
//!
//! The protocol is the one client-go's `leaderelection` package documents, re-implemented here:
//!
//! - The Lease records `holderIdentity`, `leaseDurationSeconds`, `acquireTime`, `renewTime` and
//!   `leaseTransitions`.
//! - A candidate takes the Lease when it does not exist, when nobody holds it (empty
//!   `holderIdentity`, as left by a leader that released it), or when it has expired.
//! - Expiry is judged by *local observation*, as client-go does: a candidate remembers when it last
//!   saw the Lease change, and considers it expired once it has not changed for
//!   `leaseDurationSeconds`. Comparing `renewTime` with the local clock would let two nodes with
//!   skewed clocks both believe they lead; a record that stopped changing cannot.
//! - Every write carries the `resourceVersion` that was read, so two candidates racing for the same
//!   Lease cannot both win: the API server answers the second with 409 Conflict.
//! - The leader renews every `renew_period` and steps down when it has not managed to renew for
//!   `renew_deadline` (shorter than the lease duration, so it stops before anyone else may start).
//! - On shutdown the leader clears `holderIdentity`, so a successor takes over at once rather than
//!   after the lease duration.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, PostParams};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// How long a Lease stays valid without renewal: client-go's and kube-controller-manager's default.
pub const DEFAULT_LEASE_DURATION: Duration = Duration::from_secs(15);
/// How long the leader keeps trying to renew before it gives up: client-go's default, leaving
/// 5 s between the leader stopping and the earliest moment a follower may take over.
pub const DEFAULT_RENEW_DEADLINE: Duration = Duration::from_secs(10);
/// How often the leader renews: a third of the lease duration, so two renewals in a row may fail
/// before the deadline.
pub const DEFAULT_RENEW_PERIOD: Duration = Duration::from_secs(5);
/// How often a follower looks at the Lease, and how soon the leader retries a failed renewal:
/// client-go's default.
pub const DEFAULT_RETRY_PERIOD: Duration = Duration::from_secs(2);
/// The Lease the controller's replicas share (in the controller's own namespace).
pub const DEFAULT_LEASE_NAME: &str = "driftless-controller";

/// How many times a release is retried when the Lease changed under it (409).
const RELEASE_ATTEMPTS: usize = 3;

/// Which Lease to hold, as whom, and how often to renew it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseConfig {
    /// Namespace of the Lease.
    pub namespace: String,
    /// Name of the Lease.
    pub name: String,
    /// This replica's identity, unique among the replicas (see [`default_identity`]).
    pub identity: String,
    /// How long the Lease is valid without renewal; whole seconds (the Lease stores seconds).
    pub lease_duration: Duration,
    /// How long the leader keeps failing to renew before it considers leadership lost; shorter
    /// than `lease_duration`.
    pub renew_deadline: Duration,
    /// How often the leader renews; shorter than `renew_deadline`.
    pub renew_period: Duration,
    /// How often a follower checks the Lease, and the delay before retrying a failed renewal.
    pub retry_period: Duration,
}

impl LeaseConfig {
    /// A configuration with the default durations (15 s lease, 10 s deadline, 5 s renewal, 2 s
    /// retry).
    pub fn new(
        namespace: impl Into<String>,
        name: impl Into<String>,
        identity: impl Into<String>,
    ) -> Self {
        Self {
            namespace: namespace.into(),
            name: name.into(),
            identity: identity.into(),
            lease_duration: DEFAULT_LEASE_DURATION,
            renew_deadline: DEFAULT_RENEW_DEADLINE,
            renew_period: DEFAULT_RENEW_PERIOD,
            retry_period: DEFAULT_RETRY_PERIOD,
        }
    }

    /// Checks that names are set and `0 < renew_period < renew_deadline < lease_duration`.
    pub fn validate(&self) -> Result<(), LeaderError> {
        let fail = |message: String| Err(LeaderError::Config(message));
        for (field, value) in [
            ("namespace", &self.namespace),
            ("name", &self.name),
            ("identity", &self.identity),
        ] {
            if value.trim().is_empty() {
                return fail(format!("the lease {field} is empty"));
            }
        }
        if self.lease_duration.subsec_nanos() != 0 || self.lease_duration.as_secs() == 0 {
            return fail(format!(
                "the lease duration must be a whole number of seconds, at least 1 (got {:?})",
                self.lease_duration
            ));
        }
        if i32::try_from(self.lease_duration.as_secs()).is_err() {
            return fail(format!(
                "the lease duration {:?} is too long",
                self.lease_duration
            ));
        }
        if self.retry_period.is_zero() || self.renew_period.is_zero() {
            return fail("the renew and retry periods must be longer than zero".to_owned());
        }
        if self.renew_deadline >= self.lease_duration {
            return fail(format!(
                "the renew deadline ({:?}) must be shorter than the lease duration ({:?})",
                self.renew_deadline, self.lease_duration
            ));
        }
        if self.renew_period >= self.renew_deadline {
            return fail(format!(
                "the renew period ({:?}) must be shorter than the renew deadline ({:?})",
                self.renew_period, self.renew_deadline
            ));
        }
        Ok(())
    }

    fn lease(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    fn duration_seconds(&self) -> i32 {
        // validate() has checked that it fits.
        i32::try_from(self.lease_duration.as_secs()).unwrap_or(i32::MAX)
    }
}

/// Why leader election could not start or finish.
#[derive(Debug, thiserror::Error)]
pub enum LeaderError {
    /// The configuration is unusable.
    #[error("leader election: {0}")]
    Config(String),
    /// An API call failed in a way retrying does not fix (forbidden, namespace missing, invalid).
    #[error("lease {lease}: {what}: {source}")]
    Kube {
        /// `namespace/name` of the Lease.
        lease: String,
        /// What was being done.
        what: &'static str,
        /// The cause.
        #[source]
        source: Box<kube::Error>,
    },
    /// The Lease kept changing between our read and our write while we released it.
    #[error("lease {lease}: it kept changing while being released ({RELEASE_ATTEMPTS} attempts)")]
    Contended {
        /// `namespace/name` of the Lease.
        lease: String,
    },
}

/// This replica's identity: `$POD_NAME` when set (unique per pod, stable across container
/// restarts, so a restarted container takes its own Lease back at once), else the host name plus
/// a random suffix (unique per process).
pub fn default_identity() -> String {
    if let Ok(pod) = std::env::var("POD_NAME")
        && !pod.trim().is_empty()
    {
        return pod.trim().to_owned();
    }
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "driftless".to_owned());
    format!("{host}-{:08x}", rand::random::<u32>())
}

/// Leadership of one Lease, held while this value lives.
///
/// # Guarantees
/// - Two `Leadership`s for the same Lease never exist at the same time while the API server is
///   reachable: acquisition is a compare-and-swap on `resourceVersion`.
/// - The leader stops considering itself leader ([`Leadership::is_leader`] false, [`Leadership::lost`]
///   completes) no later than `renew_deadline` after its last successful renewal began, which is
///   before any follower may consider the Lease expired (`lease_duration` after it last saw a change).
/// - Another holder appearing in the Lease (an operator or a replica overwriting it) ends leadership
///   at the next renewal.
///
/// # Caveats
/// - The guarantees rest on the replicas' clocks running at the same *rate* (not on them agreeing),
///   and on the process acting on `lost()` promptly: work started before it completes may still
///   finish after it.
/// - Dropping a `Leadership` stops renewing without releasing: the Lease then expires after
///   `lease_duration`. Call [`Leadership::release`] on graceful shutdown instead.
#[derive(Debug)]
pub struct Leadership {
    api: Api<Lease>,
    config: LeaseConfig,
    leading: watch::Receiver<bool>,
    renewer: Option<JoinHandle<()>>,
}

impl Leadership {
    /// Blocks until this identity holds the Lease, then keeps renewing it in a background task.
    ///
    /// Transient API errors are logged and retried every `retry_period`; errors that retrying does
    /// not fix (RBAC forbids it, the namespace does not exist, the Lease is invalid) are returned.
    ///
    /// # Caveats
    /// Cancelling this future right after it wrote the Lease leaves the Lease held by this identity
    /// until it expires.
    pub async fn acquire(client: kube::Client, config: LeaseConfig) -> Result<Self, LeaderError> {
        config.validate()?;
        let api: Api<Lease> = Api::namespaced(client, &config.namespace);
        let mut elector = Elector::new(api.clone(), config.clone());
        let acquired = loop {
            let started = Instant::now();
            match elector.attempt(Mode::Acquire).await {
                Ok(Attempt::Held) => break started,
                Ok(Attempt::HeldBy(holder)) => {
                    tracing::debug!(lease = %config.lease(), holder = ?holder, "waiting for leadership");
                }
                Ok(Attempt::Conflict) => {
                    tracing::debug!(lease = %config.lease(), "another candidate wrote the lease first");
                }
                Err(error) if permanent(&error) => {
                    return Err(LeaderError::Kube {
                        lease: config.lease(),
                        what: "acquiring",
                        source: Box::new(error),
                    });
                }
                Err(error) => {
                    tracing::warn!(lease = %config.lease(), %error, "acquiring the lease failed; retrying");
                }
            }
            tokio::time::sleep(jittered(config.retry_period)).await;
        };
        tracing::info!(lease = %config.lease(), identity = %config.identity, "became the leader");
        let (tx, leading) = watch::channel(true);
        let renewer = tokio::spawn(elector.keep_renewing(tx, acquired));
        Ok(Self {
            api,
            config,
            leading,
            renewer: Some(renewer),
        })
    }

    /// Completes when leadership is lost: renewals failed for `renew_deadline`, or another holder
    /// took the Lease (or it was deleted). Completes at once if it is already lost.
    pub async fn lost(&self) {
        let mut leading = self.leading.clone();
        // An error means the renewer is gone (it panicked or was stopped): not leading either.
        let _ = leading.wait_for(|leading| !*leading).await;
    }

    /// Whether this replica still leads.
    pub fn is_leader(&self) -> bool {
        *self.leading.borrow() && self.leading.has_changed().is_ok()
    }

    /// A receiver that is `true` while leading, for code that only acts as the leader; it turns
    /// `false` (or closes) when leadership is lost.
    pub fn watch(&self) -> watch::Receiver<bool> {
        self.leading.clone()
    }

    /// The configuration this leadership was acquired with.
    pub fn config(&self) -> &LeaseConfig {
        &self.config
    }

    /// Stops renewing and gives the Lease up (clears `holderIdentity`), so another replica takes
    /// over at its next check instead of after the lease duration.
    ///
    /// # Guarantees
    /// Never clears a Lease that another identity holds by now; that is not an error.
    pub async fn release(mut self) -> Result<(), LeaderError> {
        if let Some(renewer) = self.renewer.take() {
            renewer.abort();
            // Wait until no renewal of ours can still be started.
            let _ = renewer.await;
        }
        let lease = self.config.lease();
        let failed = |what, error| LeaderError::Kube {
            lease: lease.clone(),
            what,
            source: Box::new(error),
        };
        for _ in 0..RELEASE_ATTEMPTS {
            let Some(mut current) = self
                .api
                .get_opt(&self.config.name)
                .await
                .map_err(|e| failed("reading before release", e))?
            else {
                return Ok(());
            };
            let spec = current.spec.get_or_insert_with(LeaseSpec::default);
            if spec.holder_identity.as_deref() != Some(self.config.identity.as_str()) {
                return Ok(());
            }
            released(spec, Timestamp::now());
            match self
                .api
                .replace(&self.config.name, &PostParams::default(), &current)
                .await
            {
                Ok(_) => {
                    tracing::info!(lease = %lease, "released the lease");
                    return Ok(());
                }
                Err(error) if is_conflict(&error) => continue,
                Err(error) => return Err(failed("releasing", error)),
            }
        }
        Err(LeaderError::Contended { lease })
    }
}

impl Drop for Leadership {
    fn drop(&mut self) {
        if let Some(renewer) = self.renewer.take() {
            renewer.abort();
        }
    }
}

/// Whether an attempt may take the Lease from someone else, or only renew our own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Acquire,
    Renew,
}

/// The outcome of one look at the Lease.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Attempt {
    /// We hold it (now, or still).
    Held,
    /// Someone else does (`None`: nobody, or the Lease is gone, while renewing).
    HeldBy(Option<String>),
    /// The Lease changed between our read and our write: someone else wrote first.
    Conflict,
}

/// The candidate's memory between attempts.
struct Elector {
    api: Api<Lease>,
    config: LeaseConfig,
    /// The record last seen and when, locally, it was first seen: the basis of expiry.
    observed: Option<(LeaseSpec, Instant)>,
}

impl Elector {
    fn new(api: Api<Lease>, config: LeaseConfig) -> Self {
        Self {
            api,
            config,
            observed: None,
        }
    }

    /// One read-and-maybe-write of the Lease.
    async fn attempt(&mut self, mode: Mode) -> Result<Attempt, kube::Error> {
        let identity = self.config.identity.clone();
        let identity = identity.as_str();
        let Some(mut lease) = self.api.get_opt(&self.config.name).await? else {
            if mode == Mode::Renew {
                return Ok(Attempt::HeldBy(None));
            }
            let spec = claim(
                None,
                identity,
                self.config.duration_seconds(),
                Timestamp::now(),
            );
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.config.name.clone()),
                    namespace: Some(self.config.namespace.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(spec),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(created) => {
                    self.observe(created.spec.unwrap_or_default());
                    Ok(Attempt::Held)
                }
                Err(error) if is_conflict(&error) => Ok(Attempt::Conflict),
                Err(error) => Err(error),
            };
        };
        let current = lease.spec.take().unwrap_or_default();
        let holder = current
            .holder_identity
            .clone()
            .filter(|holder| !holder.is_empty());
        let ours = holder.as_deref() == Some(identity);
        match mode {
            Mode::Renew if !ours => return Ok(Attempt::HeldBy(holder)),
            Mode::Acquire if !ours && holder.is_some() && !self.expired(&current) => {
                return Ok(Attempt::HeldBy(holder));
            }
            _ => {}
        }
        lease.spec = Some(claim(
            Some(&current),
            identity,
            self.config.duration_seconds(),
            Timestamp::now(),
        ));
        match self
            .api
            .replace(&self.config.name, &PostParams::default(), &lease)
            .await
        {
            Ok(written) => {
                self.observe(written.spec.unwrap_or_default());
                Ok(Attempt::Held)
            }
            Err(error) if is_conflict(&error) => Ok(Attempt::Conflict),
            Err(error) => Err(error),
        }
    }

    /// Records `spec` as seen now, unless it is the record already seen.
    fn observe(&mut self, spec: LeaseSpec) {
        if self.observed.as_ref().is_none_or(|(seen, _)| *seen != spec) {
            self.observed = Some((spec, Instant::now()));
        }
    }

    /// Whether `current` has gone unchanged, as seen from here, for its lease duration.
    fn expired(&mut self, current: &LeaseSpec) -> bool {
        self.observe(current.clone());
        let duration = current
            .lease_duration_seconds
            .and_then(|s| u64::try_from(s).ok())
            .map_or(self.config.lease_duration, Duration::from_secs);
        self.observed
            .as_ref()
            .is_some_and(|(_, since)| since.elapsed() > duration)
    }

    /// Renews until renewals have failed for `renew_deadline` or someone else holds the Lease,
    /// then reports `false` and ends.
    ///
    /// `last_renewal` is when the write that acquired the Lease was started: the deadline counts
    /// from the earliest moment that write can have reached the API server.
    async fn keep_renewing(mut self, leading: watch::Sender<bool>, mut last_renewal: Instant) {
        let lease = self.config.lease();
        let mut delay = self.config.renew_period;
        loop {
            tokio::time::sleep(delay).await;
            let started = Instant::now();
            let deadline = last_renewal + self.config.renew_deadline;
            let outcome = tokio::time::timeout_at(deadline, self.attempt(Mode::Renew)).await;
            match outcome {
                Ok(Ok(Attempt::Held)) => {
                    last_renewal = started;
                    delay = self.config.renew_period;
                    continue;
                }
                Ok(Ok(Attempt::HeldBy(holder))) => {
                    tracing::warn!(lease = %lease, holder = ?holder, "leadership lost: the lease is held by someone else");
                    break;
                }
                Ok(Ok(Attempt::Conflict)) => {
                    tracing::debug!(lease = %lease, "the lease changed while renewing; looking again");
                }
                Ok(Err(error)) => {
                    tracing::warn!(lease = %lease, %error, "renewing the lease failed; retrying");
                }
                Err(_) => {}
            }
            if Instant::now() >= deadline {
                tracing::warn!(lease = %lease, deadline = ?self.config.renew_deadline, "leadership lost: could not renew the lease in time");
                break;
            }
            delay = self
                .config
                .retry_period
                .min(deadline.saturating_duration_since(Instant::now()));
        }
        let _ = leading.send(false);
    }
}

/// The record after `identity` claims or renews it at `now`.
///
/// A new holder (including after a release, when nobody held it) gets a fresh `acquireTime` and
/// one more `leaseTransitions`; the same holder keeps both.
fn claim(current: Option<&LeaseSpec>, identity: &str, duration: i32, now: Timestamp) -> LeaseSpec {
    let now = MicroTime(now);
    let mut next = current.cloned().unwrap_or_default();
    let same_holder = next.holder_identity.as_deref() == Some(identity);
    if !same_holder {
        next.acquire_time = Some(now.clone());
        next.lease_transitions = Some(match current {
            Some(current) => current.lease_transitions.unwrap_or(0).saturating_add(1),
            None => 0,
        });
    } else if next.acquire_time.is_none() {
        next.acquire_time = Some(now.clone());
    }
    next.holder_identity = Some(identity.to_owned());
    next.lease_duration_seconds = Some(duration);
    next.renew_time = Some(now);
    next
}

/// The record after its holder gives it up at `now`.
fn released(spec: &mut LeaseSpec, now: Timestamp) {
    spec.holder_identity = None;
    spec.renew_time = Some(MicroTime(now));
}

fn is_conflict(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if status.code == 409)
}

/// Errors that retrying cannot fix: unauthenticated, forbidden by RBAC, the namespace missing
/// (a create answered 404), or a Lease the API server rejects.
fn permanent(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if matches!(status.code, 400 | 401 | 403 | 404 | 422))
}

/// `period` stretched by up to 20 %, so followers that started together do not poll in lockstep.
fn jittered(period: Duration) -> Duration {
    period.mul_f64(1.0 + 0.2 * rand::random::<f64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> LeaseConfig {
        LeaseConfig::new("driftless-system", "driftless-controller", "a")
    }

    #[test]
    fn default_durations_are_valid_and_bad_ones_are_named() {
        assert!(config().validate().is_ok());
        let mut c = config();
        c.renew_deadline = c.lease_duration;
        let message = c
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(message.contains("renew deadline"), "{message}");
        let mut c = config();
        c.lease_duration = Duration::from_millis(2500);
        let message = c
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(message.contains("whole number of seconds"), "{message}");
        let mut c = config();
        c.identity = " ".to_owned();
        let message = c
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(message.contains("identity is empty"), "{message}");
        let mut c = config();
        c.renew_period = c.renew_deadline;
        assert!(c.validate().is_err());
    }

    #[test]
    fn a_new_holder_counts_a_transition_and_the_same_holder_does_not() {
        let t0 = Timestamp::from_second(1_000).unwrap_or(Timestamp::UNIX_EPOCH);
        let t1 = Timestamp::from_second(1_005).unwrap_or(Timestamp::UNIX_EPOCH);
        let first = claim(None, "a", 15, t0);
        assert_eq!(first.lease_transitions, Some(0));
        assert_eq!(first.holder_identity.as_deref(), Some("a"));

        let renewed = claim(Some(&first), "a", 15, t1);
        assert_eq!(renewed.lease_transitions, Some(0));
        assert_eq!(renewed.acquire_time, Some(MicroTime(t0)));
        assert_eq!(renewed.renew_time, Some(MicroTime(t1)));

        let taken = claim(Some(&renewed), "b", 15, t1);
        assert_eq!(taken.lease_transitions, Some(1));
        assert_eq!(taken.acquire_time, Some(MicroTime(t1)));

        let mut free = taken.clone();
        released(&mut free, t1);
        assert_eq!(free.holder_identity, None);
        let after_release = claim(Some(&free), "a", 15, t1);
        assert_eq!(after_release.lease_transitions, Some(2));
    }

    #[test]
    fn the_identity_is_the_pod_name_or_unique_per_process() {
        // Only the fallback is checked: the environment is shared by the tests of this binary.
        if std::env::var_os("POD_NAME").is_none() {
            assert_ne!(default_identity(), default_identity());
        }
    }
}
