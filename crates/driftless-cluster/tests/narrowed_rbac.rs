//! A controller whose RBAC is narrowed to a few kinds, as docs/install.md ("Narrowing
//! `driftless-manager`") describes, against the real test control plane: the kinds it may not
//! list are reported and skipped instead of blocking readiness or failing every listing.

use std::time::Duration;

use anyhow::{Context, ensure};
use driftless_cluster::{ForbiddenKind, KubeCluster};
use driftless_resource::parse_manifests;
use driftless_sync::{APP_LABEL, ApplyMode, Cluster, Settings, SyncOptions, observe};
use driftless_testenv::{eventually, with_namespace};
use k8s_openapi::api::core::v1::{ConfigMap, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use kube::Client;
use kube::api::{Api, DeleteParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::{Value, json};

/// A bound on liveness for a busy machine (the watches retry with a backoff of up to 30 s),
/// not a performance figure.
const PATIENCE: Duration = Duration::from_secs(120);

const SERVICE_ACCOUNT: &str = "driftless-controller";

/// The rules of the narrowed `driftless-manager` in docs/install.md: no Secrets, no other kinds.
fn narrowed_rules() -> Value {
    let verbs = json!([
        "get", "list", "watch", "create", "patch", "update", "delete"
    ]);
    json!([
        {"apiGroups": [""], "resources": ["configmaps", "services", "serviceaccounts"], "verbs": verbs},
        {"apiGroups": ["apps"], "resources": ["deployments", "statefulsets"], "verbs": verbs},
        {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": verbs},
    ])
}

/// Creates ClusterRole `name` with `rules`, bound to the test's service account.
async fn grant(admin: &Client, ns: &str, name: &str, rules: Value) -> anyhow::Result<()> {
    let role: ClusterRole = serde_json::from_value(json!({
        "metadata": {"name": name},
        "rules": rules,
    }))?;
    Api::<ClusterRole>::all(admin.clone())
        .create(&PostParams::default(), &role)
        .await?;
    let binding: ClusterRoleBinding = serde_json::from_value(json!({
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": ns}],
    }))?;
    Api::<ClusterRoleBinding>::all(admin.clone())
        .create(&PostParams::default(), &binding)
        .await?;
    Ok(())
}

/// Deletes what [`grant`] created (cluster-scoped, so the test namespace does not take it along).
async fn revoke(admin: &Client, name: &str) -> anyhow::Result<()> {
    Api::<ClusterRoleBinding>::all(admin.clone())
        .delete(name, &DeleteParams::default())
        .await?;
    Api::<ClusterRole>::all(admin.clone())
        .delete(name, &DeleteParams::default())
        .await?;
    Ok(())
}

/// A client that acts as the test's service account (the admin impersonates it).
async fn as_service_account(ns: &str) -> anyhow::Result<Client> {
    let kubeconfig = Kubeconfig::read_from(driftless_testenv::shared()?.kubeconfig())?;
    let mut config =
        kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await?;
    config.auth_info.impersonate = Some(format!("system:serviceaccount:{ns}:{SERVICE_ACCOUNT}"));
    Ok(Client::try_from(config)?)
}

fn labelled(kind: &str, ns: &str, name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": ns, "labels": {APP_LABEL: ns}},
        "data": {"key": "dmFsdWU="},
    })
}

const APPLY: ApplyMode = ApplyMode {
    dry_run: false,
    force: false,
    validate: true,
};

fn owned_names(owned: &[(driftless_resource::ResourceKey, Value)]) -> Vec<String> {
    owned
        .iter()
        .map(|(key, _)| format!("{}/{}", key.kind, key.name))
        .collect()
}

fn find<'a>(kinds: &'a [ForbiddenKind], group: &str, kind: &str) -> Option<&'a ForbiddenKind> {
    kinds.iter().find(|k| k.group == group && k.kind == kind)
}

#[tokio::test]
async fn a_narrowed_role_reports_forbidden_kinds_and_still_lists_and_applies() -> anyhow::Result<()>
{
    with_namespace("narrowed-rbac", |admin, ns| async move {
        let manager = format!("{ns}-manager");
        let secrets = format!("{ns}-secrets");
        let account: ServiceAccount =
            serde_json::from_value(json!({"metadata": {"name": SERVICE_ACCOUNT}}))?;
        Api::<ServiceAccount>::namespaced(admin.clone(), &ns)
            .create(&PostParams::default(), &account)
            .await?;
        grant(&admin, &ns, &manager, narrowed_rules()).await?;
        let outcome = narrowed(&admin, &ns, &secrets).await;
        let cleaned = async {
            // The second grant exists only if the test got that far.
            let _ = revoke(&admin, &secrets).await;
            revoke(&admin, &manager).await
        }
        .await;
        outcome.and(cleaned)
    })
    .await?
}

