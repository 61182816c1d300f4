//! The controller's RBAC in `deploy/` against what the controller really asks of the API server.
//!
//! A control plane of its own, with an audit policy, runs `driftless controller --leader-elect`
//! authenticated as `system:serviceaccount:driftless-system:driftless-controller` (a token from
//! the TokenRequest API, so every request it makes is the ServiceAccount's own and the API server
//! authorizes it with the roles `deploy/` installs). The workload: an Application in a project
//! that impersonates a tenant ServiceAccount, syncs, self-heals, prunes and publishes Events, with
//! a repository credential Secret and a known-hosts ConfigMap in `driftless-system`, and a
//! graceful stop that releases the Lease. Then the audit log says which (verb, resource,
//! namespace) the controller used, and:
//!
//! - no request of the controller was refused (no missing grant);
//! - every request on the controller's own API (driftless.dev), Leases and Events is granted by
//!   `driftless-controller`, `driftless-leader-election` or `driftless-repositories`, never by
//!   the broad `driftless-manager` alone, and what relies on the manager uses only the verbs
//!   docs/install.md lists for it;
//! - every verb of every rule of those three roles was used (no unused grant);
//! - `driftless-manager` is what docs/install.md says: every verb on every resource, no
//!   non-resource URLs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use driftless_api::{Application, SyncStatusCode};
use driftless_resource::parse_manifests;
use driftless_testenv::{ControlPlane, Options, eventually};

#[path = "support/apply.rs"]
mod apply;
use apply::apply_manifest;
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{ConfigMap, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, PolicyRule, Role};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Client;
use kube::api::{Api, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams};
use kube::discovery::Discovery;
use serde_json::{Value, json};

/// Generous bound for the controller to act on a busy machine; not a performance figure.
const SETTLE: Duration = Duration::from_secs(120);
const SYSTEM: &str = "driftless-system";
const ACCOUNT: &str = "driftless-controller";
const CONTROLLER: &str = "system:serviceaccount:driftless-system:driftless-controller";
const TENANT: &str = "tenant-web";
/// The verbs docs/install.md ("Narrowing `driftless-manager`") says the controller uses on the
/// managed kinds.
const MANAGER_VERBS: [&str; 7] = [
    "get", "list", "watch", "create", "patch", "update", "delete",
];

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

/// Records every request of the controller and of the tenant it impersonates, metadata only.
const AUDIT_POLICY: &str = "apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  users:
  - system:serviceaccount:driftless-system:driftless-controller
  - system:serviceaccount:tenant-web:deployer
- level: None
";

/// One request the controller made, as the audit log names it. `namespace` is empty for a
/// request across the cluster (or on a cluster-scoped kind).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Used {
    verb: String,
    group: String,
    /// `resource` or `resource/subresource`.
    resource: String,
    namespace: String,
}

impl std::fmt::Display for Used {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scope = if self.namespace.is_empty() {
            "(cluster)"
        } else {
            &self.namespace
        };
        write!(
            f,
            "{} {}/{} in {scope}",
            self.verb, self.group, self.resource
        )
    }
}

/// A role of `deploy/`: its rules, and the namespace it is bound in (`None`: cluster-wide).
struct Granted {
    name: String,
    namespace: Option<String>,
    rules: Vec<PolicyRule>,
}

fn matches(list: &[String], value: &str) -> bool {
    list.iter().any(|v| v == "*" || v == value)
}

fn rule_covers(rule: &PolicyRule, used: &Used) -> bool {
    let groups = rule.api_groups.as_deref().unwrap_or_default();
    let resources = rule.resources.as_deref().unwrap_or_default();
    matches(&rule.verbs, &used.verb) && matches(groups, &used.group) && {
        // `*` covers subresources too; `pods` does not cover `pods/log`.
        resources.iter().any(|r| r == "*" || *r == used.resource)
    }
}

impl Granted {
    fn covers(&self, used: &Used) -> bool {
        let in_scope = self
            .namespace
            .as_deref()
            .is_none_or(|ns| ns == used.namespace);
        in_scope && self.rules.iter().any(|rule| rule_covers(rule, used))
    }
}

