//! `driftless crd`: prints the CustomResourceDefinitions, Application, AppProject, Provider and Alert (`deploy/crd.yaml`).

use std::process::ExitCode;

/// Prints the CRD YAML generated from the Rust types.
pub fn run() -> ExitCode {
    match driftless_api::crd_yaml() {
        Ok(yaml) => {
            print!("{yaml}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            crate::exit::report(&anyhow::Error::new(error).context("rendering the CRD"));
            ExitCode::from(crate::exit::ERROR)
        }
    }
}
