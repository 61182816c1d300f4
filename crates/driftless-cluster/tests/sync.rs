//! The sync engine against the real test control plane: one namespace (and one application
//! named after it) per test.

use std::time::Duration;

use anyhow::{Context, ensure};
use driftless_cluster::KubeCluster;
use driftless_diff::DiffOptions;
use driftless_resource::{Manifest, ResourceKey, parse_manifests};
use driftless_sync::{
    Action, ApplyMode, Cluster, ClusterError, Outcome, Propagation, RetryPolicy, Settings,
    SyncOptions, SyncReport, drift, prepare, readiness, sync,
};
use driftless_testenv::with_namespace;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Client;
use kube::api::{Api, Patch, PatchParams};
use serde_json::Value;

fn manifests(yaml: &str) -> anyhow::Result<Vec<Manifest>> {
    Ok(parse_manifests("app.yaml", yaml.as_bytes())?)
}

fn settings(ns: &str, options: &[&str]) -> anyhow::Result<Settings> {
    Ok(Settings {
        app: ns.to_owned(),
        options: SyncOptions::parse(options)?,
        destination: ns.to_owned(),
        dry_run: false,
        // A bound on liveness for a busy machine, not a performance figure.
        health_timeout: Duration::from_secs(90),
        poll: Duration::from_millis(200),
        wait_last_wave: true,
        yield_waits: false,
        resume: None,
        handled_before: Default::default(),
        permit: Default::default(),
    })
}

async fn run(client: &Client, yaml: &str, settings: &Settings) -> anyhow::Result<SyncReport> {
    let cluster = KubeCluster::new(client.clone()).await?;
    Ok(sync(
        &cluster,
        readiness,
        manifests(yaml)?,
        settings,
        RetryPolicy::default(),
        &DiffOptions::default(),
    )
    .await?)
}

fn outcome(report: &SyncReport, kind: &str, ns: &str, name: &str) -> Option<Outcome> {
    report
        .results
        .iter()
        .rev()
        .find(|r| r.key.kind == kind && r.key.name == name && r.key.namespace == ns)
        .map(|r| r.outcome)
}

async fn configmap(client: &Client, ns: &str, name: &str) -> anyhow::Result<Option<ConfigMap>> {
    Ok(Api::<ConfigMap>::namespaced(client.clone(), ns)
        .get_opt(name)
        .await?)
}

fn resource_version(cm: &ConfigMap) -> String {
    cm.metadata.resource_version.clone().unwrap_or_default()
}

/// A Job that kwok completes, run as a hook of `phase`.
fn hook_job(name: &str, phase: &str, policy: &str) -> String {
    format!(
        "
apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
  annotations: {{driftless.dev/hook: {phase}, driftless.dev/hook-delete-policy: {policy}}}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{{name: run, image: registry.example/job:1}}]
"
    )
}

const ONE_CONFIGMAP: &str = "
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: fast
";

