//! `driftless helm template`: renders a chart directory as `helm template` does, with Helm's
//! flags.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use driftless_helm::{RenderOptions, ValueOptions};

/// `driftless helm`.
#[derive(Debug, Args)]
pub struct HelmCli {
    #[command(subcommand)]
    command: HelmCommand,
}

#[derive(Debug, Subcommand)]
enum HelmCommand {
    /// Render a chart directory locally, printing what `helm template` prints.
    Template(TemplateArgs),
}

/// The arguments of `helm template` that shape the output.
#[derive(Debug, Args)]
pub struct TemplateArgs {
    /// `[NAME] CHART`: the release name (optional, as in Helm) and the chart directory.
    #[arg(num_args = 1..=2, value_names = ["NAME", "CHART"], required = true)]
    args: Vec<String>,
    /// The release name (`.Release.Name`); the same as the NAME argument.
    #[arg(long)]
    release_name: Option<String>,
    /// Values files (YAML), merged in order; comma-separated or repeated; `-` reads stdin.
    #[arg(short = 'f', long = "values", value_delimiter = ',')]
    values: Vec<PathBuf>,
    /// `key=value` (typed as Helm types them); repeatable, comma-separated pairs allowed.
    #[arg(long)]
    set: Vec<String>,
    /// `key=value`, the value kept a string.
    #[arg(long)]
    set_string: Vec<String>,
    /// `key=JSON`, or a whole JSON object.
    #[arg(long)]
    set_json: Vec<String>,
    /// `key=PATH`: the file's content as the value.
    #[arg(long)]
    set_file: Vec<String>,
    /// `.Release.Namespace`.
    #[arg(short = 'n', long, default_value = "default")]
    namespace: String,
    /// `.Capabilities.KubeVersion` (Helm's default when absent).
    #[arg(long)]
    kube_version: Option<String>,
    /// Extra `.Capabilities.APIVersions` (`group/version` or `group/version/Kind`).
    #[arg(short = 'a', long, value_delimiter = ',')]
    api_versions: Vec<String>,
    /// Print the charts' `crds/` files first.
    #[arg(long)]
    include_crds: bool,
    /// Leave out test hooks.
    #[arg(long)]
    skip_tests: bool,
    /// Do not validate values against `values.schema.json`.
    #[arg(long)]
    skip_schema_validation: bool,
    /// `.Release.IsUpgrade` true.
    #[arg(long)]
    is_upgrade: bool,
}

/// Runs `driftless helm ...`.
pub fn run(cli: &HelmCli) -> anyhow::Result<()> {
    match &cli.command {
        HelmCommand::Template(args) => {
            let out = template(args)?;
            std::io::stdout().write_all(out.as_bytes())?;
            Ok(())
        }
    }
}

/// What `helm template` prints for these arguments.
///
/// # Errors
/// One line naming the chart (a chart, values or template problem) or the file (a values or
/// `--set-file` file that cannot be read).
pub fn template(args: &TemplateArgs) -> anyhow::Result<String> {
    let (name, chart_dir) = match args.args.as_slice() {
        [chart] => (None, chart),
        [name, chart] => (Some(name.clone()), chart),
        _ => anyhow::bail!("give a chart directory: driftless helm template [NAME] CHART"),
    };
    let release_name = args
        .release_name
        .clone()
        .or(name)
        .unwrap_or_else(|| "release-name".to_owned());
    let mut value_files = Vec::new();
    for file in &args.values {
        value_files.push((file.display().to_string(), read_values(file)?));
    }
    let options = ValueOptions {
        value_files,
        set_json: args.set_json.clone(),
        set: args.set.clone(),
        set_string: args.set_string.clone(),
        set_file: args.set_file.clone(),
    };
    let mut read_file = |path: &str| -> Result<String, String> {
        std::fs::read(path)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .map_err(|e| format!("{path}: {e}"))
    };
    // The errors' own messages hold their causes: shown once, not as a chain.
    let user = options
        .merge(&mut read_file)
        .map_err(|e| anyhow::anyhow!("chart {chart_dir}: {e}"))?;
    let chart = driftless_helm::load_dir(Path::new(chart_dir))
        .map_err(|e| anyhow::anyhow!("chart {chart_dir}: {e}"))?;
    let render = RenderOptions {
        release_name,
        namespace: args.namespace.clone(),
        is_upgrade: args.is_upgrade,
        kube_version: args.kube_version.clone(),
        api_versions: args.api_versions.clone(),
        include_crds: args.include_crds,
        skip_tests: args.skip_tests,
        skip_schema_validation: args.skip_schema_validation,
    };
    let engine = driftless_render::template_engine();
    driftless_helm::render(chart, &user, &render, engine.as_ref())
        .map_err(|e| anyhow::anyhow!("chart {chart_dir}: {e}"))
}

fn read_values(file: &Path) -> anyhow::Result<Vec<u8>> {
    if file == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes)
            .context("values from stdin")?;
        return Ok(bytes);
    }
    std::fs::read(file).with_context(|| format!("values file {}", file.display()))
}
