//! The source crate against real Git servers on loopback: `file://`, `git daemon`,
//! `git http-backend` (with basic auth) and `sshd`.

mod support;

use std::sync::Arc;
use std::time::Instant;

use driftless_source::{Cache, CacheError, Credentials, FilesError, Limits, RevisionError, Source};
use support::{
    HttpOptions, Result, Upstream, certificates, config_map, git_daemon, git_http, sshd,
};

/// An upstream with two commits on `main`, a branch, a lightweight and an annotated tag and a
/// few version tags.
struct History {
    upstream: Upstream,
    first: String,
    second: String,
    feature: String,
}

fn history() -> Result<History> {
    let upstream = Upstream::new()?;
    upstream.write("deploy/a.yaml", &config_map("a", "1"))?;
    let first = upstream.commit("first")?;
    upstream.git(&["tag", "v1.0.0"])?;
    upstream.git(&["tag", "-a", "v1.2.0", "-m", "annotated"])?;
    upstream.write("deploy/a.yaml", &config_map("a", "2"))?;
    let second = upstream.commit("second")?;
    upstream.git(&["tag", "v1.9.3"])?;
    upstream.git(&["tag", "v2.0.0"])?;
    upstream.git(&["checkout", "-q", "-b", "feature"])?;
    upstream.write("deploy/b.yaml", &config_map("b", "f"))?;
    let feature = upstream.commit("feature")?;
    upstream.git(&["checkout", "-q", "main"])?;
    Ok(History {
        upstream,
        first,
        second,
        feature,
    })
}

/// A cache in a temporary directory removed on drop.
struct TestCache {
    cache: Cache,
    _dir: tempfile::TempDir,
}

impl std::ops::Deref for TestCache {
    type Target = Cache;
    fn deref(&self) -> &Cache {
        &self.cache
    }
}

fn test_cache() -> Result<TestCache> {
    let dir = tempfile::tempdir()?;
    Ok(TestCache {
        cache: Cache::new(dir.path()),
        _dir: dir,
    })
}

fn resolve(cache: &Cache, source: &Source, revision: &str) -> Result<String> {
    let resolved = cache.resolve(source, revision)?;
    assert_eq!(resolved.fetch_error, None);
    Ok(resolved.commit)
}

#[test]
fn every_revision_form_resolves_to_a_full_commit_over_file_url() -> Result {
    let h = history()?;
    let cache = test_cache()?;
    let source = Source::new(h.upstream.file_url());
    assert_eq!(resolve(&cache, &source, "main")?, h.second);
    assert_eq!(resolve(&cache, &source, "HEAD")?, h.second);
    assert_eq!(resolve(&cache, &source, "feature")?, h.feature);
    assert_eq!(resolve(&cache, &source, "v1.0.0")?, h.first);
    assert_eq!(
        resolve(&cache, &source, "v1.2.0")?,
        h.first,
        "annotated tag peels to its commit"
    );
    assert_eq!(resolve(&cache, &source, "refs/heads/feature")?, h.feature);
    assert_eq!(resolve(&cache, &source, &h.first)?, h.first);
    assert_eq!(resolve(&cache, &source, &h.feature[..8])?, h.feature);
    assert_eq!(
        resolve(&cache, &source, ">=1.2.0 <2.0.0")?,
        h.second,
        "v1.9.3"
    );
    assert_eq!(resolve(&cache, &source, "1.x")?, h.second);
    assert_eq!(resolve(&cache, &source, "~1.2")?, h.first);
    assert_eq!(resolve(&cache, &source, "*")?, h.second, "v2.0.0");
    assert!(matches!(
        cache.resolve(&source, "nope"),
        Err(CacheError::Revision { source: RevisionError::NotFound(r), .. }) if r == "nope"
    ));
    assert!(matches!(
        cache.resolve(&source, ">=3"),
        Err(CacheError::Revision {
            source: RevisionError::NoMatchingTag(_),
            ..
        })
    ));
    assert!(matches!(
        cache.resolve(&source, &"0".repeat(40)),
        Err(CacheError::Revision {
            source: RevisionError::NotFound(_),
            ..
        })
    ));
    let files = cache.read_files(&source, &h.first, "deploy", &Limits::default())?;
    assert_eq!(files.keys().collect::<Vec<_>>(), ["deploy/a.yaml"]);
    assert_eq!(
        files.get("deploy/a.yaml"),
        Some(&config_map("a", "1").into_bytes())
    );
    let files = cache.read_files(&source, &h.feature, "", &Limits::default())?;
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        ["deploy/a.yaml", "deploy/b.yaml"]
    );
    Ok(())
}

