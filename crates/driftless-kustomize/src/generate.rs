//! `configMapGenerator` and `secretGenerator`, and the name suffix hash.

use crate::build::{Accumulator, Builder, Target};
use crate::error::Error;
use crate::resource::Resource;

/// Runs the generators of one kustomization.
pub(crate) fn run(_b: &Builder<'_>, _t: &Target, _ra: &mut Accumulator) -> Result<(), Error> {
    Ok(())
}

/// Appends the content hash to the names of generated resources.
pub fn add_hashes(_res: &mut [Resource]) -> Result<(), Error> {
    Ok(())
}
