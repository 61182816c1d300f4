//! Adoption, the pure half: which live objects the old tool manages for an Application, and
//! the two writes that hand them to Driftless without touching anything else.
//!
//! 1. [`Adoption::marks_patch`], a JSON merge patch of the metadata: the old tool's marks out,
//!    Driftless's tracking annotation and label in.
//! 2. [`moved_managed_fields`]: `metadata.managedFields` with every entry of the old tool's
//!    field managers (and the entry the first patch made) merged into one server-side-apply
//!    entry of Driftless's field manager. Kubernetes takes a patch of `managedFields` as is, so
//!    Driftless then owns exactly the fields the old tool owned: its first sync applies the same
//!    values and changes nothing, and a field later removed from Git is removed from the
//!    object, as it would have been by the old tool.
//!
//! Neither write changes the object's spec, so nothing is recreated or rolled out.

use serde_json::{Map, Value, json};

/// Argo CD's tracking annotation: `<app>:<group>/<kind>:<namespace>/<name>`.
pub const ARGO_TRACKING_ANNOTATION: &str = "argocd.argoproj.io/tracking-id";
/// Argo CD's instance label (its label tracking): the Application's name.
pub const ARGO_INSTANCE_LABEL: &str = crate::meta::ARGO_INSTANCE_LABEL;
/// Flux's label naming the Kustomization that applied an object.
pub const FLUX_NAME_LABEL: &str = "kustomize.toolkit.fluxcd.io/name";
/// Flux's label naming that Kustomization's namespace.
pub const FLUX_NAMESPACE_LABEL: &str = "kustomize.toolkit.fluxcd.io/namespace";

/// How to take over the objects an old tool manages for one converted Application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adoption {
    /// The Driftless Application's namespace.
    pub namespace: String,
    /// The Driftless Application's name.
    pub name: String,
    /// The source object it was converted from, as the report names it.
    pub source: String,
    /// The old tool's marks on the objects it manages for that source.
    pub marks: Marks,
    /// The old tool's field managers, whose ownership moves to Driftless.
    pub managers: Vec<String>,
}

/// The marks an old tool puts on what it manages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Marks {
    /// Argo CD: the tracking annotation, or (label tracking) the instance label.
    ArgoCd {
        /// The instance label's value: the Argo CD Application's name.
        instance: String,
        /// What a tracking id of this Application starts with: `<name>:`, and
        /// `<namespace>_<name>:` for Applications outside Argo CD's own namespace.
        tracking_prefixes: Vec<String>,
    },
    /// Flux: the Kustomization's name and namespace labels.
    Flux {
        /// The Kustomization's name.
        name: String,
        /// Its namespace.
        namespace: String,
    },
}

/// Who a live object is, as its tracking id names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// API group, empty for the core group.
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Namespace, empty for cluster-scoped objects.
    pub namespace: String,
    /// Name.
    pub name: String,
}

/// Why an object is taken to be managed by the old tool for an Application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Argo CD's tracking annotation names this Application and this very object.
    TrackingAnnotation,
    /// A label names the Application (Argo CD's instance label, Flux's labels); only
    /// trusted together with [`written_by`], since labels are copied onto derived objects.
    Labels,
}

fn text<'a>(metadata: &'a Value, map: &str, key: &str) -> Option<&'a str> {
    metadata.get(map)?.get(key)?.as_str()
}

impl Adoption {
    /// Whether the object with this `metadata` and `identity` carries the old tool's marks for
    /// this Application.
    pub fn claims(&self, metadata: &Value, identity: &Identity) -> Option<Claim> {
        match &self.marks {
            Marks::ArgoCd {
                instance,
                tracking_prefixes,
            } => match text(metadata, "annotations", ARGO_TRACKING_ANNOTATION) {
                Some(id) => {
                    let rest = tracking_prefixes
                        .iter()
                        .find_map(|prefix| id.strip_prefix(prefix.as_str()))?;
                    names(rest, identity).then_some(Claim::TrackingAnnotation)
                }
                None => (text(metadata, "labels", ARGO_INSTANCE_LABEL) == Some(instance))
                    .then_some(Claim::Labels),
            },
            Marks::Flux { name, namespace } => {
                let named = text(metadata, "labels", FLUX_NAME_LABEL) == Some(name)
                    && text(metadata, "labels", FLUX_NAMESPACE_LABEL) == Some(namespace);
                named.then_some(Claim::Labels)
            }
        }
    }

