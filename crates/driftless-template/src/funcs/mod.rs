//! Function libraries to register in a [`crate::Templates`].

pub mod sprig;
