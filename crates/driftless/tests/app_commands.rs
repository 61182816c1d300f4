//! `driftless app ...` end to end: the real binary against the real test control plane, with
//! the Application CRD installed and no controller running — each test writes the status the
//! controller would write, and stands in for it when a command waits.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use anyhow::{Context as _, ensure};
use driftless_api::{Application, SYNC_REQUEST_ANNOTATION, SyncRequest};
use driftless_testenv::{eventually, git, with_namespace};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

/// Generous bound for the API server on a busy machine; not a performance figure.
const SETTLE: Duration = Duration::from_secs(90);

const REV1: &str = "1111111111111111111111111111111111111111";
const REV2: &str = "2222222222222222222222222222222222222222";
const REV3: &str = "3333333333333333333333333333333333333333";

fn command(args: &[&str]) -> anyhow::Result<Command> {
    let kubeconfig = driftless_testenv::shared()?.kubeconfig().to_owned();
    let mut command = Command::new(env!("CARGO_BIN_EXE_driftless"));
    command.args(args).env("KUBECONFIG", kubeconfig);
    for var in [
        "DRIFTLESS_NAMESPACE",
        "DRIFTLESS_CONTROLLER_NAMESPACE",
        "DRIFTLESS_OUTPUT",
        "DRIFTLESS_NO_WAIT",
        "DRIFTLESS_WAIT_TIMEOUT",
        "DRIFTLESS_ALL_NAMESPACES",
        "DRIFTLESS_CONTEXT",
        "DRIFTLESS_REPO",
    ] {
        command.env_remove(var);
    }
    Ok(command)
}

fn driftless(args: &[&str]) -> anyhow::Result<Output> {
    Ok(command(args)?.output()?)
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        stdout(output),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Asserts exit code 2 and exactly one line on stderr, and returns it.
fn one_line_error(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(2), "{}", text(output));
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(stderr.lines().count(), 1, "one-line error: {stderr}");
    stderr.trim_end().to_owned()
}

