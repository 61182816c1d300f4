//! Name references: fields that name another object follow that object's renames (prefixes,
//! suffixes, hashes, patches), as kustomize's name reference table lists them.

use crate::config::NameRefEntry;
use crate::error::Error;
use crate::fieldpath::{split_path, visit};
use crate::fieldspecs::{POD_SPEC_AT, is_namespaced};
use crate::resource::Resource;
use crate::resource::ns_eq;
use serde_json::Value;

/// Pod spec fields naming a ConfigMap.
const POD_CONFIGMAP: &[&str] = &[
    "volumes/configMap/name",
    "containers/env/valueFrom/configMapKeyRef/name",
    "initContainers/env/valueFrom/configMapKeyRef/name",
    "containers/envFrom/configMapRef/name",
    "initContainers/envFrom/configMapRef/name",
    "volumes/projected/sources/configMap/name",
];

/// Pod spec fields naming a Secret.
const POD_SECRET: &[&str] = &[
    "volumes/secret/secretName",
    "containers/env/valueFrom/secretKeyRef/name",
    "initContainers/env/valueFrom/secretKeyRef/name",
    "containers/envFrom/secretRef/name",
    "initContainers/envFrom/secretRef/name",
    "imagePullSecrets/name",
    "volumes/projected/sources/secret/name",
];

/// Referring fields outside pod specs: `target kind|referrer kind|path`.
const OTHER_REFS: &str = "\
Deployment|HorizontalPodAutoscaler|spec/scaleTargetRef/name
ReplicationController|HorizontalPodAutoscaler|spec/scaleTargetRef/name
ReplicaSet|HorizontalPodAutoscaler|spec/scaleTargetRef/name
StatefulSet|HorizontalPodAutoscaler|spec/scaleTargetRef/name
ConfigMap|Node|spec/configSource/configMap
ConfigMap|Role|rules/resourceNames
ConfigMap|ClusterRole|rules/resourceNames
ConfigMap|Ingress|metadata/annotations/nginx.ingress.kubernetes.io\\/fastcgi-params-configmap
Secret|Ingress|spec/tls/secretName
Secret|Ingress|metadata/annotations/ingress.kubernetes.io\\/auth-secret
Secret|Ingress|metadata/annotations/nginx.ingress.kubernetes.io\\/auth-secret
Secret|Ingress|metadata/annotations/nginx.ingress.kubernetes.io\\/auth-tls-secret
Secret|ServiceAccount|imagePullSecrets/name
Secret|StorageClass|parameters/secretName
Secret|StorageClass|parameters/adminSecretName
Secret|StorageClass|parameters/userSecretName
Secret|StorageClass|parameters/secretRef
Secret|Role|rules/resourceNames
Secret|ClusterRole|rules/resourceNames
Secret|PersistentVolume|spec/azureFile/secretName
Service|StatefulSet|spec/serviceName
Service|Ingress|spec/rules/http/paths/backend/serviceName
Service|Ingress|spec/backend/serviceName
Service|Ingress|spec/rules/http/paths/backend/service/name
Service|Ingress|spec/defaultBackend/service/name
Service|APIService|spec/service/name
Service|ValidatingWebhookConfiguration|webhooks/clientConfig/service
Service|MutatingWebhookConfiguration|webhooks/clientConfig/service
Service|HTTPRoute|spec/rules/backendRefs/name
Role|RoleBinding|roleRef/name
ClusterRole|RoleBinding|roleRef/name
ClusterRole|ClusterRoleBinding|roleRef/name
ServiceAccount|RoleBinding|subjects
ServiceAccount|ClusterRoleBinding|subjects
PersistentVolume|PersistentVolumeClaim|spec/volumeName
PersistentVolume|ClusterRole|rules/resourceNames
StorageClass|PersistentVolume|spec/storageClassName
StorageClass|PersistentVolumeClaim|spec/storageClassName
StorageClass|StatefulSet|spec/volumeClaimTemplates/spec/storageClassName
IngressClass|Ingress|spec/ingressClassName
ValidatingAdmissionPolicy|ValidatingAdmissionPolicyBinding|spec/policyName
";

/// One referring field: the target kind, the referrer kind, the path.
#[derive(Debug, Clone)]
struct Ref {
    target: String,
    referrer: String,
    path: Vec<String>,
}

