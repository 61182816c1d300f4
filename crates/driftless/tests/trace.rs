//! `driftless trace` end to end: the real binary against the real test control plane and a Git
//! repository on loopback (`file://`) with commits by four authors. Objects are applied by
//! `driftless sync` under each Application's identity; the test writes the history the
//! controller would record for those syncs (as `app_commands.rs` does, no controller runs).

use std::path::Path;
use std::process::{Command, Output};

use anyhow::{Context as _, ensure};
use driftless_api::Application;
use driftless_testenv::with_namespace;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Client;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

fn driftless(args: &[&str]) -> anyhow::Result<Output> {
    let kubeconfig = driftless_testenv::shared()?.kubeconfig().to_owned();
    let mut command = Command::new(env!("CARGO_BIN_EXE_driftless"));
    command.args(args).env("KUBECONFIG", kubeconfig);
    for var in [
        "DRIFTLESS_NAMESPACE",
        "DRIFTLESS_OUTPUT",
        "DRIFTLESS_CONTEXT",
    ] {
        command.env_remove(var);
    }
    Ok(command.output()?)
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
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

/// The JSON a successful `trace -o json` prints.
fn traced(args: &[&str]) -> anyhow::Result<Value> {
    let output = driftless(args)?;
    ensure!(output.status.success(), "{args:?}: {}", text(&output));
    Ok(serde_json::from_slice(&output.stdout)?)
}

/// A Git repository the test commits to as different people.
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> anyhow::Result<Self> {
        let repo = Self {
            dir: tempfile::tempdir()?,
        };
        repo.git(&["init", "-q", "-b", "main"])?;
        Ok(repo)
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn url(&self) -> String {
        format!("file://{}", self.path().display())
    }

    fn git(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = Command::new("git")
            .args(args)
            .current_dir(self.path())
            .output()?;
        ensure!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8(out.stdout)?.trim().to_owned())
    }

    fn write(&self, file: &str, content: &str) -> anyhow::Result<()> {
        let full = self.path().join(file);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(full, content)?;
        Ok(())
    }

    /// Commits everything as `who` (name, e-mail) and returns the commit id.
    fn commit(&self, who: (&str, &str), message: &str) -> anyhow::Result<String> {
        self.git(&["add", "-A"])?;
        let out = Command::new("git")
            .args(["commit", "-q", "-m", message])
            .env("GIT_AUTHOR_NAME", who.0)
            .env("GIT_AUTHOR_EMAIL", who.1)
            .env("GIT_COMMITTER_NAME", who.0)
            .env("GIT_COMMITTER_EMAIL", who.1)
            .current_dir(self.path())
            .output()?;
        ensure!(
            out.status.success(),
            "git commit: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.git(&["rev-parse", "HEAD"])
    }
}

const ALICE: (&str, &str) = ("Alice", "alice@example.com");
const BOB: (&str, &str) = ("Bob", "bob@example.com");
const CAROL: (&str, &str) = ("Carol", "carol@example.com");
const DAVE: (&str, &str) = ("Dave", "dave@example.com");

const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.25
";

const REPLICAS_PATCH: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
";

fn settings(mode: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: {mode}\n  size: large\n"
    )
}

/// The commits of the story, in order.
struct Story {
    repo: Repo,
    /// Alice: the base, the overlay and the plain settings.
    added: String,
    /// Bob: the overlay's replicas patch, merged as pull request #7.
    scaled: String,
    /// Carol: the plain settings' mode, squash-merged as #9.
    sped_up: String,
    /// Dave: the overlay's image tag.
    bumped: String,
}