/// Creates an Application `name` with this spec in `ns`.
async fn create_app(client: &Client, ns: &str, name: &str, spec: Value) -> anyhow::Result<()> {
    let app: Application = serde_json::from_value(json!({
        "apiVersion": "driftless.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }))?;
    Api::<Application>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &app)
        .await?;
    Ok(())
}

async fn write_status(client: &Client, ns: &str, name: &str, status: Value) -> anyhow::Result<()> {
    Api::<Application>::namespaced(client.clone(), ns)
        .patch_status(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({ "status": status })),
        )
        .await?;
    Ok(())
}

fn guestbook_spec() -> Value {
    json!({
        "source": {"repoURL": "https://git.example/org/guestbook.git", "targetRevision": "main", "path": "deploy"},
        "destination": {"namespace": "guestbook"},
        "syncPolicy": {"automated": {"prune": true, "selfHeal": true}},
    })
}

/// The status the controller writes after three deployments and a failed sync of REV3.
fn deployed_status(operation: Value) -> Value {
    json!({
        "observedGeneration": 1,
        "sync": {"status": "OutOfSync", "revision": REV3},
        "health": {"status": "Degraded", "message": "Deployment guestbook/web: 1 of 2 replicas unavailable"},
        "resources": [
            {"group": "apps", "kind": "Deployment", "namespace": "guestbook", "name": "web", "status": "Synced", "health": {"status": "Degraded"}},
            {"kind": "ConfigMap", "namespace": "guestbook", "name": "settings", "status": "OutOfSync", "message": "admission denied"},
        ],
        "conditions": [{"type": "Ready", "status": "False", "reason": "SyncFailed",
            "message": "ConfigMap guestbook/settings: admission denied", "lastTransitionTime": "2025-01-01T11:30:00Z"}],
        "operationState": operation,
        "history": [
            {"id": 1, "revision": REV1, "deployedAt": "2025-01-01T10:00:00Z", "initiatedBy": "automated"},
            {"id": 2, "revision": REV2, "deployedAt": "2025-01-01T11:00:00Z", "initiatedBy": "user:alice"},
            {"id": 3, "revision": REV3, "deployedAt": "2025-01-01T11:20:00Z", "initiatedBy": "webhook"},
        ],
        "reconciledAt": "2025-01-01T11:59:00Z",
    })
}

fn failed_operation(request_id: &str) -> Value {
    json!({
        "phase": "Failed",
        "message": "ConfigMap guestbook/settings: admission denied",
        "revision": REV3,
        "initiatedBy": "automated",
        "startedAt": "2025-01-01T11:29:00Z",
        "finishedAt": "2025-01-01T11:30:00Z",
        "requestId": request_id,
        "results": [
            {"kind": "ConfigMap", "namespace": "guestbook", "name": "settings", "action": "update", "result": "failed", "message": "admission denied"},
            {"group": "apps", "kind": "Deployment", "namespace": "guestbook", "name": "web", "action": "update", "result": "synced"},
        ],
    })
}

/// An Application `guestbook` in `ns` with the deployed status.
async fn guestbook(client: &Client, ns: &str) -> anyhow::Result<()> {
    driftless_testenv::install_project_crds(client).await?;
    create_app(client, ns, "guestbook", guestbook_spec()).await?;
    write_status(
        client,
        ns,
        "guestbook",
        deployed_status(failed_operation("earlier")),
    )
    .await
}

/// Standing in for the controller: records the operation, then removes the request annotation.
async fn answer(client: &Client, ns: &str, name: &str, operation: Value) -> anyhow::Result<()> {
    write_status(client, ns, name, json!({ "operationState": operation })).await?;
    Api::<Application>::namespaced(client.clone(), ns)
        .patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {SYNC_REQUEST_ANNOTATION: null}}})),
        )
        .await?;
    Ok(())
}

async fn read_app(client: &Client, ns: &str, name: &str) -> anyhow::Result<Application> {
    Ok(Api::<Application>::namespaced(client.clone(), ns)
        .get(name)
        .await?)
}

fn pending_request(app: &Application) -> anyhow::Result<SyncRequest> {
    let text = app
        .annotations()
        .get(SYNC_REQUEST_ANNOTATION)
        .context("no sync-request annotation")?;
    Ok(SyncRequest::parse(text)?)
}

