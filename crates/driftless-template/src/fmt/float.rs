//! `strconv.FormatFloat(v, verb, prec, 64)` for the verbs `e E f g G` (and `b x X` roughly),
//! built on Rust's correctly rounded decimal conversions.

/// Decimal digits of |v| and the decimal point position: v = 0.d1d2d3... × 10^dp.
struct Digits {
    d: Vec<u8>,
    dp: i64,
}

/// The shortest digits that read back as `v` (Go's and Rust's shortest agree).
fn shortest(v: f64) -> Digits {
    split_exp(&format!("{:e}", v.abs()))
}

/// `n` significant digits, correctly rounded.
fn significant(v: f64, n: usize) -> Digits {
    let n = n.max(1);
    let mut d = split_exp(&format!("{:.*e}", n - 1, v.abs()));
    while d.d.len() > 1 && d.d.last() == Some(&b'0') {
        d.d.pop();
    }
    d
}

fn split_exp(s: &str) -> Digits {
    let (mant, exp) = s.split_once('e').unwrap_or((s, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let d: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    if d.iter().all(|&c| c == b'0') {
        return Digits {
            d: vec![b'0'],
            dp: 1,
        };
    }
    Digits { d, dp: exp + 1 }
}

fn fmt_e(neg: bool, digs: &Digits, prec: i64, upper: bool) -> String {
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    let zero = digs.d == [b'0'];
    out.push(digs.d.first().map_or('0', |&c| c as char));
    if prec > 0 {
        out.push('.');
        let mut i = 1;
        let m = (digs.d.len() as i64).min(prec + 1);
        while (i as i64) < m {
            out.push(digs.d[i] as char);
            i += 1;
        }
        while (i as i64) <= prec {
            out.push('0');
            i += 1;
        }
    }
    out.push(if upper { 'E' } else { 'e' });
    let exp = if zero { 0 } else { digs.dp - 1 };
    out.push(if exp < 0 { '-' } else { '+' });
    let e = exp.unsigned_abs();
    if e < 10 {
        out.push('0');
    }
    out.push_str(&e.to_string());
    out
}

fn fmt_f(neg: bool, digs: &Digits, prec: i64) -> String {
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    let zero = digs.d == [b'0'];
    if digs.dp > 0 && !zero {
        let mut m = digs.dp.min(digs.d.len() as i64) as usize;
        out.extend(digs.d[..m].iter().map(|&c| c as char));
        while (m as i64) < digs.dp {
            out.push('0');
            m += 1;
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            let j = if zero { -1 } else { digs.dp + i - 1 };
            let c = if j < 0 || j >= digs.d.len() as i64 {
                b'0'
            } else {
                digs.d[j as usize]
            };
            out.push(c as char);
        }
    }
    out
}

/// Go's `strconv.FormatFloat(v, verb, prec, 64)`.
pub(super) fn format(v: f64, verb: char, prec: i64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let neg = v.is_sign_negative();
    match verb {
        'e' | 'E' => {
            let upper = verb == 'E';
            if prec < 0 {
                let d = shortest(v);
                let p = d.d.len() as i64 - 1;
                fmt_e(neg, &d, p, upper)
            } else {
                let s = format!("{:.*e}", prec as usize, v.abs());
                let d = split_exp(&s);
                fmt_e(neg, &d, prec, upper)
            }
        }
        'f' | 'F' => {
            if prec < 0 {
                let d = shortest(v);
                let p = (d.d.len() as i64 - d.dp).max(0);
                fmt_f(neg, &d, p)
            } else {
                let s = format!("{:.*}", prec as usize, v.abs());
                if neg { format!("-{s}") } else { s }
            }
        }
        'g' | 'G' => {
            let upper = verb == 'G';
            let shortest_mode = prec < 0;
            let (digs, mut prec) = if shortest_mode {
                let d = shortest(v);
                let n = d.d.len() as i64;
                (d, n)
            } else {
                let p = if prec == 0 { 1 } else { prec };
                (significant(v, p as usize), p)
            };
            let nd = digs.d.len() as i64;
            let mut eprec = prec;
            if eprec > nd && nd >= digs.dp {
                eprec = nd;
            }
            if shortest_mode {
                eprec = 6;
            }
            let zero = digs.d == [b'0'];
            let exp = if zero { 0 } else { digs.dp - 1 };
            if exp < -4 || exp >= eprec {
                if prec > nd {
                    prec = nd;
                }
                return fmt_e(neg, &digs, prec - 1, upper);
            }
            if prec > digs.dp {
                prec = nd;
            }
            let dp = if zero { 1 } else { digs.dp };
            fmt_f(neg, &digs, (prec - dp).max(0))
        }
        // Rarely used by templates: binary and hexadecimal mantissas.
        'b' => {
            let bits = v.to_bits();
            let exp = ((bits >> 52) & 0x7FF) as i64;
            let mut mant = bits & ((1 << 52) - 1);
            let e = if exp == 0 {
                -1074
            } else {
                mant |= 1 << 52;
                exp - 1075
            };
            format!(
                "{}{}p{}{}",
                if neg { "-" } else { "" },
                mant,
                if e >= 0 { "+" } else { "" },
                e
            )
        }
        _ => fmt_x(v, prec, verb == 'X'),
    }
}

/// Go's `%x` of a float: `-0x1.yyyyp±dd`.
fn fmt_x(v: f64, prec: i64, upper: bool) -> String {
    let bits = v.to_bits();
    let neg = bits >> 63 != 0;
    let mut exp = ((bits >> 52) & 0x7FF) as i64;
    let mut mant = bits & ((1u64 << 52) - 1);
    if exp == 0 {
        exp += 1;
    } else {
        mant |= 1 << 52;
    }
    exp -= 1023;
    if mant == 0 {
        exp = 0;
    }
    mant <<= 60 - 52;
    while mant != 0 && mant & (1 << 60) == 0 {
        mant <<= 1;
        exp -= 1;
    }
    if (0..15).contains(&prec) {
        let shift = (prec * 4) as u32;
        let extra = (mant << shift) & ((1u64 << 60) - 1);
        mant >>= 60 - shift;
        if extra | (mant & 1) > 1 << 59 {
            mant += 1;
        }
        mant <<= 60 - shift;
        if mant & (1 << 61) != 0 {
            mant >>= 1;
            exp += 1;
        }
    }
    let hex: &[u8] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    out.push('0');
    out.push(if upper { 'X' } else { 'x' });
    out.push((b'0' + ((mant >> 60) & 1) as u8) as char);
    mant <<= 4;
    if prec < 0 && mant != 0 {
        out.push('.');
        while mant != 0 {
            out.push(hex[((mant >> 60) & 15) as usize] as char);
            mant <<= 4;
        }
    } else if prec > 0 {
        out.push('.');
        for _ in 0..prec {
            out.push(hex[((mant >> 60) & 15) as usize] as char);
            mant <<= 4;
        }
    }
    out.push(if upper { 'P' } else { 'p' });
    out.push(if exp < 0 { '-' } else { '+' });
    let e = exp.unsigned_abs();
    if e < 10 {
        out.push('0');
    }
    out.push_str(&e.to_string());
    out
}
