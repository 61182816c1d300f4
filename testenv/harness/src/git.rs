//! Running `git` in a test's work tree: the real Git that makes the repositories tests serve.

use std::path::Path;
use std::process::Command;

use crate::Error;

/// Runs `git ARGS` in `dir` and returns its standard output, trimmed.
///
/// # Errors
/// [`Error::Io`] when git cannot be started, [`Error::Git`] when it exits unsuccessfully (with its
/// standard error).
pub fn git(dir: &Path, args: &[&str]) -> Result<String, Error> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|source| Error::Io {
            what: format!("running git {args:?} in {}", dir.display()),
            source,
        })?;
    if !out.status.success() {
        return Err(Error::Git {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}
