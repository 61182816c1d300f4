//! `driftless app get NAME`: one Application, for people or as YAML/JSON.

use std::process::ExitCode;

use clap::Args;
use k8s_openapi::jiff::Timestamp;

use super::Apps;
use super::output::{Format, print_object};

/// Show one Application.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The Application's name.
    name: String,
    /// Output format [default: a summary]; yaml and json print the whole object.
    #[arg(short = 'o', long, value_enum, env = "DRIFTLESS_OUTPUT")]
    output: Option<Format>,
}

/// Runs the command.
pub async fn run(apps: &Apps, args: &GetArgs) -> anyhow::Result<ExitCode> {
    let app = apps.get(&args.name).await?;
    match args.output {
        Some(format @ (Format::Yaml | Format::Json)) => print_object(&app, format)?,
        wide => print!(
            "{}",
            super::summary::application(&app, wide == Some(Format::Wide), Timestamp::now())
        ),
    }
    Ok(ExitCode::SUCCESS)
}
