//! The conversion of Argo CD and Flux objects shaped like their documentation's examples: what
//! each becomes, and the report of everything that does not carry over as it was.

use driftless_import::{Conversion, Finding, Input, Marks, Options, Outcome, convert};
use serde_json::{Value, json};

fn inputs(file: &str) -> Vec<Input> {
    let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let documents: Vec<Value> =
        serde_saphyr::from_multiple(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    documents
        .into_iter()
        .enumerate()
        .map(|(i, object)| Input {
            object,
            origin: format!("{file}#{}", i + 1),
        })
        .collect()
}

fn object<'a>(conversion: &'a Conversion, kind: &str, name: &str) -> &'a Value {
    conversion
        .objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in {:#?}", conversion.objects))
}

fn finding<'a>(conversion: &'a Conversion, object: &str, field: Option<&str>) -> &'a Finding {
    conversion
        .findings
        .iter()
        .find(|f| f.object.starts_with(object) && f.field.as_deref() == field)
        .unwrap_or_else(|| {
            panic!(
                "no finding for {object} {field:?} in:\n{}",
                conversion
                    .findings
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        })
}

#[test]
fn an_argo_cd_application_keeps_its_fields_and_reports_the_rest() {
    let conversion = convert(&inputs("argocd.yaml"), &Options::default());
    let app = object(&conversion, "Application", "guestbook");
    assert_eq!(app["apiVersion"], "driftless.dev/v1alpha1");
    assert_eq!(app["metadata"]["namespace"], "driftless-system");
    assert_eq!(app["metadata"]["labels"], json!({"team": "web"}));
    assert_eq!(
        app["metadata"]["finalizers"],
        json!(["driftless.dev/resources-finalizer"])
    );
    assert_eq!(
        app["spec"]["source"],
        json!({
            "repoURL": "https://github.com/argoproj/argocd-example-apps.git",
            "targetRevision": "HEAD",
            "path": "guestbook",
            "directory": {"recurse": true, "include": "{*.yaml,*.yml}"},
        })
    );
    assert_eq!(
        app["spec"]["destination"],
        json!({"server": "https://kubernetes.default.svc", "namespace": "guestbook"})
    );
    assert_eq!(app["spec"]["project"], "my-project");
    assert_eq!(
        app["spec"]["syncPolicy"],
        json!({
            "automated": {"prune": true, "selfHeal": true, "allowEmpty": false},
            "syncOptions": ["Validate=false", "CreateNamespace=true",
                            "PrunePropagationPolicy=foreground", "PruneLast=true"],
            "retry": {"limit": 5, "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"}},
        })
    );
    assert_eq!(
        app["spec"]["ignoreDifferences"],
        json!([
            {"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]},
            {"group": "", "kind": "ConfigMap", "jqPathExpressions": [".data[\"config.yaml\"]"],
             "managedFieldsManagers": ["kube-controller-manager"]},
        ])
    );
    assert_eq!(app["spec"]["revisionHistoryLimit"], 100);

    let app = "Application argocd/guestbook";
    for (field, outcome) in [
        (
            "spec.syncPolicy.syncOptions[ServerSideApply=true]",
            Outcome::Dropped,
        ),
        (
            "spec.syncPolicy.syncOptions[RespectIgnoreDifferences=true]",
            Outcome::Dropped,
        ),
        ("spec.syncPolicy.managedNamespaceMetadata", Outcome::Dropped),
        ("spec.source.kustomize.namePrefix", Outcome::Dropped),
        ("spec.info", Outcome::Dropped),
        ("spec.revisionHistoryLimit", Outcome::Changed),
        (
            "metadata.annotations.notifications.argoproj.io/subscribe.on-sync-succeeded.slack",
            Outcome::Dropped,
        ),
    ] {
        let found = finding(&conversion, app, Some(field));
        assert_eq!(found.outcome, outcome, "{found}");
        assert!(!found.reason.is_empty());
    }
    assert!(
        finding(
            &conversion,
            app,
            Some("spec.syncPolicy.syncOptions[ServerSideApply=true]")
        )
        .reason
        .contains("always applies server-side")
    );
    // What converted cleanly is not in the report.
    assert!(
        !conversion
            .findings
            .iter()
            .any(|f| f.object.starts_with(app) && f.field.as_deref() == Some("spec.project"))
    );
}

