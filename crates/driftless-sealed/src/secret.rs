//! From a Secret manifest to a SealedSecret manifest, as `kubeseal` builds it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use crate::{Error, PublicKey, Scope, hybrid_encrypt};

/// Annotations that hold a full copy of an applied object (with its values): never copied.
const LAST_APPLIED: [&str; 2] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    "kubecfg.ksonnet.io/last-applied-configuration",
];
/// Server-side metadata that `kubeseal` strips before sealing.
const SERVER_FIELDS: [&str; 8] = [
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "ownerReferences",
];

/// What `kubeseal`'s flags change about the input Secret.
#[derive(Debug, Clone, Default)]
pub struct SealOptions {
    /// `--scope`: when given, replaces the scope the Secret's annotations ask for.
    pub scope: Option<Scope>,
    /// `--name`: the Secret's name.
    pub name: Option<String>,
    /// `--namespace`: the Secret's namespace.
    pub namespace: Option<String>,
    /// The namespace of a Secret that names none (kubeseal takes the kubeconfig's).
    pub default_namespace: Option<String>,
    /// `--allow-empty-data`: seal a Secret without `data` or `stringData`.
    pub allow_empty_data: bool,
}

/// Seals one Secret manifest (a JSON value) into a `bitnami.com/v1alpha1` SealedSecret.
pub fn seal(secret: &Value, key: &PublicKey, options: &SealOptions) -> Result<Value, Error> {
    let object = secret
        .as_object()
        .ok_or_else(|| Error::Secret("not an object".into()))?;
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    if kind != "Secret" {
        return Err(Error::Secret(format!(
            "kind {kind:?}: only a Secret can be sealed"
        )));
    }
    let mut metadata = match object.get("metadata") {
        Some(Value::Object(m)) => m.clone(),
        None => Map::new(),
        Some(_) => return Err(Error::Secret("metadata is not an object".into())),
    };
    let data = string_map(object, "data")?;
    let string_data = string_map(object, "stringData")?;
    if data.is_empty() && string_data.is_empty() && !options.allow_empty_data {
        return Err(Error::Secret(
            "the Secret has no data or stringData; use --allow-empty-data to seal it anyway".into(),
        ));
    }
    if let Some(name) = &options.name {
        metadata.insert("name".into(), name.clone().into());
    }
    let name = metadata
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| Error::Secret("missing metadata.name".into()))?
        .to_string();
    if let Some(namespace) = &options.namespace {
        metadata.insert("namespace".into(), namespace.clone().into());
    }
    let mut annotations = match metadata.get("annotations") {
        Some(Value::Object(a)) => a.clone(),
        None | Some(Value::Null) => Map::new(),
        Some(_) => {
            return Err(Error::Secret(
                "metadata.annotations is not an object".into(),
            ));
        }
    };
    if let Some(scope) = options.scope.filter(|s| *s != Scope::Strict) {
        scope.write_annotations(&mut annotations);
    }
    let scope = Scope::from_annotations(Some(&annotations));
    let mut namespace = metadata
        .get("namespace")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if namespace.is_empty() && scope != Scope::ClusterWide {
        namespace = options
            .default_namespace
            .clone()
            .ok_or_else(|| Error::Secret("the Secret has no namespace; give --namespace".into()))?;
        metadata.insert("namespace".into(), namespace.clone().into());
    }
    for field in SERVER_FIELDS {
        metadata.remove(field);
    }
    let mut template_annotations = annotations.clone();
    for key in LAST_APPLIED {
        template_annotations.remove(key);
    }
    let mut template_metadata = metadata.clone();
    if template_annotations.is_empty() {
        template_metadata.remove("annotations");
    } else {
        template_metadata.insert("annotations".into(), Value::Object(template_annotations));
    }

    let label = scope.label(&namespace, &name);
    let mut encrypted = Map::new();
    for (k, v) in &data {
        let bytes = STANDARD
            .decode(v)
            .map_err(|_| Error::Secret(format!("data.{k} is not base64")))?;
        encrypted.insert(
            k.clone(),
            STANDARD.encode(hybrid_encrypt(key, &bytes, &label)?).into(),
        );
    }
    for (k, v) in &string_data {
        encrypted.insert(
            k.clone(),
            STANDARD
                .encode(hybrid_encrypt(key, v.as_bytes(), &label)?)
                .into(),
        );
    }

    let mut template = Map::new();
    template.insert("metadata".into(), Value::Object(template_metadata));
    for field in ["type", "immutable"] {
        if let Some(v) = object.get(field).filter(|v| !v.is_null()) {
            template.insert(field.into(), v.clone());
        }
    }
    let mut sealed_metadata = Map::new();
    sealed_metadata.insert("name".into(), name.into());
    if !namespace.is_empty() {
        sealed_metadata.insert("namespace".into(), namespace.into());
    }
    let mut scope_annotations = Map::new();
    scope.write_annotations(&mut scope_annotations);
    if !scope_annotations.is_empty() {
        sealed_metadata.insert("annotations".into(), Value::Object(scope_annotations));
    }
    Ok(json!({
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": sealed_metadata,
        "spec": {"template": template, "encryptedData": encrypted},
    }))
}

/// A map of strings at `field` (absent or null: empty); never echoes a value in its errors.
fn string_map(object: &Map<String, Value>, field: &str) -> Result<Vec<(String, String)>, Error> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(Error::Secret(format!("{field}.{k} is not a string"))),
            })
            .collect(),
        Some(_) => Err(Error::Secret(format!("{field} is not an object"))),
    }
}
