//! `driftless proj ...`: the AppProjects of the controller's namespace — list, get, create, and
//! the state of their sync windows.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use driftless_api::{
    AppProject, AppProjectSpec, ClusterResourceItem, GroupKind, ProjectDestination,
};
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::api::{Api, ListParams, PostParams};
use serde_json::json;

use crate::app::output::{Format, NONE, print_object};
use crate::cluster_args::ClusterArgs;
use crate::table::Table;

/// Operate on AppProjects.
#[derive(Debug, Args)]
pub struct ProjCli {
    #[command(subcommand)]
    command: ProjCommand,
    #[command(flatten)]
    cluster: ClusterArgs,
    /// The controller's namespace, where AppProjects live.
    #[arg(short = 'n', long, env = "DRIFTLESS_CONTROLLER_NAMESPACE", global = true,
          default_value = driftless_controller::DEFAULT_NAMESPACE)]
    namespace: String,
}

/// The `proj` subcommands.
#[derive(Debug, Subcommand)]
enum ProjCommand {
    /// List the projects with their sources, destinations and windows.
    List(ListArgs),
    /// Show one project.
    Get(GetArgs),
    /// Create a project (Argo CD's `proj create` flags).
    Create(CreateArgs),
    /// Show a project's sync windows: which are open until when, and when each opens next.
    Windows(WindowsArgs),
}

#[derive(Debug, Args)]
struct ListArgs {
    /// Output format [default: a table].
    #[arg(short = 'o', long, value_enum, env = "DRIFTLESS_OUTPUT")]
    output: Option<Format>,
}

#[derive(Debug, Args)]
struct GetArgs {
    /// The project's name.
    name: String,
    /// Output format [default: a summary]; yaml and json print the whole object.
    #[arg(short = 'o', long, value_enum, env = "DRIFTLESS_OUTPUT")]
    output: Option<Format>,
}

#[derive(Debug, Args)]
struct CreateArgs {
    /// The project's name.
    name: String,
    /// For people.
    #[arg(long)]
    description: Option<String>,
    /// A permitted repository URL glob (`!` denies); repeatable.
    #[arg(short = 's', long = "src")]
    source_repos: Vec<String>,
    /// A permitted destination as SERVER,NAMESPACE (globs; `!` denies); repeatable.
    #[arg(short = 'd', long = "dest")]
    destinations: Vec<String>,
    /// A namespace (glob) whose Applications may use the project; repeatable.
    #[arg(long = "source-namespaces")]
    source_namespaces: Vec<String>,
    /// A permitted cluster-scoped kind as GROUP/KIND (`/Namespace` for the core group); repeatable.
    #[arg(long = "allow-cluster-resource")]
    cluster_allow: Vec<String>,
    /// A denied namespaced kind as GROUP/KIND; repeatable.
    #[arg(long = "deny-namespaced-resource")]
    namespace_deny: Vec<String>,
}

#[derive(Debug, Args)]
struct WindowsArgs {
    /// The project's name.
    name: String,
}

/// Runs a `proj` subcommand.
pub fn run(cli: ProjCli) -> ExitCode {
    crate::exit::run_async(async move {
        let (client, _) = cli.cluster.connect().await?;
        let projects = Projects {
            api: Api::namespaced(client, &cli.namespace),
            namespace: cli.namespace.clone(),
        };
        match cli.command {
            ProjCommand::List(args) => projects.list(&args).await,
            ProjCommand::Get(args) => projects.show(&args).await,
            ProjCommand::Create(args) => projects.create(&args).await,
            ProjCommand::Windows(args) => projects.windows(&args).await,
        }
    })
}

struct Projects {
    api: Api<AppProject>,
    namespace: String,
}

impl Projects {
    async fn get(&self, name: &str) -> anyhow::Result<AppProject> {
        self.api.get(name).await.map_err(|error| match error {
            kube::Error::Api(status) if status.code == 404 => {
                anyhow::anyhow!("project {}/{name} not found", self.namespace)
            }
            other => {
                anyhow::Error::new(other).context(format!("project {}/{name}", self.namespace))
            }
        })
    }

