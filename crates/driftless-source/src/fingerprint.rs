//! What a render's inputs ([`Inputs`]) are at a commit, told by Git's object ids alone: no
//! file is read. Two commits where every input has the same fingerprint render alike.

use std::collections::HashMap;

use driftless_render::{Input, Inputs, Read};
use gix::ObjectId;
use gix::bstr::ByteSlice;

use crate::files::FilesError;

/// What one input is at a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    /// Nothing there.
    Absent,
    /// A file (its kind was asked, not its contents).
    File,
    /// A directory (its kind was asked, not its entries).
    Dir,
    /// A file's contents, by blob id.
    Blob(ObjectId),
    /// A directory's entries: names, and what each is (a link or submodule with its id, whose
    /// target or commit decides what a render sees through it).
    Listing(Box<[(String, Entry)]>),
    /// Something a fingerprint cannot stand for (a path through a symbolic link, a submodule):
    /// never the same as anything, so the render is done again.
    Unknown,
}

/// An entry of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    File,
    Dir,
    Link(ObjectId),
    Submodule(ObjectId),
}

/// The fingerprints of a render's inputs at one commit, in the inputs' order.
///
/// # Guarantees
/// [`Fingerprints::matches`] is true only when every input is the same in both: the same blob
/// for each file read, the same entries in each directory listed, the same kind for each path
/// probed. A path that goes through a symbolic link never matches (the link's target may have
/// changed under the same path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprints(Vec<Seen>);

impl Fingerprints {
    /// Whether the inputs are the same in `self` and `other` (fingerprints of the same inputs).
    pub fn matches(&self, other: &Fingerprints) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .zip(&other.0)
                .all(|(a, b)| *a != Seen::Unknown && a == b)
    }
}

/// A node of a tree, without following links.
#[derive(Clone)]
enum Node {
    Tree(ObjectId),
    Blob(ObjectId),
    Link(ObjectId),
    Submodule(ObjectId),
}

/// Fingerprints each of `inputs` at the tree `root`, sharing the trees decoded.
pub(crate) fn fingerprints(
    repo: &gix::Repository,
    root: ObjectId,
    inputs: &[&Inputs],
) -> Result<Vec<Fingerprints>, FilesError> {
    let mut walker = Walker {
        repo,
        trees: HashMap::new(),
    };
    inputs
        .iter()
        .map(|inputs| {
            inputs
                .iter()
                .map(|input| walker.seen(root, input))
                .collect::<Result<Vec<_>, _>>()
                .map(Fingerprints)
        })
        .collect()
}

/// Looks paths up, decoding each tree once.
struct Walker<'a> {
    repo: &'a gix::Repository,
    trees: HashMap<ObjectId, std::rc::Rc<[(String, Node)]>>,
}

impl Walker<'_> {
    fn seen(&mut self, root: ObjectId, input: &Input) -> Result<Seen, FilesError> {
        let Some(node) = self.lookup(root, &input.path)? else {
            return Ok(Seen::Absent);
        };
        Ok(match (node, input.read) {
            (Node::Link(_) | Node::Submodule(_), _) => Seen::Unknown,
            (Node::Blob(_), Read::Kind | Read::List) => Seen::File,
            (Node::Blob(id), Read::Contents) => Seen::Blob(id),
            (Node::Tree(_), Read::Kind | Read::Contents) => Seen::Dir,
            (Node::Tree(id), Read::List) => Seen::Listing(
                self.children(id, &input.path)?
                    .iter()
                    .map(|(name, node)| {
                        let entry = match node {
                            Node::Tree(_) => Entry::Dir,
                            Node::Blob(_) => Entry::File,
                            Node::Link(id) => Entry::Link(*id),
                            Node::Submodule(id) => Entry::Submodule(*id),
                        };
                        (name.clone(), entry)
                    })
                    .collect(),
            ),
        })
    }

    /// The node at `path`; a link on the way is returned as the node (its target is unknown).
    fn lookup(&mut self, root: ObjectId, path: &str) -> Result<Option<Node>, FilesError> {
        let mut node = Node::Tree(root);
        for part in path.split('/').filter(|p| !p.is_empty() && *p != ".") {
            match node {
                Node::Tree(id) => {
                    if part == ".." {
                        // Renderers ask for normalized paths; one that is not is not guessed at.
                        return Ok(Some(Node::Link(id)));
                    }
                    let children = self.children(id, path)?;
                    match children.iter().find(|(name, _)| name == part) {
                        Some((_, child)) => node = child.clone(),
                        None => return Ok(None),
                    }
                }
                Node::Blob(_) => return Ok(None),
                Node::Link(_) | Node::Submodule(_) => return Ok(Some(node)),
            }
        }
        Ok(Some(node))
    }

    fn children(
        &mut self,
        id: ObjectId,
        path: &str,
    ) -> Result<std::rc::Rc<[(String, Node)]>, FilesError> {
        if let Some(children) = self.trees.get(&id) {
            return Ok(children.clone());
        }
        let git = |e: &dyn std::fmt::Display| FilesError::Git {
            path: path.to_owned(),
            message: e.to_string(),
        };
        let tree = self.repo.find_tree(id).map_err(|e| git(&e))?;
        let decoded = tree.decode().map_err(|e| git(&e))?;
        let children: std::rc::Rc<[(String, Node)]> = decoded
            .entries
            .iter()
            .map(|entry| {
                let id = entry.oid.to_owned();
                let node = if entry.mode.is_tree() {
                    Node::Tree(id)
                } else if entry.mode.is_commit() {
                    Node::Submodule(id)
                } else if entry.mode.is_link() {
                    Node::Link(id)
                } else {
                    Node::Blob(id)
                };
                (entry.filename.to_str_lossy().into_owned(), node)
            })
            .collect();
        self.trees.insert(id, children.clone());
        Ok(children)
    }
}
