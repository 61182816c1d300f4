//! Build errors and restrictions, on in-memory trees: what is refused, and that messages name
//! the kustomization file and field without leaking secret values.

use driftless_kustomize::{FileSystem, MemFs, Options, RemoteLoader, build_yaml};

fn cm(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n")
}

#[test]
fn files_outside_the_kustomization_root_are_refused_unless_allowed() {
    let fs = MemFs::new()
        .with(
            "/app/overlay/kustomization.yaml",
            "resources:\n- ../shared/cm.yaml\n",
        )
        .with("/app/shared/cm.yaml", cm("c"));
    let err = build_yaml(&fs, "/app/overlay", &Options::default())
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some(
            "/app/overlay/kustomization.yaml: resources: accumulating resources: security; file '/app/shared/cm.yaml' is not in or below '/app/overlay'"
        )
    );
    let open = Options {
        allow_outside_root: true,
        ..Options::default()
    };
    assert_eq!(build_yaml(&fs, "/app/overlay", &open).ok(), Some(cm("c")));
}

#[test]
fn remote_resources_are_refused() {
    let fs = MemFs::new().with(
        "/k/kustomization.yaml",
        "resources:\n- https://github.com/org/repo//base?ref=v1\n",
    );
    let err = build_yaml(&fs, "/k", &Options::default())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.starts_with("/k/kustomization.yaml: resources: "),
        "{err}"
    );
    assert!(err.contains("remote resources are not allowed"), "{err}");
}

#[test]
fn resources_may_not_climb_above_the_tree() {
    let fs = MemFs::new().with("/kustomization.yaml", "resources:\n- ../elsewhere\n");
    let err = build_yaml(&fs, "/", &Options::default())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("outside the root"), "{err}");
}

#[test]
fn generator_errors_name_the_field_and_hide_the_value() {
    let fs = MemFs::new().with(
        "/k/kustomization.yaml",
        "secretGenerator:\n- name: s\n  literals:\n  - hunter2-no-equals\n",
    );
    let err = build_yaml(&fs, "/k", &Options::default())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.starts_with("/k/kustomization.yaml: secretGenerator[0]: "),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn unknown_kustomization_fields_are_errors() {
    let fs = MemFs::new().with("/k/kustomization.yaml", "resourcez:\n- a.yaml\n");
    let err = build_yaml(&fs, "/k", &Options::default())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("/k/kustomization.yaml: invalid Kustomization: unknown field `resourcez`"),
        "{err}"
    );
}

#[test]
fn a_directory_without_a_kustomization_is_an_error() {
    let fs = MemFs::new().with("/k/cm.yaml", cm("c"));
    let err = build_yaml(&fs, "/k", &Options::default())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("unable to find one of 'kustomization.yaml'"),
        "{err}"
    );
}

/// Serves one remote base from memory, and records what it was asked for.
#[derive(Debug, Default)]
struct OneRemote {
    asked: std::sync::Mutex<Vec<String>>,
}

impl RemoteLoader for OneRemote {
    fn load(&self, url: &str) -> Result<(Box<dyn FileSystem>, String), String> {
        self.asked
            .lock()
            .map_err(|e| e.to_string())?
            .push(url.to_owned());
        let fs = MemFs::new()
            .with(
                "/base/kustomization.yaml",
                "resources: [cm.yaml]\nnamePrefix: remote-\n",
            )
            .with("/base/cm.yaml", cm("c"));
        Ok((Box::new(fs), "/base".to_owned()))
    }
}

#[test]
fn remote_bases_are_built_through_the_loader_when_allowed() {
    let fs = MemFs::new().with(
        "/k/kustomization.yaml",
        "resources:\n- https://git.example/org/repo//base?ref=v1\nnamePrefix: app-\n",
    );
    let loader = std::sync::Arc::new(OneRemote::default());
    let options = Options {
        remote: Some(loader.clone()),
        ..Options::default()
    };
    let out = build_yaml(&fs, "/k", &options).unwrap();
    assert_eq!(out, cm("app-remote-c"));
    assert_eq!(
        *loader.asked.lock().unwrap(),
        ["https://git.example/org/repo//base?ref=v1"]
    );
}