    async fn list(&self, args: &ListArgs) -> anyhow::Result<ExitCode> {
        let mut list = self
            .api
            .list(&ListParams::default())
            .await
            .with_context(|| format!("listing projects in namespace {}", self.namespace))?;
        list.items.sort_by_key(ResourceExt::name_any);
        if let Some(format @ (Format::Yaml | Format::Json)) = args.output {
            let items = list
                .items
                .iter()
                .map(|p| {
                    let mut value = serde_json::to_value(p)?;
                    value["apiVersion"] = json!("driftless.dev/v1alpha1");
                    value["kind"] = json!("AppProject");
                    Ok(value)
                })
                .collect::<Result<Vec<_>, serde_json::Error>>()?;
            print_object(
                &json!({"apiVersion": "v1", "kind": "List", "items": items}),
                format,
            )?;
            return Ok(ExitCode::SUCCESS);
        }
        if list.items.is_empty() {
            eprintln!(
                "no projects in namespace {} (Applications without one use the default project, which permits everything)",
                self.namespace
            );
            return Ok(ExitCode::SUCCESS);
        }
        let mut table = Table::new(["NAME", "DESCRIPTION", "SOURCES", "DESTINATIONS", "WINDOWS"]);
        for project in &list.items {
            let spec = &project.spec;
            table.row([
                project.name_any(),
                spec.description.clone().unwrap_or_else(|| NONE.to_owned()),
                joined(spec.source_repos.iter().cloned()),
                joined(spec.destinations.iter().map(destination)),
                spec.sync_windows.len().to_string(),
            ]);
        }
        print!("{}", table.render());
        Ok(ExitCode::SUCCESS)
    }

    async fn show(&self, args: &GetArgs) -> anyhow::Result<ExitCode> {
        let project = self.get(&args.name).await?;
        if let Some(format @ (Format::Yaml | Format::Json)) = args.output {
            print_object(&project, format)?;
            return Ok(ExitCode::SUCCESS);
        }
        let spec = &project.spec;
        let kinds =
            |list: &[GroupKind]| joined(list.iter().map(|k| format!("{}/{}", k.group, k.kind)));
        let cluster_kinds = |list: &[ClusterResourceItem]| {
            joined(list.iter().map(|k| match &k.name {
                Some(name) => format!("{}/{} {name}", k.group, k.kind),
                None => format!("{}/{}", k.group, k.kind),
            }))
        };
        let rows = [
            ("Name:", project.name_any()),
            (
                "Description:",
                spec.description.clone().unwrap_or_else(|| NONE.to_owned()),
            ),
            ("Sources:", joined(spec.source_repos.iter().cloned())),
            (
                "Destinations:",
                joined(spec.destinations.iter().map(destination)),
            ),
            (
                "Source namespaces:",
                joined(spec.source_namespaces.iter().cloned()),
            ),
            (
                "Cluster kinds allowed:",
                cluster_kinds(&spec.cluster_resource_whitelist),
            ),
            (
                "Cluster kinds denied:",
                cluster_kinds(&spec.cluster_resource_blacklist),
            ),
            (
                "Namespaced kinds allowed:",
                spec.namespace_resource_whitelist
                    .as_deref()
                    .map_or_else(|| "all".to_owned(), kinds),
            ),
            (
                "Namespaced kinds denied:",
                kinds(&spec.namespace_resource_blacklist),
            ),
            ("Sync windows:", spec.sync_windows.len().to_string()),
        ];
        let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        for (key, value) in rows {
            println!("{key:width$} {value}");
        }
        Ok(ExitCode::SUCCESS)
    }

