//! Fixture table: objects recorded from a real API server (`kubectl apply --server-side
//! --field-manager=driftless`, `kubectl patch --field-manager=...`, server-side dry-runs; see
//! `tests/fixtures/README.md`), each case with its expected action and changed paths, and its
//! unified diff as an insta snapshot.

use std::path::Path;

use driftless_diff::{Action, DiffOptions, IgnoreRule, ObjectDiff, diff_object, other_managers};
use serde_json::Value;

type TestResult = Result<(), Box<dyn std::error::Error>>;

struct Case {
    /// Snapshot name and what the case shows.
    name: &'static str,
    /// Fixture file for the desired side (a Git manifest or a dry-run result), if any.
    desired: Option<&'static str>,
    /// Fixture file for the live side, if any.
    live: Option<&'static str>,
    /// `ignoreDifferences` rules, as YAML.
    ignore: &'static str,
    action: Action,
    changed_paths: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        name: "deployment_manifest_vs_applied_is_in_sync_despite_defaults",
        desired: Some("deployment/manifest.yaml"),
        live: Some("deployment/live-applied.yaml"),
        ignore: "[]",
        action: Action::Unchanged,
        changed_paths: &[],
    },
    Case {
        name: "deployment_dry_run_vs_applied_is_in_sync",
        desired: Some("deployment/dry-run-in-sync.yaml"),
        live: Some("deployment/live-applied.yaml"),
        ignore: "[]",
        action: Action::Unchanged,
        changed_paths: &[],
    },
    Case {
        name: "deployment_image_edited_by_another_manager_is_drift",
        desired: Some("deployment/manifest.yaml"),
        live: Some("deployment/live-edited.yaml"),
        ignore: "[]",
        action: Action::Update,
        changed_paths: &["/spec/template/spec/containers/0/image"],
    },
    Case {
        name: "deployment_dry_run_confirms_the_edit",
        desired: Some("deployment/dry-run-after-edit.yaml"),
        live: Some("deployment/live-edited.yaml"),
        ignore: "[]",
        action: Action::Update,
        changed_paths: &["/spec/template/spec/containers/0/image"],
    },
    Case {
        name: "deployment_edit_behind_an_injected_container_names_live_index",
        desired: Some("deployment/manifest.yaml"),
        live: Some("deployment/live-injected-and-edited.yaml"),
        ignore: "[]",
        action: Action::Update,
        changed_paths: &["/spec/template/spec/containers/1/image"],
    },
    Case {
        name: "deployment_image_edit_ignored_by_jq",
        desired: Some("deployment/manifest.yaml"),
        live: Some("deployment/live-edited.yaml"),
        ignore: r#"[{group: apps, kind: Deployment, jqPathExpressions: ['.spec.template.spec.containers[] | select(.name == "web") | .image']}]"#,
        action: Action::Unchanged,
        changed_paths: &[],
    },
    Case {
        name: "deployment_scaled_by_autoscaler_is_drift",
        desired: Some("deployment/manifest.yaml"),
        live: Some("deployment/live-scaled.yaml"),
        ignore: "[]",
        action: Action::Update,
        changed_paths: &["/spec/replicas"],
    },
    Case {
        name: "deployment_scaled_ignored_by_manager",
        desired: Some("deployment/manifest.yaml"),
        live: Some("deployment/live-scaled.yaml"),
        ignore: "[{group: apps, kind: Deployment, managedFieldsManagers: [autoscaler]}]",
        action: Action::Unchanged,
        changed_paths: &[],
    },
    Case {
        name: "deployment_scaled_ignored_by_json_pointer",
        desired: Some("deployment/manifest.yaml"),
        live: Some("deployment/live-scaled.yaml"),
        ignore: "[{group: apps, kind: Deployment, name: web, namespace: fx, jsonPointers: [/spec/replicas]}]",
        action: Action::Unchanged,
        changed_paths: &[],
    },
    Case {
        name: "deployment_rule_for_another_name_does_not_apply",
        desired: Some("deployment/manifest.yaml"),
        live: Some("deployment/live-scaled.yaml"),
        ignore: "[{group: apps, kind: Deployment, name: api, jsonPointers: [/spec/replicas]}]",
        action: Action::Update,
        changed_paths: &["/spec/replicas"],
    },
    Case {
        name: "deployment_label_removed_from_git_shows_as_removal",
        desired: Some("deployment/manifest-without-tier.yaml"),
        live: Some("deployment/live-applied.yaml"),
        ignore: "[]",
        action: Action::Update,
        changed_paths: &["/metadata/labels/tier"],
    },
    Case {
        name: "quantities_spelled_differently_are_not_drift",
        desired: Some("quantities/manifest.yaml"),
        live: Some("quantities/live.yaml"),
        ignore: "[]",
        action: Action::Unchanged,
        changed_paths: &[],
    },
    Case {
        name: "quantities_with_different_values_are_drift",
        desired: Some("quantities/manifest-smaller.yaml"),
        live: Some("quantities/live.yaml"),
        ignore: "[]",
        action: Action::Update,
        changed_paths: &["/spec/template/spec/containers/0/resources/limits/cpu"],
    },
    Case {
        name: "generated_manifest_with_empty_maps_and_nulls_is_in_sync",
        desired: Some("generated/manifest.yaml"),
        live: Some("generated/live.yaml"),
        ignore: "[]",
        action: Action::Unchanged,
        changed_paths: &[],
    },
    Case {
        name: "deployment_container_added_in_git_shows_only_the_new_item",
        desired: Some("deployment/manifest-new-container.yaml"),
        live: Some("deployment/live-applied.yaml"),
        ignore: "[]",
        action: Action::Update,
        changed_paths: &["/spec/template/spec/containers/2"],
    },
    Case {
        name: "statefulset_claim_template_defaults_are_not_drift",
        desired: Some("statefulset/manifest.yaml"),
        live: Some("statefulset/live.yaml"),
        ignore: "[]",
        action: Action::Unchanged,
        changed_paths: &[],
    },
    Case {
        name: "service_defaults_are_not_drift",
        desired: Some("service/manifest.yaml"),
        live: Some("service/live.yaml"),
        ignore: "[]",
        action: Action::Unchanged,
        changed_paths: &[],
    },
    Case {
        name: "secret_string_data_manifest_is_in_sync",
        desired: Some("secret/manifest.yaml"),
        live: Some("secret/live.yaml"),
        ignore: "[]",
        action: Action::Unchanged,
        changed_paths: &[],
    },
    Case {
        name: "secret_rotated_in_git_shows_masked_change",
        desired: Some("secret/manifest-rotated.yaml"),
        live: Some("secret/live.yaml"),
        ignore: "[]",
        action: Action::Update,
        changed_paths: &["/data/password", "/data/username"],
    },
    Case {
        name: "secret_dry_run_rotated_shows_masked_change",
        desired: Some("secret/dry-run-rotated.yaml"),
        live: Some("secret/live.yaml"),
        ignore: "[]",
        action: Action::Update,
        changed_paths: &["/data/password", "/data/username"],
    },
    Case {
        name: "configmap_create",
        desired: Some("configmap/manifest.yaml"),
        live: None,
        ignore: "[]",
        action: Action::Create,
        changed_paths: &[""],
    },
    Case {
        name: "configmap_prune",
        desired: None,
        live: Some("configmap/live.yaml"),
        ignore: "[]",
        action: Action::Prune,
        changed_paths: &[""],
    },
    Case {
        name: "configmap_multiline_value_changed",
        desired: Some("configmap/manifest-new-banner.yaml"),
        live: Some("configmap/live.yaml"),
        ignore: "[]",
        action: Action::Update,
        changed_paths: &["/data/banner"],
    },
    Case {
        name: "secret_prune_is_masked",
        desired: None,
        live: Some("secret/live.yaml"),
        ignore: "[]",
        action: Action::Prune,
        changed_paths: &[""],
    },
];

