//! `driftless secret`: SOPS files without `sops` installed: `encrypt` (honouring `.sops.yaml`
//! creation rules), `decrypt` (keys found as `sops` finds them), `keygen` (a new age identity).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use driftless_sops::{EncryptOptions, EncryptionRule, Format};

use crate::keys::DecryptionArgs;

/// SOPS files: encrypt, decrypt, make an age key.
#[derive(Debug, Args)]
pub struct SecretCli {
    #[command(subcommand)]
    command: SecretCommand,
}

#[derive(Debug, Subcommand)]
enum SecretCommand {
    /// Encrypt a file as `sops --encrypt` does (age recipients from `.sops.yaml` or --age);
    /// prints it, or writes it back with --in-place.
    Encrypt(EncryptArgs),
    /// Decrypt a SOPS file and print the plaintext (keys: SOPS_AGE_KEY, SOPS_AGE_KEY_FILE,
    /// ~/.config/sops/age/keys.txt, --decryption-key).
    Decrypt(DecryptArgs),
    /// Print a new age identity, with its `# public key:` comment, as age-keygen does.
    Keygen(KeygenArgs),
}

/// `secret encrypt`.
#[derive(Debug, Args)]
struct EncryptArgs {
    /// The plaintext file; its extension picks the format (.yaml/.yml, .json, .env, else binary).
    file: PathBuf,
    /// age recipients, comma-separated (instead of the `.sops.yaml` creation rule's).
    #[arg(long, value_delimiter = ',')]
    age: Vec<String>,
    /// The `.sops.yaml` to read [default: the first found from the current directory up].
    #[arg(long, env = "SOPS_CONFIG")]
    config: Option<PathBuf>,
    /// Encrypt only values under keys matching this regex.
    #[arg(long)]
    encrypted_regex: Option<String>,
    /// Leave values under keys matching this regex in the clear.
    #[arg(long)]
    unencrypted_regex: Option<String>,
    /// Encrypt only values under keys ending in this suffix.
    #[arg(long)]
    encrypted_suffix: Option<String>,
    /// Leave values under keys ending in this suffix in the clear.
    #[arg(long)]
    unencrypted_suffix: Option<String>,
    /// The MAC covers only the encrypted values.
    #[arg(long)]
    mac_only_encrypted: bool,
    /// Replace the file with its encrypted form instead of printing it.
    #[arg(short, long)]
    in_place: bool,
}

/// `secret decrypt`.
#[derive(Debug, Args)]
struct DecryptArgs {
    /// The SOPS file; its extension picks the format.
    file: PathBuf,
    #[command(flatten)]
    keys: DecryptionArgs,
}

/// `secret keygen`.
#[derive(Debug, Args)]
struct KeygenArgs {
    /// Write the identity to this file (mode 0600, refused if it exists) and print the public
    /// key to stderr.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

/// Runs the command.
pub fn run(cli: SecretCli) -> ExitCode {
    crate::exit::finish(match cli.command {
        SecretCommand::Encrypt(args) => encrypt(&args),
        SecretCommand::Decrypt(args) => decrypt(&args),
        SecretCommand::Keygen(args) => keygen(&args),
    })
}

fn name(file: &Path) -> String {
    file.display().to_string()
}

fn decrypt(args: &DecryptArgs) -> anyhow::Result<()> {
    let shown = name(&args.file);
    let bytes = std::fs::read(&args.file).with_context(|| shown.clone())?;
    let keys = args.keys.keys()?;
    let plain = driftless_sops::decrypt(&shown, &bytes, Format::from_path(&shown), &keys)?;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&plain.bytes)?;
    Ok(stdout.flush()?)
}

fn encrypt(args: &EncryptArgs) -> anyhow::Result<()> {
    let shown = name(&args.file);
    let plain = std::fs::read(&args.file).with_context(|| shown.clone())?;
    let flags = [
        args.encrypted_regex
            .clone()
            .map(EncryptionRule::EncryptedRegex),
        args.unencrypted_regex
            .clone()
            .map(EncryptionRule::UnencryptedRegex),
        args.encrypted_suffix
            .clone()
            .map(EncryptionRule::EncryptedSuffix),
        args.unencrypted_suffix
            .clone()
            .map(EncryptionRule::UnencryptedSuffix),
    ];
    let mut flagged: Vec<EncryptionRule> = flags.into_iter().flatten().collect();
    anyhow::ensure!(
        flagged.len() <= 1,
        "give at most one of --encrypted-regex, --unencrypted-regex, --encrypted-suffix, --unencrypted-suffix"
    );
    let created = if args.age.is_empty() {
        Some(creation_rule(args)?)
    } else {
        None
    };
    let (recipients, rule, mac_only) = match created {
        Some(rule) => (rule.age, rule.rule, rule.mac_only_encrypted),
        None => (args.age.clone(), None, false),
    };
    let options = EncryptOptions {
        recipients,
        // A flag wins over the creation rule, as in sops.
        rule: flagged.pop().or(rule),
        mac_only_encrypted: args.mac_only_encrypted || mac_only,
        last_modified: now(),
    };
    let encrypted = driftless_sops::encrypt(&shown, &plain, Format::from_path(&shown), &options)?;
    if args.in_place {
        std::fs::write(&args.file, &encrypted).with_context(|| shown.clone())?;
        return Ok(());
    }
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&encrypted)?;
    Ok(stdout.flush()?)
}

/// The creation rule of the `.sops.yaml` (given, or the first found from the current directory
/// up, as sops looks for it) for the file.
fn creation_rule(args: &EncryptArgs) -> anyhow::Result<driftless_sops::CreationRule> {
    let config = match &args.config {
        Some(config) => config.clone(),
        None => find_config()?
            .context("no .sops.yaml in the current directory or above, and no --age recipients")?,
    };
    let text = std::fs::read_to_string(&config).with_context(|| name(&config))?;
    let dir = std::fs::canonicalize(&config)
        .with_context(|| name(&config))?
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let file = std::path::absolute(&args.file).with_context(|| name(&args.file))?;
    // Matched against the path relative to the configuration's directory, as sops does.
    let relative = file
        .strip_prefix(&dir)
        .unwrap_or(&file)
        .to_string_lossy()
        .replace(std::path::MAIN_SEPARATOR, "/");
    driftless_sops::creation_rule(&text, &relative)
        .map_err(|e| anyhow::anyhow!("{}: {e}", name(&config)))?
        .with_context(|| format!("{}: no creation_rules", name(&config)))
}

fn find_config() -> anyhow::Result<Option<PathBuf>> {
    let here = std::env::current_dir().context("the current directory")?;
    Ok(here
        .ancestors()
        .map(|dir| dir.join(".sops.yaml"))
        .find(|path| path.is_file()))
}

/// Now, RFC 3339 in UTC to the second, as sops writes `lastmodified`.
fn now() -> String {
    let now = k8s_openapi::jiff::Timestamp::now();
    now.round(k8s_openapi::jiff::Unit::Second)
        .unwrap_or(now)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn keygen(args: &KeygenArgs) -> anyhow::Result<()> {
    let identity = driftless_sops::generate_identity();
    let text = format!(
        "# created: {}\n# public key: {}\n{}\n",
        now(),
        identity.recipient,
        identity.secret
    );
    match &args.output {
        Some(path) => {
            use std::os::unix::fs::OpenOptionsExt;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .with_context(|| name(path))?;
            file.write_all(text.as_bytes())
                .with_context(|| name(path))?;
            eprintln!("Public key: {}", identity.recipient);
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            stdout.flush()?;
        }
    }
    Ok(())
}
