//! [`LiveCache`]: one shared watch per kind of every object carrying the application label,
//! kept in memory and indexed by application, so comparing an application reads no object
//! from the API server and a change made by hand reaches its application as an event.
//!
//! Only labelled objects are watched (`driftless.dev/app`), so memory grows with what Driftless
//! manages, not with the cluster.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use driftless_resource::ResourceKey;
use driftless_sync::APP_LABEL;
use futures::StreamExt;
use kube::Client;
use kube::api::{Api, DynamicObject};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;

use crate::discovery::Kind;
use crate::forbidden::{Forbidden, ForbiddenKind, to_list, watch_forbidden};

/// Objects of one application, by key.
type Objects = BTreeMap<ResourceKey, Stored>;
/// A watched object: its key, application and JSON.
type Entry = (ResourceKey, String, Stored);

/// An object as the cache keeps it: its JSON text, a tenth of the memory of a parsed
/// [`Value`] (which costs more than ten kilobytes for a small Deployment), parsed again when
/// an application is compared.
#[derive(Clone)]
struct Stored {
    /// `metadata.resourceVersion`, when it is a number (etcd's are).
    version: Option<u64>,
    json: Box<[u8]>,
}

impl Stored {
    fn new(json: Vec<u8>, version: Option<&str>) -> Self {
        Self {
            version: version.and_then(|v| v.parse().ok()),
            json: json.into_boxed_slice(),
        }
    }

    fn value(&self) -> Option<Value> {
        serde_json::from_slice(&self.json).ok()
    }
}

/// The shared live state of every managed object, fed by one watch per kind.
///
/// # Guarantees
/// * After [`LiveCache::synced`] is true, [`LiveCache::owned`] holds every object that carried
///   the application label at some instant no older than the watch delay (milliseconds), or the
///   newer object a write of ours returned ([`LiveCache::record`]).
/// * Each change to a labelled object sends its application's id to the notifier once.
///
/// * A kind whose list or watch the API server refuses with 403 Forbidden (RBAC narrowed to
///   fewer kinds) counts as done for [`LiveCache::synced`] and is reported by
///   [`LiveCache::forbidden`] with the API server's message. Its objects are invisible: the cache
///   drops what it held of the kind and records no write of it, so they are never pruned. Its
///   watch keeps retrying with backoff; once permitted, the kind lists normally and is no longer
///   forbidden.
///
/// # Caveats
/// A kind whose watch fails otherwise (401, network, server errors) keeps its last known objects,
/// keeps [`LiveCache::synced`] false until its first list completes, and retries with backoff.
pub struct LiveCache {
    client: Client,
    state: Mutex<State>,
    notify: UnboundedSender<String>,
    /// The watch tasks, aborted by [`LiveCache::stop`].
    tasks: Mutex<Vec<tokio::task::AbortHandle>>,
}

#[derive(Default)]
struct State {
    /// Application id → its objects.
    by_app: HashMap<String, Objects>,
    /// Object → its application, to move an object whose label changed.
    app_of: HashMap<ResourceKey, String>,
    /// Kinds with a watch, and whether its first list is complete.
    kinds: HashMap<(String, String), bool>,
    /// Objects seen during a (re)list of a kind, swapped in when it completes.
    relist: HashMap<(String, String), Vec<Entry>>,
    /// Kinds whose last list or watch was refused with 403, and the API server's message.
    forbidden: Forbidden,
}

impl std::fmt::Debug for LiveCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveCache").finish_non_exhaustive()
    }
}

impl LiveCache {
    /// A cache with no watches yet; every change is announced on `notify` as an application id.
    pub fn new(client: Client, notify: UnboundedSender<String>) -> Arc<Self> {
        Arc::new(Self {
            client,
            state: Mutex::new(State::default()),
            notify,
            tasks: Mutex::new(Vec::new()),
        })
    }