/// The Roles and ClusterRoles of `deploy/rbac-*.yaml`, by name. Every one of them is bound to
/// the controller's ServiceAccount only (deploy.rs checks the bindings).
fn deploy_roles() -> anyhow::Result<BTreeMap<String, Granted>> {
    let mut roles = BTreeMap::new();
    for entry in std::fs::read_dir(deploy_dir())? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if !(name.starts_with("rbac-") && name.ends_with(".yaml")) {
            continue;
        }
        let text = std::fs::read_to_string(&path)?;
        for manifest in parse_manifests(name, text.as_bytes())? {
            let key = manifest.key();
            let granted = match key.kind.as_str() {
                "ClusterRole" => {
                    let role: ClusterRole = serde_json::from_value(manifest.object().clone())?;
                    Granted {
                        name: key.name.clone(),
                        namespace: None,
                        rules: role.rules.unwrap_or_default(),
                    }
                }
                "Role" => {
                    let role: Role = serde_json::from_value(manifest.object().clone())?;
                    Granted {
                        name: key.name.clone(),
                        namespace: Some(key.namespace.clone()),
                        rules: role.rules.unwrap_or_default(),
                    }
                }
                _ => continue,
            };
            roles.insert(granted.name.clone(), granted);
        }
    }
    Ok(roles)
}

/// The requests the controller made, from the audit log, and the refused ones.
fn read_audit(log: &Path) -> anyhow::Result<(BTreeSet<Used>, Vec<String>, BTreeSet<String>)> {
    let text =
        std::fs::read_to_string(log).with_context(|| format!("reading {}", log.display()))?;
    let mut used = BTreeSet::new();
    let mut refused = Vec::new();
    let mut non_resource = BTreeSet::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let event: Value = serde_json::from_str(line)
            .with_context(|| format!("an audit event that is not JSON: {line}"))?;
        if event["user"]["username"] != CONTROLLER {
            continue;
        }
        let verb = event["verb"].as_str().unwrap_or_default().to_owned();
        let code = event["responseStatus"]["code"].as_i64().unwrap_or_default();
        let uri = event["requestURI"].as_str().unwrap_or_default().to_owned();
        if code == 403 {
            refused.push(format!("{verb} {uri}: {}", event["responseStatus"]));
        }
        if let Some(as_user) = event["impersonatedUser"]["username"].as_str() {
            // Authorized as the impersonated account; the controller itself used `impersonate`.
            let mut parts = as_user.split(':');
            let (Some("system"), Some("serviceaccount"), Some(ns)) =
                (parts.next(), parts.next(), parts.next())
            else {
                bail!("the controller impersonated {as_user}, not a ServiceAccount ({uri})");
            };
            used.insert(Used {
                verb: "impersonate".to_owned(),
                group: String::new(),
                resource: "serviceaccounts".to_owned(),
                namespace: ns.to_owned(),
            });
            continue;
        }
        let object = &event["objectRef"];
        let Some(resource) = object["resource"].as_str() else {
            non_resource.insert(format!(
                "{verb} {}",
                uri.split('?').next().unwrap_or_default()
            ));
            continue;
        };
        let resource = match object["subresource"].as_str() {
            Some(sub) => format!("{resource}/{sub}"),
            None => resource.to_owned(),
        };
        used.insert(Used {
            verb,
            group: object["apiGroup"].as_str().unwrap_or_default().to_owned(),
            resource,
            namespace: object["namespace"].as_str().unwrap_or_default().to_owned(),
        });
    }
    Ok((used, refused, non_resource))
}

/// The control plane's components read the policy at start-up; it lives beside its data.
async fn start_plane(policy_dir: &Path) -> anyhow::Result<ControlPlane> {
    let policy = policy_dir.join("audit-policy.yaml");
    std::fs::write(&policy, AUDIT_POLICY)?;
    Ok(ControlPlane::start(Options {
        audit_policy: Some(policy),
        ..Options::default()
    })
    .await?)
}

