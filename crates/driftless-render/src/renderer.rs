//! The renderer trait and the choice of renderer per directory.

use driftless_resource::{DuplicateObject, Manifest, ParseError, ensure_unique};

use crate::tree::{FileTree, TreeError};

/// Why a directory could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The file tree could not be read (missing path, escaping symlink, oversized file, I/O).
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// A file is not valid YAML/JSON or declares an invalid object.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// Two manifests declare the same object.
    #[error(transparent)]
    Duplicate(#[from] Box<DuplicateObject>),
    /// A limit on the work of one render was passed (directory entries, nesting depth).
    #[error("{path}: {message}")]
    Limit {
        /// The entry at which it was passed.
        path: String,
        /// Which limit.
        message: String,
    },
    /// An include or exclude pattern is not a valid glob.
    #[error("invalid glob {pattern:?}: {message}")]
    Glob {
        /// The pattern as given.
        pattern: String,
        /// Why it is invalid.
        message: String,
    },
    /// A SOPS file did not decrypt (wrong or missing key, MAC mismatch, corrupted value):
    /// the one line names the file and the key path inside it.
    #[error(transparent)]
    Decryption(#[from] crate::DecryptError),
    /// An error from a renderer plugged in from another crate (Kustomize, Helm). Its message
    /// is part of this one (not a separate cause), so that every way of showing the error, the
    /// controller's one-line condition as the CLI's chain of causes, names the file at fault.
    #[error("{renderer}: {error}")]
    Plugin {
        /// The renderer's name.
        renderer: &'static str,
        /// Its error.
        error: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Turns a directory of a [`FileTree`] into manifests.
pub trait Renderer: Send + Sync {
    /// A short name for messages (`plain`, `kustomize`, `helm`).
    fn name(&self) -> &'static str;

    /// Whether this renderer handles `dir` (e.g. it holds a `kustomization.yaml`).
    fn claims(&self, tree: &dyn FileTree, dir: &str) -> bool;

    /// Renders `dir`. Provenance paths are relative to the tree's root. The result is in a
    /// deterministic order; uniqueness is checked by [`Renderers::render`].
    ///
    /// # Errors
    /// The first problem found, naming the file (and line) it is in.
    fn render(&self, tree: &dyn FileTree, dir: &str) -> Result<Vec<Manifest>, RenderError>;

    /// Renders `dir` with each object's provenance ([`crate::Traced`]): by default, the
    /// declaration each manifest's provenance names and no later steps.
    ///
    /// # Errors
    /// As [`Renderer::render`].
    fn trace(&self, tree: &dyn FileTree, dir: &str) -> Result<Vec<crate::Traced>, RenderError> {
        Ok(crate::provenance::declared_as_rendered(
            self.render(tree, dir)?,
        ))
    }
}

/// An ordered list of renderers; the first one that claims a directory renders it.
pub struct Renderers {
    renderers: Vec<Box<dyn Renderer>>,
}

impl Renderers {
    /// Renderers tried in the given order. Put the plain renderer, which claims every directory,
    /// last.
    pub fn new(renderers: Vec<Box<dyn Renderer>>) -> Self {
        Self { renderers }
    }

    /// The renderer that would render `dir`.
    pub fn choose(&self, tree: &dyn FileTree, dir: &str) -> Option<&dyn Renderer> {
        self.renderers
            .iter()
            .map(|r| r.as_ref())
            .find(|r| r.claims(tree, dir))
    }

    /// Renders `dir` with the first renderer that claims it and checks that no object is declared
    /// twice. A directory that no renderer claims renders to nothing; one that does not exist is
    /// an error.
    ///
    /// # Errors
    /// The renderer's error, [`TreeError::NotFound`] / [`TreeError::NotADirectory`] for `dir`, or
    /// [`RenderError::Duplicate`] naming both declarations.
    pub fn render(&self, tree: &dyn FileTree, dir: &str) -> Result<Vec<Manifest>, RenderError> {
        // Fails early and clearly on a wrong --path.
        tree.read_dir(dir)?;
        let Some(renderer) = self.choose(tree, dir) else {
            return Ok(Vec::new());
        };
        let manifests = renderer.render(tree, dir)?;
        ensure_unique(&manifests)?;
        Ok(manifests)
    }
}

#[cfg(test)]
mod tests {
    use driftless_resource::parse_manifests;

    use super::*;
    use crate::{MemoryTree, Plain, PlainOptions, TreeError};

    /// Stands in for the Kustomize renderer: claims directories with a `kustomization.yaml`.
    struct FakeKustomize;

    impl Renderer for FakeKustomize {
        fn name(&self) -> &'static str {
            "kustomize"
        }

        fn claims(&self, tree: &dyn FileTree, dir: &str) -> bool {
            tree.kind(&crate::join(dir, "kustomization.yaml")).is_some()
        }

        fn render(&self, _tree: &dyn FileTree, dir: &str) -> Result<Vec<Manifest>, RenderError> {
            let doc = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-kustomize}\n";
            Ok(parse_manifests(
                &crate::join(dir, "kustomization.yaml"),
                doc,
            )?)
        }
    }

    #[test]
    fn the_first_renderer_that_claims_a_directory_renders_it() -> Result<(), RenderError> {
        let mut tree = MemoryTree::default();
        tree.insert("overlay/kustomization.yaml", "resources: []\n");
        tree.insert(
            "plain/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\n",
        );
        let renderers = Renderers::new(vec![
            Box::new(FakeKustomize),
            Box::new(Plain::new(&PlainOptions::default())?),
        ]);
        assert_eq!(
            renderers.choose(&tree, "overlay").map(|r| r.name()),
            Some("kustomize")
        );
        assert_eq!(
            renderers.choose(&tree, "plain").map(|r| r.name()),
            Some("plain")
        );
        let names = |dir| -> Result<Vec<String>, RenderError> {
            Ok(renderers
                .render(&tree, dir)?
                .iter()
                .map(|m| m.key().name.clone())
                .collect())
        };
        assert_eq!(names("overlay")?, ["from-kustomize"]);
        assert_eq!(names("plain")?, ["plain"]);
        assert!(matches!(
            names("absent"),
            Err(RenderError::Tree(TreeError::NotFound(_)))
        ));
        Ok(())
    }
}
