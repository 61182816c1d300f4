//! The fault suite: the `driftless controller` binary against the real test control plane while
//! its parts fail: the controller killed (SIGKILL) at random points of a sync with waves and
//! hooks (each kill landing while the operation is Running), the API server restarted five times
//! in a row and etcd twice, the API server answering 429/500 to a share of requests, the Git
//! server down for many poll intervals, a force-push, and the leader of two replicas killed while
//! its operation is Running.
//!
//! After every run the invariants are checked: the unowned object beside the Application is still
//! there (zero unowned deletions), every managed object is there (zero lost), managed objects keep
//! their uid and each hook Job is created at most once per finished sync (zero duplicated
//! creations), and the history ends with the deployed commit.
//!
//! Each test runs its fault once by default; `DRIFTLESS_FAULT_RUNS=N` repeats it N times, and each
//! run prints one `fault-run` line that `bench/faults` turns into a table. Tests never run at the
//! same time: each kills parts of the one control plane of this binary, and a controller watches
//! every Application of the cluster.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use driftless_api::{Application, ApplicationStatus, HistoryEntry, OperationPhase, SyncStatusCode};
use driftless_testenv::process::Guarded;
use driftless_testenv::{ApiProxy, Component, Faults, GitDaemon, eventually, with_namespace};
use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::{Client, ResourceExt};

/// Generous bound for recovery on a busy 2-core machine; a liveness bound, not a figure.
const SETTLE: Duration = Duration::from_secs(120);

/// One fault at a time against the one control plane.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How many times each fault is repeated (`DRIFTLESS_FAULT_RUNS`, default 1).
fn runs() -> usize {
    std::env::var("DRIFTLESS_FAULT_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
        .max(1)
}

/// What one run of a fault found; printed for `bench/faults`.
#[derive(Debug, Default)]
struct RunResult {
    resumed: bool,
    lost: usize,
    unowned_deleted: usize,
    duplicated: usize,
    recover: Duration,
}

impl RunResult {
    fn print(&self, fault: &str) {
        println!(
            "fault-run fault={fault} resumed={} lost={} unowned_deleted={} duplicated={} recover_ms={}",
            u8::from(self.resumed),
            self.lost,
            self.unowned_deleted,
            self.duplicated,
            self.recover.as_millis()
        );
    }

    fn ensure_clean(&self) -> anyhow::Result<()> {
        ensure!(
            self.resumed && self.lost == 0 && self.unowned_deleted == 0 && self.duplicated == 0,
            "an invariant broke: {self:?}"
        );
        Ok(())
    }
}

/// The controller binary under the harness's guard, so that it can be killed and started again
/// with the same arguments.
fn controller(
    kubeconfig: &Path,
    cache: &Path,
    logs: &Path,
    pod: &str,
    extra: &[&str],
) -> anyhow::Result<(Guarded, u16)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut args = vec![
        "controller".to_owned(),
        "--listen".to_owned(),
        format!("127.0.0.1:{port}"),
        "--cache-dir".to_owned(),
        cache.display().to_string(),
    ];
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    let env = [
        ("KUBECONFIG".to_owned(), kubeconfig.display().to_string()),
        ("POD_NAME".to_owned(), pod.to_owned()),
        ("RUST_LOG".to_owned(), "info".to_owned()),
    ];
    let guarded = Guarded::spawn_with_env(
        pod,
        Path::new(env!("CARGO_BIN_EXE_driftless")),
        &args,
        &env,
        &logs.join(format!("{pod}.log")),
    )?;
    Ok((guarded, port))
}

/// How many Git fetches with `result` the controller has made, from its `/metrics`.
fn fetches(port: u16, result: &str) -> Option<f64> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    text.lines()
        .filter(|l| {
            l.starts_with("driftless_git_fetch_duration_seconds_count{")
                && l.contains(&format!("result=\"{result}\""))
        })
        .map(|l| l.split_whitespace().last()?.parse::<f64>().ok())
        .sum()
}

/// A Git repository the test commits to, under a base directory a [`GitDaemon`] can serve.
struct Repo {
    base: tempfile::TempDir,
}