/// Server-side applies `deploy/` except the Deployment and the Service (the controller runs
/// here as a process of the test).
async fn apply_deploy(client: &Client) -> anyhow::Result<()> {
    let out = Command::new(env!("CARGO_BIN_EXE_driftless"))
        .arg("kustomize")
        .arg(deploy_dir())
        .output()?;
    ensure!(
        out.status.success(),
        "driftless kustomize deploy: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let params = PatchParams::apply("driftless-rbac-audit").force();
    for manifest in parse_manifests("deploy/", &out.stdout)? {
        let key = manifest.key();
        if key.kind == "Deployment" || key.kind == "Service" {
            continue;
        }
        // Discovery again for each object: the CRDs applied first add kinds.
        let discovery = Discovery::new(client.clone()).run_aggregated().await?;
        apply_manifest(client, &discovery, &params, &manifest).await?;
    }
    Ok(())
}

/// Server-side applies a JSON object given as `kind`'s typed API.
async fn create<K>(api: &Api<K>, object: Value) -> anyhow::Result<()>
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + serde::Serialize,
{
    let object: K = serde_json::from_value(object)?;
    api.create(&PostParams::default(), &object).await?;
    Ok(())
}

/// A kubeconfig that authenticates as the controller's ServiceAccount with a fresh token.
async fn controller_kubeconfig(plane: &ControlPlane, admin: &Client) -> anyhow::Result<PathBuf> {
    let request = TokenRequest {
        spec: TokenRequestSpec {
            audiences: Vec::new(),
            expiration_seconds: Some(3600),
            ..Default::default()
        },
        ..Default::default()
    };
    let token = Api::<ServiceAccount>::namespaced(admin.clone(), SYSTEM)
        .create_token_request(ACCOUNT, &PostParams::default(), &request)
        .await?
        .status
        .context("TokenRequest without status")?
        .token;
    let admin_config = std::fs::read_to_string(plane.kubeconfig())?;
    let ca = admin_config
        .lines()
        .find_map(|l| l.trim().strip_prefix("certificate-authority: "))
        .context("no certificate-authority in the test kubeconfig")?;
    let path = plane.dir().join("controller.kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1
kind: Config
clusters:
- name: testenv
  cluster: {{server: {server}, certificate-authority: {ca}}}
users:
- name: controller
  user: {{token: {token}}}
contexts:
- name: controller
  context: {{cluster: testenv, user: controller, namespace: {SYSTEM}}}
current-context: controller
",
            server = plane.server(),
        ),
    )?;
    Ok(path)
}

fn git(dir: &Path, args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new("git")
        .args(["-c", "user.email=t@example.com", "-c", "user.name=t"])
        .args(args)
        .current_dir(dir)
        .output()?;
    ensure!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

fn config_map(name: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{mode: {value}}}\n"
    )
}

/// The controller process, killed when dropped (a graceful stop is [`Controller::terminate`]).
struct Controller(Child);

impl Controller {
    fn terminate(&mut self) -> anyhow::Result<()> {
        Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()?;
        self.0.wait()?;
        Ok(())
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The workload: project, impersonation, credentials, sync, self-heal, prune, Events, Lease.
async fn workload(plane: &ControlPlane, admin: &Client) -> anyhow::Result<()> {
    apply_deploy(admin).await?;
    let crds: Api<CustomResourceDefinition> = Api::all(admin.clone());
    eventually("the CRDs to be Established", SETTLE, || async {
        let mut established = 0;
        for name in [
            "applications.driftless.dev",
            "appprojects.driftless.dev",
            "providers.driftless.dev",
            "alerts.driftless.dev",
        ] {
            let crd = crds.get(name).await.ok()?;
            let ok = crd
                .status?
                .conditions?
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True");
            established += usize::from(ok);
        }
        (established == 4).then_some(())
    })
    .await?;

    // The tenant: a namespace and the ServiceAccount the project makes the controller write as.
    create::<k8s_openapi::api::core::v1::Namespace>(
        &Api::all(admin.clone()),
        json!({"metadata": {"name": TENANT}}),
    )
    .await?;
    create::<ServiceAccount>(
        &Api::namespaced(admin.clone(), TENANT),
        json!({"metadata": {"name": "deployer"}}),
    )
    .await?;
    create::<Role>(
        &Api::namespaced(admin.clone(), TENANT),
        json!({"metadata": {"name": "deployer"}, "rules": [
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": MANAGER_VERBS},
        ]}),
    )
    .await?;
    create::<k8s_openapi::api::rbac::v1::RoleBinding>(
        &Api::namespaced(admin.clone(), TENANT),
        json!({
            "metadata": {"name": "deployer"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "deployer"},
            "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": TENANT}],
        }),
    )
    .await?;
    // A repository credential (for another repository: this one is local) and known SSH hosts.
    create::<k8s_openapi::api::core::v1::Secret>(
        &Api::namespaced(admin.clone(), SYSTEM),
        json!({
            "metadata": {"name": "other-git", "labels": {"driftless.dev/secret-type": "repository"}},
            "stringData": {"url": "https://git.example/other/app.git", "username": "u", "password": "p"},
        }),
    )
    .await?;
    create::<ConfigMap>(
        &Api::namespaced(admin.clone(), SYSTEM),
        json!({"metadata": {"name": "driftless-ssh-known-hosts"}, "data": {"ssh_known_hosts": ""}}),
    )
    .await?;

