//! The planner, from YAML fixtures: pure, no cluster.
#![allow(clippy::expect_used, clippy::unwrap_used)] // fixtures: a panic is the test failure

use std::collections::BTreeMap;

use driftless_resource::{ResourceKey, parse_manifests};
use driftless_sync::{
    Desired, HookPhase, Permit, Plan, PlanError, SyncOptions, plan, resolve_namespaces, restrict,
    stamp,
};
use serde_json::Value;

/// Scopes of the kinds the fixtures use, as discovery would report them.
fn namespaced(group: &str, kind: &str) -> Option<bool> {
    match (group, kind) {
        ("", "Namespace") | ("apiextensions.k8s.io", "CustomResourceDefinition") => Some(false),
        ("", "ConfigMap" | "Secret" | "Service" | "Pod")
        | ("apps", "Deployment")
        | ("batch", "Job") => Some(true),
        _ => None,
    }
}

fn desired(yaml: &str) -> Vec<Desired> {
    let manifests = parse_manifests("app.yaml", yaml.as_bytes()).expect("fixture parses");
    resolve_namespaces(manifests, "shop", namespaced).expect("fixture resolves")
}

/// A live object owned by `app`, built from YAML.
fn live_owned(app: &str, yaml: &str) -> (ResourceKey, Value) {
    let mut d = desired(yaml).remove(0);
    stamp(&mut d.object, app, &d.key);
    (d.key, d.object)
}

fn names(plan: &Plan) -> Vec<(i32, String)> {
    plan.waves
        .iter()
        .flat_map(|w| w.apply.iter().map(move |t| (w.number, t.key.name.clone())))
        .collect()
}

const MIXED: &str = "
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: config}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: late
  annotations: {driftless.dev/sync-wave: '5'}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: early
  annotations: {driftless.dev/sync-wave: '-1'}
";

#[test]
fn waves_ascend_and_kinds_follow_dependency_order_within_a_wave() {
    let plan = plan(
        "app",
        desired(MIXED),
        &BTreeMap::new(),
        &[],
        &SyncOptions::default(),
    )
    .unwrap();
    assert_eq!(
        names(&plan),
        [
            (-1, "early".to_owned()),
            (0, "shop".to_owned()),
            (0, "config".to_owned()),
            (0, "web".to_owned()),
            (5, "late".to_owned()),
        ]
    );
}

#[test]
fn namespaces_are_defaulted_cleared_or_taken_from_a_crd_in_the_same_set() {
    let set = desired(
        "
apiVersion: v1
kind: ConfigMap
metadata: {name: a}
---
apiVersion: v1
kind: Namespace
metadata: {name: other, namespace: stray}
---
apiVersion: example.dev/v1
kind: Widget
metadata: {name: w}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.dev}
spec: {group: example.dev, scope: Namespaced, names: {kind: Widget, plural: widgets}}
",
    );
    let by_name: BTreeMap<&str, &Desired> = set.iter().map(|d| (d.key.name.as_str(), d)).collect();
    assert_eq!(by_name["a"].key.namespace, "shop");
    assert_eq!(by_name["a"].object["metadata"]["namespace"], "shop");
    assert_eq!(by_name["other"].key.namespace, "");
    assert!(
        by_name["other"].object["metadata"]
            .get("namespace")
            .is_none()
    );
    assert_eq!(by_name["w"].key.namespace, "shop");
}

#[test]
fn an_unknown_kind_names_the_file_and_the_object() {
    let manifests = parse_manifests(
        "apps/gadget.yaml",
        b"apiVersion: example.dev/v1\nkind: Gadget\nmetadata: {name: g}\n",
    )
    .unwrap();
    let err = resolve_namespaces(manifests, "shop", namespaced).unwrap_err();
    assert!(matches!(err, PlanError::UnknownKind { .. }));
    let text = err.to_string();
    assert!(text.starts_with("apps/gadget.yaml:1"), "{text}");
    assert!(
        text.contains("no kind Gadget in group \"example.dev\""),
        "{text}"
    );
}

#[test]
fn a_bad_wave_annotation_names_the_file() {
    let set = desired(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations: {driftless.dev/sync-wave: first}\n",
    );
    let err = plan("app", set, &BTreeMap::new(), &[], &SyncOptions::default()).unwrap_err();
    assert!(err.to_string().starts_with("app.yaml:1"), "{err}");
}

#[test]
fn hooks_are_split_out_by_phase_and_stamped() {
    let set = desired(
        "
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations: {driftless.dev/hook: PreSync, driftless.dev/hook-delete-policy: HookSucceeded}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: config}
",
    );
    let plan = plan("app", set, &BTreeMap::new(), &[], &SyncOptions::default()).unwrap();
    assert_eq!(names(&plan), [(0, "config".to_owned())]);
    let pre = &plan.hooks[&HookPhase::PreSync];
    assert_eq!(pre.len(), 1);
    assert!(pre[0].policy.on_success && !pre[0].policy.before_creation);
    assert_eq!(
        pre[0].object["metadata"]["labels"]["driftless.dev/app"],
        "app"
    );
}

