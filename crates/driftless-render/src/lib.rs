//! Rendering: from a read-only file tree and a directory in it to the manifests it declares.
//!
//! The input is a [`FileTree`]: an in-memory tree read from a Git commit ([`MemoryTree`]) or a
//! local directory ([`LocalDir`]). A [`Renderer`] is chosen per directory by [`Renderers`]: plain
//! YAML/JSON manifests now; Kustomize and Helm plug in as further renderers that detect their
//! directories (a `kustomization.yaml`, a `Chart.yaml`).
//!
//! This crate does no network, Git or cluster I/O; [`LocalDir`] reads the local disk with `std`.

mod local;
mod memory;
mod plain;
mod renderer;
mod tree;

pub use local::LocalDir;
pub use memory::MemoryTree;
pub use plain::{Plain, PlainOptions};
pub use renderer::{RenderError, Renderer, Renderers};
pub use tree::{EntryKind, FileTree, TreeError, join, normalize};
