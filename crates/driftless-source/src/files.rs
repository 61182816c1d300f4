//! Reading the files of a commit into memory, with limits and no way out of the repository.

use std::collections::BTreeMap;

use driftless_render::join;
use gix::ObjectId;
use gix::bstr::ByteSlice;

/// Limits on what one read of a commit may load. Repository content is untrusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest single file, in bytes.
    pub max_file_size: u64,
    /// Largest sum of file sizes, in bytes.
    pub max_total_size: u64,
    /// Most files.
    pub max_files: usize,
}

impl Default for Limits {
    /// 16 MiB per file (the API server refuses objects over about 1.5 MiB, so a bigger file is
    /// not a manifest), 256 MiB and 50,000 files in all (a large monorepo path holds a few
    /// thousand manifests).
    fn default() -> Self {
        Self {
            max_file_size: 16 * 1024 * 1024,
            max_total_size: 256 * 1024 * 1024,
            max_files: 50_000,
        }
    }
}

/// Symbolic links followed in a row before giving up (the Linux limit).
const MAX_LINK_HOPS: usize = 40;
/// Directories reached through symbolic links, nested; stops a link to its own parent.
const MAX_LINKED_DIR_DEPTH: usize = 8;
/// Tree entries (files, directories, links) visited in one read, for each file allowed: links to
/// directories make a tree visit parts of itself again (ten links to `.`, nested eight deep, are
/// a hundred million visits without a single file), so visits are bounded, not only files.
const VISITS_PER_FILE: usize = 4;

/// Why the files of a commit could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilesError {
    /// The requested path does not exist at this commit.
    #[error("{path}: not found at commit {commit}")]
    NotFound {
        /// The path.
        path: String,
        /// The commit.
        commit: String,
    },
    /// The requested path is a file, not a directory.
    #[error("{0}: not a directory")]
    NotADirectory(String),
    /// A symbolic link points outside the repository (absolute, or `..` above the root).
    #[error("{path}: symbolic link to {target:?} leaves the repository")]
    SymlinkEscapes {
        /// The link.
        path: String,
        /// Its target as written.
        target: String,
    },
    /// A symbolic link points to nothing, or links go round in circles.
    #[error("{path}: symbolic link to {target:?} cannot be resolved ({reason})")]
    BrokenSymlink {
        /// The link.
        path: String,
        /// Its target as written.
        target: String,
        /// `dangling`, `too many links`, `nested too deep`.
        reason: &'static str,
    },
    /// A submodule (gitlink) is inside the requested path.
    #[error("{0}: submodules are not supported")]
    Submodule(String),
    /// A file exceeds [`Limits::max_file_size`].
    #[error("{path}: file of {size} bytes exceeds the limit of {limit} bytes")]
    FileTooLarge {
        /// The file.
        path: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The files together exceed [`Limits::max_total_size`].
    #[error("{path}: total size exceeds the limit of {limit} bytes")]
    TotalTooLarge {
        /// The file at which the limit was passed.
        path: String,
        /// The limit.
        limit: u64,
    },
    /// More tree entries visited than [`Limits::max_files`] times a small factor (links to
    /// directories that make the read visit the same trees over and over).
    #[error("{path}: more than {limit} tree entries visited (symbolic links to directories?)")]
    TooManyEntries {
        /// The entry at which the limit was passed.
        path: String,
        /// The limit.
        limit: usize,
    },
    /// More files than [`Limits::max_files`].
    #[error("{path}: more than {limit} files")]
    TooManyFiles {
        /// The file at which the limit was passed.
        path: String,
        /// The limit.
        limit: usize,
    },
    /// A path in the tree is not UTF-8 or has a forbidden component.
    #[error("{0}: invalid path in tree")]
    InvalidPath(String),
    /// The object database failed (corrupt or missing object).
    #[error("reading {path}: {message}")]
    Git {
        /// Where.
        path: String,
        /// Git's message.
        message: String,
    },
}

/// What a tree entry is, once read.
enum Node {
    Tree(ObjectId),
    Blob(ObjectId),
    Link(ObjectId),
    Submodule,
}

/// An entry of a tree: name and node.
struct Child {
    name: String,
    node: Node,
}

/// The state of one read.
struct Reader<'a> {
    repo: &'a gix::Repository,
    root: ObjectId,
    limits: Limits,
    total: u64,
    /// Tree entries visited so far.
    visits: usize,
    files: BTreeMap<String, Vec<u8>>,
}

/// Reads every file under `dir` (`""` for all) at `commit` into a map keyed by path relative to
/// the repository root. Symbolic links that stay inside the repository are resolved (the link's
/// path gets the target's content); links that leave it, and submodules, are errors.
pub(crate) fn read(
    repo: &gix::Repository,
    commit: ObjectId,
    dir: &str,
    limits: Limits,
) -> Result<BTreeMap<String, Vec<u8>>, FilesError> {
    let root = repo
        .find_commit(commit)
        .and_then(|c| c.tree_id())
        .map_err(|e| Reader::git("commit", &e))?
        .detach();
    let mut reader = Reader {
        repo,
        root,
        limits,
        total: 0,
        visits: 0,
        files: BTreeMap::new(),
    };
    match reader.lookup(dir)? {
        Some(Node::Tree(id)) => reader.walk(id, dir, 0)?,
        Some(_) => return Err(FilesError::NotADirectory(dir.to_owned())),
        None => {
            return Err(FilesError::NotFound {
                path: dir.to_owned(),
                commit: commit.to_string(),
            });
        }
    }
    Ok(reader.files)
}

