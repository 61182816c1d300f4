//! One `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` value: parsing and AES-256-GCM decryption.

use aes_gcm::AesGcm;
use aes_gcm::aead::consts::U32;
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::aes::Aes256;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// AES-256-GCM with the 32-byte nonce that sops writes.
type SopsGcm = AesGcm<Aes256, U32>;

/// The length of the GCM authentication tag.
const TAG_LEN: usize = 16;

/// A decrypted scalar, typed as its `type:` field says.
#[derive(Debug, Clone, PartialEq)]
pub enum Plain {
    /// `type:str` (and `type:bytes` that are UTF-8).
    Str(String),
    /// `type:int`.
    Int(i64),
    /// `type:float`.
    Float(f64),
    /// `type:bool`.
    Bool(bool),
    /// `type:comment`.
    Comment(String),
}

/// Why a value did not decrypt; the caller adds the file and key path.
pub type Reason = &'static str;

/// Decrypts one value with the data key; `aad` is the key path joined with `:` plus a trailing
/// `:` (or the `lastmodified` timestamp for the MAC). The empty string stays the empty string,
/// as sops leaves empty values unencrypted.
pub fn decrypt(text: &str, key: &[u8; 32], aad: &str) -> Result<Plain, Reason> {
    if text.is_empty() {
        return Ok(Plain::Str(String::new()));
    }
    let parts = parse(text).ok_or("not an ENC[AES256_GCM,...] value")?;
    let data = STANDARD
        .decode(parts.data)
        .map_err(|_| "data is not base64")?;
    let iv = STANDARD.decode(parts.iv).map_err(|_| "iv is not base64")?;
    let tag = STANDARD
        .decode(parts.tag)
        .map_err(|_| "tag is not base64")?;
    if iv.len() != 32 {
        return Err("iv is not 32 bytes");
    }
    if tag.len() != TAG_LEN {
        return Err("tag is not 16 bytes");
    }
    let mut sealed = data;
    sealed.extend_from_slice(&tag);
    let cipher = SopsGcm::new(GenericArray::from_slice(key));
    let plain = cipher
        .decrypt(
            GenericArray::from_slice(&iv),
            Payload {
                msg: &sealed,
                aad: aad.as_bytes(),
            },
        )
        .map_err(
            |_| "does not authenticate (corrupted, moved to another key, or wrong data key)",
        )?;
    let text = || String::from_utf8(plain.clone()).map_err(|_| "plaintext is not UTF-8");
    Ok(match parts.kind {
        "str" | "bytes" => Plain::Str(text()?),
        "int" => Plain::Int(
            text()?
                .parse()
                .map_err(|_| "type:int value is not an integer")?,
        ),
        "float" => Plain::Float(
            text()?
                .parse()
                .map_err(|_| "type:float value is not a number")?,
        ),
        "bool" => Plain::Bool(parse_go_bool(&text()?).ok_or("type:bool value is not a boolean")?),
        "comment" => Plain::Comment(text()?),
        _ => return Err("unknown type: field"),
    })
}

/// Encrypts one value with the data key as sops does (a fresh 32-byte IV; `aad` as in
/// [`decrypt`]); the empty string stays the empty string.
pub fn encrypt(plain: &Plain, key: &[u8; 32], aad: &str) -> Result<String, Reason> {
    if matches!(plain, Plain::Str(s) | Plain::Comment(s) if s.is_empty()) {
        return Ok(String::new());
    }
    let kind = match plain {
        Plain::Str(_) => "str",
        Plain::Int(_) => "int",
        Plain::Float(_) => "float",
        Plain::Bool(_) => "bool",
        Plain::Comment(_) => "comment",
    };
    let mut iv = [0u8; 32];
    getrandom::fill(&mut iv).map_err(|_| "no random bytes from the operating system")?;
    let cipher = SopsGcm::new(GenericArray::from_slice(key));
    let mut sealed = cipher
        .encrypt(
            GenericArray::from_slice(&iv),
            Payload {
                msg: &mac_bytes(plain),
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| "AES-GCM encryption failed")?;
    let tag = sealed.split_off(sealed.len().saturating_sub(TAG_LEN));
    Ok(format!(
        "ENC[AES256_GCM,data:{},iv:{},tag:{},type:{kind}]",
        STANDARD.encode(&sealed),
        STANDARD.encode(iv),
        STANDARD.encode(tag)
    ))
}

struct Parts<'a> {
    data: &'a str,
    iv: &'a str,
    tag: &'a str,
    kind: &'a str,
}

fn parse(text: &str) -> Option<Parts<'_>> {
    let inner = text
        .strip_prefix("ENC[AES256_GCM,data:")?
        .strip_suffix(']')?;
    let (data, rest) = inner.split_once(",iv:")?;
    let (iv, rest) = rest.split_once(",tag:")?;
    let (tag, kind) = rest.split_once(",type:")?;
    Some(Parts {
        data,
        iv,
        tag,
        kind,
    })
}

/// Go's `strconv.ParseBool`, which sops uses for `type:bool`.
fn parse_go_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// The bytes sops feeds the MAC for a scalar (its `ToBytes`): booleans as `True`/`False`,
/// floats in Go's shortest `'f'` form.
pub fn mac_bytes(plain: &Plain) -> Vec<u8> {
    match plain {
        Plain::Str(s) | Plain::Comment(s) => s.as_bytes().to_vec(),
        Plain::Int(i) => i.to_string().into_bytes(),
        Plain::Float(f) => go_float(*f).into_bytes(),
        Plain::Bool(true) => b"True".to_vec(),
        Plain::Bool(false) => b"False".to_vec(),
    }
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`: Rust's `Display` is the same shortest
/// round-trip digits without an exponent, except for the infinities' spelling.
fn go_float(f: f64) -> String {
    if f.is_infinite() {
        if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        f.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_format_as_go_does() {
        assert_eq!(go_float(1.0), "1");
        assert_eq!(go_float(0.1), "0.1");
        assert_eq!(go_float(1e21), "1000000000000000000000");
        assert_eq!(go_float(f64::NEG_INFINITY), "-Inf");
    }

    #[test]
    fn malformed_values_are_refused_without_echoing_them() {
        let key = [7u8; 32];
        assert_eq!(
            decrypt("ENC[AES256_GCM,data:xx", &key, "a:"),
            Err("not an ENC[AES256_GCM,...] value")
        );
        assert_eq!(
            decrypt(
                "ENC[AES256_GCM,data:!!,iv:AA==,tag:AA==,type:str]",
                &key,
                "a:"
            ),
            Err("data is not base64")
        );
    }
}
