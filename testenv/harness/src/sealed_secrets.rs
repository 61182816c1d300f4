//! The real sealed-secrets controller, run as a process against a test control plane.
//!
//! The controller only reads in-cluster credentials (`KUBERNETES_SERVICE_HOST`/`_PORT` and the
//! service-account token and CA at their fixed path), so it is started in a private mount
//! namespace (`unshare --mount --map-root-user`) where a tmpfs over `/run` holds the control
//! plane's token and CA at `/run/secrets/kubernetes.io/serviceaccount/`; nothing on the host
//! changes. It keeps its sealing key in its namespace (`POD_NAMESPACE`) and serves its
//! certificate on loopback.

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use crate::process::Guarded;
use crate::{ControlPlane, Error};

/// A running sealed-secrets controller; stopped when dropped.
#[derive(Debug)]
pub struct SealedSecretsController {
    process: Guarded,
    address: String,
}

impl SealedSecretsController {
    /// Starts the controller built by `testenv/build` for `plane`, keeping its keys in
    /// `namespace` (which must exist); `work` receives its credentials and log. Install its CRD
    /// first (`crd.yaml` beside [`crate::reference_sealed_secrets`]'s `bin/`).
    pub fn start(plane: &ControlPlane, namespace: &str, work: &Path) -> Result<Self, Error> {
        let dir = crate::reference_sealed_secrets()?;
        let io = |what: String| move |source| Error::Io { what, source };
        let credentials = work.join("serviceaccount");
        std::fs::create_dir_all(&credentials)
            .map_err(io(format!("creating {}", credentials.display())))?;
        std::fs::write(credentials.join("token"), plane.token())
            .map_err(io("writing the token".into()))?;
        std::fs::write(credentials.join("ca.crt"), plane.ca_pem()?)
            .map_err(io("writing the CA".into()))?;
        std::fs::write(credentials.join("namespace"), namespace)
            .map_err(io("writing the namespace".into()))?;
        let authority = plane
            .server()
            .strip_prefix("https://")
            .unwrap_or(plane.server());
        let (host, port) = authority
            .rsplit_once(':')
            .ok_or_else(|| Error::Shared(format!("API server URL {}", plane.server())))?;
        let address = format!("127.0.0.1:{}", free_port()?);
        let metrics = format!("127.0.0.1:{}", free_port()?);
        let script = "mount -t tmpfs tmpfs /run && \
             mkdir -p /run/secrets/kubernetes.io && \
             cp -r \"$1\" /run/secrets/kubernetes.io/serviceaccount && \
             shift && exec \"$@\"";
        let controller: PathBuf = dir.join("bin/controller");
        let args = vec![
            "--mount".to_string(),
            "--map-root-user".to_string(),
            "sh".to_string(),
            "-c".to_string(),
            script.to_string(),
            "sh".to_string(),
            credentials.display().to_string(),
            controller.display().to_string(),
            format!("--listen-addr={address}"),
            format!("--listen-metrics-addr={metrics}"),
            "--key-renew-period=0".to_string(),
            "--key-size=2048".to_string(),
        ];
        let env = vec![
            ("KUBERNETES_SERVICE_HOST".to_string(), host.to_string()),
            ("KUBERNETES_SERVICE_PORT".to_string(), port.to_string()),
            ("POD_NAMESPACE".to_string(), namespace.to_string()),
        ];
        let process = Guarded::spawn_with_env(
            "sealed-secrets-controller",
            Path::new("unshare"),
            &args,
            &env,
            &work.join("sealed-secrets-controller.log"),
        )?;
        Ok(Self { process, address })
    }

    /// Where it serves `/v1/cert.pem` (`127.0.0.1:port`).
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Fails with its log when it has exited.
    pub fn check_running(&mut self) -> Result<(), Error> {
        self.process.check_running()
    }

    /// Its log file.
    pub fn log(&self) -> &Path {
        self.process.log()
    }
}

fn free_port() -> Result<u16, Error> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|source| Error::Io {
        what: "finding a free port".into(),
        source,
    })?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|source| Error::Io {
            what: "finding a free port".into(),
            source,
        })
}