fn build_err(fs: &MemFs, dir: &str) -> String {
    build_yaml(fs, dir, &Options::default())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default()
}

#[test]
fn a_kustomization_that_includes_itself_is_a_cycle() {
    let fs = MemFs::new().with("/app/kustomization.yaml", "resources:\n- .\n");
    let err = build_err(&fs, "/app");
    assert!(
        err.contains(
            "cycle detected: candidate root '/app' contains visited root '/app' (/app -> /app)"
        ),
        "{err}"
    );
}

#[test]
fn kustomizations_that_include_each_other_name_the_chain() {
    let fs = MemFs::new()
        .with("/a/kustomization.yaml", "resources:\n- ../b\n")
        .with("/b/kustomization.yaml", "resources:\n- ../a\n");
    let err = build_err(&fs, "/a");
    assert!(
        err.contains(
            "cycle detected: candidate root '/a' contains visited root '/a' (/a -> /b -> /a)"
        ),
        "{err}"
    );
    // The same through components.
    let fs = MemFs::new()
        .with("/a/kustomization.yaml", "components:\n- ../b\n")
        .with(
            "/b/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncomponents:\n- ../a\n",
        );
    let err = build_err(&fs, "/a");
    assert!(err.contains("(/a -> /b -> /a)"), "{err}");
}

#[test]
fn a_base_that_contains_its_overlay_is_a_cycle() {
    // kustomize refuses a new root at or above any root being accumulated.
    let fs = MemFs::new()
        .with("/app/kustomization.yaml", cm_kustomization())
        .with("/app/cm.yaml", cm("c"))
        .with("/app/overlay/kustomization.yaml", "resources:\n- ..\n");
    let err = build_err(&fs, "/app/overlay");
    assert!(
        err.contains("cycle detected: candidate root '/app' contains visited root '/app/overlay'"),
        "{err}"
    );
    // The base on its own builds.
    assert_eq!(
        build_yaml(&fs, "/app", &Options::default()).ok(),
        Some(cm("c"))
    );
}

fn cm_kustomization() -> String {
    "resources:\n- cm.yaml\n".to_string()
}

#[test]
fn no_field_reads_above_the_root_of_the_tree() {
    // `../x.yaml` from the root is outside the tree: refused, never read as `/x.yaml`.
    let fields = [
        "configMapGenerator:\n- name: g\n  files:\n  - ../x.yaml\n",
        "configMapGenerator:\n- name: g\n  envs:\n  - ../x.yaml\n",
        "configMapGenerator:\n- name: g\n  env: ../x.yaml\n",
        "secretGenerator:\n- name: g\n  files:\n  - k=../x.yaml\n",
        "resources:\n- cm.yaml\npatches:\n- path: ../x.yaml\n",
        "resources:\n- cm.yaml\npatchesStrategicMerge:\n- ../x.yaml\n",
        "resources:\n- cm.yaml\npatchesJson6902:\n- path: ../x.yaml\n  target:\n    kind: ConfigMap\n    name: c\n",
        "crds:\n- ../x.yaml\n",
        "openapi:\n  path: ../x.yaml\n",
        "resources:\n- cm.yaml\nreplacements:\n- path: ../x.yaml\n",
        "configurations:\n- ../x.yaml\n",
        "components:\n- ../x\n",
        "transformers:\n- ../x.yaml\n",
        "generators:\n- ../x.yaml\n",
    ];
    for k in fields {
        let fs = MemFs::new()
            .with("/kustomization.yaml", k)
            .with("/cm.yaml", cm("c"))
            .with("/x.yaml", cm("c"))
            .with(
                "/x/kustomization.yaml",
                "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n",
            );
        let err = build_err(&fs, "/");
        assert!(
            err.contains("'../x") && err.contains("lies outside the root of the tree being built"),
            "{k}: {err}"
        );
    }
}