    /// Stops every watch (a cluster no Application uses any more); the cache keeps what it
    /// held and starts nothing again.
    pub fn stop(&self) {
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(PoisonError::into_inner));
        for task in tasks {
            task.abort();
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain maps behind, still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts a watch for each listable kind not watched yet (call again after new CRDs).
    pub fn watch_kinds<'a>(self: &Arc<Self>, kinds: impl IntoIterator<Item = &'a Kind>) {
        for kind in kinds.into_iter().filter(|k| k.listable && k.watchable) {
            let id = (kind.resource.group.clone(), kind.resource.kind.clone());
            {
                let mut state = self.state();
                if state.kinds.contains_key(&id) {
                    continue;
                }
                state.kinds.insert(id.clone(), false);
            }
            let cache = Arc::clone(self);
            let kind = kind.clone();
            let task = tokio::spawn(async move { cache.run_watch(kind).await });
            self.tasks
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(task.abort_handle());
        }
    }

    /// Whether every watched kind has completed its first list or is [forbidden](Self::forbidden).
    pub fn synced(&self) -> bool {
        synced(&self.state())
    }

    /// The kinds whose list or watch the API server refused with 403 Forbidden at the last try,
    /// sorted by group and kind. Their objects are invisible to [`LiveCache::owned`].
    pub fn forbidden(&self) -> Vec<ForbiddenKind> {
        to_list(&self.state().forbidden)
    }

