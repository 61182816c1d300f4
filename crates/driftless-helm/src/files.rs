//! `.Files`: a chart's files as its templates see them, with Helm's helpers (`Get`, `GetBytes`,
//! `Glob`, `Lines`, and the maps behind `AsConfig` and `AsSecrets`).
//!
//! `.Files` only holds the chart's own files (see [`crate::Chart::files`]): a template cannot read
//! outside its chart, nor a file `.helmignore` leaves out.

use std::collections::BTreeMap;

use base64::Engine as _;
use regex::Regex;

use crate::file::File;

/// A chart's files by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Files {
    files: BTreeMap<String, Vec<u8>>,
}

impl Files {
    /// The files of a chart.
    pub fn new(files: &[File]) -> Self {
        Files {
            files: files
                .iter()
                .map(|f| (f.name.clone(), f.data.clone()))
                .collect(),
        }
    }

    /// The names, in order (Go's templates range over a map in key order).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// `.Files.GetBytes`: the content, empty when there is no such file.
    pub fn get_bytes(&self, name: &str) -> &[u8] {
        self.files.get(name).map_or(&[], Vec::as_slice)
    }

    /// `.Files.Get`: the content as text (invalid UTF-8 replaced, where Go keeps the bytes).
    pub fn get(&self, name: &str) -> String {
        String::from_utf8_lossy(self.get_bytes(name)).into_owned()
    }

    /// `.Files.Glob`: the files whose name matches `pattern`, in `gobwas/glob` syntax with `/`
    /// as separator (`*` and `?` stay within a path element, `**` crosses them, `[a-z]`,
    /// `[!a-z]`, `{a,b}`, `\` escapes). A pattern that does not compile matches every file, as
    /// in Helm.
    pub fn glob(&self, pattern: &str) -> Files {
        let re = glob_regex(pattern);
        Files {
            files: self
                .files
                .iter()
                .filter(|(name, _)| re.as_ref().is_none_or(|re| re.is_match(name)))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }

    /// `.Files.Lines`: the file's lines (a final newline does not make an empty last line).
    pub fn lines(&self, name: &str) -> Vec<String> {
        let data = self.get(name);
        if data.is_empty() {
            return Vec::new();
        }
        let data = data.strip_suffix('\n').unwrap_or(&data);
        data.split('\n').map(str::to_owned).collect()
    }

    /// The map `AsConfig` prints with `toYaml`: base name → content.
    pub fn as_config_entries(&self) -> BTreeMap<String, String> {
        self.files
            .iter()
            .map(|(k, v)| (base(k).to_owned(), String::from_utf8_lossy(v).into_owned()))
            .collect()
    }

    /// The map `AsSecrets` prints with `toYaml`: base name → content in base64.
    pub fn as_secrets_entries(&self) -> BTreeMap<String, String> {
        self.files
            .iter()
            .map(|(k, v)| {
                (
                    base(k).to_owned(),
                    base64::engine::general_purpose::STANDARD.encode(v),
                )
            })
            .collect()
    }
}

fn base(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// The regex of a `gobwas/glob` pattern; `None` (match all) when it does not compile.
fn glob_regex(pattern: &str) -> Option<Regex> {
    let chars: Vec<char> = pattern.chars().collect();
    let (body, end) = convert(&chars, 0, false)?;
    if end != chars.len() {
        return None;
    }
    Regex::new(&format!("^(?s:{body})$")).ok()
}

/// Converts from `i` until the end (or, inside braces, until the closing `}`); returns the
/// regex text and where it stopped.
fn convert(p: &[char], mut i: usize, in_braces: bool) -> Option<(String, usize)> {
    let mut out = String::new();
    while i < p.len() {
        match p[i] {
            '*' if p.get(i + 1) == Some(&'*') => {
                out.push_str(".*");
                i += 2;
            }
            '*' => {
                out.push_str("[^/]*");
                i += 1;
            }
            '?' => {
                out.push_str("[^/]");
                i += 1;
            }
            '\\' => {
                let c = *p.get(i + 1)?;
                out.push_str(&regex::escape(&c.to_string()));
                i += 2;
            }
            '[' => {
                let close = p[i + 1..].iter().position(|&c| c == ']')? + i + 1;
                let mut inner: String = p[i + 1..close].iter().collect();
                if inner.is_empty() {
                    return None;
                }
                let negated = inner.starts_with('!');
                if negated {
                    inner.remove(0);
                }
                let escaped: String = inner
                    .chars()
                    .map(|c| match c {
                        '\\' | '[' | ']' | '^' | '&' | '~' => format!("\\{c}"),
                        c => c.to_string(),
                    })
                    .collect();
                out.push_str(&format!("[{}{escaped}]", if negated { "^" } else { "" }));
                i = close + 1;
            }
            '{' => {
                let mut alternatives = Vec::new();
                i += 1;
                loop {
                    let (alt, next) = convert(p, i, true)?;
                    alternatives.push(alt);
                    match p.get(next) {
                        Some(',') => i = next + 1,
                        Some('}') => {
                            i = next + 1;
                            break;
                        }
                        _ => return None,
                    }
                }
                out.push_str(&format!("(?:{})", alternatives.join("|")));
            }
            ',' | '}' if in_braces => return Some((out, i)),
            c => {
                out.push_str(&regex::escape(&c.to_string()));
                i += 1;
            }
        }
    }
    if in_braces { None } else { Some((out, i)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> Files {
        Files::new(&[
            File {
                name: "dashboards/a.json".into(),
                data: b"{}\n".to_vec(),
            },
            File {
                name: "dashboards/sub/b.json".into(),
                data: b"x".to_vec(),
            },
            File {
                name: "files/conf.txt".into(),
                data: b"one\ntwo\n".to_vec(),
            },
            File {
                name: "README.md".into(),
                data: b"r".to_vec(),
            },
        ])
    }

    fn names(f: &Files) -> Vec<&str> {
        f.names().collect()
    }

    #[test]
    fn glob_stars_stay_in_a_path_element_and_double_stars_cross() {
        let f = files();
        assert_eq!(names(&f.glob("dashboards/*.json")), ["dashboards/a.json"]);
        assert_eq!(
            names(&f.glob("dashboards/**.json")),
            ["dashboards/a.json", "dashboards/sub/b.json"]
        );
        assert_eq!(
            names(&f.glob("{files,dashboards}/*.{txt,json}")),
            ["dashboards/a.json", "files/conf.txt"]
        );
        assert_eq!(names(&f.glob("[!d]*/*")), ["files/conf.txt"]);
        assert_eq!(names(&f.glob("README.?d")), ["README.md"]);
        assert_eq!(
            f.glob("{unclosed").names().count(),
            4,
            "a bad pattern matches all, as in Helm"
        );
    }

    #[test]
    fn get_lines_and_the_maps_of_as_config_and_as_secrets() {
        let f = files();
        assert_eq!(f.get("files/conf.txt"), "one\ntwo\n");
        assert_eq!(f.get("missing"), "");
        assert_eq!(f.lines("files/conf.txt"), ["one", "two"]);
        assert!(f.lines("missing").is_empty());
        let config = f.glob("dashboards/**").as_config_entries();
        assert_eq!(config.get("a.json").map(String::as_str), Some("{}\n"));
        assert_eq!(
            f.glob("README.md")
                .as_secrets_entries()
                .get("README.md")
                .map(String::as_str),
            Some("cg==")
        );
    }
}
