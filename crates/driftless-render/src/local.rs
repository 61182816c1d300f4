//! A local directory as a file tree, confined to its root.

use std::borrow::Cow;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::tree::{EntryKind, FileTree, TreeError};

/// Default largest file read: manifests are text; 16 MiB is far above any real one (the API
/// server refuses objects over about 1.5 MiB) and stops a stray binary from filling memory.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;

/// A directory on the local disk. Symbolic links are followed only while they stay inside the
/// root; one that leads outside is an error when read, never silently followed.
#[derive(Debug, Clone)]
pub struct LocalDir {
    root: PathBuf,
    max_file_size: u64,
}

impl LocalDir {
    /// Opens `root` (which must be a directory).
    ///
    /// # Errors
    /// [`TreeError::Io`] when `root` cannot be resolved, [`TreeError::NotADirectory`] when it is a
    /// file.
    pub fn new(root: impl AsRef<Path>) -> Result<Self, TreeError> {
        let shown = root.as_ref().display().to_string();
        let root = root.as_ref().canonicalize().map_err(|err| TreeError::Io {
            path: shown.clone(),
            message: err.to_string(),
        })?;
        if !root.is_dir() {
            return Err(TreeError::NotADirectory(shown));
        }
        Ok(Self {
            root,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
        })
    }

    /// Sets the largest file [`FileTree::read_file`] accepts.
    #[must_use]
    pub fn with_max_file_size(mut self, bytes: u64) -> Self {
        self.max_file_size = bytes;
        self
    }

    /// The real path of `path`, checked to be inside the root.
    fn resolve(&self, path: &str) -> Result<PathBuf, TreeError> {
        let joined = self.root.join(path);
        let real = joined.canonicalize().map_err(|err| {
            if joined.symlink_metadata().is_ok_and(|m| m.is_symlink()) {
                // A link to nothing, or links in a circle: an error, as the Git source gives.
                TreeError::Io {
                    path: path.to_owned(),
                    message: format!("symbolic link cannot be resolved ({err})"),
                }
            } else if err.kind() == std::io::ErrorKind::NotFound {
                TreeError::NotFound(path.to_owned())
            } else {
                TreeError::Io {
                    path: path.to_owned(),
                    message: err.to_string(),
                }
            }
        })?;
        if real.starts_with(&self.root) {
            Ok(real)
        } else {
            Err(TreeError::Escapes {
                path: path.to_owned(),
                target: real.display().to_string(),
            })
        }
    }
}

impl FileTree for LocalDir {
    fn kind(&self, path: &str) -> Option<EntryKind> {
        match self.resolve(path) {
            Ok(real) if real.is_dir() => Some(EntryKind::Dir),
            Ok(_) => Some(EntryKind::File),
            // Report an escaping or broken link as a file so that reading it gives the clear
            // error.
            Err(TreeError::Escapes { .. } | TreeError::Io { .. }) => Some(EntryKind::File),
            Err(_) => None,
        }
    }

    fn read_dir(&self, dir: &str) -> Result<Vec<String>, TreeError> {
        let real = self.resolve(dir)?;
        let io = |err: std::io::Error| TreeError::Io {
            path: dir.to_owned(),
            message: err.to_string(),
        };
        if !real.is_dir() {
            return Err(TreeError::NotADirectory(dir.to_owned()));
        }
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&real).map_err(io)? {
            let name = entry.map_err(io)?.file_name();
            // Names that are not UTF-8 cannot be manifests we can name in errors; skip them.
            if let Some(name) = name.to_str()
                && name != ".git"
            {
                names.push(name.to_owned());
            }
        }
        names.sort();
        Ok(names)
    }

    fn read_file(&self, path: &str) -> Result<Cow<'_, [u8]>, TreeError> {
        let real = self.resolve(path)?;
        let io = |err: std::io::Error| TreeError::Io {
            path: path.to_owned(),
            message: err.to_string(),
        };
        let metadata = std::fs::metadata(&real).map_err(io)?;
        if !metadata.is_file() {
            // A named pipe would block the read forever, a device would never end.
            return Err(TreeError::Io {
                path: path.to_owned(),
                message: "not a regular file".to_owned(),
            });
        }
        let too_large = |size| TreeError::FileTooLarge {
            path: path.to_owned(),
            size,
            limit: self.max_file_size,
        };
        if metadata.len() > self.max_file_size {
            return Err(too_large(metadata.len()));
        }
        // Read no more than the limit allows even if the file grows meanwhile.
        let mut bytes = Vec::new();
        std::fs::File::open(&real)
            .and_then(|file| file.take(self.max_file_size + 1).read_to_end(&mut bytes))
            .map_err(io)?;
        if bytes.len() as u64 > self.max_file_size {
            return Err(too_large(bytes.len() as u64));
        }
        Ok(Cow::Owned(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlink_inside_is_followed_and_outside_is_refused() -> Result<(), Box<dyn std::error::Error>>
    {
        let outside = tempfile::tempdir()?;
        std::fs::write(outside.path().join("secret.yaml"), "x")?;
        let root = tempfile::tempdir()?;
        std::fs::write(root.path().join("a.yaml"), "a")?;
        std::os::unix::fs::symlink("a.yaml", root.path().join("b.yaml"))?;
        std::os::unix::fs::symlink(
            outside.path().join("secret.yaml"),
            root.path().join("c.yaml"),
        )?;
        let tree = LocalDir::new(root.path())?;
        assert_eq!(tree.read_dir("")?, ["a.yaml", "b.yaml", "c.yaml"]);
        assert_eq!(tree.read_file("b.yaml")?.as_ref(), b"a");
        assert!(
            matches!(tree.read_file("c.yaml"), Err(TreeError::Escapes { path, .. }) if path == "c.yaml")
        );
        assert!(matches!(
            tree.read_file("../x"),
            Err(TreeError::NotFound(_) | TreeError::Escapes { .. })
        ));
        Ok(())
    }

    #[test]
    fn oversized_file_is_refused() -> Result<(), Box<dyn std::error::Error>> {
        let root = tempfile::tempdir()?;
        std::fs::write(root.path().join("big.yaml"), vec![b'#'; 11])?;
        let tree = LocalDir::new(root.path())?.with_max_file_size(10);
        assert_eq!(
            tree.read_file("big.yaml")
                .err()
                .map(|e| e.to_string())
                .as_deref(),
            Some("big.yaml: file of 11 bytes exceeds the limit of 10 bytes")
        );
        Ok(())
    }
}
