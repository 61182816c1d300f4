//! Observations for the unit tests of the pure steps (decide, report, lifecycle records),
//! built without a cluster.

use std::sync::Arc;
use std::time::Duration;

use driftless_api::{
    Application, ApplicationStatus, Automated, HistoryEntry, OperationPhase, OperationState,
    SyncRequest, SyncStatusCode,
};
use driftless_health::HealthStatus;
use driftless_resource::{Manifest, Provenance};
use k8s_openapi::jiff::Timestamp;
use kube::runtime::reflector::ObjectRef;

use crate::observe::{Comparison, Observation, Render, SourceFailure};
use crate::spec::validate;
use crate::status::Summary;

/// The commit every fixture renders.
pub const COMMIT: &str = "1111111111111111111111111111111111111111";
/// An earlier commit.
pub const OLD: &str = "0000000000000000000000000000000000000000";

/// A fixed instant.
pub fn now() -> Timestamp {
    Timestamp::from_second(1_800_000_000).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// An Application with `spec` (merged over a valid minimal one).
pub fn application(spec: serde_json::Value) -> Application {
    let mut base = serde_json::json!({
        "source": {"repoURL": "file:///r", "path": "deploy"},
        "destination": {"namespace": "web"},
    });
    if let (Some(base), Some(extra)) = (base.as_object_mut(), spec.as_object()) {
        for (k, v) in extra {
            base.insert(k.clone(), v.clone());
        }
    }
    let value = serde_json::json!({
        "apiVersion": "driftless.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "guestbook", "namespace": "apps", "generation": 3},
        "spec": base,
    });
    serde_json::from_value(value).unwrap_or_else(|e| panic!("fixture application: {e}"))
}

fn manifest() -> Manifest {
    let object = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings"}, "data": {"mode": "a"}});
    let at = Provenance {
        file: "deploy/settings.yaml".to_owned(),
        document: 0,
        line: 1,
        item: None,
    };
    Manifest::new(object, at).unwrap_or_else(|e| panic!("fixture manifest: {e}"))
}

/// An automated (prune + self-heal) Application, rendered at [`COMMIT`], in sync, never synced.
pub fn observation() -> Observation {
    let app = application(serde_json::json!({
        "syncPolicy": {"automated": {"prune": true, "selfHeal": true}},
    }));
    let spec = validate(&app);
    Observation {
        me: ObjectRef::new("guestbook").within("apps"),
        generation: Some(3),
        deletion: None,
        previous: ApplicationStatus::default(),
        spec,
        automated: Some(Automated {
            prune: true,
            self_heal: true,
            allow_empty: false,
        }),
        request: None,
        heal_wait: Duration::ZERO,
        now: now(),
        source: Some(Ok(Render {
            commit: COMMIT.to_owned(),
            manifests: vec![manifest()],
            fetch_error: None,
            fetched: true,
            unchanged: false,
            same_as: Vec::new(),
        })),
        compare: Some(Ok(comparison(false))),
        forbidden: Vec::new(),
        unowned: None,
        target: None,
        deferred: false,
        blocked: None,
        app: Arc::new(app),
    }
}

/// A comparison that is in sync and healthy, or out of sync.
pub fn comparison(out_of_sync: bool) -> Comparison {
    Comparison {
        observed: Default::default(),
        drifts: Vec::new(),
        out_of_sync,
        denied: Vec::new(),
        summary: Summary {
            code: if out_of_sync {
                SyncStatusCode::OutOfSync
            } else {
                SyncStatusCode::Synced
            },
            resources: Vec::new(),
            health: HealthStatus::healthy(),
        },
    }
}

/// `seen` with the cluster out of sync.
pub fn drifted(mut seen: Observation) -> Observation {
    seen.compare = Some(Ok(comparison(true)));
    seen
}

/// `seen` with [`COMMIT`] already synced (in its history).
pub fn synced_before(mut seen: Observation) -> Observation {
    seen.previous.history = vec![HistoryEntry {
        id: 1,
        revision: COMMIT.to_owned(),
        deployed_at: "2027-01-15T08:00:00Z".to_owned(),
        initiated_by: Some("automated".to_owned()),
        source: None,
    }];
    seen
}

/// A sync request.
pub fn request(id: &str) -> SyncRequest {
    SyncRequest {
        id: id.to_owned(),
        revision: Some(COMMIT.to_owned()),
        prune: true,
        initiated_by: Some("user".to_owned()),
    }
}

/// An operation in `phase` at [`COMMIT`].
pub fn operation(phase: OperationPhase) -> OperationState {
    OperationState {
        phase,
        message: String::new(),
        revision: Some(COMMIT.to_owned()),
        initiated_by: Some("automated".to_owned()),
        started_at: "2027-01-15T08:00:00Z".to_owned(),
        finished_at: None,
        results: Vec::new(),
        request_id: None,
        prune: true,
        retry_count: 0,
        next_attempt_at: None,
        progress: None,
    }
}

/// A failed fetch.
pub fn fetch_failed() -> SourceFailure {
    SourceFailure {
        reason: driftless_api::reasons::FETCH_FAILED,
        message: "source: connection refused".to_owned(),
    }
}
