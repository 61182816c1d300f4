//! The provenance of a rendered object: where it was declared and the steps that changed it.

use driftless_kustomize::Change;
use driftless_resource::Manifest;

/// A rendered object and how it came to be.
#[derive(Debug, Clone)]
pub struct Traced {
    /// The object as rendering returns it.
    pub manifest: Manifest,
    /// Where it was declared.
    pub declared: Declared,
    /// The steps that changed it after it was declared, in order (Kustomize only). Their files
    /// are relative to the tree's root.
    pub changes: Vec<Change>,
}

/// Where an object was declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Declared {
    /// In a manifest file: path relative to the tree's root, document index (when known),
    /// `kind: List` item.
    File {
        /// The file.
        file: String,
        /// The document, when the renderer knows it (else found by kind and name).
        document: Option<usize>,
        /// The item of a `kind: List`.
        item: Option<usize>,
        /// Kind as declared.
        kind: String,
        /// Name as declared (before prefixes and suffixes).
        name: String,
    },
    /// Made by a generator configured in this kustomization file.
    Generated {
        /// The kustomization file (or plugin configuration).
        file: String,
        /// The generator's entry in it (`configMapGenerator[name=settings]`), for the builtin
        /// generators of a kustomization.
        field: Option<String>,
    },
}

/// The provenance a renderer without steps gives: each manifest declared where its
/// [`driftless_resource::Provenance`] says.
pub(crate) fn declared_as_rendered(manifests: Vec<Manifest>) -> Vec<Traced> {
    manifests
        .into_iter()
        .map(|manifest| {
            let at = manifest.provenance();
            let declared = Declared::File {
                file: at.file.clone(),
                document: Some(at.document),
                item: at.item,
                kind: manifest.key().kind.clone(),
                name: manifest.key().name.clone(),
            };
            Traced {
                manifest,
                declared,
                changes: Vec::new(),
            }
        })
        .collect()
}
