//! `driftless render`: prints the manifests a directory or a Git repository declares.

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use driftless_resource::Manifest;

use crate::input::InputArgs;

/// Render the manifests of a local directory, or of a path in a Git repository at a revision.
#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Output format.
    #[arg(
        short,
        long,
        value_enum,
        env = "DRIFTLESS_OUTPUT",
        default_value = "yaml"
    )]
    output: Output,
    /// Print the values of Secrets (`data`, `stringData`) instead of masks (`++++++++`; equal
    /// values get equal masks).
    #[arg(long)]
    show_secrets: bool,
}

/// Output formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Output {
    /// YAML documents separated by `---`.
    Yaml,
    /// One JSON `List` object.
    Json,
}

/// Runs the command; on error prints a one-line cause to stderr and exits with
/// [`crate::exit::ERROR`].
pub fn run(args: RenderArgs) -> ExitCode {
    crate::exit::finish(render(&args))
}

fn render(args: &RenderArgs) -> anyhow::Result<()> {
    let manifests = args.input.load()?;
    print(&manifests, args.output, args.show_secrets)
}

fn print(manifests: &[Manifest], output: Output, show_secrets: bool) -> anyhow::Result<()> {
    let objects: Vec<serde_json::Value> = manifests
        .iter()
        .map(|manifest| {
            let mut object = manifest.object().clone();
            if !show_secrets {
                driftless_diff::mask_secret_values(Some(&mut object), None);
            }
            object
        })
        .collect();
    let text = match output {
        Output::Yaml => {
            let mut text = String::new();
            for (index, object) in objects.iter().enumerate() {
                if index > 0 {
                    text.push_str("---\n");
                }
                text.push_str(&serde_saphyr::to_string(object)?);
            }
            text
        }
        Output::Json => {
            let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": objects});
            let mut text = serde_json::to_string_pretty(&list)?;
            text.push('\n');
            text
        }
    };
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    Ok(stdout.flush()?)
}
