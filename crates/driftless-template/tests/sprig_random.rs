//! Sprig's random functions cannot be compared with Go byte for byte: their lengths,
//! alphabets and formats are checked instead, and that two calls differ.

use driftless_template::{Templates, Value};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

fn render(text: &str) -> Result<String> {
    let mut t = Templates::new("random");
    t.funcs(driftless_template::funcs::sprig::funcs());
    t.parse("t", text)?;
    Ok(t.execute("t", &Value::Nil)?)
}

#[test]
fn random_strings_have_sprigs_lengths_and_alphabets() -> Result {
    // Newlines separate the parts: randAscii may give any printable character.
    let out = render(
        "{{randAlphaNum 40}}\n{{randAlpha 40}}\n{{randNumeric 40}}\n{{randAscii 40}}\n{{randAlphaNum 0}}\n{{randAlpha -1}}",
    )?;
    let p: Vec<&str> = out.split('\n').collect();
    assert_eq!(
        p.iter().map(|s| s.len()).collect::<Vec<_>>(),
        [40, 40, 40, 40, 0, 0],
        "{out}"
    );
    assert!(p[0].bytes().all(|b| b.is_ascii_alphanumeric()), "{out}");
    assert!(p[1].bytes().all(|b| b.is_ascii_alphabetic()), "{out}");
    assert!(p[2].bytes().all(|b| b.is_ascii_digit()), "{out}");
    assert!(p[3].bytes().all(|b| (32..=126).contains(&b)), "{out}");
    assert_ne!(
        render("{{randAlphaNum 32}}")?,
        render("{{randAlphaNum 32}}")?
    );
    Ok(())
}

#[test]
fn uuidv4_is_a_version_4_uuid() -> Result {
    let u = render("{{uuidv4}}")?;
    let groups: Vec<usize> = u.split('-').map(str::len).collect();
    assert_eq!(groups, [8, 4, 4, 4, 12], "{u}");
    assert!(
        u.bytes()
            .all(|b| b == b'-' || b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
        "{u}"
    );
    assert_eq!(&u[14..15], "4", "{u}");
    assert!("89ab".contains(&u[19..20]), "{u}");
    assert_ne!(u, render("{{uuidv4}}")?);
    Ok(())
}

#[test]
fn rand_int_shuffle_and_rand_bytes() -> Result {
    for _ in 0..50 {
        let n: i64 = render("{{randInt 3 7}}")?.parse()?;
        assert!((3..7).contains(&n), "{n}");
    }
    let err = render("{{randInt 5 5}}")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.ends_with("error calling randInt: invalid argument to Intn"),
        "{err}"
    );
    let mut s: Vec<char> = render(r#"{{shuffle "hello world"}}"#)?.chars().collect();
    s.sort_unstable();
    let mut want: Vec<char> = "hello world".chars().collect();
    want.sort_unstable();
    assert_eq!(s, want);
    // 24 random bytes, base64-encoded: 32 characters.
    let b = render("{{randBytes 24}}")?;
    assert_eq!(b.len(), 32, "{b}");
    assert_ne!(b, render("{{randBytes 24}}")?);
    Ok(())
}

#[test]
fn bcrypt_and_htpasswd_give_go_bcrypt_hashes_that_verify() -> Result {
    let out = render(r#"{{bcrypt "pa55"}} {{htpasswd "user" "pa55"}} {{htpasswd "a:b" "x"}}"#)?;
    let p: Vec<&str> = out.split(' ').collect();
    assert!(p[0].starts_with("$2a$10$") && p[0].len() == 60, "{out}");
    assert!(bcrypt::verify("pa55", p[0])?, "{out}");
    let (user, hash) = p[1].split_once(':').ok_or("no colon")?;
    assert_eq!(user, "user");
    assert!(bcrypt::verify("pa55", hash)?, "{out}");
    assert_eq!(p[2..].join(" "), "invalid username: a:b");
    // A random salt: two hashes of one password differ.
    assert_ne!(render(r#"{{bcrypt "x"}}"#)?, render(r#"{{bcrypt "x"}}"#)?);
    Ok(())
}
