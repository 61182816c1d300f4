//! `driftless helm template` against the real `helm template` (Helm v4.3.2, built by
//! `testenv/build`): the same arguments print the same bytes, on charts made here and, when the
//! shared corpus is there (`CI` or `DRIFTLESS_HELM_CORPUS`), on a few of its real charts. Bad
//! input is one line naming the chart or file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

fn write(root: &Path, path: &str, text: &str) -> Result {
    let path = root.join(path);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, text)?;
    Ok(())
}

/// A chart with helpers, a subchart, globals, CRDs, hooks, a test, and templates that show
/// values, `.Release`, `.Capabilities` and `.Files`.
fn chart(root: &Path) -> Result<PathBuf> {
    let dir = root.join("web");
    write(
        &dir,
        "Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 1.2.3\nappVersion: \"4.5\"\ndependencies:\n- name: db\n  version: \">=0.1.0\"\n  condition: db.enabled\n",
    )?;
    write(
        &dir,
        "values.yaml",
        "replicas: 1\nimage:\n  repository: nginx\n  tag: \"1.27\"\nglobal:\n  team: web\ndb:\n  enabled: true\nlabels: {}\nports: [80]\n",
    )?;
    write(
        &dir,
        "templates/_helpers.tpl",
        "{{- define \"web.fullname\" -}}\n{{ printf \"%s-%s\" .Release.Name .Chart.Name | trunc 63 | trimSuffix \"-\" }}\n{{- end -}}\n{{- define \"web.labels\" -}}\napp.kubernetes.io/name: {{ .Chart.Name }}\napp.kubernetes.io/instance: {{ .Release.Name }}\n{{- range $k, $v := .Values.labels }}\n{{ $k }}: {{ $v | quote }}\n{{- end }}\n{{- end -}}\n",
    )?;
    write(
        &dir,
        "templates/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include \"web.fullname\" . }}\n  namespace: {{ .Release.Namespace }}\n  labels:\n    {{- include \"web.labels\" . | nindent 4 }}\nspec:\n  replicas: {{ .Values.replicas }}\n  template:\n    spec:\n      containers:\n      - name: web\n        image: \"{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}\"\n        ports:\n        {{- range .Values.ports }}\n        - containerPort: {{ . }}\n        {{- end }}\n{{- if .Values.extra }}\n        env: {{ toJson .Values.extra }}\n{{- end }}\n",
    )?;
    write(
        &dir,
        "templates/config.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ include \"web.fullname\" . }}\ndata:\n  kube: {{ .Capabilities.KubeVersion.Version | quote }}\n  monitoring: {{ .Capabilities.APIVersions.Has \"monitoring.coreos.com/v1\" | quote }}\n  team: {{ .Values.global.team }}\n{{- with .Values.motd }}\n  motd: {{ . | quote }}\n{{- end }}\n{{ (.Files.Glob \"files/*\").AsConfig | indent 2 }}\n---\n# an empty document is dropped\n",
    )?;
    write(&dir, "files/app.properties", "a=1\nb=2\n")?;
    write(
        &dir,
        "templates/hooks.yaml",
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {{ .Release.Name }}-migrate\n  annotations:\n    helm.sh/hook: pre-install,pre-upgrade\n    helm.sh/hook-weight: \"-1\"\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: m, image: busybox}]\n",
    )?;
    write(
        &dir,
        "templates/tests/test-connection.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}-test\n  annotations:\n    helm.sh/hook: test\nspec:\n  containers: [{name: t, image: busybox}]\n",
    )?;
    write(
        &dir,
        "templates/NOTES.txt",
        "Installed {{ .Release.Name }}.\n",
    )?;
    write(
        &dir,
        "crds/widget.yaml",
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\n",
    )?;
    write(
        &dir,
        "charts/db/Chart.yaml",
        "apiVersion: v2\nname: db\nversion: 0.2.0\n",
    )?;
    write(&dir, "charts/db/values.yaml", "size: 1Gi\n")?;
    write(
        &dir,
        "charts/db/templates/pvc.yaml",
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: {{ .Release.Name }}-db\n  labels:\n    team: {{ .Values.global.team }}\nspec:\n  resources:\n    requests:\n      storage: {{ .Values.size }}\n",
    )?;
    write(root, "prod.yaml", "replicas: 3\nlabels:\n  tier: front\n")?;
    write(root, "motd.txt", "hello\nworld\n")?;
    Ok(dir)
}

fn helm_env(command: &mut Command, home: &Path) {
    for var in ["HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"] {
        command.env(var, home);
    }
}

fn run(program: &Path, args: &[String], cwd: &Path) -> Result<Output> {
    let mut command = Command::new(program);
    if program.ends_with("helm") {
        helm_env(&mut command, &cwd.join(".helm-home"));
    } else {
        command.arg("helm");
    }
    Ok(command
        .arg("template")
        .args(args)
        .current_dir(cwd)
        .output()?)
}

/// Both print the same bytes, successfully.
fn same(args: &[&str], cwd: &Path) -> Result {
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    let helm = driftless_testenv::reference_helm()?;
    let theirs = run(&helm, &args, cwd)?;
    let ours = run(Path::new(env!("CARGO_BIN_EXE_driftless")), &args, cwd)?;
    let text = |o: &Output| String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        theirs.status.success(),
        "helm template {args:?}: {}",
        String::from_utf8_lossy(&theirs.stderr)
    );
    assert!(
        ours.status.success(),
        "driftless helm template {args:?}: {}",
        String::from_utf8_lossy(&ours.stderr)
    );
    assert!(!text(&theirs).trim().is_empty());
    assert_eq!(text(&ours), text(&theirs), "{args:?}");
    Ok(())
}

