//! A chart as Helm loads it: `Chart.yaml` (apiVersion v1 or v2), `requirements.yaml` (v1),
//! `values.yaml`, `values.schema.json`, `templates/`, the other files (`.Files`), and the
//! subcharts under `charts/` (directories and `.tgz` archives), from a directory (with
//! `.helmignore`) or from a list of files (without it, as from an archive).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::file::{File, MAX_CHART_SIZE, strip_bom};
use crate::helmignore::{HELMIGNORE, Rules};
use crate::table::Values;
use crate::{Error, archive, constraint, yaml};

/// A maintainer in `Chart.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Maintainer {
    /// `name`.
    pub name: String,
    /// `email`.
    pub email: String,
    /// `url`.
    pub url: String,
}

/// A dependency in `Chart.yaml` (v2) or `requirements.yaml` (v1).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Dependency {
    /// `name`: the dependency's chart name (its alias once dependencies are processed).
    pub name: String,
    /// `version`: a version or a constraint the vendored chart's version must satisfy.
    pub version: String,
    /// `repository`.
    pub repository: String,
    /// `condition`: comma-separated value paths; the first that holds a boolean decides.
    pub condition: String,
    /// `tags`.
    pub tags: Vec<String>,
    /// `enabled`.
    pub enabled: bool,
    /// `import-values`: strings (`exports.<name>`) or `{child, parent}` maps.
    #[serde(rename = "import-values")]
    pub import_values: Vec<Value>,
    /// `alias`.
    pub alias: String,
}

/// `Chart.yaml`, the fields Helm knows (others are ignored, as Helm does).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Metadata {
    /// `name`.
    pub name: String,
    /// `home`.
    pub home: String,
    /// `sources`.
    pub sources: Vec<String>,
    /// `version`.
    pub version: String,
    /// `description`.
    pub description: String,
    /// `keywords`.
    pub keywords: Vec<String>,
    /// `maintainers`.
    pub maintainers: Vec<Maintainer>,
    /// `icon`.
    pub icon: String,
    /// `apiVersion`: `v1` (also when missing) or `v2`.
    pub api_version: String,
    /// `condition` (unused by Helm v3+, kept for `.Chart`).
    pub condition: String,
    /// `tags` (unused by Helm v3+, kept for `.Chart`).
    pub tags: String,
    /// `appVersion`.
    pub app_version: String,
    /// `deprecated`.
    pub deprecated: bool,
    /// `annotations`.
    pub annotations: Option<BTreeMap<String, String>>,
    /// `kubeVersion`: a constraint on the cluster's version.
    pub kube_version: String,
    /// `dependencies`.
    pub dependencies: Vec<Dependency>,
    /// `type`: `application` (or empty) or `library`.
    #[serde(rename = "type")]
    pub chart_type: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Requirements {
    dependencies: Option<Vec<Dependency>>,
}

/// A loaded chart and its subcharts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chart {
    /// `Chart.yaml`.
    pub metadata: Metadata,
    /// `values.yaml` (documents merged), numbers as Go `float64`s.
    pub values: Values,
    /// `values.schema.json`, raw.
    pub schema: Option<Vec<u8>>,
    /// Files under `templates/`, in load order.
    pub templates: Vec<File>,
    /// The files templates see as `.Files`: everything but `Chart.yaml`, `Chart.lock`,
    /// `values.yaml`, `values.schema.json`, `templates/` and `charts/` (except `charts/*.prov`);
    /// `requirements.yaml`/`.lock` only in v1 charts.
    pub files: Vec<File>,
    /// Subcharts found under `charts/`; after [`crate::process_dependencies`], the enabled
    /// ones, named by alias.
    pub dependencies: Vec<Chart>,
}

impl Chart {
    /// The chart's name (its alias, once dependencies are processed).
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// Whether the chart is a library chart (`type: library`).
    pub fn is_library(&self) -> bool {
        self.metadata.chart_type == "library"
    }
}