#[tokio::test]
async fn sync_creates_then_a_second_sync_changes_nothing() -> anyhow::Result<()> {
    with_namespace("sync-idempotent", |client, ns| async move {
        let settings = settings(&ns, &[])?;
        let first = run(&client, ONE_CONFIGMAP, &settings).await?;
        ensure!(first.succeeded(), "{first:?}");
        ensure!(first.results[0].action == Action::Create, "{first:?}");
        let created = configmap(&client, &ns, "settings")
            .await?
            .context("not created")?;
        let annotations = created.metadata.annotations.clone().unwrap_or_default();
        ensure!(
            annotations.get("driftless.dev/tracking-id")
                == Some(&format!("{ns}:/ConfigMap:{ns}/settings")),
            "tracking annotation: {annotations:?}"
        );

        let second = run(&client, ONE_CONFIGMAP, &settings).await?;
        ensure!(second.succeeded(), "{second:?}");
        ensure!(
            outcome(&second, "ConfigMap", &ns, "settings") == Some(Outcome::Unchanged),
            "{second:?}"
        );
        let after = configmap(&client, &ns, "settings").await?.context("gone")?;
        ensure!(
            resource_version(&after) == resource_version(&created),
            "resourceVersion changed"
        );
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn sync_updates_and_prunes_but_keeps_prune_false() -> anyhow::Result<()> {
    with_namespace("sync-prune", |client, ns| async move {
        let three = "
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: fast}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: old}
data: {a: b}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: keep
  annotations: {driftless.dev/sync-options: Prune=false}
data: {a: b}
";
        let settings = settings(&ns, &["Prune=true"])?;
        ensure!(run(&client, three, &settings).await?.succeeded());

        let one = "
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: slow}
";
        let report = run(&client, one, &settings).await?;
        ensure!(report.succeeded(), "{report:?}");
        ensure!(
            outcome(&report, "ConfigMap", &ns, "settings") == Some(Outcome::Synced),
            "{report:?}"
        );
        ensure!(
            outcome(&report, "ConfigMap", &ns, "old") == Some(Outcome::Pruned),
            "{report:?}"
        );
        ensure!(
            outcome(&report, "ConfigMap", &ns, "keep") == Some(Outcome::Kept),
            "{report:?}"
        );
        let updated = configmap(&client, &ns, "settings").await?.context("gone")?;
        ensure!(
            updated
                .data
                .unwrap_or_default()
                .get("mode")
                .map(String::as_str)
                == Some("slow")
        );
        ensure!(
            configmap(&client, &ns, "old").await?.is_none(),
            "old not pruned"
        );
        ensure!(
            configmap(&client, &ns, "keep").await?.is_some(),
            "Prune=false object deleted"
        );

        // Without Prune=true nothing is deleted, only reported.
        let no_prune = settings_without_prune(&ns)?;
        let report = run(&client, "", &no_prune).await?;
        ensure!(
            outcome(&report, "ConfigMap", &ns, "settings") == Some(Outcome::Kept),
            "{report:?}"
        );
        ensure!(configmap(&client, &ns, "settings").await?.is_some());
        Ok(())
    })
    .await?
}

fn settings_without_prune(ns: &str) -> anyhow::Result<Settings> {
    settings(ns, &[])
}

#[tokio::test]
async fn objects_owned_by_another_application_are_never_applied_or_pruned() -> anyhow::Result<()> {
    with_namespace("sync-ownership", |client, ns| async move {
        let api = Api::<ConfigMap>::namespaced(client.clone(), &ns);
        // Owned by another application, but carrying our label (copied by hand).
        let foreign: ConfigMap = serde_json::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {
                "name": "foreign",
                "labels": {"driftless.dev/app": ns},
                "annotations": {"driftless.dev/tracking-id": format!("other:/ConfigMap:{ns}/foreign")},
            },
            "data": {"owner": "other"},
        }))?;
        api.patch("foreign", &PatchParams::apply("other"), &Patch::Apply(&foreign)).await?;
        // Same name as one we declare, owned by another application.
        let taken: ConfigMap = serde_json::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {
                "name": "settings",
                "annotations": {"driftless.dev/tracking-id": format!("other:/ConfigMap:{ns}/settings")},
            },
            "data": {"mode": "theirs"},
        }))?;
        api.patch("settings", &PatchParams::apply("other"), &Patch::Apply(&taken)).await?;

        let report = run(&client, ONE_CONFIGMAP, &settings(&ns, &["Prune=true"])?).await?;
        ensure!(outcome(&report, "ConfigMap", &ns, "foreign") == Some(Outcome::Conflict), "{report:?}");
        ensure!(outcome(&report, "ConfigMap", &ns, "settings") == Some(Outcome::Conflict), "{report:?}");
        ensure!(configmap(&client, &ns, "foreign").await?.is_some(), "foreign object pruned");
        let kept = configmap(&client, &ns, "settings").await?.context("gone")?;
        ensure!(kept.data.unwrap_or_default().get("mode").map(String::as_str) == Some("theirs"));
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn a_wave_waits_for_health_before_the_next_starts() -> anyhow::Result<()> {
    with_namespace("sync-waves", |client, ns| async move {
        // Wave 0: a Deployment that kwok makes Available. Wave 1: a ConfigMap.
        let healthy = "
apiVersion: v1
kind: ConfigMap
metadata:
  name: after
  annotations: {driftless.dev/sync-wave: '1'}
data: {a: b}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: registry.example/web:1}]}
";
        let report = run(&client, healthy, &settings(&ns, &[])?).await?;
        ensure!(report.succeeded(), "{report:?}");
        let order: Vec<&str> = report.results.iter().map(|r| r.key.name.as_str()).collect();
        ensure!(order == ["web", "after"], "order {order:?}");
        ensure!(report.results[0].wave == Some(0) && report.results[1].wave == Some(1));

        // A Deployment whose pods can never be scheduled never becomes healthy: wave 1 must
        // not be applied at all.
        let stuck = "