#[test]
fn own_chart_renders_as_helm_template_with_values_and_flags() -> Result {
    let tmp = tempfile::tempdir()?;
    chart(tmp.path())?;
    let cwd = tmp.path();
    same(&["web"], cwd)?;
    same(
        &["prod", "web", "--namespace", "shop", "-f", "prod.yaml"],
        cwd,
    )?;
    same(
        &[
            "web",
            "--release-name",
            "web",
            "--values",
            "prod.yaml",
            "--set",
            "replicas=5,image.tag=1.28",
            "--set",
            "ports={80,443}",
            "--set-string",
            "labels.version=2",
            "--set-json",
            "extra=[{\"name\":\"A\",\"value\":\"1\"}]",
            "--set-file",
            "motd=motd.txt",
            "--set",
            "db.enabled=false",
        ],
        cwd,
    )?;
    same(
        &[
            "r",
            "web",
            "--include-crds",
            "--skip-tests",
            "--kube-version",
            "1.31.2",
            "--api-versions",
            "monitoring.coreos.com/v1",
        ],
        cwd,
    )?;
    Ok(())
}

/// The corpus is used only where it must be there (CI) or is pointed at.
fn corpus() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DRIFTLESS_HELM_CORPUS") {
        return Some(PathBuf::from(dir));
    }
    std::env::var_os("CI")
        .map(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/helm"))
}

#[test]
fn corpus_charts_render_as_helm_template() -> Result {
    let Some(corpus) = corpus() else {
        println!("no DRIFTLESS_HELM_CORPUS (or CI): corpus charts not compared");
        return Ok(());
    };
    for name in [
        "helm-testchart-subchart",
        "bitnami-nginx-features",
        "cert-manager",
    ] {
        let case = corpus.join("cases").join(name);
        let spec: serde_json::Value =
            serde_json::from_slice(&std::fs::read(case.join("case.json"))?)?;
        let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
        let mut args = vec![
            text(&spec["release"]),
            "chart".to_owned(),
            "--namespace".to_owned(),
            text(&spec["namespace"]),
            "--kube-version".to_owned(),
            text(&spec["kubeVersion"]),
            "--include-crds".to_owned(),
        ];
        let list = |key: &str| spec[key].as_array().cloned().unwrap_or_default();
        for v in list("values") {
            args.extend(["--values".to_owned(), text(&v)]);
        }
        for v in list("set") {
            args.extend(["--set".to_owned(), text(&v)]);
        }
        for v in list("apiVersions") {
            args.extend(["--api-versions".to_owned(), text(&v)]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // Helm writes nothing into the case's folder (its homes go to a temporary one).
        let home = tempfile::tempdir()?;
        let helm = driftless_testenv::reference_helm()?;
        let mut theirs = Command::new(helm);
        helm_env(&mut theirs, home.path());
        let theirs = theirs
            .arg("template")
            .args(&args)
            .current_dir(&case)
            .output()?;
        let ours = Command::new(env!("CARGO_BIN_EXE_driftless"))
            .args(["helm", "template"])
            .args(&args)
            .current_dir(&case)
            .output()?;
        assert!(theirs.status.success(), "{name}: helm failed");
        assert!(
            ours.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&ours.stderr)
        );
        assert!(
            ours.stdout == theirs.stdout,
            "{name}: driftless helm template differs from helm template"
        );
    }
    Ok(())
}

/// Exit status 2 and one line on stderr holding every `needle`.
fn fails(args: &[&str], cwd: &Path, needles: &[&str]) -> Result {
    let out = Command::new(env!("CARGO_BIN_EXE_driftless"))
        .args(["helm", "template"])
        .args(args)
        .current_dir(cwd)
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?}: printed output");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "{needle:?} not in {stderr}");
    }
    Ok(())
}

#[test]
fn bad_input_is_one_line_naming_the_chart_or_file() -> Result {
    let tmp = tempfile::tempdir()?;
    let dir = chart(tmp.path())?;
    let cwd = tmp.path();
    fails(&["web", "-f", "absent.yaml"], cwd, &["absent.yaml"])?;
    fails(
        &["web", "--set", "ports[x]=1"],
        cwd,
        &["chart web", "failed parsing --set data", "index"],
    )?;
    fails(&["web", "--set-file", "motd=none.txt"], cwd, &["none.txt"])?;
    write(
        &dir,
        "templates/broken.yaml",
        "kind: ConfigMap\nname: {{ required \"name is required\" .Values.name }}\n",
    )?;
    fails(
        &["web"],
        cwd,
        &[
            "chart web",
            "web/templates/broken.yaml:2",
            "name is required",
        ],
    )?;
    write(
        &dir,
        "templates/broken.yaml",
        "{{ .Values.x | nosuchfunc }}\n",
    )?;
    fails(&["web"], cwd, &["chart web", "broken.yaml:1", "nosuchfunc"])?;
    fails(&["absent-chart"], cwd, &["absent-chart"])?;
    Ok(())
}