    /// The JSON merge patch that takes the old tool's marks off `metadata` and puts
    /// Driftless's on: `tracking_id` in [`driftless_sync::TRACKING_ANNOTATION`], `app` in
    /// [`driftless_sync::APP_LABEL`].
    ///
    /// Argo CD's instance label is removed only when it holds the Argo CD Application's name
    /// (then Argo CD wrote it, whatever Git said).
    pub fn marks_patch(&self, metadata: &Value, tracking_id: &str, app: &str) -> Value {
        let mut annotations = Map::new();
        let mut labels = Map::new();
        annotations.insert(
            driftless_sync::TRACKING_ANNOTATION.to_owned(),
            json!(tracking_id),
        );
        labels.insert(driftless_sync::APP_LABEL.to_owned(), json!(app));
        match &self.marks {
            Marks::ArgoCd { instance, .. } => {
                if text(metadata, "annotations", ARGO_TRACKING_ANNOTATION).is_some() {
                    annotations.insert(ARGO_TRACKING_ANNOTATION.to_owned(), Value::Null);
                }
                if text(metadata, "labels", ARGO_INSTANCE_LABEL) == Some(instance) {
                    labels.insert(ARGO_INSTANCE_LABEL.to_owned(), Value::Null);
                }
            }
            Marks::Flux { .. } => {
                for label in [FLUX_NAME_LABEL, FLUX_NAMESPACE_LABEL] {
                    if text(metadata, "labels", label).is_some() {
                        labels.insert(label.to_owned(), Value::Null);
                    }
                }
            }
        }
        json!({"metadata": {"annotations": annotations, "labels": labels}})
    }
}

/// Whether `rest` (`<group>/<kind>:<namespace>/<name>`, a tracking id after its application)
/// names `identity`. The namespace of a cluster-scoped object is not compared: Argo CD has
/// written both an empty one and the Application's destination namespace there.
fn names(rest: &str, identity: &Identity) -> bool {
    let Some((group_kind, namespaced_name)) = rest.split_once(':') else {
        return false;
    };
    let (group, kind) = group_kind.split_once('/').unwrap_or(("", group_kind));
    let (namespace, name) = namespaced_name
        .split_once('/')
        .unwrap_or(("", namespaced_name));
    group == identity.group
        && kind == identity.kind
        && name == identity.name
        && (identity.namespace.is_empty() || namespace == identity.namespace)
}

/// Whether one of `managers` owns fields of the object (not counting subresources such as
/// `status`): the old tool wrote it, it was not only labelled like what it wrote.
pub fn written_by(metadata: &Value, managers: &[String]) -> bool {
    entries(metadata)
        .iter()
        .any(|entry| is_main(entry) && managers.iter().any(|m| manager(entry) == m))
}

