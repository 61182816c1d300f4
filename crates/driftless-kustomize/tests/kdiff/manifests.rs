//! Generated manifests of many kinds.

use super::rng::Rng;
use super::strings::{base64_text, odd, word};
use super::yaml::raw;
use serde_json::{Value, json};

/// A manifest and what the kustomizations above it may refer to.
#[derive(Clone)]
pub struct Manifest {
    pub kind: &'static str,
    pub name: String,
    pub value: Value,
}

const KINDS: &[&str] = &[
    "Deployment",
    "Deployment",
    "Service",
    "ConfigMap",
    "ConfigMap",
    "Secret",
    "Secret",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ClusterRole",
    "ClusterRoleBinding",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "CustomResourceDefinition",
    "Widget",
    "Widget",
    "Gadget",
    "StatefulSet",
    "CronJob",
    "Namespace",
    "Ingress",
];

/// Images the manifests use, which `images` entries rewrite.
pub const IMAGES: &[&str] = &[
    "nginx",
    "nginx:1.21",
    "busybox:latest",
    "registry.example.com/team/app:v1.2.3",
    "ghcr.io/org/tool@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "localhost:5000/local/img",
];

/// A manifest of a random kind named after `stem`.
pub fn manifest(rng: &mut Rng, stem: &str, refs: &[String]) -> Manifest {
    let kind = *rng.pick(KINDS);
    let name = format!("{}-{stem}", kind.to_ascii_lowercase());
    let value = match kind {
        "Deployment" | "StatefulSet" => workload(rng, kind, &name, refs),
        "CronJob" => cronjob(rng, &name),
        "Service" => service(rng, &name),
        "ConfigMap" => configmap(rng, &name),
        "Secret" => secret(rng, &name),
        "ServiceAccount" => {
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(rng, &name)})
        }
        "Role" | "ClusterRole" => role(rng, kind, &name),
        "RoleBinding" | "ClusterRoleBinding" => binding(rng, kind, &name, stem),
        "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration" => {
            webhook(rng, kind, &name, stem)
        }
        "CustomResourceDefinition" => crd(rng),
        "Namespace" => {
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": format!("ns-{stem}")}})
        }
        "Ingress" => ingress(rng, &name, stem),
        _ => custom(rng, kind, &name),
    };
    let name = value["metadata"]["name"]
        .as_str()
        .unwrap_or(&name)
        .to_string();
    Manifest { kind, name, value }
}

fn meta(rng: &mut Rng, name: &str) -> Value {
    let mut m = json!({"name": name});
    if rng.chance(40) {
        m["labels"] = json!({"app": name, "tier": word(rng)});
    }
    if rng.chance(40) {
        m["annotations"] = json!({"note": odd(rng)});
    }
    if rng.chance(5) {
        m["annotations"] = json!({});
    }
    if rng.chance(20) {
        m["namespace"] = json!(*rng.pick(&["system", "default", "team-a"]));
    }
    m
}

fn container(rng: &mut Rng, name: &str, refs: &[String]) -> Value {
    let mut c = json!({"name": name, "image": *rng.pick(IMAGES)});
    if rng.chance(40) {
        c["args"] = json!([odd(rng), odd(rng)]);
    }
    if rng.chance(30) {
        c["command"] = json!(["/bin/sh", "-c", odd(rng)]);
    }
    let mut env = vec![json!({"name": "PLAIN", "value": odd(rng)})];
    if let Some(r) = refs.first()
        && rng.chance(50)
    {
        env.push(
            json!({"name": "FROM_CM", "valueFrom": {"configMapKeyRef": {"name": r, "key": "k"}}}),
        );
    }
    if rng.chance(20) {
        env.push(json!({"name": "NUM", "value": *rng.pick(&["8080", "1.5", "true", "0"])}));
    }
    c["env"] = Value::Array(env);
    if rng.chance(50) {
        c["ports"] =
            json!([{"containerPort": raw(rng.pick(&["80", "8080", "0x50"])), "name": "http"}]);
    }
    if rng.chance(20) {
        c["resources"] = json!({"limits": {"cpu": raw(rng.pick(&["1", "0.5", "100m", "\"2\""])), "memory": "128Mi"}});
    }
    c
}

