//! `driftless import`: Argo CD and Flux objects in (files, or the cluster), Driftless objects
//! out, with a report of everything that did not carry over; `--adopt` takes over the objects
//! those tools manage.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use driftless_cluster::{Adoptions, KubeCluster};
use driftless_import::{Conversion, Input, Options};
use serde_json::json;

use crate::cluster_args::ClusterArgs;

/// Convert Argo CD Applications, AppProjects and ApplicationSets, and Flux GitRepositories,
/// Kustomizations, HelmRepositories and HelmReleases, into Driftless objects.
///
/// Prints the objects (YAML, ready for `kubectl apply -f -`) on stdout and the report of every
/// field or object that did not carry over, and why, on stderr (in `-o json`, both on stdout).
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files of Argo CD or Flux objects (YAML or JSON, any number of documents, `kind: List`
    /// too); `-` reads stdin.
    files: Vec<PathBuf>,
    /// Read the objects from the cluster (every namespace), with the Secrets their
    /// GitRepositories reference.
    #[arg(long)]
    from_cluster: bool,
    /// Take over the objects the old tools manage for the converted Applications: their marks
    /// are replaced by Driftless's and their fields move to Driftless's field manager. Stop the
    /// old controller first (docs/migrating.md).
    #[arg(long)]
    adopt: bool,
    /// With --adopt: say what would be taken over, write nothing (the metadata patches are
    /// checked by the API server as dry runs).
    #[arg(long, requires = "adopt")]
    dry_run: bool,
    /// Output format.
    #[arg(
        short,
        long,
        value_enum,
        env = "DRIFTLESS_OUTPUT",
        default_value = "yaml"
    )]
    output: Output,
    /// The Driftless controller's namespace: AppProjects, repository credentials and the
    /// Applications converted from Argo CD go there.
    #[arg(short = 'n', long, env = "DRIFTLESS_CONTROLLER_NAMESPACE",
          default_value = driftless_controller::DEFAULT_NAMESPACE)]
    namespace: String,
    #[command(flatten)]
    cluster: ClusterArgs,
}

/// Output formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Output {
    /// The objects as YAML documents; the report on stderr.
    Yaml,
    /// One JSON object: `objects`, `report`, `notes` and (with --adopt) `adopted`.
    Json,
}

/// Runs the command.
pub fn run(args: ImportArgs) -> ExitCode {
    crate::exit::run_async(async move {
        import(&args).await?;
        Ok(ExitCode::SUCCESS)
    })
}

async fn import(args: &ImportArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        !args.files.is_empty() || args.from_cluster,
        "nothing to import: give FILES or --from-cluster"
    );
    let mut inputs = Vec::new();
    for file in &args.files {
        inputs.extend(read_file(file)?);
    }
    let mut notes = Vec::new();
    let cluster = if args.from_cluster || args.adopt {
        let (client, _) = args.cluster.connect().await?;
        Some(
            KubeCluster::new(client)
                .await
                .context("reading the cluster's kinds")?,
        )
    } else {
        None
    };
    if let (true, Some(cluster)) = (args.from_cluster, &cluster) {
        let foreign = cluster
            .foreign_objects()
            .await
            .context("reading Argo CD and Flux objects from the cluster")?;
        inputs.extend(foreign.inputs);
        notes.extend(foreign.notes);
    }
    let conversion = driftless_import::convert(
        &inputs,
        &Options {
            namespace: args.namespace.clone(),
        },
    );
    let adoptions = match (args.adopt, &cluster) {
        (true, Some(cluster)) => Some(
            cluster
                .adopt(
                    &conversion.adoptions,
                    driftless_controller::app_id,
                    args.dry_run,
                )
                .await
                .context("adopting")?,
        ),
        _ => None,
    };
    print(&conversion, &notes, adoptions.as_ref(), args.output)
}

/// The objects of one file (or stdin), with their origin for the report.
fn read_file(file: &PathBuf) -> anyhow::Result<Vec<Input>> {
    let (name, bytes) = if file.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("reading stdin")?;
        ("-".to_owned(), bytes)
    } else {
        let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        (file.display().to_string(), bytes)
    };
    let manifests = driftless_resource::parse_manifests(&name, &bytes)?;
    Ok(manifests
        .into_iter()
        .map(|manifest| {
            let (object, provenance) = manifest.into_parts();
            Input {
                object,
                origin: format!("{}:{}", provenance.file, provenance.line),
            }
        })
        .collect())
}

fn print(
    conversion: &Conversion,
    notes: &[String],
    adoptions: Option<&Adoptions>,
    output: Output,
) -> anyhow::Result<()> {
    let mut all_notes: Vec<String> = notes.to_vec();
    if let Some(adoptions) = adoptions {
        all_notes.extend(adoptions.notes.iter().cloned());
    }
    match output {
        Output::Yaml => {
            let mut text = String::new();
            for (index, object) in conversion.objects.iter().enumerate() {
                if index > 0 {
                    text.push_str("---\n");
                }
                text.push_str(&serde_saphyr::to_string(object)?);
            }
            print!("{text}");
            for finding in &conversion.findings {
                eprintln!("{finding}");
            }
            for note in &all_notes {
                eprintln!("note: {note}");
            }
            if let Some(adoptions) = adoptions {
                for adopted in &adoptions.adopted {
                    let moved = if adopted.moved_from.is_empty() {
                        "no managed fields to move".to_owned()
                    } else {
                        format!("fields moved from {}", adopted.moved_from.join(", "))
                    };
                    let verb = if adoptions.dry_run {
                        "would adopt"
                    } else {
                        "adopted"
                    };
                    eprintln!(
                        "{verb} {} for Application {} ({moved})",
                        adopted.object, adopted.application
                    );
                }
            }
            eprintln!(
                "{} objects written, {} findings{}",
                conversion.objects.len(),
                conversion.findings.len(),
                adoptions
                    .map(|a| {
                        let dry = if a.dry_run { " (dry run)" } else { "" };
                        format!(", {} objects adopted{dry}", a.adopted.len())
                    })
                    .unwrap_or_default()
            );
        }
        Output::Json => {
            let mut out = json!({
                "objects": conversion.objects,
                "report": conversion.findings,
                "notes": all_notes,
            });
            if let Some(adoptions) = adoptions {
                out["adopted"] = serde_json::to_value(&adoptions.adopted)?;
                out["dryRun"] = json!(adoptions.dry_run);
            }
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
    }
    Ok(())
}
