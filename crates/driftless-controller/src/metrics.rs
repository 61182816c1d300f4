//! The controller's Prometheus metrics: what the reconciler did, how long it took, and one info
//! series per Application with its current sync and health status.
//!
//! ```
//! use driftless_controller::{Metrics, OpResult};
//! use prometheus_client::registry::Registry;
//! use std::time::Duration;
//!
//! let mut registry = Registry::default();
//! let metrics = Metrics::new(&mut registry);
//! metrics.reconciled(OpResult::Success, Duration::from_millis(12));
//! metrics.set_app_status("team-a", "guestbook", "Synced", "Healthy");
//! // Serve `registry` (e.g. with driftless-server); clones of `metrics` share the same series.
//! ```

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// Reconcile durations, in seconds. A steady-state reconcile compares against the watch cache
/// and takes milliseconds; one that fetches Git, renders and applies takes up to seconds. So the
/// buckets are dense from 5 ms to 1 s and sparse up to 30 s (a slower one is a problem either way).
const RECONCILE_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Sync durations, in seconds. A sync applies wave by wave and waits for each wave to become
/// healthy (five minutes at most by default), so it ranges from 100 ms (a few objects, nothing to
/// wait for) to minutes (rollouts); the buckets reach ten minutes.
const SYNC_BUCKETS: [f64; 12] = [
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
];

/// Git fetch durations, in seconds: an up-to-date fetch of a nearby remote takes tens of
/// milliseconds, a first clone of a large repository a minute or more.
const GIT_FETCH_BUCKETS: [f64; 12] = [
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0,
];

/// How an operation ended, as the label `result="success|error"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpResult {
    /// It completed (whatever the Application's state).
    Success,
    /// It failed and will be retried.
    Error,
}

impl OpResult {
    /// `Success` when the result is `Ok`.
    pub fn of<T, E>(result: &Result<T, E>) -> Self {
        if result.is_ok() {
            Self::Success
        } else {
            Self::Error
        }
    }
}

impl EncodeLabelValue for OpResult {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        encoder.write_str(match self {
            Self::Success => "success",
            Self::Error => "error",
        })
    }
}

