//! Errors of the test control plane.

use std::path::PathBuf;

/// Why the control plane could not be started or used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A binary (or kwok's stage file) is not where `testenv/build` puts it.
    #[error(
        "{} is missing: run testenv/build to build the test control plane and the reference kustomize",
        path.display()
    )]
    MissingBinary {
        /// The path that was looked at.
        path: PathBuf,
    },
    /// Neither `$DRIFTLESS_TESTENV_DIR`, `$DRIFTLESS_TESTENV_CACHE`, `$XDG_CACHE_HOME` nor `$HOME` is set.
    #[error(
        "cannot tell where testenv/build keeps its binaries: set DRIFTLESS_TESTENV_DIR or HOME"
    )]
    NoCacheDir,
    /// A file-system or process operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Generating a certificate or key failed.
    #[error("generating credentials: {0}")]
    Credentials(#[from] rcgen::Error),
    /// A component exited while it should be running.
    #[error("{name} exited ({status}); its log is {}:\n{tail}", log.display())]
    Exited {
        /// The component.
        name: String,
        /// Its exit status.
        status: String,
        /// Its full log.
        log: PathBuf,
        /// The end of its log.
        tail: String,
    },
    /// Something did not become ready in time.
    #[error("timed out after {seconds} s waiting for {what}; logs are in {}", dir.display())]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long we waited.
        seconds: u64,
        /// The control plane's directory, with every component's log.
        dir: PathBuf,
    },
    /// The kubeconfig could not be loaded into a client.
    #[error("building a client from {}: {message}", path.display())]
    Client {
        /// The kubeconfig.
        path: PathBuf,
        /// The cause.
        message: String,
    },
    /// A Kubernetes API call failed.
    #[error("{what}: {source}")]
    Kube {
        /// What was being done.
        what: String,
        /// The cause.
        #[source]
        source: Box<kube::Error>,
    },
    /// A `git` command exited unsuccessfully.
    #[error("git {args}: {stderr}")]
    Git {
        /// Its arguments.
        args: String,
        /// What it wrote to standard error.
        stderr: String,
    },
    /// A `gpg` command exited unsuccessfully.
    #[error("gpg {args}: {stderr}")]
    Gpg {
        /// Its arguments.
        args: String,
        /// What it wrote to standard error.
        stderr: String,
    },
    /// The shared control plane of this test binary failed to start earlier.
    #[error("the shared test control plane failed to start: {0}")]
    Shared(String),
}
