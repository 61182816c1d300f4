//! Table test: every fixture under `tests/fixtures/<kind>/<case>.yaml` with the health it must
//! get. A fixture missing from the table, or a table row without its file, fails the test.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use driftless_health::{Health, assess};
use serde_json::Value;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// (fixture path under `tests/fixtures`, expected health, a word the message must contain).
/// `recorded-*` fixtures were read from the test control plane (Kubernetes v1.35.4 with kwok);
/// the others are written by hand for states a test cluster does not reach on its own.
const CASES: &[(&str, Health, &str)] = &[
    ("deployment/recorded-available.yaml", Health::Healthy, ""),
    (
        "job/recorded-complete.yaml",
        Health::Healthy,
        "succeeded pods",
    ),
    (
        "job/recorded-suspended.yaml",
        Health::Suspended,
        "suspended",
    ),
    ("crd/recorded-established.yaml", Health::Healthy, ""),
    ("apiservice/recorded-local.yaml", Health::Healthy, ""),
    ("namespace/recorded-active.yaml", Health::Healthy, ""),
    ("pvc/recorded-pending.yaml", Health::Progressing, "bound"),
    (
        "service/recorded-load-balancer-pending.yaml",
        Health::Progressing,
        "load balancer",
    ),
    ("pod/recorded-running.yaml", Health::Healthy, ""),
    ("deployment/healthy.yaml", Health::Healthy, ""),
    ("deployment/paused.yaml", Health::Suspended, "paused"),
    (
        "deployment/generation-not-observed.yaml",
        Health::Progressing,
        "generation",
    ),
    (
        "deployment/no-status-yet.yaml",
        Health::Progressing,
        "generation",
    ),
    (
        "deployment/rolling-update.yaml",
        Health::Progressing,
        "2 of 3 replicas updated",
    ),
    (
        "deployment/old-replicas-terminating.yaml",
        Health::Progressing,
        "1 old replicas",
    ),
    (
        "deployment/waiting-for-available.yaml",
        Health::Progressing,
        "1 of 3 updated replicas available",
    ),
    (
        "deployment/progress-deadline-exceeded.yaml",
        Health::Degraded,
        "timed out",
    ),
    (
        "deployment/being-deleted.yaml",
        Health::Progressing,
        "pending deletion",
    ),
    ("deployment/scaled-to-zero.yaml", Health::Healthy, ""),
    ("statefulset/healthy.yaml", Health::Healthy, ""),
    (
        "statefulset/generation-not-observed.yaml",
        Health::Progressing,
        "generation",
    ),
    (
        "statefulset/pods-not-ready.yaml",
        Health::Progressing,
        "1 of 3 replicas ready",
    ),
    (
        "statefulset/rolling-update.yaml",
        Health::Progressing,
        "rolling update",
    ),
    (
        "statefulset/partition-done.yaml",
        Health::Healthy,
        "partitioned",
    ),
    (
        "statefulset/partition-pending.yaml",
        Health::Progressing,
        "partition 1",
    ),
    ("statefulset/on-delete.yaml", Health::Healthy, "OnDelete"),
    ("daemonset/healthy.yaml", Health::Healthy, ""),
    (
        "daemonset/rolling-update.yaml",
        Health::Progressing,
        "1 of 2 scheduled pods updated",
    ),
    (
        "daemonset/not-available.yaml",
        Health::Progressing,
        "1 of 2 scheduled pods available",
    ),
    (
        "daemonset/generation-not-observed.yaml",
        Health::Progressing,
        "generation",
    ),
    ("daemonset/on-delete.yaml", Health::Healthy, "OnDelete"),
    ("replicaset/healthy.yaml", Health::Healthy, ""),
    ("replicaset/scaling-up.yaml", Health::Progressing, "2 of 4"),
    (
        "replicaset/replica-failure.yaml",
        Health::Degraded,
        "exceeded quota",
    ),
    (
        "replicaset/generation-not-observed.yaml",
        Health::Progressing,
        "generation",
    ),
    ("pod/running-ready.yaml", Health::Healthy, ""),
    ("pod/running-not-ready.yaml", Health::Progressing, "ready"),
    ("pod/pending.yaml", Health::Progressing, "pending"),
    (
        "pod/crash-loop.yaml",
        Health::Degraded,
        "container web: CrashLoopBackOff",
    ),
    (
        "pod/image-pull-backoff.yaml",
        Health::Degraded,
        "ImagePullBackOff",
    ),
    ("pod/succeeded.yaml", Health::Healthy, ""),
    ("pod/failed.yaml", Health::Degraded, "exited with code 1"),
    (
        "pod/running-to-completion.yaml",
        Health::Progressing,
        "completion",
    ),
    ("pod/phase-unknown.yaml", Health::Unknown, "Unknown"),
    ("job/complete.yaml", Health::Healthy, ""),
    ("job/failed.yaml", Health::Degraded, "BackoffLimitExceeded"),
    ("job/running.yaml", Health::Progressing, "1 active"),
    ("job/suspended.yaml", Health::Suspended, "suspended"),
    ("job/complete-then-suspended.yaml", Health::Healthy, ""),
    ("cronjob/healthy.yaml", Health::Healthy, ""),
    ("application/synced-healthy.yaml", Health::Healthy, ""),
    (
        "application/no-status-yet.yaml",
        Health::Progressing,
        "current spec",
    ),
    (
        "application/generation-not-observed.yaml",
        Health::Progressing,
        "current spec",
    ),
    ("application/syncing.yaml", Health::Progressing, "syncing"),
    ("application/degraded.yaml", Health::Degraded, "timed out"),
    (
        "application/sync-failed.yaml",
        Health::Degraded,
        "SyncFailed",
    ),
    (
        "application/out-of-sync.yaml",
        Health::Progressing,
        "OutOfSync",
    ),
    (
        "application/waiting-for-dependency.yaml",
        Health::Progressing,
        "DependencyNotReady",
    ),
    ("cronjob/never-scheduled.yaml", Health::Healthy, ""),
    ("cronjob/suspended.yaml", Health::Suspended, "suspended"),
    (
        "cronjob/running.yaml",
        Health::Progressing,
        "1 scheduled Jobs running",
    ),
    (
        "cronjob/last-run-failed.yaml",
        Health::Degraded,
        "2026-11-22T10:05:00Z",
    ),
    ("service/cluster-ip.yaml", Health::Healthy, ""),
    (
        "service/load-balancer-pending.yaml",
        Health::Progressing,
        "load balancer",
    ),
    ("service/load-balancer-ready.yaml", Health::Healthy, ""),
    ("ingress/pending.yaml", Health::Progressing, "address"),
    ("ingress/ready.yaml", Health::Healthy, ""),
    ("pvc/bound.yaml", Health::Healthy, ""),
    ("pvc/pending.yaml", Health::Progressing, "bound"),
    ("pvc/lost.yaml", Health::Degraded, "lost"),
    ("hpa/healthy.yaml", Health::Healthy, ""),
    (
        "hpa/metrics-failing.yaml",
        Health::Degraded,
        "unable to get metrics",
    ),
    ("hpa/cannot-scale.yaml", Health::Degraded, "not found"),
    ("hpa/no-status-yet.yaml", Health::Progressing, "report"),
    ("hpa/scaling-disabled.yaml", Health::Suspended, "disabled"),
    ("apiservice/available.yaml", Health::Healthy, ""),
    (
        "apiservice/missing-endpoints.yaml",
        Health::Progressing,
        "no addresses",
    ),
    ("namespace/active.yaml", Health::Healthy, ""),
    (
        "namespace/terminating.yaml",
        Health::Progressing,
        "terminating",
    ),
    ("crd/established.yaml", Health::Healthy, ""),
    (
        "crd/not-established.yaml",
        Health::Progressing,
        "established",
    ),
    (
        "crd/names-conflict.yaml",
        Health::Degraded,
        "already in use",
    ),
    ("generic/ready.yaml", Health::Healthy, ""),
    (
        "generic/not-ready.yaml",
        Health::Degraded,
        "size must be positive",
    ),
    (
        "generic/ready-unknown.yaml",
        Health::Progressing,
        "Reconciling",
    ),
    ("generic/available.yaml", Health::Healthy, ""),
    (
        "generic/generation-not-observed.yaml",
        Health::Progressing,
        "generation",
    ),
    (
        "generic/reconciling.yaml",
        Health::Progressing,
        "Progressing",
    ),
    ("generic/stalled.yaml", Health::Degraded, "unknown field"),
    ("generic/no-status.yaml", Health::Healthy, ""),
    (
        "generic/generation-without-observed.yaml",
        Health::Healthy,
        "",
    ),
];

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

