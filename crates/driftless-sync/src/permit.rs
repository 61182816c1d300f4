//! Which objects an application may create and delete: its project's rules, as a predicate the
//! caller supplies (this crate knows nothing of projects).

use std::fmt;
use std::sync::Arc;

use driftless_resource::ResourceKey;

use crate::plan::{Plan, Untouched};

/// The rule that answers for one object: `Err` says which rule forbids it.
type Rule = dyn Fn(&ResourceKey) -> Result<(), String> + Send + Sync;

/// Which objects may be applied and pruned. The default permits every object.
#[derive(Clone, Default)]
pub struct Permit(Option<Arc<Rule>>);

impl Permit {
    /// Every object is permitted.
    pub fn all() -> Self {
        Self(None)
    }

    /// Objects are permitted when `rule` says so (its `Err` names the rule that forbids one).
    pub fn new(rule: impl Fn(&ResourceKey) -> Result<(), String> + Send + Sync + 'static) -> Self {
        Self(Some(Arc::new(rule)))
    }

    /// Whether `key` may be applied or pruned, or the rule that forbids it.
    pub fn check(&self, key: &ResourceKey) -> Result<(), String> {
        match &self.0 {
            None => Ok(()),
            Some(rule) => rule(key),
        }
    }
}

impl fmt::Debug for Permit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Permit(rule)"
        } else {
            "Permit(all)"
        })
    }
}

/// Applies `permit` to `plan`: a desired object (or hook) it forbids is listed in
/// [`Plan::denied`] (the executor then applies nothing); an object it forbids is never pruned.
pub fn restrict(plan: &mut Plan, permit: &Permit) {
    if permit.0.is_none() {
        return;
    }
    let mut denied = Vec::new();
    let applied = plan
        .waves
        .iter()
        .flat_map(|w| w.apply.iter().map(|t| &t.key))
        .chain(plan.hooks.values().flatten().map(|h| &h.key));
    for key in applied {
        if let Err(reason) = permit.check(key) {
            denied.push(Untouched {
                key: key.clone(),
                reason,
                conflict: false,
            });
        }
    }
    plan.denied = denied;
    let mut kept = Vec::new();
    let mut keep_permitted = |tasks: &mut Vec<crate::plan::PruneTask>| {
        tasks.retain(|task| match permit.check(&task.key) {
            Ok(()) => true,
            Err(reason) => {
                kept.push(Untouched {
                    key: task.key.clone(),
                    reason: format!("no longer in Git; not pruned: {reason}"),
                    conflict: false,
                });
                false
            }
        });
    };
    for wave in &mut plan.waves {
        keep_permitted(&mut wave.prune);
    }
    keep_permitted(&mut plan.prune_last);
    plan.untouched.extend(kept);
}
