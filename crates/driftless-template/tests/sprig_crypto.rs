//! Sprig's key and certificate functions make random output, so they are checked through Go:
//! the certificates and keys Driftless makes are read back by Go's crypto/x509 (in
//! testenv/go/gotemplate) and by Sprig's own key parsing (`genCAWithKey` under Go).

mod support;

use driftless_template::{Templates, Value};
use support::{Case, Result};

fn ours(text: &str) -> Result<serde_json::Value> {
    let mut t = Templates::new("crypto");
    t.funcs(driftless_template::funcs::sprig::funcs());
    t.parse("t", text)?;
    Ok(serde_json::from_str(&t.execute("t", &Value::Nil)?)?)
}

fn go(template: &str, data: &serde_json::Value) -> Result<String> {
    let mut r = support::go(&[Case::new(template, data.clone()).sprig()])?;
    Ok(r.pop()
        .ok_or("no result")?
        .map_err(|e| format!("Go: {e}"))?)
}

#[test]
fn certificates_read_back_in_go_as_sprig_makes_them() -> Result {
    let made = ours(
        r#"{{- $ca := genCA "my-ca" 365 -}}
{{- $leaf := genSignedCert "svc" (list "10.0.0.1" "::1") (list "svc.ns" "svc") 30 $ca -}}
{{- $self := genSelfSignedCert "self" nil (list "a.example") 10 -}}
{{- toJson (dict "ca" $ca.Cert "caKey" $ca.Key "leaf" $leaf.Cert "leafKey" $leaf.Key "self" $self.Cert "selfKey" $self.Key) -}}"#,
    )?;
    let info = go(
        r#"{{x509Info .ca}}
{{x509Info .leaf}}
{{x509Info .self}}
{{x509Verify .leaf .ca}}
{{x509Verify .self .self}}"#,
        &made,
    )?;
    let lines: Vec<&str> = info.lines().collect();
    assert_eq!(
        lines,
        [
            "CN=my-ca issuer=my-ca isCA=true basic=true dns=[] ips=[] days=365 keyUsage=37 extKeyUsage=[serverAuth clientAuth] serialBits<=128:true key=*rsa.PublicKey",
            "CN=svc issuer=my-ca isCA=false basic=true dns=[svc.ns svc] ips=[10.0.0.1 ::1] days=30 keyUsage=5 extKeyUsage=[serverAuth clientAuth] serialBits<=128:true key=*rsa.PublicKey",
            "CN=self issuer=self isCA=false basic=true dns=[a.example] ips=[] days=10 keyUsage=5 extKeyUsage=[serverAuth clientAuth] serialBits<=128:true key=*rsa.PublicKey",
            "verified",
            "verified",
        ]
    );
    // The keys are PKCS#1 RSA keys that Sprig under Go parses back.
    for key in ["caKey", "leafKey", "selfKey"] {
        let pem = made[key].as_str().unwrap_or_default();
        assert!(
            pem.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"),
            "{key}: {pem}"
        );
    }
    let again = go(
        r#"{{(genCAWithKey "again" 1 .caKey).Cert | x509Info}}"#,
        &made,
    )?;
    assert!(
        again.starts_with("CN=again issuer=again isCA=true"),
        "{again}"
    );
    Ok(())
}

#[test]
fn private_keys_are_in_the_pem_forms_sprig_writes() -> Result {
    let made = ours(
        r#"{{- toJson (dict "rsa" (genPrivateKey "rsa") "ec" (genPrivateKey "ecdsa") "ed" (genPrivateKey "ed25519") "bad" (genPrivateKey "x")) -}}"#,
    )?;
    assert!(
        made["rsa"]
            .as_str()
            .is_some_and(|k| k.starts_with("-----BEGIN RSA PRIVATE KEY-----"))
    );
    assert!(
        made["ec"]
            .as_str()
            .is_some_and(|k| k.starts_with("-----BEGIN EC PRIVATE KEY-----"))
    );
    assert!(
        made["ed"]
            .as_str()
            .is_some_and(|k| k.starts_with("-----BEGIN PRIVATE KEY-----"))
    );
    assert_eq!(made["bad"], "Unknown type x");
    // Go's Sprig signs with each of them (it parses PKCS#1, SEC1 and PKCS#8).
    let info = go(
        r#"{{(genSelfSignedCertWithKey "r" nil nil 1 .rsa).Cert | x509Info}}
{{(genSelfSignedCertWithKey "e" nil nil 1 .ec).Cert | x509Info}}
{{(genSelfSignedCertWithKey "d" nil nil 1 .ed).Cert | x509Info}}"#,
        &made,
    )?;
    let keys: Vec<&str> = info
        .lines()
        .map(|l| l.rsplit("key=").next().unwrap_or(""))
        .collect();
    assert_eq!(
        keys,
        ["*rsa.PublicKey", "*ecdsa.PublicKey", "ed25519.PublicKey"]
    );
    // And ours signs with keys Go made.
    let go_keys = go(
        r#"{{toJson (dict "rsa" (genPrivateKey "rsa") "ec" (genPrivateKey "ecdsa"))}}"#,
        &serde_json::Value::Null,
    )?;
    let go_keys: serde_json::Value = serde_json::from_str(&go_keys)?;
    let mut t = Templates::new("crypto");
    t.funcs(driftless_template::funcs::sprig::funcs());
    t.parse("t", r#"{{(genCAWithKey "x" 1 .rsa).Cert | len | lt 500}} {{(genSelfSignedCertWithKey "y" nil nil 1 .ec).Key | len | lt 100}}"#)?;
    assert_eq!(t.execute("t", &Value::from_json(&go_keys))?, "true true");
    Ok(())
}

#[test]
fn bad_arguments_fail_as_in_sprig() -> Result {
    let mut t = Templates::new("crypto");
    t.funcs(driftless_template::funcs::sprig::funcs());
    for (text, want) in [
        (
            r#"{{genSelfSignedCert "x" (list "nope") nil 1}}"#,
            "error calling genSelfSignedCert: error parsing ip: nope",
        ),
        (
            r#"{{genSelfSignedCert "x" (list 1) nil 1}}"#,
            "error calling genSelfSignedCert: error parsing ip: 1 is not a string",
        ),
        (
            r#"{{genCAWithKey "x" 1 "garbage"}}"#,
            "error calling genCAWithKey: no PEM data in input",
        ),
        (
            r#"{{genSignedCert "x" nil nil 1 "not a ca"}}"#,
            "error calling genSignedCert: unable to decode certificate",
        ),
    ] {
        t.parse("t", text)?;
        let err = t
            .execute("t", &Value::Nil)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.ends_with(want), "{text}: {err}");
    }
    Ok(())
}
