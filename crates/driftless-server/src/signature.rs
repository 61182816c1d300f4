//! Checking webhook authenticity: HMAC-SHA256 signatures of the raw body and shared tokens, both
//! compared in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Whether `signature_hex` (lower- or uppercase hex) is HMAC-SHA256(`secret`, `body`).
///
/// # Guarantees
/// The comparison takes the same time wherever the signatures first differ (`verify_slice`),
/// so the expected signature cannot be guessed byte by byte. Malformed hex is simply not a match.
pub(crate) fn hmac_sha256_matches(secret: &str, body: &[u8], signature_hex: &str) -> bool {
    let Some(signature) = decode_hex(signature_hex.trim()) else {
        return false;
    };
    // HMAC accepts keys of any length, so this never fails; refuse rather than panic anyway.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&signature).is_ok()
}

/// Whether a received token equals the secret, in time independent of where they differ.
/// (Their lengths may still be told apart by timing, which reveals nothing useful.)
pub(crate) fn token_matches(secret: &str, token: &str) -> bool {
    bool::from(secret.as_bytes().ct_eq(token.as_bytes()))
}

/// Decodes hex; `None` for an odd length or a non-hex character.
fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?))
        .collect()
}

fn nibble(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// Lowercase hex of HMAC-SHA256(`secret`, `body`): what a sender puts in its signature header.
#[cfg(test)]
pub(crate) fn sign(secret: &str, body: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .fold(String::new(), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_hmac_sha256_vector_matches() {
        // RFC 4231, test case 2.
        let expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        assert!(hmac_sha256_matches(
            "Jefe",
            b"what do ya want for nothing?",
            expected
        ));
        assert!(hmac_sha256_matches(
            "Jefe",
            b"what do ya want for nothing?",
            &expected.to_uppercase()
        ));
        assert_eq!(sign("Jefe", b"what do ya want for nothing?"), expected);
    }

    #[test]
    fn a_changed_body_secret_or_signature_does_not_match() {
        let signature = sign("s3cret", b"{\"ref\":\"refs/heads/main\"}");
        assert!(hmac_sha256_matches(
            "s3cret",
            b"{\"ref\":\"refs/heads/main\"}",
            &signature
        ));
        assert!(!hmac_sha256_matches(
            "s3cret",
            b"{\"ref\":\"refs/heads/evil\"}",
            &signature
        ));
        assert!(!hmac_sha256_matches(
            "other",
            b"{\"ref\":\"refs/heads/main\"}",
            &signature
        ));
        let truncated = &signature[..signature.len() - 2];
        assert!(!hmac_sha256_matches(
            "s3cret",
            b"{\"ref\":\"refs/heads/main\"}",
            truncated
        ));
        assert!(!hmac_sha256_matches("s3cret", b"x", "not hex at all"));
        assert!(!hmac_sha256_matches("s3cret", b"x", "abc"));
        assert!(!hmac_sha256_matches("s3cret", b"x", ""));
    }

    #[test]
    fn tokens_must_be_equal() {
        assert!(token_matches("t0ken", "t0ken"));
        assert!(!token_matches("t0ken", "t0keN"));
        assert!(!token_matches("t0ken", "t0ke"));
        assert!(!token_matches("t0ken", ""));
    }
}
