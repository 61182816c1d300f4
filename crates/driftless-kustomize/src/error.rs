//! The build error.

use crate::fs::FsError;
use crate::parse::YamlError;

/// Why a build failed; messages name the kustomization file and field where one applies.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error(transparent)]
    Fs(#[from] FsError),
    /// A file is not valid YAML.
    #[error(transparent)]
    Yaml(#[from] YamlError),
    /// The directory has no kustomization file.
    #[error(
        "unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in directory '{0}'"
    )]
    MissingKustomization(String),
    /// A field of a kustomization file is wrong.
    #[error("{file}: {field}: {message}")]
    Field {
        /// The kustomization file.
        file: String,
        /// The field (`resources`, `patches[2]`...).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// Anything else, with kustomize's wording.
    #[error("{0}")]
    Msg(String),
}

impl Error {
    /// An error with a plain message.
    pub fn msg(m: impl Into<String>) -> Self {
        Self::Msg(m.into())
    }

    /// This error inside a field of a kustomization file.
    pub fn in_field(self, file: &str, field: &str) -> Self {
        match self {
            e @ Self::Field { .. } => e,
            e @ Self::MissingKustomization(_) => Self::Field {
                file: file.to_string(),
                field: field.to_string(),
                message: format!("accumulating {field}: {e}"),
            },
            e => Self::Field {
                file: file.to_string(),
                field: field.to_string(),
                message: e.to_string(),
            },
        }
    }
}
