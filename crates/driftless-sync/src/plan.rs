//! The plan (pure): which object is applied in which wave, which hooks run, what is pruned, and
//! what is left alone and why.

use std::collections::{BTreeMap, BTreeSet};

use driftless_resource::{Manifest, ResourceKey};
use serde_json::Value;

use crate::hooks::{self, DeletePolicy, HookError, HookPhase};
use crate::options::{self, SyncOptions};
use crate::order::{self, WaveError};
use crate::tracking::{self, Owner};

/// A desired object whose namespace is resolved against the cluster's scopes.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    /// Identity, namespace included.
    pub key: ResourceKey,
    /// The object as Git declares it, namespace set.
    pub object: Value,
    /// Where it was declared (`file:line (document N)`).
    pub source: String,
}

/// Why a plan could not be made. Nothing is applied when planning fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The cluster has no such kind and no CRD in the desired set defines it.
    #[error("{at}: {key}: the cluster has no kind {} in group {:?} (is its CRD installed?)", key.kind, key.group)]
    UnknownKind {
        /// The object.
        key: Box<ResourceKey>,
        /// Where it was declared.
        at: String,
    },
    /// A bad sync-wave annotation.
    #[error("{at}: {error}")]
    Wave {
        /// The problem.
        error: Box<WaveError>,
        /// Where it was declared.
        at: String,
    },
    /// A bad hook annotation.
    #[error("{at}: {key}: {error}")]
    Hook {
        /// The object.
        key: Box<ResourceKey>,
        /// The problem.
        error: HookError,
        /// Where it was declared.
        at: String,
    },
}

/// Sets the namespace of every namespaced object that has none to `destination`, and clears it
/// on cluster-scoped ones. `namespaced(group, kind)` answers from the cluster's discovery;
/// kinds it does not know are looked up in the CRDs of the desired set itself, so a CRD and its
/// custom resources can be synced together.
pub fn resolve_namespaces(
    manifests: Vec<Manifest>,
    destination: &str,
    namespaced: impl Fn(&str, &str) -> Option<bool>,
) -> Result<Vec<Desired>, PlanError> {
    let declared_scopes: BTreeMap<(String, String), bool> = manifests
        .iter()
        .filter(|m| m.key().kind == "CustomResourceDefinition")
        .filter_map(|m| {
            let spec = m.object().get("spec")?;
            let group = spec.get("group")?.as_str()?.to_owned();
            let kind = spec.pointer("/names/kind")?.as_str()?.to_owned();
            let scope = spec.get("scope")?.as_str()?;
            Some(((group, kind), scope == "Namespaced"))
        })
        .collect();
    manifests
        .into_iter()
        .map(|manifest| {
            let source = manifest.provenance().to_string();
            let key = manifest.key().clone();
            let scoped = namespaced(&key.group, &key.kind)
                .or_else(|| {
                    declared_scopes
                        .get(&(key.group.clone(), key.kind.clone()))
                        .copied()
                })
                .ok_or_else(|| PlanError::UnknownKind {
                    key: Box::new(key.clone()),
                    at: source.clone(),
                })?;
            let (mut object, _) = manifest.into_parts();
            let namespace = if scoped {
                if key.namespace.is_empty() {
                    destination.to_owned()
                } else {
                    key.namespace.clone()
                }
            } else {
                String::new()
            };
            if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                if namespace.is_empty() {
                    metadata.remove("namespace");
                } else {
                    metadata.insert("namespace".to_owned(), Value::String(namespace.clone()));
                }
            }
            Ok(Desired {
                key: ResourceKey { namespace, ..key },
                object,
                source,
            })
        })
        .collect()
}

/// Applying one object.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplyTask {
    /// The object.
    pub key: ResourceKey,
    /// What is sent: the desired object stamped with the tracking annotation and label.
    pub object: Value,
    /// Where it was declared.
    pub source: String,
    /// The live object, when it exists.
    pub live: Option<Value>,
    /// Replace instead of server-side apply.
    pub replace: bool,
    /// Strict field validation.
    pub validate: bool,
}

/// Deleting one live object Git no longer declares.
#[derive(Debug, Clone, PartialEq)]
pub struct PruneTask {
    /// The object.
    pub key: ResourceKey,
    /// The live object.
    pub live: Value,
}

/// A hook to run.
#[derive(Debug, Clone, PartialEq)]
pub struct HookTask {
    /// The hook object.
    pub key: ResourceKey,
    /// What is created, stamped for tracking.
    pub object: Value,
    /// Where it was declared.
    pub source: String,
    /// When it is deleted.
    pub policy: DeletePolicy,
}

/// One sync wave: applies in dependency order, then prunes in reverse dependency order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Wave {
    /// The wave number.
    pub number: i32,
    /// Objects to apply.
    pub apply: Vec<ApplyTask>,
    /// Objects to prune in this wave.
    pub prune: Vec<PruneTask>,
}

/// An object Driftless will not touch, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Untouched {
    /// The object.
    pub key: ResourceKey,
    /// Why it is left alone.
    pub reason: String,
    /// Whether it is a conflict of ownership (as opposed to a policy choice such as `Prune=false`).
    pub conflict: bool,
}

