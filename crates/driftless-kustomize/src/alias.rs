//! Scalars that one place in kustomize's YAML tree shares with others.
//!
//! kustomize's label and annotation transformers make one YAML node per resource and key and
//! put that same node at every field the key is created in (`metadata/labels` and, with
//! selectors or templates, `spec/selector/matchLabels`, `spec/template/metadata/labels`...). A
//! later change of the value in place through any of those fields, by another label transformer
//! or by a strategic merge patch, therefore changes all of them: a component's
//! `labels: [{pairs: {team: worker}, includeSelectors: true}]` followed by the overlay's
//! `labels: [{pairs: {team: web}}]` gives `team: web` in the selector too. A field that
//! already held the key is overwritten in place and stays its own node. A JSON patch rebuilds
//! the whole tree, which ends every sharing.
//!
//! Here a resource keeps each shared node as the JSON pointers of the fields that hold it.

use serde_json::Value;

use crate::resource::Resource;

pub(crate) use crate::fieldpath::segment;

/// Whether `v` is a scalar (what a shared node can be changed to in place).
fn scalar(v: &Value) -> bool {
    !(v.is_object() || v.is_array() || v.is_null())
}

/// After the fields at `changed` were set in place to new scalars, gives every field that shares
/// a node with one of them the same value.
pub(crate) fn propagate(r: &mut Resource, changed: &[String]) {
    for pointer in changed {
        let Some(value) = r.pointer(pointer).filter(|v| scalar(v)).cloned() else {
            continue;
        };
        let members: Vec<String> = r
            .aliases
            .iter()
            .filter(|group| group.contains(pointer))
            .flatten()
            .cloned()
            .collect();
        for member in members.iter().filter(|m| *m != pointer) {
            if let Some(slot) = r.pointer_mut(member).filter(|v| scalar(v)) {
                *slot = value.clone();
            }
        }
    }
}

/// The values of every shared field, to compare after a strategic merge patch.
pub(crate) fn snapshot(r: &Resource) -> Vec<Vec<Option<Value>>> {
    r.aliases
        .iter()
        .map(|group| group.iter().map(|p| r.pointer(p).cloned()).collect())
        .collect()
}

/// After a strategic merge patch: a shared field the patch set to another scalar changed the
/// shared node; one it removed no longer holds it.
pub(crate) fn merged(r: &mut Resource, before: &[Vec<Option<Value>>]) {
    let mut changed = Vec::new();
    let mut groups = std::mem::take(&mut r.aliases);
    for (group, old) in groups.iter_mut().zip(before) {
        let mut kept = Vec::new();
        for (pointer, old) in group.iter().zip(old) {
            match r.pointer(pointer) {
                Some(now) if scalar(now) => {
                    if old.as_ref() != Some(now) {
                        changed.push(pointer.clone());
                    }
                    kept.push(pointer.clone());
                }
                _ => {}
            }
        }
        *group = kept;
    }
    r.aliases = groups;
    r.aliases.retain(|group| group.len() > 1);
    propagate(r, &changed);
}
