//! Sprig's functions (`sprig.TxtFuncMap()` of Sprig v3.3.0, as Helm registers them): the pure
//! ones, each with Sprig's Go signature so that arguments are converted and refused as in Go.

mod case;
mod convert;
mod crypto;
mod dates;
mod decimal;
mod defaults;
mod dicts;
mod encoding;
mod lists;
mod math;
mod random;
mod reflect;
mod regex;
mod semver;
mod strings;

use std::sync::Arc;

use crate::func::FuncMap;

pub use convert::{strval, to_float64, to_int64};
pub use dates::{Time, duration_string, parse_duration};
pub use defaults::empty;
pub use semver::{Version, semver_compare};

/// Every Sprig function implemented so far, by Sprig's names, with the system clock.
pub fn funcs() -> FuncMap {
    funcs_with_clock(Arc::new(jiff::Timestamp::now))
}

/// The same with a fixed clock: `now` returns `now` (in UTC), for reproducible renders.
pub fn funcs_at(now: jiff::Timestamp) -> FuncMap {
    funcs_with_clock(Arc::new(move || now))
}

fn funcs_with_clock(clock: Arc<dyn Fn() -> jiff::Timestamp + Send + Sync>) -> FuncMap {
    let mut m = FuncMap::new();
    crypto::register(&mut m, clock.clone());
    dates::register(&mut m, clock);
    strings::register(&mut m);
    defaults::register(&mut m);
    lists::register(&mut m);
    dicts::register(&mut m);
    math::register(&mut m);
    decimal::register(&mut m);
    regex::register(&mut m);
    encoding::register(&mut m);
    reflect::register(&mut m);
    random::register(&mut m);
    semver::register(&mut m);
    m
}

/// Go's `runtime error` when Sprig calls `reflect.TypeOf(nil).Kind()`.
pub(crate) const NIL_DEREF: &str =
    "runtime error: invalid memory address or nil pointer dereference";
