//! Where the control-plane binaries built by `testenv/build` live.

use std::path::{Path, PathBuf};

use crate::Error;

/// The version pins shared with `testenv/build`.
const VERSIONS: &str = include_str!("../../versions.env");

/// Every binary the control plane needs, as `testenv/build` names them.
pub const REQUIRED: [&str; 5] = [
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok",
];

/// The directory holding the built binaries and kwok's stage definitions.
#[derive(Debug, Clone)]
pub struct Binaries {
    dir: PathBuf,
}

impl Binaries {
    /// Locates the binaries: `$DRIFTLESS_TESTENV_DIR` when set, otherwise the cache directory that
    /// `testenv/build` fills (`$DRIFTLESS_TESTENV_CACHE`, else `$XDG_CACHE_HOME/driftless/testenv`,
    /// else `~/.cache/driftless/testenv`, then a folder named for the pinned versions).
    ///
    /// Fails with an error naming `testenv/build` when any binary is missing.
    pub fn locate() -> Result<Self, Error> {
        let dir = match std::env::var_os("DRIFTLESS_TESTENV_DIR") {
            Some(dir) => PathBuf::from(dir),
            None => default_dir()?,
        };
        let binaries = Self { dir };
        for name in REQUIRED {
            let path = binaries.path(name);
            if !path.is_file() {
                return Err(Error::MissingBinary { path });
            }
        }
        let stages = binaries.kwok_stages();
        if !stages.is_file() {
            return Err(Error::MissingBinary { path: stages });
        }
        Ok(binaries)
    }

    /// The directory itself.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path of one binary.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join("bin").join(name)
    }

    /// kwok's stage definitions (node and pod lifecycles), copied from its module by the build.
    pub fn kwok_stages(&self) -> PathBuf {
        self.dir.join("kwok-stages.yaml")
    }
}

/// Reads `KEY=value` from the pinned versions.
fn version(key: &str) -> Option<&'static str> {
    VERSIONS
        .lines()
        .filter_map(|line| line.trim().split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.trim())
}

/// The root of `testenv/build`'s cache: `$DRIFTLESS_TESTENV_CACHE`, else
/// `$XDG_CACHE_HOME/driftless/testenv`, else `~/.cache/driftless/testenv`.
fn cache_root() -> Result<PathBuf, Error> {
    Ok(
        if let Some(cache) = std::env::var_os("DRIFTLESS_TESTENV_CACHE") {
            PathBuf::from(cache)
        } else if let Some(xdg) = std::env::var_os("XDG_CACHE_HOME") {
            PathBuf::from(xdg).join("driftless/testenv")
        } else if let Some(home) = std::env::var_os("HOME") {
            PathBuf::from(home).join(".cache/driftless/testenv")
        } else {
            return Err(Error::NoCacheDir);
        },
    )
}

fn default_dir() -> Result<PathBuf, Error> {
    let root = cache_root()?;
    let (Some(k8s), Some(etcd), Some(kwok)) = (
        version("KUBERNETES_VERSION"),
        version("ETCD_VERSION"),
        version("KWOK_VERSION"),
    ) else {
        return Err(Error::NoCacheDir);
    };
    Ok(root.join(format!("k8s-{k8s}-etcd-{etcd}-kwok-{kwok}")))
}

/// The reference `kustomize` (the release `kubectl kustomize` bundles, pinned as
/// `KUSTOMIZE_VERSION`) that `testenv/build` builds: `$DRIFTLESS_KUSTOMIZE_BIN` when set,
/// otherwise `kustomize-<version>/bin/kustomize` in the cache directory.
///
/// Fails with an error naming `testenv/build` when it is not there.
pub fn reference_kustomize() -> Result<PathBuf, Error> {
    cached_tool("DRIFTLESS_KUSTOMIZE_BIN", || {
        let version = version("KUSTOMIZE_VERSION").ok_or(Error::NoCacheDir)?;
        Ok(format!("kustomize-{version}/bin/kustomize"))
    })
}

