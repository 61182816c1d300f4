//! Provenance of rendered objects, for `driftless trace`: the file and lines that declare an
//! object, and the file and lines that set the final value of one of its fields (a base, a
//! patch, an overlay's kustomization).
//!
//! Rendering is untouched: [`Renderers::trace`] renders again in a recording mode (see
//! `driftless_kustomize::build_traced`), and lines below the document are found by parsing the
//! one file that matters again with positions.

use driftless_kustomize::Change;
use driftless_resource::{
    FieldPath, Lines, ParseError, locate_field, locate_in_patch, locate_object, locate_top,
};

use crate::provenance::{Declared, Traced};
use crate::renderer::{RenderError, Renderers};
use crate::tree::FileTree;

/// A place in a file of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// Path relative to the tree's root.
    pub file: String,
    /// The lines, when found (else the whole file is meant).
    pub lines: Option<Lines>,
    /// How the file acts on the object: `declared`, or the transformer that ran
    /// (`PatchTransformer`, `ImageTagTransformer`, ...).
    pub how: String,
    /// The kustomization field configuring the step, when the step is configured in `file`.
    pub field: Option<String>,
}

impl Renderers {
    /// Renders `dir` as [`Renderers::render`] does, with each object's provenance.
    ///
    /// # Errors
    /// As [`Renderers::render`].
    pub fn trace(&self, tree: &dyn FileTree, dir: &str) -> Result<Vec<Traced>, RenderError> {
        tree.read_dir(dir)?;
        let Some(renderer) = self.choose(tree, dir) else {
            return Ok(Vec::new());
        };
        renderer.trace(tree, dir)
    }
}

