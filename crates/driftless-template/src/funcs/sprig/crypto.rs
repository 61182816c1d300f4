//! Sprig's key and certificate functions: `genPrivateKey genCA genCAWithKey genSelfSignedCert
//! genSelfSignedCertWithKey genSignedCert genSignedCertWithKey`, with Sprig's choices (RSA 2048
//! for certificates, RSA 4096 for `genPrivateKey`, a random 128-bit serial, server and client
//! auth, keys as PKCS#1 "RSA PRIVATE KEY" / SEC1 "EC PRIVATE KEY" PEM as Go writes them).

use std::net::IpAddr;
use std::sync::Arc;

use base64::Engine;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType, SerialNumber,
};

use crate::func::{Func, FuncMap, FuncResult, Param};
use crate::value::{Object, Value};

use Param::{Any, Int, List, String as Str};

/// Sprig's `certificate`: `.Cert` and `.Key` in PEM; a CA made here keeps what signing needs.
#[derive(Debug)]
pub struct Certificate {
    cert: String,
    key: String,
    signer: Option<(CertificateParams, KeyPair)>,
}

impl Object for Certificate {
    fn type_name(&self) -> String {
        "sprig.certificate".into()
    }

    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Cert" => Some(Value::str(self.cert.as_str())),
            "Key" => Some(Value::str(self.key.as_str())),
            _ => None,
        }
    }

    fn format(&self) -> String {
        format!("{{{} {}}}", self.cert, self.key)
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Go's `pem.Encode`.
fn pem(kind: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {kind}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {kind}-----\n"));
    out
}

/// One DER element: (tag, contents, rest).
fn der(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *b.first()?;
    let first = *b.get(1)?;
    let (len, hdr) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | usize::from(*b.get(2 + i)?);
        }
        (len, 2 + n)
    };
    let content = b.get(hdr..hdr + len)?;
    Some((tag, content, &b[hdr + len..]))
}

fn der_encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// The private key inside a PKCS#8 PrivateKeyInfo.
fn pkcs8_inner(pkcs8: &[u8]) -> Option<Vec<u8>> {
    let (_, info, _) = der(pkcs8)?;
    let (_, _version, rest) = der(info)?;
    let (_, _algo, rest) = der(rest)?;
    let (_, key, _) = der(rest)?;
    Some(key.to_vec())
}

const RSA_ALGO: &[u8] = &[
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
];
const EC_P256_ALGO: &[u8] = &[
    0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
    0xce, 0x3d, 0x03, 0x01, 0x07,
];
const P256_OID: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

fn pkcs8_wrap(algo: &[u8], key: &[u8]) -> Vec<u8> {
    let mut body = vec![0x02, 0x01, 0x00];
    body.extend_from_slice(algo);
    body.extend(der_encode(0x04, key));
    der_encode(0x30, &body)
}

/// A SEC1 ECPrivateKey with the curve named, as Go's `MarshalECPrivateKey` writes it.
fn sec1_with_curve(sec1: &[u8]) -> Option<Vec<u8>> {
    let (_, body, _) = der(sec1)?;
    let (_, _version, rest) = der(body)?;
    let (_, private, mut rest) = der(rest)?;
    let mut public = None;
    while let Some((tag, content, r)) = der(rest) {
        if tag == 0xa1 {
            public = Some(content.to_vec());
        }
        rest = r;
    }
    let mut out = vec![0x02, 0x01, 0x01];
    out.extend(der_encode(0x04, private));
    out.extend(der_encode(0xa0, P256_OID));
    if let Some(p) = public {
        out.extend(der_encode(0xa1, &p));
    }
    Some(der_encode(0x30, &out))
}

/// A key as Sprig writes it: PKCS#1 for RSA, SEC1 for ECDSA, PKCS#8 otherwise.
fn key_pem(kp: &KeyPair) -> String {
    let pkcs8 = kp.serialize_der();
    if kp.is_compatible(&rcgen::PKCS_RSA_SHA256)
        && let Some(pkcs1) = pkcs8_inner(&pkcs8)
    {
        return pem("RSA PRIVATE KEY", &pkcs1);
    }
    if kp.is_compatible(&rcgen::PKCS_ECDSA_P256_SHA256)
        && let Some(sec1) = pkcs8_inner(&pkcs8).and_then(|k| sec1_with_curve(&k))
    {
        return pem("EC PRIVATE KEY", &sec1);
    }
    pem("PRIVATE KEY", &pkcs8)
}