/// Loads a chart archive (`.tgz`), without `.helmignore` as Helm reads archives.
///
/// # Errors
/// As [`archive::archive_files`] and [`load_files`].
pub fn load_archive(bytes: &[u8]) -> Result<Chart, Error> {
    load_files(archive::archive_files(bytes)?)
}

/// Loads the chart in directory `dir`, applying its `.helmignore` (to the whole tree).
///
/// Symbolic links are followed when they stay inside `dir`; one that leads outside is an error.
///
/// # Errors
/// Unreadable files, a bad `.helmignore`, a chart over [`MAX_CHART_SIZE`], an irregular file, or
/// any error of [`load_files`].
pub fn load_dir(dir: &Path) -> Result<Chart, Error> {
    let root = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
    let rules = match std::fs::read(root.join(HELMIGNORE)) {
        Ok(bytes) => Rules::parse(&String::from_utf8_lossy(&bytes)).map_err(|e| Error::Ignore {
            file: root.join(HELMIGNORE).display().to_string(),
            source: e,
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Rules::defaults(),
        Err(e) => return Err(Error::io(&root.join(HELMIGNORE), e)),
    };
    let mut files = Vec::new();
    let mut walk_state = Walk {
        root: &root,
        rules: &rules,
        budget: MAX_CHART_SIZE,
        open: vec![root.clone()],
        out: &mut files,
    };
    walk_state.dir(&root, "")?;
    check_api_version(&files)?;
    load_files(files)
}

/// Helm reads a chart directory by its `Chart.yaml` `apiVersion`: v1 (or none) and v2 as
/// described here; v3 (Helm 4's new chart API, not yet used by published charts) is refused
/// here; any other is Helm's `unsupported chart version`.
fn check_api_version(files: &[File]) -> Result<(), Error> {
    let Some(f) = files.iter().find(|f| f.name == "Chart.yaml") else {
        return Ok(());
    };
    let md: Metadata = parse_yaml_struct(&f.data, "Chart.yaml")?;
    match md.api_version.as_str() {
        "" | "v1" | "v2" => Ok(()),
        "v3" => Err(Error::Invalid(
            "Chart.yaml: chart apiVersion v3 is not supported yet (charts of apiVersion v1 and v2 are)".into(),
        )),
        _ => Err(Error::Invalid("unsupported chart version".into())),
    }
}

/// A walk of a chart directory, as Helm's (symbolic links followed).
struct Walk<'a> {
    root: &'a Path,
    rules: &'a Rules,
    budget: u64,
    /// The real paths of the directories being walked, against symbolic link loops.
    open: Vec<std::path::PathBuf>,
    out: &'a mut Vec<File>,
}

impl Walk<'_> {
    fn dir(&mut self, dir: &Path, prefix: &str) -> Result<(), Error> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| Error::io(dir, e))?
            .collect::<Result<_, _>>()
            .map_err(|e| Error::io(dir, e))?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = format!("{prefix}{name}");
            let path = entry.path();
            let real = path.canonicalize().map_err(|e| Error::io(&path, e))?;
            if !real.starts_with(self.root) {
                return Err(Error::Escape { path: rel });
            }
            let meta = std::fs::metadata(&real).map_err(|e| Error::io(&path, e))?;
            if meta.is_dir() {
                if self.rules.ignores(&rel, true) {
                    continue;
                }
                if self.open.contains(&real) {
                    return Err(Error::Escape { path: rel });
                }
                self.open.push(real.clone());
                self.dir(&real, &format!("{rel}/"))?;
                self.open.pop();
                continue;
            }
            if self.rules.ignores(&rel, false) {
                continue;
            }
            if !meta.is_file() {
                return Err(Error::Irregular { path: rel });
            }
            if meta.len() > self.budget {
                return Err(Error::TooLarge {
                    limit: MAX_CHART_SIZE,
                });
            }
            self.budget -= meta.len();
            let data = std::fs::read(&real).map_err(|e| Error::io(&path, e))?;
            self.out.push(File {
                name: rel,
                data: strip_bom(data),
            });
        }
        Ok(())
    }
}