impl Repo {
    fn new() -> anyhow::Result<Self> {
        let repo = Self {
            base: tempfile::tempdir()?,
        };
        std::fs::create_dir_all(repo.work().join("deploy"))?;
        repo.git(&["init", "-q", "-b", "main"])?;
        repo.git(&["config", "user.email", "t@example.com"])?;
        repo.git(&["config", "user.name", "t"])?;
        Ok(repo)
    }

    fn work(&self) -> PathBuf {
        self.base.path().join("app")
    }

    fn file_url(&self) -> String {
        format!("file://{}", self.work().display())
    }

    fn git(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = Command::new("git")
            .args(args)
            .current_dir(self.work())
            .output()?;
        ensure!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8(out.stdout)?.trim().to_owned())
    }

    fn write(&self, file: &str, text: &str) -> anyhow::Result<()> {
        std::fs::write(self.work().join("deploy").join(file), text)?;
        Ok(())
    }

    /// Commits `settings` with `mode` (and whatever else was written); returns the commit.
    fn commit_mode(&self, mode: &str) -> anyhow::Result<String> {
        self.write(
            "settings.yaml",
            &format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  annotations: {{driftless.dev/sync-wave: '0'}}\ndata: {{mode: {mode}}}\n"
            ),
        )?;
        self.git(&["add", "-A"])?;
        self.git(&["commit", "-qm", mode])?;
        self.git(&["rev-parse", "HEAD"])
    }
}

/// A Job that kwok completes, run as a hook of `phase` with the default policy
/// (`BeforeHookCreation`: created again once per sync, never twice in one).
fn hook_job(name: &str, phase: &str) -> String {
    format!(
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {name}\n  annotations: {{driftless.dev/hook: {phase}}}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{{name: run, image: registry.example/job:1}}]\n"
    )
}

/// Wave 1: a Deployment whose health waits for its pod on the fake node.
const WEB: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  annotations: {driftless.dev/sync-wave: '1'}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: registry.example/web:1}]\n";

/// An automated Application with prune and self-heal, polling every `interval`.
fn application(ns: &str, url: &str, interval: &str) -> anyhow::Result<Application> {
    Ok(serde_json::from_value(serde_json::json!({
        "apiVersion": "driftless.dev/v1alpha1", "kind": "Application",
        "metadata": {"name": "app", "namespace": ns},
        "spec": {"source": {"repoURL": url, "targetRevision": "main", "path": "deploy"},
                 "destination": {"namespace": ns}, "interval": interval,
                 "syncPolicy": {"automated": {"prune": true, "selfHeal": true}}},
    }))?)
}

fn succeeded_at(status: &ApplicationStatus, commit: &str) -> bool {
    status.sync.as_ref().is_some_and(|s| {
        s.status == SyncStatusCode::Synced && s.revision.as_deref() == Some(commit)
    }) && status.operation_state.as_ref().is_some_and(|o| {
        o.phase == OperationPhase::Succeeded && o.revision.as_deref() == Some(commit)
    }) && status.history.last().is_some_and(|h| h.revision == commit)
}

async fn deployed(apps: &Api<Application>, commit: &str) -> anyhow::Result<ApplicationStatus> {
    Ok(eventually(&format!("{commit} deployed"), SETTLE, || async {
        apps.get("app")
            .await
            .ok()?
            .status
            .filter(|s| succeeded_at(s, commit))
    })
    .await?)
}

/// Every creation of a Job in the namespace, by name: the uids seen in ADDED watch events.
#[derive(Clone, Default)]
struct JobCreations(Arc<Mutex<BTreeMap<String, BTreeSet<String>>>>);

impl JobCreations {
    /// Watches Jobs in `ns` directly on the API server until the returned task is aborted.
    fn watch(client: Client, ns: &str) -> (Self, tokio::task::JoinHandle<()>) {
        let creations = Self::default();
        let seen = creations.clone();
        let jobs: Api<Job> = Api::namespaced(client, ns);
        let task = tokio::spawn(async move {
            let mut version = "0".to_owned();
            loop {
                let Ok(stream) = jobs
                    .watch(&WatchParams::default().timeout(60), &version)
                    .await
                else {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                };
                let mut stream = stream.boxed();
                while let Some(Ok(event)) = stream.next().await {
                    match event {
                        WatchEvent::Added(job)
                        | WatchEvent::Modified(job)
                        | WatchEvent::Deleted(job) => {
                            version = job.resource_version().unwrap_or_default();
                            if let Some(uid) = job.uid() {
                                seen.0
                                    .lock()
                                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                                    .entry(job.name_any())
                                    .or_default()
                                    .insert(uid);
                            }
                        }
                        WatchEvent::Bookmark(b) => version = b.metadata.resource_version,
                        // Too old: start again from now; nothing is missed that the test asserts,
                        // since a gap would only hide creations, never invent them.
                        WatchEvent::Error(_) => version = "0".to_owned(),
                    }
                }
            }
        });
        (creations, task)
    }