fn story() -> anyhow::Result<Story> {
    let repo = Repo::new()?;
    repo.write("base/deployment.yaml", DEPLOYMENT)?;
    repo.write("base/kustomization.yaml", "resources:\n- deployment.yaml\n")?;
    repo.write("overlay/kustomization.yaml", "resources:\n- ../base\n")?;
    repo.write("plain/settings.yaml", &settings("slow"))?;
    let added = repo.commit(ALICE, "Add web and settings")?;
    repo.write("overlay/replicas.yaml", REPLICAS_PATCH)?;
    repo.write(
        "overlay/kustomization.yaml",
        "resources:\n- ../base\npatches:\n- path: replicas.yaml\n",
    )?;
    let scaled = repo.commit(BOB, "Merge pull request #7 from bob/scale\n\nTwo replicas")?;
    repo.write("plain/settings.yaml", &settings("fast"))?;
    let sped_up = repo.commit(CAROL, "Speed up settings (#9)")?;
    repo.write(
        "overlay/kustomization.yaml",
        "resources:\n- ../base\npatches:\n- path: replicas.yaml\nimages:\n- name: nginx\n  newTag: \"1.27\"\n",
    )?;
    let bumped = repo.commit(DAVE, "Bump nginx to 1.27")?;
    Ok(Story {
        repo,
        added,
        scaled,
        sped_up,
        bumped,
    })
}

/// An Application `name` of `path` with the history the controller would have written.
async fn application(
    client: &Client,
    ns: &str,
    name: &str,
    url: &str,
    path: &str,
    history: Value,
) -> anyhow::Result<()> {
    let app: Application = serde_json::from_value(json!({
        "apiVersion": "driftless.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"source": {"repoURL": url, "targetRevision": "main", "path": path},
                 "destination": {"namespace": ns}},
    }))?;
    let apps = Api::<Application>::namespaced(client.clone(), ns);
    apps.create(&PostParams::default(), &app).await?;
    apps.patch_status(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"history": history}})),
    )
    .await?;
    Ok(())
}

/// `driftless sync` of `path` at `commit` under the controller's identity for `app`.
fn sync(story: &Story, ns: &str, app: &str, path: &str, commit: &str) -> anyhow::Result<()> {
    let identity = format!("{ns}_{app}");
    let url = story.repo.url();
    let output = driftless(&[
        "sync",
        "--repo",
        &url,
        "--revision",
        commit,
        "--path",
        path,
        "--app",
        &identity,
        "--dest-namespace",
        ns,
    ])?;
    ensure!(output.status.success(), "sync {path}: {}", text(&output));
    Ok(())
}