#[tokio::test]
async fn list_get_and_history_show_the_status_and_parse_as_json_and_yaml() -> anyhow::Result<()> {
    with_namespace("app-list", |client, ns| async move {
        guestbook(&client, &ns).await?;

        let list = driftless(&["app", "list", "-n", &ns])?;
        assert_eq!(list.status.code(), Some(0), "{}", text(&list));
        let lines: Vec<String> = stdout(&list).lines().map(str::to_owned).collect();
        let words = |line: &str| {
            line.split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            words(&lines[0]),
            ["NAME", "SYNC", "HEALTH", "REVISION", "AGE"]
        );
        assert_eq!(
            words(&lines[1])[..4],
            ["guestbook", "OutOfSync", "Degraded", "3333333"]
        );

        let wide = driftless(&["app", "list", "-n", &ns, "-o", "wide"])?;
        assert!(
            stdout(&wide).contains("https://git.example/org/guestbook.git"),
            "{}",
            text(&wide)
        );
        assert!(stdout(&wide).contains("LAST SYNC"), "{}", text(&wide));
        assert!(stdout(&wide).contains(REV3), "{}", text(&wide));

        let all = driftless(&["app", "list", "-A"])?;
        let ours = stdout(&all)
            .lines()
            .find(|line| line.starts_with(&format!("{ns} ")))
            .map(words)
            .with_context(|| text(&all))?;
        assert_eq!(
            ours[..3],
            [ns.clone(), "guestbook".to_owned(), "OutOfSync".to_owned()]
        );

        let json_list: Value =
            serde_json::from_slice(&driftless(&["app", "list", "-n", &ns, "-o", "json"])?.stdout)?;
        let items: Vec<Application> = serde_json::from_value(json_list["items"].clone())?;
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].status.as_ref().map(|s| s.history.len()), Some(3));
        let yaml_list = stdout(&driftless(&["app", "list", "-n", &ns, "-o", "yaml"])?);
        let yaml_list: Value = serde_saphyr::from_str(&yaml_list)?;
        assert_eq!(yaml_list["items"][0]["metadata"]["name"], "guestbook");

        let get = driftless(&["app", "get", "guestbook", "-n", &ns])?;
        assert_eq!(get.status.code(), Some(0), "{}", text(&get));
        let summary = stdout(&get);
        for expected in [
            &format!("{ns}/guestbook"),
            "automated (prune, self-heal)",
            "OutOfSync at 3333333",
            "Degraded: Deployment guestbook/web: 1 of 2 replicas unavailable",
            "SyncFailed",
            "ConfigMap guestbook/settings: admission denied",
            "RESOURCES",
            "LAST OPERATION",
            "update   failed",
        ] {
            assert!(
                summary.contains(expected),
                "missing {expected:?} in\n{summary}"
            );
        }
        let as_json: Application = serde_json::from_slice(
            &driftless(&["app", "get", "guestbook", "-n", &ns, "-o", "json"])?.stdout,
        )?;
        let live = read_app(&client, &ns, "guestbook").await?;
        assert_eq!(as_json.spec, live.spec);
        assert_eq!(as_json.status, live.status);
        assert_eq!(as_json.resource_version(), live.resource_version());
        let as_yaml: Application = serde_saphyr::from_str(&stdout(&driftless(&[
            "app",
            "get",
            "guestbook",
            "-n",
            &ns,
            "-o",
            "yaml",
        ])?))?;
        assert_eq!(as_yaml.spec.source.path.as_deref(), Some("deploy"));

        let history = driftless(&["app", "history", "guestbook", "-n", &ns])?;
        assert_eq!(history.status.code(), Some(0), "{}", text(&history));
        let rows: Vec<Vec<String>> = stdout(&history).lines().skip(1).map(words).collect();
        let ids: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
        assert_eq!(ids, ["1", "2", "3"], "newest last");
        assert_eq!(
            rows[1][1..],
            [
                "2222222".to_owned(),
                "2025-01-01T11:00:00Z".to_owned(),
                "user:alice".to_owned()
            ]
        );
        let entries: Vec<driftless_api::HistoryEntry> = serde_json::from_slice(
            &driftless(&["app", "history", "guestbook", "-n", &ns, "-o", "json"])?.stdout,
        )?;
        assert_eq!(
            entries
                .iter()
                .map(|e| e.revision.as_str())
                .collect::<Vec<_>>(),
            [REV1, REV2, REV3]
        );
        anyhow::Ok(())
    })
    .await?
}

#[tokio::test]
async fn sync_without_waiting_writes_a_parsable_request() -> anyhow::Result<()> {
    with_namespace("app-sync-nowait", |client, ns| async move {
        guestbook(&client, &ns).await?;
        let sync = driftless(&[
            "app",
            "sync",
            "guestbook",
            "-n",
            &ns,
            "--no-wait",
            "--revision",
            "v2.0.0",
            "--prune",
        ])?;
        assert_eq!(sync.status.code(), Some(0), "{}", text(&sync));
        let request = pending_request(&read_app(&client, &ns, "guestbook").await?)?;
        assert_eq!(request.revision.as_deref(), Some("v2.0.0"));
        assert!(request.prune);
        assert!(!request.id.is_empty());
        assert!(stdout(&sync).contains(&request.id), "{}", text(&sync));

        // A second request gets a new id and replaces the first; no revision means the target.
        let again = driftless(&["app", "sync", "guestbook", "-n", &ns, "--no-wait"])?;
        assert_eq!(again.status.code(), Some(0), "{}", text(&again));
        assert!(
            text(&again).contains("warning: replacing the pending sync request"),
            "{}",
            text(&again)
        );
        let second = pending_request(&read_app(&client, &ns, "guestbook").await?)?;
        assert_ne!(second.id, request.id);
        assert_eq!((second.revision, second.prune), (None, false));
        anyhow::Ok(())
    })
    .await?
}

