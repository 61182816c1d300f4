//! The controller running with the narrowed RBAC of docs/install.md ("Narrowing
//! `driftless-manager`"), against the real test control plane: it turns ready, Applications of
//! the kinds it may manage sync, and the kinds it may not see are named in a condition.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, ensure};
use driftless_api::Application;
use driftless_controller::{Context, Metrics, run};
use driftless_testenv::{eventually, with_namespace};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use kube::Client;
use kube::api::{Api, DeleteParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::{Value, json};

/// A bound on liveness for a busy machine (RBAC and watches take a moment), not a figure.
const PATIENCE: Duration = Duration::from_secs(120);

const ACCOUNT: &str = "driftless-controller";

/// The narrowed manager of docs/install.md, plus what the controller itself needs
/// (docs/install.md's `driftless-controller` role: its Applications and Events).
fn rules() -> Value {
    let verbs = json!([
        "get", "list", "watch", "create", "patch", "update", "delete"
    ]);
    json!([
        {"apiGroups": [""], "resources": ["configmaps", "services", "serviceaccounts"], "verbs": verbs},
        {"apiGroups": ["apps"], "resources": ["deployments", "statefulsets"], "verbs": verbs},
        {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": verbs},
        {"apiGroups": ["driftless.dev"], "resources": ["applications"], "verbs": ["list", "watch", "patch"]},
        {"apiGroups": ["driftless.dev"], "resources": ["appprojects"], "verbs": ["list", "watch"]},
        {"apiGroups": ["driftless.dev"], "resources": ["applications/status"], "verbs": ["patch"]},
        {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch"]},
    ])
}

async fn grant(admin: &Client, ns: &str, name: &str) -> anyhow::Result<()> {
    let role: ClusterRole =
        serde_json::from_value(json!({"metadata": {"name": name}, "rules": rules()}))?;
    Api::<ClusterRole>::all(admin.clone())
        .create(&PostParams::default(), &role)
        .await?;
    let binding: ClusterRoleBinding = serde_json::from_value(json!({
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": ACCOUNT, "namespace": ns}],
    }))?;
    Api::<ClusterRoleBinding>::all(admin.clone())
        .create(&PostParams::default(), &binding)
        .await?;
    // docs/install.md's `driftless-repositories`: the Secrets of the controller's namespace only.
    let home = driftless_controller::DEFAULT_NAMESPACE;
    let namespace: Namespace = serde_json::from_value(json!({"metadata": {"name": home}}))?;
    match Api::<Namespace>::all(admin.clone())
        .create(&PostParams::default(), &namespace)
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 409 => {}
        Err(e) => return Err(e.into()),
    }
    let role: Role = serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": home},
        "rules": [{"apiGroups": [""], "resources": ["secrets", "configmaps"], "verbs": ["list", "watch"]}],
    }))?;
    Api::<Role>::namespaced(admin.clone(), home)
        .create(&PostParams::default(), &role)
        .await?;
    let binding: RoleBinding = serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": home},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": ACCOUNT, "namespace": ns}],
    }))?;
    Api::<RoleBinding>::namespaced(admin.clone(), home)
        .create(&PostParams::default(), &binding)
        .await?;
    Ok(())
}

async fn revoke(admin: &Client, name: &str) -> anyhow::Result<()> {
    let home = driftless_controller::DEFAULT_NAMESPACE;
    Api::<RoleBinding>::namespaced(admin.clone(), home)
        .delete(name, &DeleteParams::default())
        .await?;
    Api::<Role>::namespaced(admin.clone(), home)
        .delete(name, &DeleteParams::default())
        .await?;
    Api::<ClusterRoleBinding>::all(admin.clone())
        .delete(name, &DeleteParams::default())
        .await?;
    Api::<ClusterRole>::all(admin.clone())
        .delete(name, &DeleteParams::default())
        .await?;
    Ok(())
}

/// A client acting as the controller's service account (the admin impersonates it).
async fn as_account(ns: &str) -> anyhow::Result<Client> {
    let kubeconfig = Kubeconfig::read_from(driftless_testenv::shared()?.kubeconfig())?;
    let mut config =
        kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await?;
    config.auth_info.impersonate = Some(format!("system:serviceaccount:{ns}:{ACCOUNT}"));
    Ok(Client::try_from(config)?)
}

