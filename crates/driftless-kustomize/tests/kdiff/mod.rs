//! The generator of the differential test: kustomization trees from a seed.

pub mod manifests;
pub mod rng;
pub mod strings;
pub mod tree;
pub mod yaml;