fn entries(metadata: &Value) -> Vec<Value> {
    metadata
        .get("managedFields")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn manager(entry: &Value) -> &str {
    entry.get("manager").and_then(Value::as_str).unwrap_or("")
}

/// An entry of the object itself, not of a subresource.
fn is_main(entry: &Value) -> bool {
    entry
        .get("subresource")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
}

/// `metadata.managedFields` with the entries of the field managers `from`, and those of `to`
/// itself, merged into one server-side-apply entry of `to`; `None` when none of `from` owns
/// anything (there is nothing to move).
///
/// # Guarantees
/// Every field owned by one of `from` is owned by `to` afterwards; entries of other managers,
/// and of subresources, are kept as they are and where they are.
///
/// # Caveats
/// Kubernetes keeps one apply entry per manager, whatever the API version, so fields the old
/// tool applied through several API versions end up in one entry, of the version it applied
/// first; field paths are the same across the versions of the built-in kinds.
pub fn moved_managed_fields(metadata: &Value, from: &[String], to: &str) -> Option<Vec<Value>> {
    let all = entries(metadata);
    let moving = |entry: &Value| {
        is_main(entry) && (manager(entry) == to || from.iter().any(|m| manager(entry) == m))
    };
    let old: Vec<&Value> = all
        .iter()
        .filter(|e| is_main(e) && from.iter().any(|m| manager(e) == m))
        .collect();
    let first_old = old
        .iter()
        .find(|e| e.get("operation").and_then(Value::as_str) == Some("Apply"))
        .or_else(|| old.first())?;
    let api_version = first_old.get("apiVersion").cloned().unwrap_or(Value::Null);
    let mut fields = Value::Object(Map::new());
    let mut time: Option<String> = None;
    for entry in all.iter().filter(|e| moving(e)) {
        if let Some(f) = entry.get("fieldsV1") {
            // An update owns a map itself (".") when it created it; an apply never records
            // that, and would drop it at its next apply, a needless write.
            let update = entry.get("operation").and_then(Value::as_str) == Some("Update");
            union(&mut fields, f, update);
        }
        if let Some(t) = entry.get("time").and_then(Value::as_str)
            && time.as_deref().is_none_or(|latest| t > latest)
        {
            time = Some(t.to_owned());
        }
    }
    let mut merged = json!({
        "manager": to,
        "operation": "Apply",
        "apiVersion": api_version,
        "fieldsType": "FieldsV1",
        "fieldsV1": fields,
    });
    if let Some(time) = time {
        merged["time"] = json!(time);
    }
    let mut out = Vec::with_capacity(all.len());
    let mut placed = false;
    for entry in &all {
        if moving(entry) {
            if !placed {
                out.push(merged.clone());
                placed = true;
            }
        } else {
            out.push(entry.clone());
        }
    }
    Some(out)
}

/// Adds every field of the field set `other` to `into` (a `FieldsV1` tree: objects all the
/// way down, `{}` at the leaves), without the `"."` entries (a map's own existence) when
/// `skip_self`.
fn union(into: &mut Value, other: &Value, skip_self: bool) {
    let (Value::Object(into), Value::Object(other)) = (into, other) else {
        return;
    };
    for (key, value) in other {
        if skip_self && key == "." {
            continue;
        }
        match into.get_mut(key) {
            Some(existing) => union(existing, value, skip_self),
            None => {
                let mut copy = Value::Object(Map::new());
                union(&mut copy, value, skip_self);
                into.insert(key.clone(), copy);
            }
        }
    }
}

/// Argo CD annotations on a live object that Driftless reads under its own name: what Git
/// should say instead. (Driftless reads only its own.)
pub fn renamed_annotations(metadata: &Value) -> Vec<(String, &'static str)> {
    const RENAMES: [(&str, &str); 3] = [
        ("argocd.argoproj.io/sync-wave", "driftless.dev/sync-wave"),
        ("argocd.argoproj.io/hook", "driftless.dev/hook"),
        (
            "argocd.argoproj.io/sync-options",
            "driftless.dev/sync-options",
        ),
    ];
    RENAMES
        .iter()
        .filter(|(old, _)| text(metadata, "annotations", old).is_some())
        .map(|(old, new)| ((*old).to_owned(), *new))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment() -> Identity {
        Identity {
            group: "apps".into(),
            kind: "Deployment".into(),
            namespace: "shop".into(),
            name: "web".into(),
        }
    }

    fn argo() -> Adoption {
        Adoption {
            namespace: "driftless-system".into(),
            name: "guestbook".into(),
            source: "Application argocd/guestbook".into(),
            marks: Marks::ArgoCd {
                instance: "guestbook".into(),
                tracking_prefixes: vec!["guestbook:".into(), "argocd_guestbook:".into()],
            },
            managers: vec!["argocd-controller".into()],
        }
    }

    #[test]
    fn a_tracking_id_claims_only_the_object_it_names() {
        let tracked = |id: &str| json!({"annotations": {ARGO_TRACKING_ANNOTATION: id}});
        let adoption = argo();
        assert_eq!(
            adoption.claims(
                &tracked("guestbook:apps/Deployment:shop/web"),
                &deployment()
            ),
            Some(Claim::TrackingAnnotation)
        );
        assert_eq!(
            adoption.claims(
                &tracked("argocd_guestbook:apps/Deployment:shop/web"),
                &deployment()
            ),
            Some(Claim::TrackingAnnotation)
        );
        // A copy of the object under another name, and another application's object.
        assert_eq!(
            adoption.claims(
                &tracked("guestbook:apps/Deployment:shop/api"),
                &deployment()
            ),
            None
        );
        assert_eq!(
            adoption.claims(
                &tracked("guestbook2:apps/Deployment:shop/web"),
                &deployment()
            ),
            None
        );
        // The annotation wins over the label: another application's annotation is not ours.
        let both = json!({"annotations": {ARGO_TRACKING_ANNOTATION: "other:apps/Deployment:shop/web"},
                          "labels": {ARGO_INSTANCE_LABEL: "guestbook"}});
        assert_eq!(adoption.claims(&both, &deployment()), None);
        let label = json!({"labels": {ARGO_INSTANCE_LABEL: "guestbook"}});
        assert_eq!(adoption.claims(&label, &deployment()), Some(Claim::Labels));
        let namespace = Identity {
            group: String::new(),
            kind: "Namespace".into(),
            namespace: String::new(),
            name: "shop".into(),
        };
        assert_eq!(
            adoption.claims(&tracked("guestbook:/Namespace:shop/shop"), &namespace),
            Some(Claim::TrackingAnnotation)
        );
    }

    #[test]
    fn flux_labels_claim_by_name_and_namespace() {
        let adoption = Adoption {
            marks: Marks::Flux {
                name: "apps".into(),
                namespace: "flux-system".into(),
            },
            ..argo()
        };
        let labels = |name: &str, ns: &str| json!({"labels": {FLUX_NAME_LABEL: name, FLUX_NAMESPACE_LABEL: ns}});
        assert_eq!(
            adoption.claims(&labels("apps", "flux-system"), &deployment()),
            Some(Claim::Labels)
        );
        assert_eq!(
            adoption.claims(&labels("apps", "team-a"), &deployment()),
            None
        );
    }

    #[test]
    fn the_marks_patch_swaps_the_old_marks_for_driftless_ones() {
        let metadata = json!({
            "annotations": {ARGO_TRACKING_ANNOTATION: "guestbook:apps/Deployment:shop/web", "keep": "me"},
            "labels": {ARGO_INSTANCE_LABEL: "guestbook", "app": "web"},
        });
        let patch = argo().marks_patch(&metadata, "id", "app-id");
        assert_eq!(
            patch,
            json!({"metadata": {
                "annotations": {driftless_sync::TRACKING_ANNOTATION: "id", ARGO_TRACKING_ANNOTATION: null},
                "labels": {driftless_sync::APP_LABEL: "app-id", ARGO_INSTANCE_LABEL: null},
            }})
        );
        // An instance label Git set to something else is Git's, not Argo CD's mark.
        let helm = json!({"labels": {ARGO_INSTANCE_LABEL: "my-release"}});
        let patch = argo().marks_patch(&helm, "id", "app-id");
        assert!(
            patch
                .pointer("/metadata/labels/app.kubernetes.io~1instance")
                .is_none()
        );
    }

    fn entry(manager: &str, operation: &str, fields: Value) -> Value {
        json!({"manager": manager, "operation": operation, "apiVersion": "apps/v1",
               "time": "2026-12-01T10:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": fields})
    }

    #[test]
    fn managed_fields_of_the_old_manager_move_to_driftless() {
        let metadata = json!({"managedFields": [
            entry("argocd-controller", "Apply", json!({"f:spec": {"f:replicas": {}}, "f:metadata": {"f:labels": {"f:app": {}}}})),
            entry("kube-controller-manager", "Update", json!({"f:status": {}})),
            entry("driftless", "Update", json!({"f:metadata": {"f:labels": {".": {}, "f:driftless.dev/app": {}}}})),
            {"manager": "argocd-controller", "operation": "Update", "subresource": "status",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {}}},
        ]});
        let managers = vec!["argocd-controller".to_owned()];
        assert!(written_by(&metadata, &managers));
        let moved = moved_managed_fields(&metadata, &managers, "driftless");
        let Some(moved) = moved else {
            panic!("nothing moved");
        };
        assert_eq!(moved.len(), 3);
        assert_eq!(moved[0]["manager"], "driftless");
        assert_eq!(moved[0]["operation"], "Apply");
        assert_eq!(moved[0]["apiVersion"], "apps/v1");
        assert_eq!(
            moved[0]["fieldsV1"],
            json!({"f:spec": {"f:replicas": {}}, "f:metadata": {"f:labels": {"f:app": {}, "f:driftless.dev/app": {}}}})
        );
        assert_eq!(moved[1]["manager"], "kube-controller-manager");
        // A subresource entry is not the object's: left alone.
        assert_eq!(moved[2]["subresource"], "status");
        assert_eq!(moved[2]["manager"], "argocd-controller");
    }

    #[test]
    fn nothing_moves_when_the_old_manager_wrote_nothing() {
        let metadata =
            json!({"managedFields": [entry("endpoint-controller", "Update", json!({}))]});
        let managers = vec!["kustomize-controller".to_owned()];
        assert!(!written_by(&metadata, &managers));
        assert_eq!(
            moved_managed_fields(&metadata, &managers, "driftless"),
            None
        );
    }
}