/// The plain renderer's reference (`testenv/go/yamlref`: kubectl's way of reading manifest
/// files) that `testenv/build` builds: `$DRIFTLESS_YAMLREF_BIN` when set, otherwise
/// `yamlref-<YAMLREF_VERSION>-apimachinery-<KUBERNETES_VERSION>/bin/yamlref` in the cache.
///
/// Fails with an error naming `testenv/build` when it is not there.
pub fn reference_yaml() -> Result<PathBuf, Error> {
    cached_tool("DRIFTLESS_YAMLREF_BIN", || {
        let (Some(own), Some(k8s)) = (version("YAMLREF_VERSION"), version("KUBERNETES_VERSION"))
        else {
            return Err(Error::NoCacheDir);
        };
        Ok(format!("yamlref-{own}-apimachinery-{k8s}/bin/yamlref"))
    })
}

/// The reference `sops` (pinned as `SOPS_VERSION`) that `testenv/build` installs:
/// `$DRIFTLESS_SOPS_BIN` when set, otherwise `sops-<version>/bin/sops` in the cache directory.
///
/// Fails with an error naming `testenv/build` when it is not there.
pub fn reference_sops() -> Result<PathBuf, Error> {
    cached_tool("DRIFTLESS_SOPS_BIN", || {
        let version = version("SOPS_VERSION").ok_or(Error::NoCacheDir)?;
        Ok(format!("sops-{version}/bin/sops"))
    })
}

/// The reference `helm` (pinned as `HELM_VERSION`, the Helm renderer's oracle) that
/// `testenv/build` installs: `$DRIFTLESS_HELM_BIN` when set, otherwise `helm-<version>/bin/helm` in
/// the cache directory.
///
/// Fails with an error naming `testenv/build` when it is not there.
pub fn reference_helm() -> Result<PathBuf, Error> {
    cached_tool("DRIFTLESS_HELM_BIN", || {
        let version = version("HELM_VERSION").ok_or(Error::NoCacheDir)?;
        Ok(format!("helm-{version}/bin/helm"))
    })
}

/// The real sealed-secrets controller (pinned as `SEALED_SECRETS_VERSION`) that `testenv/build`
/// installs, with its CRD: `$DRIFTLESS_SEALED_SECRETS_DIR` when set, otherwise
/// `sealed-secrets-<version>/` in the cache directory; it holds `bin/controller` and `crd.yaml`.
///
/// Fails with an error naming `testenv/build` when either is not there.
pub fn reference_sealed_secrets() -> Result<PathBuf, Error> {
    let dir = match std::env::var_os("DRIFTLESS_SEALED_SECRETS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let version = version("SEALED_SECRETS_VERSION").ok_or(Error::NoCacheDir)?;
            cache_root()?.join(format!("sealed-secrets-{version}"))
        }
    };
    for file in ["bin/controller", "crd.yaml"] {
        let path = dir.join(file);
        if !path.is_file() {
            return Err(Error::MissingBinary { path });
        }
    }
    Ok(dir)
}

/// A tool `testenv/build` builds: `$variable` when set, else `relative` (a path under the cache
/// root); an error naming the path when the file is not there.
fn cached_tool(
    variable: &str,
    relative: impl FnOnce() -> Result<String, Error>,
) -> Result<PathBuf, Error> {
    let path = match std::env::var_os(variable) {
        Some(path) => PathBuf::from(path),
        None => cache_root()?.join(relative()?),
    };
    if path.is_file() {
        Ok(path)
    } else {
        Err(Error::MissingBinary { path })
    }
}

/// The Kubernetes release the binaries are built from, e.g. `v1.35.4`.
pub fn kubernetes_version() -> &'static str {
    version("KUBERNETES_VERSION").unwrap_or("unknown")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_file_pins_every_component() {
        for key in [
            "KUBERNETES_VERSION",
            "ETCD_VERSION",
            "KWOK_VERSION",
            "KUSTOMIZE_VERSION",
            "SOPS_VERSION",
            "HELM_VERSION",
            "SEALED_SECRETS_VERSION",
        ] {
            let value = version(key).unwrap_or_default();
            assert!(value.starts_with('v'), "{key} = {value:?}");
        }
    }
}
