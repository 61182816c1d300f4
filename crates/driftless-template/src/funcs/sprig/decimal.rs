//! Sprig's decimal float functions `addf add1f subf mulf divf`: shopspring/decimal arithmetic
//! on the shortest decimal form of each float64 (so `addf 0.1 0.2` is 0.3), division to 16
//! decimal places rounded half away from zero, then the nearest float64.

use super::convert::to_float64;
use crate::func::{Func, FuncMap, FuncResult, Param};
use crate::value::Value;

use Param::Any;

/// DivisionPrecision of shopspring/decimal.
const DIVISION_PRECISION: i32 = 16;

/// mantissa × 10^exp.
#[derive(Debug, Clone, Copy)]
struct Dec {
    m: i128,
    e: i32,
}

fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

impl Dec {
    /// `decimal.NewFromFloat`: the shortest decimal that reads back as `f`.
    fn from_f64(f: f64) -> Option<Dec> {
        if !f.is_finite() {
            return None;
        }
        let s = format!("{f:e}");
        let (mant, exp) = s.split_once('e')?;
        let exp: i32 = exp.parse().ok()?;
        let neg = mant.starts_with('-');
        let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
        let frac = mant.split_once('.').map_or(0, |(_, f)| f.len()) as i32;
        let m: i128 = digits.parse().ok()?;
        Some(Dec {
            m: if neg { -m } else { m },
            e: exp - frac,
        })
    }

    fn to_f64(self) -> f64 {
        format!("{}e{}", self.m, self.e).parse().unwrap_or(f64::NAN)
    }

    /// Both at the smaller exponent.
    fn align(a: Dec, b: Dec) -> Option<(i128, i128, i32)> {
        let e = a.e.min(b.e);
        let am = a.m.checked_mul(pow10((a.e - e) as u32)?)?;
        let bm = b.m.checked_mul(pow10((b.e - e) as u32)?)?;
        Some((am, bm, e))
    }

    fn add(a: Dec, b: Dec) -> Option<Dec> {
        let (x, y, e) = Dec::align(a, b)?;
        Some(Dec {
            m: x.checked_add(y)?,
            e,
        })
    }

    fn sub(a: Dec, b: Dec) -> Option<Dec> {
        let (x, y, e) = Dec::align(a, b)?;
        Some(Dec {
            m: x.checked_sub(y)?,
            e,
        })
    }

    fn mul(a: Dec, b: Dec) -> Option<Dec> {
        Some(Dec {
            m: a.m.checked_mul(b.m)?,
            e: a.e.checked_add(b.e)?,
        })
    }

    /// `DivRound(b, 16)`; `Err` on division by zero.
    fn div(a: Dec, b: Dec) -> Result<Option<Dec>, String> {
        if b.m == 0 {
            return Err("decimal division by 0".into());
        }
        let p = DIVISION_PRECISION;
        // a / b = (a.m / b.m) × 10^(a.e - b.e); the quotient is wanted at exponent -p.
        let shift = a.e - b.e + p;
        let (num, den) = if shift >= 0 {
            match pow10(shift as u32).and_then(|s| a.m.checked_mul(s)) {
                Some(n) => (n, b.m),
                None => return Ok(None),
            }
        } else {
            match pow10((-shift) as u32).and_then(|s| b.m.checked_mul(s)) {
                Some(d) => (a.m, d),
                None => return Ok(Some(Dec { m: 0, e: -p })),
            }
        };
        let mut q = num / den;
        let r = num % den;
        if r.unsigned_abs().saturating_mul(2) >= den.unsigned_abs() {
            q += if (num < 0) != (den < 0) { -1 } else { 1 };
        }
        Ok(Some(Dec { m: q, e: -p }))
    }
}

/// Sprig's `execDecimalOp`: folds `op` over the arguments; where the exact arithmetic would
/// leave 128 bits, falls back to float64 arithmetic.
fn fold(
    first: f64,
    rest: &[Value],
    op: fn(Dec, Dec) -> Result<Option<Dec>, String>,
    float: fn(f64, f64) -> f64,
) -> FuncResult {
    let mut acc = Dec::from_f64(first);
    let mut approx = first;
    for v in rest {
        let x = to_float64(v);
        let dx = Dec::from_f64(x);
        acc = match (acc, dx) {
            (Some(a), Some(b)) => op(a, b)?,
            _ => None,
        };
        approx = float(approx, x);
        if let Some(a) = acc {
            approx = a.to_f64();
        }
    }
    Ok(Value::Float(acc.map_or(approx, Dec::to_f64)))
}

pub(super) fn register(m: &mut FuncMap) {
    let mut add = |name: &str, f: Func| {
        m.insert(name.to_string(), f);
    };
    add(
        "addf",
        Func::variadic(&[], Any, |a| {
            fold(0.0, a, |x, y| Ok(Dec::add(x, y)), |x, y| x + y)
        }),
    );
    add(
        "add1f",
        Func::new(&[Any], |a| {
            fold(
                to_float64(&a[0]),
                &[Value::Int(1)],
                |x, y| Ok(Dec::add(x, y)),
                |x, y| x + y,
            )
        }),
    );
    add(
        "subf",
        Func::variadic(&[Any], Any, |a| {
            fold(
                to_float64(&a[0]),
                &a[1..],
                |x, y| Ok(Dec::sub(x, y)),
                |x, y| x - y,
            )
        }),
    );
    add(
        "mulf",
        Func::variadic(&[Any], Any, |a| {
            fold(
                to_float64(&a[0]),
                &a[1..],
                |x, y| Ok(Dec::mul(x, y)),
                |x, y| x * y,
            )
        }),
    );
    add(
        "divf",
        Func::variadic(&[Any], Any, |a| {
            fold(to_float64(&a[0]), &a[1..], Dec::div, |x, y| x / y)
        }),
    );
}
