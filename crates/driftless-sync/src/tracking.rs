//! Ownership: the tracking annotation and label that mark an object as managed by an application.
//!
//! The annotation is authoritative (it names the application *and* the object, so a copied
//! object is not mistaken for ours); the label only narrows watches and lists.

use driftless_resource::ResourceKey;
use serde_json::{Map, Value};

/// Annotation naming the owning application and the object: `<app>:<group>/<kind>:<namespace>/<name>`.
pub const TRACKING_ANNOTATION: &str = "driftless.dev/tracking-id";
/// Label naming the owning application, for label-selected lists and watches.
pub const APP_LABEL: &str = "driftless.dev/app";

/// The tracking id of `key` in application `app`.
pub fn tracking_id(app: &str, key: &ResourceKey) -> String {
    format!(
        "{app}:{}/{}:{}/{}",
        key.group, key.kind, key.namespace, key.name
    )
}

/// Who owns a live object, according to its tracking annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// The annotation names this application and this very object.
    This,
    /// The annotation names another application (or this one, but another object: a copy).
    Other(String),
    /// No tracking annotation.
    Nobody,
}

/// Reads the owner of `live` (whose identity is `key`) relative to application `app`.
pub fn owner(live: &Value, app: &str, key: &ResourceKey) -> Owner {
    match live
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(TRACKING_ANNOTATION))
        .and_then(Value::as_str)
    {
        None => Owner::Nobody,
        Some(id) if id == tracking_id(app, key) => Owner::This,
        Some(id) => Owner::Other(id.split_once(':').map_or(id, |(app, _)| app).to_owned()),
    }
}

/// Puts the tracking annotation and label on `object`. Non-object input is left alone.
pub fn stamp(object: &mut Value, app: &str, key: &ResourceKey) {
    let Some(map) = object.as_object_mut() else {
        return;
    };
    let metadata = entry_map(map, "metadata");
    entry_map(metadata, "annotations").insert(
        TRACKING_ANNOTATION.to_owned(),
        Value::String(tracking_id(app, key)),
    );
    entry_map(metadata, "labels").insert(APP_LABEL.to_owned(), Value::String(app.to_owned()));
}

/// The map under `key`, created (or replacing a non-map) when needed.
fn entry_map<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let slot = map
        .entry(key.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    match slot {
        Value::Object(inner) => inner,
        _ => unreachable!("just made an object"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key() -> ResourceKey {
        ResourceKey::new("apps/v1", "Deployment", "shop", "web")
    }

    #[test]
    fn tracking_id_has_argo_cd_shape() {
        assert_eq!(
            tracking_id("guestbook", &key()),
            "guestbook:apps/Deployment:shop/web"
        );
        let core = ResourceKey::new("v1", "Namespace", "", "shop");
        assert_eq!(tracking_id("a", &core), "a:/Namespace:/shop");
    }

    #[test]
    fn stamped_object_is_owned_by_its_app_only() {
        let mut object = json!({"metadata": {"name": "web", "labels": {"tier": "front"}}});
        stamp(&mut object, "guestbook", &key());
        assert_eq!(object["metadata"]["labels"]["tier"], "front");
        assert_eq!(object["metadata"]["labels"][APP_LABEL], "guestbook");
        assert_eq!(owner(&object, "guestbook", &key()), Owner::This);
        assert_eq!(
            owner(&object, "other", &key()),
            Owner::Other("guestbook".into())
        );
        let copy = ResourceKey::new("apps/v1", "Deployment", "shop", "web-copy");
        assert_eq!(
            owner(&object, "guestbook", &copy),
            Owner::Other("guestbook".into())
        );
        assert_eq!(
            owner(&json!({"metadata": {}}), "guestbook", &key()),
            Owner::Nobody
        );
    }
}
