//! `replacements`: copy a field of one resource into fields of others.

use crate::build::{Builder, Target};
use crate::error::Error;
use crate::resource::Resource;

/// Runs the replacements of one kustomization.
pub(crate) fn run(_b: &Builder<'_>, _t: &Target, _res: &mut [Resource]) -> Result<(), Error> {
    Ok(())
}

/// Applies replacement entries (from a `ReplacementTransformer` configuration).
pub(crate) fn apply(_b: &Builder<'_>, _t: &Target, _res: &mut [Resource], _reps: &[serde_json::Value]) -> Result<(), Error> {
    Ok(())
}
