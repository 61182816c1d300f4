//! `ignoreDifferences`: fields left out of the comparison for selected objects.
//!
//! The rule shape is `Application.spec.ignoreDifferences`, with Argo CD's field names:
//!
//! ```yaml
//! - group: apps                 # "" is the core group; "*" any group
//!   kind: Deployment            # "*" any kind
//!   name: web                   # optional: any name when absent
//!   namespace: shop             # optional: any namespace when absent
//!   jsonPointers: [/spec/replicas]
//!   jqPathExpressions: ['.spec.template.spec.initContainers[] | select(.name == "istio-init")']
//!   managedFieldsManagers: [kube-controller-manager]
//! ```
//!
//! Every field a matching rule selects is removed from both sides before they are compared, so
//! it can neither cause nor show a difference. Rules run on the compared views (each side already
//! restricted to the compared fields, not yet normalized or masked); a path to a field that is
//! not compared selects nothing.
//!
//! - `jsonPointers`: RFC 6901 pointers; a pointer to an absent field selects nothing.
//! - `jqPathExpressions`: jq path expressions, evaluated (with jaq) on each side separately;
//!   every path the expression denotes is removed, as jq's `del(EXPR)` would.
//! - `managedFieldsManagers`: every field the named managers own in the live object's
//!   `metadata.managedFields` (e.g. replicas written by an autoscaler). Ownership wins over
//!   co-ownership: a field Driftless and a listed manager both own is ignored.
//!
//! Rules are validated once ([`CompiledIgnoreRule::compile`], via `DiffOptions::new`): a bad
//! pointer or a jq expression that does not parse is an error before any object is compared.

use std::cmp::Ordering;

use jaq_core::data::JustLut;
use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Ctx, Vars, unwrap_valr};
use jaq_json::Val;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ObjectRef;
use crate::fieldset::FieldSet;
use crate::managed::{ManagedFieldsError, fields_of};
use crate::pointer::{self, PointerError};

/// A rule could not be compiled or applied.
#[derive(Debug, thiserror::Error)]
pub enum IgnoreError {
    /// A `jsonPointers` entry is malformed.
    #[error("ignoreDifferences rule {rule}: {source}")]
    Pointer {
        /// The rule, as `group/kind` (plus name and namespace when set).
        rule: String,
        /// What is wrong with the pointer.
        #[source]
        source: PointerError,
    },
    /// A `jqPathExpressions` entry does not parse or names an undefined filter.
    #[error(
        "ignoreDifferences rule {rule}: jq path expression {expression:?} is invalid: {message}"
    )]
    JqCompile {
        /// The rule, as `group/kind` (plus name and namespace when set).
        rule: String,
        /// The expression as written.
        expression: String,
        /// The parser's or compiler's complaint.
        message: String,
    },
    /// A jq expression failed on an object (for example, indexing a string). For Secrets the
    /// jq error text is withheld, since it can quote the value it failed on.
    #[error("ignoreDifferences jq path expression {expression:?} failed on {object}: {message}")]
    JqRun {
        /// The expression as written.
        expression: String,
        /// The object it ran on.
        object: String,
        /// jq's message, or a placeholder for Secrets.
        message: String,
    },
    /// The live object's `metadata.managedFields` could not be read for
    /// `managedFieldsManagers`.
    #[error("ignoreDifferences managedFieldsManagers on {object}: {source}")]
    ManagedFields {
        /// The object.
        object: String,
        /// What is wrong with its managed fields.
        #[source]
        source: ManagedFieldsError,
    },
}

/// One `ignoreDifferences` entry, as written in an Application.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IgnoreRule {
    /// API group of the objects (`""` core, `"*"` any).
    pub group: String,
    /// Kind of the objects (`"*"` any).
    pub kind: String,
    /// Only the object with this name; any when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Only objects in this namespace; any when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Fields to ignore, as JSON Pointers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub json_pointers: Vec<String>,
    /// Fields to ignore, as jq path expressions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub jq_path_expressions: Vec<String>,
    /// Field managers whose fields are ignored.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub managed_fields_managers: Vec<String>,
}

impl IgnoreRule {
    /// Whether this rule selects the object.
    pub fn matches(&self, object: &ObjectRef) -> bool {
        let wildcard = |pattern: &str, value: &str| pattern == "*" || pattern == value;
        wildcard(&self.group, &object.group)
            && wildcard(&self.kind, &object.kind)
            && self.name.as_ref().is_none_or(|n| *n == object.name)
            && self
                .namespace
                .as_ref()
                .is_none_or(|n| *n == object.namespace)
    }

    fn describe(&self) -> String {
        let mut text = format!("{}/{}", self.group, self.kind);
        if let Some(namespace) = &self.namespace {
            text.push_str(&format!(" namespace={namespace}"));
        }
        if let Some(name) = &self.name {
            text.push_str(&format!(" name={name}"));
        }
        text
    }
}

type JqFilter = jaq_core::Filter<JustLut<Val>>;

