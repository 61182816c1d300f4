//! Prepared copies of a case's chart for the reference:
//!
//! - the *probe* copy adds one template that prints, base64-encoded JSON, what every chart's
//!   templates see (`.Values`, `.Chart`, `.Files` (names and SHA-256 of contents), `.Subcharts`) and `.Release` and
//!   `.Capabilities`, which is compared with Driftless's render data;
//! - the *static* copy replaces every template of every chart with action-free YAML derived from
//!   its path (kinds in and out of Helm's install order, several documents, `---` with trailing
//!   text, blank documents and lines, install/upgrade/test/unknown hooks with weights), so that
//!   `helm template`'s whole output, which templates are rendered and how they are ordered,
//!   split, headed and hooked, with the charts' real `crds/`, is compared byte for byte without
//!   a template engine. Partials become empty.

use std::path::Path;

use crate::Result;

/// The probe template's file name in the top chart's `templates/`.
/// Placed deep and named to be executed first (Helm executes templates deepest path first, then
/// in reverse name order), so that it sees the data before any template changes it (`set` on
/// `.Values`, `tpl` adding `Template` to the map it is given).
pub const PROBE: &str = "zz/zz/zz/zz/zz/zz/zz/zz/zz/zz/zzzz-driftless-probe.yaml";

const PROBE_TEMPLATE: &str = r#"{{- define "driftless.probe.tree" -}}
{{- $files := dict -}}
{{- range $name, $_ := .Files }}{{ $_ := set $files $name ($.Files.Get $name | sha256sum) }}{{ end -}}
{{- $subs := dict -}}
{{- range $name, $sub := .Subcharts }}{{ $_ := set $subs $name (include "driftless.probe.tree" $sub | fromJson) }}{{ end -}}
{{- toJson (dict "chart" .Chart "values" .Values "files" $files "subcharts" $subs) -}}
{{- end -}}
apiVersion: v1
kind: DriftlessProbe
metadata:
  name: driftless-probe
data: {{ dict "tree" (include "driftless.probe.tree" . | fromJson) "release" .Release "capabilities" .Capabilities | toJson | b64enc | quote }}
"#;

/// Copies the directory `from` to `to` (regular files and directories only).
pub fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let path = e.path();
        let target = to.join(e.file_name());
        if path.is_dir() {
            copy_dir(&path, &target)?;
        } else {
            std::fs::copy(&path, &target)?;
        }
    }
    Ok(())
}

/// Adds the probe template to the chart at `chart`.
pub fn add_probe(chart: &Path) -> Result<()> {
    let path = chart.join("templates").join(PROBE);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, PROBE_TEMPLATE)?;
    Ok(())
}

/// Replaces the templates of the chart at `chart` and of its subchart directories with static
/// YAML. Returns false when a subchart is an archive (its templates cannot be replaced).
pub fn make_static(chart: &Path) -> Result<bool> {
    let templates = chart.join("templates");
    if templates.is_dir() {
        rewrite(&templates, "templates")?;
    }
    let mut ok = true;
    let charts = chart.join("charts");
    if charts.is_dir() {
        for e in std::fs::read_dir(&charts)? {
            let path = e?.path();
            if path.is_dir() {
                ok &= make_static(&path)?;
            } else if path.extension().is_some_and(|x| x == "tgz") {
                ok = false;
            }
        }
    }
    Ok(ok)
}

fn rewrite(dir: &Path, rel: &str) -> Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let path = e.path();
        let name = format!("{rel}/{}", e.file_name().to_string_lossy());
        if path.is_dir() {
            rewrite(&path, &name)?;
        } else {
            std::fs::write(&path, static_template(&name))?;
        }
    }
    Ok(())
}

/// Packs each of `dirs` (subchart directories, relative to `chart`) into
/// `<dir>-<n>.tgz` beside it, as `helm package` lays an archive out (entries under the chart's
/// directory name), and removes the directory.
pub fn pack(chart: &Path, dirs: &[String]) -> Result<()> {
    for dir in dirs {
        let path = chart.join(dir);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or("pack: no directory name")?;
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        tar.append_dir_all(&name, &path)?;
        let bytes = tar.into_inner()?.finish()?;
        std::fs::write(path.with_file_name(format!("{name}-packed.tgz")), bytes)?;
        std::fs::remove_dir_all(&path)?;
    }
    Ok(())
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

const KINDS: &[&str] = &[
    "ConfigMap",
    "Deployment",
    "Service",
    "ServiceAccount",
    "Zeta",
    "Alpha",
    "Job",
    "CustomResourceDefinition",
    "Secret",
    "Pod",
    "Namespace",
];

/// Action-free content for the template at `rel`, varied by a hash of the path.
pub fn static_template(rel: &str) -> String {
    let base = rel.rsplit('/').next().unwrap_or(rel);
    if base.starts_with('_') {
        return String::new();
    }
    if base == "NOTES.txt" {
        return format!("Notes of {rel}\n");
    }
    let h = fnv(rel);
    if h.is_multiple_of(13) {
        return "\n  \n".into();
    }
    let slug: String = rel
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let mut out = String::new();
    if h.is_multiple_of(4) {
        out.push_str("---\n");
    }
    let docs = 1 + (h % 3) as usize;
    for i in 0..docs {
        if i > 0 {
            out.push_str(match (h >> i) % 3 {
                0 => "---\n",
                1 => "--- # next document\n",
                _ => "---   \t\n",
            });
        }
        let kind = KINDS[((h >> (4 * i + 3)) % KINDS.len() as u64) as usize];
        let hook = match (h >> (8 + i)) % 9 {
            0 => format!(
                "  annotations:\n    helm.sh/hook: pre-install,pre-upgrade\n    helm.sh/hook-weight: \"{}\"\n    helm.sh/hook-delete-policy: before-hook-creation\n",
                ((h >> 12) % 7) as i64 - 3
            ),
            1 => "  annotations:\n    helm.sh/hook: test\n".into(),
            2 => "  annotations:\n    helm.sh/hook: post-install\n".into(),
            3 => "  annotations:\n    helm.sh/hook: pre-fly\n".into(),
            4 => "  annotations:\n    example.com/plain: \"yes\"\n".into(),
            _ => String::new(),
        };
        out.push_str(&format!(
            "apiVersion: v1\nkind: {kind}\nmetadata:\n  name: {slug}-{i}\n{hook}data:\n  source: {rel}\n"
        ));
        if (h >> (16 + i)) & 1 == 1 {
            out.push_str("\n\n");
        }
    }
    if h.is_multiple_of(6) {
        out.push_str("---\n");
    }
    if (h >> 20).is_multiple_of(5) {
        // A document of comments only: not blank, so Helm keeps it, as a manifest of no kind.
        out.push_str("---\n# only a comment\n");
    }
    out
}
