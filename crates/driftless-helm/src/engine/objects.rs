//! The Go objects of Helm's render data that have methods: `.Files` (`engine.files`, a
//! `map[string][]byte`) and `.Capabilities` (`*common.Capabilities`, with `KubeVersion`'s
//! `GitVersion`/`String` and `APIVersions.Has`).

use std::sync::Arc;

use driftless_template::{Dict, Func, Object, Param, Value};

use crate::capabilities::{Capabilities, HelmVersion, KubeVersion};
use crate::files::Files;

/// `.Files`.
#[derive(Debug, Clone)]
pub(crate) struct FilesObject(pub(crate) Arc<Files>);

impl FilesObject {
    fn map(&self) -> Value {
        Value::Map(Dict::from_map(
            self.0
                .names()
                .map(|n| (n.to_owned(), Value::str(self.0.get(n))))
                .collect(),
        ))
    }
}

fn string_arg(a: &[Value]) -> String {
    a.first()
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// A `map[string]string` printed by `toYaml`, as `AsConfig`/`AsSecrets` print it.
fn yaml_of(entries: std::collections::BTreeMap<String, String>) -> Value {
    if entries.is_empty() {
        return Value::str("{}");
    }
    let m: serde_json::Map<String, serde_json::Value> = entries
        .into_iter()
        .map(|(k, v)| (k, serde_json::Value::String(v)))
        .collect();
    let text = driftless_goyaml::to_yaml(&serde_json::Value::Object(m));
    Value::str(text.strip_suffix('\n').unwrap_or(&text))
}

impl Object for FilesObject {
    fn type_name(&self) -> String {
        "engine.files".into()
    }
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }
    fn method(&self, name: &str) -> Option<Func> {
        let files = self.0.clone();
        Some(match name {
            "Get" => Func::new(&[Param::String], move |a| {
                Ok(Value::str(files.get(&string_arg(a))))
            }),
            "GetBytes" => Func::new(&[Param::String], move |a| {
                Ok(Value::str(files.get(&string_arg(a))))
            }),
            "Glob" => Func::new(&[Param::String], move |a| {
                Ok(Value::Object(Arc::new(FilesObject(Arc::new(
                    files.glob(&string_arg(a)),
                )))))
            }),
            "Lines" => Func::new(&[Param::String], move |a| {
                Ok(Value::strings(files.lines(&string_arg(a))))
            }),
            "AsConfig" => Func::new(&[], move |_| Ok(yaml_of(files.as_config_entries()))),
            "AsSecrets" => Func::new(&[], move |_| Ok(yaml_of(files.as_secrets_entries()))),
            _ => return None,
        })
    }
    fn is_true(&self) -> bool {
        self.0.names().next().is_some()
    }
    fn format(&self) -> String {
        driftless_template::format_value(&self.map())
    }
    fn as_value(&self) -> Option<Value> {
        Some(self.map())
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// `.Capabilities`.
#[derive(Debug, Clone)]
pub(crate) struct CapabilitiesObject(pub(crate) Arc<Capabilities>);

impl Object for CapabilitiesObject {
    fn type_name(&self) -> String {
        "*common.Capabilities".into()
    }
    fn field(&self, name: &str) -> Option<Value> {
        let c = &self.0;
        Some(match name {
            "KubeVersion" => Value::Object(Arc::new(KubeVersionObject(c.kube_version.clone()))),
            "APIVersions" => Value::Object(Arc::new(VersionSet(c.api_versions.clone()))),
            "HelmVersion" => Value::Object(Arc::new(HelmVersionObject(c.helm_version.clone()))),
            _ => return None,
        })
    }
    fn format(&self) -> String {
        format!(
            "&{{{} {} {}}}",
            kube_fmt(&self.0.kube_version),
            set_fmt(&self.0.api_versions),
            helm_fmt(&self.0.helm_version)
        )
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

fn kube_fmt(k: &KubeVersion) -> String {
    format!("{{{} {} {} {}}}", k.version, k.normalized, k.major, k.minor)
}

fn set_fmt(v: &[String]) -> String {
    format!("[{}]", v.join(" "))
}

fn helm_fmt(h: &HelmVersion) -> String {
    format!(
        "{{{} {} {} {} {}}}",
        h.version, h.git_commit, h.git_tree_state, h.go_version, h.kube_client_version
    )
}

/// `.Capabilities.KubeVersion`.
#[derive(Debug, Clone)]
pub(crate) struct KubeVersionObject(pub(crate) KubeVersion);

impl Object for KubeVersionObject {
    fn type_name(&self) -> String {
        "common.KubeVersion".into()
    }
    fn field(&self, name: &str) -> Option<Value> {
        Some(Value::str(match name {
            "Version" => self.0.version.as_str(),
            "Major" => self.0.major.as_str(),
            "Minor" => self.0.minor.as_str(),
            _ => return None,
        }))
    }
    fn method(&self, name: &str) -> Option<Func> {
        let v = match name {
            "GitVersion" => self.0.version.clone(),
            // `String` gives the normalized version (what constraints are checked against).
            "String" => self.0.normalized.clone(),
            _ => return None,
        };
        Some(Func::new(&[], move |_| Ok(Value::str(v.as_str()))))
    }
    fn format(&self) -> String {
        // `String` has a pointer receiver: `%v` of the field prints the struct, the
        // unexported normalized version included.
        let k = &self.0;
        format!("{{{} {} {} {}}}", k.version, k.normalized, k.major, k.minor)
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// `.Capabilities.APIVersions` (`common.VersionSet`, a `[]string` with `Has`).
#[derive(Debug, Clone)]
pub(crate) struct VersionSet(pub(crate) Vec<String>);

impl Object for VersionSet {
    fn type_name(&self) -> String {
        "common.VersionSet".into()
    }
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }
    fn method(&self, name: &str) -> Option<Func> {
        let set = self.0.clone();
        match name {
            "Has" => Some(Func::new(&[Param::String], move |a| {
                let wanted = string_arg(a);
                Ok(Value::Bool(set.contains(&wanted)))
            })),
            _ => None,
        }
    }
    fn is_true(&self) -> bool {
        !self.0.is_empty()
    }
    fn format(&self) -> String {
        set_fmt(&self.0)
    }
    fn as_value(&self) -> Option<Value> {
        Some(Value::strings(self.0.iter().map(String::as_str)))
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// `.Capabilities.HelmVersion`.
#[derive(Debug, Clone)]
pub(crate) struct HelmVersionObject(pub(crate) HelmVersion);

impl Object for HelmVersionObject {
    fn type_name(&self) -> String {
        "common.HelmVersion".into()
    }
    fn field(&self, name: &str) -> Option<Value> {
        let h = &self.0;
        Some(Value::str(match name {
            "Version" => h.version.as_str(),
            "GitCommit" => h.git_commit.as_str(),
            "GitTreeState" => h.git_tree_state.as_str(),
            "GoVersion" => h.go_version.as_str(),
            "KubeClientVersion" => h.kube_client_version.as_str(),
            _ => return None,
        }))
    }
    fn format(&self) -> String {
        helm_fmt(&self.0)
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// What `json.Marshal` sees of one of these objects, as plain data.
pub(crate) fn object_json(o: &dyn Object) -> Option<Value> {
    let any = o.as_any()?;
    if let Some(f) = any.downcast_ref::<FilesObject>() {
        // `[]byte` values are base64 in JSON.
        use base64::Engine as _;
        return Some(Value::Map(Dict::from_map(
            f.0.names()
                .map(|n| {
                    let enc = base64::engine::general_purpose::STANDARD.encode(f.0.get_bytes(n));
                    (n.to_owned(), Value::str(enc))
                })
                .collect(),
        )));
    }
    if let Some(c) = any.downcast_ref::<CapabilitiesObject>() {
        return Some(super::data::to_value(&c.0.to_json()));
    }
    if let Some(k) = any.downcast_ref::<KubeVersionObject>() {
        let mut m = std::collections::BTreeMap::new();
        m.insert("Version".to_owned(), Value::str(k.0.version.as_str()));
        m.insert("Major".to_owned(), Value::str(k.0.major.as_str()));
        m.insert("Minor".to_owned(), Value::str(k.0.minor.as_str()));
        return Some(Value::Map(Dict::from_map(m)));
    }
    if let Some(s) = any.downcast_ref::<VersionSet>() {
        return s.as_value();
    }
    if let Some(h) = any.downcast_ref::<HelmVersionObject>() {
        let caps = Capabilities {
            kube_version: KubeVersion::helm_default(),
            api_versions: Vec::new(),
            helm_version: h.0.clone(),
        };
        return Some(super::data::to_value(&caps.to_json()["HelmVersion"]));
    }
    None
}