    async fn create(&self, args: &CreateArgs) -> anyhow::Result<ExitCode> {
        let destinations = args
            .destinations
            .iter()
            .map(|text| {
                let (server, namespace) = text
                    .split_once(',')
                    .with_context(|| format!("--dest {text:?}: expected SERVER,NAMESPACE"))?;
                Ok(ProjectDestination {
                    server: Some(server.to_owned()),
                    name: None,
                    namespace: Some(namespace.to_owned()),
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let group_kind = |flag: &str, text: &str| {
            text.split_once('/')
                .map(|(group, kind)| (group.to_owned(), kind.to_owned()))
                .filter(|(_, kind)| !kind.is_empty())
                .with_context(|| {
                    format!("{flag} {text:?}: expected GROUP/KIND (/KIND for the core group)")
                })
        };
        let spec = AppProjectSpec {
            description: args.description.clone(),
            source_repos: args.source_repos.clone(),
            destinations,
            source_namespaces: args.source_namespaces.clone(),
            cluster_resource_whitelist: args
                .cluster_allow
                .iter()
                .map(|t| {
                    let (group, kind) = group_kind("--allow-cluster-resource", t)?;
                    Ok(ClusterResourceItem {
                        group,
                        kind,
                        name: None,
                    })
                })
                .collect::<anyhow::Result<_>>()?,
            namespace_resource_blacklist: args
                .namespace_deny
                .iter()
                .map(|t| {
                    let (group, kind) = group_kind("--deny-namespaced-resource", t)?;
                    Ok(GroupKind { group, kind })
                })
                .collect::<anyhow::Result<_>>()?,
            ..AppProjectSpec::default()
        };
        let mut project = AppProject::new(&args.name, spec);
        project.metadata.namespace = Some(self.namespace.clone());
        self.api
            .create(&PostParams::default(), &project)
            .await
            .map_err(|error| match error {
                kube::Error::Api(status) if status.code == 409 => {
                    anyhow::anyhow!("project {}/{} exists already", self.namespace, args.name)
                }
                other => anyhow::Error::new(other)
                    .context(format!("creating project {}/{}", self.namespace, args.name)),
            })?;
        println!("project {}/{} created", self.namespace, args.name);
        Ok(ExitCode::SUCCESS)
    }

    async fn windows(&self, args: &WindowsArgs) -> anyhow::Result<ExitCode> {
        let project = self.get(&args.name).await?;
        let states =
            driftless_controller::window_states(&project.spec.sync_windows, Timestamp::now())
                .map_err(|e| anyhow::anyhow!("project {}/{}: {e}", self.namespace, args.name))?;
        if states.is_empty() {
            eprintln!(
                "project {}/{} has no sync windows: syncs run at any time",
                self.namespace, args.name
            );
            return Ok(ExitCode::SUCCESS);
        }
        let mut table = Table::new([
            "ID", "KIND", "SCHEDULE", "DURATION", "TIMEZONE", "MANUAL", "ACTIVE", "NEXT",
        ]);
        for state in states {
            table.row([
                state.index.to_string(),
                state.kind,
                state.schedule,
                state.duration,
                state.time_zone,
                if state.manual_sync {
                    "allowed"
                } else {
                    "denied"
                }
                .to_owned(),
                state
                    .open_until
                    .map_or_else(|| "no".to_owned(), |end| format!("until {end}")),
                state
                    .next_open
                    .map_or_else(|| NONE.to_owned(), |next| next.to_string()),
            ]);
        }
        print!("{}", table.render());
        Ok(ExitCode::SUCCESS)
    }
}

fn destination(d: &ProjectDestination) -> String {
    format!(
        "{},{}",
        d.server.as_deref().or(d.name.as_deref()).unwrap_or("*"),
        d.namespace.as_deref().unwrap_or_default()
    )
}

fn joined(items: impl Iterator<Item = String>) -> String {
    let all: Vec<String> = items.collect();
    if all.is_empty() {
        NONE.to_owned()
    } else {
        all.join(" ")
    }
}