/// Sprig's `parsePrivateKeyPEM`, for the keys these functions accept.
fn parse_key(text: &str) -> Result<KeyPair, String> {
    let body = |kind: &str| -> Option<Vec<u8>> {
        let begin = format!("-----BEGIN {kind}-----");
        let start = text.find(&begin)? + begin.len();
        let end = text[start..].find("-----END")? + start;
        let b64: String = text[start..end]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        base64::engine::general_purpose::STANDARD.decode(b64).ok()
    };
    let pkcs8 = if let Some(k) = body("RSA PRIVATE KEY") {
        pkcs8_wrap(RSA_ALGO, &k)
    } else if let Some(k) = body("EC PRIVATE KEY") {
        pkcs8_wrap(EC_P256_ALGO, &k)
    } else if let Some(k) = body("PRIVATE KEY") {
        k
    } else if text.contains("-----BEGIN") {
        return Err("no private key data in PEM block".into());
    } else {
        return Err("no PEM data in input".into());
    };
    KeyPair::try_from(pkcs8.as_slice()).map_err(|e| format!("parsing private key from PEM: {e}"))
}

fn rsa(bits: rcgen::RsaKeySize) -> Result<KeyPair, String> {
    KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, bits).map_err(err)
}

/// Sprig's `getBaseCertTemplate`.
fn base_params(
    cn: &str,
    ips: &Value,
    dns: &Value,
    days: i64,
    now: jiff::Timestamp,
) -> Result<CertificateParams, String> {
    let mut p = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name.push(DnType::CommonName, cn);
    if let Value::List(l) = ips {
        for ip in l.iter() {
            let Value::String(s) = ip else {
                return Err(format!(
                    "error parsing ip: {} is not a string",
                    crate::fmt::format_value(ip)
                ));
            };
            let addr: IpAddr = s.parse().map_err(|_| format!("error parsing ip: {s}"))?;
            p.subject_alt_names.push(SanType::IpAddress(addr));
        }
    }
    if let Value::List(l) = dns {
        for d in l.iter() {
            let Value::String(s) = d else {
                return Err(format!(
                    "error processing alternate dns name: {} is not a string",
                    crate::fmt::format_value(d)
                ));
            };
            p.subject_alt_names
                .push(SanType::DnsName(s.to_string().try_into().map_err(err)?));
        }
    }
    let serial: [u8; 16] = rand::random();
    p.serial_number = Some(SerialNumber::from_slice(&serial));
    let start = time::OffsetDateTime::from_unix_timestamp(now.as_second()).map_err(err)?;
    p.not_before = start;
    p.not_after = start + time::Duration::days(days);
    p.key_usages = vec![
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    p.is_ca = IsCa::ExplicitNoCa;
    Ok(p)
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        _ => 0,
    }
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn obj(c: Certificate) -> FuncResult {
    Ok(Value::Object(Arc::new(c)))
}

fn ca(cn: &str, days: i64, key: KeyPair, now: jiff::Timestamp) -> FuncResult {
    let mut p = base_params(cn, &Value::Nil, &Value::Nil, days, now)?;
    p.key_usages = vec![
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyCertSign,
    ];
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = p.self_signed(&key).map_err(err)?;
    obj(Certificate {
        cert: cert.pem(),
        key: key_pem(&key),
        signer: Some((p, key)),
    })
}

fn self_signed(a: &[Value], key: KeyPair, now: jiff::Timestamp) -> FuncResult {
    let p = base_params(s(&a[0]), &a[1], &a[2], int(&a[3]), now)?;
    let cert = p.self_signed(&key).map_err(err)?;
    obj(Certificate {
        cert: cert.pem(),
        key: key_pem(&key),
        signer: None,
    })
}

fn signed(a: &[Value], key: KeyPair, now: jiff::Timestamp) -> FuncResult {
    let signer = match &a[4] {
        Value::Object(o) => o.as_any().and_then(|x| x.downcast_ref::<Certificate>()),
        _ => None,
    };
    let Some(signer) = signer else {
        return Err("unable to decode certificate".into());
    };
    let Some((ca_params, ca_key)) = &signer.signer else {
        return Err(
            "the certificate cannot sign: only a CA made by genCA or genCAWithKey can".into(),
        );
    };
    let p = base_params(s(&a[0]), &a[1], &a[2], int(&a[3]), now)?;
    let issuer = Issuer::from_params(ca_params, ca_key);
    let cert = p.signed_by(&key, &issuer).map_err(err)?;
    obj(Certificate {
        cert: cert.pem(),
        key: key_pem(&key),
        signer: None,
    })
}

/// Registers the functions; `now` is the clock certificates start at.
/// Sprig's `bcrypt`: Go's `bcrypt.GenerateFromPassword` at the default cost (10), `$2a$`; Go
/// refuses passwords over 72 bytes.
fn bcrypt_hash(password: &str) -> String {
    if password.len() > 72 {
        return "failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes"
            .into();
    }
    match bcrypt::hash_with_result(password, 10) {
        Ok(parts) => parts.format_for_version(bcrypt::Version::TwoA),
        Err(e) => format!("failed to encrypt string with bcrypt: {e}"),
    }
}

pub(super) fn register(m: &mut FuncMap, now: Arc<dyn Fn() -> jiff::Timestamp + Send + Sync>) {
    let mut add = |name: &str, f: Func| {
        m.insert(name.to_string(), f);
    };
    add(
        "bcrypt",
        Func::new(&[Str], |a| Ok(Value::str(bcrypt_hash(s(&a[0]))))),
    );
    add(
        "htpasswd",
        Func::new(&[Str, Str], |a| {
            let user = s(&a[0]);
            Ok(Value::str(if user.contains(':') {
                format!("invalid username: {user}")
            } else {
                format!("{user}:{}", bcrypt_hash(s(&a[1])))
            }))
        }),
    );
    add(
        "genPrivateKey",
        Func::new(&[Str], |a| {
            let kp = match s(&a[0]) {
                "" | "rsa" => rsa(rcgen::RsaKeySize::_4096),
                "ecdsa" => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(err),
                "ed25519" => KeyPair::generate_for(&rcgen::PKCS_ED25519).map_err(err),
                "dsa" => return Err("DSA keys are not supported".into()),
                other => return Ok(Value::str(format!("Unknown type {other}"))),
            };
            Ok(Value::str(match kp {
                Ok(k) => key_pem(&k),
                Err(e) => format!("failed to generate private key: {e}"),
            }))
        }),
    );
    let n = now.clone();
    add(
        "genCA",
        Func::new(&[Str, Int], move |a| {
            ca(s(&a[0]), int(&a[1]), rsa(rcgen::RsaKeySize::_2048)?, n())
        }),
    );
    let n = now.clone();
    add(
        "genCAWithKey",
        Func::new(&[Str, Int, Str], move |a| {
            ca(s(&a[0]), int(&a[1]), parse_key(s(&a[2]))?, n())
        }),
    );
    let n = now.clone();
    add(
        "genSelfSignedCert",
        Func::new(&[Str, List, List, Int], move |a| {
            self_signed(a, rsa(rcgen::RsaKeySize::_2048)?, n())
        }),
    );
    let n = now.clone();
    add(
        "genSelfSignedCertWithKey",
        Func::new(&[Str, List, List, Int, Str], move |a| {
            self_signed(a, parse_key(s(&a[4]))?, n())
        }),
    );
    let n = now.clone();
    add(
        "genSignedCert",
        Func::new(&[Str, List, List, Int, Any], move |a| {
            signed(a, rsa(rcgen::RsaKeySize::_2048)?, n())
        }),
    );
    let n = now;
    add(
        "genSignedCertWithKey",
        Func::new(&[Str, List, List, Int, Any, Str], move |a| {
            signed(a, parse_key(s(&a[5]))?, n())
        }),
    );
}
