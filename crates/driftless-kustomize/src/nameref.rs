//! Name references: fields that name another object follow that object's renames.

use crate::error::Error;
use crate::resource::Resource;

/// Rewrites references to renamed objects.
pub fn fix(_res: &mut [Resource]) -> Result<(), Error> {
    Ok(())
}