#[tokio::test]
async fn trace_names_the_file_commit_author_and_sync_of_objects_and_fields() -> anyhow::Result<()> {
    with_namespace("trace", |client, ns| async move {
        driftless_testenv::install_project_crds(&client).await?;
        let story = story()?;
        let url = story.repo.url();
        let cache = tempfile::tempdir()?;
        let cache_dir = cache.path().to_string_lossy().into_owned();

        // web (the overlay): deployed at Bob's commit by bob, then at Dave's by a webhook.
        sync(&story, &ns, "web", "overlay", &story.scaled)?;
        sync(&story, &ns, "web", "overlay", &story.bumped)?;
        application(&client, &ns, "web", &url, "overlay", json!([
            {"id": 1, "revision": story.added, "deployedAt": "2026-12-01T10:00:00Z", "initiatedBy": "automated"},
            {"id": 2, "revision": story.scaled, "deployedAt": "2026-12-01T11:00:00Z", "initiatedBy": "user:bob"},
            {"id": 3, "revision": story.bumped, "deployedAt": "2026-12-01T12:00:00Z", "initiatedBy": "webhook"},
        ])).await?;
        // settings (plain files): deployed at Alice's commit, then at Dave's.
        sync(&story, &ns, "settings", "plain", &story.bumped)?;
        application(&client, &ns, "settings", &url, "plain", json!([
            {"id": 4, "revision": story.added, "deployedAt": "2026-12-01T10:00:00Z", "initiatedBy": "automated"},
            {"id": 5, "revision": story.bumped, "deployedAt": "2026-12-01T12:00:00Z", "initiatedBy": "webhook"},
        ])).await?;
        let trace = |object: &str, field: Option<&str>| {
            let mut args = vec!["trace", object, "-n", ns.as_str(), "--cache-dir", cache_dir.as_str(), "-o", "json"];
            if let Some(field) = field {
                args.extend(["--field", field]);
            }
            traced(&args)
        };

        // Through the overlay's patch file: Bob's pull request, applied by entry 2.
        let replicas = trace("deployment/web", Some("spec.replicas"))?;
        assert_eq!(replicas["application"]["name"], "web", "{replicas:#}");
        assert_eq!(replicas["application"]["namespace"], ns.as_str());
        assert_eq!(replicas["application"]["cluster"], "https://kubernetes.default.svc");
        assert_eq!(replicas["revision"], story.bumped.as_str());
        assert_eq!(replicas["declared"]["file"], "base/deployment.yaml");
        assert_eq!(replicas["declared"]["line"], 1);
        let field = &replicas["field"];
        assert_eq!(field["desired"], 2);
        assert_eq!(field["setBy"]["file"], "overlay/replicas.yaml", "{replicas:#}");
        assert_eq!(field["setBy"]["line"], 6);
        assert_eq!(field["setBy"]["how"], "PatchTransformer");
        assert_eq!((field["live"].clone(), field["differs"].clone()), (json!(2), json!(false)));
        let commit = &replicas["commit"];
        assert_eq!(commit["id"], story.scaled.as_str(), "{replicas:#}");
        assert_eq!((commit["author"].as_str(), commit["email"].as_str()), (Some("Bob"), Some("bob@example.com")));
        assert_eq!(commit["pullRequest"], 7);
        assert_eq!(commit["subject"], "Merge pull request #7 from bob/scale");
        assert_eq!(replicas["sync"]["id"], 2);
        assert_eq!(replicas["sync"]["initiatedBy"], "user:bob");
        assert_eq!(replicas["sync"]["deployedAt"], "2026-12-01T11:00:00Z");

        // Through the overlay's kustomization (images): Dave's commit, no pull request.
        let image = trace("deployments.apps/web", Some("spec.template.spec.containers[name=web].image"))?;
        assert_eq!(image["field"]["desired"], "nginx:1.27");
        assert_eq!(image["field"]["setBy"]["file"], "overlay/kustomization.yaml");
        assert_eq!(image["field"]["setBy"]["kustomizationField"], "images");
        assert_eq!(image["commit"]["id"], story.bumped.as_str());
        assert_eq!(image["commit"]["author"], "Dave");
        assert!(image["commit"].get("pullRequest").is_none(), "{image:#}");
        assert_eq!(image["sync"]["id"], 3);
        // A field the overlay leaves alone is the base's, Alice's.
        let selector = trace("Deployment/web", Some("spec.selector.matchLabels.app"))?;
        assert_eq!(selector["field"]["setBy"]["file"], "base/deployment.yaml");
        assert_eq!(selector["field"]["setBy"]["line"], 8);
        assert_eq!(selector["commit"]["author"], "Alice");
        assert_eq!(selector["sync"]["id"], 1);
        // The object alone: its declaration in the base, last changed by Alice.
        let object = trace("deployment/web", None)?;
        assert_eq!(object["declared"]["file"], "base/deployment.yaml");
        assert_eq!(object["commit"]["id"], story.added.as_str());
        assert!(object.get("field").is_none());

        // A plain file: Carol's change, applied by the webhook's sync (entry 5).
        let mode = trace("configmap/settings", Some("data.mode"))?;
        assert_eq!(mode["application"]["name"], "settings");
        assert_eq!(mode["declared"]["file"], "plain/settings.yaml");
        assert_eq!(mode["field"]["setBy"]["file"], "plain/settings.yaml");
        assert_eq!(mode["field"]["setBy"]["line"], 6);
        assert_eq!(mode["commit"]["id"], story.sped_up.as_str(), "{mode:#}");
        assert_eq!(mode["commit"]["author"], "Carol");
        assert_eq!(mode["commit"]["pullRequest"], 9);
        assert_eq!(mode["sync"]["id"], 5);
        assert_eq!(mode["sync"]["initiatedBy"], "webhook");
        let size = trace("configmap/settings", Some("data.size"))?;
        assert_eq!(size["commit"]["author"], "Alice");

        // Changed live by someone else: the trace names the manager and when.
        Api::<ConfigMap>::namespaced(client.clone(), &ns)
            .patch(
                "settings",
                &PatchParams {
                    field_manager: Some("kubectl-edit".into()),
                    ..PatchParams::default()
                },
                &Patch::Merge(json!({"data": {"mode": "hand-edited"}})),
            )
            .await?;
        let drifted = trace("configmap/settings", Some("data.mode"))?;
        let field = &drifted["field"];
        assert_eq!(field["desired"], "fast");
        assert_eq!(field["live"], "hand-edited");
        assert_eq!(field["differs"], true);
        assert_eq!(field["changedBy"][0]["manager"], "kubectl-edit", "{drifted:#}");
        assert_eq!(field["changedBy"][0]["operation"], "Update");
        assert!(field["changedBy"][0]["time"].is_string(), "{drifted:#}");
        assert_eq!(field["changedBy"].as_array().map(Vec::len), Some(1));

        // The text form says the same in lines.
        let shown = driftless(&["trace", "deployment/web", "-n", &ns, "--cache-dir", &cache_dir, "--field", "spec.replicas"])?;
        assert_eq!(shown.status.code(), Some(0), "{}", text(&shown));
        let out = String::from_utf8_lossy(&shown.stdout).into_owned();
        for expected in [
            format!("Application:    {ns}/web (cluster https://kubernetes.default.svc)"),
            "Declared in:    base/deployment.yaml:1-15".to_owned(),
            "Field:          spec.replicas = 2".to_owned(),
            "Set by:         overlay/replicas.yaml:6 (PatchTransformer)".to_owned(),
            format!("Commit:         {} by Bob <bob@example.com> at", story.scaled),
            "(pull request #7)".to_owned(),
            "Synced by:      history entry 2 at 2026-12-01T11:00:00Z, initiated by user:bob".to_owned(),
            "Live:           2 (as Git declares)".to_owned(),
        ] {
            assert!(out.contains(&expected), "missing {expected:?} in\n{out}");
        }
        let yaml = driftless(&["trace", "deployment/web", "-n", &ns, "--cache-dir", &cache_dir, "-o", "yaml"])?;
        let yaml: Value = serde_saphyr::from_str(&String::from_utf8_lossy(&yaml.stdout))?;
        assert_eq!(yaml["commit"]["id"], story.added.as_str(), "{yaml:#}");
        let drifted = driftless(&["trace", "configmap/settings", "-n", &ns, "--cache-dir", &cache_dir, "--field", "data.mode", "-o", "wide"])?;
        let out = String::from_utf8_lossy(&drifted.stdout).into_owned();
        assert!(out.contains("Live:           hand-edited, differs from Git: changed by kubectl-edit (Update, "), "{out}");
        anyhow::Ok(())
    })
    .await?
}

