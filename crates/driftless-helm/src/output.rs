//! What `helm template` prints after the templates are executed (Helm's `SortManifests` and
//! the template command's printing).
//!
//! Rendered files are taken in path order, partials (`_*`) and blank files skipped. Each file is
//! split into documents at lines starting with `---` (anything after `---` on that line stays in
//! the next document), documents that are blank dropped, each one's leading whitespace trimmed
//! (trailing whitespace kept). A document with a `helm.sh/hook` annotation is a hook (a hook of
//! an unknown event is dropped); the others are manifests. Both are sorted, stably, by kind in
//! Helm's install order (kinds not in the list after, alphabetically). The output is: with
//! `--include-crds`, each `crds/` file (`---\n# Source: <file>\n<content>\n`); each manifest the
//! same way; all of that trimmed, with one newline; then each hook (test hooks unless
//! `--skip-tests`) the same way.

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::Value;

use crate::Error;
use crate::crds::Crd;

/// The annotation that makes a document a hook.
pub const HOOK_ANNOTATION: &str = "helm.sh/hook";
/// The hook weight annotation.
pub const HOOK_WEIGHT_ANNOTATION: &str = "helm.sh/hook-weight";
/// The hook delete policy annotation.
pub const HOOK_DELETE_ANNOTATION: &str = "helm.sh/hook-delete-policy";
/// The hook output log policy annotation.
pub const HOOK_OUTPUT_LOG_ANNOTATION: &str = "helm.sh/hook-output-log-policy";

/// Helm's install order of kinds.
pub const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// Hook events Helm knows (`test-success` is an old name of `test`).
const EVENTS: &[(&str, &str)] = &[
    ("pre-install", "pre-install"),
    ("post-install", "post-install"),
    ("pre-delete", "pre-delete"),
    ("post-delete", "post-delete"),
    ("pre-upgrade", "pre-upgrade"),
    ("post-upgrade", "post-upgrade"),
    ("pre-rollback", "pre-rollback"),
    ("post-rollback", "post-rollback"),
    ("test", "test"),
    ("test-success", "test"),
];

/// A rendered document that is not a hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The template it came from, e.g. `top/templates/a.yaml`.
    pub source: String,
    /// The document's text.
    pub content: String,
    /// Its `kind`.
    pub kind: String,
}

/// A rendered document that is a Helm hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookManifest {
    /// `metadata.name`.
    pub name: String,
    /// `kind`.
    pub kind: String,
    /// The template it came from.
    pub source: String,
    /// The document's text.
    pub content: String,
    /// Its events, lower-cased (`pre-install`, `post-upgrade`, `test`...).
    pub events: Vec<String>,
    /// `helm.sh/hook-weight` (0 when missing or not an integer).
    pub weight: i64,
    /// `helm.sh/hook-delete-policy` values, lower-cased.
    pub delete_policies: Vec<String>,
    /// `helm.sh/hook-output-log-policy` values, lower-cased.
    pub output_log_policies: Vec<String>,
}

impl HookManifest {
    /// Whether it is a test hook (`helm.sh/hook: test`).
    pub fn is_test(&self) -> bool {
        self.events.iter().any(|e| e == "test")
    }
}

/// The sorted output of `helm template`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assembled {
    /// Manifests in install order.
    pub manifests: Vec<Manifest>,
    /// Hooks in install order (all of them, tests included).
    pub hooks: Vec<HookManifest>,
    /// What `helm template` prints.
    pub text: String,
}

/// Helm's `SplitManifests`: the documents of `text`, blank ones dropped, each with its leading
/// whitespace trimmed.
pub fn split_manifests(text: &str) -> Vec<String> {
    // The pattern is a constant, so it compiles.
    let Ok(sep) = Regex::new(r"(?m)^---[ \t]*") else {
        return Vec::new();
    };
    let text = text.trim_start();
    sep.split(text)
        .filter(|d| !d.trim().is_empty())
        .map(|d| d.trim_start().to_owned())
        .collect()
}