fn load(file: &str) -> Result<Value, Box<dyn std::error::Error>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(file);
    let text = std::fs::read_to_string(&path)?;
    serde_saphyr::from_str(&text).map_err(|e| format!("{file}: {e}").into())
}

fn run(case: &Case) -> Result<ObjectDiff, Box<dyn std::error::Error>> {
    let desired = case.desired.map(load).transpose()?;
    let live = case.live.map(load).transpose()?;
    let rules: Vec<IgnoreRule> = serde_saphyr::from_str(case.ignore)?;
    let opts = DiffOptions::new("driftless", rules)?;
    Ok(diff_object(desired.as_ref(), live.as_ref(), &opts)?)
}

#[test]
fn every_case_gets_its_action_paths_and_diff() -> TestResult {
    let mut failures = Vec::new();
    for case in CASES {
        let diff = run(case).map_err(|e| format!("{}: {e}", case.name))?;
        let changed_agrees = diff.changed == (diff.action != Action::Unchanged);
        if diff.action != case.action || diff.changed_paths != case.changed_paths || !changed_agrees
        {
            failures.push(format!(
                "{}: expected {:?} {:?}, got {:?} {:?}\n{}",
                case.name,
                case.action,
                case.changed_paths,
                diff.action,
                diff.changed_paths,
                diff.unified
            ));
        }
        insta::assert_snapshot!(case.name, diff.unified);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

#[test]
fn the_manager_behind_a_drift_is_named() -> TestResult {
    let live = load("deployment/live-edited.yaml")?;
    let path = "/spec/template/spec/containers/0/image";
    assert_eq!(other_managers(&live, path, "driftless")?, ["kubectl-edit"]);
    let injected = load("deployment/live-injected-and-edited.yaml")?;
    let diff = run(CASES
        .iter()
        .find(|c| c.name == "deployment_edit_behind_an_injected_container_names_live_index")
        .ok_or("case missing")?)?;
    for path in &diff.changed_paths {
        assert_eq!(
            other_managers(&injected, path, "driftless")?,
            ["kubectl-edit"]
        );
    }
    assert_eq!(
        other_managers(&injected, "/spec/template/spec/containers/0", "driftless")?,
        ["injector"]
    );
    let scaled = load("deployment/live-scaled.yaml")?;
    assert_eq!(
        other_managers(&scaled, "/spec/replicas", "driftless")?,
        ["autoscaler"]
    );
    Ok(())
}

#[test]
fn secret_fixture_values_appear_in_no_diff() -> TestResult {
    let plain = ["hunter2", "s3cr3t-t0ken", "correct-horse", "admin"];
    let encoded = [
        "aHVudGVyMg==",
        "czNjcjN0LXQwa2Vu",
        "Y29ycmVjdC1ob3JzZQ==",
        "YWRtaW4=",
    ];
    for case in CASES.iter().filter(|c| c.name.starts_with("secret")) {
        let diff = run(case)?;
        let outputs = [diff.unified.clone(), format!("{diff:?}")];
        for value in plain.iter().chain(&encoded) {
            for output in &outputs {
                assert!(
                    !output.contains(value),
                    "{}: {value} leaked:\n{output}",
                    case.name
                );
            }
        }
    }
    Ok(())
}
