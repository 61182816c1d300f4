//! The comparison pipeline behind [`diff_object`].

use serde_json::{Map, Value};

use crate::fieldset::FieldSet;
use crate::managed::fields_of;
use crate::normalize::{align_manifest, fold_string_data, normalize};
use crate::{
    Action, DiffOptions, Error, ObjectDiff, ObjectRef, defaults, mask, paths, pointer, quantity,
    render,
};

/// Compares the desired and live versions of one object.
///
/// - `desired`: the object as Git declares it (a rendered manifest), or the result of a
///   server-side dry-run apply of it (then its own `managedFields` say which fields the apply
///   claims); `None` when Git no longer declares it.
/// - `live`: the object as read from the cluster, `managedFields` included; `None` when it does
///   not exist.
///
/// See the crate documentation for exactly which fields are compared and how.
///
/// # Guarantees
///
/// - `changed` is `false` exactly when the compared fields are equal; `unified` is empty and
///   `changed_paths` is empty then.
/// - A Secret's `data`/`stringData` values never appear in the result or in an error: they are
///   masked before any output is produced.
///
/// # Errors
///
/// Both sides `None`; a side that is not a Kubernetes object (no `apiVersion`, `kind` or
/// `metadata.name`); sides naming different objects; malformed `managedFields`; a jq ignore
/// expression failing on the object.
pub fn diff_object(
    desired: Option<&Value>,
    live: Option<&Value>,
    opts: &DiffOptions,
) -> Result<ObjectDiff, Error> {
    let desired_ref = desired
        .map(|d| ObjectRef::of(d).ok_or(Error::NotAnObject { side: "desired" }))
        .transpose()?;
    let live_ref = live
        .map(|l| ObjectRef::of(l).ok_or(Error::NotAnObject { side: "live" }))
        .transpose()?;
    let object = match (desired_ref, live_ref) {
        (Some(d), Some(l)) if d != l => {
            return Err(Error::Mismatch {
                desired: Box::new(d),
                live: Box::new(l),
            });
        }
        (Some(d), _) => d,
        (None, Some(l)) => l,
        (None, None) => return Err(Error::NothingToCompare),
    };
    let managed_by = |obj: &Value| -> Result<Option<FieldSet>, Error> {
        let mut set = fields_of(obj, &opts.manager).map_err(|source| Error::ManagedFields {
            object: Box::new(object.clone()),
            source,
        })?;
        if object.is_secret()
            && let Some(set) = set.as_mut()
        {
            // The server stores stringData as data; ownership recorded for one covers the other.
            set.rename_field("stringData", "data");
        }
        Ok(set)
    };

    let mut desired = desired.cloned();
    if let Some(d) = desired.as_mut().filter(|_| object.is_secret()) {
        fold_string_data(d);
    }
    let live_set = live.map(managed_by).transpose()?.flatten();
    // A server object (a dry-run result) says in its own managedFields which fields the apply
    // claims; a manifest claims every field it sets.
    let desired_server_set = desired.as_ref().map(managed_by).transpose()?.flatten();
    let desired_claim = match (&desired_server_set, desired.as_ref()) {
        (Some(set), _) => set.clone(),
        (None, Some(d)) => FieldSet::claimed_by(d, live, live_set.as_ref()),
        (None, None) => FieldSet::default(),
    };
    let mut compared_set = desired_claim;
    if let Some(live_set) = &live_set {
        compared_set.union_with(live_set);
    }

    let project = |obj: &Value| -> Value {
        // A prune of an object Driftless never applied shows the whole object.
        if compared_set == FieldSet::default() {
            return obj.clone();
        }
        with_identity(compared_set.project(obj), obj)
    };
    // A manifest is compared as written: projecting it onto the live object's detailed set
    // would drop list items whose key fields the server defaults (a port's `protocol`).
    let mut desired_view = match (&desired, &desired_server_set) {
        (Some(d), Some(_)) => Some(project(d)),
        (Some(d), None) => Some(d.clone()),
        (None, _) => None,
    };
    let mut live_view = live.map(|l| {
        let mut l = l.clone();
        if object.is_secret() {
            fold_string_data(&mut l);
        }
        project(&l)
    });

    if desired_server_set.is_none()
        && let Some(d) = desired_view.as_mut()
    {
        align_manifest(d, live_view.as_mut(), &compared_set);
    }
    if let (Some(d), Some(l)) = (desired_view.as_ref(), live_view.as_mut()) {
        defaults::drop_atomic_list_defaults(&object, d, l);
    }

    for rule in opts
        .compiled_rules()
        .iter()
        .filter(|r| r.rule().matches(&object))
    {
        for view in [desired_view.as_mut(), live_view.as_mut()]
            .into_iter()
            .flatten()
        {
            rule.remove_from(&object, view, live)?;
        }
    }
    for view in [desired_view.as_mut(), live_view.as_mut()]
        .into_iter()
        .flatten()
    {
        normalize(view);
    }
    if is_built_in(&object.group)
        && let (Some(d), Some(l)) = (desired_view.as_mut(), live_view.as_ref())
    {
        quantity::adopt_live_spelling(d, l);
    }
    // Paths before masking (masks preserve equality, so they would be the same), because list
    // indices are translated by matching the view against the unmasked live object.
    let changed_paths = changed_paths(desired_view.as_ref(), live_view.as_ref(), live);
    mask::mask_secret_values(desired_view.as_mut(), live_view.as_mut());

    let action = match (&desired_view, &live_view) {
        (Some(_), None) => Action::Create,
        (None, Some(_)) => Action::Prune,
        (d, l) if d == l => Action::Unchanged,
        _ => Action::Update,
    };
    let changed = action != Action::Unchanged;
    let unified = if changed {
        let name = object.to_string();
        let old = render::to_yaml(live_view.as_ref(), &name)?;
        let new = render::to_yaml(desired_view.as_ref(), &name)?;
        render::unified(
            &old,
            &new,
            &format!("live {name}"),
            &format!("desired {name}"),
        )
    } else {
        String::new()
    };
    Ok(ObjectDiff {
        object,
        action,
        changed,
        unified,
        changed_paths,
    })
}

