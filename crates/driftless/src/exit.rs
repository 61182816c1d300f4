//! Exit codes and error printing shared by the commands.

use std::future::Future;
use std::process::ExitCode;

/// Exit code for "could not even start": bad arguments, unreadable input, unreachable cluster.
pub const ERROR: u8 = 2;

/// Prints an error as one line: every cause, joined with `: `.
pub fn report(error: &anyhow::Error) {
    let causes: Vec<String> = error.chain().map(ToString::to_string).collect();
    eprintln!("error: {}", causes.join(": ").replace('\n', " "));
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