    /// Every object of application `app`, sorted by key.
    pub fn owned(&self, app: &str) -> Vec<(ResourceKey, Value)> {
        self.state()
            .by_app
            .get(app)
            .map(|objects| {
                objects
                    .iter()
                    // Text the cache wrote itself always parses.
                    .filter_map(|(key, object)| Some((key.clone(), object.value()?)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// How many objects the cache holds.
    pub fn len(&self) -> usize {
        self.state().app_of.len()
    }

    /// Whether the cache holds no object.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records an object a write of ours returned, unless the cache already holds a newer one,
    /// so a comparison right after a sync does not see the state before it.
    pub fn record(&self, key: &ResourceKey, object: &Value) {
        let (Some(app), Ok(json)) = (app_label(object), serde_json::to_vec(object)) else {
            return;
        };
        let version = object
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str);
        record(&mut self.state(), key, app, Stored::new(json, version));
    }

    async fn run_watch(self: Arc<Self>, kind: Kind) {
        let api: Api<DynamicObject> = Api::all_with(self.client.clone(), &kind.resource);
        let config = watcher::Config::default().labels(APP_LABEL);
        let id = (kind.resource.group.clone(), kind.resource.kind.clone());
        let mut events = watcher::watcher(api, config)
            .backoff(crate::WatchBackoff::default())
            .boxed();
        while let Some(event) = events.next().await {
            match event {
                Ok(event) => self.apply_event(&kind, &id, event),
                Err(error) => match watch_forbidden(&error) {
                    Some(message) => {
                        tracing::debug!(kind = %kind.resource.kind, %message, "watch forbidden; retrying");
                        let changed = forbid(&mut self.state(), &id, message);
                        self.announce(changed);
                    }
                    None => {
                        tracing::debug!(kind = %kind.resource.kind, %error, "watch interrupted; retrying");
                    }
                },
            }
        }
    }

    fn apply_event(&self, kind: &Kind, id: &(String, String), event: Event<DynamicObject>) {
        let changed = apply(&mut self.state(), kind, id, event);
        self.announce(changed);
    }

    fn announce(&self, changed: impl IntoIterator<Item = String>) {
        for app in changed {
            // The receiver is gone only when the controller stops.
            let _ = self.notify.send(app);
        }
    }
}

/// Whether every watched kind has listed or is forbidden.
fn synced(state: &State) -> bool {
    !state.kinds.is_empty()
        && state
            .kinds
            .iter()
            .all(|(id, listed)| *listed || state.forbidden.contains_key(id))
}

/// Applies one watch event of kind `id`; returns the applications whose objects changed.
fn apply(
    state: &mut State,
    kind: &Kind,
    id: &(String, String),
    event: Event<DynamicObject>,
) -> HashSet<String> {
    let mut changed = HashSet::new();
    match event {
        Event::Init => {
            state.relist.insert(id.clone(), Vec::new());
        }
        Event::InitApply(object) => {
            if let Some((key, app, value)) = entry(kind, object) {
                state
                    .relist
                    .entry(id.clone())
                    .or_default()
                    .push((key, app, value));
            }
        }
        Event::InitDone => {
            let fresh = state.relist.remove(id).unwrap_or_default();
            let fresh_keys: HashSet<&ResourceKey> = fresh.iter().map(|e| &e.0).collect();
            let gone: Vec<ResourceKey> = state
                .app_of
                .keys()
                .filter(|k| k.group == id.0 && k.kind == id.1 && !fresh_keys.contains(k))
                .cloned()
                .collect();
            for key in gone {
                if let Some(app) = remove(state, &key) {
                    changed.insert(app);
                }
            }
            for (key, app, value) in fresh {
                changed.extend(upsert(state, key, app, value));
            }
            state.kinds.insert(id.clone(), true);
            state.forbidden.remove(id);
        }
        Event::Apply(object) => {
            if let Some((key, app, value)) = entry(kind, object) {
                changed.extend(upsert(state, key, app, value));
            }
        }
        Event::Delete(object) => {
            if let Some((key, _, _)) = entry(kind, object)
                && let Some(app) = remove(state, &key)
            {
                changed.insert(app);
            }
        }
    }
    changed
}

/// Keeps an object a write returned, if its kind is watched and not forbidden (objects of a
/// forbidden kind stay invisible, even the ones Driftless may write).
fn record(state: &mut State, key: &ResourceKey, app: String, stored: Stored) {
    let id = (key.group.clone(), key.kind.clone());
    if state.kinds.contains_key(&id) && !state.forbidden.contains_key(&id) {
        upsert(state, key.clone(), app, stored);
    }
}

/// Records kind `id` as forbidden and drops what the cache held of it (its objects are
/// invisible from now on); returns the applications that lost objects.
fn forbid(state: &mut State, id: &(String, String), message: String) -> HashSet<String> {
    state.forbidden.insert(id.clone(), message);
    state.relist.remove(id);
    let held: Vec<ResourceKey> = state
        .app_of
        .keys()
        .filter(|k| k.group == id.0 && k.kind == id.1)
        .cloned()
        .collect();
    held.iter().filter_map(|key| remove(state, key)).collect()
}

/// The key, application and JSON of a watched object; `None` for objects without a name or label.
fn entry(kind: &Kind, mut object: DynamicObject) -> Option<Entry> {
    // Watch events, like list items, may lack apiVersion and kind.
    object.types = Some(kube::api::TypeMeta {
        api_version: kind.resource.api_version.clone(),
        kind: kind.resource.kind.clone(),
    });
    let key = ResourceKey::new(
        &kind.resource.api_version,
        &kind.resource.kind,
        object.metadata.namespace.as_deref().unwrap_or_default(),
        object.metadata.name.as_deref()?,
    );
    let app = object.metadata.labels.as_ref()?.get(APP_LABEL)?.clone();
    let json = serde_json::to_vec(&object).ok()?;
    let stored = Stored::new(json, object.metadata.resource_version.as_deref());
    Some((key, app, stored))
}

fn app_label(object: &Value) -> Option<String> {
    object
        .pointer("/metadata/labels")?
        .get(APP_LABEL)?
        .as_str()
        .map(str::to_owned)
}

/// Inserts or replaces an object unless the cached one is newer; returns the applications
/// whose objects changed (the old and the new owner when the label moved).
fn upsert(state: &mut State, key: ResourceKey, app: String, value: Stored) -> Vec<String> {
    let mut changed = Vec::new();
    if let Some(old_app) = state.app_of.get(&key).cloned() {
        let cached = state.by_app.get(&old_app).and_then(|o| o.get(&key));
        if let Some(cached) = cached {
            match (cached.version, value.version) {
                (Some(old), Some(new)) if old > new => return changed,
                (Some(old), Some(new)) if old == new && old_app == app => return changed,
                _ => {}
            }
        }
        if old_app != app {
            remove(state, &key);
            changed.push(old_app);
        }
    }
    state.app_of.insert(key.clone(), app.clone());
    state
        .by_app
        .entry(app.clone())
        .or_default()
        .insert(key, value);
    changed.push(app);
    changed
}

fn remove(state: &mut State, key: &ResourceKey) -> Option<String> {
    let app = state.app_of.remove(key)?;
    if let Some(objects) = state.by_app.get_mut(&app) {
        objects.remove(key);
        if objects.is_empty() {
            state.by_app.remove(&app);
        }
    }
    Some(app)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{ConfigMap, Secret};
    use kube::api::ApiResource;
    use serde_json::json;

    fn kind<K: kube::Resource<DynamicType = ()>>() -> (Kind, (String, String)) {
        let resource = ApiResource::erase::<K>(&());
        let id = (resource.group.clone(), resource.kind.clone());
        let kind = Kind {
            resource,
            namespaced: true,
            listable: true,
            watchable: true,
        };
        (kind, id)
    }

    fn labelled(name: &str, app: &str) -> DynamicObject {
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "ns", "resourceVersion": "5", "labels": {APP_LABEL: app}}
        }))
        .unwrap()
    }