#[tokio::test]
async fn sync_waits_for_the_result_of_its_own_request() -> anyhow::Result<()> {
    with_namespace("app-sync-wait", |client, ns| async move {
        // The status already holds a finished operation of an earlier request: not ours.
        guestbook(&client, &ns).await?;
        let child = command(&[
            "app",
            "sync",
            "guestbook",
            "-n",
            &ns,
            "--wait",
            "--timeout",
            "5m",
        ])?
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
        let apps = Api::<Application>::namespaced(client.clone(), &ns);
        let id = eventually("the sync request annotation", SETTLE, || async {
            pending_request(&apps.get("guestbook").await.ok()?)
                .ok()
                .map(|r| r.id)
        })
        .await?;

        // Standing in for the controller: running, then failed, for this request.
        let mut running = failed_operation(&id);
        running["phase"] = json!("Running");
        running["message"] = json!("wave 0: applying 2 objects");
        write_status(
            &client,
            &ns,
            "guestbook",
            json!({"operationState": running}),
        )
        .await?;
        let mut failed = failed_operation(&id);
        failed["message"] =
            json!("ConfigMap guestbook/settings: admission denied (request answered)");
        answer(&client, &ns, "guestbook", failed).await?;

        let output = tokio::task::spawn_blocking(move || child.wait_with_output()).await??;
        assert_eq!(output.status.code(), Some(2), "{}", text(&output));
        let out = stdout(&output);
        assert!(out.contains("Phase:        Failed"), "{out}");
        assert!(out.contains("(request answered)"), "{out}");
        assert!(
            out.contains("settings   update   failed   admission denied"),
            "{out}"
        );
        assert!(out.contains(&id), "{out}");

        // A Succeeded answer exits 0.
        let child = command(&["app", "sync", "guestbook", "-n", &ns])?
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let id = eventually("a new sync request", SETTLE, || {
            let apps = apps.clone();
            let previous = id.clone();
            async move {
                pending_request(&apps.get("guestbook").await.ok()?)
                    .ok()
                    .map(|r| r.id)
                    .filter(|new| *new != previous)
            }
        })
        .await?;
        let mut succeeded = failed_operation(&id);
        succeeded["phase"] = json!("Succeeded");
        succeeded["message"] = json!("successfully synced");
        succeeded["results"] = json!([]);
        answer(&client, &ns, "guestbook", succeeded).await?;
        let output = tokio::task::spawn_blocking(move || child.wait_with_output()).await??;
        assert_eq!(output.status.code(), Some(0), "{}", text(&output));
        assert!(
            stdout(&output).contains("successfully synced"),
            "{}",
            text(&output)
        );

        // Nobody answers: exit 2 and a hint at the controller.
        let unanswered = driftless(&["app", "sync", "guestbook", "-n", &ns, "--timeout", "2s"])?;
        let error = one_line_error(&unanswered);
        assert!(
            error.contains(&format!("application {ns}/guestbook")),
            "{error}"
        );
        assert!(
            error.contains("the controller may not be running"),
            "{error}"
        );
        anyhow::Ok(())
    })
    .await?
}

