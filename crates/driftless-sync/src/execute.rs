//! Carrying out a plan: hooks, then wave by wave validate → apply → prune → wait for health,
//! then the remaining hooks.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use driftless_resource::ResourceKey;
use serde_json::Value;

use crate::cluster::{ApplyMode, Cluster, ClusterError, ErrorKind, api_version};
use crate::hooks::HookPhase;
use crate::options::SyncOptions;
use crate::permit::Permit;
use crate::plan::{ApplyTask, HookTask, Plan, PruneTask};
use crate::report::{Action, Outcome, ResourceResult, Resume, SyncReport};

/// Whether an object is done rolling out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// Healthy (or has no notion of health).
    Ready,
    /// Still progressing; the message says on what.
    Waiting(String),
    /// Degraded or failed; the message says why.
    Failed(String),
}

/// Settings of one execution.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The application's name.
    pub app: String,
    /// The sync options.
    pub options: SyncOptions,
    /// The destination namespace (created first with `CreateNamespace=true`).
    pub destination: String,
    /// Validate everything with a server-side dry run and stop there.
    pub dry_run: bool,
    /// How long a wave or hook may take to become healthy.
    pub health_timeout: Duration,
    /// How often health is polled while waiting.
    pub poll: Duration,
    /// Wait for the last wave to become healthy even when nothing comes after it. A wave
    /// followed by another wave, by Sync or PostSync hooks or by `PruneLast` prunes is always
    /// waited for; a controller that assesses health continuously need not wait for the rest
    /// (Argo CD's sync, too, ends once the last wave is applied).
    pub wait_last_wave: bool,
    /// Never wait inside the call: at the first wait whose condition does not hold yet (a wave
    /// not ready, a hook still running, a hook's previous run still being deleted, a kind whose
    /// CRD is not served yet), stop and return a report whose `pending` says where to go on.
    /// A controller sets it, so no worker sleeps through a rollout.
    pub yield_waits: bool,
    /// Go on from where an earlier call of the same plan stopped: steps before it are not
    /// carried out again (no hook runs twice, no earlier wave is applied again).
    pub resume: Option<Resume>,
    /// Objects the earlier calls of this execution reported already; a failure does not list
    /// them again as skipped.
    pub handled_before: BTreeSet<ResourceKey>,
    /// Which objects may be applied and pruned (the application's project).
    pub permit: Permit,
}

/// Why the steps stopped.
enum Stop {
    /// A step failed.
    Failed(String),
    /// A step waits ([`Settings::yield_waits`]).
    Wait(Resume),
}

impl From<String> for Stop {
    fn from(message: String) -> Self {
        Self::Failed(message)
    }
}

/// How long to keep retrying a custom resource whose CRD was applied moments ago but is not yet
/// served. Establishing a CRD takes about a second on a healthy API server.
const NEW_KIND_PATIENCE: Duration = Duration::from_secs(30);

/// Carries out `plan` against `cluster`, judging readiness with `health`.
///
/// # Guarantees
/// * A wave is validated in full with a server-side dry run before any of it is applied; when
///   validation fails, nothing of that wave or any later one is applied.
/// * The next wave starts only when every object of the current one is ready; so do hooks of
///   the Sync and PostSync phases and `PruneLast` prunes. The last wave is waited for only
///   when something follows it or [`Settings::wait_last_wave`] asks.
/// * Every object in the plan appears in the report exactly once; with
///   [`Settings::yield_waits`], once in the reports of all the calls of one execution together
///   (a pending report marks nothing skipped).
pub async fn execute<C, H>(cluster: &C, health: H, plan: &Plan, settings: &Settings) -> SyncReport
where
    C: Cluster + Sync,
    H: Fn(&Value) -> Readiness,
{
    let mut run = Run {
        cluster,
        health,
        settings,
        plan,
        report: SyncReport::default(),
        applied: BTreeMap::new(),
        step: 0,
        yielding: settings.yield_waits && !settings.dry_run,
    };
    run.all().await;
    run.report
}

struct Run<'a, C, H> {
    cluster: &'a C,
    health: H,
    settings: &'a Settings,
    plan: &'a Plan,
    report: SyncReport,
    /// What the API server returned for each object applied in the current wave: the first
    /// health check reads it instead of asking again.
    applied: BTreeMap<ResourceKey, Value>,
    /// The number of the next step.
    step: u32,
    /// Whether waits stop the call instead of sleeping.
    yielding: bool,
}