    #[test]
    fn a_forbidden_kind_counts_as_synced_is_invisible_and_lists_once_permitted() {
        let mut state = State::default();
        let (configmaps, cm) = kind::<ConfigMap>();
        let (secrets, secret) = kind::<Secret>();
        state.kinds.insert(cm.clone(), false);
        state.kinds.insert(secret.clone(), false);
        for event in [
            Event::Init,
            Event::InitApply(labelled("c", "x")),
            Event::InitDone,
        ] {
            apply(&mut state, &configmaps, &cm, event);
        }
        assert!(!synced(&state), "the Secret watch has not listed");

        // A Secret the cache held before the kind was refused is dropped, and its app told.
        apply(
            &mut state,
            &secrets,
            &secret,
            Event::Apply(labelled("s", "x")),
        );
        assert_eq!(state.by_app["x"].len(), 2);
        let refused = "secrets is forbidden: cannot list";
        let changed = forbid(&mut state, &secret, refused.to_owned());
        assert_eq!(changed, HashSet::from(["x".to_owned()]));
        assert!(synced(&state), "a forbidden kind counts as done");
        assert_eq!(
            to_list(&state.forbidden),
            [ForbiddenKind {
                group: String::new(),
                kind: "Secret".to_owned(),
                message: refused.to_owned(),
            }]
        );
        // Nor does a write of ours bring one back while the kind is forbidden.
        let written = ResourceKey::new("v1", "Secret", "ns", "w");
        record(&mut state, &written, "x".into(), object("x", "6"));
        let keys: Vec<&str> = state.by_app["x"].keys().map(|k| k.kind.as_str()).collect();
        assert_eq!(keys, ["ConfigMap"]);

        // RBAC granted later: the retried watch lists and the kind is no longer forbidden.
        for event in [
            Event::Init,
            Event::InitApply(labelled("s", "x")),
            Event::InitDone,
        ] {
            apply(&mut state, &secrets, &secret, event);
        }
        assert!(state.forbidden.is_empty());
        assert!(synced(&state));
        assert_eq!(state.by_app["x"].len(), 2);
    }

    fn object(app: &str, version: &str) -> Stored {
        let object = json!({"metadata": {"name": "a", "resourceVersion": version, "labels": {APP_LABEL: app}}});
        Stored::new(object.to_string().into_bytes(), Some(version))
    }

    #[test]
    fn an_older_object_never_replaces_a_newer_one() {
        let mut state = State::default();
        let key = ResourceKey::new("v1", "ConfigMap", "ns", "a");
        assert_eq!(
            upsert(&mut state, key.clone(), "x".into(), object("x", "12")),
            ["x"]
        );
        assert!(upsert(&mut state, key.clone(), "x".into(), object("x", "11")).is_empty());
        assert!(upsert(&mut state, key.clone(), "x".into(), object("x", "12")).is_empty());
        let cached = state.by_app["x"][&key].clone();
        assert_eq!(cached.version, Some(12));
        assert_eq!(
            cached
                .value()
                .and_then(|v| v.pointer("/metadata/resourceVersion").cloned()),
            Some(json!("12"))
        );
    }

    #[test]
    fn a_relabelled_object_moves_and_both_applications_hear_of_it() {
        let mut state = State::default();
        let key = ResourceKey::new("v1", "ConfigMap", "ns", "a");
        upsert(&mut state, key.clone(), "x".into(), object("x", "1"));
        assert_eq!(
            upsert(&mut state, key.clone(), "y".into(), object("y", "2")),
            ["x", "y"]
        );
        assert!(!state.by_app.contains_key("x"));
        assert_eq!(state.app_of[&key], "y");
        assert_eq!(remove(&mut state, &key).as_deref(), Some("y"));
        assert!(state.by_app.is_empty());
    }
}
