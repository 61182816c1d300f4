//! The builtin transformers, in the order kustomize runs them.

use crate::build::{Builder, Target};
use crate::error::Error;
use crate::resource::Resource;

/// Runs the transformers of one kustomization.
pub(crate) fn run(_b: &Builder<'_>, _t: &Target, _res: &mut [Resource]) -> Result<(), Error> {
    Ok(())
}
