//! The CLI and SOPS (#17 items 3, 4, 6), end to end with the real binary and the real `sops`
//! (built by `testenv/build`): `secret keygen`, `secret encrypt` with `.sops.yaml` creation
//! rules (decrypted by the real sops), `secret decrypt` and `render` with keys found as sops
//! finds them, and `render` masking Secret values unless `--show-secrets`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Runs the binary with no sops key in the environment and HOME in `home`.
fn driftless(args: &[&str], cwd: &Path, home: &Path, env: &[(&str, &str)]) -> Result<Output> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_driftless"));
    command
        .args(args)
        .current_dir(cwd)
        .env_remove("SOPS_AGE_KEY")
        .env_remove("SOPS_AGE_KEY_FILE")
        .env_remove("SOPS_CONFIG")
        .env_remove("XDG_CONFIG_HOME")
        .env("HOME", home);
    for (k, v) in env {
        command.env(k, v);
    }
    Ok(command.output()?)
}

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

fn ok(out: Output) -> Result<String> {
    if !out.status.success() {
        return Err(format!("failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// A new identity file from `secret keygen`, and its public key.
fn keygen(dir: &Path, home: &Path) -> Result<(String, String)> {
    let text = ok(driftless(&["secret", "keygen"], dir, home, &[])?)?;
    let lines: Vec<&str> = text.lines().collect();
    let [created, public, secret] = lines.as_slice() else {
        return Err(format!("keygen printed {} lines", lines.len()).into());
    };
    assert!(created.starts_with("# created: 20"), "{created}");
    let recipient = public
        .strip_prefix("# public key: age1")
        .map(|rest| format!("age1{rest}"))
        .ok_or("no public key comment")?;
    assert!(secret.starts_with("AGE-SECRET-KEY-1"));
    Ok((text, recipient))
}

const SECRET: &str = "apiVersion: v1
kind: Secret
metadata:
  name: db
type: Opaque
stringData:
  password: marker-5f0c1e-cli
";

#[test]
fn secret_encrypt_follows_the_creation_rules_and_the_real_sops_decrypts_it() -> Result {
    let home = tempfile::tempdir()?;
    let repo = tempfile::tempdir()?;
    let (identity, recipient) = keygen(repo.path(), home.path())?;
    std::fs::write(repo.path().join("keys.txt"), &identity)?;
    let (_, other) = keygen(repo.path(), home.path())?;
    std::fs::write(
        repo.path().join(".sops.yaml"),
        format!(
            "creation_rules:\n  - path_regex: ^other/\n    age: {other}\n  - path_regex: apps/.*\\.yaml$\n    encrypted_regex: ^(data|stringData)$\n    age: {recipient}\n"
        ),
    )?;
    std::fs::create_dir_all(repo.path().join("apps/db"))?;
    std::fs::write(repo.path().join("apps/db/secret.yaml"), SECRET)?;
    // Run from a subdirectory: the configuration is found above it, the path matched from its
    // directory.
    let encrypted = ok(driftless(
        &["secret", "encrypt", "secret.yaml"],
        &repo.path().join("apps/db"),
        home.path(),
        &[],
    )?)?;
    assert!(!encrypted.contains("marker-5f0c1e"), "{encrypted}");
    assert!(
        encrypted.contains("encrypted_regex: ^(data|stringData)$"),
        "{encrypted}"
    );
    assert!(encrypted.contains(&recipient) && !encrypted.contains(&other));
    // metadata.name is left in the clear by the rule.
    assert!(encrypted.contains("name: db"));
    std::fs::write(repo.path().join("enc.yaml"), &encrypted)?;
    let out = Command::new(sops_bin()?)
        .args(["--decrypt"])
        .arg(repo.path().join("enc.yaml"))
        .env("SOPS_AGE_KEY_FILE", repo.path().join("keys.txt"))
        .output()?;
    let decrypted = ok(out)?;
    assert!(
        decrypted.contains("password: marker-5f0c1e-cli"),
        "{decrypted}"
    );

    // No rule matches: one line, naming the configuration.
    std::fs::write(repo.path().join("loose.json"), "{\"a\": \"b\"}")?;
    let out = driftless(
        &["secret", "encrypt", "loose.json"],
        repo.path(),
        home.path(),
        &[],
    )?;
    let stderr = String::from_utf8(out.stderr)?;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains(".sops.yaml: no creation rule matches loose.json"),
        "{stderr}"
    );
    Ok(())
}

#[test]
fn decrypt_and_render_find_keys_as_sops_does_and_render_masks_secrets() -> Result {
    let home = tempfile::tempdir()?;
    let repo = tempfile::tempdir()?;
    let (identity, recipient) = keygen(repo.path(), home.path())?;
    std::fs::write(repo.path().join("plain.yaml"), SECRET)?;
    let out = Command::new(sops_bin()?)
        .current_dir(repo.path())
        .args(["--encrypt", "--age", &recipient, "plain.yaml"])
        .output()?;
    let encrypted = ok(out)?;
    std::fs::create_dir_all(repo.path().join("app"))?;
    std::fs::write(repo.path().join("app/secret.yaml"), &encrypted)?;
    let key_file = repo.path().join("my.key");
    std::fs::write(&key_file, &identity)?;
    let key_path = key_file.to_string_lossy().into_owned();
    let secret_line = identity.lines().last().unwrap_or_default().to_owned();

    let decrypt = ["secret", "decrypt", "app/secret.yaml"];
    for env in [
        vec![("SOPS_AGE_KEY_FILE", key_path.as_str())],
        vec![("SOPS_AGE_KEY", secret_line.as_str())],
    ] {
        let plain = ok(driftless(&decrypt, repo.path(), home.path(), &env)?)?;
        assert!(plain.contains("password: marker-5f0c1e-cli"), "{plain}");
    }
    let flagged = [&decrypt[..], &["--decryption-key", &key_path]].concat();
    assert!(ok(driftless(&flagged, repo.path(), home.path(), &[])?)?.contains("marker-5f0c1e"));
    // No key anywhere: one line naming the file and the recipient it needs.
    let out = driftless(&decrypt, repo.path(), home.path(), &[])?;
    let stderr = String::from_utf8(out.stderr)?;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.starts_with("error: app/secret.yaml: no decryption key")
            && stderr.contains(&recipient)
            && stderr.trim_end().lines().count() == 1,
        "{stderr}"
    );
    // sops' default identity file.
    let default = home.path().join(".config/sops/age");
    std::fs::create_dir_all(&default)?;
    std::fs::write(default.join("keys.txt"), &identity)?;

    let rendered = ok(driftless(
        &["render", "app"],
        repo.path(),
        home.path(),
        &[],
    )?)?;
    assert!(rendered.contains("kind: Secret"), "{rendered}");
    assert!(!rendered.contains("marker-5f0c1e"), "{rendered}");
    assert!(!rendered.contains("sops"), "{rendered}");
    assert!(rendered.contains("password: ++++++++"), "{rendered}");
    let shown = ok(driftless(
        &["render", "app", "--show-secrets"],
        repo.path(),
        home.path(),
        &[],
    )?)?;
    assert!(shown.contains("password: marker-5f0c1e-cli"), "{shown}");
    let json = ok(driftless(
        &["render", "app", "-o", "json"],
        repo.path(),
        home.path(),
        &[],
    )?)?;
    assert!(!json.contains("marker-5f0c1e"), "{json}");

    // A wrong key: render fails with the one line naming the file.
    std::fs::remove_file(default.join("keys.txt"))?;
    let (wrong, _) = keygen(repo.path(), home.path())?;
    let wrong_key = repo.path().join("wrong.key");
    std::fs::write(&wrong_key, wrong)?;
    let out = driftless(
        &[
            "render",
            "app",
            "--decryption-key",
            &wrong_key.to_string_lossy(),
        ],
        repo.path(),
        home.path(),
        &[],
    )?;
    let stderr = String::from_utf8(out.stderr)?;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.starts_with(
            // Named relative to the rendered directory (the tree root here: no Git work tree).
            "error: secret.yaml: none of the 1 age identities given decrypts the data key"
        ),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    Ok(())
}

#[test]
fn an_armored_pgp_key_given_with_decryption_key_decrypts_a_file_sops_encrypted_for_pgp() -> Result {
    let driftless_testenv::GpgKey {
        home: gnupg,
        fingerprint: fp,
        armored,
    } = driftless_testenv::gpg_key("ed25519", "cv25519")?;
    let repo = tempfile::tempdir()?;
    std::fs::write(repo.path().join("key.asc"), armored)?;
    std::fs::write(repo.path().join("app.env"), "TOKEN=marker-pgp-cli\n")?;
    let out = Command::new(sops_bin()?)
        .current_dir(repo.path())
        .args(["--encrypt", "--pgp", &fp, "app.env"])
        .env("GNUPGHOME", gnupg.path())
        .output()?;
    std::fs::write(repo.path().join("enc.env"), ok(out)?)?;
    let home = tempfile::tempdir()?;
    let plain = ok(driftless(
        &[
            "secret",
            "decrypt",
            "enc.env",
            "--decryption-key",
            "key.asc",
        ],
        repo.path(),
        home.path(),
        &[],
    )?)?;
    assert_eq!(plain, "TOKEN=marker-pgp-cli\n");
    Ok(())
}