/// Loads a chart from its files (paths relative to the chart), as Helm's `LoadFiles`: no
/// `.helmignore` (Helm applies it only when reading a directory; see [`load_entries`]).
///
/// # Errors
/// A missing or invalid `Chart.yaml`, unreadable values, requirements or lock files, an invalid
/// chart (name, version, type), or a subchart that fails to load (named with its parent).
pub fn load_files(files: Vec<File>) -> Result<Chart, Error> {
    let mut chart = Chart::default();
    let mut have_metadata = false;
    if let Some(f) = files.iter().find(|f| f.name == "Chart.yaml") {
        chart.metadata = parse_metadata(&f.data)?;
        have_metadata = true;
    }
    let mut subcharts: BTreeMap<String, Vec<File>> = BTreeMap::new();
    for f in files {
        match f.name.as_str() {
            "Chart.yaml" => {}
            "Chart.lock" | "requirements.lock" => {
                yaml::document(&f.data).map_err(|e| Error::Yaml {
                    file: f.name.clone(),
                    source: e,
                })?;
                if f.name == "requirements.lock" {
                    have_metadata = true;
                    if chart.metadata.api_version == "v1" {
                        chart.files.push(f);
                    }
                }
            }
            "values.yaml" => {
                chart.values = yaml::values_file(&f.data).map_err(|e| Error::Yaml {
                    file: "values.yaml".into(),
                    source: e,
                })?;
            }
            "values.schema.json" => chart.schema = Some(f.data),
            "requirements.yaml" => {
                let req: Requirements = parse_yaml_struct(&f.data, "requirements.yaml")?;
                have_metadata = true;
                if let Some(deps) = req.dependencies {
                    chart.metadata.dependencies = deps;
                }
                if chart.metadata.api_version == "v1" {
                    chart.files.push(f);
                }
            }
            name if name.starts_with("templates/") => chart.templates.push(f),
            name if name.starts_with("charts/") => {
                if name.ends_with(".prov") {
                    chart.files.push(f);
                    continue;
                }
                let rest = &name["charts/".len()..];
                let cname = rest.split('/').next().unwrap_or(rest).to_owned();
                subcharts.entry(cname).or_default().push(File {
                    name: rest.to_owned(),
                    data: f.data,
                });
            }
            _ => chart.files.push(f),
        }
    }
    if !have_metadata {
        return Err(Error::Invalid("Chart.yaml file is missing".into()));
    }
    validate(&mut chart.metadata)?;
    for (cname, files) in subcharts {
        if cname.starts_with('_') || cname.starts_with('.') {
            continue;
        }
        let sub = if cname.ends_with(".tgz") {
            match files.into_iter().next() {
                Some(f) if f.name == cname => load_archive(&f.data),
                Some(f) => Err(Error::Invalid(format!(
                    "error unpacking subchart tar in {}: expected {cname}, got {}",
                    chart.name(),
                    f.name
                ))),
                None => continue,
            }
        } else {
            let inner: Vec<File> = files
                .into_iter()
                .filter_map(|f| {
                    let (_, rest) = f.name.split_once('/')?;
                    Some(File {
                        name: rest.to_owned(),
                        data: f.data,
                    })
                })
                .collect();
            load_files(inner)
        };
        let sub = sub.map_err(|e| Error::Subchart {
            subchart: cname.clone(),
            parent: chart.name().to_owned(),
            source: Box::new(e),
        })?;
        chart.dependencies.push(sub);
    }
    Ok(chart)
}

