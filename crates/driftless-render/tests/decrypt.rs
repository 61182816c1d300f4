//! SOPS files encrypted by the real `sops` (built by `testenv/build`) render as their plaintext
//! wherever Flux decrypts them: manifests of a plain directory and of Kustomize `resources`,
//! and `secretGenerator` `files` and `envs`; a wrong or missing key is one line naming the file.

use std::path::{Path, PathBuf};
use std::process::Command;

use driftless_render::{
    Decrypting, Kustomize, MemoryTree, Plain, PlainOptions, RenderError, Renderers,
    render_decrypted,
};
use driftless_sops::{Keys, generate_identity};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

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

/// `plain` (named `name`, whose extension picks the format) encrypted by sops for `recipient`.
fn sops_encrypt(name: &str, plain: &str, recipient: &str, extra: &[&str]) -> Result<Vec<u8>> {
    let dir = tempfile::tempdir()?;
    let input = dir.path().join(name);
    std::fs::write(&input, plain)?;
    let out = Command::new(sops_bin()?)
        .current_dir(dir.path())
        .args(["--encrypt", "--age", recipient])
        .args(extra)
        .arg(&input)
        .output()?;
    if !out.status.success() {
        return Err(format!("sops -e: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(out.stdout)
}

const SECRET: &str = "apiVersion: v1
kind: Secret
metadata:
  name: db
type: Opaque
stringData:
  password: hunter2-plain-dir
";

fn renderers() -> Result<Renderers> {
    Ok(Renderers::new(vec![
        Box::new(Kustomize::new()),
        Box::new(Plain::new(&PlainOptions::default())?),
    ]))
}

fn keys(secret: &str) -> Result<Keys> {
    let mut keys = Keys::new();
    keys.add_age_identities(&format!("# a comment\n\n{secret}\n"))?;
    Ok(keys)
}

/// A repository with a plain directory and a Kustomize directory, each with SOPS files.
fn repository(recipient: &str) -> Result<MemoryTree> {
    let mut tree = MemoryTree::default();
    tree.insert(
        "plain/secret.yaml",
        sops_encrypt(
            "secret.yaml",
            SECRET,
            recipient,
            &["--encrypted-regex", "^(data|stringData)$"],
        )?,
    );
    tree.insert(
        "plain/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\ndata: {note: 'ENC[AES256_GCM,data: is only text here'}\n",
    );
    tree.insert(
        "kust/kustomization.yaml",
        "resources: [secret.yaml]\nsecretGenerator:\n- name: app\n  envs: [app.env]\n  files: [tls.key, config.json]\ngeneratorOptions: {disableNameSuffixHash: true}\n",
    );
    tree.insert(
        "kust/secret.yaml",
        sops_encrypt(
            "secret.yaml",
            &SECRET.replace("hunter2-plain-dir", "hunter2-kustomize"),
            recipient,
            &[],
        )?,
    );
    tree.insert(
        "kust/app.env",
        sops_encrypt(
            "app.env",
            "DB_USER=admin\nDB_PASSWORD=env-secret\n",
            recipient,
            &[],
        )?,
    );
    tree.insert(
        "kust/tls.key",
        sops_encrypt("tls.key", "binary-key-material\n", recipient, &[])?,
    );
    tree.insert(
        "kust/config.json",
        sops_encrypt("config.json", r#"{"token": "json-secret"}"#, recipient, &[])?,
    );
    Ok(tree)
}

fn b64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[test]
fn sops_files_render_as_their_plaintext_in_plain_and_kustomize_directories() -> Result {
    let id = generate_identity();
    let tree = repository(&id.recipient)?;
    let renderers = renderers()?;

    let plain = Decrypting::with_keys(&tree, keys(&id.secret)?);
    let manifests = render_decrypted(&renderers, &plain, "plain")?;
    assert_eq!(plain.decrypted(), 1);
    let secret = manifests
        .iter()
        .find(|m| m.key().kind == "Secret")
        .ok_or("no Secret")?;
    assert_eq!(
        secret.object()["stringData"]["password"],
        "hunter2-plain-dir"
    );
    assert!(secret.object().get("sops").is_none());
    // A plain file that only mentions ENC[ is read as it is.
    assert!(manifests.iter().any(|m| m.key().name == "plain"));

    let kust = Decrypting::with_keys(&tree, keys(&id.secret)?);
    let manifests = render_decrypted(&renderers, &kust, "kust")?;
    let by_name = |name: &str| {
        manifests
            .iter()
            .find(|m| m.key().name == name)
            .map(|m| m.object().clone())
            .ok_or(format!("no {name}"))
    };
    let db = by_name("db")?;
    assert_eq!(db["stringData"]["password"], "hunter2-kustomize");
    assert!(db.get("sops").is_none());
    let app = by_name("app")?;
    assert_eq!(app["data"]["DB_USER"], b64("admin"));
    assert_eq!(app["data"]["DB_PASSWORD"], b64("env-secret"));
    assert_eq!(app["data"]["tls.key"], b64("binary-key-material\n"));
    let json: serde_json::Value = {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(app["data"]["config.json"].as_str().ok_or("config.json")?)?;
        serde_json::from_slice(&bytes)?
    };
    assert_eq!(json["token"], "json-secret");
    assert!(
        !app["data"]
            .as_object()
            .ok_or("data")?
            .keys()
            .any(|k| k.starts_with("sops")),
        "{app}"
    );
    Ok(())
}

#[test]
fn a_wrong_or_missing_key_is_one_line_naming_the_file() -> Result {
    let id = generate_identity();
    let other = generate_identity();
    let tree = repository(&id.recipient)?;
    let renderers = renderers()?;
    for dir in ["plain", "kust"] {
        let wrong = Decrypting::with_keys(&tree, keys(&other.secret)?);
        let Err(RenderError::Decryption(error)) = render_decrypted(&renderers, &wrong, dir) else {
            return Err(format!("{dir}: rendered with a wrong key").into());
        };
        let error = error.to_string();
        assert!(
            error.starts_with(&format!("{dir}/")) && error.contains("none of the 1 age identities"),
            "{error}"
        );
        assert!(error.contains(&id.recipient), "{error}");
        assert!(!error.contains('\n') && !error.contains(&other.secret));

        let none = Decrypting::with_keys(&tree, Keys::new());
        let Err(RenderError::Decryption(error)) = render_decrypted(&renderers, &none, dir) else {
            return Err(format!("{dir}: rendered without a key").into());
        };
        assert!(error.to_string().contains("no decryption key"), "{error}");

        let missing = Decrypting::new(
            &tree,
            Box::new(|| Err("Secret apps/sops-keys not found".to_owned())),
        );
        let Err(RenderError::Decryption(error)) = render_decrypted(&renderers, &missing, dir)
        else {
            return Err(format!("{dir}: rendered without the key Secret").into());
        };
        assert!(
            error
                .to_string()
                .ends_with(": Secret apps/sops-keys not found"),
            "{error}"
        );
    }
    Ok(())
}

#[test]
fn a_corrupted_value_names_the_key_path() -> Result {
    let id = generate_identity();
    let mut tree = repository(&id.recipient)?;
    let text = String::from_utf8(sops_encrypt(
        "secret.yaml",
        SECRET,
        &id.recipient,
        &["--encrypted-regex", "^stringData$"],
    )?)?;
    // Flip one character of the password's ciphertext.
    let at = text
        .find("password: ENC[AES256_GCM,data:")
        .ok_or("no value")?
        + 31;
    let mut bytes = text.into_bytes();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    tree.insert("plain/secret.yaml", bytes);
    let decrypting = Decrypting::with_keys(&tree, keys(&id.secret)?);
    let error = render_decrypted(&renderers()?, &decrypting, "plain")
        .err()
        .ok_or("a corrupted value decrypted")?
        .to_string();
    assert!(
        error.starts_with("plain/secret.yaml: value at stringData:password: "),
        "{error}"
    );
    Ok(())
}

#[test]
fn a_tree_without_sops_files_never_asks_for_keys() -> Result {
    let mut tree = MemoryTree::default();
    tree.insert(
        "app/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
    );
    let decrypting = Decrypting::new(
        &tree,
        Box::new(|| -> std::result::Result<Keys, String> { panic!("keys were asked for") }),
    );
    assert_eq!(
        render_decrypted(&renderers()?, &decrypting, "app")?.len(),
        1
    );
    assert_eq!(decrypting.decrypted(), 0);
    Ok(())
}
