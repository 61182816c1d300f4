//! Native Kustomize: a filesystem in, manifests out, byte-identical to `kustomize build`.
//!
//! No network, no cluster: everything a build reads comes through [`FileSystem`].
//!
//! ```
//! use driftless_kustomize::{MemFs, Options, build_yaml};
//! let fs = MemFs::new()
//!     .with("/app/kustomization.yaml", "namePrefix: dev-\nresources:\n- cm.yaml\n")
//!     .with("/app/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n");
//! let out = build_yaml(&fs, "/app", &Options::default())?;
//! assert_eq!(out, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dev-cfg\n");
//! # Ok::<(), driftless_kustomize::Error>(())
//! ```

mod alias;
mod build;
mod builtins;
mod config;
pub mod conformance;
mod crds;
mod error;
mod fieldpath;
mod fieldspecs;
mod folded;
pub mod fs;
mod generate;
mod jsonpatch;
pub mod kustomization;
mod nameref;
pub mod parse;
mod patch;
mod pattern;
mod plugins;
pub mod provenance;
mod record;
mod replacements;
pub mod resource;
pub mod smp;
mod sort;
mod target;
mod transform;
mod vars;

pub use build::{build, build_traced, build_yaml};
pub use error::Error;
pub use fs::{DiskFs, FileSystem, MemFs};
pub use provenance::{Change, Setter, Traced};
pub use target::{Options, RemoteLoader, Reorder, is_remote};