/// Loads a chart from files given in memory (e.g. a Git tree), applying the `.helmignore`
/// among them as [`load_dir`] does.
///
/// # Errors
/// A bad `.helmignore`, or any error of [`load_files`].
pub fn load_entries(files: Vec<File>) -> Result<Chart, Error> {
    let rules = match files.iter().find(|f| f.name == HELMIGNORE) {
        Some(f) => Rules::parse(&String::from_utf8_lossy(&f.data)).map_err(|e| Error::Ignore {
            file: HELMIGNORE.into(),
            source: e,
        })?,
        None => Rules::defaults(),
    };
    let mut kept: Vec<File> = files
        .into_iter()
        .filter(|f| !rules.ignores_file(&f.name))
        .map(|f| File {
            name: f.name,
            data: strip_bom(f.data),
        })
        .collect();
    kept.sort_by(|a, b| a.name.cmp(&b.name));
    check_api_version(&kept)?;
    load_files(kept)
}

fn parse_yaml_struct<T: serde::de::DeserializeOwned + Default>(
    data: &[u8],
    file: &str,
) -> Result<T, Error> {
    if data.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let options = serde_saphyr::options! {
        legacy_octal_numbers: true,
        strict_booleans: false,
        duplicate_keys: serde_saphyr::options::DuplicateKeyPolicy::LastWins,
        with_snippet: false,
    };
    serde_saphyr::from_slice_with_options(data, options).map_err(|e| Error::Yaml {
        file: file.to_owned(),
        source: yaml::YamlError {
            line: e.location().map_or(0, |l| l.line()),
            message: e
                .to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        },
    })
}

fn parse_metadata(data: &[u8]) -> Result<Metadata, Error> {
    let mut md: Metadata = parse_yaml_struct(data, "Chart.yaml")?;
    if md.api_version.is_empty() {
        md.api_version = "v1".into();
    }
    Ok(md)
}

/// Helm's `sanitizeString`: whitespace becomes a space, unprintable characters go.
fn sanitize(s: &mut String) {
    *s = s
        .chars()
        .filter_map(|c| {
            if c.is_whitespace() {
                Some(' ')
            } else if c.is_control() {
                None
            } else {
                Some(c)
            }
        })
        .collect();
}

fn validate(md: &mut Metadata) -> Result<(), Error> {
    for s in [
        &mut md.name,
        &mut md.description,
        &mut md.home,
        &mut md.icon,
        &mut md.condition,
        &mut md.tags,
        &mut md.app_version,
        &mut md.kube_version,
    ] {
        sanitize(s);
    }
    md.sources.iter_mut().for_each(sanitize);
    md.keywords.iter_mut().for_each(sanitize);
    let invalid = |m: String| Err(Error::Invalid(m));
    if md.name.is_empty() {
        return invalid("validation: chart.metadata.name is required".into());
    }
    if md.name == "." || md.name == ".." {
        return invalid(format!(
            "validation: chart.metadata.name {:?} is not allowed",
            md.name
        ));
    }
    if md.name.contains('/') {
        return invalid(format!(
            "validation: chart.metadata.name {:?} is invalid",
            md.name
        ));
    }
    if md.version.is_empty() {
        return invalid("validation: chart.metadata.version is required".into());
    }
    if !constraint::is_valid_version(&md.version) {
        return invalid(format!(
            "validation: chart.metadata.version {:?} is invalid",
            md.version
        ));
    }
    if !matches!(md.chart_type.as_str(), "" | "application" | "library") {
        return invalid("validation: chart.metadata.type must be application or library".into());
    }
    for m in &mut md.maintainers {
        sanitize(&mut m.name);
        sanitize(&mut m.email);
        sanitize(&mut m.url);
    }
    let mut seen = std::collections::HashSet::new();
    for d in &mut md.dependencies {
        for s in [
            &mut d.name,
            &mut d.version,
            &mut d.repository,
            &mut d.condition,
            &mut d.alias,
        ] {
            sanitize(s);
        }
        d.tags.iter_mut().for_each(sanitize);
        if !d.alias.is_empty()
            && !d
                .alias
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return invalid(format!(
                "validation: dependency {:?} has disallowed characters in the alias",
                d.name
            ));
        }
        let key = if d.alias.is_empty() {
            &d.name
        } else {
            &d.alias
        };
        if !seen.insert(key.clone()) {
            return invalid(format!(
                "validation: more than one dependency with name or alias {key:?}"
            ));
        }
    }
    Ok(())
}

