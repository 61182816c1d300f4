//! Resource keys and manifests with provenance, and Kubernetes-flavoured YAML parsing.
//!
//! This crate is pure: no I/O, no Git, no cluster. Every other stage of Driftless (render, diff,
//! sync, kustomize) exchanges [`Manifest`]s and identifies objects by [`ResourceKey`].
//!
//! ```
//! let manifests = driftless_resource::parse_manifests(
//!     "app/cm.yaml",
//!     b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: 0644\n",
//! )?;
//! assert_eq!(manifests[0].key().to_string(), "/ConfigMap//settings");
//! assert_eq!(manifests[0].object()["data"]["mode"], 420);
//! # Ok::<(), driftless_resource::ParseError>(())
//! ```

mod api_version;
mod field_path;
mod key;
mod locate;
mod manifest;
mod node;
mod set;
mod yaml;

pub use api_version::{api_group, split_api_version};
pub use field_path::{FieldPath, FieldPathError, Segment};
pub use key::ResourceKey;
pub use locate::{Lines, locate_field, locate_in_patch, locate_object, locate_top};
pub use manifest::{Manifest, ManifestError, Provenance};
pub use set::{DuplicateObject, ensure_unique};
pub use yaml::{ParseError, parse_manifests};