fn table() -> Vec<Ref> {
    let mut out = Vec::new();
    for (kind, at) in POD_SPEC_AT {
        for (target, fields) in [("ConfigMap", POD_CONFIGMAP), ("Secret", POD_SECRET)] {
            for f in fields {
                out.push(Ref {
                    target: target.into(),
                    referrer: (*kind).into(),
                    path: split_path(&format!("{at}/{f}")),
                });
            }
        }
        if *kind != "ReplicaSet" && *kind != "PodTemplate" {
            for (target, f) in [
                ("ServiceAccount", "serviceAccountName"),
                (
                    "PersistentVolumeClaim",
                    "volumes/persistentVolumeClaim/claimName",
                ),
                ("PriorityClass", "priorityClassName"),
            ] {
                out.push(Ref {
                    target: target.into(),
                    referrer: (*kind).into(),
                    path: split_path(&format!("{at}/{f}")),
                });
            }
        }
    }
    for line in OTHER_REFS.lines() {
        let mut p = line.splitn(3, '|');
        if let (Some(t), Some(r), Some(path)) = (p.next(), p.next(), p.next()) {
            out.push(Ref {
                target: t.into(),
                referrer: r.into(),
                path: split_path(path),
            });
        }
    }
    out
}

/// A snapshot of a possible target: its kind, names over time, namespace, affixes.
struct Candidate {
    kind: String,
    names: Vec<String>,
    namespaces: Vec<String>,
    name: String,
    namespace: String,
    affixes: Vec<(String, String)>,
    display: String,
}

/// Rewrites references to renamed objects.
pub fn fix(res: &mut [Resource], extra: &[NameRefEntry]) -> Result<(), Error> {
    let mut refs = table();
    for e in extra {
        for f in &e.field_specs {
            refs.push(Ref {
                target: e.kind.clone(),
                referrer: f.kind.clone().unwrap_or_default(),
                path: split_path(&f.path),
            });
        }
    }
    let cands: Vec<Candidate> = res
        .iter()
        .map(|r| Candidate {
            kind: r.kind().to_string(),
            names: r.history.iter().map(|(n, _, _)| n.clone()).collect(),
            namespaces: r.history.iter().map(|(_, ns, _)| ns.clone()).collect(),
            name: r.name().to_string(),
            namespace: r.namespace().to_string(),
            affixes: r.affixes.clone(),
            display: r.id().to_string(),
        })
        .collect();
    for r in res.iter_mut() {
        let kind = r.kind().to_string();
        let r_ns = r.namespace().to_string();
        let r_affixes = r.affixes.clone();
        let mut err: Option<Error> = None;
        for rf in refs
            .iter()
            .filter(|rf| rf.referrer == kind || rf.referrer.is_empty())
        {
            let targets: Vec<(usize, &Candidate)> = cands
                .iter()
                .enumerate()
                .filter(|(_, c)| c.kind == rf.target)
                .collect();
            if targets.is_empty() {
                continue;
            }
            // A role reference names a Role or a ClusterRole, as its `kind` says.
            if rf.path.first().map(String::as_str) == Some("roleRef") {
                let ref_kind = r
                    .obj
                    .get("roleRef")
                    .and_then(|x| x.get("kind"))
                    .and_then(Value::as_str);
                if ref_kind != Some(rf.target.as_str()) {
                    continue;
                }
            }
            let ctx = Ctx {
                targets: &targets,
                r_ns: &r_ns,
                cluster_scoped_referrer: !is_namespaced(&kind),
                r_affixes: &r_affixes,
            };
            let mut obj = Value::Object(std::mem::take(&mut r.obj));
            visit(&mut obj, &rf.path, false, &mut |v| {
                if let Err(e) = ctx.update(v, &rf.target) {
                    err.get_or_insert(e);
                }
            });
            if let Value::Object(m) = obj {
                r.obj = m;
            }
        }
        if let Some(e) = err {
            return Err(e);
        }
    }
    Ok(())
}

struct Ctx<'a> {
    targets: &'a [(usize, &'a Candidate)],
    r_ns: &'a str,
    cluster_scoped_referrer: bool,
    r_affixes: &'a [(String, String)],
}

