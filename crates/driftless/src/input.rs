//! Where manifests come from: a local directory, or a path in a Git repository at a revision.
//! Shared by `render`, `diff` and `sync`.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use driftless_render::{
    Decrypting, Helm, HelmOptions, Kustomize, LocalDir, MemoryTree, Plain, PlainOptions, Renderers,
    normalize, render_decrypted,
};
use driftless_resource::Manifest;
use driftless_source::{Cache, Credentials, Limits, Source};

use crate::remote::GitRemote;

/// The manifests to work on: a local PATH, or --repo URL [--revision REV] [--path DIR].
///
/// What is rendered (repository, revision, path, globs, remote bases) comes from flags only; only
/// where the cache lives and the credentials have environment fallbacks, so a variable left in a
/// shell never changes what a sync applies.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Let Kustomize fetch remote bases (Git URLs in `resources`, e.g.
    /// `https://host/org/repo.git//base?ref=v1`); they are refused by default.
    #[arg(long)]
    allow_remote_bases: bool,
    /// Local directory to render (instead of --repo).
    #[arg(required_unless_present = "repo", conflicts_with = "repo")]
    path: Option<PathBuf>,
    /// Git repository URL: https://, http://, ssh://, git://, file://.
    #[arg(long)]
    repo: Option<String>,
    /// Branch, tag, commit (full or short), HEAD, or a semver range over tags (">=1.2.0 <2.0.0").
    #[arg(long, default_value = "HEAD", requires = "repo")]
    revision: String,
    /// Directory inside the repository.
    #[arg(long = "path", default_value = "", requires = "repo")]
    repo_path: String,
    /// Descend into subdirectories.
    #[arg(short = 'R', long)]
    recursive: bool,
    /// Read only files matching this glob (a name pattern, or a path pattern with `/`); repeatable.
    #[arg(long, value_delimiter = ',')]
    include: Vec<String>,
    /// Skip files matching this glob; repeatable.
    #[arg(long, value_delimiter = ',')]
    exclude: Vec<String>,
    /// Directory of the Git mirror cache [default: $XDG_CACHE_HOME/driftless/git or ~/.cache/driftless/git].
    #[arg(long, env = "DRIFTLESS_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    /// HTTP(S) user name (with --password).
    #[arg(long, env = "DRIFTLESS_GIT_USERNAME")]
    username: Option<String>,
    /// HTTP(S) password (with --username); prefer the environment variable.
    #[arg(long, env = "DRIFTLESS_GIT_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// HTTP(S) access token; prefer the environment variable.
    #[arg(
        long,
        env = "DRIFTLESS_GIT_TOKEN",
        hide_env_values = true,
        conflicts_with = "password"
    )]
    token: Option<String>,
    /// SSH private key file (with --known-hosts).
    #[arg(long, env = "DRIFTLESS_SSH_KEY", requires = "known_hosts")]
    ssh_key: Option<PathBuf>,
    /// SSH known_hosts file; unknown host keys are refused.
    #[arg(long, env = "DRIFTLESS_SSH_KNOWN_HOSTS")]
    known_hosts: Option<PathBuf>,
    /// PEM file of a CA to trust for HTTPS, in addition to the public roots.
    #[arg(long, env = "DRIFTLESS_CA_FILE")]
    ca_file: Option<PathBuf>,
    #[command(flatten)]
    decryption: crate::keys::DecryptionArgs,
    /// Helm chart (a directory with `Chart.yaml`): the release name [default: --app, or
    /// `release-name`].
    #[arg(long, help_heading = "Helm charts")]
    release_name: Option<String>,
    /// Helm chart: a values file, relative to the chart directory; repeatable.
    #[arg(long = "values", short = 'f', help_heading = "Helm charts")]
    helm_values: Vec<String>,
    /// Helm chart: `key=value`, as `helm template --set`; repeatable.
    #[arg(long, help_heading = "Helm charts")]
    set: Vec<String>,
    /// Helm chart: `key=value`, the value kept a string; repeatable.
    #[arg(long, help_heading = "Helm charts")]
    set_string: Vec<String>,
    /// Helm chart: `.Capabilities.KubeVersion` [default: Helm's].
    #[arg(long, help_heading = "Helm charts")]
    kube_version: Option<String>,
    /// Helm chart: leave out the charts' `crds/` directories.
    #[arg(long, help_heading = "Helm charts")]
    skip_crds: bool,
}

impl InputArgs {
    /// Renders the manifests, SOPS files decrypted; the resolved commit (for --repo) goes to
    /// stderr.
    pub fn load(&self) -> anyhow::Result<Vec<Manifest>> {
        self.load_as(None, None)
    }