    let repo = tempfile::tempdir()?;
    std::fs::create_dir_all(repo.path().join("deploy"))?;
    std::fs::write(repo.path().join("deploy/a.yaml"), config_map("a", "fast"))?;
    std::fs::write(repo.path().join("deploy/b.yaml"), config_map("b", "slow"))?;
    git(repo.path(), &["init", "-q", "-b", "main"])?;
    git(repo.path(), &["add", "-A"])?;
    git(repo.path(), &["commit", "-qm", "one"])?;

    let dynamic = |kind: &str| -> anyhow::Result<Api<DynamicObject>> {
        let gvk = GroupVersionKind::gvk("driftless.dev", "v1alpha1", kind);
        let resource = kube::api::ApiResource::from_gvk(&gvk);
        Ok(Api::namespaced_with(admin.clone(), SYSTEM, &resource))
    };
    let project: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "driftless.dev/v1alpha1", "kind": "AppProject",
        "metadata": {"name": "team", "namespace": SYSTEM},
        "spec": {
            "sourceRepos": ["**"],
            "destinations": [{"server": "https://kubernetes.default.svc", "namespace": TENANT}],
            "destinationServiceAccounts": [
                {"server": "https://kubernetes.default.svc", "namespace": TENANT, "defaultServiceAccount": "deployer"},
            ],
        },
    }))?;
    dynamic("AppProject")?
        .create(&PostParams::default(), &project)
        .await?;

    // Notifications: a Provider whose Secret holds its HMAC key, and an Alert for the
    // Application; nothing listens at the address, so deliveries fail (Events on the Provider).
    create::<k8s_openapi::api::core::v1::Secret>(
        &Api::namespaced(admin.clone(), SYSTEM),
        json!({"metadata": {"name": "hook-key"}, "stringData": {"token": "k"}}),
    )
    .await?;
    dynamic("Provider")?
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "apiVersion": "driftless.dev/v1alpha1", "kind": "Provider",
                "metadata": {"name": "hook", "namespace": SYSTEM},
                "spec": {"type": "generic-hmac", "address": "http://127.0.0.1:9/hook", "secretRef": {"name": "hook-key"}},
            }))?,
        )
        .await?;
    dynamic("Alert")?
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "apiVersion": "driftless.dev/v1alpha1", "kind": "Alert",
                "metadata": {"name": "web", "namespace": SYSTEM},
                "spec": {"providerRef": {"name": "hook"}, "eventSources": [{"kind": "Application", "name": "web"}]},
            }))?,
        )
        .await?;

    let kubeconfig = controller_kubeconfig(plane, admin).await?;
    let cache = tempfile::tempdir()?;
    let mut controller = Controller(
        Command::new(env!("CARGO_BIN_EXE_driftless"))
            .args(["controller", "--leader-elect", "--impersonate-only"])
            .args(["--listen", "127.0.0.1:0"])
            .arg("--cache-dir")
            .arg(cache.path())
            .env("KUBECONFIG", &kubeconfig)
            .env("POD_NAME", "rbac-audit-0")
            .env("POD_NAMESPACE", SYSTEM)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?,
    );

    let app: Application = serde_json::from_value(json!({
        "apiVersion": "driftless.dev/v1alpha1", "kind": "Application",
        // The finalizer makes deleting the Application delete what it deployed.
        "metadata": {"name": "web", "namespace": SYSTEM, "finalizers": [driftless_api::FINALIZER]},
        "spec": {
            "project": "team",
            "source": {"repoURL": format!("file://{}", repo.path().display()), "targetRevision": "main", "path": "deploy"},
            "destination": {"namespace": TENANT},
            "syncPolicy": {"automated": {"prune": true, "selfHeal": true}},
            "interval": "1s",
        },
    }))?;
    let apps: Api<Application> = Api::namespaced(admin.clone(), SYSTEM);
    apps.create(&PostParams::default(), &app).await?;
    let configmaps: Api<ConfigMap> = Api::namespaced(admin.clone(), TENANT);
    let synced = || async {
        let status = apps.get("web").await.ok()?.status?;
        let synced = status
            .sync
            .is_some_and(|s| s.status == SyncStatusCode::Synced);
        synced.then_some(())
    };
    eventually("the application synced", SETTLE, synced).await?;
    eventually("both ConfigMaps applied as the tenant", SETTLE, || async {
        let a = configmaps.get_opt("a").await.ok()??;
        configmaps.get_opt("b").await.ok()??;
        a.data?
            .get("mode")
            .is_some_and(|m| m == "fast")
            .then_some(())
    })
    .await?;

    // Self-heal: a change made by hand is reverted.
    configmaps
        .patch(
            "a",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"mode": "changed"}})),
        )
        .await?;
    eventually("the drift reverted", SETTLE, || async {
        let a = configmaps.get_opt("a").await.ok()??;
        a.data?
            .get("mode")
            .is_some_and(|m| m == "fast")
            .then_some(())
    })
    .await?;

    // Prune: a ConfigMap removed from Git is deleted.
    std::fs::remove_file(repo.path().join("deploy/b.yaml"))?;
    git(repo.path(), &["add", "-A"])?;
    git(repo.path(), &["commit", "-qm", "two"])?;
    eventually("b pruned", SETTLE, || async {
        configmaps.get_opt("b").await.ok()?.is_none().then_some(())
    })
    .await?;
    eventually("the application synced again", SETTLE, synced).await?;

    // The Alert and Provider were checked (their status written), and a failed delivery is an
    // Event about the Provider.
    for kind in ["Alert", "Provider"] {
        let api = dynamic(kind)?;
        let name = if kind == "Alert" { "web" } else { "hook" };
        eventually(&format!("the {kind} Ready"), SETTLE, || async {
            let object = api.get(name).await.ok()?;
            let ready = object.data["status"]["conditions"][0]["status"] == "True";
            ready.then_some(())
        })
        .await?;
    }
    let events: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(admin.clone(), SYSTEM);
    eventually("an Event about a failed delivery", SETTLE, || async {
        let list = events.list(&Default::default()).await.ok()?;
        list.items
            .iter()
            .any(|e| {
                e.reason.as_deref() == Some("DeliveryFailed")
                    && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("hook")
            })
            .then_some(())
    })
    .await?;

    // The controller published Events about the Application.
    eventually("Events about the application", SETTLE, || async {
        let list = events.list(&Default::default()).await.ok()?;
        list.items
            .iter()
            .any(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("web"))
            .then_some(())
    })
    .await?;

    // Deleting the Application deletes what it deployed (as the tenant), then the controller
    // removes its finalizer.
    apps.delete("web", &Default::default()).await?;
    eventually(
        "the application and its ConfigMap deleted",
        SETTLE,
        || async {
            let gone = apps.get_opt("web").await.ok()?.is_none();
            let a_gone = configmaps.get_opt("a").await.ok()?.is_none();
            (gone && a_gone).then_some(())
        },
    )
    .await?;

    // A graceful stop releases the Lease.
    controller.terminate()?;
    Ok(())
}