/// Everything a sync will do, in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    /// Hooks by phase, each in apply order.
    pub hooks: BTreeMap<HookPhase, Vec<HookTask>>,
    /// Waves in ascending order.
    pub waves: Vec<Wave>,
    /// Prunes deferred until every wave is done (`PruneLast=true`).
    pub prune_last: Vec<PruneTask>,
    /// Objects left alone: owned by someone else, or kept by policy.
    pub untouched: Vec<Untouched>,
    /// Desired objects the application may not create ([`crate::restrict`]): while there are
    /// any, the executor applies nothing.
    pub denied: Vec<Untouched>,
}

impl Plan {
    /// Number of objects that would be pruned.
    pub fn prune_count(&self) -> usize {
        self.waves.iter().map(|w| w.prune.len()).sum::<usize>() + self.prune_last.len()
    }

    /// Number of objects that would be applied.
    pub fn apply_count(&self) -> usize {
        self.waves.iter().map(|w| w.apply.len()).sum()
    }
}

/// Pairs desired with live objects and orders the work.
///
/// * `live` holds the live object for each desired key that exists;
/// * `owned` holds every live object carrying this application's label (candidates for prune).
///
/// # Guarantees
/// Only objects whose tracking annotation names this application and this very object are ever
/// planned for prune; objects owned by another application are neither applied nor pruned.
pub fn plan(
    app: &str,
    desired: Vec<Desired>,
    live: &BTreeMap<ResourceKey, Value>,
    owned: &[(ResourceKey, Value)],
    options: &SyncOptions,
) -> Result<Plan, PlanError> {
    let mut plan = Plan::default();
    let mut waves: BTreeMap<i32, Wave> = BTreeMap::new();
    let desired_keys: BTreeSet<ResourceKey> = desired.iter().map(|d| d.key.clone()).collect();

    for Desired {
        key,
        mut object,
        source,
    } in desired
    {
        let phase = hooks::hook_phase(&object).map_err(|error| PlanError::Hook {
            key: Box::new(key.clone()),
            error,
            at: source.clone(),
        })?;
        if let Some(phase) = phase {
            let policy = hooks::delete_policy(&object).map_err(|error| PlanError::Hook {
                key: Box::new(key.clone()),
                error,
                at: source.clone(),
            })?;
            tracking::stamp(&mut object, app, &key);
            plan.hooks.entry(phase).or_default().push(HookTask {
                key,
                object,
                source,
                policy,
            });
            continue;
        }
        let number = order::wave(&object, &key).map_err(|error| PlanError::Wave {
            error: Box::new(error),
            at: source.clone(),
        })?;
        let current = live.get(&key);
        if let Some(Owner::Other(other)) = current.map(|l| tracking::owner(l, app, &key)) {
            plan.untouched.push(Untouched {
                reason: format!("owned by application {other:?}; not applied"),
                key,
                conflict: true,
            });
            continue;
        }
        let own = options::object_options(&object);
        tracking::stamp(&mut object, app, &key);
        waves
            .entry(number)
            .or_insert_with(|| Wave {
                number,
                ..Wave::default()
            })
            .apply
            .push(ApplyTask {
                key,
                object,
                source,
                live: current.cloned(),
                replace: own.replace.unwrap_or(options.replace),
                validate: own.validate.unwrap_or(options.validate),
            });
    }

    for (key, object) in owned {
        if desired_keys.contains(key) || hooks::is_hook(object) {
            continue;
        }
        match tracking::owner(object, app, key) {
            Owner::This => {}
            Owner::Other(other) => {
                plan.untouched.push(Untouched {
                    key: key.clone(),
                    reason: format!(
                        "carries this application's label but is owned by {other:?}; not pruned"
                    ),
                    conflict: true,
                });
                continue;
            }
            // Labels are copied onto derived objects (a Service's onto its Endpoints and
            // EndpointSlices): without our tracking id an object is simply not ours.
            Owner::Nobody => continue,
        }
        if !options.prune {
            plan.untouched.push(Untouched {
                key: key.clone(),
                reason: "no longer in Git; pruning is disabled".to_owned(),
                conflict: false,
            });
            continue;
        }
        if options::object_options(object).no_prune {
            plan.untouched.push(Untouched {
                key: key.clone(),
                reason: "no longer in Git; kept by its Prune=false sync option".to_owned(),
                conflict: false,
            });
            continue;
        }
        let task = PruneTask {
            key: key.clone(),
            live: object.clone(),
        };
        if options.prune_last {
            plan.prune_last.push(task);
        } else {
            // A bad wave annotation on a live object must not block pruning it: use wave 0.
            let number = order::wave(object, key).unwrap_or(0);
            waves
                .entry(number)
                .or_insert_with(|| Wave {
                    number,
                    ..Wave::default()
                })
                .prune
                .push(task);
        }
    }

    for wave in waves.values_mut() {
        wave.apply
            .sort_by(|a, b| order::apply_order(&a.key).cmp(&order::apply_order(&b.key)));
        wave.prune
            .sort_by(|a, b| order::apply_order(&b.key).cmp(&order::apply_order(&a.key)));
    }
    plan.prune_last
        .sort_by(|a, b| order::apply_order(&b.key).cmp(&order::apply_order(&a.key)));
    for hooks in plan.hooks.values_mut() {
        hooks.sort_by(|a, b| order::apply_order(&a.key).cmp(&order::apply_order(&b.key)));
    }
    plan.waves = waves.into_values().collect();
    Ok(plan)
}