fn git(dir: &Path, args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new("git").args(args).current_dir(dir).output()?;
    ensure!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

#[tokio::test]
async fn with_narrowed_rbac_applications_sync_and_forbidden_kinds_are_named() -> anyhow::Result<()>
{
    with_namespace("ctl-narrowed", |admin, ns| async move {
        driftless_testenv::install_project_crds(&admin).await?;
        let account: ServiceAccount =
            serde_json::from_value(json!({"metadata": {"name": ACCOUNT}}))?;
        Api::<ServiceAccount>::namespaced(admin.clone(), &ns)
            .create(&PostParams::default(), &account)
            .await?;
        let role = format!("{ns}-manager");
        grant(&admin, &ns, &role).await?;
        let outcome = narrowed(&admin, &ns).await;
        let cleaned = revoke(&admin, &role).await;
        outcome.and(cleaned)
    })
    .await?
}

async fn narrowed(admin: &Client, ns: &str) -> anyhow::Result<()> {
    let client = as_account(ns).await?;
    let own: Api<Application> = Api::namespaced(client.clone(), ns);
    eventually("the narrowed role to take effect", PATIENCE, || async {
        own.list(&Default::default()).await.ok()
    })
    .await?;
    let cache = tempfile::tempdir()?;
    let metrics = Metrics::new(&mut Default::default());
    let context = Arc::new(Context::new(client, cache.path().to_path_buf(), None, metrics).await?);
    let controller = tokio::spawn(run(context.clone(), std::future::pending()));
    let outcome = async {
        eventually("the controller to turn ready", PATIENCE, || async {
            context.ready().then_some(())
        })
        .await?;

        let repo = tempfile::tempdir()?;
        std::fs::create_dir_all(repo.path().join("deploy"))?;
        std::fs::write(
            repo.path().join("deploy/settings.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: fast}\n",
        )?;
        git(repo.path(), &["init", "-q", "-b", "main"])?;
        git(repo.path(), &["-c", "user.email=t@example.com", "-c", "user.name=t", "add", "-A"])?;
        git(
            repo.path(),
            &["-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "one"],
        )?;
        let app: Application = serde_json::from_value(json!({
            "apiVersion": "driftless.dev/v1alpha1",
            "kind": "Application",
            "metadata": {"name": "app", "namespace": ns},
            "spec": {
                "source": {"repoURL": format!("file://{}", repo.path().display()), "targetRevision": "main", "path": "deploy"},
                "destination": {"namespace": ns},
                "syncPolicy": {"automated": {"prune": true, "selfHeal": true}},
                "interval": "1s",
            },
        }))?;
        let apps: Api<Application> = Api::namespaced(admin.clone(), ns);
        apps.create(&PostParams::default(), &app).await?;
        let status = eventually("the application synced", PATIENCE, || async {
            let status = apps.get("app").await.ok()?.status?;
            let ready = status.conditions.iter().any(|c| c.type_ == "Ready" && c.reason == "Reconciled");
            ready.then_some(status)
        })
        .await?;
        let configmaps: Api<ConfigMap> = Api::namespaced(admin.clone(), ns);
        ensure!(configmaps.get_opt("settings").await?.is_some(), "not applied");
        let visible = status
            .conditions
            .iter()
            .find(|c| c.type_ == "KindsVisible")
            .context(format!("no KindsVisible condition: {:?}", status.conditions))?;
        ensure!(visible.reason == "Forbidden", "{visible:?}");
        ensure!(visible.message.contains("is forbidden"), "{visible:?}");
        ensure!(!visible.message.contains("ConfigMap"), "{visible:?}");
        let forbidden = context.cluster.forbidden_kinds();
        ensure!(
            forbidden.iter().any(|k| k.group.is_empty() && k.kind == "Secret"),
            "{forbidden:?}"
        );
        ensure!(
            forbidden.iter().all(|k| k.kind != "ConfigMap" && k.kind != "Application"),
            "{forbidden:?}"
        );
        anyhow::Ok(())
    }
    .await;
    controller.abort();
    outcome
}