impl Reader<'_> {
    fn git(path: &str, e: &dyn std::fmt::Display) -> FilesError {
        FilesError::Git {
            path: path.to_owned(),
            message: e.to_string(),
        }
    }

    /// The entries of a tree.
    fn children(&self, tree: ObjectId, path: &str) -> Result<Vec<Child>, FilesError> {
        let tree = self.repo.find_tree(tree).map_err(|e| Self::git(path, &e))?;
        let decoded = tree.decode().map_err(|e| Self::git(path, &e))?;
        let mut children = Vec::with_capacity(decoded.entries.len());
        for entry in &decoded.entries {
            let name = entry
                .filename
                .to_str()
                .map_err(|_| FilesError::InvalidPath(join(path, &entry.filename.to_str_lossy())))?;
            if name.is_empty() || name == "." || name == ".." || name.contains('/') {
                return Err(FilesError::InvalidPath(join(path, name)));
            }
            let id = entry.oid.to_owned();
            let node = if entry.mode.is_tree() {
                Node::Tree(id)
            } else if entry.mode.is_commit() {
                Node::Submodule
            } else if entry.mode.is_link() {
                Node::Link(id)
            } else {
                Node::Blob(id)
            };
            children.push(Child {
                name: name.to_owned(),
                node,
            });
        }
        Ok(children)
    }

    /// The node at a `/`-separated path from the root, without following links.
    fn lookup(&self, path: &str) -> Result<Option<Node>, FilesError> {
        let mut node = Node::Tree(self.root);
        let mut walked = String::new();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            let Node::Tree(tree) = node else {
                return Ok(None);
            };
            let Some(child) = self
                .children(tree, &walked)?
                .into_iter()
                .find(|c| c.name == part)
            else {
                return Ok(None);
            };
            walked = join(&walked, part);
            node = child.node;
        }
        Ok(Some(node))
    }

    fn walk(&mut self, tree: ObjectId, path: &str, linked_depth: usize) -> Result<(), FilesError> {
        for child in self.children(tree, path)? {
            let child_path = join(path, &child.name);
            self.visits += 1;
            let limit = self.limits.max_files.saturating_mul(VISITS_PER_FILE);
            if self.visits > limit {
                return Err(FilesError::TooManyEntries {
                    path: child_path,
                    limit,
                });
            }
            match child.node {
                Node::Tree(id) => self.walk(id, &child_path, linked_depth)?,
                Node::Blob(id) => self.add(&child_path, id)?,
                Node::Submodule => return Err(FilesError::Submodule(child_path)),
                Node::Link(id) => self.follow(&child_path, id, linked_depth)?,
            }
        }
        Ok(())
    }

    /// Resolves the link at `path` inside the repository and loads its target under `path`.
    fn follow(
        &mut self,
        path: &str,
        link: ObjectId,
        linked_depth: usize,
    ) -> Result<(), FilesError> {
        let first_target = self.blob_text(path, link)?;
        let broken = |reason| FilesError::BrokenSymlink {
            path: path.to_owned(),
            target: first_target.clone(),
            reason,
        };
        let mut at = path.to_owned();
        let mut target = first_target.clone();
        for _ in 0..MAX_LINK_HOPS {
            let resolved =
                resolve_link(&at, &target).ok_or_else(|| FilesError::SymlinkEscapes {
                    path: at.clone(),
                    target: target.clone(),
                })?;
            match self.lookup(&resolved)? {
                None | Some(Node::Submodule) => return Err(broken("dangling")),
                Some(Node::Blob(id)) => return self.add(path, id),
                Some(Node::Tree(id)) => {
                    if linked_depth >= MAX_LINKED_DIR_DEPTH {
                        return Err(broken("nested too deep"));
                    }
                    return self.walk(id, path, linked_depth + 1);
                }
                Some(Node::Link(next)) => {
                    target = self.blob_text(&resolved, next)?;
                    at = resolved;
                }
            }
        }
        Err(broken("too many links"))
    }

    fn blob_text(&self, path: &str, id: ObjectId) -> Result<String, FilesError> {
        let blob = self.repo.find_blob(id).map_err(|e| Self::git(path, &e))?;
        Ok(String::from_utf8_lossy(&blob.data).into_owned())
    }

    /// Adds a file, checking the limits before loading it.
    fn add(&mut self, path: &str, id: ObjectId) -> Result<(), FilesError> {
        if self.files.len() >= self.limits.max_files {
            return Err(FilesError::TooManyFiles {
                path: path.to_owned(),
                limit: self.limits.max_files,
            });
        }
        let size = self
            .repo
            .find_header(id)
            .map_err(|e| Self::git(path, &e))?
            .size();
        if size > self.limits.max_file_size {
            return Err(FilesError::FileTooLarge {
                path: path.to_owned(),
                size,
                limit: self.limits.max_file_size,
            });
        }
        self.total = self.total.saturating_add(size);
        if self.total > self.limits.max_total_size {
            return Err(FilesError::TotalTooLarge {
                path: path.to_owned(),
                limit: self.limits.max_total_size,
            });
        }
        let mut blob = self.repo.find_blob(id).map_err(|e| Self::git(path, &e))?;
        self.files.insert(path.to_owned(), blob.take_data());
        Ok(())
    }
}

/// The repository path a link at `link_path` with `target` points to, or `None` when it leaves
/// the repository.
fn resolve_link(link_path: &str, target: &str) -> Option<String> {
    if target.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = link_path.split('/').collect();
    parts.pop();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_targets_resolve_relative_to_the_link() {
        assert_eq!(
            resolve_link("a/b/link", "../c.yaml").as_deref(),
            Some("a/c.yaml")
        );
        assert_eq!(resolve_link("link", "./x/./y").as_deref(), Some("x/y"));
        assert_eq!(resolve_link("a/link", "../../etc/passwd"), None);
        assert_eq!(resolve_link("link", "/etc/passwd"), None);
    }
}