#[test]
fn prune_takes_only_what_this_app_owns_and_git_dropped() {
    let owned = vec![
        live_owned(
            "app",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config}\n",
        ),
        live_owned(
            "app",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dropped}\n",
        ),
        live_owned(
            "app",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: keep\n  annotations: {driftless.dev/sync-options: Prune=false}\n",
        ),
        live_owned(
            "other",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: theirs}\n",
        ),
        live_owned(
            "app",
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: old-hook\n  annotations: {driftless.dev/hook: PostSync}\n",
        ),
    ];
    let set = desired("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config}\n");
    let live: BTreeMap<ResourceKey, Value> = owned.iter().cloned().collect();
    let options = SyncOptions::parse(&["Prune=true"]).unwrap();
    let plan = plan("app", set.clone(), &live, &owned, &options).unwrap();
    let pruned: Vec<&str> = plan
        .waves
        .iter()
        .flat_map(|w| &w.prune)
        .map(|p| p.key.name.as_str())
        .collect();
    assert_eq!(pruned, ["dropped"]);
    let untouched: BTreeMap<&str, (bool, &str)> = plan
        .untouched
        .iter()
        .map(|u| (u.key.name.as_str(), (u.conflict, u.reason.as_str())))
        .collect();
    assert_eq!(untouched.len(), 2, "{untouched:?}");
    assert!(!untouched["keep"].0 && untouched["keep"].1.contains("Prune=false"));
    assert!(untouched["theirs"].0 && untouched["theirs"].1.contains("\"other\""));
    // The desired object this app owns is an update, with its live state attached.
    assert!(plan.waves[0].apply[0].live.is_some());

    let last = SyncOptions::parse(&["Prune=true", "PruneLast=true"]).unwrap();
    let plan_last = driftless_sync::plan("app", set.clone(), &live, &owned, &last).unwrap();
    assert_eq!(plan_last.prune_count(), 1);
    assert!(plan_last.waves.iter().all(|w| w.prune.is_empty()));
    assert_eq!(plan_last.prune_last[0].key.name, "dropped");

    let disabled =
        driftless_sync::plan("app", set, &live, &owned, &SyncOptions::default()).unwrap();
    assert_eq!(disabled.prune_count(), 0);
    assert!(
        disabled
            .untouched
            .iter()
            .any(|u| u.key.name == "dropped" && !u.conflict)
    );
}

#[test]
fn a_desired_object_owned_by_another_app_is_a_conflict_not_an_apply() {
    let theirs = live_owned(
        "other",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config}\n",
    );
    let live: BTreeMap<ResourceKey, Value> = [theirs].into_iter().collect();
    let set = desired("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config}\n");
    let plan = plan("app", set, &live, &[], &SyncOptions::default()).unwrap();
    assert_eq!(plan.apply_count(), 0);
    assert!(plan.untouched[0].conflict && plan.untouched[0].reason.contains("\"other\""));
}

#[test]
fn labelled_objects_without_a_tracking_id_are_not_ours_and_not_reported() {
    // The endpoints controllers copy a Service's labels onto its Endpoints.
    let mut endpoints =
        desired("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n").remove(0);
    endpoints.object["metadata"]["labels"] = serde_json::json!({"driftless.dev/app": "app"});
    let owned = vec![(endpoints.key.clone(), endpoints.object)];
    let options = SyncOptions::parse(&["Prune=true"]).unwrap();
    let plan = plan("app", vec![], &BTreeMap::new(), &owned, &options).unwrap();
    assert_eq!(plan.prune_count(), 0);
    assert!(plan.untouched.is_empty(), "{:?}", plan.untouched);
}

#[test]
fn a_permit_denies_desired_objects_and_keeps_forbidden_ones_from_prune() {
    let owned = vec![
        live_owned(
            "app",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: gone, namespace: other}\n",
        ),
        live_owned(
            "app",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: old}\n",
        ),
    ];
    let options = SyncOptions {
        prune: true,
        ..SyncOptions::default()
    };
    let mut plan = plan("app", desired(MIXED), &BTreeMap::new(), &owned, &options).unwrap();
    let only_shop = Permit::new(|key: &ResourceKey| {
        if key.namespace == "shop" {
            Ok(())
        } else {
            Err(format!(
                "namespace {:?} is not a destination",
                key.namespace
            ))
        }
    });
    restrict(&mut plan, &only_shop);
    // The Namespace (cluster-scoped) is denied; namespaced objects of `shop` are not.
    let denied: Vec<&str> = plan.denied.iter().map(|d| d.key.name.as_str()).collect();
    assert_eq!(denied, ["shop"]);
    // `old` (in shop) is pruned; `gone` (elsewhere) is kept, saying why.
    let pruned: Vec<&str> = plan
        .waves
        .iter()
        .flat_map(|w| &w.prune)
        .map(|t| t.key.name.as_str())
        .collect();
    assert_eq!(pruned, ["old"]);
    let kept = plan
        .untouched
        .iter()
        .find(|u| u.key.name == "gone")
        .expect("gone is listed");
    assert!(kept.reason.contains("not pruned") && kept.reason.contains("other"));
    // The default permit changes nothing.
    let mut open =
        driftless_sync::plan("app", desired(MIXED), &BTreeMap::new(), &owned, &options).unwrap();
    restrict(&mut open, &Permit::default());
    assert!(open.denied.is_empty() && open.prune_count() == 2);
}
