//! Property tests: arbitrary bytes, arbitrary YAML built from YAML's own tokens, and arbitrary
//! Kustomization structures go through the parsers and the renderers without a panic (an error
//! is fine; a panic is a bug).

use driftless_render::{Kustomize, MemoryTree, Plain, PlainOptions, Renderers};
use proptest::prelude::*;

/// Kustomize first, then plain files, as the controller renders.
fn renderers() -> Renderers {
    let plain = Plain::new(&PlainOptions::default()).map(|p| Box::new(p) as _);
    let mut list: Vec<Box<dyn driftless_render::Renderer>> = vec![Box::new(Kustomize::new())];
    list.extend(plain.ok());
    Renderers::new(list)
}

/// Renders `files` at `dir`; only whether it returns matters.
fn render(files: &[(String, Vec<u8>)], dir: &str) {
    let mut tree = MemoryTree::default();
    for (path, bytes) in files {
        tree.insert(path.clone(), bytes.clone());
    }
    let _ = renderers().render(&tree, dir);
}

/// YAML made of YAML's tokens: indentation, indicators, anchors, aliases, merge keys, tags,
/// quotes, document markers, and a few words kustomize and Kubernetes give meaning to.
fn yaml_text() -> impl Strategy<Value = String> {
    let token = prop::sample::select(vec![
        "\n",
        "\n  ",
        "\n    ",
        "\n- ",
        "\n  - ",
        ": ",
        "- ",
        "? ",
        "[",
        "]",
        "{",
        "}",
        ", ",
        "&a ",
        "*a",
        "&b ",
        "*b",
        "<<: ",
        "!!binary ",
        "!!str ",
        "!!int ",
        "!!map ",
        "!custom ",
        "!<x> ",
        "'",
        "\"",
        "|",
        ">-",
        "#c",
        "---\n",
        "...\n",
        "%YAML 1.2\n",
        "~",
        "null",
        "true",
        "yes",
        "0x1F",
        "0644",
        "1e999",
        "-.inf",
        "2020-01-01",
        "apiVersion",
        "v1",
        "kind",
        "ConfigMap",
        "List",
        "items",
        "metadata",
        "name",
        "namespace",
        "data",
        "a",
        "b",
        "\t",
        "\u{0}",
        "é",
        "resources",
        "patches",
        "namePrefix",
        "configMapGenerator",
        "literals",
        "k=v",
        "..",
        "/etc/passwd",
        "cm.yaml",
    ]);
    prop::collection::vec(token, 0..60).prop_map(|t| t.concat())
}

/// The prelude of a ConfigMap manifest, so that the random part reaches deeper code.
const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n";

/// A path as a kustomization names one: inside, missing, above the root, absolute, remote.
fn path() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "cm.yaml",
        "base",
        "../base",
        "../../x",
        "/etc/passwd",
        ".",
        "..",
        "comp",
        "missing.yaml",
        "p.yaml",
        "a.env",
        "https://example.com/x",
        "github.com/o/r",
        "k=cm.yaml",
        "",
    ])
    .prop_map(str::to_owned)
}

/// A Kustomization built from its fields, each absent or holding arbitrary-looking values.
fn kustomization() -> impl Strategy<Value = String> {
    let list = |field: &'static str| {
        prop::option::of(prop::collection::vec(path(), 0..4)).prop_map(move |v| match v {
            Some(v) => format!(
                "{field}: [{}]\n",
                v.iter()
                    .map(|p| format!("{p:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => String::new(),
        })
    };
    let scalar = |field: &'static str| {
        prop::option::of(yaml_text()).prop_map(move |v| match v {
            Some(v) => format!("{field}: {v:?}\n"),
            None => String::new(),
        })
    };
    let patch = prop::option::of((path(), yaml_text(), any::<bool>())).prop_map(|p| match p {
        Some((path, text, true)) => format!(
            "patches:\n- path: {path:?}\n  target: {{kind: ConfigMap}}\n- patch: {text:?}\n"
        ),
        Some((path, text, false)) => format!("patchesStrategicMerge: [{path:?}, {text:?}]\n"),
        None => String::new(),
    });
    let generator = prop::option::of((path(), yaml_text())).prop_map(|g| match g {
        Some((file, literal)) => format!(
            "configMapGenerator:\n- name: g\n  files: [{file:?}]\n  literals: [{literal:?}]\nsecretGenerator:\n- name: s\n  envs: [{file:?}]\n"
        ),
        None => String::new(),
    });
    let kind = prop::sample::select(vec![
        "",
        "kind: Kustomization\n",
        "kind: Component\napiVersion: kustomize.config.k8s.io/v1alpha1\n",
        "kind: Other\n",
    ]);
    (
        kind,
        (
            list("resources"),
            list("components"),
            list("crds"),
            list("configurations"),
        ),
        (
            scalar("namePrefix"),
            scalar("namespace"),
            scalar("commonLabels"),
        ),
        patch,
        generator,
        prop::option::of(yaml_text()),
    )
        .prop_map(
            |(kind, (r, c, crds, conf), (prefix, ns, labels), patch, generator, extra)| {
                format!(
                    "{kind}{r}{c}{crds}{conf}{prefix}{ns}{labels}{patch}{generator}{}",
                    extra
                        .map(|e| format!(
                            "images:\n- name: {e:?}\nreplicas:\n- name: cm\n  count: 1\n"
                        ))
                        .unwrap_or_default()
                )
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = driftless_resource::parse_manifests("f.yaml", &bytes);
        let text = String::from_utf8_lossy(&bytes);
        let _ = driftless_kustomize::parse::parse_documents(&text, "f.yaml");
        let _ = driftless_kustomize::parse::parse_one(&text, "f.yaml");
        render(&[("app/f.yaml".into(), bytes.clone())], "app");
        render(&[("app/kustomization.yaml".into(), bytes)], "app");
    }

    #[test]
    fn arbitrary_yaml_never_panics(text in yaml_text(), prefixed in any::<bool>()) {
        let text = if prefixed { format!("{CM}{text}") } else { text };
        let _ = driftless_resource::parse_manifests("f.yaml", text.as_bytes());
        let _ = driftless_kustomize::parse::parse_documents(&text, "f.yaml");
        render(&[("app/f.yaml".into(), text.clone().into_bytes())], "app");
        render(
            &[
                ("app/kustomization.yaml".into(), b"resources: [r.yaml]\n".to_vec()),
                ("app/r.yaml".into(), text.into_bytes()),
            ],
            "app",
        );
    }

    #[test]
    fn arbitrary_kustomizations_never_panic(
        top in kustomization(),
        base in kustomization(),
        comp in kustomization(),
        resource in yaml_text(),
        patch in yaml_text(),
    ) {
        let files = vec![
            ("app/kustomization.yaml".to_owned(), top.into_bytes()),
            ("app/cm.yaml".to_owned(), format!("{CM}{resource}").into_bytes()),
            ("app/p.yaml".to_owned(), patch.clone().into_bytes()),
            ("app/a.env".to_owned(), patch.into_bytes()),
            ("app/base/kustomization.yaml".to_owned(), base.into_bytes()),
            ("app/base/cm.yaml".to_owned(), CM.replace("name: cm", "name: base").into_bytes()),
            ("app/comp/kustomization.yaml".to_owned(), format!("apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n{comp}").into_bytes()),
            ("base/kustomization.yaml".to_owned(), b"resources: [../app/cm.yaml]\n".to_vec()),
        ];
        render(&files, "app");
    }
}