#[test]
fn git_daemon_fetches_incrementally_follows_force_pushes_and_drops_deleted_tags() -> Result {
    let h = history()?;
    let daemon = git_daemon(&h.upstream)?;
    let cache = test_cache()?;
    let source = Source::new(&daemon.url);
    assert_eq!(resolve(&cache, &source, "main")?, h.second);
    assert_eq!(resolve(&cache, &source, "v1.0.0")?, h.first);

    h.upstream.write("deploy/c.yaml", &config_map("c", "3"))?;
    let third = h.upstream.commit("third")?;
    assert_eq!(
        resolve(&cache, &source, "main")?,
        third,
        "a new commit is fetched"
    );

    // Force-push: main goes back to `first` plus a different commit.
    h.upstream.git(&["reset", "-q", "--hard", &h.first])?;
    h.upstream.write("deploy/d.yaml", &config_map("d", "4"))?;
    let rewritten = h.upstream.commit("rewritten")?;
    assert_eq!(
        resolve(&cache, &source, "main")?,
        rewritten,
        "force-pushed branch followed"
    );
    let files = cache.read_files(&source, &rewritten, "deploy", &Limits::default())?;
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        ["deploy/a.yaml", "deploy/d.yaml"]
    );

    h.upstream.git(&["tag", "-d", "v1.0.0"])?;
    h.upstream.git(&["branch", "-D", "feature"])?;
    assert!(matches!(
        cache.resolve(&source, "v1.0.0"),
        Err(CacheError::Revision {
            source: RevisionError::NotFound(_),
            ..
        })
    ));
    assert!(matches!(
        cache.resolve(&source, "feature"),
        Err(CacheError::Revision {
            source: RevisionError::NotFound(_),
            ..
        })
    ));
    assert_eq!(cache.fetches(&daemon.url), 6);
    Ok(())
}

#[test]
fn unreachable_remote_serves_the_last_fetched_commit_and_reports_the_error() -> Result {
    let h = history()?;
    let mut daemon = git_daemon(&h.upstream)?;
    let cache = test_cache()?;
    let source = Source::new(&daemon.url);
    assert_eq!(resolve(&cache, &source, "main")?, h.second);
    daemon.stop();
    h.upstream.commit("not fetched")?;
    let resolved = cache.resolve(&source, "main")?;
    assert_eq!(resolved.commit, h.second, "last known good");
    let error = resolved
        .fetch_error
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        error.starts_with(&format!("fetching {}: ", daemon.url)),
        "{error}"
    );
    // The mirror is intact: files are still readable.
    let files = cache.read_files(&source, &resolved.commit, "", &Limits::default())?;
    assert_eq!(files.len(), 1);
    // A revision only the unreachable remote could know reports the outage, not "not found".
    assert!(matches!(
        cache.resolve(&source, "v9.9.9"),
        Err(CacheError::Fetch(_))
    ));
    Ok(())
}

#[test]
fn never_fetched_and_unreachable_is_an_error() -> Result {
    let cache = test_cache()?;
    let source = Source::new("git://127.0.0.1:1/nothing.git");
    assert!(matches!(
        cache.resolve(&source, "main"),
        Err(CacheError::Fetch(_))
    ));
    Ok(())
}

#[test]
fn plain_http_backend_without_credentials() -> Result {
    let h = history()?;
    let server = git_http(&h.upstream, HttpOptions::default())?;
    let cache = test_cache()?;
    assert_eq!(
        resolve(&cache, &Source::new(&server.url), "main")?,
        h.second
    );
    // Credentials are never sent in clear text.
    let with_password = Source::new(server.url.replace("http://", "http://alice:pa55word@"));
    let fresh = test_cache()?;
    let err = fresh
        .resolve(&with_password, "main")
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        err,
        Some(format!(
            "fetching {}: refusing to send credentials over plain http; use https",
            server.url
        ))
    );
    Ok(())
}