/// `Chart.yaml`'s fields as templates see them in `.Chart`: Go's field names (`Name`,
/// `Version`, `AppVersion`, `APIVersion`, ...), every field present (empty strings, empty
/// lists, `null` for absent annotations), dependencies as maps of their Go fields.
pub fn metadata_map(md: &Metadata) -> Map<String, Value> {
    let strings = |v: &[String]| Value::Array(v.iter().cloned().map(Value::String).collect());
    let mut m = Map::new();
    m.insert("Name".into(), md.name.clone().into());
    m.insert("Home".into(), md.home.clone().into());
    m.insert("Sources".into(), strings(&md.sources));
    m.insert("Version".into(), md.version.clone().into());
    m.insert("Description".into(), md.description.clone().into());
    m.insert("Keywords".into(), strings(&md.keywords));
    m.insert(
        "Maintainers".into(),
        Value::Array(
            md.maintainers
                .iter()
                .map(|x| {
                    let mut mm = Map::new();
                    mm.insert("Name".into(), x.name.clone().into());
                    mm.insert("Email".into(), x.email.clone().into());
                    mm.insert("URL".into(), x.url.clone().into());
                    Value::Object(mm)
                })
                .collect(),
        ),
    );
    m.insert("Icon".into(), md.icon.clone().into());
    m.insert("APIVersion".into(), md.api_version.clone().into());
    m.insert("Condition".into(), md.condition.clone().into());
    m.insert("Tags".into(), md.tags.clone().into());
    m.insert("AppVersion".into(), md.app_version.clone().into());
    m.insert("Deprecated".into(), md.deprecated.into());
    m.insert(
        "Annotations".into(),
        md.annotations.as_ref().map_or(Value::Null, |a| {
            Value::Object(
                a.iter()
                    .map(|(k, v)| (k.clone(), v.clone().into()))
                    .collect(),
            )
        }),
    );
    m.insert("KubeVersion".into(), md.kube_version.clone().into());
    m.insert(
        "Dependencies".into(),
        Value::Array(
            md.dependencies
                .iter()
                .map(|d| {
                    let mut dm = Map::new();
                    dm.insert("Name".into(), d.name.clone().into());
                    dm.insert("Version".into(), d.version.clone().into());
                    dm.insert("Repository".into(), d.repository.clone().into());
                    dm.insert("Condition".into(), d.condition.clone().into());
                    dm.insert("Tags".into(), strings(&d.tags));
                    dm.insert("Enabled".into(), d.enabled.into());
                    dm.insert("ImportValues".into(), Value::Array(d.import_values.clone()));
                    dm.insert("Alias".into(), d.alias.clone().into());
                    Value::Object(dm)
                })
                .collect(),
        ),
    );
    m.insert("Type".into(), md.chart_type.clone().into());
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, data: &str) -> File {
        File {
            name: name.into(),
            data: data.as_bytes().to_vec(),
        }
    }

    #[test]
    fn files_are_sorted_into_their_roles_and_subcharts_load_from_directories() -> Result<(), Error>
    {
        let chart = load_files(vec![
            file(
                "Chart.yaml",
                "apiVersion: v2\nname: top\nversion: 1.0.0\nappVersion: 1.10\n",
            ),
            file("values.yaml", "a: 1\n"),
            file("templates/cm.yaml", "kind: ConfigMap\n"),
            file("files/x.txt", "x"),
            file("charts/sub/Chart.yaml", "name: sub\nversion: 0.1.0\n"),
            file("charts/sub/templates/a.yaml", "a"),
            file("charts/_skip/Chart.yaml", "name: skip\nversion: 0.1.0\n"),
        ])?;
        assert_eq!(chart.metadata.app_version, "1.10");
        assert_eq!(chart.templates.len(), 1);
        assert_eq!(chart.files, vec![file("files/x.txt", "x")]);
        assert_eq!(chart.dependencies.len(), 1);
        assert_eq!(chart.dependencies[0].metadata.api_version, "v1");
        assert_eq!(chart.dependencies[0].templates[0].name, "templates/a.yaml");
        Ok(())
    }

    #[test]
    fn v1_requirements_become_dependencies_and_stay_in_files() -> Result<(), Error> {
        let chart = load_files(vec![
            file("Chart.yaml", "name: old\nversion: 1.0.0\n"),
            file(
                "requirements.yaml",
                "dependencies:\n- name: db\n  version: 1.x\n  condition: db.enabled\n",
            ),
        ])?;
        assert_eq!(chart.metadata.dependencies[0].condition, "db.enabled");
        assert_eq!(chart.files[0].name, "requirements.yaml");
        Ok(())
    }

    #[test]
    fn invalid_charts_are_refused_with_helms_message() {
        let err = load_files(vec![file("Chart.yaml", "apiVersion: v2\nname: x\n")]);
        assert!(matches!(err, Err(Error::Invalid(m)) if m.contains("version is required")));
        let err = load_files(vec![file("values.yaml", "a: 1\n")]);
        assert!(matches!(err, Err(Error::Invalid(m)) if m == "Chart.yaml file is missing"));
        let err = load_files(vec![
            file("Chart.yaml", "name: x\nversion: 1.0.0\n"),
            file("charts/README.md", "stray"),
        ]);
        assert!(matches!(err, Err(Error::Subchart { .. })));
    }

    #[test]
    fn symbolic_links_out_of_the_chart_or_into_a_loop_are_refused()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let chart = dir.path().join("c");
        std::fs::create_dir_all(chart.join("templates"))?;
        std::fs::write(chart.join("Chart.yaml"), "name: c\nversion: 1.0.0\n")?;
        std::fs::write(dir.path().join("secret"), "s")?;
        std::os::unix::fs::symlink(chart.join("Chart.yaml"), chart.join("inside.yaml"))?;
        let loaded = load_dir(&chart)?;
        assert_eq!(loaded.files[0].name, "inside.yaml");
        std::os::unix::fs::symlink(dir.path().join("secret"), chart.join("out"))?;
        assert!(matches!(load_dir(&chart), Err(Error::Escape { path }) if path == "out"));
        std::fs::remove_file(chart.join("out"))?;
        std::os::unix::fs::symlink(&chart, chart.join("templates/loop"))?;
        assert!(
            matches!(load_dir(&chart), Err(Error::Escape { path }) if path == "templates/loop")
        );
        Ok(())
    }

    #[test]
    fn chart_api_v3_and_unknown_versions_are_refused() {
        for (v, msg) in [
            ("v3", "not supported yet"),
            ("v9", "unsupported chart version"),
        ] {
            let err = load_entries(vec![file(
                "Chart.yaml",
                &format!("apiVersion: {v}\nname: x\nversion: 1.0.0\n"),
            )]);
            assert!(
                matches!(&err, Err(Error::Invalid(m)) if m.contains(msg)),
                "{err:?}"
            );
        }
    }

    #[test]
    fn entries_apply_the_helmignore() -> Result<(), Error> {
        let chart = load_entries(vec![
            file("Chart.yaml", "name: x\nversion: 1.0.0\n"),
            file(".helmignore", "*.md\nci/\n"),
            file("README.md", "r"),
            file("ci/values.yaml", "v"),
            file("templates/.hidden", "h"),
            file("LICENSE", "l"),
        ])?;
        let names: Vec<&str> = chart.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, vec![".helmignore", "LICENSE"]);
        assert!(chart.templates.is_empty());
        Ok(())
    }
}