/// An [`IgnoreRule`] with its pointers parsed and its jq expressions compiled.
pub struct CompiledIgnoreRule {
    rule: IgnoreRule,
    pointers: Vec<Vec<String>>,
    jq: Vec<(String, JqFilter)>,
}

impl std::fmt::Debug for CompiledIgnoreRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledIgnoreRule")
            .field("rule", &self.rule)
            .finish_non_exhaustive()
    }
}

impl CompiledIgnoreRule {
    /// Validates a rule: parses its pointers and compiles its jq expressions.
    pub fn compile(rule: IgnoreRule) -> Result<CompiledIgnoreRule, IgnoreError> {
        let pointers = rule
            .json_pointers
            .iter()
            .map(|p| pointer::parse(p))
            .collect::<Result<_, _>>()
            .map_err(|source| IgnoreError::Pointer {
                rule: rule.describe(),
                source,
            })?;
        let jq = rule
            .jq_path_expressions
            .iter()
            .map(|expression| {
                compile_path_expression(expression)
                    .map(|filter| (expression.clone(), filter))
                    .map_err(|message| IgnoreError::JqCompile {
                        rule: rule.describe(),
                        expression: expression.clone(),
                        message,
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(CompiledIgnoreRule { rule, pointers, jq })
    }

    /// The rule as written.
    pub fn rule(&self) -> &IgnoreRule {
        &self.rule
    }

    /// Removes the fields this rule selects from `side` (one version of `object`).
    /// `owners_from` is the object whose `managedFields` decides `managedFieldsManagers`.
    pub(crate) fn remove_from(
        &self,
        object: &ObjectRef,
        side: &mut Value,
        owners_from: Option<&Value>,
    ) -> Result<(), IgnoreError> {
        for segments in &self.pointers {
            pointer::remove(side, segments);
        }
        for (expression, filter) in &self.jq {
            let mut paths =
                run_path_expression(filter, side).map_err(|message| IgnoreError::JqRun {
                    expression: expression.clone(),
                    object: object.to_string(),
                    message: if object.is_secret() {
                        "(message withheld: it may quote a Secret value)".to_owned()
                    } else {
                        message
                    },
                })?;
            // Deepest and highest indices first, so removing one path never shifts another.
            paths.sort_by(|a, b| compare_paths(b, a));
            paths.dedup();
            for path in paths {
                pointer::remove(side, &path);
            }
        }
        if let Some(owners) = owners_from {
            for manager in &self.rule.managed_fields_managers {
                let set: Option<FieldSet> =
                    fields_of(owners, manager).map_err(|source| IgnoreError::ManagedFields {
                        object: object.to_string(),
                        source,
                    })?;
                if let Some(set) = set {
                    set.remove_from(side);
                }
            }
        }
        Ok(())
    }
}

/// Compiles `path(EXPR)`, whose outputs are the paths `EXPR` denotes.
fn compile_path_expression(expression: &str) -> Result<JqFilter, String> {
    let code = format!("path({expression})");
    let defs = jaq_core::defs()
        .chain(jaq_std::defs())
        .chain(jaq_json::defs());
    let funs = jaq_core::funs()
        .chain(jaq_std::funs())
        .chain(jaq_json::funs());
    let arena = Arena::default();
    let modules = Loader::new(defs)
        .load(
            &arena,
            File {
                code: &code,
                path: (),
            },
        )
        .map_err(|errors| format!("does not parse ({} error(s))", errors.len()))?;
    jaq_core::Compiler::default()
        .with_funs(funs)
        .compile(modules)
        .map_err(|errors| {
            let names: Vec<String> = errors
                .iter()
                .flat_map(|(_, errs)| errs.iter().map(|(name, _)| (*name).to_owned()))
                .collect();
            format!("undefined: {}", names.join(", "))
        })
}

/// Runs a compiled `path(EXPR)` on `value`; each output path as pointer segments with negative
/// indices resolved against `value`.
fn run_path_expression(filter: &JqFilter, value: &Value) -> Result<Vec<Vec<String>>, String> {
    let input = Val::deserialize(value).map_err(|e| e.to_string())?;
    let ctx = Ctx::<JustLut<Val>>::new(&filter.lut, Vars::new([]));
    let mut paths = Vec::new();
    for output in filter.id.run((ctx, input)).map(unwrap_valr) {
        let output = output.map_err(|e| e.to_string())?;
        let Val::Arr(segments) = output else {
            return Err("path expression produced a non-path".to_owned());
        };
        let mut node = Some(value);
        let mut path = Vec::with_capacity(segments.len());
        for segment in segments.iter() {
            let text = match segment {
                Val::TStr(bytes) | Val::BStr(bytes) => String::from_utf8_lossy(bytes).into_owned(),
                Val::Num(num) => {
                    let index = num.as_isize().ok_or("path index is not an integer")?;
                    let len = node.and_then(Value::as_array).map_or(0, Vec::len);
                    let resolved = if index < 0 {
                        len.checked_sub(index.unsigned_abs())
                    } else {
                        Some(index.unsigned_abs())
                    };
                    match resolved {
                        Some(i) => i.to_string(),
                        // Before the start of the list: denotes nothing.
                        None => break,
                    }
                }
                _ => return Err("path segment is neither a key nor an index".to_owned()),
            };
            node = node.and_then(|n| match n {
                Value::Array(items) => text.parse::<usize>().ok().and_then(|i| items.get(i)),
                other => other.get(&text),
            });
            path.push(text);
        }
        paths.push(path);
    }
    Ok(paths)
}

/// Orders paths segment by segment, numbers numerically.
fn compare_paths(a: &[String], b: &[String]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let order = match (x.parse::<usize>(), y.parse::<usize>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => x.cmp(y),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    a.len().cmp(&b.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment() -> ObjectRef {
        ObjectRef {
            group: "apps".into(),
            kind: "Deployment".into(),
            namespace: "shop".into(),
            name: "web".into(),
        }
    }

    #[test]
    fn matches_by_group_kind_name_namespace_and_wildcards() {
        let rule = |group: &str, kind: &str, name: Option<&str>, ns: Option<&str>| IgnoreRule {
            group: group.into(),
            kind: kind.into(),
            name: name.map(Into::into),
            namespace: ns.map(Into::into),
            ..IgnoreRule::default()
        };
        let web = deployment();
        assert!(rule("apps", "Deployment", None, None).matches(&web));
        assert!(rule("*", "*", Some("web"), Some("shop")).matches(&web));
        assert!(!rule("", "Deployment", None, None).matches(&web));
        assert!(!rule("apps", "Deployment", Some("api"), None).matches(&web));
        assert!(!rule("apps", "Deployment", None, Some("other")).matches(&web));
    }

    #[test]
    fn deserialises_argo_cd_field_names() -> Result<(), serde_json::Error> {
        let rule: IgnoreRule = serde_json::from_value(json!({
            "group": "apps", "kind": "Deployment",
            "jsonPointers": ["/spec/replicas"],
            "jqPathExpressions": [".a"],
            "managedFieldsManagers": ["hpa"],
        }))?;
        assert_eq!(rule.json_pointers, ["/spec/replicas"]);
        assert_eq!(rule.jq_path_expressions, [".a"]);
        assert_eq!(rule.managed_fields_managers, ["hpa"]);
        Ok(())
    }

    #[test]
    fn jq_paths_remove_selected_items_and_negative_indices() -> Result<(), IgnoreError> {
        let rule = CompiledIgnoreRule::compile(IgnoreRule {
            group: "apps".into(),
            kind: "Deployment".into(),
            jq_path_expressions: vec![
                r#".spec.containers[] | select(.name | startswith("istio"))"#.into(),
                ".spec.list[-1]".into(),
            ],
            ..IgnoreRule::default()
        })?;
        let mut value = json!({"spec": {
            "containers": [{"name": "istio-a"}, {"name": "web"}, {"name": "istio-b"}],
            "list": [1, 2, 3],
        }});
        rule.remove_from(&deployment(), &mut value, None)?;
        assert_eq!(
            value,
            json!({"spec": {"containers": [{"name": "web"}], "list": [1, 2]}})
        );
        Ok(())
    }

    #[test]
    fn bad_rules_fail_at_compile_time_naming_the_rule() {
        let bad_jq = CompiledIgnoreRule::compile(IgnoreRule {
            group: "apps".into(),
            kind: "Deployment".into(),
            jq_path_expressions: vec![".spec | nosuchfn".into()],
            ..IgnoreRule::default()
        });
        let message = bad_jq.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.contains("apps/Deployment") && message.contains("nosuchfn"),
            "{message}"
        );
        let bad_syntax = CompiledIgnoreRule::compile(IgnoreRule {
            kind: "Pod".into(),
            jq_path_expressions: vec![".spec[".into()],
            ..IgnoreRule::default()
        });
        assert!(bad_syntax.is_err());
        let bad_pointer = CompiledIgnoreRule::compile(IgnoreRule {
            kind: "Pod".into(),
            json_pointers: vec!["spec/x".into()],
            ..IgnoreRule::default()
        });
        assert!(
            bad_pointer
                .err()
                .is_some_and(|e| e.to_string().contains("spec/x"))
        );
    }

    #[test]
    fn jq_errors_on_secrets_do_not_quote_values() -> Result<(), IgnoreError> {
        let rule = CompiledIgnoreRule::compile(IgnoreRule {
            kind: "Secret".into(),
            jq_path_expressions: vec![".data.token.x".into()],
            ..IgnoreRule::default()
        })?;
        let secret = ObjectRef {
            group: String::new(),
            kind: "Secret".into(),
            namespace: "shop".into(),
            name: "creds".into(),
        };
        let mut value = json!({"data": {"token": "c3VwZXJzZWNyZXQ="}});
        let err = rule.remove_from(&secret, &mut value, None).err();
        let message = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("creds"), "{message}");
        assert!(!message.contains("c3VwZXJzZWNyZXQ="), "{message}");
        Ok(())
    }
}
