//! The inputs of a render: every path of the tree a renderer looked at, and how.
//!
//! A render is a pure function of the tree, so two renders that look at the same paths and
//! find the same there give the same manifests. [`Recorded`] wraps any [`FileTree`] and notes
//! each question asked of it; whoever holds the tree's source (Git) can then tell, for a new
//! version of the tree, whether anything a render saw has changed without rendering again.
//! Recording at the tree rather than in each renderer covers every renderer alike: plain
//! directories, Kustomize bases and components anywhere in the repository, files read by
//! generators and patches, and probes for kustomization files that were not there.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::BTreeSet;

use crate::tree::{EntryKind, FileTree, TreeError};

/// How a render looked at a path. The stronger reads of a path imply nothing about the weaker
/// ones: each is recorded on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Read {
    /// Whether something is there, and whether a file or a directory ([`FileTree::kind`]).
    Kind,
    /// The names of a directory's entries ([`FileTree::read_dir`]).
    List,
    /// A file's bytes ([`FileTree::read_file`]).
    Contents,
}

/// One path of the tree and how it was read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Input {
    /// Relative to the tree's root, as the renderer asked for it.
    pub path: String,
    /// What was read of it.
    pub read: Read,
}

/// Every path a render looked at, sorted and without repeats.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inputs(Vec<Input>);

impl Inputs {
    /// The inputs in path order.
    pub fn iter(&self) -> impl Iterator<Item = &Input> {
        self.0.iter()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the render looked at nothing.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<Input> for Inputs {
    fn from_iter<I: IntoIterator<Item = Input>>(iter: I) -> Self {
        let set: BTreeSet<Input> = iter.into_iter().collect();
        Self(set.into_iter().collect())
    }
}

/// A [`FileTree`] that records every question asked of it (see the module's documentation).
///
/// # Guarantees
/// Every answer the wrapped tree gives, an error included, is preceded by a record of the
/// question, so the recorded inputs cover everything the answer depended on.
#[derive(Debug)]
pub struct Recorded<T> {
    tree: T,
    inputs: RefCell<BTreeSet<Input>>,
}

impl<T: FileTree> Recorded<T> {
    /// Wraps `tree`.
    pub fn new(tree: T) -> Self {
        Self {
            tree,
            inputs: RefCell::new(BTreeSet::new()),
        }
    }

    /// What was read so far.
    pub fn inputs(&self) -> Inputs {
        Inputs(self.inputs.borrow().iter().cloned().collect())
    }

    fn note(&self, path: &str, read: Read) {
        self.inputs.borrow_mut().insert(Input {
            path: path.trim_matches('/').to_owned(),
            read,
        });
    }
}

impl<T: FileTree> FileTree for Recorded<T> {
    fn kind(&self, path: &str) -> Option<EntryKind> {
        self.note(path, Read::Kind);
        self.tree.kind(path)
    }

    fn read_dir(&self, dir: &str) -> Result<Vec<String>, TreeError> {
        self.note(dir, Read::List);
        self.tree.read_dir(dir)
    }

    fn read_file(&self, path: &str) -> Result<Cow<'_, [u8]>, TreeError> {
        self.note(path, Read::Contents);
        self.tree.read_file(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Kustomize, MemoryTree, Plain, PlainOptions, Renderer, Renderers};

    fn renderers() -> Result<Renderers, crate::RenderError> {
        Ok(Renderers::new(vec![
            Box::new(Kustomize::new()),
            Box::new(Plain::new(&PlainOptions {
                recursive: true,
                ..PlainOptions::default()
            })?),
        ]))
    }

    fn has(inputs: &Inputs, path: &str, read: Read) -> bool {
        inputs.iter().any(|i| i.path == path && i.read == read)
    }

    const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n";

    #[test]
    fn a_plain_directory_records_its_listings_and_every_file_it_read() -> Result<(), String> {
        let mut tree = MemoryTree::default();
        tree.insert("apps/a/cm.yaml", CM);
        tree.insert("apps/a/nested/more.yaml", CM.replace("name: a", "name: b"));
        tree.insert("apps/b/other.yaml", CM);
        let recorded = Recorded::new(&tree);
        renderers()
            .map_err(|e| e.to_string())?
            .render(&recorded, "apps/a")
            .map_err(|e| e.to_string())?;
        let inputs = recorded.inputs();
        assert!(has(&inputs, "apps/a", Read::List));
        assert!(has(&inputs, "apps/a/nested", Read::List));
        assert!(has(&inputs, "apps/a/cm.yaml", Read::Contents));
        assert!(has(&inputs, "apps/a/nested/more.yaml", Read::Contents));
        // The probe for a kustomization file that is not there is an input too: adding one
        // changes the renderer.
        assert!(has(&inputs, "apps/a/kustomization.yaml", Read::Kind));
        assert!(!inputs.iter().any(|i| i.path.starts_with("apps/b")));
        Ok(())
    }

    #[test]
    fn a_kustomization_records_its_bases_components_and_generator_files_outside_its_path()
    -> Result<(), String> {
        let mut tree = MemoryTree::default();
        tree.insert(
            "apps/a/kustomization.yaml",
            "resources: [../../base]\ncomponents: [../../components/label]\n",
        );
        tree.insert(
            "base/kustomization.yaml",
            "resources: [cm.yaml]\nconfigMapGenerator:\n- name: settings\n  files: [shared/app.properties]\n",
        );
        tree.insert("base/cm.yaml", CM);
        tree.insert(
            "components/label/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncommonLabels: {team: x}\n",
        );
        tree.insert("base/shared/app.properties", "k=v\n");
        tree.insert("unrelated/cm.yaml", CM);
        let kustomize = Kustomize::new();
        let recorded = Recorded::new(&tree);
        kustomize
            .render(&recorded, "apps/a")
            .map_err(|e| e.to_string())?;
        let inputs = recorded.inputs();
        for path in [
            "apps/a/kustomization.yaml",
            "base/kustomization.yaml",
            "base/cm.yaml",
            "components/label/kustomization.yaml",
            "base/shared/app.properties",
        ] {
            assert!(has(&inputs, path, Read::Contents), "{path} in {inputs:?}");
        }
        assert!(!inputs.iter().any(|i| i.path.starts_with("unrelated")));
        Ok(())
    }

    #[test]
    fn a_failed_read_is_an_input_too() {
        let tree = MemoryTree::default();
        let recorded = Recorded::new(&tree);
        assert!(recorded.read_file("absent.yaml").is_err());
        assert!(has(&recorded.inputs(), "absent.yaml", Read::Contents));
    }
}
