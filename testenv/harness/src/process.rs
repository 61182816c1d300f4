//! Child processes that cannot outlive the process that started them.
//!
//! Each component runs under a small `sh` guard whose standard input is a pipe held by us. When we
//! exit for any reason (normal exit, panic, even SIGKILL) the kernel closes the pipe, the guard
//! reads end-of-file and terminates the component: first SIGTERM, then SIGKILL after a grace
//! period. This needs no signal handlers and no `unsafe` `pre_exec` hook.
//!
//! For fault injection a component can also be stopped (SIGTERM), killed (SIGKILL) and started
//! again with the same program, arguments and environment; its log is appended to, not replaced.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Error;

/// The guard: starts "$@" in the background, waits for EOF on fd 3 (our pipe) in a second
/// background job, and stops the component when it comes. It exits with the component's status.
/// Background jobs of a non-interactive shell get /dev/null as stdin, hence the copy to fd 3.
/// The component's process id is written to `$DRIFTLESS_GUARD_PIDFILE`, so that faults can be
/// aimed at the component itself rather than at the guard.
const GUARD: &str = r#"
exec 3<&0
"$@" </dev/null &
child=$!
echo "$child" > "$DRIFTLESS_GUARD_PIDFILE"
{ read -r _ <&3; kill -TERM "$child" 2>/dev/null; sleep 5; kill -KILL "$child" 2>/dev/null; } &
watcher=$!
wait "$child"
status=$?
kill "$watcher" 2>/dev/null
exit "$status"
"#;

/// A component of the control plane (or any process a test runs), under the guard.
#[derive(Debug)]
pub struct Guarded {
    name: String,
    program: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    log: PathBuf,
    pid_file: PathBuf,
    child: Child,
    /// Dropping this closes the pipe, which stops the component.
    stdin: Option<ChildStdin>,
}

/// How long to wait for the guard to report the component's process id.
const PID_TIMEOUT: Duration = Duration::from_secs(10);

impl Guarded {
    /// Starts `program` with `args`; its stdout and stderr go to `log`.
    pub fn spawn(name: &str, program: &Path, args: &[String], log: &Path) -> Result<Self, Error> {
        Self::spawn_with_env(name, program, args, &[], log)
    }

    /// Starts `program` with `args` and the extra environment variables `env`; its stdout and
    /// stderr go to `log` (replaced).
    pub fn spawn_with_env(
        name: &str,
        program: &Path,
        args: &[String],
        env: &[(String, String)],
        log: &Path,
    ) -> Result<Self, Error> {
        let out = File::create(log).map_err(|source| Error::Io {
            what: format!("creating {}", log.display()),
            source,
        })?;
        let pid_file = log.with_extension("pid");
        let (child, stdin) = launch(name, program, args, env, out, &pid_file)?;
        Ok(Self {
            name: name.to_owned(),
            program: program.to_owned(),
            args: args.to_owned(),
            env: env.to_owned(),
            log: log.to_owned(),
            pid_file,
            child,
            stdin,
        })
    }

    /// The component's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The component's log file.
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// Whether the component is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
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

    /// The component's own process id (not the guard's), once the guard has reported it.
    pub fn pid(&self) -> Result<u32, Error> {
        let deadline = Instant::now() + PID_TIMEOUT;
        loop {
            let text = std::fs::read_to_string(&self.pid_file).unwrap_or_default();
            if let Ok(pid) = text.trim().parse() {
                return Ok(pid);
            }
            if Instant::now() > deadline {
                return Err(Error::Timeout {
                    what: format!("the process id of {}", self.name),
                    seconds: PID_TIMEOUT.as_secs(),
                    dir: self.pid_file.parent().unwrap_or(Path::new("")).to_owned(),
                });
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends SIGKILL to the component (it gets no chance to clean up) and waits until it is gone.
    pub fn kill(&mut self) -> Result<(), Error> {
        self.signal("KILL")
    }

    /// Sends SIGTERM to the component and waits until it has exited.
    pub fn terminate(&mut self) -> Result<(), Error> {
        self.signal("TERM")
    }

    /// Starts the component again with the same program, arguments and environment, appending
    /// to its log. Does nothing when it is still running.
    pub fn start(&mut self) -> Result<(), Error> {
        if self.is_running() {
            return Ok(());
        }
        let out = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&self.log)
            .map_err(|source| Error::Io {
                what: format!("opening {}", self.log.display()),
                source,
            })?;
        let (child, stdin) = launch(
            &self.name,
            &self.program,
            &self.args,
            &self.env,
            out,
            &self.pid_file,
        )?;
        self.child = child;
        self.stdin = stdin;
        Ok(())
    }

    /// Stops the component and waits for it (at most the guard's grace period).
    pub fn stop(&mut self) {
        self.stdin = None;
        // Errors here mean it is already gone, which is what we want.
        let _ = self.child.wait();
    }

    fn signal(&mut self, signal: &str) -> Result<(), Error> {
        if !self.is_running() {
            return Ok(());
        }
        let pid = self.pid()?;
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .map_err(|source| Error::Io {
                what: format!("sending SIG{signal} to {}", self.name),
                source,
            })?;
        // A failed kill means the process is already gone; the guard then exits by itself.
        let _ = status;
        self.child.wait().map_err(|source| Error::Io {
            what: format!("waiting for {}", self.name),
            source,
        })?;
        Ok(())
    }
}

/// Starts the guard running `program`.
fn launch(
    name: &str,
    program: &Path,
    args: &[String],
    env: &[(String, String)],
    out: File,
    pid_file: &Path,
) -> Result<(Child, Option<ChildStdin>), Error> {
    let err = out.try_clone().map_err(|source| Error::Io {
        what: format!("duplicating the log of {name}"),
        source,
    })?;
    // A stale id from an earlier run must not be mistaken for this one's.
    let _ = std::fs::remove_file(pid_file);
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(GUARD)
        .arg(format!("driftless-guard-{name}"))
        .arg(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("DRIFTLESS_GUARD_PIDFILE", pid_file)
        .stdin(Stdio::piped())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|source| Error::Io {
            what: format!("starting {name} ({})", program.display()),
            source,
        })?;
    let stdin = child.stdin.take();
    Ok((child, stdin))
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