#[test]
fn every_fixture_gets_its_expected_health() -> TestResult {
    let mut failures = Vec::new();
    for (name, expected, needle) in CASES {
        let text = std::fs::read_to_string(fixtures_dir().join(name))?;
        let obj: Value = serde_saphyr::from_str(&text).map_err(|e| format!("{name}: {e}"))?;
        let got = assess(&obj);
        if got.status != *expected || !got.message.contains(needle) {
            failures.push(format!(
                "{name}: expected {expected} with message containing {needle:?}, got {} {:?}",
                got.status, got.message
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

#[test]
fn every_fixture_file_is_in_the_table() -> TestResult {
    let listed: BTreeSet<&str> = CASES.iter().map(|(name, _, _)| *name).collect();
    assert_eq!(listed.len(), CASES.len(), "a fixture is listed twice");
    let mut on_disk = BTreeSet::new();
    for kind in std::fs::read_dir(fixtures_dir())? {
        let kind = kind?;
        for case in std::fs::read_dir(kind.path())? {
            let case = case?;
            on_disk.insert(format!(
                "{}/{}",
                kind.file_name().to_string_lossy(),
                case.file_name().to_string_lossy()
            ));
        }
    }
    let listed: BTreeSet<String> = listed.into_iter().map(str::to_owned).collect();
    assert_eq!(on_disk, listed);
    Ok(())
}

#[test]
fn every_health_is_covered_by_a_fixture() {
    let covered: BTreeSet<Health> = CASES.iter().map(|(_, health, _)| *health).collect();
    // Missing is not a property of an object but of its absence: see `assess_optional`.
    let expected: BTreeSet<Health> = Health::WORST_FIRST
        .into_iter()
        .filter(|h| *h != Health::Missing)
        .collect();
    assert_eq!(covered, expected);
}