    fn count(&self, name: &str) -> usize {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(name)
            .map_or(0, BTreeSet::len)
    }
}

/// uids of the objects that must survive every run: the managed ones and the unowned bystander.
struct Survivors {
    settings: Option<String>,
    web: Option<String>,
    bystander: Option<String>,
}

impl Survivors {
    async fn read(client: &Client, ns: &str) -> anyhow::Result<Self> {
        let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
        let deployments: Api<Deployment> = Api::namespaced(client.clone(), ns);
        Ok(Self {
            settings: configmaps.get_opt("settings").await?.and_then(|c| c.uid()),
            web: deployments.get_opt("web").await?.and_then(|d| d.uid()),
            bystander: configmaps.get_opt("bystander").await?.and_then(|c| c.uid()),
        })
    }

    /// Compares with an earlier reading: (lost, unowned deleted, re-created).
    fn compare(&self, before: &Self) -> (usize, usize, usize) {
        let lost = usize::from(self.settings.is_none()) + usize::from(self.web.is_none());
        let unowned = usize::from(self.bystander != before.bystander || self.bystander.is_none());
        let recreated = usize::from(self.settings.is_some() && self.settings != before.settings)
            + usize::from(self.web.is_some() && self.web != before.web);
        (lost, unowned, recreated)
    }
}

/// An unowned ConfigMap beside the Application's objects: it must never be deleted.
async fn bystander(client: &Client, ns: &str) -> anyhow::Result<()> {
    let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    let cm: ConfigMap = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "bystander"}, "data": {"owner": "someone else"}}))?;
    configmaps.create(&PostParams::default(), &cm).await?;
    Ok(())
}

/// What a run of a kill fault compares with, read before its commit is pushed.
struct BeforeKill {
    survivors: Survivors,
    history: Vec<HistoryEntry>,
    hooks: (usize, usize),
    commit: String,
}

/// Reads what the run compares with, pushes a new commit and waits until its operation is
/// Running.
async fn commit_and_wait_running(
    client: &Client,
    ns: &str,
    apps: &Api<Application>,
    repo: &Repo,
    jobs: &JobCreations,
    attempt: usize,
) -> anyhow::Result<BeforeKill> {
    let survivors = Survivors::read(client, ns).await?;
    let history = apps.get("app").await?.status.unwrap_or_default().history;
    let hooks = (jobs.count("migrate"), jobs.count("smoke"));
    let commit = repo.commit_mode(&format!("run-{attempt}"))?;
    eventually("the sync Running", SETTLE, || async {
        running_at(apps, &commit).await.ok()?.then_some(())
    })
    .await?;
    Ok(BeforeKill {
        survivors,
        history,
        hooks,
        commit,
    })
}

/// Whether the Application's operation is Running at `commit` (only a live controller writes
/// status, so a read right after a kill says where the killed one was).
async fn running_at(apps: &Api<Application>, commit: &str) -> anyhow::Result<bool> {
    let op = apps
        .get("app")
        .await?
        .status
        .and_then(|s| s.operation_state);
    Ok(op.is_some_and(|op| {
        op.phase == OperationPhase::Running && op.revision.as_deref() == Some(commit)
    }))
}