#[test]
fn argo_cd_applications_driftless_cannot_run_yet_are_reported_not_converted() {
    let conversion = convert(&inputs("argocd.yaml"), &Options::default());
    for name in ["redis", "multi", "remote"] {
        assert!(
            !conversion
                .objects
                .iter()
                .any(|o| o["kind"] == "Application" && o["metadata"]["name"] == name),
            "{name} was converted"
        );
    }
    let helm = finding(
        &conversion,
        "Application argocd/redis",
        Some("spec.source.chart"),
    );
    assert_eq!(helm.outcome, Outcome::NotConverted);
    assert!(
        helm.reason.contains("no Helm renderer") && helm.reason.contains("#16"),
        "{helm}"
    );
    let multi = finding(
        &conversion,
        "Application argocd/multi",
        Some("spec.sources"),
    );
    assert!(multi.reason.contains("2 sources"), "{multi}");
    let remote = finding(
        &conversion,
        "Application argocd/remote",
        Some("spec.destination.server"),
    );
    assert!(
        remote.reason.contains("https://prod.example.com:6443"),
        "{remote}"
    );
    let set = finding(&conversion, "ApplicationSet argocd/guestbook", None);
    assert_eq!(set.outcome, Outcome::NotConverted);
    assert!(
        set.reason.contains("#18") && set.reason.contains("generators: list"),
        "{set}"
    );
    let unknown = finding(&conversion, "ConfigMap argocd/argocd-cm", None);
    assert_eq!(unknown.outcome, Outcome::NotConverted);
    assert!(unknown.object.contains("argocd.yaml#8"), "{unknown}");

    // automated.enabled: false keeps the policy, paused.
    let paused = object(&conversion, "Application", "paused");
    assert_eq!(paused["spec"]["suspend"], true);
    assert_eq!(paused["spec"]["syncPolicy"]["automated"]["prune"], true);
    assert!(paused["spec"]["source"].get("path").is_none());
    assert!(paused["spec"]["destination"].get("server").is_none());
    assert_eq!(
        finding(
            &conversion,
            "Application argocd/paused",
            Some("spec.syncPolicy.automated.enabled")
        )
        .outcome,
        Outcome::Changed
    );
}

#[test]
fn an_argo_cd_project_converts_into_the_controller_namespace() {
    let conversion = convert(
        &inputs("argocd.yaml"),
        &Options {
            namespace: "gitops".into(),
        },
    );
    let project = object(&conversion, "AppProject", "my-project");
    assert_eq!(project["metadata"]["namespace"], "gitops");
    let spec = &project["spec"];
    assert_eq!(spec["sourceRepos"], json!(["*"]));
    assert_eq!(
        spec["destinations"],
        json!([{"server": "https://kubernetes.default.svc", "name": "in-cluster", "namespace": "guestbook"}])
    );
    assert_eq!(
        spec["clusterResourceWhitelist"],
        json!([{"group": "", "kind": "Namespace"}])
    );
    // An empty whitelist permits no namespaced kind, in Argo CD as in Driftless: it is kept.
    assert_eq!(spec["namespaceResourceWhitelist"], json!([]), "{spec}");
    assert_eq!(spec["roles"][0]["groups"], json!(["my-oidc-group"]));
    assert_eq!(spec["syncWindows"][0]["manualSync"], true);
    let project = "AppProject argocd/my-project";
    assert_eq!(
        finding(&conversion, project, Some("spec.roles[0].jwtTokens")).outcome,
        Outcome::Dropped
    );
    assert_eq!(
        finding(
            &conversion,
            project,
            Some("spec.syncWindows[0].andOperator")
        )
        .outcome,
        Outcome::Changed
    );
    assert_eq!(
        finding(&conversion, project, Some("spec.signatureKeys")).outcome,
        Outcome::Dropped
    );
    // Projects come first, so applying the output in order creates them before their users.
    assert_eq!(conversion.objects[0]["kind"], "AppProject");
}

