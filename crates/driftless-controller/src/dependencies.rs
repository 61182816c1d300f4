//! `spec.dependsOn`: whether an Application may go on, and who to wake when one changes.
//!
//! Pure: the Applications come in as values (the controller's watch store), a verdict comes
//! out; the [`Index`] of dependents is a plain map kept up to date by the watch of
//! Applications, so that a dependency's status change wakes exactly its dependents at once
//! instead of at their next poll.

use std::collections::{HashMap, HashSet};

use driftless_api::{
    Application, ConditionStatus, OperationPhase, SyncStatusCode, condition_types,
};
use kube::ResourceExt;
use kube::runtime::reflector::ObjectRef;

/// An Application, by namespace and name.
pub(crate) type AppRef = ObjectRef<Application>;

/// Why an Application may not go on yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Blocked {
    /// The dependencies form a cycle through this Application: it never can (`InvalidSpec`).
    Cycle(String),
    /// A dependency is missing or not ready (`DependencyNotReady`); the message names it.
    NotReady(String),
}

/// The dependencies `app` names, with their namespaces defaulted to its own.
pub(crate) fn dependencies_of(app: &Application) -> Vec<AppRef> {
    let own = app.namespace().unwrap_or_default();
    app.spec
        .depends_on
        .iter()
        .map(|d| {
            let namespace = d.namespace.as_deref().filter(|n| !n.is_empty());
            ObjectRef::new(&d.name).within(namespace.unwrap_or(&own))
        })
        .collect()
}

/// `namespace/name`, as messages name Applications.
pub(crate) fn display(app: &AppRef) -> String {
    format!(
        "{}/{}",
        app.namespace.as_deref().unwrap_or_default(),
        app.name
    )
}

/// Whether `app` may go on: `Ok` when every dependency is ready, else the first cycle
/// through `app`, else the first dependency (in the order of `spec.dependsOn`) that is
/// missing or not ready. `lookup` finds an Application as the controller last saw it.
pub(crate) fn check(
    app: &Application,
    lookup: impl Fn(&AppRef) -> Option<std::sync::Arc<Application>>,
) -> Result<(), Blocked> {
    let me = ObjectRef::from_obj(app);
    let edges = |of: &AppRef| -> Vec<AppRef> {
        if *of == me {
            return dependencies_of(app);
        }
        lookup(of).map_or_else(Vec::new, |a| dependencies_of(&a))
    };
    if let Some(cycle) = find_cycle(&me, edges) {
        let names: Vec<String> = cycle.iter().map(display).collect();
        return Err(Blocked::Cycle(format!(
            "spec.dependsOn: a cycle: {}",
            names.join(" → ")
        )));
    }
    for dependency in dependencies_of(app) {
        let name = display(&dependency);
        let Some(found) = lookup(&dependency) else {
            return Err(Blocked::NotReady(format!(
                "dependency {name} does not exist"
            )));
        };
        if let Err(why) = readiness(&found) {
            return Err(Blocked::NotReady(format!("dependency {name} {why}")));
        }
    }
    Ok(())
}

/// Whether `app` is Synced and Healthy at its current revision, as its status says: its
/// status describes its current spec (`observedGeneration`), no sync is going on, its Ready
/// condition (Synced and Healthy at the revision it was compared with) is True for that
/// generation. Else why not, in words that follow the dependency's name.
pub(crate) fn readiness(app: &Application) -> Result<(), String> {
    let Some(status) = app.status.as_ref() else {
        return Err("has no status yet".to_owned());
    };
    let generation = app.metadata.generation;
    if status.observed_generation != generation {
        return Err(format!(
            "has not reconciled its current spec yet (generation {})",
            generation.unwrap_or_default()
        ));
    }
    if let Some(op) = status
        .operation_state
        .as_ref()
        .filter(|op| matches!(op.phase, OperationPhase::Running | OperationPhase::Retrying))
    {
        let revision = op.revision.as_deref().unwrap_or("its current revision");
        return Err(format!(
            "is not at its current revision yet: syncing {revision}"
        ));
    }
    let sync = status.sync.as_ref().map(|s| s.status);
    if sync != Some(SyncStatusCode::Synced) {
        let code = match sync {
            Some(SyncStatusCode::OutOfSync) => "OutOfSync",
            _ => "Unknown",
        };
        return Err(format!("is not Synced ({code})"));
    }
    let health = status
        .health
        .as_ref()
        .map_or("Unknown", |h| h.status.as_str());
    if health != "Healthy" {
        let why = status
            .health
            .as_ref()
            .and_then(|h| h.message.as_deref())
            .filter(|m| !m.is_empty())
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
        return Err(format!("is not Healthy ({health}{why})"));
    }
    let ready = status
        .conditions
        .iter()
        .find(|c| c.type_ == condition_types::READY);
    match ready {
        Some(c) if c.status == ConditionStatus::True && c.observed_generation == generation => {
            Ok(())
        }
        Some(c) => Err(format!("is not ready ({}: {})", c.reason, c.message)),
        None => Err("is not ready (no Ready condition yet)".to_owned()),
    }
}

