//! Rendering: from a read-only file tree and a directory in it to the manifests it declares.
//!
//! The input is a [`FileTree`]: an in-memory tree read from a Git commit ([`MemoryTree`]) or a
//! local directory ([`LocalDir`]). A [`Renderer`] is chosen per directory by [`Renderers`]: plain
//! YAML/JSON manifests, [`Kustomize`] for directories holding a kustomization file, and [`Helm`]
//! for chart directories (a `Chart.yaml`). [`Decrypting`] makes SOPS files read as their
//! plaintext, for every renderer alike.
//!
//! This crate does no network, Git or cluster I/O; [`LocalDir`] reads the local disk with `std`.

mod decrypt;
mod engine;
mod helm;
mod inputs;
mod kustomize;
mod local;
mod memory;
mod plain;
mod provenance;
mod renderer;
mod trace;
mod tree;

pub use decrypt::{DecryptError, Decrypting, KeySupplier, render_decrypted, sops_format};
pub use engine::template_engine;
pub use helm::{CHART_FILE, Helm, HelmOptions};
pub use inputs::{Input, Inputs, Read, Recorded};
pub use kustomize::{KUSTOMIZATION_FILES, Kustomize, TreeFs};
pub use local::LocalDir;
pub use memory::MemoryTree;
pub use plain::{Plain, PlainOptions};
pub use provenance::{Declared, Traced};
pub use renderer::{RenderError, Renderer, Renderers};
pub use trace::{Place, TraceError};
pub use tree::{EntryKind, FileTree, TreeError, join, normalize};