apiVersion: v1
kind: ConfigMap
metadata:
  name: never
  annotations: {driftless.dev/sync-wave: '1'}
data: {a: b}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: stuck}
spec:
  replicas: 1
  progressDeadlineSeconds: 600
  selector: {matchLabels: {app: stuck}}
  template:
    metadata: {labels: {app: stuck}}
    spec:
      nodeSelector: {no-such-node: 'true'}
      containers: [{name: web, image: registry.example/web:1}]
";
        let mut short = settings(&ns, &[])?;
        short.app = format!("{ns}-stuck");
        short.health_timeout = Duration::from_secs(5);
        let report = run(&client, stuck, &short).await?;
        ensure!(!report.succeeded(), "{report:?}");
        let failure = report.failure.clone().unwrap_or_default();
        ensure!(failure.contains("wave 0 not healthy"), "{failure}");
        ensure!(
            outcome(&report, "ConfigMap", &ns, "never") == Some(Outcome::Skipped),
            "{report:?}"
        );
        ensure!(
            configmap(&client, &ns, "never").await?.is_none(),
            "wave 1 applied anyway"
        );
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn an_invalid_object_in_wave_two_stops_the_sync_before_wave_two() -> anyhow::Result<()> {
    with_namespace("sync-invalid", |client, ns| async move {
        let yaml = "
apiVersion: v1
kind: ConfigMap
metadata:
  name: first
  annotations: {driftless.dev/sync-wave: '1'}
data: {a: b}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: second
  annotations: {driftless.dev/sync-wave: '2'}
data: {a: b}
---
apiVersion: v1
kind: Service
metadata:
  name: broken
  annotations: {driftless.dev/sync-wave: '2'}
spec:
  ports: [{port: 99999}]
";
        let report = run(&client, yaml, &settings(&ns, &[])?).await?;
        ensure!(!report.succeeded(), "{report:?}");
        ensure!(
            outcome(&report, "ConfigMap", &ns, "first") == Some(Outcome::Synced),
            "{report:?}"
        );
        let broken = report
            .results
            .iter()
            .find(|r| r.key.name == "broken")
            .context("no result for broken")?;
        ensure!(broken.outcome == Outcome::Failed, "{broken:?}");
        // The API server's own words, naming the field.
        ensure!(
            broken.message.contains("spec.ports[0].port"),
            "{}",
            broken.message
        );
        ensure!(
            outcome(&report, "ConfigMap", &ns, "second") == Some(Outcome::Skipped),
            "{report:?}"
        );
        ensure!(configmap(&client, &ns, "first").await?.is_some());
        ensure!(
            configmap(&client, &ns, "second").await?.is_none(),
            "wave 2 partly applied"
        );
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn a_crd_and_its_custom_resources_sync_together() -> anyhow::Result<()> {
    with_namespace("sync-crd", |client, ns| async move {
        let group = format!("{ns}.sync.driftless.dev");
        let yaml = format!(
            "
apiVersion: {group}/v1
kind: Gadget
metadata: {{name: first}}
spec: {{size: 3}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {{name: gadgets.{group}}}
spec:
  group: {group}
  names: {{kind: Gadget, plural: gadgets, singular: gadget, listKind: GadgetList}}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {{type: object, properties: {{size: {{type: integer}}}}}}
"
        );
        let report = run(&client, &yaml, &settings(&ns, &[])?).await?;
        ensure!(report.succeeded(), "{report:?}");
        let order: Vec<&str> = report.results.iter().map(|r| r.key.kind.as_str()).collect();
        ensure!(order == ["CustomResourceDefinition", "Gadget"], "{order:?}");
        let cluster = KubeCluster::new(client.clone()).await?;
        let key = ResourceKey::new(&format!("{group}/v1"), "Gadget", &ns, "first");
        let gadget = cluster
            .get(&key, &format!("{group}/v1"))
            .await?
            .context("no gadget")?;
        ensure!(gadget["spec"]["size"] == 3, "{gadget}");
        cluster
            .delete(
                &ResourceKey::new(
                    "apiextensions.k8s.io/v1",
                    "CustomResourceDefinition",
                    "",
                    &format!("gadgets.{group}"),
                ),
                "apiextensions.k8s.io/v1",
                driftless_sync::Propagation::Background,
            )
            .await?;
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn pre_and_post_sync_hooks_run_in_order() -> anyhow::Result<()> {
    with_namespace("sync-hooks", |client, ns| async move {
        let yaml = format!(
            "{}---{}---{ONE_CONFIGMAP}",
            hook_job("migrate", "PreSync", "BeforeHookCreation"),
            hook_job("smoke-test", "PostSync", "BeforeHookCreation")
        );
        let report = run(&client, &yaml, &settings(&ns, &[])?).await?;
        ensure!(report.succeeded(), "{report:?}");
        let order: Vec<(String, String)> = report
            .results
            .iter()
            .map(|r| (r.key.name.clone(), r.action.to_string()))
            .collect();
        let expected = [
            ("migrate", "hook PreSync"),
            ("settings", "create"),
            ("smoke-test", "hook PostSync"),
        ];
        ensure!(
            order
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .eq(expected),
            "order {order:?}"
        );
        ensure!(
            report.results.iter().all(|r| r.outcome == Outcome::Synced),
            "{report:?}"
        );
        // Hooks are not pruned as objects Git no longer declares.
        let again = run(&client, ONE_CONFIGMAP, &settings(&ns, &["Prune=true"])?).await?;
        ensure!(
            again.results.iter().all(|r| r.action != Action::Prune),
            "{again:?}"
        );
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn a_field_taken_by_another_manager_is_reported_then_reverted_with_force()
-> anyhow::Result<()> {
    with_namespace("sync-conflict", |client, ns| async move {
        let settings_plain = settings(&ns, &[])?;
        ensure!(
            run(&client, ONE_CONFIGMAP, &settings_plain)
                .await?
                .succeeded()
        );
        let api = Api::<ConfigMap>::namespaced(client.clone(), &ns);
        let edit: Value = serde_json::json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings"}, "data": {"mode": "hacked"},
        });
        api.patch(
            "settings",
            &PatchParams::apply("intruder").force(),
            &Patch::Apply(&edit),
        )
        .await?;

        let report = run(&client, ONE_CONFIGMAP, &settings_plain).await?;
        ensure!(!report.succeeded(), "{report:?}");
        let message = report.failure.clone().unwrap_or_default();
        ensure!(
            message.contains("intruder"),
            "conflict must name the manager: {message}"
        );

        let report = run(&client, ONE_CONFIGMAP, &settings(&ns, &["Force=true"])?).await?;
        ensure!(report.succeeded(), "{report:?}");
        let reverted = configmap(&client, &ns, "settings").await?.context("gone")?;
        ensure!(
            reverted
                .data
                .unwrap_or_default()
                .get("mode")
                .map(String::as_str)
                == Some("fast")
        );
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn secret_values_never_appear_in_the_report() -> anyhow::Result<()> {
    with_namespace("sync-secret", |client, ns| async move {
        let yaml = "
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: hunter2-very-secret}
---
apiVersion: v1
kind: Secret
metadata: {name: broken}
data: {token: 'not base64 hunter2-very-secret'}
";
        let report = run(&client, yaml, &settings(&ns, &[])?).await?;
        ensure!(
            !report.succeeded(),
            "the malformed Secret must fail: {report:?}"
        );
        let everything = format!("{report:?} {report:#?}");
        ensure!(
            !everything.contains("hunter2"),
            "secret value leaked: {everything}"
        );
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn apply_out_of_sync_only_sends_only_what_differs() -> anyhow::Result<()> {
    with_namespace("sync-out-of-sync-only", |client, ns| async move {
        let two = "
apiVersion: v1
kind: ConfigMap
metadata: {name: same}
data: {a: b}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: changing}
data: {a: b}
";
        let options = settings(&ns, &["ApplyOutOfSyncOnly=true"])?;
        ensure!(run(&client, two, &options).await?.succeeded());
        let before = configmap(&client, &ns, "same").await?.context("gone")?;
        let changed = two.replace(
            "metadata: {name: changing}\ndata: {a: b}",
            "metadata: {name: changing}\ndata: {a: c}",
        );
        ensure!(changed != two, "fixture must change one object");
        let report = run(&client, &changed, &options).await?;
        ensure!(report.succeeded(), "{report:?}");
        let same = report
            .results
            .iter()
            .find(|r| r.key.name == "same")
            .context("no result")?;
        ensure!(
            same.outcome == Outcome::Unchanged && same.message.contains("not sent"),
            "{same:?}"
        );
        ensure!(
            outcome(&report, "ConfigMap", &ns, "changing") == Some(Outcome::Synced),
            "{report:?}"
        );
        let after = configmap(&client, &ns, "same").await?.context("gone")?;
        ensure!(resource_version(&after) == resource_version(&before));
        Ok(())
    })
    .await?
}

/// Counts the calls that cost a request per object, delegating everything to the real cluster.
struct Counting {
    inner: KubeCluster,
    gets: std::sync::atomic::AtomicUsize,
    dry_runs: std::sync::atomic::AtomicUsize,
}

impl Counting {
    fn count(counter: &std::sync::atomic::AtomicUsize) {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    fn read(counter: &std::sync::atomic::AtomicUsize) -> usize {
        counter.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Cluster for Counting {
    async fn get(&self, key: &ResourceKey, v: &str) -> Result<Option<Value>, ClusterError> {
        Self::count(&self.gets);
        self.inner.get(key, v).await
    }
    async fn apply(&self, object: &Value, mode: ApplyMode) -> Result<Value, ClusterError> {
        if mode.dry_run {
            Self::count(&self.dry_runs);
        }
        self.inner.apply(object, mode).await
    }
    async fn replace(&self, object: &Value, dry_run: bool) -> Result<Value, ClusterError> {
        self.inner.replace(object, dry_run).await
    }
    async fn create(&self, object: &Value) -> Result<Value, ClusterError> {
        self.inner.create(object).await
    }
    async fn delete(&self, key: &ResourceKey, v: &str, p: Propagation) -> Result<(), ClusterError> {
        self.inner.delete(key, v, p).await
    }
    async fn scopes(
        &self,
    ) -> Result<std::collections::BTreeMap<(String, String), bool>, ClusterError> {
        self.inner.scopes().await
    }
    async fn list_owned(&self, app: &str) -> Result<Vec<(ResourceKey, Value)>, ClusterError> {
        self.inner.list_owned(app).await
    }
    async fn refresh_kinds(&self) -> Result<(), ClusterError> {
        self.inner.refresh_kinds().await
    }
    async fn sleep(&self, duration: Duration) {
        self.inner.sleep(duration).await;
    }
}

#[tokio::test]
async fn drift_costs_no_request_per_object_in_steady_state_and_names_the_intruder()
-> anyhow::Result<()> {
    with_namespace("sync-drift", |client, ns| async move {
        let app = "
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: fast}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: registry.example/web:1
        ports: [{containerPort: 80}]
        resources: {requests: {cpu: '0.5'}}
";
        let settings = settings(&ns, &[])?;
        ensure!(run(&client, app, &settings).await?.succeeded());
        let cluster = Counting {
            inner: KubeCluster::new(client.clone()).await?,
            gets: Default::default(),
            dry_runs: Default::default(),
        };
        let options = DiffOptions::default();
        let plan = prepare(&cluster, manifests(app)?, &settings).await?;
        let steady = drift(&cluster, &plan, &options).await?;
        ensure!(steady.iter().all(|d| !d.diff.changed), "{steady:?}");
        ensure!(
            Counting::read(&cluster.gets) == 0,
            "steady state read objects one by one"
        );
        ensure!(
            Counting::read(&cluster.dry_runs) == 0,
            "steady state needed dry runs"
        );

        let edit = serde_json::json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 5},
        });
        Api::<k8s_openapi::api::apps::v1::Deployment>::namespaced(client.clone(), &ns)
            .patch(
                "web",
                &PatchParams::apply("intruder").force(),
                &Patch::Apply(&edit),
            )
            .await?;
        let plan = prepare(&cluster, manifests(app)?, &settings).await?;
        let drifted = drift(&cluster, &plan, &options).await?;
        let web = drifted
            .iter()
            .find(|d| d.key.name == "web")
            .context("no web")?;
        ensure!(web.diff.changed, "{web:?}");
        ensure!(
            web.diff.changed_paths == ["/spec/replicas"],
            "{:?}",
            web.diff.changed_paths
        );
        ensure!(web.changed_by == ["intruder"], "{:?}", web.changed_by);
        ensure!(
            web.diff.unified.contains("+  replicas: 2"),
            "{}",
            web.diff.unified
        );
        ensure!(
            Counting::read(&cluster.dry_runs) == 1,
            "one dry run to confirm one suspect"
        );
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn unknown_fields_are_refused_and_replace_sends_a_put() -> anyhow::Result<()> {
    with_namespace("sync-replace-validate", |client, ns| async move {
        // An unknown field is refused, naming it. (Server-side apply builds a typed patch, so
        // the API server refuses fields outside the schema even with Validate=false.)
        let unknown_field = "
apiVersion: v1
kind: ConfigMap
metadata: {name: loose}
data: {a: b}
notAField: true
";
        let strict = run(&client, unknown_field, &settings(&ns, &[])?).await?;
        ensure!(!strict.succeeded(), "{strict:?}");
        ensure!(
            strict
                .failure
                .clone()
                .unwrap_or_default()
                .contains("notAField"),
            "{strict:?}"
        );

        // Replace=true sends a PUT: the object is ours through an Update, not an Apply.
        let replaced = "
apiVersion: v1
kind: ConfigMap
metadata: {name: replaced}
data: {a: b}
";
        let options = settings(&ns, &["Replace=true"])?;
        ensure!(run(&client, replaced, &options).await?.succeeded());
        let report = run(&client, &replaced.replace("{a: b}", "{a: c}"), &options).await?;
        ensure!(report.succeeded(), "{report:?}");
        let cm = configmap(&client, &ns, "replaced").await?.context("gone")?;
        ensure!(
            cm.data
                .clone()
                .unwrap_or_default()
                .get("a")
                .map(String::as_str)
                == Some("c")
        );
        let managers = cm.metadata.managed_fields.unwrap_or_default();
        ensure!(
            managers
                .iter()
                .any(|m| m.manager.as_deref() == Some("driftless")
                    && m.operation.as_deref() == Some("Update")),
            "{managers:?}"
        );
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn sync_fail_hooks_run_on_failure_and_succeeded_hooks_are_deleted() -> anyhow::Result<()> {
    with_namespace("sync-hook-policies", |client, ns| async move {
        let jobs = Api::<k8s_openapi::api::batch::v1::Job>::namespaced(client.clone(), &ns);

        let succeeding = format!(
            "{}---{ONE_CONFIGMAP}",
            hook_job("cleanup", "PostSync", "HookSucceeded")
        );
        let report = run(&client, &succeeding, &settings(&ns, &[])?).await?;
        ensure!(report.succeeded(), "{report:?}");
        let gone = driftless_testenv::eventually(
            "the succeeded hook to be deleted",
            Duration::from_secs(60),
            || async {
                jobs.get_opt("cleanup")
                    .await
                    .ok()
                    .flatten()
                    .is_none()
                    .then_some(())
            },
        )
        .await;
        ensure!(gone.is_ok(), "HookSucceeded job still exists");

        let failing = format!(
            "{}---{}---
apiVersion: v1
kind: Service
metadata: {{name: broken}}
spec: {{ports: [{{port: 99999}}]}}
",
            hook_job("notify", "SyncFail", "BeforeHookCreation"),
            hook_job("never", "PostSync", "BeforeHookCreation"),
        );
        let report = run(&client, &failing, &settings(&ns, &[])?).await?;
        ensure!(!report.succeeded(), "{report:?}");
        let notify = report
            .results
            .iter()
            .find(|r| r.key.name == "notify")
            .context("no notify")?;
        ensure!(
            notify.outcome == Outcome::Synced
                && notify.action == Action::Hook(driftless_sync::HookPhase::SyncFail),
            "{notify:?}"
        );
        let never = report
            .results
            .iter()
            .find(|r| r.key.name == "never")
            .context("no never")?;
        ensure!(never.outcome == Outcome::Skipped, "{never:?}");
        ensure!(
            jobs.get_opt("never").await?.is_none(),
            "PostSync hook ran after a failure"
        );
        Ok(())
    })
    .await?
}