#[test]
fn an_argo_cd_application_adopts_by_its_tracking_id_and_instance_label() {
    let conversion = convert(&inputs("argocd.yaml"), &Options::default());
    let adoption = conversion
        .adoptions
        .iter()
        .find(|a| a.name == "guestbook")
        .expect("an adoption for guestbook");
    assert_eq!(adoption.namespace, "driftless-system");
    assert_eq!(
        adoption.marks,
        Marks::ArgoCd {
            instance: "guestbook".into(),
            tracking_prefixes: vec!["guestbook:".into(), "argocd_guestbook:".into()],
        }
    );
    assert!(adoption.managers.contains(&"argocd-controller".to_owned()));
    // Nothing to adopt for what was not converted.
    assert!(!conversion.adoptions.iter().any(|a| a.name == "redis"));
}

#[test]
fn a_flux_kustomization_joins_its_git_repository_and_credentials() {
    let conversion = convert(&inputs("flux.yaml"), &Options::default());
    let app = object(&conversion, "Application", "podinfo");
    assert_eq!(app["metadata"]["namespace"], "flux-system");
    assert!(
        app["metadata"].get("labels").is_none(),
        "Flux's marks carried over"
    );
    assert_eq!(
        app["metadata"]["finalizers"],
        json!(["driftless.dev/resources-finalizer"]),
        "prune: true deletes the objects with the Kustomization, as Flux does"
    );
    assert_eq!(
        app["spec"],
        json!({
            "serviceAccountName": "flux-applier",
            "source": {
                "repoURL": "https://github.com/stefanprodan/podinfo",
                "targetRevision": "master",
                "path": "kustomize",
                "directory": {"recurse": true},
            },
            "destination": {"namespace": "default"},
            "syncPolicy": {
                "automated": {"prune": true, "selfHeal": true, "allowEmpty": false},
                "retry": {"limit": -1, "backoff": {"duration": "1m", "factor": 1, "maxDuration": "1m"}},
            },
            "interval": "5m0s",
        })
    );
    let secret = object(&conversion, "Secret", "flux-flux-system-podinfo");
    assert_eq!(secret["metadata"]["namespace"], "driftless-system");
    assert_eq!(
        secret["metadata"]["labels"]["driftless.dev/secret-type"],
        "repository"
    );
    assert_eq!(
        secret["stringData"]["url"],
        "https://github.com/stefanprodan/podinfo"
    );
    assert_eq!(
        secret["data"],
        json!({"username": "Z2l0LXVzZXI=", "password": "czNjcjN0"})
    );

    let ks = "Kustomization flux-system/podinfo";
    for (field, outcome) in [
        ("spec.interval", Outcome::Changed),
        ("spec.targetNamespace", Outcome::Changed),
        ("spec.wait", Outcome::Changed),
        ("spec.timeout", Outcome::Dropped),
        ("spec.dependsOn", Outcome::Dropped),
        ("spec.images", Outcome::Dropped),
        (
            "metadata.labels.kustomize.toolkit.fluxcd.io/name",
            Outcome::Dropped,
        ),
    ] {
        assert_eq!(
            finding(&conversion, ks, Some(field)).outcome,
            outcome,
            "{field}"
        );
    }
    let repo = "GitRepository flux-system/podinfo";
    assert_eq!(
        finding(&conversion, repo, Some("spec.ignore")).outcome,
        Outcome::Dropped
    );
    assert_eq!(
        finding(&conversion, repo, Some("spec.timeout")).outcome,
        Outcome::Dropped
    );
    // The Secret's values never reach the report.
    for f in &conversion.findings {
        let line = f.to_string();
        assert!(
            !line.contains("czNjcjN0") && !line.contains("s3cr3t"),
            "{line}"
        );
    }
}

