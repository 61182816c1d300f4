//! Exit codes and error printing shared by the commands.
//!
//! Every subcommand follows `kubectl diff` (and `diff(1)`): 0 success, [`DIFFERENCES`] (1) only
//! when a diff command found differences, [`ERROR`] (2) for every error — bad arguments (clap
//! exits 2 on a usage error too), unreadable input, an unreachable cluster, a sync that failed.

use std::future::Future;
use std::process::ExitCode;

/// Exit code of the diff commands when the cluster differs from the manifests.
pub const DIFFERENCES: u8 = 1;

/// Exit code of every error.
pub const ERROR: u8 = 2;

/// Prints an error as one line: every cause, joined with `: `.
pub fn report(error: &anyhow::Error) {
    let causes: Vec<String> = error.chain().map(ToString::to_string).collect();
    eprintln!("error: {}", causes.join(": ").replace('\n', " "));
}

/// The exit code of a command that returns nothing: 0, or the error printed as one line and
/// [`ERROR`].
pub fn finish(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            report(&error);
            ExitCode::from(ERROR)
        }
    }
}

/// The exit code of a comparison: 0 when in sync, [`DIFFERENCES`] otherwise.
pub fn compared(in_sync: bool) -> ExitCode {
    if in_sync {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(DIFFERENCES)
    }
}

/// Runs an async command on a small runtime; errors print one line and exit with [`ERROR`].
pub fn run_async<F>(command: F) -> ExitCode
where
    F: Future<Output = anyhow::Result<ExitCode>>,
{
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            report(&anyhow::Error::new(e).context("starting the async runtime"));
            return ExitCode::from(ERROR);
        }
    };
    match runtime.block_on(command) {
        Ok(code) => code,
        Err(error) => {
            report(&error);
            ExitCode::from(ERROR)
        }
    }
}
