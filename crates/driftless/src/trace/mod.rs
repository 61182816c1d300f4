//! `driftless trace KIND/NAME [--field PATH]`: who put this object (or this field) in the
//! cluster — the owning Application, the file and lines that declare it or set the field's final
//! value, the commit that last changed those lines, the sync that applied that commit, and,
//! when the live value differs from Git, the field manager that changed it.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use driftless_api::{Application, HistoryEntry};
use driftless_cluster::Kinds;
use driftless_resource::{FieldPath, ResourceKey};
use driftless_sync::{Owner, TRACKING_ANNOTATION, owner};
use kube::api::{Api, DynamicObject};
use serde::Serialize;
use serde_json::Value;

use crate::app::output::{Format, print_object};
use crate::cluster_args::ClusterArgs;

mod git;
mod live;
mod text;

/// Trace an object back to Git.
#[derive(Debug, Args)]
pub struct TraceArgs {
    /// The object: KIND/NAME, the kind as kubectl takes it (`Deployment/web`,
    /// `deployment/web`, `deployments.apps/web`).
    object: String,
    /// Namespace of the object [default: the kubeconfig context's, else `default`].
    #[arg(short = 'n', long, env = "DRIFTLESS_NAMESPACE")]
    namespace: Option<String>,
    /// Also trace one field: `spec.replicas`, `spec.template.spec.containers[name=web].image`,
    /// `metadata.labels["app.kubernetes.io/name"]` or a JSON Pointer (`/spec/replicas`).
    #[arg(long, value_name = "PATH")]
    field: Option<String>,
    /// Output format [default: text; wide is text too, so that `DRIFTLESS_OUTPUT=wide` set
    /// for the `app` commands does not break this one]; json or yaml for scripts.
    #[arg(short = 'o', long, value_enum, env = "DRIFTLESS_OUTPUT")]
    output: Option<Format>,
    /// Directory of the Git mirror cache [default: $XDG_CACHE_HOME/driftless/git or ~/.cache/driftless/git].
    #[arg(long, env = "DRIFTLESS_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    #[command(flatten)]
    cluster: ClusterArgs,
}

/// What a trace found; `-o json` prints it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The object traced.
    pub object: ObjectRef,
    /// The Application owning it.
    pub application: AppRef,
    /// The repository and path the Application renders.
    pub source: SourceRef,
    /// The commit the Application last deployed, which was rendered.
    pub revision: String,
    /// Where the object is declared.
    pub declared: Location,
    /// The field traced, with `--field`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<FieldReport>,
    /// The commit that last changed the lines traced (the field's, else the declaration's).
    pub commit: CommitReport,
    /// The sync that applied that commit.
    pub sync: Option<SyncReport>,
    /// Every field manager of the live object.
    pub field_managers: Vec<FieldManager>,
}

/// An object's identity.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    /// API group (empty for core).
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Namespace (empty for cluster-scoped objects).
    pub namespace: String,
    /// Name.
    pub name: String,
}

/// The owning Application and the cluster it deploys to.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppRef {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// The destination cluster's API server.
    pub cluster: String,
}

/// A repository and a path in it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceRef {
    /// `spec.source.repoURL`.
    #[serde(rename = "repoURL")]
    pub repo_url: String,
    /// `spec.source.path`.
    pub path: String,
}

/// Lines of a file of the repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    /// Path from the repository's root.
    pub file: String,
    /// First line (absent when the whole file is meant).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// Last line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_line: Option<u64>,
    /// `declared`, `generated`, or the Kustomize transformer that set the value
    /// (`PatchTransformer`, `ImageTagTransformer`, ...).
    pub how: String,
    /// The kustomization field that configured it (`images`, `patches[1]`), when it is
    /// configured in `file` itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kustomization_field: Option<String>,
}

/// One field, desired and live.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldReport {
    /// The path as given.
    pub path: String,
    /// The value Git declares.
    pub desired: Value,
    /// The file that set that value last.
    pub set_by: Location,
    /// The live value (absent when the live object has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<Value>,
    /// Whether the live value differs from Git's.
    pub differs: bool,
    /// When it differs: the managers other than Driftless owning the field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changed_by: Vec<FieldManager>,
}

