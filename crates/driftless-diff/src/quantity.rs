//! Resource quantities: `cpu: 0.5` in Git and `cpu: 500m` in the cluster are the same request.
//!
//! The API server stores every quantity in canonical form (`0.5` → `500m`, `1` (a number) →
//! `"1"`, `1024Mi` → `1Gi`), so a manifest that spells one differently would look drifted on
//! every comparison. [`adopt_live_spelling`] compares such fields by value and, where the
//! values are equal, gives the desired side the live spelling. It never hides a real change:
//! values that differ, or do not parse, are left alone.

use serde_json::Value;

/// Maps whose values are all quantities (`resources.limits`, `resources.requests`,
/// ResourceQuota `hard`, LimitRange `max`/`min`/`default`/`defaultRequest`/
/// `maxLimitRequestRatio`, `overhead`).
const QUANTITY_MAPS: [&str; 9] = [
    "limits",
    "requests",
    "hard",
    "max",
    "min",
    "default",
    "defaultRequest",
    "maxLimitRequestRatio",
    "overhead",
];

/// Single fields holding a quantity (`emptyDir.sizeLimit`).
const QUANTITY_FIELDS: [&str; 1] = ["sizeLimit"];

/// Where `desired` and `live` hold the same quantity under a quantity field, copies the live
/// spelling into `desired`. Lists are walked index by index, as they are compared.
pub fn adopt_live_spelling(desired: &mut Value, live: &Value) {
    match (desired, live) {
        (Value::Object(d), Value::Object(l)) => {
            for (key, dv) in d.iter_mut() {
                let Some(lv) = l.get(key) else { continue };
                if QUANTITY_FIELDS.contains(&key.as_str()) {
                    adopt_if_equal(dv, lv);
                } else if QUANTITY_MAPS.contains(&key.as_str())
                    && let (Value::Object(dm), Value::Object(lm)) = (&mut *dv, lv)
                {
                    for (name, q) in dm.iter_mut() {
                        if let Some(lq) = lm.get(name) {
                            adopt_if_equal(q, lq);
                        }
                    }
                } else {
                    adopt_live_spelling(dv, lv);
                }
            }
        }
        (Value::Array(d), Value::Array(l)) => {
            for (dv, lv) in d.iter_mut().zip(l) {
                adopt_live_spelling(dv, lv);
            }
        }
        _ => {}
    }
}

fn adopt_if_equal(desired: &mut Value, live: &Value) {
    let Value::String(live_text) = live else {
        return;
    };
    let desired_text = match desired {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return,
    };
    if desired_text != *live_text
        && let (Some(a), Some(b)) = (nano_units(&desired_text), nano_units(live_text))
        && a == b
    {
        *desired = live.clone();
    }
}

/// The exact value of a quantity in billionths (the finest unit Kubernetes keeps, `n`), or
/// `None` when it does not parse, is finer than that, or overflows.
///
/// Syntax: an optionally signed decimal number, then a binary suffix (`Ki` `Mi` `Gi` `Ti` `Pi`
/// `Ei`), a decimal suffix (`n` `u` `m` `k` `M` `G` `T` `P` `E`, or none), or an exponent
/// (`e3`, `E-2`).
pub fn nano_units(text: &str) -> Option<i128> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let number_len = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(number_len);
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let (binary, exp10) = match suffix {
        "Ki" => (1_i128 << 10, 0),
        "Mi" => (1 << 20, 0),
        "Gi" => (1 << 30, 0),
        "Ti" => (1 << 40, 0),
        "Pi" => (1 << 50, 0),
        "Ei" => (1 << 60, 0),
        "n" => (1, -9),
        "u" => (1, -6),
        "m" => (1, -3),
        "" => (1, 0),
        "k" => (1, 3),
        "M" => (1, 6),
        "G" => (1, 9),
        "T" => (1, 12),
        "P" => (1, 15),
        "E" => (1, 18),
        other => {
            let exp = other.strip_prefix(['e', 'E'])?;
            let exp: i32 = exp.parse().ok()?;
            (1, exp.clamp(-64, 64))
        }
    };
    let digits: String = [int_part, frac_part].concat();
    let mantissa: i128 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    let scale = i32::try_from(frac_part.len()).ok()?;
    let mut value = mantissa.checked_mul(binary)?;
    let shift = 9 + exp10 - scale;
    let power = 10_i128.checked_pow(shift.unsigned_abs())?;
    if shift >= 0 {
        value = value.checked_mul(power)?;
    } else if value % power == 0 {
        value /= power;
    } else {
        return None;
    }
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equal_spellings_have_equal_values() {
        let same = [
            ("0.5", "500m"),
            ("1", "1000m"),
            ("1Gi", "1024Mi"),
            ("1e3", "1k"),
            ("1.5Gi", "1536Mi"),
            ("100n", "0.0000001"),
            ("-2", "-2000m"),
            (".5", "500m"),
        ];
        for (a, b) in same {
            assert_eq!(nano_units(a), nano_units(b), "{a} vs {b}");
            assert!(nano_units(a).is_some(), "{a}");
        }
        assert_ne!(nano_units("1G"), nano_units("1Gi"));
        assert_ne!(nano_units("100m"), nano_units("1"));
        for bad in ["", "abc", "1Xi", "1..2", "0.0000000001", "1e99999"] {
            assert_eq!(nano_units(bad), None, "{bad}");
        }
    }

    #[test]
    fn adopts_the_live_spelling_only_for_equal_quantities() {
        let live = json!({"containers": [{"resources": {
            "limits": {"cpu": "500m", "memory": "1Gi"}, "requests": {"cpu": "1"}}},
            {"name": "x", "env": [{"name": "A", "value": "1000m"}]}]});
        let mut desired = json!({"containers": [{"resources": {
            "limits": {"cpu": 0.5, "memory": "1024Mi"}, "requests": {"cpu": 2}}},
            {"name": "x", "env": [{"name": "A", "value": "1"}]}]});
        adopt_live_spelling(&mut desired, &live);
        assert_eq!(
            desired,
            json!({"containers": [{"resources": {
                "limits": {"cpu": "500m", "memory": "1Gi"}, "requests": {"cpu": 2}}},
                {"name": "x", "env": [{"name": "A", "value": "1"}]}]})
        );
    }
}
