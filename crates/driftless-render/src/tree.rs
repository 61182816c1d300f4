//! The read-only file tree every renderer reads from.

use std::borrow::Cow;

/// What a path in a [`FileTree`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
}

/// Why a file tree could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// Nothing at this path.
    #[error("{0}: no such file or directory")]
    NotFound(String),
    /// A directory was expected.
    #[error("{0}: not a directory")]
    NotADirectory(String),
    /// A path leaves the tree (`..` above the root, or a symbolic link pointing outside it).
    #[error("{path}: leaves the tree (to {target})")]
    Escapes {
        /// The offending path.
        path: String,
        /// Where it points.
        target: String,
    },
    /// A file is bigger than the limit.
    #[error("{path}: file of {size} bytes exceeds the limit of {limit} bytes")]
    FileTooLarge {
        /// The file.
        path: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The operating system refused.
    #[error("{path}: {message}")]
    Io {
        /// The path.
        path: String,
        /// The system's message.
        message: String,
    },
}

/// A read-only tree of files. Paths are relative to the tree's root, `/`-separated, without a
/// leading `/`; `""` is the root. Implementations never give access outside the root.
///
/// Small on purpose: an adapter to another crate's filesystem trait is a few lines.
pub trait FileTree {
    /// What `path` is, or `None` when nothing is there.
    fn kind(&self, path: &str) -> Option<EntryKind>;

    /// The names (not paths) of a directory's entries, sorted by byte order.
    ///
    /// # Errors
    /// [`TreeError::NotFound`] / [`TreeError::NotADirectory`], or the implementation's own.
    fn read_dir(&self, dir: &str) -> Result<Vec<String>, TreeError>;

    /// A file's bytes.
    ///
    /// # Errors
    /// [`TreeError::NotFound`], or the implementation's own (size limits, escapes, I/O).
    fn read_file(&self, path: &str) -> Result<Cow<'_, [u8]>, TreeError>;
}

/// A reference to a tree is a tree.
impl<T: FileTree + ?Sized> FileTree for &T {
    fn kind(&self, path: &str) -> Option<EntryKind> {
        (**self).kind(path)
    }

    fn read_dir(&self, dir: &str) -> Result<Vec<String>, TreeError> {
        (**self).read_dir(dir)
    }

    fn read_file(&self, path: &str) -> Result<Cow<'_, [u8]>, TreeError> {
        (**self).read_file(path)
    }
}

/// Joins a directory and a name: `join("", "a") == "a"`, `join("a", "b") == "a/b"`.
pub fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// Normalizes a user-given relative path: drops `.` and empty segments, resolves `..`.
///
/// # Errors
/// [`TreeError::Escapes`] when `..` climbs above the root or the path is absolute.
pub fn normalize(path: &str) -> Result<String, TreeError> {
    let escapes = || TreeError::Escapes {
        path: path.to_owned(),
        target: "outside the root".to_owned(),
    };
    if path.starts_with('/') {
        return Err(escapes());
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop().ok_or_else(escapes)?;
            }
            other => parts.push(other),
        }
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_resolves_dots_and_refuses_escapes() {
        assert_eq!(normalize("./a//b/../c/"), Ok("a/c".to_owned()));
        assert_eq!(normalize("."), Ok(String::new()));
        assert!(matches!(
            normalize("a/../.."),
            Err(TreeError::Escapes { .. })
        ));
        assert!(matches!(normalize("/etc"), Err(TreeError::Escapes { .. })));
    }
}