    /// As [`InputArgs::load`], a chart rendered for the application `app` (its default release
    /// name) in `namespace` (`.Release.Namespace`).
    pub fn load_as(
        &self,
        app: Option<&str>,
        namespace: Option<&str>,
    ) -> anyhow::Result<Vec<Manifest>> {
        let args = self;
        let credentials = args.credentials()?;
        let options = PlainOptions {
            recursive: args.recursive,
            include: args.include.clone(),
            exclude: args.exclude.clone(),
        };
        // Kustomize first: a directory with a kustomization file is a Kustomize directory.
        let kustomize = if args.allow_remote_bases {
            Kustomize::with_remote(std::sync::Arc::new(GitRemote::new(cache_dir(args)?)))
        } else {
            Kustomize::new()
        };
        let helm = HelmOptions {
            release_name: args
                .release_name
                .as_deref()
                .or(app)
                .unwrap_or("release-name")
                .to_owned(),
            namespace: namespace.unwrap_or("default").to_owned(),
            value_files: args.helm_values.clone(),
            set: args.set.clone(),
            set_string: args.set_string.clone(),
            kube_version: args.kube_version.clone(),
            include_crds: !args.skip_crds,
            ..HelmOptions::default()
        };
        // A chart first (Argo CD's order): a directory with Chart.yaml is a Helm chart.
        let renderers = Renderers::new(vec![
            Box::new(Helm::new(helm, driftless_render::template_engine())),
            Box::new(kustomize),
            Box::new(Plain::new(&options)?),
        ]);
        let manifests = match (&args.repo, &args.path) {
            (Some(url), _) => {
                let source = source(url, credentials, args)?;
                let cache = Cache::new(cache_dir(args)?);
                let resolved = cache.resolve(&source, &args.revision)?;
                if let Some(err) = &resolved.fetch_error {
                    eprintln!("warning: {err}; using the last fetched commit");
                }
                eprintln!("commit {}", resolved.commit);
                let dir = normalize(&args.repo_path)?;
                let files =
                    cache.read_render_files(&source, &resolved.commit, &dir, &Limits::default())?;
                let tree = MemoryTree::from(files);
                let tree = Decrypting::new(&tree, Box::new(args.decryption.supplier()));
                render_decrypted(&renderers, &tree, &dir)?
            }
            (None, Some(path)) => {
                let (root, dir) = local_root(path)?;
                let tree = LocalDir::new(&root)?;
                let tree = Decrypting::new(&tree, Box::new(args.decryption.supplier()));
                render_decrypted(&renderers, &tree, &dir)?
            }
            (None, None) => anyhow::bail!("give a PATH or --repo URL"),
        };
        Ok(manifests)
    }

    /// The credentials the flags (or their environment variables) give; a user name without a
    /// password, or a password without a user name, is a one-line error.
    fn credentials(&self) -> anyhow::Result<Option<Credentials>> {
        Ok(match (&self.username, &self.password) {
            (Some(username), Some(password)) => Some(Credentials::Basic {
                username: username.clone(),
                password: password.clone(),
            }),
            (None, Some(_)) => anyhow::bail!(
                "--password (or DRIFTLESS_GIT_PASSWORD) needs --username (or \
                 DRIFTLESS_GIT_USERNAME)"
            ),
            (Some(_), None) => anyhow::bail!(
                "--username (or DRIFTLESS_GIT_USERNAME) needs --password (or \
                 DRIFTLESS_GIT_PASSWORD)"
            ),
            (None, None) => match (&self.token, &self.ssh_key, &self.known_hosts) {
                (Some(token), _, _) => Some(Credentials::Token(token.clone())),
                (None, Some(key), Some(known_hosts)) => Some(Credentials::SshKey {
                    private_key: key.clone(),
                    known_hosts: Some(known_hosts.clone()),
                }),
                _ => None,
            },
        })
    }
}

fn source(url: &str, credentials: Option<Credentials>, args: &InputArgs) -> anyhow::Result<Source> {
    let mut source = Source::new(url);
    if let Some(credentials) = credentials {
        source = source.with_credentials(credentials);
    }
    if let Some(ca_file) = &args.ca_file {
        let pem =
            std::fs::read(ca_file).with_context(|| format!("reading {}", ca_file.display()))?;
        source = source.with_ca_certificate(pem);
    }
    Ok(source)
}

fn cache_dir(args: &InputArgs) -> anyhow::Result<PathBuf> {
    if let Some(dir) = &args.cache_dir {
        return Ok(dir.clone());
    }
    default_cache_dir()
}

/// The Git mirror cache when none is given: `$XDG_CACHE_HOME/driftless/git` or
/// `~/.cache/driftless/git`.
pub fn default_cache_dir() -> anyhow::Result<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .context("no --cache-dir, XDG_CACHE_HOME or HOME to keep the Git cache in")?;
    Ok(base.join("driftless").join("git"))
}

/// The tree a local PATH is rendered in, and PATH inside it: the enclosing Git work tree (so a
/// Kustomize overlay reaches its `../base` as it would in the repository), else PATH itself.
fn local_root(path: &std::path::Path) -> anyhow::Result<(PathBuf, String)> {
    let path = std::fs::canonicalize(path).with_context(|| format!("{}", path.display()))?;
    let root = path
        .ancestors()
        .find(|dir| dir.join(".git").exists())
        .unwrap_or(&path)
        .to_owned();
    let dir = path
        .strip_prefix(&root)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok((root, normalize(&dir)?))
}