#[tokio::test]
async fn rollback_suspends_and_requests_the_entry_revision() -> anyhow::Result<()> {
    with_namespace("app-rollback", |client, ns| async move {
        guestbook(&client, &ns).await?;
        let before = read_app(&client, &ns, "guestbook").await?;

        let unknown = driftless(&["app", "rollback", "guestbook", "7", "-n", &ns, "--no-wait"])?;
        let error = one_line_error(&unknown);
        assert_eq!(
            error,
            format!("error: application {ns}/guestbook: no history entry 7 (known ids: 1, 2, 3)")
        );
        let unchanged = read_app(&client, &ns, "guestbook").await?;
        assert_eq!(
            unchanged.resource_version(),
            before.resource_version(),
            "a failed rollback changed the Application"
        );

        let rollback = driftless(&["app", "rollback", "guestbook", "2", "-n", &ns, "--no-wait"])?;
        assert_eq!(rollback.status.code(), Some(0), "{}", text(&rollback));
        assert!(
            stdout(&rollback).contains(&format!("driftless app resume guestbook -n {ns}")),
            "{}",
            text(&rollback)
        );
        let app = read_app(&client, &ns, "guestbook").await?;
        assert!(app.spec.suspend);
        let request = pending_request(&app)?;
        assert_eq!(request.revision.as_deref(), Some(REV2));
        assert_eq!(request.initiated_by.as_deref(), Some("rollback to 2"));

        let resume = driftless(&["app", "resume", "guestbook", "-n", &ns])?;
        assert_eq!(resume.status.code(), Some(0), "{}", text(&resume));
        assert!(!read_app(&client, &ns, "guestbook").await?.spec.suspend);

        // By time: what was live at 11:10 UTC is entry 2 (deployed 11:00, replaced at 11:20).
        let shown = driftless(&[
            "app", "history", "guestbook", "-n", &ns, "--at", "2025-01-01T11:10Z", "-o", "json",
        ])?;
        assert_eq!(shown.status.code(), Some(0), "{}", text(&shown));
        let entries: Vec<driftless_api::HistoryEntry> = serde_json::from_str(&stdout(&shown))?;
        assert_eq!(entries.iter().map(|e| e.id).collect::<Vec<_>>(), [2]);
        let early = driftless(&["app", "history", "guestbook", "-n", &ns, "--at", "2024-12-31T00:00Z"])?;
        assert_eq!(
            one_line_error(&early),
            format!(
                "error: application {ns}/guestbook: 2024-12-31T00:00:00Z is before the first known deployment: history entry 1 (commit {REV1}) at 2025-01-01T10:00:00Z"
            )
        );
        let bad = driftless(&["app", "rollback", "guestbook", "-n", &ns, "--at", "soonish", "--no-wait"])?;
        assert!(one_line_error(&bad).starts_with("error: --at \"soonish\": not a time"), "{}", text(&bad));
        let by_time = driftless(&[
            "app", "rollback", "guestbook", "-n", &ns, "--at", "2025-01-01T10:30Z", "--no-wait",
        ])?;
        assert_eq!(by_time.status.code(), Some(0), "{}", text(&by_time));
        let app = read_app(&client, &ns, "guestbook").await?;
        assert!(app.spec.suspend);
        let request = pending_request(&app)?;
        assert_eq!(request.revision.as_deref(), Some(REV1));
        assert_eq!(request.initiated_by.as_deref(), Some("rollback to 1"));
        anyhow::Ok(())
    })
    .await?
}

#[tokio::test]
async fn missing_applications_are_one_line_errors() -> anyhow::Result<()> {
    with_namespace("app-missing", |client, ns| async move {
        driftless_testenv::install_project_crds(&client).await?;
        let expected = format!("error: application {ns}/nope not found");
        for args in [
            vec!["get", "nope"],
            vec!["history", "nope"],
            vec!["sync", "nope", "--no-wait"],
            vec!["rollback", "nope", "1"],
            vec!["resume", "nope"],
            vec!["diff", "nope"],
        ] {
            let mut all = vec!["app"];
            all.extend(&args);
            all.extend(["-n", ns.as_str()]);
            let output = driftless(&all)?;
            assert_eq!(one_line_error(&output), expected, "{args:?}");
        }
        anyhow::Ok(())
    })
    .await?
}