#[test]
fn https_backend_with_private_ca_basic_auth_and_token_and_no_secret_in_errors() -> Result {
    let h = history()?;
    let certs = tempfile::tempdir()?;
    let (ca, cert, key) = certificates(certs.path())?;
    let ca_pem = std::fs::read(&ca)?;
    let server = git_http(
        &h.upstream,
        HttpOptions {
            auth: Some("alice:pa55word"),
            tls: Some((&cert, &key)),
            ..HttpOptions::default()
        },
    )?;
    let good = Source::new(&server.url)
        .with_credentials(Credentials::Basic {
            username: "alice".into(),
            password: "pa55word".into(),
        })
        .with_ca_certificate(ca_pem.clone());
    let shared = test_cache()?;
    assert_eq!(resolve(&shared, &good, "main")?, h.second);
    // What those credentials fetched never serves a source of the same URL with other
    // credentials or none: each fetches for itself, and the server refuses it.
    for other in [
        Credentials::None,
        Credentials::Basic {
            username: "alice".into(),
            password: "guessed".into(),
        },
    ] {
        let stranger = Source::new(&server.url)
            .with_credentials(other)
            .with_ca_certificate(ca_pem.clone());
        assert_ne!(stranger.mirror_key(), good.mirror_key());
        assert!(matches!(
            shared.resolve(&stranger, "main"),
            Err(CacheError::Fetch(_))
        ));
    }
    assert_eq!(resolve(&shared, &good, "main")?, h.second);

    let in_url = Source::new(server.url.replace("https://", "https://alice:pa55word@"))
        .with_ca_certificate(ca_pem.clone());
    assert_eq!(in_url.url(), server.url);
    assert_eq!(resolve(&*test_cache()?, &in_url, "v2.0.0")?, h.second);

    let wrong = Source::new(&server.url)
        .with_credentials(Credentials::Basic {
            username: "alice".into(),
            password: "wrong-secret-123".into(),
        })
        .with_ca_certificate(ca_pem.clone());
    let err = test_cache()?
        .resolve(&wrong, "main")
        .err()
        .map(|e| e.to_string());
    let err = err.unwrap_or_default();
    assert!(
        err.starts_with(&format!("fetching {}: ", server.url)),
        "{err}"
    );
    assert!(!err.contains("wrong-secret-123"), "{err}");

    // Without the CA the server is not trusted.
    let untrusted = Source::new(&server.url).with_credentials(Credentials::Basic {
        username: "alice".into(),
        password: "pa55word".into(),
    });
    assert!(matches!(
        test_cache()?.resolve(&untrusted, "main"),
        Err(CacheError::Fetch(_))
    ));

    let token_server = git_http(
        &h.upstream,
        HttpOptions {
            auth: Some("x-access-token:tok-abc"),
            tls: Some((&cert, &key)),
            ..HttpOptions::default()
        },
    )?;
    let token = Source::new(&token_server.url)
        .with_credentials(Credentials::Token("tok-abc".into()))
        .with_ca_certificate(ca_pem);
    assert_eq!(resolve(&*test_cache()?, &token, "feature")?, h.feature);
    Ok(())
}

/// A smart-HTTP server that holds every fetch until [`Gated::open`], and a cache in front of it.
struct Gated {
    server: support::Server,
    cache: Arc<Cache>,
    source: Source,
    gate: std::path::PathBuf,
    _dirs: [tempfile::TempDir; 2],
}

impl Gated {
    fn new(upstream: &Upstream) -> Result<Self> {
        let gate_dir = tempfile::tempdir()?;
        let gate = gate_dir.path().join("open");
        let server = git_http(
            upstream,
            HttpOptions {
                gate: Some(&gate),
                ..HttpOptions::default()
            },
        )?;
        let cache_dir = tempfile::tempdir()?;
        let cache = Arc::new(Cache::new(cache_dir.path()));
        let source = Source::new(&server.url);
        Ok(Self {
            server,
            cache,
            source,
            gate,
            _dirs: [gate_dir, cache_dir],
        })
    }

    /// Lets the held fetches (and every later one) through.
    fn open(&self) -> Result {
        std::fs::write(&self.gate, "")?;
        Ok(())
    }
}

