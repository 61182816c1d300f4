//! Sprig's integer and float math, over spf13/cast's conversions.

use super::convert::{go_parse_float, to_float64, to_int64};
use crate::func::{Func, FuncMap, Param};
use crate::value::Value;

use Param::{Any, Float64, Int, String as Str};

const DIV_ZERO: &str = "runtime error: integer divide by zero";

/// Go's `math.Max`/`math.Min` NaN and signed-zero rules.
fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    if a == 0.0 && b == 0.0 {
        return if a.is_sign_negative() { b } else { a };
    }
    a.max(b)
}

fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    if a == 0.0 && b == 0.0 {
        return if a.is_sign_negative() { a } else { b };
    }
    a.min(b)
}

/// Sprig's `round`.
fn round(v: f64, places: f64, round_on: f64) -> f64 {
    let pow = 10f64.powf(places);
    let digit = pow * v;
    let div = digit.fract();
    let r = if div >= round_on {
        digit.ceil()
    } else {
        digit.floor()
    };
    r / pow
}

pub(super) fn register(m: &mut FuncMap) {
    let mut add = |names: &[&str], f: Func| {
        for n in names {
            m.insert((*n).to_string(), f.clone());
        }
    };
    add(
        &["add1"],
        Func::new(&[Any], |a| {
            Ok(Value::Int64(to_int64(&a[0]).wrapping_add(1)))
        }),
    );
    add(
        &["add"],
        Func::variadic(&[], Any, |a| {
            Ok(Value::Int64(
                a.iter().fold(0i64, |s, v| s.wrapping_add(to_int64(v))),
            ))
        }),
    );
    add(
        &["sub"],
        Func::new(&[Any, Any], |a| {
            Ok(Value::Int64(to_int64(&a[0]).wrapping_sub(to_int64(&a[1]))))
        }),
    );
    add(
        &["div"],
        Func::new(&[Any, Any], |a| {
            let d = to_int64(&a[1]);
            if d == 0 {
                return Err(DIV_ZERO.into());
            }
            Ok(Value::Int64(to_int64(&a[0]).wrapping_div(d)))
        }),
    );
    add(
        &["mod"],
        Func::new(&[Any, Any], |a| {
            let d = to_int64(&a[1]);
            if d == 0 {
                return Err(DIV_ZERO.into());
            }
            Ok(Value::Int64(to_int64(&a[0]).wrapping_rem(d)))
        }),
    );
    add(
        &["mul"],
        Func::variadic(&[Any], Any, |a| {
            Ok(Value::Int64(
                a[1..]
                    .iter()
                    .fold(to_int64(&a[0]), |s, v| s.wrapping_mul(to_int64(v))),
            ))
        }),
    );
    add(
        &["max", "biggest"],
        Func::variadic(&[Any], Any, |a| {
            Ok(Value::Int64(
                a[1..].iter().map(to_int64).fold(to_int64(&a[0]), i64::max),
            ))
        }),
    );
    add(
        &["min"],
        Func::variadic(&[Any], Any, |a| {
            Ok(Value::Int64(
                a[1..].iter().map(to_int64).fold(to_int64(&a[0]), i64::min),
            ))
        }),
    );
    add(
        &["maxf"],
        Func::variadic(&[Any], Any, |a| {
            Ok(Value::Float(
                a[1..]
                    .iter()
                    .map(to_float64)
                    .fold(to_float64(&a[0]), go_max),
            ))
        }),
    );
    add(
        &["minf"],
        Func::variadic(&[Any], Any, |a| {
            Ok(Value::Float(
                a[1..]
                    .iter()
                    .map(to_float64)
                    .fold(to_float64(&a[0]), go_min),
            ))
        }),
    );
    add(
        &["floor"],
        Func::new(&[Any], |a| Ok(Value::Float(to_float64(&a[0]).floor()))),
    );
    add(
        &["ceil"],
        Func::new(&[Any], |a| Ok(Value::Float(to_float64(&a[0]).ceil()))),
    );
    add(
        &["round"],
        Func::variadic(&[Any, Int], Float64, |a| {
            let places = match a[1] {
                Value::Int(i) => i as f64,
                _ => 0.0,
            };
            let on = match a.get(2) {
                Some(Value::Float(f)) => *f,
                _ => 0.5,
            };
            Ok(Value::Float(round(to_float64(&a[0]), places, on)))
        }),
    );
    add(
        &["int"],
        Func::new(&[Any], |a| Ok(Value::Int(to_int64(&a[0])))),
    );
    add(
        &["int64"],
        Func::new(&[Any], |a| Ok(Value::Int64(to_int64(&a[0])))),
    );
    add(
        &["float64"],
        Func::new(&[Any], |a| Ok(Value::Float(to_float64(&a[0])))),
    );
    add(
        &["atoi"],
        Func::new(&[Str], |a| {
            let s = a[0].as_str().unwrap_or("");
            let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
            let valid = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
            Ok(Value::Int(if valid {
                s.parse::<i64>().unwrap_or(0)
            } else {
                0
            }))
        }),
    );
    add(
        &["toDecimal"],
        Func::new(&[Any], |a| {
            let s = crate::fmt::sprint(std::slice::from_ref(&a[0]));
            let digits = s.strip_prefix(['+', '-']).unwrap_or(&s);
            let ok = !digits.is_empty() && digits.bytes().all(|b| (b'0'..=b'7').contains(&b));
            Ok(Value::Int64(if ok {
                i64::from_str_radix(&s, 8).unwrap_or(0)
            } else {
                0
            }))
        }),
    );
    let _ = go_parse_float;
}
