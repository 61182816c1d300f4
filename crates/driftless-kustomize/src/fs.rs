//! The filesystem a build reads from: a small trait with a disk and an in-memory implementation.
//!
//! Paths are always absolute-style, `/`-separated strings relative to the filesystem's root
//! (`/app/base/kustomization.yaml`). Each implementation decides what the root maps to, so a
//! directory on disk and a Git tree held in memory look the same to the builder.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Errors from reading the filesystem.
#[derive(Debug, thiserror::Error)]
pub enum FsError {
    /// The path does not exist.
    #[error("{0}: no such file or directory")]
    NotFound(String),
    /// The path exists but could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path that failed.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// The read-only view of a tree of files that a Kustomize build needs.
pub trait FileSystem {
    /// Reads a whole file.
    fn read(&self, path: &str) -> Result<Vec<u8>, FsError>;
    /// Lists the names (not paths) of the entries of a directory, sorted.
    fn list_dir(&self, path: &str) -> Result<Vec<String>, FsError>;
    /// Whether `path` is a directory.
    fn is_dir(&self, path: &str) -> bool;
    /// Whether `path` exists (file or directory).
    fn exists(&self, path: &str) -> bool;
    /// The path with symbolic links resolved, as a path of this filesystem; `None` when it
    /// resolves outside the filesystem. Filesystems without links return the path normalized.
    fn resolve(&self, path: &str) -> Option<String> {
        Some(normalize(path))
    }
}

/// A directory on local disk; the filesystem's `/` is that directory.
#[derive(Debug, Clone)]
pub struct DiskFs {
    root: PathBuf,
}

impl DiskFs {
    /// A filesystem whose root `/` is `root` on disk.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn real(&self, path: &str) -> PathBuf {
        let mut p = self.root.clone();
        for part in path.split('/').filter(|s| !s.is_empty() && *s != ".") {
            p.push(part);
        }
        p
    }
}

impl FileSystem for DiskFs {
    fn read(&self, path: &str) -> Result<Vec<u8>, FsError> {
        std::fs::read(self.real(path)).map_err(|source| io_error(path, source))
    }

    fn list_dir(&self, path: &str) -> Result<Vec<String>, FsError> {
        let entries = std::fs::read_dir(self.real(path)).map_err(|e| io_error(path, e))?;
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io_error(path, e))?;
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(names)
    }

    fn is_dir(&self, path: &str) -> bool {
        self.real(path).is_dir()
    }

    fn exists(&self, path: &str) -> bool {
        self.real(path).exists()
    }

    fn resolve(&self, path: &str) -> Option<String> {
        let Ok(real) = std::fs::canonicalize(self.real(path)) else {
            // A missing file resolves to itself; reading it reports it missing.
            return Some(normalize(path));
        };
        let root = std::fs::canonicalize(&self.root).ok()?;
        let inside = real.strip_prefix(&root).ok()?;
        let parts: Vec<String> = inside
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        Some(format!("/{}", parts.join("/")))
    }
}

fn io_error(path: &str, source: std::io::Error) -> FsError {
    if source.kind() == std::io::ErrorKind::NotFound {
        FsError::NotFound(path.to_string())
    } else {
        FsError::Io {
            path: path.to_string(),
            source,
        }
    }
}

/// An in-memory tree of files (for tests, or a Git tree read into memory).
#[derive(Debug, Clone, Default)]
pub struct MemFs {
    files: BTreeMap<String, Vec<u8>>,
}

impl MemFs {
    /// An empty filesystem.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a file; parent directories exist implicitly.
    pub fn insert(&mut self, path: &str, content: impl Into<Vec<u8>>) {
        self.files.insert(normalize(path), content.into());
    }

    /// Builder-style [`MemFs::insert`].
    pub fn with(mut self, path: &str, content: impl Into<Vec<u8>>) -> Self {
        self.insert(path, content);
        self
    }
}

impl FileSystem for MemFs {
    fn read(&self, path: &str) -> Result<Vec<u8>, FsError> {
        self.files
            .get(&normalize(path))
            .cloned()
            .ok_or_else(|| FsError::NotFound(path.to_string()))
    }

    fn list_dir(&self, path: &str) -> Result<Vec<String>, FsError> {
        let dir = normalize(path);
        let prefix = if dir == "/" {
            "/".to_string()
        } else {
            format!("{dir}/")
        };
        let mut names: Vec<String> = self
            .files
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix))
            .filter_map(|rest| rest.split('/').next())
            .map(str::to_string)
            .collect();
        names.dedup();
        if names.is_empty() && !self.is_dir(&dir) {
            return Err(FsError::NotFound(path.to_string()));
        }
        Ok(names)
    }

    fn is_dir(&self, path: &str) -> bool {
        let dir = normalize(path);
        if dir == "/" {
            return true;
        }
        let prefix = format!("{dir}/");
        self.files
            .range(prefix.clone()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(&prefix))
    }

    fn exists(&self, path: &str) -> bool {
        self.files.contains_key(&normalize(path)) || self.is_dir(path)
    }
}

/// Normalizes a path: absolute, no `.`/empty components, `..` resolved (never above `/`).
pub fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Whether joining `rel` onto `dir` climbs above the filesystem root with `..`.
pub fn escapes_root(dir: &str, rel: &str) -> bool {
    let mut depth: i64 = if rel.starts_with('/') {
        0
    } else {
        dir.split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .count() as i64
    };
    for part in rel.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            _ => depth += 1,
        }
    }
    false
}

/// Joins `rel` onto directory `dir` (an absolute `rel` replaces it) and normalizes.
pub fn join(dir: &str, rel: &str) -> String {
    if rel.starts_with('/') {
        normalize(rel)
    } else {
        normalize(&format!("{dir}/{rel}"))
    }
}

/// The parent directory of a normalized path (`/` for `/`).
pub fn parent(path: &str) -> String {
    match path.rfind('/') {
        Some(0) | None => "/".to_string(),
        Some(i) => path[..i].to_string(),
    }
}

/// The path of `to` relative to directory `from` (both normalized), with `..` as needed.
pub fn relative(from: &str, to: &str) -> String {
    let f: Vec<&str> = from.split('/').filter(|s| !s.is_empty()).collect();
    let t: Vec<&str> = to.split('/').filter(|s| !s.is_empty()).collect();
    let common = f.iter().zip(t.iter()).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = std::iter::repeat_n("..", f.len() - common).collect();
    parts.extend(&t[common..]);
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memfs_lists_files_and_implied_directories() {
        let fs = MemFs::new().with("/a/b.yaml", "x").with("/a/c/d.yaml", "y");
        assert_eq!(
            fs.list_dir("/a").ok(),
            Some(vec!["b.yaml".to_string(), "c".to_string()])
        );
        assert!(fs.is_dir("/a/c"));
        assert!(!fs.is_dir("/a/b.yaml"));
        assert!(fs.exists("a/b.yaml"));
        assert!(fs.list_dir("/nope").is_err());
    }

    #[test]
    fn join_resolves_dot_dot_and_absolute_paths() {
        assert_eq!(join("/app/overlay", "../base"), "/app/base");
        assert_eq!(join("/app", "/x/y"), "/x/y");
        assert_eq!(parent("/app/base"), "/app");
        assert_eq!(parent("/app"), "/");
        assert_eq!(relative("/app/prod", "/app/base/x.yaml"), "../base/x.yaml");
        assert_eq!(relative("/app", "/app/x.yaml"), "x.yaml");
        assert!(escapes_root("/", "../x"));
        assert!(escapes_root("/app", "../../x"));
        assert!(!escapes_root("/app/overlay", "../base"));
    }
}
