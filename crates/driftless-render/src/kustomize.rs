//! The Kustomize renderer: any directory holding a kustomization file is built natively by
//! `driftless-kustomize`, confined to the file tree (a Git commit or a local directory).

use driftless_kustomize::fs::FsError;
use std::sync::Arc;

use driftless_kustomize::{Change, FileSystem, Options, RemoteLoader, build, build_traced};
use driftless_resource::{Manifest, Provenance};

use crate::provenance::{Declared, Traced};
use crate::renderer::{RenderError, Renderer};
use crate::tree::{EntryKind, FileTree, join};

/// The names kustomize looks for, in its order.
pub use driftless_kustomize::kustomization::FILE_NAMES as KUSTOMIZATION_FILES;

/// Renders Kustomize directories, with the output `kubectl kustomize` gives.
#[derive(Debug, Default)]
pub struct Kustomize {
    options: Options,
}

impl Kustomize {
    /// A renderer with kustomize's defaults (legacy order, load restrictions on).
    pub fn new() -> Self {
        Self::default()
    }

    /// A renderer that fetches remote bases through `loader` instead of refusing them.
    pub fn with_remote(loader: Arc<dyn RemoteLoader>) -> Self {
        Self {
            options: Options {
                remote: Some(loader),
                ..Options::default()
            },
        }
    }
}

impl Renderer for Kustomize {
    fn name(&self) -> &'static str {
        "kustomize"
    }

    fn claims(&self, tree: &dyn FileTree, dir: &str) -> bool {
        kustomization_file(tree, dir).is_some()
    }

    fn render(&self, tree: &dyn FileTree, dir: &str) -> Result<Vec<Manifest>, RenderError> {
        let file =
            kustomization_file(tree, dir).unwrap_or_else(|| join(dir, KUSTOMIZATION_FILES[0]));
        let objects = build(&TreeFs(tree), &format!("/{dir}"), &self.options)
            .map_err(|e| build_error(&file, e))?;
        objects
            .into_iter()
            .enumerate()
            .map(|(document, object)| {
                let at = Provenance {
                    file: file.clone(),
                    document,
                    line: 0,
                    item: None,
                };
                Manifest::new(object, at).map_err(|e| RenderError::Plugin {
                    renderer: "kustomize",
                    error: Box::new(e),
                })
            })
            .collect()
    }

    fn trace(&self, tree: &dyn FileTree, dir: &str) -> Result<Vec<Traced>, RenderError> {
        let file =
            kustomization_file(tree, dir).unwrap_or_else(|| join(dir, KUSTOMIZATION_FILES[0]));
        let traced = build_traced(&TreeFs(tree), &format!("/{dir}"), &self.options)
            .map_err(|e| build_error(&file, e))?;
        let relative = |path: &str| path.trim_start_matches('/').to_owned();
        traced
            .into_iter()
            .enumerate()
            .map(|(document, t)| {
                let at = Provenance {
                    file: file.clone(),
                    document,
                    line: 0,
                    item: None,
                };
                let manifest = Manifest::new(t.object, at).map_err(|e| RenderError::Plugin {
                    renderer: "kustomize",
                    error: Box::new(e),
                })?;
                let declared = match (t.file, t.generator) {
                    (Some(path), _) => Declared::File {
                        file: relative(&path),
                        document: None,
                        item: None,
                        kind: t.declared_kind,
                        name: t.declared_name,
                    },
                    (None, generator) => {
                        let field = match t.generator_kind.as_deref() {
                            Some("ConfigMapGenerator") => Some("configMapGenerator"),
                            Some("SecretGenerator") => Some("secretGenerator"),
                            _ => None,
                        };
                        Declared::Generated {
                            file: relative(&generator.unwrap_or_else(|| file.clone())),
                            field: field.map(|f| format!("{f}[name={}]", t.declared_name)),
                        }
                    }
                };
                let changes = t
                    .changes
                    .into_iter()
                    .map(|c| Change {
                        file: relative(&c.file),
                        ..c
                    })
                    .collect();
                Ok(Traced {
                    manifest,
                    declared,
                    changes,
                })
            })
            .collect()
    }
}

/// A build error that names a file: kustomize's own message when it names the kustomization
/// built, else that message after the kustomization's path (a cycle, a var, a sort option or a
/// limit is reported by kustomize without the file it comes from).
fn build_error(file: &str, e: driftless_kustomize::Error) -> RenderError {
    let message = e.to_string();
    let error: Box<dyn std::error::Error + Send + Sync> = if message.contains(&format!("/{file}")) {
        Box::new(e)
    } else {
        format!("{file}: {message}").into()
    };
    RenderError::Plugin {
        renderer: "kustomize",
        error,
    }
}

fn kustomization_file(tree: &dyn FileTree, dir: &str) -> Option<String> {
    KUSTOMIZATION_FILES
        .iter()
        .map(|name| join(dir, name))
        .find(|path| tree.kind(path) == Some(EntryKind::File))
}

/// A [`FileTree`] seen as kustomize's file system, whose `/` is the tree's root: nothing outside
/// the tree can be read, whatever a kustomization asks for.
#[derive(Debug)]
pub struct TreeFs<T>(pub T);

impl<T> TreeFs<T> {
    fn relative(path: &str) -> String {
        path.split('/')
            .filter(|part| !part.is_empty() && *part != ".")
            .collect::<Vec<_>>()
            .join("/")
    }
}

impl<T: FileTree> FileSystem for TreeFs<T> {
    fn read(&self, path: &str) -> Result<Vec<u8>, FsError> {
        let relative = Self::relative(path);
        if self.0.kind(&relative).is_none() {
            return Err(FsError::NotFound(path.to_owned()));
        }
        self.0
            .read_file(&relative)
            .map(|bytes| bytes.into_owned())
            .map_err(|e| tree_error(path, &relative, &e))
    }

    fn list_dir(&self, path: &str) -> Result<Vec<String>, FsError> {
        let relative = Self::relative(path);
        if self.0.kind(&relative).is_none() {
            return Err(FsError::NotFound(path.to_owned()));
        }
        self.0
            .read_dir(&relative)
            .map_err(|e| tree_error(path, &relative, &e))
    }

    fn is_dir(&self, path: &str) -> bool {
        self.0.kind(&Self::relative(path)) == Some(EntryKind::Dir)
    }

    fn exists(&self, path: &str) -> bool {
        self.0.kind(&Self::relative(path)).is_some()
    }
}

/// A tree's error as kustomize's, naming the path once (the tree's message starts with the
/// path relative to the tree, which kustomize's error names already).
fn tree_error(path: &str, relative: &str, e: &crate::tree::TreeError) -> FsError {
    let text = e.to_string();
    let message = text
        .strip_prefix(&format!("{relative}: "))
        .unwrap_or(&text)
        .to_owned();
    FsError::Io {
        path: path.to_owned(),
        source: std::io::Error::other(message),
    }
}
