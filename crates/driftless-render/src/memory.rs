//! An in-memory file tree, e.g. the files of a Git commit.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use crate::tree::{EntryKind, FileTree, TreeError};

/// Files held in memory, keyed by `/`-separated path; directories are implied by the paths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryTree {
    files: BTreeMap<String, Vec<u8>>,
}

impl MemoryTree {
    /// Adds or replaces a file.
    pub fn insert(&mut self, path: impl Into<String>, bytes: impl Into<Vec<u8>>) {
        self.files.insert(path.into(), bytes.into());
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// True when the tree holds no file.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Files whose path starts with `prefix/` (or all files for `""`).
    fn under<'a>(&'a self, dir: &'a str) -> impl Iterator<Item = (&'a String, &'a Vec<u8>)> + 'a {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        self.files
            .range(prefix.clone()..)
            .take_while(move |(path, _)| path.starts_with(&prefix))
    }
}

impl From<BTreeMap<String, Vec<u8>>> for MemoryTree {
    fn from(files: BTreeMap<String, Vec<u8>>) -> Self {
        Self { files }
    }
}

impl FileTree for MemoryTree {
    fn kind(&self, path: &str) -> Option<EntryKind> {
        if self.files.contains_key(path) {
            Some(EntryKind::File)
        } else if self.under(path).next().is_some() {
            Some(EntryKind::Dir)
        } else {
            None
        }
    }

    fn read_dir(&self, dir: &str) -> Result<Vec<String>, TreeError> {
        match self.kind(dir) {
            Some(EntryKind::Dir) => {}
            Some(EntryKind::File) => return Err(TreeError::NotADirectory(dir.to_owned())),
            None => return Err(TreeError::NotFound(dir.to_owned())),
        }
        let skip = if dir.is_empty() { 0 } else { dir.len() + 1 };
        let names: BTreeSet<String> = self
            .under(dir)
            .filter_map(|(path, _)| path.get(skip..))
            .map(|rest| rest.split('/').next().unwrap_or(rest).to_owned())
            .collect();
        Ok(names.into_iter().collect())
    }

    fn read_file(&self, path: &str) -> Result<Cow<'_, [u8]>, TreeError> {
        self.files
            .get(path)
            .map(|bytes| Cow::Borrowed(bytes.as_slice()))
            .ok_or_else(|| TreeError::NotFound(path.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_are_implied_by_paths() {
        let mut tree = MemoryTree::default();
        tree.insert("a/b.yaml", "x");
        tree.insert("a/c/d.yaml", "y");
        tree.insert("ab.yaml", "z");
        assert_eq!(tree.kind(""), Some(EntryKind::Dir));
        assert_eq!(tree.kind("a"), Some(EntryKind::Dir));
        assert_eq!(tree.kind("a/b.yaml"), Some(EntryKind::File));
        assert_eq!(tree.kind("a/b"), None);
        assert_eq!(
            tree.read_dir(""),
            Ok(vec!["a".to_owned(), "ab.yaml".to_owned()])
        );
        assert_eq!(
            tree.read_dir("a"),
            Ok(vec!["b.yaml".to_owned(), "c".to_owned()])
        );
        assert_eq!(
            tree.read_dir("ab.yaml"),
            Err(TreeError::NotADirectory("ab.yaml".into()))
        );
        assert_eq!(
            tree.read_file("a/c/d.yaml").map(|b| b.into_owned()),
            Ok(b"y".to_vec())
        );
        assert_eq!(
            tree.read_file("nope"),
            Err(TreeError::NotFound("nope".into()))
        );
    }
}