impl Ctx<'_> {
    fn update(&self, v: &mut Value, target: &str) -> Result<(), Error> {
        match v {
            Value::String(s) => {
                if let Some(c) = self.pick(s, None, target, false)? {
                    *s = c.name.clone();
                }
            }
            Value::Array(items) => {
                for item in items.iter_mut() {
                    if item.is_object()
                        && target == "ServiceAccount"
                        && item.get("kind").and_then(Value::as_str) != Some("ServiceAccount")
                    {
                        continue;
                    }
                    self.update(item, target)?;
                }
            }
            Value::Object(m) => {
                let Some(name) = m.get("name").and_then(Value::as_str).map(str::to_string) else {
                    return Ok(());
                };
                let ns = m
                    .get("namespace")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let blank = m
                    .get("namespace")
                    .is_some_and(|n| n.is_null() || n.as_str() == Some(""));
                if blank
                    && self
                        .targets
                        .iter()
                        .any(|(_, c)| c.name == name || c.names.contains(&name))
                {
                    return Err(Error::msg(format!(
                        "Invalid Input: namespace is blank for resource {target} {name:?}"
                    )));
                }
                if let Some(c) = self.pick(&name, ns.as_deref(), target, true)? {
                    m.insert("name".into(), Value::String(c.name.clone()));
                    // kustomize sets the referral's namespace whenever it has one, whether the
                    // reference named a namespace or not.
                    if !c.namespace.is_empty() {
                        m.insert("namespace".into(), Value::String(c.namespace.clone()));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn pick(
        &self,
        name: &str,
        ns: Option<&str>,
        target: &str,
        with_namespace: bool,
    ) -> Result<Option<&Candidate>, Error> {
        let mut found: Vec<&Candidate> = self
            .targets
            .iter()
            .map(|(_, c)| *c)
            // Only objects with previous ids are candidates, as in kustomize: a reference to an
            // object no transformer touched stays as it is.
            .filter(|c| c.names.iter().any(|n| n == name))
            .collect();
        if found.is_empty() {
            return Ok(None);
        }
        if !is_namespaced(target) {
            // Cluster-wide targets match whatever the referrer's namespace.
        } else if let Some(ns) = ns {
            found.retain(|c| ns_eq(&c.namespace, ns) || c.namespaces.iter().any(|n| ns_eq(n, ns)));
        } else {
            if !self.cluster_scoped_referrer {
                found.retain(|c| ns_eq(&c.namespace, self.r_ns));
            }
        }
        // kustomize's sieve: one candidate left is the referral; otherwise those whose prefixes
        // and suffixes end like the referrer's (an empty list agreeing with any), then, if still
        // several, those that agree exactly (an empty list only with an empty one).
        if found.len() > 1 {
            found.retain(|c| affixes_agree(&c.affixes, self.r_affixes, true));
            if found.len() > 1 {
                found.retain(|c| affixes_agree(&c.affixes, self.r_affixes, false));
            }
        }
        match found.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one)),
            [first, rest @ ..] => {
                if rest.iter().all(|c| {
                    c.name == first.name && (!with_namespace || c.namespace == first.namespace)
                }) {
                    Ok(Some(first))
                } else {
                    let ids: Vec<&str> = found.iter().map(|c| c.display.as_str()).collect();
                    Err(Error::msg(format!(
                        "found multiple possible referrals: {}",
                        ids.join(", ")
                    )))
                }
            }
        }
    }
}

/// kustomize's `PrefixesSuffixesEquals`: the prefixes of `a` and `b` end the same way (one list
/// is the end of the other), and so do the suffixes; with `allow_empty`, an empty list agrees
/// with any.
fn affixes_agree(a: &[(String, String)], b: &[(String, String)], allow_empty: bool) -> bool {
    let part = |l: &[(String, String)], first: bool| -> Vec<String> {
        l.iter()
            .map(|(p, s)| if first { p.clone() } else { s.clone() })
            .filter(|x| !x.is_empty())
            .collect()
    };
    let agree = |x: Vec<String>, y: Vec<String>| {
        (allow_empty && (x.is_empty() || y.is_empty())) || same_ending(&x, &y)
    };
    agree(part(a, true), part(b, true)) && agree(part(a, false), part(b, false))
}

/// Whether the shorter list is the end of the longer (two empty lists agree, an empty one with
/// no other).
fn same_ending(x: &[String], y: &[String]) -> bool {
    let (short, long) = if x.len() <= y.len() { (x, y) } else { (y, x) };
    if short.is_empty() {
        return long.is_empty();
    }
    long.ends_with(short)
}
