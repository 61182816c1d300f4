//! Real Git servers on loopback for the source tests: an upstream repository driven with the
//! `git` CLI, `git daemon`, `git http-backend` behind a small HTTP bridge, and `sshd`.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// A repository the tests commit to; servers serve its `.git` directory.
pub struct Upstream {
    pub dir: tempfile::TempDir,
}

impl Upstream {
    pub fn new() -> Result<Self> {
        let upstream = Self {
            dir: tempfile::tempdir()?,
        };
        std::fs::create_dir(upstream.work())?;
        upstream.git(&["init", "-q", "-b", "main"])?;
        upstream.git(&["config", "user.email", "t@example.com"])?;
        upstream.git(&["config", "user.name", "T"])?;
        // Lets `git daemon` / `http-backend` serve it without a bare copy.
        upstream.git(&["config", "uploadpack.allowAnySHA1InWant", "true"])?;
        Ok(upstream)
    }

    /// The working directory.
    pub fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// The `file://` URL.
    pub fn file_url(&self) -> String {
        format!("file://{}/.git", self.work().display())
    }

    /// Runs `git` in the working directory and returns its trimmed stdout.
    pub fn git(&self, args: &[&str]) -> Result<String> {
        let out = Command::new("git")
            .args(args)
            .current_dir(self.work())
            .output()?;
        if !out.status.success() {
            return Err(format!("git {args:?}: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
        Ok(String::from_utf8(out.stdout)?.trim().to_owned())
    }

    pub fn write(&self, path: &str, content: &str) -> Result {
        let full = self.work().join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(full, content)?;
        Ok(())
    }

    /// Adds `sub` as a submodule at `path` (not committed).
    pub fn add_submodule(&self, sub: &Upstream, path: &str) -> Result {
        let url = sub.file_url();
        self.git(&[
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "-q",
            &url,
            path,
        ])?;
        Ok(())
    }

    /// Commits everything and returns the new commit id.
    pub fn commit(&self, message: &str) -> Result<String> {
        self.git(&["add", "-A"])?;
        self.git(&["commit", "-q", "--allow-empty", "-m", message])?;
        self.git(&["rev-parse", "HEAD"])
    }
}

impl Upstream {
    /// Commits everything as `author` (`Name <email>`, author and committer alike) with a
    /// commit time of `seconds` since the epoch, and returns the new commit id.
    pub fn commit_as(&self, author: (&str, &str), seconds: i64, message: &str) -> Result<String> {
        self.git(&["add", "-A"])?;
        let date = format!("{seconds} +0000");
        let out = Command::new("git")
            .args(["commit", "-q", "--allow-empty", "-m", message])
            .env("GIT_AUTHOR_NAME", author.0)
            .env("GIT_AUTHOR_EMAIL", author.1)
            .env("GIT_COMMITTER_NAME", author.0)
            .env("GIT_COMMITTER_EMAIL", author.1)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .current_dir(self.work())
            .output()?;
        if !out.status.success() {
            return Err(format!("git commit: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
        self.git(&["rev-parse", "HEAD"])
    }
}

/// A ConfigMap manifest.
pub fn config_map(name: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  value: \"{value}\"\n"
    )
}

/// A server process, killed when dropped.
pub struct Server {
    child: Child,
    /// URL of the upstream repository through this server.
    pub url: String,
}

impl Server {
    /// Stops the server now (the remote becomes unreachable).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn wait_for_port(port: u16) -> Result {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err(format!("nothing listens on port {port}").into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// `git daemon` serving the upstream.
pub fn git_daemon(upstream: &Upstream) -> Result<Server> {
    let port = free_port()?;
    let base = upstream.dir.path();
    // Run git-daemon itself: `git daemon` would run it as a child that outlives a kill.
    let exec_path = Command::new("git").arg("--exec-path").output()?.stdout;
    let daemon = Path::new(String::from_utf8(exec_path)?.trim()).join("git-daemon");
    let child = Command::new(daemon)
        .args(["--export-all", "--reuseaddr", "--listen=127.0.0.1"])
        .arg(format!("--port={port}"))
        .arg(format!("--base-path={}", base.display()))
        .arg(base)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let server = Server {
        child,
        url: format!("git://127.0.0.1:{port}/work/.git"),
    };
    wait_for_port(port)?;
    Ok(server)
}

/// How the HTTP bridge serves.
#[derive(Default)]
pub struct HttpOptions<'a> {
    /// Require basic authentication `user:password`.
    pub auth: Option<&'a str>,
    /// Hold requests until this file exists.
    pub gate: Option<&'a Path>,
    /// Serve HTTPS with this certificate chain and key.
    pub tls: Option<(&'a Path, &'a Path)>,
}

/// `git http-backend` behind the HTTP bridge.
pub fn git_http(upstream: &Upstream, options: HttpOptions<'_>) -> Result<Server> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/git_http.py");
    let mut command = Command::new("python3");
    command.arg(script).arg(upstream.dir.path());
    if let Some(auth) = options.auth {
        command.env("GIT_HTTP_AUTH", auth);
    }
    if let Some(gate) = options.gate {
        command.env("GIT_HTTP_GATE", gate);
    }
    let scheme = match options.tls {
        Some((cert, key)) => {
            command.env(
                "GIT_HTTP_TLS",
                format!("{}:{}", cert.display(), key.display()),
            );
            "https"
        }
        None => "http",
    };
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut line = String::new();
    if let Some(stdout) = child.stdout.take() {
        BufReader::new(stdout).read_line(&mut line)?;
    }
    let port: u16 = line.trim().parse()?;
    Ok(Server {
        child,
        url: format!("{scheme}://127.0.0.1:{port}/work/.git"),
    })
}

/// A CA and a server certificate for 127.0.0.1 signed by it, generated into `dir` with
/// `openssl`. Returns (CA certificate, server certificate, server key).
pub fn certificates(dir: &Path) -> Result<(PathBuf, PathBuf, PathBuf)> {
    let openssl = |args: &[&str]| -> Result {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()?;
        if !out.status.success() {
            return Err(
                format!("openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr)).into(),
            );
        }
        Ok(())
    };
    // An EC key and a request (or, with -x509, a self-signed certificate).
    let new_key = |extra: &[&str], key: &str, out: &str, subject: &str| {
        let mut args = vec!["req"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&[
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ]);
        args.extend_from_slice(&["-keyout", key, "-out", out, "-subj", subject]);
        openssl(&args)
    };
    new_key(
        &["-x509", "-days", "2"],
        "ca.key",
        "ca.pem",
        "/CN=driftless test CA",
    )?;
    new_key(&[], "server.key", "server.csr", "/CN=127.0.0.1")?;
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )?;
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ])?;
    Ok((
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    ))
}

/// `sshd` on loopback with a host key and a client key generated into `dir`; returns the server
/// (its URL reaches the upstream), the client's private key and a known_hosts file.
pub fn sshd(upstream: &Upstream, dir: &Path) -> Result<(Server, PathBuf, PathBuf)> {
    let keygen = |path: &Path| -> Result {
        let status = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(path)
            .status()?;
        if !status.success() {
            return Err("ssh-keygen failed".into());
        }
        Ok(())
    };
    let host_key = dir.join("host_key");
    let client_key = dir.join("client_key");
    keygen(&host_key)?;
    keygen(&client_key)?;
    let authorized = dir.join("authorized_keys");
    std::fs::copy(dir.join("client_key.pub"), &authorized)?;
    let port = free_port()?;
    let config = dir.join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "ListenAddress 127.0.0.1\nPort {port}\nHostKey {}\nAuthorizedKeysFile {}\nPidFile {}\nStrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\nPermitRootLogin prohibit-password\n",
            host_key.display(),
            authorized.display(),
            dir.join("sshd.pid").display()
        ),
    )?;
    // sshd insists on its privilege separation directory.
    std::fs::create_dir_all("/run/sshd")?;
    let child = Command::new("/usr/sbin/sshd")
        .args(["-D", "-e", "-f"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let user = String::from_utf8(Command::new("id").arg("-un").output()?.stdout)?
        .trim()
        .to_owned();
    let server = Server {
        child,
        url: format!(
            "ssh://{user}@127.0.0.1:{port}{}/.git",
            upstream.work().display()
        ),
    };
    wait_for_port(port)?;
    let host_pub = std::fs::read_to_string(dir.join("host_key.pub"))?;
    let mut fields = host_pub.split_whitespace();
    let known_hosts = dir.join("known_hosts");
    std::fs::write(
        &known_hosts,
        format!(
            "[127.0.0.1]:{port} {} {}\n",
            fields.next().unwrap_or_default(),
            fields.next().unwrap_or_default()
        ),
    )?;
    Ok((server, client_key, known_hosts))
}