#[test]
fn an_ssh_repository_moves_its_key_and_known_hosts() {
    let conversion = convert(&inputs("flux.yaml"), &Options::default());
    let app = object(&conversion, "Application", "infra");
    assert_eq!(app["spec"]["source"]["targetRevision"], ">=1.0.0 <2.0.0");
    assert_eq!(app["spec"]["suspend"], true);
    assert_eq!(app["spec"]["syncPolicy"]["automated"]["prune"], false);
    assert!(app["metadata"].get("finalizers").is_none());
    let secret = object(&conversion, "Secret", "flux-flux-system-infra");
    let key = secret["data"]["sshPrivateKey"].as_str().unwrap_or("");
    assert!(
        !key.is_empty() && secret["data"].get("identity").is_none(),
        "{secret}"
    );
    let hosts = object(&conversion, "ConfigMap", "driftless-ssh-known-hosts");
    assert!(
        hosts["data"]["ssh_known_hosts"]
            .as_str()
            .is_some_and(|h| h.starts_with("github.com ecdsa-sha2-nistp256")),
        "{hosts}"
    );
    let moved = finding(
        &conversion,
        "Secret flux-system/ssh-credentials",
        Some("data.known_hosts"),
    );
    assert_eq!(moved.outcome, Outcome::Changed);
}

#[test]
fn flux_objects_driftless_cannot_run_yet_are_reported_not_converted() {
    let conversion = convert(&inputs("flux.yaml"), &Options::default());
    let vars = finding(
        &conversion,
        "Kustomization flux-system/cluster-vars",
        Some("spec.postBuild"),
    );
    assert_eq!(vars.outcome, Outcome::NotConverted);
    assert!(
        !conversion
            .objects
            .iter()
            .any(|o| o["metadata"]["name"] == "cluster-vars")
    );
    let release = finding(&conversion, "HelmRelease flux-system/podinfo", None);
    assert_eq!(release.outcome, Outcome::NotConverted);
    assert!(
        release.reason.contains("podinfo 6.5.*")
            && release
                .reason
                .contains("https://stefanprodan.github.io/podinfo")
            && release.reason.contains("#16"),
        "{release}"
    );
    let repository = finding(&conversion, "HelmRepository flux-system/podinfo", None);
    assert!(
        repository
            .reason
            .contains("used by HelmRelease flux-system/podinfo"),
        "{repository}"
    );
    let unused = finding(&conversion, "GitRepository flux-system/unused", None);
    assert_eq!(unused.outcome, Outcome::NotConverted);
    // Its Secret is not taken as a credential of anything, and says so.
    let unused_secret = finding(&conversion, "Secret flux-system/unused-auth", None);
    assert_eq!(unused_secret.outcome, Outcome::NotConverted);
    assert!(!unused_secret.to_string().contains("not-used"));
    // Credential Secrets are converted with their repository, not reported as unknown.
    assert!(!conversion.findings.iter().any(|f| {
        f.object.starts_with("Secret flux-system/basic-access-auth") && f.field.is_none()
    }));
    let adoption = conversion
        .adoptions
        .iter()
        .find(|a| a.name == "podinfo")
        .expect("an adoption for podinfo");
    assert_eq!(
        adoption.marks,
        Marks::Flux {
            name: "podinfo".into(),
            namespace: "flux-system".into()
        }
    );
    assert_eq!(adoption.managers, vec!["kustomize-controller".to_owned()]);
}