/// How a sync operation ended, as the label `phase="Succeeded|Failed"` (the names of the
/// Application's operation phases).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EncodeLabelValue)]
pub enum SyncPhase {
    /// Every step succeeded.
    Succeeded,
    /// A step failed.
    Failed,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ResultLabels {
    result: OpResult,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
struct PhaseLabels {
    phase: SyncPhase,
}

/// Why a notification was not delivered, as the label `reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EncodeLabelValue)]
pub enum Dropped {
    /// The notifier's queue was full (reconciliation never waits for it).
    QueueFull,
    /// The Provider's own queue was full (it is slow or down and many events wait).
    ProviderQueueFull,
    /// The Provider sent its most per minute already.
    RateLimited,
    /// The same event was sent in the deduplication window.
    Duplicate,
    /// The Provider cannot deliver (bad spec, missing Secret): see its Ready condition.
    InvalidProvider,
    /// Every attempt failed.
    Abandoned,
}

impl Dropped {
    const ALL: [Self; 6] = [
        Self::QueueFull,
        Self::ProviderQueueFull,
        Self::RateLimited,
        Self::Duplicate,
        Self::InvalidProvider,
        Self::Abandoned,
    ];
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
struct DroppedLabels {
    reason: Dropped,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
struct DeliveryLabels {
    namespace: String,
    provider: String,
    provider_type: String,
    result: OpResult,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
struct AppLabels {
    namespace: String,
    name: String,
    sync_status: String,
    health_status: String,
}

/// The controller's metrics. Cheap to clone: clones share the same series.
///
/// Created with [`Metrics::new`], which registers every metric in the caller's registry, so the
/// binary can add its own metrics to the same registry and serve them all on one `/metrics`.
///
/// | metric | type | labels |
/// |---|---|---|
/// | `driftless_reconcile_total` | counter | `result` = `success`, `error` |
/// | `driftless_reconcile_duration_seconds` | histogram | |
/// | `driftless_sync_total` | counter | `phase` = `Succeeded`, `Failed` |
/// | `driftless_sync_duration_seconds` | histogram | |
/// | `driftless_git_fetch_duration_seconds` | histogram | `result` = `success`, `error` (a fetch that fell back to the last fetched commit is an `error`) |
/// | `driftless_self_heal_total` | counter | |
/// | `driftless_render_total` | counter, one per render of an Application's source | |
/// | `driftless_render_skipped_total` | counter, one per fetch after which nothing an Application's last render read had changed | |
/// | `driftless_workers` | gauge, the number of reconciliation workers now | |
/// | `driftless_app_info` | gauge, always 1 | `namespace`, `name`, `sync_status`, `health_status` |
/// | `driftless_notification_deliveries_total` | counter, one per attempt | `namespace`, `provider`, `provider_type`, `result` |
/// | `driftless_notification_dropped_total` | counter | `reason` = `QueueFull`, `ProviderQueueFull`, `RateLimited`, `Duplicate`, `InvalidProvider`, `Abandoned` |
#[derive(Clone, Debug)]
pub struct Metrics {
    reconciles: Family<ResultLabels, Counter>,
    reconcile_duration: Histogram,
    syncs: Family<PhaseLabels, Counter>,
    sync_duration: Histogram,
    git_fetch_duration: Family<ResultLabels, Histogram, fn() -> Histogram>,
    self_heals: Counter,
    renders: Counter,
    renders_skipped: Counter,
    workers: Gauge,
    app_info: Family<AppLabels, Gauge>,
    deliveries: Family<DeliveryLabels, Counter>,
    dropped: Family<DroppedLabels, Counter>,
    /// The current info labels of each app, so that a new status replaces the old series.
    /// Held while the family is changed, so concurrent updates of one app never leave two series.
    apps: Arc<Mutex<HashMap<(String, String), AppLabels>>>,
}

fn git_fetch_histogram() -> Histogram {
    Histogram::new(GIT_FETCH_BUCKETS)
}

impl Metrics {
    /// Creates the metrics and registers them in `registry`.
    ///
    /// The counters of every result and phase start at zero, so rates are defined from the
    /// first scrape on.
    pub fn new(registry: &mut Registry) -> Self {
        let metrics = Self {
            reconciles: Family::default(),
            reconcile_duration: Histogram::new(RECONCILE_BUCKETS),
            syncs: Family::default(),
            sync_duration: Histogram::new(SYNC_BUCKETS),
            git_fetch_duration: Family::new_with_constructor(git_fetch_histogram),
            self_heals: Counter::default(),
            renders: Counter::default(),
            renders_skipped: Counter::default(),
            workers: Gauge::default(),
            app_info: Family::default(),
            deliveries: Family::default(),
            dropped: Family::default(),
            apps: Arc::default(),
        };
        for reason in Dropped::ALL {
            let _ = metrics.dropped.get_or_create(&DroppedLabels { reason });
        }
        // Looking a series up creates it, at zero; the guard it returns is not needed.
        for result in [OpResult::Success, OpResult::Error] {
            let _ = metrics.reconciles.get_or_create(&ResultLabels { result });
            let _ = metrics
                .git_fetch_duration
                .get_or_create(&ResultLabels { result });
        }
        for phase in [SyncPhase::Succeeded, SyncPhase::Failed] {
            let _ = metrics.syncs.get_or_create(&PhaseLabels { phase });
        }
        registry.register(
            "driftless_reconcile",
            "Reconciliations of Applications, by result",
            metrics.reconciles.clone(),
        );
        registry.register_with_unit(
            "driftless_reconcile_duration",
            "How long one reconciliation of an Application took",
            Unit::Seconds,
            metrics.reconcile_duration.clone(),
        );
        registry.register(
            "driftless_sync",
            "Sync operations, by final phase",
            metrics.syncs.clone(),
        );
        registry.register_with_unit(
            "driftless_sync_duration",
            "How long one sync operation took, waiting for health included",
            Unit::Seconds,
            metrics.sync_duration.clone(),
        );
        registry.register_with_unit(
            "driftless_git_fetch_duration",
            "How long one fetch of a Git repository took, by result",
            Unit::Seconds,
            metrics.git_fetch_duration.clone(),
        );
        registry.register(
            "driftless_self_heal",
            "Drifts of live objects from Git that were corrected",
            metrics.self_heals.clone(),
        );
        registry.register(
            "driftless_render",
            "Renders of an Application's source",
            metrics.renders.clone(),
        );
        registry.register(
            "driftless_workers",
            "How many Applications may be reconciled at once (adaptive: --min-concurrency to --max-concurrency)",
            metrics.workers.clone(),
        );
        registry.register(
            "driftless_render_skipped",
            "Fetches after which nothing an Application's last render read had changed, so it was not rendered again",
            metrics.renders_skipped.clone(),
        );
        registry.register(
            "driftless_app_info",
            "One series per Application with its current sync and health status; always 1",
            metrics.app_info.clone(),
        );
        registry.register(
            "driftless_notification_deliveries",
            "Attempts to deliver a notification to a Provider, by result (a failed attempt is retried)",
            metrics.deliveries.clone(),
        );
        registry.register(
            "driftless_notification_dropped",
            "Notifications not delivered, by reason",
            metrics.dropped.clone(),
        );
        metrics
    }

    /// The number of reconciliation workers is now `n`.
    pub fn set_workers(&self, n: u16) {
        self.workers.set(i64::from(n));
    }

    /// Records one attempt to deliver a notification to the Provider `namespace/provider`.
    pub fn notification_attempted(
        &self,
        namespace: &str,
        provider: &str,
        provider_type: &str,
        result: OpResult,
    ) {
        self.deliveries
            .get_or_create(&DeliveryLabels {
                namespace: namespace.to_owned(),
                provider: provider.to_owned(),
                provider_type: provider_type.to_owned(),
                result,
            })
            .inc();
    }

    /// Records a notification that was not delivered.
    pub fn notification_dropped(&self, reason: Dropped) {
        self.dropped.get_or_create(&DroppedLabels { reason }).inc();
    }

    /// Records one render of an Application's source.
    pub fn rendered(&self) {
        self.renders.inc();
    }

    /// Records a new commit at which an Application's last render stood.
    pub fn render_skipped(&self) {
        self.renders_skipped.inc();
    }

    /// Records one reconciliation.
    pub fn reconciled(&self, result: OpResult, duration: Duration) {
        self.reconciles
            .get_or_create(&ResultLabels { result })
            .inc();
        self.reconcile_duration.observe(duration.as_secs_f64());
    }

    /// Records one finished sync operation.
    pub fn synced(&self, phase: SyncPhase, duration: Duration) {
        self.syncs.get_or_create(&PhaseLabels { phase }).inc();
        self.sync_duration.observe(duration.as_secs_f64());
    }

    /// Records one Git fetch.
    pub fn git_fetched(&self, result: OpResult, duration: Duration) {
        self.git_fetch_duration
            .get_or_create(&ResultLabels { result })
            .observe(duration.as_secs_f64());
    }

    /// Records one corrected drift (self-heal).
    pub fn self_healed(&self) {
        self.self_heals.inc();
    }

    /// Sets the info series of an Application to its current status (e.g. `Synced`, `Healthy`),
    /// removing the series of its previous status.
    pub fn set_app_status(
        &self,
        namespace: &str,
        name: &str,
        sync_status: &str,
        health_status: &str,
    ) {
        let labels = AppLabels {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            sync_status: sync_status.to_owned(),
            health_status: health_status.to_owned(),
        };
        // A panic elsewhere while holding the lock leaves the map consistent (each step is one
        // insert or remove), so a poisoned lock is still usable.
        let mut apps = self.apps.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (labels.namespace.clone(), labels.name.clone());
        if let Some(old) = apps.get(&key)
            && *old != labels
        {
            self.app_info.remove(old);
        }
        self.app_info.get_or_create(&labels).set(1);
        apps.insert(key, labels);
    }

    /// Removes the info series of a deleted Application.
    pub fn remove_app(&self, namespace: &str, name: &str) {
        let mut apps = self.apps.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(old) = apps.remove(&(namespace.to_owned(), name.to_owned())) {
            self.app_info.remove(&old);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::encoding::text::encode;

    fn setup() -> (Registry, Metrics) {
        let mut registry = Registry::default();
        let metrics = Metrics::new(&mut registry);
        (registry, metrics)
    }

    fn text(registry: &Registry) -> String {
        let mut out = String::new();
        encode(&mut out, registry).unwrap();
        out
    }

    fn lines_starting<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
        text.lines().filter(|l| l.starts_with(prefix)).collect()
    }

    #[test]
    fn reconciles_are_counted_by_result_and_timed() {
        let (registry, metrics) = setup();
        metrics.reconciled(OpResult::Success, Duration::from_millis(20));
        metrics.reconciled(OpResult::Success, Duration::from_millis(30));
        metrics.reconciled(OpResult::Error, Duration::from_secs(2));
        let out = text(&registry);
        assert!(
            out.contains("# TYPE driftless_reconcile counter\n"),
            "{out}"
        );
        assert!(
            out.contains("driftless_reconcile_total{result=\"success\"} 2\n"),
            "{out}"
        );
        assert!(
            out.contains("driftless_reconcile_total{result=\"error\"} 1\n"),
            "{out}"
        );
        assert!(
            out.contains("# UNIT driftless_reconcile_duration_seconds seconds\n"),
            "{out}"
        );
        assert!(
            out.contains("driftless_reconcile_duration_seconds_count 3\n"),
            "{out}"
        );
        assert!(
            out.contains("driftless_reconcile_duration_seconds_sum 2.05\n"),
            "{out}"
        );
        // Cumulative buckets: both fast ones are at or under 50 ms, the slow one is not.
        assert!(
            out.contains("driftless_reconcile_duration_seconds_bucket{le=\"0.05\"} 2\n"),
            "{out}"
        );
        assert!(
            out.contains("driftless_reconcile_duration_seconds_bucket{le=\"2.5\"} 3\n"),
            "{out}"
        );
    }

    #[test]
    fn every_result_and_phase_starts_at_zero() {
        let (registry, _metrics) = setup();
        let out = text(&registry);
        assert!(
            out.contains("driftless_reconcile_total{result=\"success\"} 0\n"),
            "{out}"
        );
        assert!(
            out.contains("driftless_reconcile_total{result=\"error\"} 0\n"),
            "{out}"
        );
        assert!(
            out.contains("driftless_sync_total{phase=\"Succeeded\"} 0\n"),
            "{out}"
        );
        assert!(
            out.contains("driftless_sync_total{phase=\"Failed\"} 0\n"),
            "{out}"
        );
        assert!(out.contains("driftless_self_heal_total 0\n"), "{out}");
        assert!(
            lines_starting(&out, "driftless_app_info{").is_empty(),
            "{out}"
        );
    }

    #[test]
    fn syncs_fetches_and_self_heals_are_recorded() {
        let (registry, metrics) = setup();
        metrics.synced(SyncPhase::Succeeded, Duration::from_secs(90));
        metrics.synced(SyncPhase::Failed, Duration::from_millis(300));
        metrics.git_fetched(OpResult::Success, Duration::from_millis(40));
        metrics.git_fetched(OpResult::Error, Duration::from_secs(3));
        metrics.self_healed();
        metrics.self_healed();
        let out = text(&registry);
        assert!(
            out.contains("driftless_sync_total{phase=\"Succeeded\"} 1\n"),
            "{out}"
        );
        assert!(
            out.contains("driftless_sync_total{phase=\"Failed\"} 1\n"),
            "{out}"
        );
        assert!(
            out.contains("driftless_sync_duration_seconds_count 2\n"),
            "{out}"
        );
        assert!(
            out.contains("driftless_sync_duration_seconds_bucket{le=\"120.0\"} 2\n"),
            "{out}"
        );
        assert!(
            out.contains("driftless_sync_duration_seconds_bucket{le=\"60.0\"} 1\n"),
            "{out}"
        );
        assert!(
            out.contains(
                "driftless_git_fetch_duration_seconds_bucket{le=\"0.05\",result=\"success\"} 1\n"
            ),
            "{out}"
        );
        assert!(
            out.contains("driftless_git_fetch_duration_seconds_count{result=\"error\"} 1\n"),
            "{out}"
        );
        assert!(out.contains("driftless_self_heal_total 2\n"), "{out}");
    }

    #[test]
    fn a_new_app_status_replaces_the_old_series() {
        let (registry, metrics) = setup();
        metrics.set_app_status("team-a", "web", "OutOfSync", "Progressing");
        metrics.set_app_status("team-a", "web", "Synced", "Healthy");
        metrics.set_app_status("team-a", "web", "Synced", "Healthy");
        metrics.set_app_status("team-b", "web", "Unknown", "Unknown");
        let out = text(&registry);
        let mut series = lines_starting(&out, "driftless_app_info{");
        series.sort_unstable();
        assert_eq!(
            series,
            [
                "driftless_app_info{namespace=\"team-a\",name=\"web\",sync_status=\"Synced\",health_status=\"Healthy\"} 1",
                "driftless_app_info{namespace=\"team-b\",name=\"web\",sync_status=\"Unknown\",health_status=\"Unknown\"} 1",
            ],
            "{out}"
        );
    }

    #[test]
    fn a_removed_app_has_no_series() {
        let (registry, metrics) = setup();
        metrics.set_app_status("team-a", "web", "Synced", "Healthy");
        metrics.set_app_status("team-a", "api", "Synced", "Degraded");
        metrics.remove_app("team-a", "web");
        metrics.remove_app("team-a", "never-existed");
        let out = text(&registry);
        let series = lines_starting(&out, "driftless_app_info{");
        assert_eq!(
            series,
            [
                "driftless_app_info{namespace=\"team-a\",name=\"api\",sync_status=\"Synced\",health_status=\"Degraded\"} 1"
            ],
            "{out}"
        );
    }

    #[test]
    fn notification_attempts_and_drops_are_counted() {
        let (registry, metrics) = setup();
        let before = text(&registry);
        assert!(
            before.contains("driftless_notification_dropped_total{reason=\"QueueFull\"} 0\n"),
            "{before}"
        );
        metrics.notification_attempted("team-a", "hook", "generic", OpResult::Error);
        metrics.notification_attempted("team-a", "hook", "generic", OpResult::Success);
        metrics.notification_dropped(Dropped::Duplicate);
        let out = text(&registry);
        assert!(
            out.contains("driftless_notification_deliveries_total{namespace=\"team-a\",provider=\"hook\",provider_type=\"generic\",result=\"error\"} 1\n"),
            "{out}"
        );
        assert!(
            out.contains("driftless_notification_dropped_total{reason=\"Duplicate\"} 1\n"),
            "{out}"
        );
    }

    #[test]
    fn clones_share_the_series() {
        let (registry, metrics) = setup();
        let clone = metrics.clone();
        clone.self_healed();
        clone.set_app_status("ns", "app", "Synced", "Healthy");
        metrics.remove_app("ns", "app");
        let out = text(&registry);
        assert!(out.contains("driftless_self_heal_total 1\n"), "{out}");
        assert!(
            lines_starting(&out, "driftless_app_info{").is_empty(),
            "{out}"
        );
    }
}
