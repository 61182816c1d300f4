//! Child processes that cannot outlive the process that started them.
//!
//! Each component runs under a small `sh` guard whose standard input is a pipe held by us. When we
//! exit for any reason (normal exit, panic, even SIGKILL) the kernel closes the pipe, the guard
//! reads end-of-file and terminates the component: first SIGTERM, then SIGKILL after a grace
//! period. This needs no signal handlers and no `unsafe` `pre_exec` hook.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

use crate::Error;

/// The guard: starts "$@" in the background, waits for EOF on fd 3 (our pipe) in a second
/// background job, and stops the component when it comes. It exits with the component's status.
/// Background jobs of a non-interactive shell get /dev/null as stdin, hence the copy to fd 3.
const GUARD: &str = r#"
exec 3<&0
"$@" </dev/null &
child=$!
{ read -r _ <&3; kill -TERM "$child" 2>/dev/null; sleep 5; kill -KILL "$child" 2>/dev/null; } &
watcher=$!
wait "$child"
status=$?
kill "$watcher" 2>/dev/null
exit "$status"
"#;

/// A component of the control plane, running under the guard.
#[derive(Debug)]
pub struct Guarded {
    name: String,
    log: PathBuf,
    child: Child,
    /// Dropping this closes the pipe, which stops the component.
    stdin: Option<ChildStdin>,
}

impl Guarded {
    /// Starts `program` with `args`; its stdout and stderr go to `log`.
    pub fn spawn(name: &str, program: &Path, args: &[String], log: &Path) -> Result<Self, Error> {
        let out = File::create(log).map_err(|source| Error::Io {
            what: format!("creating {}", log.display()),
            source,
        })?;
        let err = out.try_clone().map_err(|source| Error::Io {
            what: format!("duplicating {}", log.display()),
            source,
        })?;
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(GUARD)
            .arg(format!("driftless-guard-{name}"))
            .arg(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|source| Error::Io {
                what: format!("starting {name} ({})", program.display()),
                source,
            })?;
        let stdin = child.stdin.take();
        Ok(Self {
            name: name.to_owned(),
            log: log.to_owned(),
            child,
            stdin,
        })
    }

    /// The component's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Fails with the tail of the component's log when it has exited.
    pub fn check_running(&mut self) -> Result<(), Error> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(Error::Exited {
                name: self.name.clone(),
                status: status.to_string(),
                log: self.log.clone(),
                tail: log_tail(&self.log),
            }),
            Err(source) => Err(Error::Io {
                what: format!("checking on {}", self.name),
                source,
            }),
        }
    }

    /// Stops the component and waits for it (at most the guard's grace period).
    pub fn stop(&mut self) {
        self.stdin = None;
        // Errors here mean it is already gone, which is what we want.
        let _ = self.child.wait();
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Removes a temporary directory when we exit, however we exit: a shell that waits for end-of-file
/// on a pipe we hold, gives the guards time to stop their components, then deletes the directory.
#[derive(Debug)]
pub struct Janitor {
    dir: PathBuf,
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Janitor {
    /// Seconds to wait after end-of-file: longer than a guard's grace period (5 s), so no
    /// component still writes into the directory when it is removed.
    const DELAY: &str = "6";

    /// Starts the janitor for `dir`.
    pub fn spawn(dir: &Path) -> Result<Self, Error> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(format!("read -r _; sleep {}; rm -rf \"$0\"", Self::DELAY))
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|source| Error::Io {
                what: "starting the clean-up process".to_owned(),
                source,
            })?;
        let stdin = child.stdin.take();
        Ok(Self {
            dir: dir.to_owned(),
            child,
            stdin,
        })
    }

    /// Removes the directory now; call only once every component has stopped.
    pub fn clean_now(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stdin = None;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The last lines of a log, for error messages.
pub fn log_tail(path: &Path) -> String {
    const TAIL_BYTES: u64 = 2048;
    let Ok(mut file) = File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(TAIL_BYTES)));
    let mut buf = Vec::new();
    let _ = file.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn guard_stops_the_component_when_the_pipe_closes() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let pidfile = dir.path().join("pid");
        let script = format!("echo $$ > {}; exec sleep 600", pidfile.display());
        let mut sleeper = Guarded::spawn(
            "sleeper",
            Path::new("/bin/sh"),
            &["-c".to_owned(), script],
            &dir.path().join("log"),
        )?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while !pidfile.exists() || std::fs::read_to_string(&pidfile)?.trim().is_empty() {
            assert!(Instant::now() < deadline, "component never started");
            std::thread::sleep(Duration::from_millis(20));
        }
        let pid = std::fs::read_to_string(&pidfile)?.trim().to_owned();
        sleeper.check_running()?;
        sleeper.stop();
        let alive = Path::new("/proc").join(&pid).exists()
            && !std::fs::read_to_string(Path::new("/proc").join(&pid).join("stat"))?
                .contains(") Z");
        assert!(!alive, "component {pid} still running after stop");
        Ok(())
    }

    #[test]
    fn an_exited_component_reports_its_log() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let mut failing = Guarded::spawn(
            "failing",
            Path::new("/bin/sh"),
            &[
                "-c".to_owned(),
                "echo bad flag --nope >&2; exit 3".to_owned(),
            ],
            &dir.path().join("log"),
        )?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match failing.check_running() {
                Ok(()) => {
                    assert!(Instant::now() < deadline, "component never exited");
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(err) => {
                    let text = err.to_string();
                    assert!(text.contains("failing"), "{text}");
                    assert!(text.contains("bad flag --nope"), "{text}");
                    return Ok(());
                }
            }
        }
    }
}