/// The first cycle through `start` along `edges`, as the path `start → … → start`; `None`
/// when no path leads back to `start`.
///
/// # Guarantees
/// Visits each reachable node once (depth first, in edge order), so it ends on any graph,
/// cycles elsewhere included: a cycle that does not pass through `start` is not reported here
/// (the Applications on it report it themselves).
pub(crate) fn find_cycle<N, E>(start: &N, edges: E) -> Option<Vec<N>>
where
    N: Clone + Eq + std::hash::Hash,
    E: Fn(&N) -> Vec<N>,
{
    let mut visited = std::collections::HashSet::new();
    // The path from `start`, each node with the edges still to follow.
    let mut path: Vec<(N, std::vec::IntoIter<N>)> = vec![(start.clone(), edges(start).into_iter())];
    visited.insert(start.clone());
    while let Some((_, next)) = path.last_mut() {
        match next.next() {
            Some(node) if node == *start => {
                let mut cycle: Vec<N> = path.iter().map(|(n, _)| n.clone()).collect();
                cycle.push(node);
                return Some(cycle);
            }
            Some(node) => {
                if visited.insert(node.clone()) {
                    let out = edges(&node).into_iter();
                    path.push((node, out));
                }
            }
            None => {
                path.pop();
            }
        }
    }
    None
}

/// Who depends on whom, kept from the watch of Applications: the dependents of an Application
/// are woken when it changes.
#[derive(Debug, Default)]
pub(crate) struct Index {
    /// Each Application's dependencies, as last seen.
    depends_on: HashMap<AppRef, Vec<AppRef>>,
    /// The reverse: each Application's dependents.
    dependents: HashMap<AppRef, HashSet<AppRef>>,
}