/// Why a place could not be found.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// A file named by the provenance could not be read.
    #[error(transparent)]
    Tree(#[from] crate::tree::TreeError),
    /// It does not parse.
    #[error(transparent)]
    Parse(#[from] ParseError),
}

impl Traced {
    /// Where the object is declared: the file and the lines of its document.
    ///
    /// # Errors
    /// The declaring file cannot be read or parsed.
    pub fn declaration(&self, tree: &dyn FileTree) -> Result<Place, TraceError> {
        let (file, lines) = match &self.declared {
            Declared::Generated { file, field } => {
                let bytes = tree.read_file(file)?;
                let lines = match field.as_deref().map(str::parse::<FieldPath>) {
                    Some(Ok(entry)) => locate_top(file, &bytes, &entry)?,
                    _ => None,
                };
                (file.clone(), lines)
            }
            Declared::File {
                file,
                document,
                item,
                kind,
                name,
            } => {
                let bytes = tree.read_file(file)?;
                let lines = match document {
                    Some(document) => {
                        locate_field(file, &bytes, *document, *item, &FieldPath::default())?
                    }
                    None => locate_object(file, &bytes, kind, name)?.map(|(_, _, lines)| lines),
                };
                (file.clone(), lines)
            }
        };
        Ok(Place {
            file,
            lines,
            how: if matches!(self.declared, Declared::Generated { .. }) {
                "generated".to_owned()
            } else {
                "declared".to_owned()
            },
            field: match &self.declared {
                Declared::Generated { field, .. } => field.clone(),
                Declared::File { .. } => None,
            },
        })
    }

    /// The step that set the final value of `path`, or `None` when it was declared so.
    pub fn setter(&self, path: &FieldPath) -> Option<&Change> {
        let stable = path.stable_in(self.manifest.object());
        let at = |value: &serde_json::Value| stable.get(value).cloned();
        let mut after = at(self.manifest.object());
        for change in self.changes.iter().rev() {
            let before = at(&change.before);
            if before != after {
                return Some(change);
            }
            after = before;
        }
        None
    }

    /// Where the final value of `path` was set: the declaring file (on the field's lines), or
    /// the patch or kustomization that set it last.
    ///
    /// # Errors
    /// A file cannot be read or parsed.
    pub fn field_place(&self, tree: &dyn FileTree, path: &FieldPath) -> Result<Place, TraceError> {
        let stable = path.stable_in(self.manifest.object());
        let Some(change) = self.setter(path) else {
            let mut place = self.declaration(tree)?;
            if let Declared::File {
                file,
                document,
                item,
                kind,
                name,
            } = &self.declared
            {
                let bytes = tree.read_file(file)?;
                let found = match document {
                    Some(document) => Some((*document, *item)),
                    None => locate_object(file, &bytes, kind, name)?.map(|(d, i, _)| (d, i)),
                };
                if let Some((document, item)) = found {
                    place.lines =
                        locate_field(file, &bytes, document, item, &stable)?.or(place.lines);
                }
            }
            return Ok(place);
        };
        let bytes = tree.read_file(&change.file)?;
        let lines = match &change.field {
            Some(field) => match field.parse::<FieldPath>() {
                Ok(top) => locate_top(&change.file, &bytes, &top)?,
                Err(_) => None,
            },
            None => {
                let pointer = path
                    .pointer_in(&change.before)
                    .or_else(|| path.pointer_in(self.manifest.object()));
                locate_in_patch(&change.file, &bytes, &stable, pointer.as_deref())?
            }
        };
        Ok(Place {
            file: change.file.clone(),
            lines,
            how: change.transformer.clone(),
            field: change.field.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Kustomize, MemoryTree, Plain, PlainOptions};

    fn tree() -> MemoryTree {
        let mut tree = MemoryTree::default();
        tree.insert(
            "plain/web.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n# b\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\ndata:\n  mode: slow\n",
        );
        tree.insert("base/kustomization.yaml", "resources:\n- deployment.yaml\n");
        tree.insert(
            "base/deployment.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n      - name: web\n        image: nginx:1\n",
        );
        tree.insert(
            "overlay/kustomization.yaml",
            "resources:\n- ../base\nnamePrefix: prod-\npatches:\n- path: replicas.yaml\nimages:\n- name: nginx\n  newTag: \"2\"\nconfigMapGenerator:\n- name: other\n  literals: [a=b]\n- name: env\n  literals:\n  - mode=fast\n",
        );
        tree.insert(
            "overlay/replicas.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n",
        );
        tree
    }

    fn renderers() -> Result<Renderers, RenderError> {
        Ok(Renderers::new(vec![
            Box::new(Kustomize::new()),
            Box::new(Plain::new(&PlainOptions::default())?),
        ]))
    }

    fn path(text: &str) -> FieldPath {
        text.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    fn place(file: &str, start: u64, end: u64, how: &str, field: Option<&str>) -> Place {
        Place {
            file: file.to_owned(),
            lines: Some(Lines { start, end }),
            how: how.to_owned(),
            field: field.map(str::to_owned),
        }
    }

    #[test]
    fn plain_objects_and_fields_are_found_in_their_file() -> Result<(), Box<dyn std::error::Error>>
    {
        let tree = tree();
        let traced = renderers()?.trace(&tree, "plain")?;
        let b = traced.get(1).ok_or("no second object")?;
        assert_eq!(
            b.declaration(&tree)?,
            place("plain/web.yaml", 6, 11, "declared", None)
        );
        assert_eq!(
            b.field_place(&tree, &path("data.mode"))?,
            place("plain/web.yaml", 11, 11, "declared", None)
        );
        Ok(())
    }

    #[test]
    fn overlay_fields_name_the_patch_or_the_kustomization_that_set_them()
    -> Result<(), Box<dyn std::error::Error>> {
        let tree = tree();
        let traced = renderers()?.trace(&tree, "overlay")?;
        let web = traced
            .iter()
            .find(|t| t.manifest.key().kind == "Deployment")
            .ok_or("nothing rendered")?;
        assert_eq!(web.manifest.key().name, "prod-web");
        assert_eq!(
            web.declaration(&tree)?,
            place("base/deployment.yaml", 1, 11, "declared", None)
        );
        assert_eq!(
            web.field_place(&tree, &path("spec.replicas"))?,
            place("overlay/replicas.yaml", 6, 6, "PatchTransformer", None)
        );
        assert_eq!(
            web.field_place(&tree, &path("spec.template.spec.containers[0].image"))?,
            place(
                "overlay/kustomization.yaml",
                6,
                8,
                "ImageTagTransformer",
                Some("images")
            )
        );
        let env = traced
            .iter()
            .find(|t| t.manifest.key().name.starts_with("prod-env-"))
            .ok_or("no generated ConfigMap")?;
        assert_eq!(
            env.declaration(&tree)?,
            place(
                "overlay/kustomization.yaml",
                12,
                14,
                "generated",
                Some("configMapGenerator[name=env]")
            )
        );
        assert_eq!(
            web.field_place(&tree, &path("spec.template.spec.containers[name=web].name"))?,
            place("base/deployment.yaml", 10, 10, "declared", None)
        );
        Ok(())
    }
}
