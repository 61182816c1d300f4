//! Sprig's functions (`sprig.TxtFuncMap()`, Sprig v3.3.0, as Helm registers them), the pure
//! ones, with Sprig's Go signatures.

use crate::func::FuncMap;

/// Every Sprig function implemented so far.
pub fn funcs() -> FuncMap {
    FuncMap::new()
}