#[test]
fn concurrent_requests_for_one_repository_share_one_fetch() -> Result {
    let h = history()?;
    let gated = Gated::new(&h.upstream)?;
    let (server, cache, source) = (&gated.server, &gated.cache, gated.source.clone());
    let spawn = |revision: &'static str| {
        let (cache, source) = (Arc::clone(cache), source.clone());
        std::thread::spawn(move || cache.resolve(&source, revision))
    };
    let first = spawn("main");
    while !cache.fetching(&server.url) {
        std::thread::yield_now();
    }
    // The server holds the first fetch until the gate opens; these two arrive meanwhile.
    let others = [spawn("feature"), spawn("v1.0.0")];
    while cache.waiting(&server.url) < 2 {
        std::thread::yield_now();
    }
    gated.open()?;
    let join = |t: std::thread::JoinHandle<std::result::Result<_, CacheError>>| {
        t.join().map_err(|_| "thread panicked")
    };
    assert_eq!(join(first)??.commit, h.second);
    let [feature, tag] = others;
    assert_eq!(join(feature)??.commit, h.feature);
    assert_eq!(join(tag)??.commit, h.first);
    assert_eq!(
        cache.fetches(&server.url),
        1,
        "one fetch served three callers"
    );
    Ok(())
}

#[test]
fn ssh_with_private_key_and_known_hosts() -> Result {
    let h = history()?;
    let keys = tempfile::tempdir()?;
    let (server, key, known_hosts) = sshd(&h.upstream, keys.path())?;
    let cache = test_cache()?;
    let source = Source::new(&server.url).with_credentials(Credentials::SshKey {
        private_key: key.clone(),
        known_hosts: Some(known_hosts.clone()),
    });
    assert_eq!(resolve(&cache, &source, "main")?, h.second);
    assert_eq!(resolve(&cache, &source, "v1.2.0")?, h.first);

    // An unknown host key is refused, never trusted on first use.
    let empty_known_hosts = keys.path().join("empty_known_hosts");
    std::fs::write(&empty_known_hosts, "")?;
    let untrusted = Source::new(&server.url).with_credentials(Credentials::SshKey {
        private_key: key.clone(),
        known_hosts: Some(empty_known_hosts),
    });
    assert!(matches!(
        test_cache()?.resolve(&untrusted, "main"),
        Err(CacheError::Fetch(_))
    ));

    // Unless host keys are explicitly not checked (insecureIgnoreHostKey).
    let unchecked = Source::new(&server.url).with_credentials(Credentials::SshKey {
        private_key: key,
        known_hosts: None,
    });
    let fresh = test_cache()?;
    assert_eq!(resolve(&fresh, &unchecked, "main")?, h.second);
    Ok(())
}