#[tokio::test]
async fn unmanaged_and_missing_objects_are_one_line_errors() -> anyhow::Result<()> {
    with_namespace("trace-bad", |client, ns| async move {
        let stray: ConfigMap = serde_json::from_value(json!({
            "metadata": {"name": "stray"}, "data": {"k": "v"}
        }))?;
        Api::<ConfigMap>::namespaced(client.clone(), &ns)
            .create(
                &PostParams {
                    field_manager: Some("kubectl-create".into()),
                    ..PostParams::default()
                },
                &stray,
            )
            .await?;
        let unmanaged = one_line_error(&driftless(&["trace", "configmap/stray", "-n", &ns])?);
        assert!(
            unmanaged.starts_with(&format!("error: ConfigMap {ns}/stray is not managed by Driftless (no driftless.dev/tracking-id annotation); field managers: kubectl-create (Update, ")),
            "{unmanaged}"
        );
        let missing = one_line_error(&driftless(&["trace", "configmap/nope", "-n", &ns])?);
        assert_eq!(missing, format!("error: ConfigMap {ns}/nope not found"));
        let kind = one_line_error(&driftless(&["trace", "gizmo/x", "-n", &ns])?);
        assert_eq!(kind, "error: the cluster serves no kind \"gizmo\"");
        let shape = one_line_error(&driftless(&["trace", "web", "-n", &ns])?);
        assert_eq!(shape, "error: \"web\": expected KIND/NAME, e.g. deployment/web");
        let field = one_line_error(&driftless(&["trace", "configmap/stray", "-n", &ns, "--field", "data..k"])?);
        assert!(field.starts_with("error: field path \"data..k\": "), "{field}");
        anyhow::Ok(())
    })
    .await?
    .context("trace errors")
}
