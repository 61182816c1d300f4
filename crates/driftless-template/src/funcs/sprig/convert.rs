//! Sprig's conversions: `strval` and spf13/cast's `ToInt64`, `ToInt` and `ToFloat64`.

use crate::fmt::sprint;
use crate::value::Value;

/// Sprig's `strval`: strings as they are, anything else as `%v` prints it.
pub fn strval(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        v => sprint(std::slice::from_ref(&if v.is_nil() {
            Value::Nil
        } else {
            v.clone()
        })),
    }
}

/// cast's `trimZeroDecimal`: "1.0" and "1.00" read as "1".
fn trim_zero_decimal(s: &str) -> &str {
    let b = s.as_bytes();
    let mut found_zero = false;
    for i in (1..=b.len()).rev() {
        match b[i - 1] {
            b'.' => {
                if found_zero {
                    return &s[..i - 1];
                }
            }
            b'0' => found_zero = true,
            _ => return s,
        }
    }
    s
}

/// Go's float-to-int conversion on amd64: truncation, and the "indefinite integer" for values
/// out of range.
pub(crate) fn float_to_i64(f: f64) -> i64 {
    if f.is_nan() || !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

/// cast's `ToInt64` (errors give 0, as Sprig ignores them).
pub fn to_int64(v: &Value) -> i64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i,
        Value::Uint64(u) => *u as i64,
        Value::Byte(b) => i64::from(*b),
        Value::Float(f) => float_to_i64(*f),
        Value::String(s) => crate::strconv::parse_int(trim_zero_decimal(s)).unwrap_or(0),
        Value::Bool(b) => i64::from(*b),
        _ => 0,
    }
}

/// cast's `ToFloat64` (errors give 0).
pub fn to_float64(v: &Value) -> f64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i as f64,
        Value::Uint64(u) => *u as f64,
        Value::Byte(b) => f64::from(*b),
        Value::Float(f) => *f,
        Value::String(s) => go_parse_float(s).unwrap_or(0.0),
        Value::Bool(b) => f64::from(u8::from(*b)),
        _ => 0.0,
    }
}

/// `strconv.ParseFloat(s, 64)`, with Go's spellings of infinities and NaN.
pub(crate) fn go_parse_float(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    match lower.trim_start_matches(['+', '-']) {
        "inf" | "infinity" => {
            return Some(if lower.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            });
        }
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    crate::strconv::parse_float(s)
}

/// A list's elements, for Sprig functions that take any slice.
pub(crate) fn list_items(v: &Value) -> Option<crate::value::List> {
    match v {
        Value::List(l) => Some(l.clone()),
        // A named slice type with methods (Helm's `.Capabilities.APIVersions`).
        Value::Object(o) => match o.as_value() {
            Some(Value::List(l)) => Some(l),
            _ => None,
        },
        _ => None,
    }
}

/// Go's `reflect.Kind` name of a value, for Sprig's "Cannot X on type KIND" errors.
pub(crate) fn kind(v: &Value) -> &'static str {
    v.kind_name()
}

/// Go's `reflect.DeepEqual` over template values (types must match: `1` is not `1.0`).
pub(crate) fn deep_equal(a: &Value, b: &Value) -> bool {
    deep_equal_at(a, b, 0)
}

fn deep_equal_at(a: &Value, b: &Value, depth: usize) -> bool {
    if depth > 200 {
        // Only maps that contain themselves get here; Go's DeepEqual treats a revisited pair
        // as equal.
        return true;
    }
    let deep_equal = |x: &Value, y: &Value| deep_equal_at(x, y, depth + 1);
    match (a, b) {
        (Value::Missing | Value::Nil, Value::Missing | Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) | (Value::Int64(x), Value::Int64(y)) => x == y,
        (Value::Uint64(x), Value::Uint64(y)) => x == y,
        (Value::Byte(x), Value::Byte(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            x.elem() == y.elem()
                && x.len() == y.len()
                && x.iter().zip(y.iter()).all(|(a, b)| deep_equal(a, b))
        }
        (Value::Map(x), Value::Map(y)) => {
            if x.same(y) {
                return true;
            }
            let (x, y) = (x.read(), y.read());
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| deep_equal(v, w)))
        }
        _ => false,
    }
}