/// A commit.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitReport {
    /// Full id.
    pub id: String,
    /// Author's name.
    pub author: String,
    /// Author's e-mail.
    pub email: String,
    /// Author date, RFC 3339 UTC.
    pub date: String,
    /// First line of the message.
    pub subject: String,
    /// The whole message.
    pub message: String,
    /// The pull request the message names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pull_request: Option<u64>,
}

/// The history entry of the sync that applied a commit.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    /// History id.
    pub id: i64,
    /// RFC 3339.
    pub deployed_at: String,
    /// Who or what started it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initiated_by: Option<String>,
    /// The commit it deployed.
    pub revision: String,
    /// True when this is the oldest entry kept and older ones were dropped: the commit may have
    /// been applied by one of those.
    pub or_earlier: bool,
}

/// One entry of `metadata.managedFields`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldManager {
    /// The manager's name.
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    /// When it last wrote (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
}

/// Runs the command.
pub fn run(args: TraceArgs) -> ExitCode {
    crate::exit::run_async(async move {
        let report = trace(&args).await?;
        match args.output {
            Some(format @ (Format::Json | Format::Yaml)) => print_object(&report, format)?,
            None | Some(Format::Wide) => print!("{}", text::render(&report)),
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// `ns/name`, or `name` for a cluster-scoped object.
fn shown(namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        name.to_owned()
    } else {
        format!("{namespace}/{name}")
    }
}

async fn trace(args: &TraceArgs) -> anyhow::Result<Report> {
    let (kind_text, name) = args
        .object
        .split_once('/')
        .filter(|(k, n)| !k.is_empty() && !n.is_empty())
        .with_context(|| format!("{:?}: expected KIND/NAME, e.g. deployment/web", args.object))?;
    let path = args
        .field
        .as_deref()
        .map(str::parse::<FieldPath>)
        .transpose()?;
    let (client, context_namespace) = args.cluster.connect().await?;
    let kinds = Kinds::discover(client.clone())
        .await
        .context("reading the kinds the cluster serves")?;
    let kind = find_kind(&kinds, kind_text)?;
    let namespace = if kind.namespaced {
        args.namespace.clone().unwrap_or(context_namespace)
    } else {
        String::new()
    };
    let api: Api<DynamicObject> = if kind.namespaced {
        Api::namespaced_with(client.clone(), &namespace, &kind.resource)
    } else {
        Api::all_with(client.clone(), &kind.resource)
    };
    let what = format!("{} {}", kind.resource.kind, shown(&namespace, name));
    let live = api
        .get_opt(name)
        .await
        .with_context(|| what.clone())?
        .with_context(|| format!("{what} not found"))?;
    let live = serde_json::to_value(&live)?;
    let managers = live::managers(&live).with_context(|| what.clone())?;
    let key = ResourceKey::new(
        &kind.resource.api_version,
        &kind.resource.kind,
        &namespace,
        name,
    );
    let app_id = owning_app(&live, &key).map_err(|why| {
        anyhow::anyhow!(
            "{what} {why}; field managers: {}",
            live::names(&managers).unwrap_or_else(|| "none".to_owned())
        )
    })?;
    let Some((app_namespace, app_name)) = app_id.split_once('_') else {
        anyhow::bail!(
            "{what} is tracked as {app_id:?}, which names no Application (applied by `driftless sync --app`?)"
        );
    };
    let app = Api::<Application>::namespaced(client.clone(), app_namespace)
        .get_opt(app_name)
        .await
        .with_context(|| format!("application {app_namespace}/{app_name}"))?
        .with_context(|| {
            format!(
                "{what} is owned by application {app_namespace}/{app_name}, which does not exist"
            )
        })?;
    let mut history = app
        .status
        .as_ref()
        .map(|s| s.history.clone())
        .unwrap_or_default();
    history.sort_by_key(|entry| entry.id);
    let Some(revision) = deployed_revision(&app, &history) else {
        anyhow::bail!("application {app_namespace}/{app_name} has not deployed anything yet");
    };
    let spec = history
        .last()
        .and_then(|entry| entry.source.clone())
        .unwrap_or_else(|| app.spec.source.clone());
    let cache_dir = match &args.cache_dir {
        Some(dir) => dir.clone(),
        None => crate::input::default_cache_dir()?,
    };
    let input = git::Input {
        cache_dir,
        spec: spec.clone(),
        revision: revision.clone(),
        key: key.clone(),
        path: path.clone(),
        history,
    };
    let facts = tokio::task::spawn_blocking(move || git::trace(&input))
        .await
        .context("tracing in Git")?
        .with_context(|| format!("application {app_namespace}/{app_name}"))?;
    if let Some(warning) = &facts.fetch_warning {
        eprintln!("warning: {warning}; using the last fetched commits");
    }
    let field = match (&path, &facts.field) {
        (Some(path), Some((desired, set_by))) => {
            Some(live::field(&live, path, desired.clone(), set_by.clone())?)
        }
        _ => None,
    };
    Ok(Report {
        object: ObjectRef {
            group: key.group.clone(),
            kind: key.kind.clone(),
            namespace: key.namespace.clone(),
            name: key.name.clone(),
        },
        application: AppRef {
            namespace: app_namespace.to_owned(),
            name: app_name.to_owned(),
            cluster: app
                .spec
                .destination
                .server
                .clone()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "https://kubernetes.default.svc".to_owned()),
        },
        source: SourceRef {
            repo_url: spec.repo_url.clone(),
            path: spec.path.clone().unwrap_or_default(),
        },
        revision,
        declared: facts.declared,
        field,
        commit: facts.commit,
        sync: facts.sync,
        field_managers: managers,
    })
}

/// The kind `text` names: a kind (`Deployment`, any case), a plural or singular resource name
/// (`deployments`, `deployment`), each optionally with its group (`deployments.apps`).
fn find_kind<'a>(kinds: &'a Kinds, text: &str) -> anyhow::Result<&'a driftless_cluster::Kind> {
    let lower = text.to_ascii_lowercase();
    let (name, group) = lower.split_once('.').unwrap_or((&lower, ""));
    let matching: Vec<&driftless_cluster::Kind> = kinds
        .iter()
        .filter(|k| {
            let r = &k.resource;
            let names = [r.kind.to_ascii_lowercase(), r.plural.to_ascii_lowercase()];
            names
                .iter()
                .any(|n| n == name || n.strip_suffix('s') == Some(name))
                && (group.is_empty() || r.group == group)
        })
        .collect();
    match matching.as_slice() {
        [] => anyhow::bail!("the cluster serves no kind {text:?}"),
        [one] => Ok(one),
        // The core group wins a tie (`event` is core's and events.k8s.io's), as kubectl picks.
        many => many
            .iter()
            .find(|k| k.resource.group.is_empty())
            .or_else(|| many.first())
            .copied()
            .with_context(|| format!("the cluster serves no kind {text:?}")),
    }
}

/// The Application identity the tracking annotation names, or why the object is not managed.
fn owning_app(live: &Value, key: &ResourceKey) -> Result<String, String> {
    let annotation = live
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(TRACKING_ANNOTATION))
        .and_then(Value::as_str);
    let Some(id) = annotation else {
        return Err(format!(
            "is not managed by Driftless (no {TRACKING_ANNOTATION} annotation)"
        ));
    };
    let app = id.split_once(':').map_or(id, |(app, _)| app);
    match owner(live, app, key) {
        Owner::This => Ok(app.to_owned()),
        _ => Err(format!(
            "is not managed by Driftless: its {TRACKING_ANNOTATION} annotation {id:?} names another object (a copy?)"
        )),
    }
}

/// The commit the Application last deployed: the newest history entry's, else the one its
/// sync status compares against.
fn deployed_revision(app: &Application, history: &[HistoryEntry]) -> Option<String> {
    history
        .last()
        .map(|entry| entry.revision.clone())
        .or_else(|| app.status.as_ref()?.sync.as_ref()?.revision.clone())
        .filter(|revision| !revision.is_empty())
}