#[test]
fn a_kustomization_without_its_repository_is_not_converted() {
    let only: Vec<Input> = inputs("flux.yaml")
        .into_iter()
        .filter(|i| i.object["kind"] == "Kustomization")
        .collect();
    let conversion = convert(&only, &Options::default());
    assert!(conversion.objects.is_empty());
    let missing = finding(
        &conversion,
        "Kustomization flux-system/podinfo",
        Some("spec.sourceRef"),
    );
    assert!(
        missing
            .reason
            .contains("GitRepository flux-system/podinfo is not among the inputs"),
        "{missing}"
    );
}

#[test]
fn every_converted_object_reads_as_its_driftless_type() {
    let mut all = inputs("argocd.yaml");
    all.extend(inputs("flux.yaml"));
    let conversion = convert(&all, &Options::default());
    for object in &conversion.objects {
        match object["kind"].as_str() {
            Some("Application") => {
                serde_json::from_value::<driftless_api::Application>(object.clone())
                    .unwrap_or_else(|e| panic!("{object}: {e}"));
            }
            Some("AppProject") => {
                serde_json::from_value::<driftless_api::AppProject>(object.clone())
                    .unwrap_or_else(|e| panic!("{object}: {e}"));
            }
            Some("Secret" | "ConfigMap") => {}
            other => panic!("unexpected kind {other:?}"),
        }
    }
}

#[test]
fn argo_cd_repository_secrets_become_driftless_credentials() {
    let conversion = convert(&inputs("argocd.yaml"), &Options::default());
    let secret = object(&conversion, "Secret", "private-repo");
    assert_eq!(secret["metadata"]["namespace"], "driftless-system");
    assert_eq!(
        secret["metadata"]["labels"],
        json!({"driftless.dev/secret-type": "repository"})
    );
    assert_eq!(
        secret["stringData"],
        json!({"url": "https://github.com/argoproj/private-repo", "password": "my-password",
               "username": "my-username", "project": "my-project"})
    );
    let insecure = finding(
        &conversion,
        "Secret argocd/private-repo",
        Some("stringData.insecure"),
    );
    assert_eq!(insecure.outcome, Outcome::Dropped);
    assert!(!insecure.to_string().contains("my-password"));
    let helm = finding(&conversion, "Secret argocd/private-helm", Some("data.type"));
    assert_eq!(helm.outcome, Outcome::NotConverted);
    assert!(
        !conversion
            .objects
            .iter()
            .any(|o| o["metadata"]["name"] == "private-helm")
    );
}

#[test]
fn an_application_whose_tracking_label_would_not_fit_is_not_converted() {
    let name = "a-very-long-application-name-that-goes-on-and-on-and-on";
    let input = Input {
        object: json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": name, "namespace": "argocd"},
            "spec": {"source": {"repoURL": "https://git.example/a.git"}, "destination": {}},
        }),
        origin: "long.yaml:1".into(),
    };
    let conversion = convert(&[input], &Options::default());
    assert!(conversion.objects.is_empty());
    let long = finding(&conversion, "Application argocd/", Some("metadata.name"));
    assert_eq!(long.outcome, Outcome::NotConverted);
    assert!(long.reason.contains("at most 63"), "{long}");
}

#[test]
fn two_applications_converting_to_one_name_keep_the_first() {
    let app = |namespace: &str| Input {
        object: json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": "web", "namespace": namespace},
            "spec": {"source": {"repoURL": format!("https://git.example/{namespace}.git")},
                     "destination": {}},
        }),
        origin: format!("{namespace}.yaml:1"),
    };
    let conversion = convert(&[app("team-a"), app("team-b")], &Options::default());
    assert_eq!(conversion.objects.len(), 1);
    assert_eq!(
        conversion.objects[0]["spec"]["source"]["repoURL"],
        "https://git.example/team-a.git"
    );
    assert_eq!(conversion.adoptions.len(), 1);
    let second = finding(&conversion, "Application team-b/web", Some("metadata.name"));
    assert_eq!(second.outcome, Outcome::NotConverted);
}