async fn narrowed(admin: &Client, ns: &str, secrets: &str) -> anyhow::Result<()> {
    let client = as_service_account(ns).await?;
    // The RBAC authorizer learns of the new binding through its own watch.
    let configmaps = Api::<ConfigMap>::namespaced(client.clone(), ns);
    eventually("the narrowed role to take effect", PATIENCE, || async {
        configmaps.list(&Default::default()).await.ok()
    })
    .await?;
    // Made by someone else and labelled for the application: invisible while Secrets are
    // forbidden, so never pruned.
    let secret: Secret = serde_json::from_value(labelled("Secret", ns, "hidden"))?;
    Api::<Secret>::namespaced(admin.clone(), ns)
        .create(&PostParams::default(), &secret)
        .await?;

    let (notify, _events) = tokio::sync::mpsc::unbounded_channel();
    let cluster = KubeCluster::watched(client.clone(), notify).await?;
    let live = cluster
        .live_cache()
        .context("a watched cluster has a cache")?;
    eventually("the live cache to sync", PATIENCE, || async {
        live.synced().then_some(())
    })
    .await?;

    let forbidden = cluster.forbidden_kinds();
    let refused = find(&forbidden, "", "Secret").context(format!("{forbidden:?}"))?;
    ensure!(
        refused.message.contains("forbidden") && refused.message.contains("secrets"),
        "{refused:?}"
    );
    for (group, kind) in [("", "ConfigMap"), ("", "Service"), ("apps", "Deployment")] {
        ensure!(
            find(&forbidden, group, kind).is_none(),
            "{kind}: {forbidden:?}"
        );
    }
    let mut sorted = forbidden.clone();
    sorted.sort();
    ensure!(sorted == forbidden, "not sorted: {forbidden:?}");

    // An apply of a permitted kind works, and the application owns it.
    let applied = cluster
        .apply(&labelled("ConfigMap", ns, "settings"), APPLY)
        .await?;
    ensure!(
        applied.pointer("/data/key").is_some(),
        "applied object: {applied}"
    );
    let owned = owned_names(&cluster.list_owned(ns).await?);
    ensure!(owned == ["ConfigMap/settings"], "cached: {owned:?}");

    // The same without the cache: the forbidden kind is skipped, not an error.
    let uncached = KubeCluster::new(client.clone()).await?;
    let owned = owned_names(&uncached.list_owned(ns).await?);
    ensure!(owned == ["ConfigMap/settings"], "uncached: {owned:?}");
    let listed = uncached.forbidden_kinds();
    ensure!(
        find(&listed, "", "Secret").is_some_and(|k| k.message.contains("forbidden")),
        "{listed:?}"
    );
    ensure!(find(&listed, "", "ConfigMap").is_none(), "{listed:?}");

    // An object of a forbidden kind declared in Git fails with the API server's error.
    let refused = cluster
        .apply(&labelled("Secret", ns, "declared"), APPLY)
        .await
        .err()
        .context("applying a Secret without the permission succeeded")?;
    ensure!(refused.message.contains("forbidden"), "{refused:?}");
    // Reading it is refused first: the Application's comparison fails naming the object.
    let yaml = format!(
        "{}\n---\n{}",
        labelled("ConfigMap", ns, "settings"),
        labelled("Secret", ns, "declared")
    );
    let manifests = parse_manifests("app.yaml", yaml.as_bytes())?;
    let settings = Settings {
        app: ns.to_owned(),
        options: SyncOptions::parse::<&str>(&[])?,
        destination: ns.to_owned(),
        dry_run: false,
        health_timeout: PATIENCE,
        poll: Duration::from_millis(200),
        wait_last_wave: true,
        yield_waits: false,
        resume: None,
        handled_before: Default::default(),
        permit: Default::default(),
    };
    let error = observe(&cluster, manifests, &settings)
        .await
        .err()
        .context("observing a declared Secret without the permission succeeded")?
        .to_string();
    ensure!(
        error.contains("forbidden") && error.contains("\"declared\""),
        "{error}"
    );

    // Granted later: the watch, retrying, lists Secrets and the kind is no longer forbidden.
    grant(
        admin,
        ns,
        secrets,
        json!([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]}]),
    )
    .await?;
    eventually("Secrets to be listed once permitted", PATIENCE, || async {
        find(&cluster.forbidden_kinds(), "", "Secret")
            .is_none()
            .then_some(())
    })
    .await?;
    let owned = owned_names(&cluster.list_owned(ns).await?);
    ensure!(
        owned == ["ConfigMap/settings", "Secret/hidden"],
        "after the grant: {owned:?}"
    );
    ensure!(live.synced(), "no longer synced after the grant");
    Ok(())
}
