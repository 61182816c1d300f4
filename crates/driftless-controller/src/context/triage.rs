//! The changed first: when a repository moves to a new commit, the Applications whose render
//! inputs changed are found at once (from Git object ids, nothing rendered) and woken; the
//! others, whose renders stand, wait to record the new revision until every changed one has
//! been reconciled.
//!
//! The runtime's queue has no priorities, so the order is kept here: an unchanged Application
//! that comes up while changed ones are outstanding is *deferred* (nothing read, nothing
//! written) and woken again when the last changed one is done. Its status write, which records
//! the new revision, is not skipped: a status that names an old commit would mislead anyone
//! reading it (Argo CD and Flux both show the commit last looked at). It is only moved behind
//! the writes that matter.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use driftless_api::Application;
use driftless_source::{Source, normalize_repo_url};
use kube::runtime::reflector::ObjectRef;

use super::{Context, lock};

/// The longest an unchanged Application waits for the changed ones. A changed one that never
/// finishes (deleted meanwhile, its reconciliation lost) must not hold the others up; a
/// reconciliation of a changed one takes well under a second, so this is a backstop only.
pub(crate) const DEFER_LIMIT: Duration = Duration::from_secs(30);

/// The triage of each repository's latest commit.
#[derive(Debug, Default)]
pub(crate) struct Triages {
    /// By normalized repository URL and commit: Applications of one repository may follow
    /// several branches.
    latest: Mutex<HashMap<(String, String), Triage>>,
    /// Held while a triage is computed, so each commit is triaged once.
    computing: Mutex<()>,
}

/// One repository's move to a commit.
#[derive(Debug)]
struct Triage {
    /// Changed Applications not reconciled yet.
    changed: HashSet<ObjectRef<Application>>,
    /// Unchanged Applications that came up meanwhile and were sent away.
    deferred: HashSet<ObjectRef<Application>>,
    started: Instant,
}

impl Triage {
    fn waiting(&self) -> bool {
        !self.changed.is_empty() && self.started.elapsed() < DEFER_LIMIT
    }
}

impl Context {
    /// Triages `repository`'s move to `commit` (once per commit; blocking, Git is read): every
    /// Application with a render of this repository at another commit, whose target revision
    /// is now `commit`, is compared by the fingerprints of what its render read; those that
    /// changed are woken now, to fetch (served by a fetch that started at `fetched` or later).
    pub(crate) fn triage(&self, repository: &Source, commit: &str, fetched: Instant) {
        let _computing = lock(&self.triages.computing);
        let url = normalize_repo_url(repository.url());
        let key = (url.clone(), commit.to_owned());
        if lock(&self.triages.latest).contains_key(&key) {
            return;
        }
        let candidates: Vec<_> = lock(&self.apps)
            .iter()
            .filter_map(|(app, memory)| {
                let render = memory.render.as_ref()?;
                let inputs = render.inputs.clone()?;
                (render.commit != commit && normalize_repo_url(&render.source.repo_url) == url)
                    .then(|| (app.clone(), render.source.target_revision.clone(), inputs))
            })
            .collect();
        let mut revisions: HashMap<Option<String>, Option<String>> = HashMap::new();
        let mut following = Vec::new();
        for (app, revision, inputs) in candidates {
            let resolved = revisions.entry(revision.clone()).or_insert_with(|| {
                self.cache
                    .resolve_cached(repository, revision.as_deref().unwrap_or("HEAD"))
                    .ok()
            });
            if resolved.as_deref() == Some(commit) {
                following.push((app, inputs));
            }
        }
        let all: Vec<_> = following.iter().map(|(_, i)| &i.inputs).collect();
        let now = self.cache.fingerprints(repository, commit, &all);
        let changed: HashSet<_> = following
            .iter()
            .enumerate()
            .filter(|(index, (_, last))| {
                !now.as_ref().is_ok_and(|now| {
                    now.get(*index)
                        .is_some_and(|f| f.matches(&last.fingerprints))
                })
            })
            .map(|(_, (app, _))| app.clone())
            .collect();
        tracing::info!(repository = %url, commit, changed = changed.len(), unchanged = following.len() - changed.len(), "new commit triaged");
        // The changed ones must read Git at their next reconciliation (their last render may
        // not be due yet); the fetch that found `commit` serves them. The others' last render
        // now stands for `commit`: they need no Git at all, and wait.
        let mut deferred = HashSet::new();
        {
            let mut apps = lock(&self.apps);
            let now = Instant::now();
            for (app, _) in &following {
                let Some(memory) = apps.get_mut(app) else {
                    continue;
                };
                if changed.contains(app) {
                    memory.refresh = Some(memory.refresh.map_or(fetched, |r| r.min(fetched)));
                } else if let Some(render) = memory.render.as_mut() {
                    render.carry_to(commit);
                    render.fetched_at = now;
                    // A refresh asked before this fetch started is answered by it.
                    memory.refresh = memory.refresh.filter(|asked| *asked > fetched);
                    self.metrics.render_skipped();
                    if !changed.is_empty() {
                        deferred.insert(app.clone());
                    }
                }
            }
        }
        let woken_now: Vec<_> = changed.iter().cloned().collect();
        let mut latest = lock(&self.triages.latest);
        // Older triages of the repository that hold nothing back any more are dropped, and
        // nothing they deferred is left waiting.
        let mut woken = Vec::new();
        latest.retain(|(other, _), triage| {
            let keep = *other != url || triage.waiting();
            if !keep {
                woken.extend(triage.deferred.drain());
            }
            keep
        });
        latest.insert(
            key,
            Triage {
                changed,
                deferred,
                started: Instant::now(),
            },
        );
        drop(latest);
        // Woken only once the triage is in place, so none is reconciled before it counts.
        for app in woken_now.iter().chain(&woken) {
            self.wake(app);
        }
    }

    /// Whether `app`, of repository `repo_url`, whose render stands at the new `commit`, must
    /// wait for the Applications that commit changed; if so it is woken when they are done.
    pub(crate) fn defer(&self, app: &ObjectRef<Application>, repo_url: &str, commit: &str) -> bool {
        let mut latest = lock(&self.triages.latest);
        match latest.get_mut(&(normalize_repo_url(repo_url), commit.to_owned())) {
            Some(triage) if triage.waiting() && !triage.changed.contains(app) => {
                triage.deferred.insert(app.clone());
                true
            }
            _ => false,
        }
    }

    /// Whether `app` was found unchanged by a triage whose changed Applications are not all
    /// reconciled yet: it waits for them, reading and writing nothing.
    pub(crate) fn waiting(&self, app: &ObjectRef<Application>) -> bool {
        lock(&self.triages.latest)
            .values()
            .any(|t| t.waiting() && t.deferred.contains(app))
    }

    /// Records that `app` was reconciled (or is gone): once no changed Application of a triage
    /// is left, the deferred ones are woken.
    pub(crate) fn reconciled(&self, app: &ObjectRef<Application>) {
        let mut woken = Vec::new();
        for triage in lock(&self.triages.latest).values_mut() {
            if triage.changed.remove(app) && triage.changed.is_empty() {
                woken.extend(triage.deferred.drain());
            }
        }
        for app in &woken {
            self.wake(app);
        }
    }

    fn wake(&self, app: &ObjectRef<Application>) {
        let id = crate::app_id(app.namespace.as_deref().unwrap_or_default(), &app.name);
        // The receiver is gone only when the controller stops.
        let _ = self.triggers.send(id);
    }
}