#[tokio::test]
async fn the_controller_uses_exactly_what_deploy_grants() -> anyhow::Result<()> {
    let policy_dir = tempfile::tempdir()?;
    let plane = start_plane(policy_dir.path()).await?;
    let admin = plane.client().await?;
    workload(&plane, &admin).await?;

    let (used, refused, non_resource) = read_audit(&plane.audit_log())?;
    let summary: Vec<String> = used.iter().map(ToString::to_string).collect();
    eprintln!("the controller's requests:\n  {}", summary.join("\n  "));
    eprintln!("non-resource requests: {non_resource:?}");
    ensure!(
        refused.is_empty(),
        "requests refused (missing grants): {refused:#?}"
    );
    for request in &non_resource {
        ensure!(
            request.starts_with("get /api") || request.starts_with("get /version"),
            "a non-resource request beyond discovery: {request}"
        );
    }

    let roles = deploy_roles()?;
    let narrow = [
        "driftless-controller",
        "driftless-leader-election",
        "driftless-repositories",
        "driftless-notifications",
    ];
    let manager = roles
        .get("driftless-manager")
        .context("no driftless-manager in deploy/")?;
    let mut relies_on_manager = Vec::new();
    for request in &used {
        let by_narrow = narrow
            .iter()
            .filter_map(|name| roles.get(*name))
            .any(|role| role.covers(request));
        if by_narrow {
            continue;
        }
        // The live cache lists and watches every kind the cluster serves, Events and Leases
        // among them: that is the manager's. Writing Events and the Lease, and reading the
        // ServiceAccount an Application writes as, is the controller's.
        let reads = request.verb == "list" || request.verb == "watch";
        let own_api = request.group == "driftless.dev"
            || (!reads
                && ["events", "leases", "serviceaccounts"].contains(&request.resource.as_str()));
        ensure!(
            !own_api,
            "{request} is the controller's own API but only driftless-manager grants it"
        );
        ensure!(
            manager.covers(request),
            "{request} is granted by no role of deploy/"
        );
        ensure!(
            MANAGER_VERBS.contains(&request.verb.as_str()),
            "{request}: a verb docs/install.md does not list for driftless-manager"
        );
        relies_on_manager.push(request.to_string());
    }
    ensure!(
        !relies_on_manager.is_empty(),
        "nothing used driftless-manager"
    );

    // Every verb of every rule of the three narrow roles, on every resource it names, was used
    // in the scope the role is bound to.
    let mut unused = Vec::new();
    for name in narrow {
        let role = roles
            .get(name)
            .with_context(|| format!("no {name} in deploy/"))?;
        for rule in &role.rules {
            for group in rule.api_groups.iter().flatten() {
                for resource in rule.resources.iter().flatten() {
                    for verb in &rule.verbs {
                        let hit = used.iter().any(|u| {
                            u.verb == *verb
                                && u.group == *group
                                && u.resource == *resource
                                && role.namespace.as_deref().is_none_or(|ns| ns == u.namespace)
                        });
                        if !hit {
                            unused.push(format!("{name}: {verb} {group}/{resource}"));
                        }
                    }
                }
            }
        }
    }
    ensure!(unused.is_empty(), "granted but never used: {unused:#?}");

    // driftless-manager: every verb on every resource, no non-resource URLs (docs/install.md).
    let broad = manager.rules.len() == 1
        && manager.rules.iter().all(|r| {
            r.api_groups.as_deref() == Some(&["*".to_owned()][..])
                && r.resources.as_deref() == Some(&["*".to_owned()][..])
                && r.verbs == ["*"]
                && r.non_resource_urls.is_none()
        });
    ensure!(
        broad,
        "driftless-manager is not every verb on every resource"
    );
    let install = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/install.md"),
    )?;
    let install = install.split_whitespace().collect::<Vec<_>>().join(" ");
    for claim in [
        "grants every verb on every resource of every group",
        "It grants no non-resource URLs",
    ] {
        ensure!(
            install.contains(claim),
            "docs/install.md no longer says {claim:?}"
        );
    }
    Ok(())
}