fn workload(rng: &mut Rng, kind: &str, name: &str, refs: &[String]) -> Value {
    let mut containers = vec![container(rng, "main", refs)];
    if rng.chance(30) {
        containers.push(container(rng, "sidecar", refs));
    }
    let mut pod = json!({"containers": containers});
    if rng.chance(30) {
        pod["initContainers"] = json!([container(rng, "init", refs)]);
    }
    if rng.chance(40) {
        pod["serviceAccountName"] = json!(format!("serviceaccount-{}", word(rng)));
    }
    if !refs.is_empty() && rng.chance(60) {
        let mut vols = Vec::new();
        for (i, r) in refs.iter().enumerate() {
            if r.starts_with("secret") {
                vols.push(json!({"name": format!("v{i}"), "secret": {"secretName": r}}));
            } else {
                vols.push(json!({"name": format!("v{i}"), "configMap": {"name": r}}));
            }
        }
        pod["volumes"] = Value::Array(vols);
    }
    if rng.chance(15) {
        pod["affinity"] = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}]}]}}});
    }
    let mut spec = json!({
        "selector": {"matchLabels": {"app": name}},
        "template": {"metadata": {"labels": {"app": name}}, "spec": pod},
    });
    if rng.chance(70) {
        spec["replicas"] = json!(rng.range(0, 5));
    }
    if kind == "StatefulSet" {
        spec["serviceName"] = json!(format!("service-{name}"));
        if rng.chance(50) {
            spec["volumeClaimTemplates"] = json!([{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]);
        }
    }
    json!({"apiVersion": "apps/v1", "kind": kind, "metadata": meta(rng, name), "spec": spec})
}

fn cronjob(rng: &mut Rng, name: &str) -> Value {
    json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta(rng, name), "spec": {
        "schedule": *rng.pick(&["*/5 * * * *", "0 0 * * *", "@hourly"]),
        "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [container(rng, "job", &[])]}}}}
    }})
}

fn service(rng: &mut Rng, name: &str) -> Value {
    let mut spec = json!({"selector": {"app": format!("deployment-{}", word(rng))}, "ports": [{"port": 80, "targetPort": raw(rng.pick(&["8080", "http", "\"8080\""])), "protocol": "TCP"}]});
    if rng.chance(30) {
        spec["type"] = json!(*rng.pick(&["ClusterIP", "NodePort", "LoadBalancer"]));
    }
    if rng.chance(20)
        && let Some(p) = spec["ports"].as_array_mut()
    {
        p.push(json!({"name": "metrics", "port": 9090}));
    }
    json!({"apiVersion": "v1", "kind": "Service", "metadata": meta(rng, name), "spec": spec})
}

fn configmap(rng: &mut Rng, name: &str) -> Value {
    let mut data = serde_json::Map::new();
    data.insert("k".into(), json!(odd(rng)));
    for i in 0..rng.range(0, 4) {
        let key = rng.pick(&[
            "config.yaml",
            "a.b",
            "A_B",
            "x-y",
            "app.properties",
            "1",
            "key",
        ]);
        data.insert(format!("{key}{i}"), json!(odd(rng)));
    }
    let mut v =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(rng, name), "data": data});
    if rng.chance(20) {
        v["binaryData"] = json!({"blob": base64_text(rng, 500)});
    }
    if rng.chance(5) {
        v["data"] = json!({});
    }
    if rng.chance(5) {
        v["immutable"] = json!(true);
    }
    v
}

fn secret(rng: &mut Rng, name: &str) -> Value {
    let mut v = json!({"apiVersion": "v1", "kind": "Secret", "metadata": meta(rng, name)});
    match rng.below(5) {
        0 => v["data"] = json!({}),
        1 => v["stringData"] = json!({"password": odd(rng)}),
        2 => {}
        _ => {
            let mut data = serde_json::Map::new();
            for i in 0..rng.range(1, 3) {
                data.insert(format!("key{i}"), json!(base64_text(rng, 900)));
            }
            if rng.chance(30) {
                data.insert("empty".into(), json!(""));
            }
            v["data"] = Value::Object(data);
        }
    }
    if rng.chance(40) {
        v["type"] = json!(*rng.pick(&[
            "Opaque",
            "kubernetes.io/tls",
            "kubernetes.io/dockerconfigjson"
        ]));
    }
    v
}