/// Waits until the run's commit is deployed and checks the invariants: the operation finished
/// once (one new history entry, at the commit; history in order), and each hook Job was created
/// once per finished sync (BeforeHookCreation), not again when the sync resumed.
async fn deployed_after_kill(
    client: &Client,
    ns: &str,
    apps: &Api<Application>,
    jobs: &JobCreations,
    before: &BeforeKill,
    since: Instant,
) -> anyhow::Result<RunResult> {
    let status = deployed(apps, &before.commit).await?;
    let recover = since.elapsed();
    let after = Survivors::read(client, ns).await?;
    let (lost, unowned_deleted, recreated) = after.compare(&before.survivors);
    let new_entries: Vec<_> = status
        .history
        .iter()
        .filter(|h| !before.history.iter().any(|old| old.id == h.id))
        .collect();
    ensure!(
        new_entries.len() == 1
            && new_entries
                .first()
                .is_some_and(|h| h.revision == before.commit),
        "history after the kill: {:?} new entries {new_entries:?}",
        status.history
    );
    let ids: Vec<i64> = status.history.iter().map(|h| h.id).collect();
    ensure!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "history out of order: {ids:?}"
    );
    let extra_hooks = (jobs.count("migrate") - before.hooks.0).saturating_sub(1)
        + (jobs.count("smoke") - before.hooks.1).saturating_sub(1);
    Ok(RunResult {
        resumed: true,
        lost,
        unowned_deleted,
        duplicated: recreated + extra_hooks,
        recover,
    })
}

/// How many kills per run may land after the sync finished before the test gives up.
const KILL_TRIES: usize = 5;

/// How many syncs per run may go through without a refused request before the test gives up
/// (0.8^k for a sync of k requests).
const REFUSAL_TRIES: usize = 5;

/// A number in `0..bound` from the clock: enough to spread kill points over a sync.
fn jitter(bound: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let bound_ms = u64::try_from(bound.as_millis()).unwrap_or(u64::MAX).max(1);
    Duration::from_millis(u64::from(nanos) % bound_ms)
}

#[tokio::test]
async fn a_controller_killed_mid_sync_resumes_without_losing_or_duplicating() -> anyhow::Result<()>
{
    let _serial = SERIAL.lock().await;
    let plane = driftless_testenv::shared()?;
    with_namespace("fault-kill", |client, ns| async move {
        driftless_testenv::install_project_crds(&client).await?;
        bystander(&client, &ns).await?;
        let repo = Repo::new()?;
        repo.write("pre.yaml", &hook_job("migrate", "PreSync"))?;
        repo.write("web.yaml", WEB)?;
        repo.write("post.yaml", &hook_job("smoke", "PostSync"))?;
        let first = repo.commit_mode("run-0")?;
        let (jobs, watch) = JobCreations::watch(client.clone(), &ns);
        let cache = tempfile::tempdir()?;
        let logs = tempfile::tempdir()?;
        let (mut ctl, _) =
            controller(plane.kubeconfig(), cache.path(), logs.path(), "killed", &[])?;
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        apps.create(
            &PostParams::default(),
            &application(&ns, &repo.file_url(), "1s")?,
        )
        .await?;
        deployed(&apps, &first).await?;
        let mut attempt = 0;
        for _ in 1..=runs() {
            // Tries until a kill lands while the operation is Running (only the killed
            // controller writes status, so the status read after the kill says where it was);
            // every try is checked all the same.
            let mut mid_sync = false;
            while !mid_sync {
                attempt += 1;
                ensure!(
                    attempt <= runs() * KILL_TRIES,
                    "no kill of {attempt} landed while the operation was Running"
                );
                let before =
                    commit_and_wait_running(&client, &ns, &apps, &repo, &jobs, attempt).await?;
                // Somewhere in the sync: the PreSync hook, wave 0, the wait on wave 1, PostSync.
                tokio::time::sleep(jitter(Duration::from_millis(800))).await;
                ctl.kill()?;
                mid_sync = running_at(&apps, &before.commit).await?;
                ctl.start()?;
                let result =
                    deployed_after_kill(&client, &ns, &apps, &jobs, &before, Instant::now())
                        .await?;
                if mid_sync {
                    result.print("controller-killed-mid-sync");
                }
                result.ensure_clean()?;
            }
        }
        watch.abort();
        Ok(())
    })
    .await?
}

/// The restarts of one run of the API server fault, in order.
const RESTARTS: [Component; 7] = [
    Component::ApiServer,
    Component::ApiServer,
    Component::ApiServer,
    Component::ApiServer,
    Component::ApiServer,
    Component::Etcd,
    Component::Etcd,
];

