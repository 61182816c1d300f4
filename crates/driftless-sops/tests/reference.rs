//! Files encrypted by the real `sops` (built by `testenv/build`) with fresh age keys decrypt
//! here to what `sops -d` prints; tampered, mis-keyed and corrupted files are refused with one
//! line naming the file and the key path.

use std::path::{Path, PathBuf};
use std::process::Command;

use age::secrecy::ExposeSecret;
use driftless_sops::{Format, Keys, decrypt};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The reference sops: `$DRIFTLESS_SOPS_BIN`, else where `testenv/build` puts it.
fn sops_bin() -> Result<PathBuf> {
    if let Some(bin) = std::env::var_os("DRIFTLESS_SOPS_BIN") {
        return Ok(bin.into());
    }
    let build = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testenv/build");
    let out = Command::new(build).arg("--print-sops").output()?;
    let path = PathBuf::from(String::from_utf8(out.stdout)?.trim());
    if !path.is_file() {
        return Err(format!("{} is missing: run testenv/build", path.display()).into());
    }
    Ok(path)
}

struct Identity {
    secret: String,
    recipient: String,
}

fn fresh_identity() -> Identity {
    let id = age::x25519::Identity::generate();
    Identity {
        secret: id.to_string().expose_secret().to_string(),
        recipient: id.to_public().to_string(),
    }
}

