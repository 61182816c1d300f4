//! The executor with `yield_waits`: it stops at a wait instead of sleeping, and a later call
//! goes on from there. Over a small in-memory fake of the `Cluster` trait (the trait is this
//! crate's seam; the real cluster is tested in driftless-cluster).
#![allow(clippy::expect_used, clippy::unwrap_used)] // fixtures: a panic is the test failure

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use driftless_resource::{ResourceKey, parse_manifests};
use driftless_sync::{
    ApplyMode, Cluster, ClusterError, ErrorKind, Outcome, Plan, Propagation, Readiness, Resume,
    Settings, SyncOptions, SyncReport, execute, plan, resolve_namespaces,
};
use serde_json::Value;

/// Objects by key; an object is ready when its `status.ready` is true.
#[derive(Default)]
struct Fake {
    objects: Mutex<BTreeMap<ResourceKey, Value>>,
    creations: Mutex<BTreeMap<String, u32>>,
    sleeps: Mutex<u32>,
    /// These objects turn ready once this many sleeps were made.
    ready_after: Mutex<Vec<(String, u32)>>,
}

fn key_of(object: &Value) -> ResourceKey {
    let text = |p: &str| {
        object
            .pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    ResourceKey::new(
        text("/apiVersion"),
        text("/kind"),
        text("/metadata/namespace"),
        text("/metadata/name"),
    )
}

impl Fake {
    fn set_ready(&self, name: &str) {
        for (key, object) in self.objects.lock().unwrap().iter_mut() {
            if key.name == name {
                object["status"] = serde_json::json!({"ready": true});
            }
        }
    }
    fn created(&self, name: &str) -> u32 {
        self.creations
            .lock()
            .unwrap()
            .get(name)
            .copied()
            .unwrap_or(0)
    }
}

impl Cluster for Fake {
    async fn get(&self, key: &ResourceKey, _: &str) -> Result<Option<Value>, ClusterError> {
        Ok(self.objects.lock().unwrap().get(key).cloned())
    }
    async fn apply(&self, object: &Value, mode: ApplyMode) -> Result<Value, ClusterError> {
        let key = key_of(object);
        let mut objects = self.objects.lock().unwrap();
        let mut stored = object.clone();
        if let Some(status) = objects.get(&key).and_then(|o| o.get("status")) {
            stored["status"] = status.clone();
        }
        if !mode.dry_run {
            objects.insert(key, stored.clone());
        }
        Ok(stored)
    }
    async fn replace(&self, object: &Value, dry_run: bool) -> Result<Value, ClusterError> {
        self.apply(
            object,
            ApplyMode {
                dry_run,
                ..ApplyMode::default()
            },
        )
        .await
    }
    async fn create(&self, object: &Value) -> Result<Value, ClusterError> {
        let key = key_of(object);
        *self
            .creations
            .lock()
            .unwrap()
            .entry(key.name.clone())
            .or_default() += 1;
        let mut objects = self.objects.lock().unwrap();
        if objects.contains_key(&key) {
            return Err(ClusterError {
                kind: ErrorKind::Conflict,
                message: format!("{key} already exists"),
            });
        }
        objects.insert(key, object.clone());
        Ok(object.clone())
    }
    async fn delete(&self, key: &ResourceKey, _: &str, _: Propagation) -> Result<(), ClusterError> {
        self.objects.lock().unwrap().remove(key);
        Ok(())
    }
    async fn scopes(&self) -> Result<BTreeMap<(String, String), bool>, ClusterError> {
        Ok(BTreeMap::new())
    }
    async fn list_owned(&self, _: &str) -> Result<Vec<(ResourceKey, Value)>, ClusterError> {
        Ok(Vec::new())
    }
    async fn refresh_kinds(&self) -> Result<(), ClusterError> {
        Ok(())
    }
    async fn sleep(&self, _: Duration) {
        let slept = {
            let mut sleeps = self.sleeps.lock().unwrap();
            *sleeps += 1;
            *sleeps
        };
        let due = self.ready_after.lock().unwrap().clone();
        for (name, _) in due.iter().filter(|(_, after)| slept >= *after) {
            self.set_ready(name);
        }
    }
}

fn ready(object: &Value) -> Readiness {
    if object.pointer("/status/ready") == Some(&Value::Bool(true)) {
        Readiness::Ready
    } else {
        Readiness::Waiting("not ready yet".to_owned())
    }
}

/// Wave 0: a ConfigMap `first`; wave 1: `second`; a PostSync hook Job `check`.
const TWO_WAVES: &str = "
apiVersion: v1
kind: ConfigMap
metadata: {name: first}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: second
  annotations: {driftless.dev/sync-wave: '1'}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: check
  annotations: {driftless.dev/hook: PostSync}
";

fn the_plan(yaml: &str) -> Plan {
    let manifests = parse_manifests("app.yaml", yaml.as_bytes()).unwrap();
    let desired = resolve_namespaces(manifests, "shop", |_, _| Some(true)).unwrap();
    plan(
        "app",
        desired,
        &BTreeMap::new(),
        &[],
        &SyncOptions::default(),
    )
    .unwrap()
}

fn settings(resume: Option<Resume>, handled: &BTreeSet<ResourceKey>) -> Settings {
    Settings {
        app: "app".to_owned(),
        options: SyncOptions::default(),
        destination: "shop".to_owned(),
        dry_run: false,
        health_timeout: Duration::from_secs(300),
        poll: Duration::from_millis(1),
        wait_last_wave: false,
        yield_waits: true,
        resume,
        handled_before: handled.clone(),
        permit: Default::default(),
    }
}

fn run(
    fake: &Fake,
    plan: &Plan,
    resume: Option<Resume>,
    handled: &BTreeSet<ResourceKey>,
) -> SyncReport {
    futures::executor::block_on(execute(fake, ready, plan, &settings(resume, handled)))
}

fn names(report: &SyncReport) -> Vec<String> {
    report.results.iter().map(|r| r.key.name.clone()).collect()
}

#[test]
fn a_sync_stops_at_a_wave_not_ready_and_goes_on_once_it_is() {
    let fake = Fake::default();
    let plan = the_plan(TWO_WAVES);
    let mut handled = BTreeSet::new();

    let first = run(&fake, &plan, None, &handled);
    let pending = first.pending.clone().expect("waits for wave 0");
    assert!(first.failure.is_none() && !first.succeeded());
    assert!(
        pending.waiting_on.contains("wave 0") && pending.waiting_on.contains("first"),
        "{pending:?}"
    );
    assert_eq!(names(&first), ["first"]);
    assert!(
        fake.get_sync("second").is_none(),
        "wave 1 applied before wave 0 was ready"
    );
    handled.extend(first.results.iter().map(|r| r.key.clone()));

    // Not ready yet: it yields again at the same step, keeping when the wait began.
    let again = run(&fake, &plan, Some(pending.clone()), &handled);
    let still = again.pending.clone().expect("still waiting");
    assert_eq!(
        (still.step, still.waiting_since),
        (pending.step, pending.waiting_since)
    );
    assert!(
        again.results.is_empty(),
        "nothing redone: {:?}",
        names(&again)
    );

    fake.set_ready("first");
    let next = run(&fake, &plan, Some(still), &handled);
    // Wave 1 applied; the PostSync hook follows it, so wave 1 is waited for.
    let pending = next.pending.clone().expect("waits for wave 1");
    assert_eq!(names(&next), ["second"]);
    handled.extend(next.results.iter().map(|r| r.key.clone()));

    fake.set_ready("second");
    let hook = run(&fake, &plan, Some(pending), &handled);
    let pending = hook.pending.clone().expect("waits for the hook");
    assert!(pending.waiting_on.contains("PostSync hook"), "{pending:?}");
    assert_eq!(fake.created("check"), 1);

    let again = run(&fake, &plan, Some(pending.clone()), &handled);
    assert!(again.pending.is_some());
    assert_eq!(
        fake.created("check"),
        1,
        "a running hook is not created again"
    );

    fake.set_ready("check");
    let done = run(&fake, &plan, again.pending, &handled);
    assert!(done.succeeded(), "{done:?}");
    assert_eq!(names(&done), ["check"]);
    handled.extend(done.results.iter().map(|r| r.key.clone()));
    assert_eq!(
        handled.len(),
        3,
        "every object reported once over all calls"
    );
    assert_eq!(
        *fake.sleeps.lock().unwrap(),
        0,
        "a yielding execution never sleeps"
    );
}

#[test]
fn a_wait_that_began_too_long_ago_fails_as_a_timeout_and_skips_nothing_reported_before() {
    let fake = Fake::default();
    let plan = the_plan(TWO_WAVES);
    let first = run(&fake, &plan, None, &BTreeSet::new());
    let mut pending = first.pending.expect("waits for wave 0");
    pending.waiting_since = SystemTime::now() - Duration::from_secs(301);
    let handled: BTreeSet<ResourceKey> = first.results.iter().map(|r| r.key.clone()).collect();
    let late = run(&fake, &plan, Some(pending), &handled);
    assert!(late.pending.is_none());
    let failure = late.failure.clone().expect("timed out");
    assert!(failure.contains("not healthy after 300 s"), "{failure}");
    // `first` was reported by the first call; the rest is skipped now, once.
    assert_eq!(names(&late), ["second", "check"]);
    assert!(late.results.iter().all(|r| r.outcome == Outcome::Skipped));
}

#[test]
fn without_yielding_the_same_plan_waits_inside_the_call() {
    let fake = Fake::default();
    *fake.ready_after.lock().unwrap() = vec![
        ("first".into(), 3),
        ("second".into(), 4),
        ("check".into(), 6),
    ];
    let plan = the_plan(TWO_WAVES);
    let mut settings = settings(None, &BTreeSet::new());
    settings.yield_waits = false;
    settings.health_timeout = Duration::from_secs(5);
    let report = futures::executor::block_on(execute(&fake, ready, &plan, &settings));
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(names(&report), ["first", "second", "check"]);
    assert_eq!(
        *fake.sleeps.lock().unwrap(),
        6,
        "polled until each was ready"
    );
}

trait GetSync {
    fn get_sync(&self, name: &str) -> Option<Value>;
}

impl GetSync for Fake {
    fn get_sync(&self, name: &str) -> Option<Value> {
        self.objects
            .lock()
            .unwrap()
            .iter()
            .find(|(k, _)| k.name == name)
            .map(|(_, v)| v.clone())
    }
}
