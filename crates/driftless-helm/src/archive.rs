//! Chart archives (`charts/<name>.tgz`): a gzipped tar whose entries sit under one top
//! directory, read as Helm's `LoadArchiveFiles` reads them (no `.helmignore`).

use std::io::Read;

use crate::Error;
use crate::file::{File, MAX_CHART_SIZE, strip_bom};

/// The files of a chart archive, the top directory stripped.
///
/// # Errors
/// Not a gzipped tar, an absolute path or one leading out of the chart, `Chart.yaml` outside
/// the top directory, more than [`MAX_CHART_SIZE`] bytes, or no files.
pub fn archive_files(bytes: &[u8]) -> Result<Vec<File>, Error> {
    let archive_err = |m: String| Error::Archive(m);
    let gz = flate2::read::GzDecoder::new(bytes);
    let mut tar = tar::Archive::new(gz);
    let mut files = Vec::new();
    let mut remaining = MAX_CHART_SIZE;
    let entries = tar.entries().map_err(|e| archive_err(e.to_string()))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| archive_err(e.to_string()))?;
        let kind = entry.header().entry_type();
        if kind.is_dir() || kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
            continue;
        }
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let delimiter = if raw.contains('\\') { '\\' } else { '/' };
        let parts: Vec<&str> = raw.split(delimiter).collect();
        let name = parts.get(1..).unwrap_or_default().join("/");
        if name.starts_with('/') {
            return Err(archive_err(
                "chart illegally contains absolute paths".into(),
            ));
        }
        let name = clean(&name);
        if name == "." {
            return Err(archive_err(format!(
                "chart illegally contains content outside the base directory: {raw:?}"
            )));
        }
        if name.starts_with("..") {
            return Err(archive_err(
                "chart illegally references parent directory".into(),
            ));
        }
        if parts.first() == Some(&"Chart.yaml") {
            return Err(archive_err("chart yaml not in base directory".into()));
        }
        let mut data = Vec::new();
        let read = (&mut entry)
            .take(remaining + 1)
            .read_to_end(&mut data)
            .map_err(|e| archive_err(e.to_string()))? as u64;
        if read > remaining {
            return Err(Error::TooLarge {
                limit: MAX_CHART_SIZE,
            });
        }
        remaining -= read;
        files.push(File {
            name,
            data: strip_bom(data),
        });
    }
    if files.is_empty() {
        return Err(archive_err("no files in chart archive".into()));
    }
    Ok(files)
}

/// Go's `path.Clean` for relative paths.
fn clean(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|p| *p != "..") {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            p => out.push(p),
        }
    }
    if out.is_empty() {
        ".".into()
    } else {
        out.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::load_archive;

    fn tgz(entries: &[(&str, &str)]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut b = tar::Builder::new(gz);
        for (name, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            let _ = b.append_data(&mut h, name, data.as_bytes());
        }
        b.into_inner()
            .and_then(|gz| gz.finish())
            .unwrap_or_default()
    }

    #[test]
    fn an_archive_loads_with_its_top_directory_stripped() -> Result<(), Error> {
        let chart = load_archive(&tgz(&[
            (
                "sub/Chart.yaml",
                "apiVersion: v2\nname: sub\nversion: 1.2.3\n",
            ),
            ("sub/templates/a.yaml", "kind: A\n"),
            ("sub/README.md", "kept: archives ignore no files"),
        ]))?;
        assert_eq!(chart.name(), "sub");
        assert_eq!(chart.templates[0].name, "templates/a.yaml");
        assert_eq!(chart.files[0].name, "README.md");
        Ok(())
    }

    #[test]
    fn archives_escaping_their_directory_or_not_gzip_are_refused() {
        assert!(load_archive(&tgz(&[("sub/../../x", "x")])).is_err());
        assert!(load_archive(&tgz(&[("Chart.yaml", "name: x")])).is_err());
        assert!(load_archive(b"not gzip").is_err());
    }
}