/// Files corpus: each malformed tree gives its own error.
#[test]
fn tree_limits_symlinks_and_submodules() -> Result {
    let upstream = Upstream::new()?;
    upstream.write("app/a.yaml", &config_map("a", "1"))?;
    upstream.write("shared/base.yaml", &config_map("base", "1"))?;
    std::os::unix::fs::symlink(
        "../shared/base.yaml",
        upstream.work().join("app/linked.yaml"),
    )?;
    std::os::unix::fs::symlink("../shared", upstream.work().join("app/shared-dir"))?;
    upstream.write("escape/ok.yaml", &config_map("ok", "1"))?;
    std::os::unix::fs::symlink(
        "../../../etc/passwd",
        upstream.work().join("escape/passwd.yaml"),
    )?;
    upstream.write("dangling/ok.yaml", &config_map("ok", "1"))?;
    std::os::unix::fs::symlink("missing.yaml", upstream.work().join("dangling/gone.yaml"))?;
    upstream.write("big/huge.yaml", &"#".repeat(2000))?;
    for i in 0..5 {
        upstream.write(
            &format!("many/f{i}.yaml"),
            &config_map(&format!("f{i}"), "1"),
        )?;
    }
    let commit = upstream.commit("corpus")?;
    let sub = Upstream::new()?;
    sub.commit("sub")?;
    upstream.add_submodule(&sub, "withsub/sub")?;
    let with_sub = upstream.commit("submodule")?;

    let cache = test_cache()?;
    let source = Source::new(upstream.file_url());
    assert_eq!(resolve(&cache, &source, "main")?, with_sub);
    let limits = Limits::default();
    let read = |dir: &str, limits: &Limits| cache.read_files(&source, &commit, dir, limits);
    let files_error = |result: std::result::Result<_, CacheError>| match result {
        Err(CacheError::Files { source, .. }) => Some(source),
        _ => None,
    };

    let app = read("app", &limits)?;
    assert_eq!(
        app.keys().collect::<Vec<_>>(),
        ["app/a.yaml", "app/linked.yaml", "app/shared-dir/base.yaml"]
    );
    assert_eq!(
        app.get("app/linked.yaml"),
        Some(&config_map("base", "1").into_bytes())
    );
    assert_eq!(
        files_error(read("escape", &limits)),
        Some(FilesError::SymlinkEscapes {
            path: "escape/passwd.yaml".into(),
            target: "../../../etc/passwd".into()
        })
    );
    assert!(matches!(
        files_error(read("dangling", &limits)),
        Some(FilesError::BrokenSymlink {
            reason: "dangling",
            ..
        })
    ));
    let small = Limits {
        max_file_size: 1000,
        ..Limits::default()
    };
    assert_eq!(
        files_error(read("big", &small)),
        Some(FilesError::FileTooLarge {
            path: "big/huge.yaml".into(),
            size: 2000,
            limit: 1000
        })
    );
    let few = Limits {
        max_files: 3,
        ..Limits::default()
    };
    assert!(matches!(
        files_error(read("many", &few)),
        Some(FilesError::TooManyFiles { limit: 3, .. })
    ));
    let tight = Limits {
        max_total_size: 100,
        ..Limits::default()
    };
    assert!(matches!(
        files_error(read("many", &tight)),
        Some(FilesError::TotalTooLarge { limit: 100, .. })
    ));
    assert!(matches!(
        files_error(read("nope", &limits)),
        Some(FilesError::NotFound { .. })
    ));
    assert_eq!(
        files_error(cache.read_files(&source, &with_sub, "withsub", &limits)),
        Some(FilesError::Submodule("withsub/sub".into()))
    );
    Ok(())
}

#[test]
fn a_fetch_serves_whoever_needed_one_before_it_started() -> Result {
    let h = history()?;
    let daemon = git_daemon(&h.upstream)?;
    let cache = test_cache()?;
    let source = Source::new(&daemon.url);
    let before = Instant::now();
    cache.fetch(&source)?;
    assert_eq!(cache.fetches(&daemon.url), 1);
    // Needed before that fetch started (a webhook that arrived earlier): served by it.
    let served = cache.resolve_since(&source, "main", before)?;
    assert_eq!(served.commit, h.second);
    assert_eq!(cache.fetches(&daemon.url), 1, "no second fetch");
    // Needed after it: fetched again, and a commit pushed meanwhile is seen.
    h.upstream.write("deploy/c.yaml", &config_map("c", "3"))?;
    let third = h.upstream.commit("third")?;
    let after = Instant::now();
    let fresh = cache.resolve_since(&source, "main", after)?;
    assert_eq!(cache.fetches(&daemon.url), 2);
    assert_eq!(fresh.commit, third);
    Ok(())
}

#[test]
fn a_running_fetch_that_started_too_early_does_not_serve() -> Result {
    let h = history()?;
    let gated = Gated::new(&h.upstream)?;
    let (server, cache, source) = (&gated.server, &gated.cache, gated.source.clone());
    let early = {
        let (cache, source) = (Arc::clone(cache), source.clone());
        std::thread::spawn(move || cache.resolve(&source, "main"))
    };
    while !cache.fetching(&server.url) {
        std::thread::yield_now();
    }
    // A push lands while that fetch runs; whoever hears of it needs a newer fetch.
    h.upstream.write("deploy/c.yaml", &config_map("c", "3"))?;
    let pushed = h.upstream.commit("pushed during the fetch")?;
    let heard = Instant::now();
    let late = {
        let (cache, source) = (Arc::clone(cache), source.clone());
        std::thread::spawn(move || cache.resolve_since(&source, "main", heard))
    };
    while cache.waiting(&server.url) < 1 {
        std::thread::yield_now();
    }
    gated.open()?;
    let join = |t: std::thread::JoinHandle<std::result::Result<_, CacheError>>| {
        t.join().map_err(|_| "thread panicked")
    };
    join(early)??;
    assert_eq!(join(late)??.commit, pushed, "the late caller sees the push");
    assert_eq!(cache.fetches(&server.url), 2);
    Ok(())
}
