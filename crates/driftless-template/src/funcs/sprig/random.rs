//! Sprig's random functions: `randAlphaNum randAlpha randNumeric randAscii randInt randBytes
//! shuffle uuidv4`. Their output cannot be compared with Go's; their alphabets, lengths and
//! formats are Sprig's.

use base64::Engine;
use rand::Rng;
use rand::seq::SliceRandom;

use crate::func::{Func, FuncMap, Param};
use crate::value::Value;

use Param::{Int, String as Str};

fn count(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        _ => 0,
    }
}

/// goutils' `CryptoRandom` over ASCII: `count` characters accepted by `keep` (a negative
/// count is an error Sprig ignores, giving "").
fn random_string(n: i64, keep: fn(u8) -> bool) -> String {
    if n <= 0 {
        return String::new();
    }
    let alphabet: Vec<u8> = (32u8..=126).filter(|b| keep(*b)).collect();
    let mut rng = rand::rng();
    (0..n)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

/// A random version 4 UUID in the canonical form (`google/uuid`'s `New().String()`).
pub fn uuidv4() -> String {
    let mut b: [u8; 16] = rand::rng().random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

pub(super) fn register(m: &mut FuncMap) {
    let mut add = |name: &str, f: Func| {
        m.insert(name.to_string(), f);
    };
    add(
        "randAlphaNum",
        Func::new(&[Int], |a| {
            Ok(Value::str(random_string(count(&a[0]), |b| {
                b.is_ascii_alphanumeric()
            })))
        }),
    );
    add(
        "randAlpha",
        Func::new(&[Int], |a| {
            Ok(Value::str(random_string(count(&a[0]), |b| {
                b.is_ascii_alphabetic()
            })))
        }),
    );
    add(
        "randNumeric",
        Func::new(&[Int], |a| {
            Ok(Value::str(random_string(count(&a[0]), |b| {
                b.is_ascii_digit()
            })))
        }),
    );
    add(
        "randAscii",
        Func::new(&[Int], |a| {
            Ok(Value::str(random_string(count(&a[0]), |_| true)))
        }),
    );
    add(
        "randInt",
        Func::new(&[Int, Int], |a| {
            let (lo, hi) = (count(&a[0]), count(&a[1]));
            if hi <= lo {
                return Err("invalid argument to Intn".into());
            }
            Ok(Value::Int(rand::rng().random_range(lo..hi)))
        }),
    );
    add(
        "randBytes",
        Func::new(&[Int], |a| {
            let n = count(&a[0]);
            if n < 0 {
                return Err("runtime error: makeslice: len out of range".into());
            }
            let mut buf = vec![0u8; n as usize];
            rand::rng().fill(&mut buf[..]);
            Ok(Value::str(
                base64::engine::general_purpose::STANDARD.encode(buf),
            ))
        }),
    );
    add(
        "shuffle",
        Func::new(&[Str], |a| {
            let mut chars: Vec<char> = a[0].as_str().unwrap_or("").chars().collect();
            chars.shuffle(&mut rand::rng());
            Ok(Value::str(chars.into_iter().collect::<String>()))
        }),
    );
    add("uuidv4", Func::new(&[], |_| Ok(Value::str(uuidv4()))));
}