impl<C, H> Run<'_, C, H>
where
    C: Cluster + Sync,
    H: Fn(&Value) -> Readiness,
{
    async fn all(&mut self) {
        let plan = self.plan;
        // Recorded by the first call of an execution.
        let untouched = if self.settings.resume.is_none() {
            plan.untouched.as_slice()
        } else {
            &[]
        };
        for untouched in untouched {
            self.record(
                &untouched.key,
                None,
                Action::None,
                if untouched.conflict {
                    Outcome::Conflict
                } else {
                    Outcome::Kept
                },
                untouched.reason.clone(),
            );
        }
        if !plan.denied.is_empty() {
            for denied in &plan.denied {
                self.record(
                    &denied.key,
                    None,
                    Action::None,
                    Outcome::Denied,
                    denied.reason.clone(),
                );
            }
            let first = &plan.denied[0];
            self.report.failure = Some(format!(
                "{} object(s) not permitted, nothing applied: {}: {}",
                plan.denied.len(),
                first.key,
                first.reason
            ));
            self.skip_unhandled();
            return;
        }
        match self.sync_phases().await {
            Ok(()) => {}
            Err(Stop::Wait(resume)) => {
                self.report.pending = Some(resume);
                return;
            }
            Err(Stop::Failed(failure)) => {
                self.report.failure = Some(failure);
                if !self.settings.dry_run {
                    // SyncFail hooks run to their end (there is no later call to go on in) and
                    // report on their own; their failure does not hide the first one.
                    self.yielding = false;
                    self.step = u32::MAX / 2;
                    let _ = self.hooks(HookPhase::SyncFail).await;
                }
            }
        }
        self.skip_unhandled();
    }

    /// The number of the next step, and whether an earlier call carried it out already.
    fn next_step(&mut self) -> (u32, bool) {
        let step = self.step;
        self.step += 1;
        let done = self.settings.resume.as_ref().is_some_and(|r| step < r.step);
        (step, done)
    }

    /// When the wait of `step` began: when an earlier call stopped in it, else now.
    fn since(&self, step: u32) -> SystemTime {
        match &self.settings.resume {
            Some(r) if r.step == step => r.waiting_since,
            _ => SystemTime::now(),
        }
    }

    /// Whether `patience` has run out since `since`.
    fn out_of_time(since: SystemTime, patience: Duration) -> bool {
        since.elapsed().is_ok_and(|waited| waited > patience)
    }

    /// In yielding mode the call stops here, else it sleeps and the wait goes on.
    async fn pause(&self, step: u32, since: SystemTime, waiting_on: String) -> Result<(), Stop> {
        if self.yielding {
            return Err(Stop::Wait(Resume {
                step,
                waiting_since: since,
                waiting_on,
            }));
        }
        self.cluster.sleep(self.settings.poll).await;
        Ok(())
    }

    async fn sync_phases(&mut self) -> Result<(), Stop> {
        let plan = self.plan;
        let (_, done) = self.next_step();
        if self.settings.options.create_namespace && !self.settings.dry_run && !done {
            self.ensure_namespace().await?;
        }
        if !self.settings.dry_run {
            self.hooks(HookPhase::PreSync).await?;
        }
        let followed = plan.hooks.contains_key(&HookPhase::Sync)
            || plan.hooks.contains_key(&HookPhase::PostSync)
            || !plan.prune_last.is_empty();
        for (index, wave) in plan.waves.iter().enumerate() {
            let (step, done) = self.next_step();
            if !done {
                self.validate(&wave.apply, wave.number).await?;
                if self.settings.dry_run {
                    continue;
                }
                for task in &wave.apply {
                    self.apply(task, wave.number, step).await?;
                }
                if !self.settings.options.prune_last {
                    self.prune(&wave.prune, Some(wave.number)).await?;
                }
            }
            let (step, done) = self.next_step();
            let last = index + 1 == plan.waves.len();
            if !done && (!last || followed || self.settings.wait_last_wave) {
                let keys: Vec<&ApplyTask> = wave.apply.iter().collect();
                self.wait_ready(&keys, wave.number, step).await?;
            }
        }
        if self.settings.dry_run {
            for task in plan
                .waves
                .iter()
                .flat_map(|w| &w.prune)
                .chain(&plan.prune_last)
            {
                self.record(
                    &task.key,
                    None,
                    Action::Prune,
                    Outcome::DryRun,
                    String::new(),
                );
            }
            return Ok(());
        }
        self.hooks(HookPhase::Sync).await?;
        let (_, done) = self.next_step();
        if !done {
            self.prune(&plan.prune_last, None).await?;
        }
        self.hooks(HookPhase::PostSync).await
    }

    async fn ensure_namespace(&mut self) -> Result<(), String> {
        let namespace = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": self.settings.destination},
        });
        let key = ResourceKey::new("v1", "Namespace", "", &self.settings.destination);
        match self.cluster.get(&key, "v1").await {
            Ok(Some(_)) => Ok(()),
            Ok(None) => self
                .cluster
                .apply(&namespace, ApplyMode::default())
                .await
                .map(|_| ())
                .map_err(|e| format!("creating namespace {}: {e}", self.settings.destination)),
            Err(e) => Err(format!(
                "reading namespace {}: {e}",
                self.settings.destination
            )),
        }
    }

    /// Server-side dry run of a whole wave. Objects that can only be validated once an earlier
    /// object of this sync exists (a namespace, a CRD) are let through.
    async fn validate(&mut self, tasks: &[ApplyTask], wave: i32) -> Result<(), String> {
        let mut failures = Vec::new();
        for task in tasks {
            let sent = self.send(task, true).await;
            match sent {
                Ok(_) => {
                    if self.settings.dry_run {
                        self.record(
                            &task.key,
                            Some(wave),
                            action(task),
                            Outcome::DryRun,
                            String::new(),
                        );
                    }
                }
                Err(e) if self.created_by_this_sync(task, &e) => {
                    if self.settings.dry_run {
                        let note = "validated once its namespace or CRD exists".to_owned();
                        self.record(&task.key, Some(wave), action(task), Outcome::DryRun, note);
                    }
                }
                Err(e) => {
                    failures.push(self.fail_task(task, wave, &e));
                }
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "wave {wave} failed validation, nothing of it was applied: {}",
                failures.join("; ")
            ))
        }
    }

    /// Whether a dry-run failure is only because the namespace or the CRD the object needs is
    /// created earlier in this same sync.
    fn created_by_this_sync(&self, task: &ApplyTask, error: &ClusterError) -> bool {
        let applied = || self.plan.waves.iter().flat_map(|w| &w.apply);
        match error.kind {
            ErrorKind::NotFound => {
                (self.settings.options.create_namespace
                    && task.key.namespace == self.settings.destination)
                    || applied()
                        .any(|t| t.key.kind == "Namespace" && t.key.name == task.key.namespace)
            }
            ErrorKind::UnknownKind => applied().any(|t| {
                t.key.kind == "CustomResourceDefinition"
                    && t.object.pointer("/spec/group").and_then(Value::as_str)
                        == Some(&task.key.group)
                    && t.object.pointer("/spec/names/kind").and_then(Value::as_str)
                        == Some(&task.key.kind)
            }),
            _ => false,
        }
    }

    async fn apply(&mut self, task: &ApplyTask, wave: i32, step: u32) -> Result<(), Stop> {
        let since = self.since(step);
        let stored = loop {
            let sent = self.send(task, false).await;
            match sent {
                Err(e)
                    if e.kind == ErrorKind::UnknownKind
                        && !Self::out_of_time(since, NEW_KIND_PATIENCE) =>
                {
                    // Its CRD was applied moments ago: let discovery catch up.
                    let _ = self.cluster.refresh_kinds().await;
                    if self.yielding {
                        // Once more at once; then the next call applies the wave again.
                        let again = self.send(task, false).await;
                        if again
                            .as_ref()
                            .is_err_and(|e| e.kind == ErrorKind::UnknownKind)
                        {
                            let waiting_on =
                                format!("wave {wave}: {}: its kind is not served yet", task.key);
                            self.pause(step, since, waiting_on).await?;
                        }
                        break again;
                    }
                    self.cluster.sleep(Duration::from_millis(500)).await;
                }
                other => break other,
            }
        };
        match stored {
            Ok(stored) => {
                let outcome = if resource_version(task.live.as_ref()).is_some()
                    && resource_version(task.live.as_ref()) == resource_version(Some(&stored))
                {
                    Outcome::Unchanged
                } else {
                    Outcome::Synced
                };
                self.record(&task.key, Some(wave), action(task), outcome, String::new());
                self.applied.insert(task.key.clone(), stored);
                if task.key.kind == "CustomResourceDefinition" {
                    let _ = self.cluster.refresh_kinds().await;
                }
                Ok(())
            }
            Err(e) => Err(Stop::Failed(self.fail_task(task, wave, &e))),
        }
    }

    async fn prune(&mut self, tasks: &[PruneTask], wave: Option<i32>) -> Result<(), String> {
        let propagation = self.settings.options.prune_propagation;
        let mut failures = Vec::new();
        for task in tasks {
            match self
                .cluster
                .delete(&task.key, api_version(&task.live), propagation)
                .await
            {
                Ok(()) => self.record(
                    &task.key,
                    wave,
                    Action::Prune,
                    Outcome::Pruned,
                    String::new(),
                ),
                Err(e) => {
                    self.record(
                        &task.key,
                        wave,
                        Action::Prune,
                        Outcome::Failed,
                        e.message.clone(),
                    );
                    failures.push(format!("pruning {}: {}", task.key, e.message));
                }
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(failures.join("; "))
        }
    }

    /// Polls every object of a wave until all are ready, one fails, or time runs out.
    async fn wait_ready(&mut self, tasks: &[&ApplyTask], wave: i32, step: u32) -> Result<(), Stop> {
        let since = self.since(step);
        let mut pending: Vec<&ApplyTask> = tasks.to_vec();
        loop {
            let mut still = Vec::new();
            for task in pending {
                let live = match self.applied.remove(&task.key) {
                    // Most kinds are ready as stored (a ConfigMap, a Service): no request.
                    Some(stored) => Some(stored),
                    None => self
                        .cluster
                        .get(&task.key, api_version(&task.object))
                        .await
                        .map_err(|e| format!("reading {}: {e}", task.key))?,
                };
                match live.as_ref().map(&self.health) {
                    Some(Readiness::Ready) => {}
                    Some(Readiness::Failed(why)) => {
                        self.mark_failed(&task.key, &why);
                        return Err(Stop::Failed(format!(
                            "wave {wave}: {} is unhealthy: {why}",
                            task.key
                        )));
                    }
                    Some(Readiness::Waiting(why)) => still.push((task, why)),
                    None => still.push((task, "not found after apply".to_owned())),
                }
            }
            if still.is_empty() {
                return Ok(());
            }
            let waiting: Vec<String> = still
                .iter()
                .map(|(t, why)| format!("{}: {why}", t.key))
                .collect();
            if Self::out_of_time(since, self.settings.health_timeout) {
                return Err(Stop::Failed(format!(
                    "wave {wave} not healthy after {} s: {}",
                    self.settings.health_timeout.as_secs(),
                    waiting.join("; ")
                )));
            }
            let waiting_on = format!("wave {wave}: {}", waiting.join("; "));
            self.pause(step, since, waiting_on).await?;
            pending = still.into_iter().map(|(t, _)| t).collect();
        }
    }

    async fn hooks(&mut self, phase: HookPhase) -> Result<(), Stop> {
        let plan = self.plan;
        let Some(hooks) = plan.hooks.get(&phase) else {
            return Ok(());
        };
        for hook in hooks {
            self.run_hook(hook, phase).await?;
        }
        Ok(())
    }

    /// A hook is two steps: creating it (after deleting its previous run, when its policy says
    /// so), and waiting for it to finish.
    async fn run_hook(&mut self, hook: &HookTask, phase: HookPhase) -> Result<(), Stop> {
        let version = api_version(&hook.object);
        let fail = |run: &mut Self, message: String| {
            run.record(
                &hook.key,
                None,
                Action::Hook(phase),
                Outcome::Failed,
                message.clone(),
            );
            Err(Stop::Failed(format!(
                "{} hook {} ({}): {message}",
                phase.as_str(),
                hook.key,
                hook.source
            )))
        };
        let (step, created) = self.next_step();
        if !created {
            if hook.policy.before_creation {
                match self.delete_before(&hook.key, version, step).await {
                    Ok(()) => {}
                    Err(Stop::Failed(e)) => {
                        return fail(self, format!("deleting the previous run: {e}"));
                    }
                    Err(wait) => return Err(wait),
                }
            }
            if let Err(e) = self.cluster.create(&hook.object).await {
                return fail(self, e.message);
            }
        }
        let (step, waited) = self.next_step();
        if waited {
            return Ok(());
        }
        let since = self.since(step);
        let verdict = loop {
            match self.cluster.get(&hook.key, version).await {
                Ok(Some(live)) => match (self.health)(&live) {
                    Readiness::Ready => break Ok(()),
                    Readiness::Failed(why) => break Err(why),
                    Readiness::Waiting(why) => {
                        if Self::out_of_time(since, self.settings.health_timeout) {
                            break Err(format!(
                                "not finished after {} s",
                                self.settings.health_timeout.as_secs()
                            ));
                        }
                        let waiting_on = format!("{} hook {}: {why}", phase.as_str(), hook.key);
                        self.pause(step, since, waiting_on).await?;
                    }
                },
                Ok(None) => break Err("deleted while running".to_owned()),
                Err(e) => break Err(e.message),
            }
        };
        let delete = match &verdict {
            Ok(()) => hook.policy.on_success,
            Err(_) => hook.policy.on_failure,
        };
        if delete {
            let _ = self
                .cluster
                .delete(&hook.key, version, crate::options::Propagation::Background)
                .await;
        }
        match verdict {
            Ok(()) => {
                self.record(
                    &hook.key,
                    None,
                    Action::Hook(phase),
                    Outcome::Synced,
                    String::new(),
                );
                Ok(())
            }
            Err(why) => fail(self, why),
        }
    }

    /// Deletes an object and waits until it is gone (a Job's pods take a moment).
    async fn delete_before(&self, key: &ResourceKey, version: &str, step: u32) -> Result<(), Stop> {
        let gone = |e: ClusterError| Stop::Failed(e.message);
        if self
            .cluster
            .get(key, version)
            .await
            .map_err(gone)?
            .is_none()
        {
            return Ok(());
        }
        self.cluster
            .delete(key, version, crate::options::Propagation::Foreground)
            .await
            .map_err(gone)?;
        let since = self.since(step);
        while self
            .cluster
            .get(key, version)
            .await
            .map_err(gone)?
            .is_some()
        {
            if Self::out_of_time(since, self.settings.health_timeout) {
                return Err(Stop::Failed(format!("{key} still exists after delete")));
            }
            self.pause(
                step,
                since,
                format!("{key}: the previous run is being deleted"),
            )
            .await?;
        }
        Ok(())
    }

    /// Sends one object: replace or server-side apply, as the task says.
    async fn send(&self, task: &ApplyTask, dry_run: bool) -> Result<Value, ClusterError> {
        if task.replace {
            self.cluster.replace(&task.object, dry_run).await
        } else {
            self.cluster
                .apply(&task.object, self.mode(task, dry_run))
                .await
        }
    }

    fn mode(&self, task: &ApplyTask, dry_run: bool) -> ApplyMode {
        ApplyMode {
            dry_run,
            force: self.settings.options.force,
            validate: task.validate,
        }
    }

    /// Records a refused object and returns the failure, naming the object and its file.
    fn fail_task(&mut self, task: &ApplyTask, wave: i32, error: &ClusterError) -> String {
        self.record(
            &task.key,
            Some(wave),
            action(task),
            Outcome::Failed,
            error.message.clone(),
        );
        format!("{} ({}): {}", task.key, task.source, error.message)
    }

    fn mark_failed(&mut self, key: &ResourceKey, why: &str) {
        if let Some(result) = self.report.results.iter_mut().rev().find(|r| &r.key == key) {
            result.outcome = Outcome::Failed;
            result.message = why.to_owned();
        }
    }

    fn record(
        &mut self,
        key: &ResourceKey,
        wave: Option<i32>,
        action: Action,
        outcome: Outcome,
        message: String,
    ) {
        self.report.results.push(ResourceResult {
            key: key.clone(),
            wave,
            action,
            outcome,
            message,
        });
    }

    /// Every planned object without a result gets `Skipped`.
    fn skip_unhandled(&mut self) {
        let plan = self.plan;
        let reason = match &self.report.failure {
            Some(_) => "not attempted: an earlier step failed".to_owned(),
            None => "not attempted".to_owned(),
        };
        let mut missing = Vec::new();
        for wave in &plan.waves {
            for task in &wave.apply {
                missing.push((task.key.clone(), Some(wave.number), action(task)));
            }
            for task in &wave.prune {
                missing.push((task.key.clone(), Some(wave.number), Action::Prune));
            }
        }
        for task in &plan.prune_last {
            missing.push((task.key.clone(), None, Action::Prune));
        }
        for (phase, hooks) in &plan.hooks {
            if *phase == HookPhase::SyncFail && self.report.failure.is_none() {
                continue;
            }
            for hook in hooks {
                missing.push((hook.key.clone(), None, Action::Hook(*phase)));
            }
        }
        for (key, wave, action) in missing {
            if self.report.result(&key).is_none() && !self.settings.handled_before.contains(&key) {
                self.record(&key, wave, action, Outcome::Skipped, reason.clone());
            }
        }
    }
}

fn action(task: &ApplyTask) -> Action {
    if task.live.is_some() {
        Action::Update
    } else {
        Action::Create
    }
}

fn resource_version(object: Option<&Value>) -> Option<&str> {
    object?.pointer("/metadata/resourceVersion")?.as_str()
}