/// Sorts, splits and prints rendered files (name → output, `NOTES.txt` already left out).
///
/// # Errors
/// A document that is not YAML, or whose metadata is not a mapping (Helm's `YAML parse error on
/// <file>`).
pub fn assemble(
    files: &BTreeMap<String, String>,
    crds: &[Crd],
    skip_tests: bool,
) -> Result<Assembled, Error> {
    let mut manifests = Vec::new();
    let mut hooks = Vec::new();
    for (path, content) in files {
        let base = path.rsplit('/').next().unwrap_or(path);
        if base.starts_with('_') || content.trim().is_empty() {
            continue;
        }
        for doc in split_manifests(content) {
            let head = crate::yaml::document(doc.as_bytes()).map_err(|e| Error::Manifest {
                file: path.clone(),
                message: e.to_string(),
            })?;
            let (kind, name, annotations) =
                simple_head(&head).map_err(|message| Error::Manifest {
                    file: path.clone(),
                    message,
                })?;
            let Some(hook_types) = annotations.get(HOOK_ANNOTATION) else {
                manifests.push(Manifest {
                    source: path.clone(),
                    content: doc,
                    kind,
                });
                continue;
            };
            let mut events = Vec::new();
            let mut unknown = false;
            for t in hook_types.split(',') {
                let t = t.trim().to_lowercase();
                match EVENTS.iter().find(|(k, _)| *k == t) {
                    Some((_, e)) => events.push((*e).to_owned()),
                    None => {
                        unknown = true;
                        break;
                    }
                }
            }
            if unknown {
                continue;
            }
            let list = |key: &str| -> Vec<String> {
                annotations
                    .get(key)
                    .map(|v| v.split(',').map(|p| p.trim().to_lowercase()).collect())
                    .unwrap_or_default()
            };
            hooks.push(HookManifest {
                name,
                kind,
                source: path.clone(),
                weight: annotations
                    .get(HOOK_WEIGHT_ANNOTATION)
                    .and_then(|w| go_atoi(w))
                    .unwrap_or(0),
                delete_policies: list(HOOK_DELETE_ANNOTATION),
                output_log_policies: list(HOOK_OUTPUT_LOG_ANNOTATION),
                content: doc,
                events,
            });
        }
    }
    manifests.sort_by(|a, b| kind_order(&a.kind, &b.kind));
    hooks.sort_by(|a, b| kind_order(&a.kind, &b.kind));

    let mut body = String::new();
    for crd in crds {
        body.push_str(&format!(
            "---\n# Source: {}\n{}\n",
            crd.filename,
            String::from_utf8_lossy(&crd.data)
        ));
    }
    for m in &manifests {
        body.push_str(&format!("---\n# Source: {}\n{}\n", m.source, m.content));
    }
    let mut text = body.trim().to_owned();
    text.push('\n');
    for h in &hooks {
        if skip_tests && h.is_test() {
            continue;
        }
        text.push_str(&format!("---\n# Source: {}\n{}\n", h.source, h.content));
    }
    Ok(Assembled {
        manifests,
        hooks,
        text,
    })
}