/// Encrypts `plain` (named `name`, whose extension picks the format) with the real sops.
fn sops_encrypt(
    dir: &Path,
    name: &str,
    plain: &[u8],
    recipient: &str,
    extra: &[&str],
) -> Result<Vec<u8>> {
    let input = dir.join(name);
    std::fs::write(&input, plain)?;
    let out = Command::new(sops_bin()?)
        .current_dir(dir)
        .args(["--encrypt", "--age", recipient])
        .args(extra)
        .arg(&input)
        .env_remove("SOPS_AGE_KEY")
        .env_remove("SOPS_AGE_KEY_FILE")
        .output()?;
    if !out.status.success() {
        return Err(format!("sops -e: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(out.stdout)
}

/// `sops -d` of an encrypted file's bytes, stored as `name`.
fn sops_decrypt(dir: &Path, name: &str, encrypted: &[u8], secret: &str) -> Result<Vec<u8>> {
    let path = dir.join(format!("enc-{name}"));
    std::fs::write(&path, encrypted)?;
    let out = Command::new(sops_bin()?)
        .args(["--decrypt"])
        .arg(&path)
        .env("SOPS_AGE_KEY", secret)
        .output()?;
    if !out.status.success() {
        return Err(format!("sops -d: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(out.stdout)
}

fn keys_for(id: &Identity) -> Result<Keys> {
    let mut keys = Keys::new();
    keys.add_age_identities(&format!("# created by the test\n{}\n", id.secret))?;
    Ok(keys)
}

/// Encrypts with sops, decrypts with sops and with Driftless, returns both outputs.
fn round(name: &str, plain: &str, extra: &[&str]) -> Result<(Vec<u8>, Vec<u8>, Vec<u8>)> {
    let dir = tempfile::tempdir()?;
    let id = fresh_identity();
    let enc = sops_encrypt(dir.path(), name, plain.as_bytes(), &id.recipient, extra)?;
    let reference = sops_decrypt(dir.path(), name, &enc, &id.secret)?;
    let ours = decrypt(name, &enc, Format::from_path(name), &keys_for(&id)?)?;
    Ok((enc, reference, ours.bytes))
}

fn yaml(bytes: &[u8]) -> Result<serde_json::Value> {
    Ok(serde_saphyr::from_str(std::str::from_utf8(bytes)?)?)
}

const SECRET_YAML: &str = "apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: demo
type: Opaque
stringData:
  password: hunter2
  multi: |
    line one
    line two
  number: 42
  ratio: 0.5
  flag: true
  empty: ''
  list:
    - a
    - 7
  nothing: null
";

#[test]
fn yaml_files_from_sops_decrypt_to_the_same_document() -> Result {
    let (enc, reference, ours) = round("secret.yaml", SECRET_YAML, &[])?;
    assert!(!String::from_utf8_lossy(&enc).contains("hunter2"));
    assert_eq!(yaml(&ours)?, yaml(&reference)?);
    assert_eq!(yaml(&ours)?, yaml(SECRET_YAML.as_bytes())?);
    Ok(())
}

#[test]
fn json_files_from_sops_decrypt_to_the_same_document() -> Result {
    let plain = r#"{"user": "admin", "password": "hunter2", "port": 5432, "tls": false, "ratio": 1.5, "tags": ["x", "y"]}"#;
    let (_, reference, ours) = round("creds.json", plain, &[])?;
    let parse = |b: &[u8]| serde_json::from_slice::<serde_json::Value>(b);
    assert_eq!(parse(&ours)?, parse(&reference)?);
    Ok(())
}

#[test]
fn dotenv_files_from_sops_decrypt_byte_for_byte() -> Result {
    let plain = "# database\nDB_USER=admin\nDB_PASSWORD=hunter2\nMULTI=a\\nb\nEMPTY=\n";
    let (_, reference, ours) = round("app.env", plain, &[])?;
    assert_eq!(String::from_utf8(ours)?, String::from_utf8(reference)?);
    Ok(())
}

#[test]
fn binary_files_from_sops_decrypt_byte_for_byte() -> Result {
    let plain = "-----BEGIN KEY-----\nnot really a key\n-----END KEY-----\n";
    let (_, reference, ours) = round("tls.key", plain, &[])?;
    assert_eq!(ours, reference);
    assert_eq!(ours, plain.as_bytes());
    Ok(())
}

#[test]
fn encryption_rules_and_mac_only_encrypted_are_honoured() -> Result {
    for extra in [
        &["--encrypted-regex", "^(data|stringData)$"][..],
        &["--unencrypted-regex", "^(apiVersion|kind|metadata|type)$"],
        &["--encrypted-suffix", "word"],
        &["--unencrypted-suffix", "Version"],
        &["--encrypted-regex", "^stringData$", "--mac-only-encrypted"],
    ] {
        let (enc, reference, ours) = round("secret.yaml", SECRET_YAML, extra)?;
        let text = String::from_utf8(enc)?;
        assert!(!text.contains("hunter2"), "{extra:?}");
        assert_eq!(yaml(&ours)?, yaml(&reference)?, "{extra:?}");
    }
    Ok(())
}

#[test]
fn a_tampered_plain_value_fails_the_mac() -> Result {
    let dir = tempfile::tempdir()?;
    let id = fresh_identity();
    let enc = sops_encrypt(
        dir.path(),
        "s.yaml",
        SECRET_YAML.as_bytes(),
        &id.recipient,
        &["--encrypted-regex", "^stringData$"],
    )?;
    let tampered = String::from_utf8(enc)?.replacen("name: db", "name: other", 1);
    let err = decrypt(
        "apps/s.yaml",
        tampered.as_bytes(),
        Format::Yaml,
        &keys_for(&id)?,
    )
    .err()
    .ok_or("tampered file decrypted")?
    .to_string();
    assert!(err.starts_with("apps/s.yaml: MAC mismatch"), "{err}");
    assert!(!err.contains('\n'));
    // sops agrees the file is broken.
    assert!(sops_decrypt(dir.path(), "s.yaml", tampered.as_bytes(), &id.secret).is_err());
    Ok(())
}

#[test]
fn wrong_key_and_no_key_are_refused_naming_the_file() -> Result {
    let dir = tempfile::tempdir()?;
    let id = fresh_identity();
    let enc = sops_encrypt(
        dir.path(),
        "s.yaml",
        SECRET_YAML.as_bytes(),
        &id.recipient,
        &[],
    )?;
    let other = keys_for(&fresh_identity())?;
    let wrong = decrypt("s.yaml", &enc, Format::Yaml, &other)
        .err()
        .ok_or("wrong key worked")?
        .to_string();
    assert!(
        wrong.starts_with("s.yaml: none of the 1 age identities"),
        "{wrong}"
    );
    assert!(wrong.contains(&id.recipient), "{wrong}");
    let none = decrypt("s.yaml", &enc, Format::Yaml, &Keys::new())
        .err()
        .ok_or("no key worked")?
        .to_string();
    assert!(none.starts_with("s.yaml: no decryption key"), "{none}");
    for e in [&wrong, &none] {
        assert!(
            !e.contains("hunter2") && !e.contains("AGE-SECRET-KEY") && !e.contains('\n'),
            "{e}"
        );
    }
    Ok(())
}

#[test]
fn a_corrupted_value_is_refused_naming_its_key_path() -> Result {
    let dir = tempfile::tempdir()?;
    let id = fresh_identity();
    let enc = String::from_utf8(sops_encrypt(
        dir.path(),
        "s.yaml",
        SECRET_YAML.as_bytes(),
        &id.recipient,
        &[],
    )?)?;
    // Flip one character of the password's ciphertext.
    let at = enc
        .find("password: ENC[AES256_GCM,data:")
        .ok_or("no password")?
        + "password: ENC[AES256_GCM,data:".len();
    let mut bytes = enc.into_bytes();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    let err = decrypt("s.yaml", &bytes, Format::Yaml, &keys_for(&id)?)
        .err()
        .ok_or("corrupted value worked")?
        .to_string();
    assert!(
        err.starts_with("s.yaml: value at stringData:password: does not authenticate"),
        "{err}"
    );
    Ok(())
}

#[test]
fn a_plain_file_is_not_taken_for_a_sops_file() {
    let err = decrypt(
        "plain.yaml",
        SECRET_YAML.as_bytes(),
        Format::Yaml,
        &Keys::new(),
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert_eq!(
        err,
        "plain.yaml: sops metadata: no `sops` key: not a SOPS file"
    );
}

/// Encrypts with Driftless for `id`, returns the file and what the real `sops -d` makes of it.
fn ours_then_sops(
    name: &str,
    plain: &str,
    id: &Identity,
    rule: Option<driftless_sops::EncryptionRule>,
    mac_only_encrypted: bool,
) -> Result<(Vec<u8>, Vec<u8>)> {
    let options = driftless_sops::EncryptOptions {
        recipients: vec![id.recipient.clone(), fresh_identity().recipient],
        rule,
        mac_only_encrypted,
        last_modified: "2026-12-07T13:00:00Z".into(),
    };
    let enc = driftless_sops::encrypt(name, plain.as_bytes(), Format::from_path(name), &options)?;
    let dir = tempfile::tempdir()?;
    let out = sops_decrypt(dir.path(), name, &enc, &id.secret)?;
    Ok((enc, out))
}

#[test]
fn files_driftless_encrypts_decrypt_with_the_real_sops_in_every_format() -> Result {
    use driftless_sops::EncryptionRule;
    let id = fresh_identity();
    let (enc, out) = ours_then_sops("secret.yaml", SECRET_YAML, &id, None, false)?;
    assert!(!String::from_utf8_lossy(&enc).contains("hunter2"));
    assert_eq!(yaml(&out)?, yaml(SECRET_YAML.as_bytes())?);
    for (rule, mac_only) in [
        (
            EncryptionRule::EncryptedRegex("^(data|stringData)$".into()),
            false,
        ),
        (
            EncryptionRule::UnencryptedRegex("^(apiVersion|kind|metadata|type)$".into()),
            false,
        ),
        (EncryptionRule::EncryptedSuffix("word".into()), false),
        (EncryptionRule::UnencryptedSuffix("Version".into()), false),
        (EncryptionRule::EncryptedRegex("^stringData$".into()), true),
    ] {
        let (enc, out) = ours_then_sops(
            "secret.yaml",
            SECRET_YAML,
            &id,
            Some(rule.clone()),
            mac_only,
        )?;
        assert!(
            !String::from_utf8_lossy(&enc).contains("hunter2"),
            "{rule:?}"
        );
        assert_eq!(yaml(&out)?, yaml(SECRET_YAML.as_bytes())?, "{rule:?}");
        // And Driftless reads back what it wrote.
        let back = decrypt("secret.yaml", &enc, Format::Yaml, &keys_for(&id)?)?;
        assert_eq!(
            yaml(&back.bytes)?,
            yaml(SECRET_YAML.as_bytes())?,
            "{rule:?}"
        );
    }
    let json = r#"{"user": "admin", "password": "hunter2", "port": 5432, "tls": false, "ratio": 1.5, "tags": ["x", "y"]}"#;
    let (_, out) = ours_then_sops("creds.json", json, &id, None, false)?;
    let parse = |b: &[u8]| serde_json::from_slice::<serde_json::Value>(b);
    assert_eq!(parse(&out)?, parse(json.as_bytes())?);
    let env = "# database\nDB_USER=admin\nDB_PASSWORD=hunter2\nMULTI=a\\nb\nEMPTY=\n";
    let (enc, out) = ours_then_sops("app.env", env, &id, None, false)?;
    assert!(!String::from_utf8_lossy(&enc).contains("hunter2"));
    assert_eq!(String::from_utf8(out)?, env);
    let binary = "-----BEGIN KEY-----\nnot really a key\n-----END KEY-----\n";
    let (_, out) = ours_then_sops("tls.key", binary, &id, None, false)?;
    assert_eq!(out, binary.as_bytes());
    Ok(())
}

/// A new GnuPG key (no passphrase): a primary key of `algo` and an encryption subkey of
/// `encrypt_algo`, in a new GNUPGHOME: (home, fingerprint, the armored private key).
fn gpg_key(algo: &str, encrypt_algo: &str) -> Result<(tempfile::TempDir, String, String)> {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir()?;
    std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o700))?;
    let gpg = |args: &[&str]| -> Result<String> {
        let out = Command::new("gpg")
            .args([
                "--batch",
                "--quiet",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
            ])
            .args(args)
            .env("GNUPGHOME", home.path())
            .output()?;
        if !out.status.success() {
            return Err(format!("gpg {args:?}: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
        Ok(String::from_utf8(out.stdout)?)
    };
    gpg(&[
        "--quick-gen-key",
        "Driftless Test <test@example.com>",
        algo,
        "default",
        "never",
    ])?;
    let listing = gpg(&["--list-secret-keys", "--with-colons"])?;
    let fp = listing
        .lines()
        .find_map(|l| l.strip_prefix("fpr:"))
        .and_then(|rest| rest.split(':').find(|f| !f.is_empty()))
        .ok_or("no fingerprint")?
        .to_owned();
    gpg(&["--quick-add-key", &fp, encrypt_algo, "encr", "never"])?;
    let armored = gpg(&["--export-secret-keys", "--armor", &fp])?;
    Ok((home, fp, armored))
}

#[test]
fn files_sops_encrypts_for_pgp_keys_decrypt_with_the_armored_private_key() -> Result {
    for (algo, encrypt_algo) in [("ed25519", "cv25519"), ("rsa3072", "rsa3072")] {
        let (home, fp, armored) = gpg_key(algo, encrypt_algo)?;
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("secret.yaml"), SECRET_YAML)?;
        let out = Command::new(sops_bin()?)
            .current_dir(dir.path())
            .args(["--encrypt", "--pgp", &fp, "secret.yaml"])
            .env("GNUPGHOME", home.path())
            .output()?;
        if !out.status.success() {
            return Err(format!("sops -e --pgp: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
        let mut keys = Keys::new();
        keys.add_pgp_keys(&armored)?;
        let ours = decrypt("secret.yaml", &out.stdout, Format::Yaml, &keys)?;
        assert_eq!(yaml(&ours.bytes)?, yaml(SECRET_YAML.as_bytes())?, "{algo}");

        // Another PGP key, or only age identities: refused naming the fingerprint.
        let (_other_home, _, other) = gpg_key(algo, encrypt_algo)?;
        let mut wrong = Keys::new();
        wrong.add_pgp_keys(&other)?;
        let err = decrypt("s.yaml", &out.stdout, Format::Yaml, &wrong)
            .err()
            .ok_or("decrypted with another key")?
            .to_string();
        assert!(
            err.starts_with("s.yaml: none of the 0 age identities and 1 PGP keys given"),
            "{err}"
        );
        assert!(err.contains(&fp), "{err}");
        let err = decrypt("s.yaml", &out.stdout, Format::Yaml, &Keys::new())
            .err()
            .ok_or("decrypted without a key")?
            .to_string();
        assert!(
            err.contains(&format!("encrypted for PGP keys {fp}")),
            "{err}"
        );
    }
    assert!(Keys::new().add_pgp_keys("not a key").is_err());
    Ok(())
}

#[test]
fn multi_document_yaml_from_sops_decrypts_every_document() -> Result {
    let plain = format!(
        "{SECRET_YAML}---\n{}",
        SECRET_YAML.replace("name: db", "name: other")
    );
    let (enc, reference, ours) = round("two.yaml", &plain, &["--encrypted-regex", "^stringData$"])?;
    assert!(!String::from_utf8_lossy(&enc).contains("hunter2"));
    let docs = |bytes: &[u8]| -> Result<Vec<serde_json::Value>> {
        Ok(serde_saphyr::from_multiple(std::str::from_utf8(bytes)?)?)
    };
    assert_eq!(docs(&ours)?, docs(&reference)?);
    assert_eq!(docs(&ours)?.len(), 2);
    assert_eq!(docs(&ours)?[1]["metadata"]["name"], "other");
    Ok(())
}
