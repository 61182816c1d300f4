//! A real Git server on loopback (`git daemon`) that tests can stop and start again.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::Error;
use crate::process::Guarded;

/// How long the daemon may take to listen.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(20);

/// `git daemon` exporting every repository under a directory, read-only, on a fixed loopback
/// port. Stopping it makes the remote unreachable (connection refused); starting it again serves
/// the same repositories at the same URLs.
///
/// # Guarantees
/// The daemon stops when this is dropped and when the test process exits in any way.
#[derive(Debug)]
pub struct GitDaemon {
    base: PathBuf,
    port: u16,
    daemon: Guarded,
    _logs: tempfile::TempDir,
}

impl GitDaemon {
    /// Serves the repositories under `base` (for example `base/app/.git` as
    /// [`GitDaemon::url`]`("app/.git")`) on a free port.
    pub fn start(base: &Path) -> Result<Self, Error> {
        let io = |what: &str| {
            let what = what.to_owned();
            move |source| Error::Io { what, source }
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(io("finding a free port for git daemon"))?
            .port();
        let exec_path = Command::new("git")
            .arg("--exec-path")
            .output()
            .map_err(io("running git --exec-path"))?
            .stdout;
        // git-daemon itself: `git daemon` would run it as a child that outlives a kill.
        let program = Path::new(String::from_utf8_lossy(&exec_path).trim()).join("git-daemon");
        let logs = tempfile::Builder::new()
            .prefix("driftless-git-daemon-")
            .tempdir()
            .map_err(io("creating a directory for git daemon's log"))?;
        let args = vec![
            "--export-all".to_owned(),
            "--reuseaddr".to_owned(),
            "--listen=127.0.0.1".to_owned(),
            format!("--port={port}"),
            format!("--base-path={}", base.display()),
            base.display().to_string(),
        ];
        let daemon = Guarded::spawn(
            "git-daemon",
            &program,
            &args,
            &logs.path().join("git-daemon.log"),
        )?;
        let mut server = Self {
            base: base.to_owned(),
            port,
            daemon,
            _logs: logs,
        };
        server.wait_listening()?;
        Ok(server)
    }

    /// The `git://` URL of the repository at `path` under the base directory.
    pub fn url(&self, path: &str) -> String {
        format!(
            "git://127.0.0.1:{}/{}",
            self.port,
            path.trim_start_matches('/')
        )
    }

    /// The directory whose repositories are served.
    pub fn base(&self) -> &Path {
        &self.base
    }

    /// Stops the daemon (SIGKILL); fetches then fail with connection refused.
    pub fn stop(&mut self) -> Result<(), Error> {
        self.daemon.kill()
    }

    /// Starts the daemon again on the same port and waits until it listens.
    pub fn restart(&mut self) -> Result<(), Error> {
        self.daemon.start()?;
        self.wait_listening()
    }

    fn wait_listening(&mut self) -> Result<(), Error> {
        let deadline = Instant::now() + LISTEN_TIMEOUT;
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            self.daemon.check_running()?;
            if Instant::now() > deadline {
                return Err(Error::Timeout {
                    what: format!("git daemon to listen on port {}", self.port),
                    seconds: LISTEN_TIMEOUT.as_secs(),
                    dir: self.daemon.log().to_owned(),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }
}
