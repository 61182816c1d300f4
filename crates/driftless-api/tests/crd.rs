//! The committed CRD is the one the types generate, and Argo CD-shaped YAML reads as expected.

use driftless_api::{Application, crd_yaml};

#[test]
fn deploy_crd_matches_the_types() {
    let generated = crd_yaml().unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/crd.yaml");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "deploy/crd.yaml is stale: run `driftless crd > deploy/crd.yaml`"
    );
}

#[test]
fn argo_cd_field_names_read_as_expected() {
    let yaml = r#"
apiVersion: driftless.dev/v1alpha1
kind: Application
metadata: {name: guestbook, namespace: driftless}
spec:
  source:
    repoURL: https://git.example/guestbook.git
    targetRevision: main
    path: overlays/prod
    directory: {recurse: true}
    helm:
      releaseName: gb
      valueFiles: [values-prod.yaml]
      values: |
        replicas: 2
      valuesObject: {image: {tag: v2}}
      parameters:
      - {name: service.port, value: "8080", forceString: true}
      fileParameters:
      - {name: config, path: files/config.txt}
      skipCrds: true
      kubeVersion: 1.35.4
      apiVersions: [monitoring.coreos.com/v1]
      ignoreMissingValueFiles: true
      valuesFrom:
      - {kind: ConfigMap, name: gb-values, valuesKey: prod.yaml, optional: true}
  destination: {namespace: guestbook}
  syncPolicy:
    automated: {prune: true, selfHeal: true}
    syncOptions: [CreateNamespace=true]
    retry: {limit: 5, backoff: {duration: 5s, factor: 2, maxDuration: 3m}}
  ignoreDifferences:
  - {group: apps, kind: Deployment, jsonPointers: [/spec/replicas]}
  interval: 1m
"#;
    let app: Application = serde_saphyr::from_str(yaml).unwrap();
    assert_eq!(
        app.spec.source.repo_url,
        "https://git.example/guestbook.git"
    );
    assert_eq!(app.spec.source.target_revision.as_deref(), Some("main"));
    let helm = app.spec.source.helm.clone().unwrap();
    assert_eq!(helm.release_name.as_deref(), Some("gb"));
    assert_eq!(helm.value_files, ["values-prod.yaml"]);
    assert_eq!(
        helm.values.as_ref().and_then(|v| v.as_str()),
        Some("replicas: 2\n")
    );
    assert!(helm.values_object.unwrap().contains_key("image"));
    assert!(helm.parameters[0].force_string);
    assert_eq!(helm.file_parameters[0].path, "files/config.txt");
    assert!(helm.skip_crds && helm.ignore_missing_value_files && !helm.skip_tests);
    assert_eq!(helm.api_versions, ["monitoring.coreos.com/v1"]);
    assert_eq!(helm.values_from[0].values_key.as_deref(), Some("prod.yaml"));
    let policy = app.spec.sync_policy.unwrap();
    let automated = policy.automated.unwrap();
    assert!(automated.prune && automated.self_heal && !automated.allow_empty);
    assert_eq!(
        policy
            .retry
            .unwrap()
            .backoff
            .unwrap()
            .max_duration
            .as_deref(),
        Some("3m")
    );
    assert_eq!(
        app.spec.ignore_differences[0].json_pointers,
        ["/spec/replicas"]
    );
}