impl Index {
    /// Records `app` as seen now (`deleted`: gone); returns its dependents, to wake.
    pub(crate) fn saw(&mut self, app: &Application, deleted: bool) -> Vec<AppRef> {
        let me = ObjectRef::from_obj(app);
        let now = if deleted {
            Vec::new()
        } else {
            dependencies_of(app)
        };
        let before = if now.is_empty() {
            self.depends_on.remove(&me).unwrap_or_default()
        } else {
            self.depends_on
                .insert(me.clone(), now.clone())
                .unwrap_or_default()
        };
        if before != now {
            for old in &before {
                if let Some(set) = self.dependents.get_mut(old) {
                    set.remove(&me);
                    if set.is_empty() {
                        self.dependents.remove(old);
                    }
                }
            }
            for new in &now {
                self.dependents
                    .entry(new.clone())
                    .or_default()
                    .insert(me.clone());
            }
        }
        self.dependents
            .get(&me)
            .map(|set| set.iter().cloned().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use serde_json::json;

    use super::*;

    fn app(name: &str, depends_on: serde_json::Value, status: serde_json::Value) -> Application {
        serde_json::from_value(json!({
            "apiVersion": "driftless.dev/v1alpha1", "kind": "Application",
            "metadata": {"name": name, "namespace": "apps", "generation": 1},
            "spec": {"source": {"repoURL": "file:///repo"}, "destination": {},
                     "dependsOn": depends_on},
            "status": status,
        }))
        .unwrap_or_else(|e| panic!("fixture application: {e}"))
    }

    fn ready_status() -> serde_json::Value {
        json!({
            "observedGeneration": 1,
            "sync": {"status": "Synced", "revision": "abc"},
            "health": {"status": "Healthy"},
            "conditions": [{"type": "Ready", "status": "True", "reason": "Reconciled",
                "message": "synced to abc", "lastTransitionTime": "2026-01-01T00:00:00Z",
                "observedGeneration": 1}],
        })
    }

    fn store(apps: Vec<Application>) -> HashMap<AppRef, Arc<Application>> {
        apps.into_iter()
            .map(|a| (ObjectRef::from_obj(&a), Arc::new(a)))
            .collect()
    }

    fn checked(
        me: &Application,
        others: &HashMap<AppRef, Arc<Application>>,
    ) -> Result<(), Blocked> {
        check(me, |r| others.get(r).cloned())
    }

    #[test]
    fn a_cycle_is_found_through_the_start_and_named_in_order() {
        let graph: HashMap<&str, Vec<&str>> = HashMap::from([
            ("a", vec!["b"]),
            ("b", vec!["c", "d"]),
            ("c", vec![]),
            ("d", vec!["a"]),
        ]);
        let edges = |n: &&str| graph.get(n).cloned().unwrap_or_default();
        assert_eq!(find_cycle(&"a", edges), Some(vec!["a", "b", "d", "a"]));
        // No path back to `c`; a cycle elsewhere (a-b-d) is not `c`'s.
        assert_eq!(find_cycle(&"c", edges), None);
        // A self-dependency is a cycle of one.
        assert_eq!(find_cycle(&"x", |_: &&str| vec!["x"]), Some(vec!["x", "x"]));
    }

    #[test]
    fn cycle_detection_ends_on_a_cycle_that_does_not_pass_through_the_start() {
        let graph: HashMap<&str, Vec<&str>> =
            HashMap::from([("s", vec!["a"]), ("a", vec!["b"]), ("b", vec!["a"])]);
        assert_eq!(
            find_cycle(&"s", |n| graph.get(n).cloned().unwrap_or_default()),
            None
        );
    }

    #[test]
    fn a_ready_dependency_lets_it_go_on() {
        let others = store(vec![app("a", json!([]), ready_status())]);
        let b = app("b", json!([{"name": "a"}]), json!({}));
        assert_eq!(checked(&b, &others), Ok(()));
    }

    #[test]
    fn a_missing_dependency_is_named() {
        let b = app(
            "b",
            json!([{"name": "nothing", "namespace": "elsewhere"}]),
            json!({}),
        );
        assert_eq!(
            checked(&b, &HashMap::new()),
            Err(Blocked::NotReady(
                "dependency elsewhere/nothing does not exist".to_owned()
            ))
        );
    }

    #[test]
    fn each_way_of_not_being_ready_is_said() {
        let cases = [
            (json!({}), "has not reconciled its current spec"),
            (
                json!({"observedGeneration": 1, "sync": {"status": "OutOfSync"}}),
                "is not Synced (OutOfSync)",
            ),
            (
                json!({"observedGeneration": 1, "sync": {"status": "Synced"},
                       "health": {"status": "Progressing", "message": "1 of 2 available"}}),
                "is not Healthy (Progressing: 1 of 2 available)",
            ),
            (
                json!({"observedGeneration": 1, "sync": {"status": "Synced"},
                       "health": {"status": "Healthy"},
                       "operationState": {"phase": "Running", "revision": "def",
                                          "startedAt": "2026-01-01T00:00:00Z"}}),
                "syncing def",
            ),
            (
                json!({"observedGeneration": 1, "sync": {"status": "Synced"},
                       "health": {"status": "Healthy"},
                       "conditions": [{"type": "Ready", "status": "False",
                           "reason": "DependencyNotReady", "message": "dependency apps/z does not exist",
                           "lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": 1}]}),
                "DependencyNotReady: dependency apps/z",
            ),
        ];
        for (status, expected) in cases {
            let others = store(vec![app("a", json!([]), status.clone())]);
            let b = app("b", json!([{"name": "a"}]), json!({}));
            match checked(&b, &others) {
                Err(Blocked::NotReady(message)) => assert!(
                    message.starts_with("dependency apps/a ") && message.contains(expected),
                    "{status}: {message}"
                ),
                other => panic!("{status}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_cycle_wins_over_readiness_and_names_every_member() {
        let others = store(vec![
            app("a", json!([{"name": "c"}]), ready_status()),
            app("c", json!([{"name": "b"}]), ready_status()),
        ]);
        let b = app("b", json!([{"name": "a"}]), json!({}));
        assert_eq!(
            checked(&b, &others),
            Err(Blocked::Cycle(
                "spec.dependsOn: a cycle: apps/b → apps/a → apps/c → apps/b".to_owned()
            ))
        );
    }

    #[test]
    fn the_index_wakes_current_dependents_only() {
        let mut index = Index::default();
        let a = app("a", json!([]), json!({}));
        let b = app("b", json!([{"name": "a"}]), json!({}));
        assert!(index.saw(&b, false).is_empty());
        assert_eq!(index.saw(&a, false), vec![ObjectRef::from_obj(&b)]);
        // b no longer depends on a.
        let b_alone = app("b", json!([]), json!({}));
        index.saw(&b_alone, false);
        assert!(index.saw(&a, false).is_empty());
        // Deleting a dependent forgets its edges.
        index.saw(&b, false);
        index.saw(&b, true);
        assert!(index.saw(&a, false).is_empty());
    }
}