/// Whether `group` is served by Kubernetes itself (`""`, `apps`, `networking.k8s.io`), whose
/// quantity fields the API server canonicalizes; custom resources keep what was applied.
fn is_built_in(group: &str) -> bool {
    !group.contains('.') || group.ends_with(".k8s.io")
}

/// The changed paths between the views, with list indices translated to the live object's.
fn changed_paths(
    desired: Option<&Value>,
    live_view: Option<&Value>,
    live: Option<&Value>,
) -> Vec<String> {
    let mut out: Vec<String> = paths::changed_paths(live_view, desired)
        .into_iter()
        .map(|path| match (live_view, live, pointer::parse(&path)) {
            (Some(view), Some(live), Ok(segments)) => {
                pointer::format(&paths::to_live_indices(&segments, view, live))
            }
            _ => path,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// `projected` with `apiVersion`, `kind`, `metadata.name` and `metadata.namespace` taken from
/// `original` and put first: managed field sets never list them, yet a diff must say which
/// object it is about.
fn with_identity(projected: Value, original: &Value) -> Value {
    let Value::Object(mut rest) = projected else {
        return projected;
    };
    let mut out = Map::new();
    for key in ["apiVersion", "kind"] {
        rest.shift_remove(key);
        if let Some(value) = original.get(key) {
            out.insert(key.to_owned(), value.clone());
        }
    }
    let mut metadata = Map::new();
    for key in ["name", "namespace"] {
        if let Some(value) = original.get("metadata").and_then(|m| m.get(key)) {
            metadata.insert(key.to_owned(), value.clone());
        }
    }
    if let Some(Value::Object(projected_metadata)) = rest.shift_remove("metadata") {
        for (key, value) in projected_metadata {
            metadata.entry(key).or_insert(value);
        }
    }
    out.insert("metadata".to_owned(), Value::Object(metadata));
    out.extend(rest);
    Value::Object(out)
}
