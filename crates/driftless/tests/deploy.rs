//! `deploy/` is what `kubectl apply -k deploy/` installs: Driftless's own Kustomize renders it as
//! `kubectl kustomize` does, and applied with server-side apply to the real test control plane it
//! yields an Established CRD, the RBAC objects with the permissions docs/install.md promises, and an
//! Available controller Deployment (its pods are kwok's fake Running pods).
//!
//! The objects are cluster-scoped or live in `driftless-system`, so they are shared by every test of
//! this binary: applying them is idempotent (server-side apply), and objects a test adds for its own
//! checks carry its namespace's name.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, ensure};
use driftless_resource::{Manifest, parse_manifests};
use driftless_testenv::{eventually, with_namespace};

#[path = "support/apply.rs"]
mod apply;
use apply::apply_manifest;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::authorization::v1::{
    NonResourceAttributes, ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::{Pod, Service, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Client;
use kube::api::{Api, DeleteParams, ListParams, PatchParams, PostParams};
use kube::discovery::Discovery;

/// Generous bound for the control plane's controllers on a busy machine; not a performance figure.
const SETTLE: Duration = Duration::from_secs(120);
const SYSTEM: &str = "driftless-system";
const CONTROLLER: &str = "system:serviceaccount:driftless-system:driftless-controller";

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

/// `driftless kustomize deploy`.
fn render() -> anyhow::Result<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_driftless"))
        .arg("kustomize")
        .arg(deploy_dir())
        .output()?;
    ensure!(
        out.status.success(),
        "driftless kustomize deploy: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?)
}

fn manifests() -> anyhow::Result<Vec<Manifest>> {
    Ok(parse_manifests("deploy/", render()?.as_bytes())?)
}

#[test]
fn driftless_renders_deploy_as_kubectl_kustomize_does() -> anyhow::Result<()> {
    let ours = render()?;
    let kinds: Vec<String> = parse_manifests("deploy/", ours.as_bytes())?
        .iter()
        .map(|m| format!("{}/{}", m.key().kind, m.key().name))
        .collect();
    for expected in [
        "CustomResourceDefinition/applications.driftless.dev",
        "CustomResourceDefinition/appprojects.driftless.dev",
        "CustomResourceDefinition/providers.driftless.dev",
        "CustomResourceDefinition/alerts.driftless.dev",
        "Namespace/driftless-system",
        "ServiceAccount/driftless-controller",
        "Role/driftless-leader-election",
        "RoleBinding/driftless-leader-election",
        "Role/driftless-repositories",
        "RoleBinding/driftless-repositories",
        "ClusterRole/driftless-controller",
        "ClusterRoleBinding/driftless-controller",
        "ClusterRole/driftless-notifications",
        "ClusterRoleBinding/driftless-notifications",
        "ClusterRole/driftless-manager",
        "ClusterRoleBinding/driftless-manager",
        "Deployment/driftless-controller",
        "Service/driftless-controller",
    ] {
        ensure!(
            kinds.iter().any(|k| k == expected),
            "{expected} missing from {kinds:?}"
        );
    }
    ensure!(kinds.len() == 18, "unexpected objects: {kinds:?}");
    // The reference: the kustomize release `kubectl kustomize` bundles, built by testenv/build.
    let kustomize = driftless_testenv::reference_kustomize()?;
    let out = Command::new(&kustomize)
        .arg("build")
        .arg(deploy_dir())
        .output()
        .with_context(|| format!("running {}", kustomize.display()))?;
    ensure!(
        out.status.success(),
        "{} build deploy: {}",
        kustomize.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs = String::from_utf8(out.stdout)?;
    ensure!(
        ours == theirs,
        "driftless kustomize and the reference kustomize differ:\n--- driftless\n{ours}\n--- kustomize\n{theirs}"
    );
    Ok(())
}

/// The Deployment's hardening that docs/install.md ("Security", "Resources") and
/// docs/security.md promise, as rendered from `deploy/`.
#[test]
fn the_deployment_runs_non_root_read_only_unprivileged_and_bounded() -> anyhow::Result<()> {
    let manifests = manifests()?;
    let find = |kind: &str, name: &str| {
        manifests
            .iter()
            .find(|m| m.key().kind == kind && m.key().name == name)
            .map(|m| m.object().clone())
            .with_context(|| format!("no {kind}/{name} in deploy/"))
    };
    let deployment: Deployment =
        serde_json::from_value(find("Deployment", "driftless-controller")?)?;
    let pod = deployment
        .spec
        .and_then(|s| s.template.spec)
        .context("Deployment without a pod spec")?;
    let security = pod.security_context.context("no pod securityContext")?;
    ensure!(security.run_as_non_root == Some(true), "{security:?}");
    ensure!(security.run_as_user.is_some_and(|u| u != 0), "{security:?}");
    ensure!(
        security.run_as_group.is_some_and(|g| g != 0),
        "{security:?}"
    );
    let seccomp = security.seccomp_profile.context("no seccompProfile")?;
    ensure!(seccomp.type_ == "RuntimeDefault", "{seccomp:?}");
    ensure!(
        pod.host_network != Some(true) && pod.host_pid != Some(true) && pod.host_ipc != Some(true)
    );
    ensure!(
        pod.containers.len() == 1,
        "{} containers",
        pod.containers.len()
    );
    for container in pod
        .containers
        .iter()
        .chain(pod.init_containers.iter().flatten())
    {
        let name = &container.name;
        let security = container
            .security_context
            .as_ref()
            .with_context(|| format!("container {name} without securityContext"))?;
        ensure!(
            security.allow_privilege_escalation == Some(false),
            "{name}: {security:?}"
        );
        ensure!(
            security.read_only_root_filesystem == Some(true),
            "{name}: {security:?}"
        );
        ensure!(security.privileged != Some(true), "{name}: {security:?}");
        let dropped = security
            .capabilities
            .as_ref()
            .and_then(|c| c.drop.clone())
            .unwrap_or_default();
        ensure!(
            dropped == ["ALL"],
            "{name}: capabilities dropped {dropped:?}"
        );
        let added = security.capabilities.as_ref().and_then(|c| c.add.clone());
        ensure!(
            added.as_ref().is_none_or(|a| a.is_empty()),
            "{name}: capabilities added {added:?}"
        );
        let resources = container
            .resources
            .as_ref()
            .with_context(|| format!("container {name} without resources"))?;
        for (what, list) in [
            ("requests", &resources.requests),
            ("limits", &resources.limits),
        ] {
            let list = list.clone().unwrap_or_default();
            for key in ["cpu", "memory"] {
                ensure!(list.contains_key(key), "{name}: no {what}.{key}");
            }
        }
        // A read-only root: what is written goes to the mounted emptyDirs.
        let mounts: Vec<&str> = container
            .volume_mounts
            .iter()
            .flatten()
            .map(|m| m.mount_path.as_str())
            .collect();
        ensure!(
            mounts.contains(&"/tmp") && mounts.contains(&"/var/cache/driftless"),
            "{mounts:?}"
        );
    }
    // The namespace enforces the restricted Pod Security level, so a pod that lost any of the
    // above is refused (deploy_installs_an_available_controller_with_its_rbac sees them run).
    let namespace = find("Namespace", "driftless-system")?;
    let level = &namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"];
    ensure!(level == "restricted", "driftless-system enforces {level}");
    Ok(())
}

/// Server-side applies every object of `deploy/`, in the order rendered (Namespace and CRD first).
async fn apply_deploy(client: &Client) -> anyhow::Result<()> {
    // Tests of this binary apply concurrently; one at a time keeps two first creates of the same
    // object from racing.
    static APPLYING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _one_at_a_time = APPLYING.lock().await;
    let discovery = Discovery::new(client.clone()).run_aggregated().await?;
    let params = PatchParams::apply("driftless-deploy-test").force();
    for manifest in manifests()? {
        apply_manifest(client, &discovery, &params, &manifest).await?;
    }
    Ok(())
}

fn condition_true(conditions: Option<Vec<(String, String)>>, kind: &str) -> bool {
    conditions
        .unwrap_or_default()
        .iter()
        .any(|(t, s)| t == kind && s == "True")
}

#[tokio::test]
async fn deploy_installs_an_available_controller_with_its_rbac() -> anyhow::Result<()> {
    let client = driftless_testenv::shared()?.client().await?;
    apply_deploy(&client).await?;
    // Applying again changes nothing and fails nothing.
    apply_deploy(&client).await?;

    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    eventually("the Application CRD to be Established", SETTLE, || async {
        let crd = crds.get("applications.driftless.dev").await.ok()?;
        let conditions = crd.status?.conditions.map(|cs| {
            cs.into_iter()
                .map(|c| (c.type_, c.status))
                .collect::<Vec<_>>()
        });
        condition_true(conditions, "Established").then_some(())
    })
    .await?;

    Api::<ServiceAccount>::namespaced(client.clone(), SYSTEM)
        .get("driftless-controller")
        .await?;
    Api::<Role>::namespaced(client.clone(), SYSTEM)
        .get("driftless-leader-election")
        .await?;
    Api::<RoleBinding>::namespaced(client.clone(), SYSTEM)
        .get("driftless-leader-election")
        .await?;
    for name in ["driftless-controller", "driftless-manager"] {
        Api::<ClusterRole>::all(client.clone()).get(name).await?;
        let binding = Api::<ClusterRoleBinding>::all(client.clone())
            .get(name)
            .await?;
        ensure!(binding.role_ref.name == name, "{binding:?}");
    }
    let service = Api::<Service>::namespaced(client.clone(), SYSTEM)
        .get("driftless-controller")
        .await?;
    let ports: Vec<i32> = service
        .spec
        .and_then(|s| s.ports)
        .unwrap_or_default()
        .iter()
        .map(|p| p.port)
        .collect();
    ensure!(ports == [8080], "service ports {ports:?}");

    let deployments: Api<Deployment> = Api::namespaced(client.clone(), SYSTEM);
    eventually(
        "Deployment driftless-controller Available with 2 ready replicas",
        SETTLE,
        || async {
            let deployment = deployments.get("driftless-controller").await.ok()?;
            let status = deployment.status?;
            let conditions = status.conditions.map(|cs| {
                cs.into_iter()
                    .map(|c| (c.type_, c.status))
                    .collect::<Vec<_>>()
            });
            (condition_true(conditions, "Available") && status.ready_replicas == Some(2))
                .then_some(())
        },
    )
    .await?;
    // The pods passed the namespace's restricted Pod Security level and got the downward API env.
    let pods = Api::<Pod>::namespaced(client.clone(), SYSTEM)
        .list(&ListParams::default().labels("app.kubernetes.io/component=controller"))
        .await?;
    ensure!(pods.items.len() == 2, "{} pods", pods.items.len());
    for pod in &pods.items {
        let spec = pod.spec.as_ref().context("pod without spec")?;
        ensure!(spec.service_account_name.as_deref() == Some("driftless-controller"));
        let env: Vec<&str> = spec
            .containers
            .iter()
            .flat_map(|c| c.env.iter().flatten())
            .map(|e| e.name.as_str())
            .collect();
        for name in ["POD_NAME", "POD_NAMESPACE", "DRIFTLESS_CACHE_DIR"] {
            ensure!(env.contains(&name), "{name} missing from {env:?}");
        }
    }
    Ok(())
}

/// Whether `user` (a service account) may do `verb` on `resource` in `namespace` (empty:
/// cluster-wide), asked of the API server's authorizer. `resource` is `resource` for the core
/// group, else `group/resource[/subresource]`.
async fn can(
    client: &Client,
    user: &str,
    verb: &str,
    resource: &str,
    namespace: &str,
) -> anyhow::Result<bool> {
    let (group, resource) = resource.split_once('/').unwrap_or(("", resource));
    let (resource, subresource) = match resource.split_once('/') {
        Some((resource, sub)) => (resource, Some(sub.to_owned())),
        None => (resource, None),
    };
    let sa_namespace = user.split(':').nth(2).unwrap_or_default();
    let review = SubjectAccessReview {
        spec: SubjectAccessReviewSpec {
            user: Some(user.to_owned()),
            groups: Some(vec![
                "system:serviceaccounts".to_owned(),
                format!("system:serviceaccounts:{sa_namespace}"),
                "system:authenticated".to_owned(),
            ]),
            resource_attributes: Some(ResourceAttributes {
                group: Some(group.to_owned()),
                resource: Some(resource.to_owned()),
                subresource,
                verb: Some(verb.to_owned()),
                namespace: (!namespace.is_empty()).then(|| namespace.to_owned()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let answer = Api::<SubjectAccessReview>::all(client.clone())
        .create(&PostParams::default(), &review)
        .await?;
    Ok(answer.status.is_some_and(|s| s.allowed))
}

async fn can_get_url(client: &Client, user: &str, path: &str) -> anyhow::Result<bool> {
    let review = SubjectAccessReview {
        spec: SubjectAccessReviewSpec {
            user: Some(user.to_owned()),
            non_resource_attributes: Some(NonResourceAttributes {
                path: Some(path.to_owned()),
                verb: Some("get".to_owned()),
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let answer = Api::<SubjectAccessReview>::all(client.clone())
        .create(&PostParams::default(), &review)
        .await?;
    Ok(answer.status.is_some_and(|s| s.allowed))
}

/// Asserts each `(verb, group/resource[/sub], namespace, allowed)` for `user`.
async fn expect(
    client: &Client,
    user: &str,
    cases: &[(&str, &str, &str, bool)],
) -> anyhow::Result<()> {
    for &(verb, resource, namespace, allowed) in cases {
        let got = can(client, user, verb, resource, namespace).await?;
        ensure!(
            got == allowed,
            "{user} {verb} {resource} in {namespace:?}: allowed={got}, expected {allowed}"
        );
    }
    Ok(())
}

/// Waits until `user` may `verb` `resource`: a binding just created takes a moment to reach
/// the API server's authorizer.
async fn effective(
    client: &Client,
    user: &str,
    verb: &str,
    resource: &str,
    namespace: &str,
) -> anyhow::Result<()> {
    eventually(
        &format!("{user} to be allowed to {verb} {resource}"),
        SETTLE,
        || async {
            can(client, user, verb, resource, namespace)
                .await
                .ok()
                .filter(|allowed| *allowed)
        },
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn the_service_account_gets_what_docs_install_md_promises_and_no_more() -> anyhow::Result<()>
{
    let client = driftless_testenv::shared()?.client().await?;
    apply_deploy(&client).await?;
    with_namespace("deploy-rbac", |client, ns| async move {
        let ns = ns.as_str();
        // The installed service account, with all three roles (the manager role grants the
        // managed kinds everywhere).
        expect(
            &client,
            CONTROLLER,
            &[
                ("watch", "driftless.dev/applications", "", true),
                ("patch", "driftless.dev/applications/status", ns, true),
                ("patch", "driftless.dev/applications", ns, true),
                ("update", "coordination.k8s.io/leases", SYSTEM, true),
                ("create", "events", ns, true),
                ("patch", "apps/deployments", ns, true),
                ("delete", "configmaps", ns, true),
                ("watch", "driftless.dev/alerts", "", true),
                ("patch", "driftless.dev/providers/status", ns, true),
                ("get", "secrets", ns, true),
            ],
        )
        .await?;
        ensure!(
            !can_get_url(&client, CONTROLLER, "/logs").await?,
            "the controller may read the API server's /logs"
        );
        // Another account of the same namespace gets nothing from these bindings.
        expect(
            &client,
            "system:serviceaccount:driftless-system:default",
            &[
                ("get", "coordination.k8s.io/leases", SYSTEM, false),
                ("patch", "driftless.dev/applications/status", ns, false),
                ("create", "apps/deployments", ns, false),
            ],
        )
        .await?;

        // Each role on its own, bound to a probe account for this test only.
        let probe = format!("system:serviceaccount:{ns}:probe");
        let bind = |namespace: &str, kind: &str, role: &str| -> anyhow::Result<RoleBinding> {
            Ok(serde_json::from_value(serde_json::json!({
                "metadata": {"name": format!("{ns}-probe-{role}"), "namespace": namespace},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role},
                "subjects": [{"kind": "ServiceAccount", "name": "probe", "namespace": ns}],
            }))?)
        };
        let local: Api<RoleBinding> = Api::namespaced(client.clone(), ns);
        let system: Api<RoleBinding> = Api::namespaced(client.clone(), SYSTEM);
        local
            .create(
                &PostParams::default(),
                &bind(ns, "ClusterRole", "driftless-controller")?,
            )
            .await?;
        let leader_binding = bind(SYSTEM, "Role", "driftless-leader-election")?;
        let leader_binding_name = leader_binding.metadata.name.clone().unwrap_or_default();
        system
            .create(&PostParams::default(), &leader_binding)
            .await?;
        let checked = async {
            effective(&client, &probe, "list", "driftless.dev/applications", ns).await?;
            effective(&client, &probe, "get", "coordination.k8s.io/leases", SYSTEM).await?;
            // driftless-controller: its own API and Events, nothing of the managed kinds.
            expect(
                &client,
                &probe,
                &[
                    ("list", "driftless.dev/applications", ns, true),
                    ("patch", "driftless.dev/applications", ns, true),
                    ("patch", "driftless.dev/applications/status", ns, true),
                    ("patch", "events.k8s.io/events", ns, true),
                    ("get", "serviceaccounts", ns, true),
                    ("impersonate", "serviceaccounts", ns, true),
                    ("list", "serviceaccounts", ns, false),
                    ("create", "events.k8s.io/events", ns, true),
                    // Nothing the code never asks for (tests/rbac_audit.rs).
                    ("get", "driftless.dev/applications", ns, false),
                    ("update", "driftless.dev/applications", ns, false),
                    ("update", "driftless.dev/applications/status", ns, false),
                    ("update", "driftless.dev/applications/finalizers", ns, false),
                    ("create", "events", ns, false),
                    ("get", "driftless.dev/appprojects", ns, false),
                    ("watch", "driftless.dev/appprojects", ns, true),
                    ("list", "driftless.dev/providers", ns, true),
                    ("watch", "driftless.dev/alerts", ns, true),
                    ("patch", "driftless.dev/alerts/status", ns, true),
                    ("get", "driftless.dev/providers", ns, false),
                    ("patch", "driftless.dev/providers", ns, false),
                    ("create", "driftless.dev/alerts", ns, false),
                    ("create", "driftless.dev/applications", ns, false),
                    ("delete", "driftless.dev/applications", ns, false),
                    ("get", "secrets", ns, false),
                    ("create", "apps/deployments", ns, false),
                    ("get", "coordination.k8s.io/leases", ns, false),
                ],
            )
            .await?;
            // driftless-leader-election: the Lease in driftless-system, no delete, nowhere else.
            expect(
                &client,
                &probe,
                &[
                    ("get", "coordination.k8s.io/leases", SYSTEM, true),
                    ("create", "coordination.k8s.io/leases", SYSTEM, true),
                    ("update", "coordination.k8s.io/leases", SYSTEM, true),
                    ("delete", "coordination.k8s.io/leases", SYSTEM, false),
                    ("list", "coordination.k8s.io/leases", SYSTEM, false),
                    ("update", "coordination.k8s.io/leases", "kube-system", false),
                    ("get", "secrets", SYSTEM, false),
                    ("create", "events.k8s.io/events", SYSTEM, false),
                ],
            )
            .await?;
            // driftless-repositories: read the credential Secrets and the known-hosts and TLS
            // ConfigMaps of driftless-system, write nothing, read nothing elsewhere.
            let repositories = bind(SYSTEM, "Role", "driftless-repositories")?;
            let repositories_name = repositories.metadata.name.clone().unwrap_or_default();
            system.create(&PostParams::default(), &repositories).await?;
            effective(&client, &probe, "list", "secrets", SYSTEM).await?;
            let read = expect(
                &client,
                &probe,
                &[
                    ("list", "secrets", SYSTEM, true),
                    ("watch", "secrets", SYSTEM, true),
                    ("list", "configmaps", SYSTEM, true),
                    ("get", "secrets", SYSTEM, false),
                    ("watch", "configmaps", SYSTEM, true),
                    ("create", "secrets", SYSTEM, false),
                    ("update", "configmaps", SYSTEM, false),
                    ("delete", "secrets", SYSTEM, false),
                    ("get", "secrets", ns, false),
                    ("list", "secrets", "kube-system", false),
                ],
            )
            .await;
            system
                .delete(&repositories_name, &DeleteParams::default())
                .await?;
            read?;
            // driftless-notifications, bound in one namespace: get (only) its Secrets.
            local
                .create(
                    &PostParams::default(),
                    &bind(ns, "ClusterRole", "driftless-notifications")?,
                )
                .await?;
            effective(&client, &probe, "get", "secrets", ns).await?;
            expect(
                &client,
                &probe,
                &[
                    ("get", "secrets", ns, true),
                    ("list", "secrets", ns, false),
                    ("watch", "secrets", ns, false),
                    ("get", "secrets", "kube-system", false),
                    ("update", "secrets", ns, false),
                ],
            )
            .await
        }
        .await;
        // The binding in driftless-system outlives the test namespace otherwise.
        system
            .delete(&leader_binding_name, &DeleteParams::default())
            .await?;
        checked
    })
    .await?
}