fn role(rng: &mut Rng, kind: &str, name: &str) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": meta(rng, name), "rules": [
        {"apiGroups": [""], "resources": ["configmaps", "secrets"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["*"]}
    ]})
}

fn binding(rng: &mut Rng, kind: &str, name: &str, stem: &str) -> Value {
    let role_kind = if kind == "RoleBinding" && rng.chance(50) {
        "Role"
    } else {
        "ClusterRole"
    };
    let mut subject = json!({"kind": "ServiceAccount", "name": format!("serviceaccount-{stem}")});
    match rng.below(3) {
        0 => subject["namespace"] = json!("system"),
        1 => subject["namespace"] = json!("default"),
        _ => {}
    }
    let mut subjects = vec![subject];
    if rng.chance(30) {
        subjects.push(json!({"kind": "User", "name": "jane@example.com", "apiGroup": "rbac.authorization.k8s.io"}));
    }
    if rng.chance(20) {
        subjects.push(json!({"kind": "Group", "name": "system:masters", "apiGroup": "rbac.authorization.k8s.io"}));
    }
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": meta(rng, name),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": format!("{}-{stem}", role_kind.to_ascii_lowercase())},
        "subjects": subjects})
}

fn webhook(rng: &mut Rng, kind: &str, name: &str, stem: &str) -> Value {
    let mut svc = json!({"name": format!("service-{stem}"), "path": "/validate"});
    if rng.chance(70) {
        svc["namespace"] = json!(*rng.pick(&["system", "default"]));
    }
    let mut hook = json!({"name": format!("{stem}.example.com"), "clientConfig": {"service": svc},
        "admissionReviewVersions": ["v1"], "sideEffects": "None",
        "rules": [{"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["deployments"]}]});
    if rng.chance(50) {
        hook["clientConfig"]["caBundle"] = json!(base64_text(rng, 1200));
    }
    json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind, "metadata": meta(rng, name), "webhooks": [hook]})
}

fn crd(rng: &mut Rng) -> Value {
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "names": {"kind": "Widget", "plural": "widgets", "singular": "widget"},
            "scope": "Namespaced",
            "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {
                "type": "object", "description": odd(rng),
                "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}}]}})
}

fn ingress(rng: &mut Rng, name: &str, stem: &str) -> Value {
    json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta(rng, name), "spec": {
        "rules": [{"host": "app.example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": format!("service-{stem}"), "port": {"number": 80}}}}]}}],
        "tls": [{"hosts": ["app.example.com"], "secretName": format!("secret-{stem}")}]}})
}

fn custom(rng: &mut Rng, kind: &str, name: &str) -> Value {
    let api = if kind == "Widget" {
        *rng.pick(&["example.com/v1", "example.com/v1beta1"])
    } else {
        *rng.pick(&["gadgets.unknown.io/v1alpha1", "toys.example.org/v2"])
    };
    let mut spec = json!({
        "text": odd(rng),
        "list": [odd(rng), raw(rng.pick(&["1", "-2", "3.25", "1e3", "0o17", "0x1f", "true", "null", "~", "1_000"])), {"k": odd(rng)}],
        "nested": {"deep": {"deeper": [[odd(rng)], []], "empty": {}}},
        "number": raw(rng.pick(&["1.0", "1.5", "100", "-0", "12e2", "0.000001", "123456789012345678", "1.2345678901234567e20"])),
        "flag": rng.chance(50),
    });
    if rng.chance(20) {
        spec["image"] = json!(*rng.pick(IMAGES));
    }
    if rng.chance(20) {
        spec["replicas"] = json!(2);
    }
    json!({"apiVersion": api, "kind": kind, "metadata": meta(rng, name), "spec": spec})
}