/// Helm's `lessByKind` as an ordering: known kinds by their place, unknown kinds after them,
/// alphabetically.
fn kind_order(a: &str, b: &str) -> std::cmp::Ordering {
    let pos = |k: &str| INSTALL_ORDER.iter().position(|x| *x == k);
    match (pos(a), pos(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// Go's `strconv.Atoi`.
fn go_atoi(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

type Head = (String, String, BTreeMap<String, String>);

/// Helm's `SimpleHead`: kind, metadata.name and metadata.annotations, scalars read as strings
/// (as `sigs.k8s.io/yaml` does for string fields).
fn simple_head(doc: &Value) -> Result<Head, String> {
    let Value::Object(map) = doc else {
        return match doc {
            Value::Null => Ok((String::new(), String::new(), BTreeMap::new())),
            other => Err(format!(
                "error unmarshaling JSON: json: cannot unmarshal {} into Go value of type util.SimpleHead",
                json_type(other)
            )),
        };
    };
    let kind = scalar(map.get("kind"), "kind")?;
    let mut name = String::new();
    let mut annotations = BTreeMap::new();
    match map.get("metadata") {
        None | Some(Value::Null) => {}
        Some(Value::Object(md)) => {
            name = scalar(md.get("name"), "metadata.name")?;
            match md.get("annotations") {
                None | Some(Value::Null) => {}
                Some(Value::Object(a)) => {
                    for (k, v) in a {
                        annotations.insert(k.clone(), scalar(Some(v), "annotations")?);
                    }
                }
                Some(other) => return Err(type_error(other, "metadata.annotations")),
            }
        }
        Some(other) => return Err(type_error(other, "metadata")),
    }
    Ok((kind, name, annotations))
}

fn scalar(v: Option<&Value>, field: &str) -> Result<String, String> {
    match v {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Bool(b)) => Ok(b.to_string()),
        Some(Value::Number(n)) => Ok(n
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
            .map_or_else(|| n.to_string(), |f| format!("{f:.0}"))),
        Some(other) => Err(type_error(other, field)),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::Null => "null",
    }
}

fn type_error(v: &Value, field: &str) -> String {
    format!(
        "error unmarshaling JSON: json: cannot unmarshal {} into Go struct field {field}",
        json_type(v)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
        entries
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn documents_split_at_dashes_keep_trailing_blank_lines_and_drop_empty_ones() {
        let docs = split_manifests("\n---\na: 1\n\n--- # c\nb: 2\n---\n   \n---\nc: 3");
        assert_eq!(docs, vec!["a: 1\n\n", "# c\nb: 2\n", "c: 3"]);
    }

    #[test]
    fn manifests_sort_by_install_order_then_hooks_follow() -> Result<(), Error> {
        let out = assemble(
            &files(&[
                (
                    "c/templates/a.yaml",
                    "kind: Deployment\nmetadata:\n  name: d\n---\nkind: Zeta\n---\nkind: Alpha\n",
                ),
                (
                    "c/templates/b.yaml",
                    "kind: ServiceAccount\nmetadata:\n  name: sa\n",
                ),
                ("c/templates/_helpers.tpl", "kind: Secret\n"),
                (
                    "c/templates/hook.yaml",
                    "kind: Job\nmetadata:\n  name: j\n  annotations:\n    helm.sh/hook: pre-install,Pre-Upgrade\n    helm.sh/hook-weight: \"-5\"\n    helm.sh/hook-delete-policy: before-hook-creation, hook-succeeded\n",
                ),
                (
                    "c/templates/test.yaml",
                    "kind: Pod\nmetadata:\n  name: t\n  annotations:\n    helm.sh/hook: test\n",
                ),
                (
                    "c/templates/odd.yaml",
                    "kind: Pod\nmetadata:\n  name: o\n  annotations:\n    helm.sh/hook: sometime\n",
                ),
            ]),
            &[Crd {
                filename: "c/crds/x.yaml".into(),
                data: b"kind: CustomResourceDefinition\n".to_vec(),
            }],
            true,
        )?;
        let kinds: Vec<&str> = out.manifests.iter().map(|m| m.kind.as_str()).collect();
        assert_eq!(kinds, vec!["ServiceAccount", "Deployment", "Alpha", "Zeta"]);
        let names: Vec<&str> = out.hooks.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(
            names,
            vec!["t", "j"],
            "hooks sorted by kind too: Pod before Job"
        );
        let job = &out.hooks[1];
        assert_eq!(job.events, vec!["pre-install", "pre-upgrade"]);
        assert_eq!(job.weight, -5);
        assert_eq!(
            job.delete_policies,
            vec!["before-hook-creation", "hook-succeeded"]
        );
        assert!(out.text.starts_with("---\n# Source: c/crds/x.yaml\nkind: CustomResourceDefinition\n\n---\n# Source: c/templates/b.yaml\n"));
        assert!(
            out.text
                .contains("# Source: c/templates/hook.yaml\nkind: Job")
        );
        assert!(!out.text.contains("name: t\n"), "test hooks skipped");
        assert!(!out.text.contains("name: o\n"), "unknown hooks dropped");
        Ok(())
    }

    #[test]
    fn a_document_that_is_not_yaml_names_its_template() {
        let err = assemble(&files(&[("c/templates/bad.yaml", "a: [\n")]), &[], false);
        assert!(matches!(err, Err(Error::Manifest { file, .. }) if file == "c/templates/bad.yaml"));
    }
}