#[test]
fn files_of_every_field_must_be_in_the_kustomization_directory() {
    let fields = [
        "configMapGenerator:\n- name: g\n  files:\n  - ../x.yaml\n",
        "configMapGenerator:\n- name: g\n  env: ../x.yaml\n",
        "resources:\n- cm.yaml\npatches:\n- path: ../x.yaml\n",
        "resources:\n- cm.yaml\npatchesStrategicMerge:\n- ../x.yaml\n",
        "crds:\n- ../x.yaml\n",
        "openapi:\n  path: ../x.yaml\n",
        "resources:\n- cm.yaml\nreplacements:\n- path: ../x.yaml\n",
        "configurations:\n- ../x.yaml\n",
    ];
    for k in fields {
        let fs = MemFs::new()
            .with("/app/kustomization.yaml", k)
            .with("/app/cm.yaml", cm("c"))
            .with("/x.yaml", cm("c"));
        let err = build_err(&fs, "/app");
        assert!(
            err.contains("security; file '/x.yaml' is not in or below '/app'"),
            "{k}: {err}"
        );
    }
    // Components, like bases, are directories and may be anywhere in the tree.
    let fs = MemFs::new()
        .with("/app/kustomization.yaml", "components:\n- ../comp\n")
        .with(
            "/comp/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n- cm.yaml\n",
        )
        .with("/comp/cm.yaml", cm("c"));
    assert_eq!(
        build_yaml(&fs, "/app", &Options::default()).ok(),
        Some(cm("c"))
    );
}

#[test]
fn helm_charts_are_an_error_until_supported() {
    let cases = [
        (
            "helmCharts:\n- name: redis\n  repo: https://charts.example.com\n  version: 1.0.0\n",
            "/kustomization.yaml: helmCharts: Helm charts in kustomizations are not supported yet",
        ),
        (
            "helmChartInflationGenerator:\n- chartName: redis\n",
            "/kustomization.yaml: helmChartInflationGenerator: Helm charts in kustomizations are not supported yet",
        ),
        (
            "generators:\n- helm.yaml\n",
            "/kustomization.yaml: generators: Helm charts in kustomizations are not supported yet",
        ),
    ];
    for (k, want) in cases {
        let fs = MemFs::new().with("/kustomization.yaml", k).with(
            "/helm.yaml",
            "apiVersion: builtin\nkind: HelmChartInflationGenerator\nmetadata:\n  name: h\nname: redis\n",
        );
        let err = build_err(&fs, "/");
        assert!(err.starts_with(want), "{k}: {err}");
    }
}

#[cfg(unix)]
#[test]
fn symbolic_links_are_followed_before_the_load_restrictions() -> std::io::Result<()> {
    use driftless_kustomize::DiskFs;
    let tmp =
        std::env::temp_dir().join(format!("driftless-kustomize-links-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(tmp.join("app/sub"))?;
    std::fs::write(tmp.join("outside.yaml"), cm("out"))?;
    std::fs::write(tmp.join("app/sub/inside.yaml"), cm("in"))?;
    std::os::unix::fs::symlink(tmp.join("outside.yaml"), tmp.join("app/out.yaml"))?;
    std::os::unix::fs::symlink(tmp.join("app/sub/inside.yaml"), tmp.join("app/in.yaml"))?;
    let fs = DiskFs::new(&tmp);
    let build = |k: &str| -> Result<String, String> {
        std::fs::write(tmp.join("app/kustomization.yaml"), k).map_err(|e| e.to_string())?;
        build_yaml(&fs, "/app", &Options::default()).map_err(|e| e.to_string())
    };
    // A link inside the kustomization's directory is read; one leading out of it is refused.
    assert_eq!(build("resources:\n- in.yaml\n"), Ok(cm("in")));
    let err = build("resources:\n- out.yaml\n").err().unwrap_or_default();
    assert!(
        err.contains("security; file '/app/out.yaml' is not in or below '/app'"),
        "{err}"
    );
    let err = build("configMapGenerator:\n- name: g\n  files:\n  - out.yaml\n")
        .err()
        .unwrap_or_default();
    assert!(err.contains("is not in or below '/app'"), "{err}");
    std::fs::remove_dir_all(&tmp)
}