#[tokio::test]
async fn diff_compares_as_the_controller_does() -> anyhow::Result<()> {
    with_namespace("app-diff", |client, ns| async move {
        driftless_testenv::install_project_crds(&client).await?;
        let repo = tempfile::tempdir()?;
        let cache = tempfile::tempdir()?;
        let dir = repo.path();
        git(dir, &["init", "-q", "-b", "main"])?;
        git(dir, &["config", "user.email", "t@example.com"])?;
        git(dir, &["config", "user.name", "t"])?;
        std::fs::create_dir_all(dir.join("deploy"))?;
        std::fs::write(
            dir.join("deploy/settings.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: fast}\n",
        )?;
        git(dir, &["add", "-A"])?;
        git(dir, &["commit", "-qm", "fast"])?;
        create_app(
            &client,
            &ns,
            "web",
            json!({
                "source": {"repoURL": format!("file://{}", dir.display()), "path": "deploy"},
                "destination": {"namespace": ns},
                "ignoreDifferences": [{"kind": "ConfigMap", "jsonPointers": ["/data/mode"]}],
            }),
        )
        .await?;
        let cache_dir = cache.path().to_string_lossy().into_owned();
        let app_diff = || driftless(&["app", "diff", "web", "-n", &ns, "--cache-dir", &cache_dir]);

        let before = app_diff()?;
        assert_eq!(before.status.code(), Some(1), "{}", text(&before));
        assert!(text(&before).contains("1 to create"), "{}", text(&before));

        // Synced under the controller's identity, `<namespace>_<name>`: nothing left to show.
        let identity = format!("{ns}_web");
        let deploy = dir.join("deploy").to_string_lossy().into_owned();
        let sync = driftless(&["sync", &deploy, "--app", &identity, "--dest-namespace", &ns])?;
        assert_eq!(sync.status.code(), Some(0), "{}", text(&sync));
        let after = app_diff()?;
        assert_eq!(after.status.code(), Some(0), "{}", text(&after));

        // A hand edit of an ignored field is no difference for the app, though plain diff sees it.
        let edit = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings"}, "data": {"mode": "hand-edited"}});
        Api::<ConfigMap>::namespaced(client.clone(), &ns)
            .patch(
                "settings",
                &PatchParams::apply("someone").force(),
                &Patch::Apply(&edit),
            )
            .await?;
        let plain = driftless(&["diff", &deploy, "--app", &identity, "--dest-namespace", &ns])?;
        assert_eq!(plain.status.code(), Some(1), "{}", text(&plain));
        let ignored = app_diff()?;
        assert_eq!(ignored.status.code(), Some(0), "{}", text(&ignored));
        anyhow::Ok(())
    })
    .await?
}

#[tokio::test]
async fn proj_creates_lists_shows_and_reports_windows() -> anyhow::Result<()> {
    with_namespace("proj-commands", |client, ns| async move {
        driftless_testenv::install_project_crds(&client).await?;
        let n = ["-n", ns.as_str()];
        let mut create = vec![
            "proj", "create", "team-a", "--description", "Team A",
            "-s", "https://git.example/team-a/*",
            "-d", "https://kubernetes.default.svc,team-a-*",
            "--source-namespaces", "team-a-apps",
            "--allow-cluster-resource", "/Namespace",
            "--deny-namespaced-resource", "/ResourceQuota",
        ];
        create.extend(n);
        let output = driftless(&create)?;
        ensure!(output.status.success(), "{}", text(&output));
        let projects: Api<driftless_api::AppProject> = Api::namespaced(client.clone(), &ns);
        let created = projects.get("team-a").await?;
        ensure!(created.spec.source_repos == ["https://git.example/team-a/*"], "{:?}", created.spec);
        ensure!(
            created.spec.destinations[0].namespace.as_deref() == Some("team-a-*")
                && created.spec.cluster_resource_whitelist[0].kind == "Namespace"
                && created.spec.namespace_resource_blacklist[0].kind == "ResourceQuota",
            "{:?}",
            created.spec
        );
        // Again: a one-line error; a bad flag too.
        let again = one_line_error(&driftless(&create)?);
        ensure!(again.contains("exists already"), "{again}");
        let bad = one_line_error(&driftless(&["proj", "create", "x", "-d", "nocomma", "-n", &ns])?);
        ensure!(bad.contains("SERVER,NAMESPACE"), "{bad}");

        let list = driftless(&["proj", "list", "-n", &ns])?;
        let table = stdout(&list);
        ensure!(list.status.success() && table.starts_with("NAME"), "{}", text(&list));
        ensure!(table.contains("team-a") && table.contains("https://kubernetes.default.svc,team-a-*"), "{table}");
        let json: Value = serde_json::from_str(&stdout(&driftless(&["proj", "get", "team-a", "-o", "json", "-n", &ns])?))?;
        ensure!(json["spec"]["sourceRepos"][0] == "https://git.example/team-a/*", "{json}");
        let shown = stdout(&driftless(&["proj", "get", "team-a", "-n", &ns])?);
        ensure!(shown.contains("Team A") && shown.contains("/ResourceQuota"), "{shown}");

        // Windows: one always open, one that opens at 22:00 UTC.
        let windows = json!({"spec": {"syncWindows": [
            {"kind": "deny", "schedule": "* * * * *", "duration": "1h", "namespaces": ["*"]},
            {"kind": "allow", "schedule": "0 22 * * *", "duration": "1h", "namespaces": ["*"], "manualSync": true},
        ]}});
        projects
            .patch("team-a", &PatchParams::default(), &Patch::Merge(windows))
            .await?;
        let output = driftless(&["proj", "windows", "team-a", "-n", &ns])?;
        let table = stdout(&output);
        ensure!(output.status.success(), "{}", text(&output));
        let rows: Vec<&str> = table.lines().collect();
        ensure!(rows.len() == 3 && rows[0].starts_with("ID"), "{table}");
        ensure!(rows[1].contains("deny") && rows[1].contains("until "), "{table}");
        ensure!(rows[2].contains("allow") && rows[2].contains("T22:00:00Z") && rows[2].contains("allowed"), "{table}");
        let missing = one_line_error(&driftless(&["proj", "windows", "nope", "-n", &ns])?);
        ensure!(missing == format!("error: project {ns}/nope not found"), "{missing}");
        anyhow::Ok(())
    })
    .await?
}

/// Commits everything in `dir` with author and committer time `seconds` (Unix time).
fn commit_at(dir: &Path, seconds: i64, message: &str) -> anyhow::Result<String> {
    git(dir, &["add", "-A"])?;
    let date = format!("{seconds} +0000");
    let out = Command::new("git")
        .args(["commit", "-q", "--allow-empty", "-m", message])
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_DATE", &date)
        .current_dir(dir)
        .output()?;
    ensure!(
        out.status.success(),
        "git commit: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(git(dir, &["rev-parse", "HEAD"])?)
}

#[tokio::test]
async fn history_and_rollback_before_the_kept_history_are_inferred_from_git() -> anyhow::Result<()>
{
    use k8s_openapi::jiff::Timestamp;
    with_namespace("app-at-git", |client, ns| async move {
        driftless_testenv::install_project_crds(&client).await?;
        let repo = tempfile::tempdir()?;
        let cache = tempfile::tempdir()?;
        let dir = repo.path();
        git(dir, &["init", "-q", "-b", "main"])?;
        git(dir, &["config", "user.email", "t@example.com"])?;
        git(dir, &["config", "user.name", "T"])?;
        create_app(
            &client,
            &ns,
            "web",
            json!({"source": {"repoURL": format!("file://{}", dir.display()), "targetRevision": "main"},
                   "destination": {"namespace": ns}}),
        )
        .await?;
        let created = read_app(&client, &ns, "web")
            .await?
            .metadata
            .creation_timestamp
            .context("no creationTimestamp")?
            .0
            .as_second();
        // Three commits 10, 20 and 30 minutes after the Application was created; the history
        // kept starts with entry 5 (the fourth commit, deployed at +50 min): entries 1-4 were dropped.
        let at = |minutes: i64| -> anyhow::Result<String> {
            Ok(Timestamp::from_second(created + minutes * 60)?.to_string())
        };
        let mut commits = Vec::new();
        for (minutes, mode) in [(10, "a"), (20, "b"), (30, "c"), (40, "d")] {
            std::fs::write(dir.join("cm.yaml"), format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: m}}\ndata: {{mode: {mode}}}\n"))?;
            commits.push(commit_at(dir, created + minutes * 60, &format!("mode {mode}"))?);
        }
        write_status(&client, &ns, "web", json!({"history": [
            {"id": 5, "revision": commits[3], "deployedAt": at(50)?, "initiatedBy": "automated"},
            {"id": 6, "revision": commits[3], "deployedAt": at(60)?, "initiatedBy": "user:alice"},
        ]})).await?;
        let cache_dir = cache.path().to_string_lossy().into_owned();
        let history_at = |when: String| {
            driftless(&["app", "history", "web", "-n", &ns, "--at", &when, "--cache-dir", &cache_dir, "-o", "json"])
        };

        // Between the second and the third commit: the second, inferred.
        let output = history_at(at(25)?)?;
        assert_eq!(output.status.code(), Some(0), "{}", text(&output));
        let inferred: Value = serde_json::from_slice(&output.stdout)?;
        assert_eq!(inferred[0]["revision"], commits[1].as_str(), "{inferred}");
        assert_eq!(inferred[0]["inferred"], true);
        assert_eq!(inferred[0]["fromEntry"], 5);
        assert_eq!(inferred[0]["committedAt"], at(20)?);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("inferred from Git"), "{stderr}");
        assert!(stderr.contains(&format!("before history entry 5 (deployed {})", at(50)?)), "{stderr}");
        // After the oldest entry, the history answers as before.
        let recorded: Vec<driftless_api::HistoryEntry> = serde_json::from_slice(&history_at(at(55)?)?.stdout)?;
        assert_eq!(recorded.iter().map(|e| e.id).collect::<Vec<_>>(), [5]);
        // Before the first commit, and before the Application existed: the earliest is named.
        let early = one_line_error(&history_at(at(5)?)?);
        assert_eq!(
            early,
            format!("error: application {ns}/web: {} is before the first commit of history entry 5's branch; the earliest is commit {} at {}", at(5)?, commits[0], at(10)?)
        );
        let before = one_line_error(&history_at(at(-60)?)?);
        assert!(before.contains("is before the application was created"), "{before}");

        // Rollback to that moment: the inferred commit, automated sync suspended.
        let rollback = driftless(&["app", "rollback", "web", "-n", &ns, "--at", &at(35)?, "--cache-dir", &cache_dir, "--no-wait"])?;
        assert_eq!(rollback.status.code(), Some(0), "{}", text(&rollback));
        assert!(stdout(&rollback).contains(&format!("to commit {} (inferred from Git)", commits[2])), "{}", text(&rollback));
        let app = read_app(&client, &ns, "web").await?;
        assert!(app.spec.suspend);
        let request = pending_request(&app)?;
        assert_eq!(request.revision.as_deref(), Some(commits[2].as_str()));
        assert_eq!(request.initiated_by, Some(format!("rollback to {}", &commits[2][..7])));
        anyhow::Ok(())
    })
    .await?
}