#[tokio::test]
async fn api_server_and_etcd_restarts_are_survived_without_a_controller_restart()
-> anyhow::Result<()> {
    let _serial = SERIAL.lock().await;
    let plane = driftless_testenv::shared()?;
    with_namespace("fault-apiserver", |client, ns| async move {
        driftless_testenv::install_project_crds(&client).await?;
        bystander(&client, &ns).await?;
        let repo = Repo::new()?;
        repo.write("web.yaml", WEB)?;
        let first = repo.commit_mode("run-0")?;
        let cache = tempfile::tempdir()?;
        let logs = tempfile::tempdir()?;
        let (mut ctl, _) = controller(
            plane.kubeconfig(),
            cache.path(),
            logs.path(),
            "survivor",
            &[],
        )?;
        let pid = ctl.pid()?;
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        apps.create(
            &PostParams::default(),
            &application(&ns, &repo.file_url(), "1s")?,
        )
        .await?;
        deployed(&apps, &first).await?;
        let mut n = 0;
        for run in 1..=runs() {
            // Several restarts in a row: a backoff carried from one outage into the next would
            // show here as a watch that comes back later each time, until self-heal stops (#23).
            for component in RESTARTS {
                n += 1;
                let before = Survivors::read(&client, &ns).await?;
                let commit = repo.commit_mode(&format!("run-{n}"))?;
                tokio::time::sleep(jitter(Duration::from_secs(2))).await;
                plane.kill_component(component)?;
                plane.start_component(component).await?;
                let restarted = Instant::now();
                // A fresh client: the test's own connections died with the server too.
                let client = plane.client().await?;
                let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
                deployed(&apps, &commit).await?;
                // Self-heal needs the watches back: a hand edit is reverted.
                let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
                let edit = serde_json::json!({"data": {"mode": "edited-by-hand"}});
                configmaps
                    .patch("settings", &PatchParams::default(), &Patch::Merge(edit))
                    .await?;
                let want = format!("run-{n}");
                eventually("the hand edit reverted", SETTLE, || async {
                    let cm = configmaps.get("settings").await.ok()?;
                    (cm.data?.get("mode")? == &want).then_some(())
                })
                .await?;
                let recover = restarted.elapsed();
                ctl.check_running()?;
                ensure!(ctl.pid()? == pid, "the controller was restarted");
                let after = Survivors::read(&client, &ns).await?;
                let (lost, unowned_deleted, duplicated) = after.compare(&before);
                let result = RunResult {
                    resumed: true,
                    lost,
                    unowned_deleted,
                    duplicated,
                    recover,
                };
                let fault = match component {
                    Component::Etcd => "etcd-restarted",
                    _ => "api-server-killed",
                };
                result.print(fault);
                result.ensure_clean()?;
                let _ = run;
            }
        }
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn syncs_finish_through_an_api_server_refusing_a_fifth_of_requests() -> anyhow::Result<()> {
    let _serial = SERIAL.lock().await;
    let plane = driftless_testenv::shared()?;
    with_namespace("fault-refusals", |client, ns| async move {
        driftless_testenv::install_project_crds(&client).await?;
        bystander(&client, &ns).await?;
        let proxy = ApiProxy::start(plane.kubeconfig()).await?;
        let repo = Repo::new()?;
        repo.write("web.yaml", WEB)?;
        let first = repo.commit_mode("run-0")?;
        let cache = tempfile::tempdir()?;
        let logs = tempfile::tempdir()?;
        let (_ctl, _) = controller(
            proxy.kubeconfig(),
            cache.path(),
            logs.path(),
            "refused",
            &[],
        )?;
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        // As in Argo CD, a failed automated sync is not tried again at the same commit unless
        // the Application asks for retries: a refused apply fails the operation.
        let mut app = serde_json::to_value(application(&ns, &repo.file_url(), "1s")?)?;
        app["spec"]["syncPolicy"]["retry"] = serde_json::json!(
            {"limit": 10, "backoff": {"duration": "1s", "factor": 2, "maxDuration": "5s"}}
        );
        apps.create(&PostParams::default(), &serde_json::from_value(app)?)
            .await?;
        deployed(&apps, &first).await?;
        proxy.set_faults(Faults {
            throttle_rate: 0.1,
            error_rate: 0.1,
            ..Faults::default()
        });
        // A sync makes only a handful of requests of its own, so at 20 % some see no refusal
        // at all (the check that failed once in #23): such a sync is checked all the same but
        // not counted, and another commit is made, until each run has gone through refusals.
        let mut attempt = 0;
        for _ in 1..=runs() {
            let mut refused_during = false;
            while !refused_during {
                attempt += 1;
                ensure!(
                    attempt <= runs() * REFUSAL_TRIES,
                    "no sync of {attempt} met a refused request: {:?}",
                    proxy.stats()
                );
                let before = Survivors::read(&client, &ns).await?;
                let refused = proxy.stats();
                let commit = repo.commit_mode(&format!("run-{attempt}"))?;
                let started = Instant::now();
                deployed(&apps, &commit).await?;
                let recover = started.elapsed();
                let after = Survivors::read(&client, &ns).await?;
                let (lost, unowned_deleted, duplicated) = after.compare(&before);
                let stats = proxy.stats();
                refused_during =
                    stats.throttled + stats.failed > refused.throttled + refused.failed;
                let result = RunResult {
                    resumed: true,
                    lost,
                    unowned_deleted,
                    duplicated,
                    recover,
                };
                if refused_during {
                    result.print("api-server-429-500-20pct");
                }
                result.ensure_clean()?;
            }
        }
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn a_git_outage_keeps_the_last_deployment_and_a_force_push_is_followed() -> anyhow::Result<()>
{
    let _serial = SERIAL.lock().await;
    let plane = driftless_testenv::shared()?;
    with_namespace("fault-git", |client, ns| async move {
        driftless_testenv::install_project_crds(&client).await?;
        bystander(&client, &ns).await?;
        let repo = Repo::new()?;
        repo.write("web.yaml", WEB)?;
        // The force-push of each run goes back to this commit and commits anew.
        repo.commit_mode("base")?;
        let first = repo.commit_mode("run-0")?;
        repo.git(&["config", "uploadpack.allowAnySHA1InWant", "true"])?;
        let mut daemon = GitDaemon::start(repo.base.path())?;
        let cache = tempfile::tempdir()?;
        let logs = tempfile::tempdir()?;
        let (_ctl, port) = controller(plane.kubeconfig(), cache.path(), logs.path(), "git", &[])?;
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        apps.create(
            &PostParams::default(),
            &application(&ns, &daemon.url("app/.git"), "1s")?,
        )
        .await?;
        deployed(&apps, &first).await?;
        let mut deployed_commit = first;
        for run in 1..=runs() {
            let before = Survivors::read(&client, &ns).await?;
            daemon.stop()?;
            // Many poll intervals (1 s) of failures: the condition is set and stays set while
            // the controller keeps trying, each failed fetch counted as an `error` although the
            // last fetched commit is kept. Counted from the first failure reported, when no
            // fetch begun before the stop can still be in flight.
            eventually("FetchFailed", SETTLE, || async {
                let status = apps.get("app").await.ok()?.status?;
                status
                    .conditions
                    .iter()
                    .any(|c| c.reason == "FetchFailed")
                    .then_some(())
            })
            .await?;
            let fetched_before = fetches(port, "error").unwrap_or_default();
            let succeeded_before = fetches(port, "success").unwrap_or_default();
            let last = Mutex::new(String::new());
            eventually(
                "FetchFailed through five more failed fetches",
                SETTLE,
                || async {
                    let status = apps.get("app").await.ok()?.status?;
                    let condition = status.conditions.iter().any(|c| c.reason == "FetchFailed");
                    let fetched = fetches(port, "error");
                    *last
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = format!(
                        "fetches {fetched:?} (from {fetched_before}), conditions {:?}",
                        status.conditions
                    );
                    (condition && fetched? >= fetched_before + 5.0).then_some(())
                },
            )
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "{e}: {}",
                    last.lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                )
            })?;
            ensure!(
                fetches(port, "success") == Some(succeeded_before),
                "a failed fetch was counted as a success"
            );
            let during = Survivors::read(&client, &ns).await?;
            let (lost, unowned_deleted, _) = during.compare(&before);
            ensure!(
                lost == 0 && unowned_deleted == 0,
                "objects pruned while Git was down"
            );
            // Back, with a force-push that rewrites the branch: the new head is deployed.
            daemon.restart()?;
            let started = Instant::now();
            repo.git(&["reset", "-q", "--hard", "HEAD~1"])?;
            let commit = repo.commit_mode(&format!("rewritten-{run}"))?;
            let status = deployed(&apps, &commit).await?;
            let recover = started.elapsed();
            ensure!(
                status.history.iter().any(|h| h.revision == deployed_commit),
                "the rewritten-away commit left the history: {:?}",
                status.history
            );
            ensure!(
                !status.conditions.iter().any(|c| c.reason == "FetchFailed"),
                "FetchFailed kept after recovery"
            );
            deployed_commit = commit;
            let after = Survivors::read(&client, &ns).await?;
            let (lost, unowned_deleted, duplicated) = after.compare(&before);
            let result = RunResult {
                resumed: true,
                lost,
                unowned_deleted,
                duplicated,
                recover,
            };
            result.print("git-down-then-force-push");
            result.ensure_clean()?;
        }
        Ok(())
    })
    .await?
}

/// Who holds the Lease `name` in `ns`.
async fn lease_holder(client: &Client, ns: &str, name: &str) -> Option<String> {
    Api::<Lease>::namespaced(client.clone(), ns)
        .get_opt(name)
        .await
        .ok()??
        .spec?
        .holder_identity
}

#[tokio::test]
async fn the_leader_lost_mid_sync_is_replaced_and_the_follower_finishes_the_sync()
-> anyhow::Result<()> {
    let _serial = SERIAL.lock().await;
    let plane = driftless_testenv::shared()?;
    with_namespace("fault-leader", |client, ns| async move {
        driftless_testenv::install_project_crds(&client).await?;
        bystander(&client, &ns).await?;
        let repo = Repo::new()?;
        repo.write("pre.yaml", &hook_job("migrate", "PreSync"))?;
        repo.write("web.yaml", WEB)?;
        repo.write("post.yaml", &hook_job("smoke", "PostSync"))?;
        let first = repo.commit_mode("run-0")?;
        let (jobs, watch) = JobCreations::watch(client.clone(), &ns);
        let logs = tempfile::tempdir()?;
        let election = [
            "--leader-elect",
            "--lease-namespace",
            ns.as_str(),
            "--lease-name",
            "faults-leader",
        ];
        // Two replicas, each with its own Git cache as in two pods.
        let caches = [tempfile::tempdir()?, tempfile::tempdir()?];
        let mut replicas = Vec::new();
        for (pod, cache) in ["replica-a", "replica-b"].into_iter().zip(&caches) {
            let (guarded, _) = controller(
                plane.kubeconfig(),
                cache.path(),
                logs.path(),
                pod,
                &election,
            )?;
            replicas.push((pod, guarded));
        }
        let apps: Api<Application> = Api::namespaced(client.clone(), &ns);
        apps.create(
            &PostParams::default(),
            &application(&ns, &repo.file_url(), "1s")?,
        )
        .await?;
        deployed(&apps, &first).await?;
        let mut attempt = 0;
        for _ in 1..=runs() {
            let mut mid_sync = false;
            while !mid_sync {
                attempt += 1;
                ensure!(
                    attempt <= runs() * KILL_TRIES,
                    "no leader kill of {attempt} landed while the operation was Running"
                );
                let before =
                    commit_and_wait_running(&client, &ns, &apps, &repo, &jobs, attempt).await?;
                tokio::time::sleep(jitter(Duration::from_millis(800))).await;
                let leader = lease_holder(&client, &ns, "faults-leader")
                    .await
                    .context("no replica holds the lease")?;
                let (_, guarded) = replicas
                    .iter_mut()
                    .find(|(pod, _)| *pod == leader)
                    .with_context(|| format!("the lease is held by {leader}, not a replica"))?;
                guarded.kill()?;
                mid_sync = running_at(&apps, &before.commit).await?;
                // The killed leader stays down until the sync is deployed: the other replica
                // must take the lease over and finish it.
                let result =
                    deployed_after_kill(&client, &ns, &apps, &jobs, &before, Instant::now())
                        .await?;
                let holder = lease_holder(&client, &ns, "faults-leader").await;
                ensure!(
                    holder.as_deref().is_some_and(|h| h != leader),
                    "the lease after the leader was killed: {holder:?}"
                );
                if mid_sync {
                    result.print("leader-lost-mid-sync");
                }
                result.ensure_clean()?;
                // Back as a follower for the next run.
                guarded.start()?;
            }
        }
        watch.abort();
        Ok(())
    })
    .await?
}
