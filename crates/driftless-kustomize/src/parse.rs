//! Reading YAML documents into JSON values the way kustomize's reader sees them.
//!
//! kustomize reads with a YAML 1.2-style resolver: only `true`/`false` are booleans (`yes`
//! stays a string), while `0644` is still an octal integer. Keys keep their order; the writer
//! sorts them on output anyway.

use serde_json::Value;

/// A YAML document that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct YamlError {
    /// The file the document came from.
    pub file: String,
    /// What was wrong, with the parser's line and column.
    pub message: String,
}

/// The parser's options. Comments are not captured: a value never needs them, and capturing
/// them bounds how many may stand in a row where the parser looks ahead (between a key and its
/// value, or after the last node), which every kubebuilder scaffold exceeds.
fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        legacy_octal_numbers: true,
        strict_booleans: true,
        emit_comments: false,
    }
}

/// Parses every document of a YAML stream; empty documents are dropped.
pub fn parse_documents(text: &str, file: &str) -> Result<Vec<Value>, YamlError> {
    let rewritten = crate::folded::with_reference_breaks(text);
    let source = rewritten.as_deref().unwrap_or(text);
    let docs: Vec<Value> = serde_saphyr::from_multiple_with_options(source, options())
        .map_err(|e| yaml_error(file, &e))?;
    let mut docs: Vec<Value> = docs.into_iter().filter(|d| !d.is_null()).collect();
    drop_phantom_final_break(&mut docs, text);
    if text.contains('-') {
        for d in docs.iter_mut() {
            convert_timestamps(d, text);
        }
    }
    Ok(docs)
}

/// A block scalar (`|`, `>`, without `-`) whose last line is the last line of a text that does
/// not end in a line break has no final line break to keep: Go's YAML reader (kustomize's) reads
/// `k: |\n  a\n  b` as `"a\nb"`. The parser here reads it as if the break were there; this takes
/// that break off the stream's last scalar.
fn drop_phantom_final_break(docs: &mut [Value], text: &str) {
    if text.is_empty() || text.ends_with(['\n', '\r']) || !ends_in_block_scalar(text) {
        return;
    }
    let mut v = match docs.last_mut() {
        Some(v) => v,
        None => return,
    };
    loop {
        v = match v {
            Value::Object(m) => match m.values_mut().next_back() {
                Some(x) => x,
                None => return,
            },
            Value::Array(a) => match a.last_mut() {
                Some(x) => x,
                None => return,
            },
            Value::String(s) => {
                if s.ends_with('\n') {
                    s.pop();
                }
                return;
            }
            _ => return,
        };
    }
}

/// Whether the text's last line (which holds something) is content of a block scalar that
/// keeps or clips its final line break: the nearest line above it that is less indented than
/// every line below it and is not blank ends in a block scalar header such as `key: |`.
fn ends_in_block_scalar(text: &str) -> bool {
    let mut lines = text.split('\n').rev().map(|l| l.trim_end_matches('\r'));
    let Some(last) = lines.next() else {
        return false;
    };
    if last.trim().is_empty() {
        return false;
    }
    let indent = |l: &str| l.len() - l.trim_start_matches(' ').len();
    let mut min = indent(last);
    for line in lines {
        if line.trim().is_empty() {
            continue;
        }
        let i = indent(line);
        if i < min {
            match block_header(line) {
                Some(keeps_break) => return keeps_break,
                None if i == 0 => return false,
                None => min = i,
            }
        }
    }
    false
}

/// `Some(true)` when `line` ends in a block scalar header that clips or keeps the final line
/// break (`|`, `>+`, `|2`...), `Some(false)` for one that strips it (`|-`), `None` otherwise.
fn block_header(line: &str) -> Option<bool> {
    let tokens: Vec<&str> = line
        .split_whitespace()
        .take_while(|t| !t.starts_with('#'))
        .collect();
    let (&header, before) = tokens.split_last()?;
    let mut chars = header.chars();
    if !matches!(chars.next(), Some('|' | '>')) {
        return None;
    }
    let rest: Vec<char> = chars.collect();
    if rest.len() > 2 || !rest.iter().all(|c| matches!(c, '+' | '-' | '1'..='9')) {
        return None;
    }
    let introduced = match before.last() {
        None => true,
        Some(t) => t.ends_with(':') || *t == "-" || *t == "---" || t.starts_with(['&', '!']),
    };
    introduced.then_some(!rest.contains(&'-'))
}

/// kustomize's reader turns unquoted YAML timestamps into times, which it writes back in RFC
/// 3339 form (`2020-01-01` becomes `2020-01-01T00:00:00Z`). The parser here hands back strings
/// without saying whether they were quoted, so a timestamp-shaped string is converted when the
/// source holds it unquoted.
fn convert_timestamps(v: &mut Value, text: &str) {
    match v {
        Value::Array(a) => {
            for x in a.iter_mut() {
                if let Value::String(s) = x {
                    convert_one(s, text, None);
                } else {
                    convert_timestamps(x, text);
                }
            }
        }
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if let Value::String(s) = x {
                    convert_one(s, text, Some(k));
                } else {
                    convert_timestamps(x, text);
                }
            }
        }
        _ => {}
    }
}

fn convert_one(s: &mut String, text: &str, key: Option<&str>) {
    if let Some(t) = rfc3339(s)
        && appears_unquoted(text, s, key)
    {
        *s = t;
    }
}

/// Whether `s` occurs unquoted in `text`, after `key:` on its line when the key is known.
fn appears_unquoted(text: &str, s: &str, key: Option<&str>) -> bool {
    text.match_indices(s).any(|(i, _)| {
        let line_start = text[..i].rfind('\n').map_or(0, |p| p + 1);
        let head = text[line_start..i].trim_end_matches([' ', '\t']);
        let after = text[i + s.len()..].chars().next();
        let unquoted_end = matches!(
            after,
            None | Some('\n' | '\r' | ' ' | '\t' | '#' | ',' | ']' | '}')
        );
        let keyed = match key {
            Some(k) => head.strip_suffix(':').is_some_and(|h| {
                h.trim_start()
                    .trim_start_matches("- ")
                    .trim_matches(['"', '\''])
                    == k
            }),
            None => head.ends_with('-') || head.ends_with('[') || head.ends_with(','),
        };
        keyed && unquoted_end && head.len() < i - line_start
    })
}

/// A YAML timestamp (`2006-1-2`, `2006-1-2T15:4:5.999Z07:00`, `2006-1-2t…`, `2006-1-2 15:4:5`)
/// in Go's RFC 3339 output form, or `None` when `s` is not one.
fn rfc3339(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut i = 0;
    let expect = |c: u8, i: &mut usize| -> Option<()> { (b.get(*i) == Some(&c)).then(|| *i += 1) };
    let num2 = |i: &mut usize, min: usize, max: usize| -> Option<u32> {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() && *i - start < max {
            *i += 1;
        }
        if *i - start < min {
            return None;
        }
        s.get(start..*i)?.parse().ok()
    };
    let year = num2(&mut i, 4, 4)?;
    expect(b'-', &mut i)?;
    let month = num2(&mut i, 1, 2)?;
    expect(b'-', &mut i)?;
    let day = num2(&mut i, 1, 2)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let date = format!("{year:04}-{month:02}-{day:02}");
    if i == b.len() {
        return Some(format!("{date}T00:00:00Z"));
    }
    let sep = *b.get(i)?;
    if !matches!(sep, b'T' | b't' | b' ') {
        return None;
    }
    i += 1;
    let hour = num2(&mut i, 1, 2)?;
    expect(b':', &mut i)?;
    let minute = num2(&mut i, 1, 2)?;
    expect(b':', &mut i)?;
    let second = num2(&mut i, 1, 2)?;
    let mut frac = String::new();
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        frac = s.get(start..i)?.trim_end_matches('0').to_string();
    }
    let zone = match s.get(i..)? {
        "" => "Z".to_string(),
        "Z" if sep != b' ' => "Z".to_string(),
        z if sep != b' '
            && (z.starts_with('+') || z.starts_with('-'))
            && z.len() == 6
            && z.as_bytes().get(3) == Some(&b':') =>
        {
            if &z[1..] == "00:00" {
                "Z".to_string()
            } else {
                z.to_string()
            }
        }
        _ => return None,
    };
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let frac = if frac.is_empty() {
        String::new()
    } else {
        format!(".{frac}")
    };
    Some(format!(
        "{date}T{hour:02}:{minute:02}:{second:02}{frac}{zone}"
    ))
}

/// The parser's message on one line (it adds a source snippet below the first line).
fn yaml_error(file: &str, e: &serde_saphyr::Error) -> YamlError {
    let text = e.to_string();
    let message = text
        .lines()
        .next()
        .unwrap_or("invalid YAML")
        .trim_start_matches("error: ")
        .replace(", set DuplicateKeyPolicy in Options if acceptable", "")
        .split(' ')
        .map(shorten)
        .collect::<Vec<_>>()
        .join(" ");
    YamlError {
        file: file.to_string(),
        message,
    }
}

/// A word of a parser message of at most 64 characters: the parser quotes the offending token,
/// which in a hostile file can be a number of a hundred thousand digits.
fn shorten(word: &str) -> String {
    let count = word.chars().count();
    if count <= 64 {
        return word.to_string();
    }
    let start: String = word.chars().take(32).collect();
    format!("{start}… ({count} characters)")
}

/// Parses a single YAML document (an empty one reads as `null`); a repeated key keeps its last
/// value, as kustomize's reader of kustomization files does.
pub fn parse_one(text: &str, file: &str) -> Result<Value, YamlError> {
    parse_single(text, file, options())
}

/// Parses a kustomization file. kustomize reads these with a YAML 1.1 resolver (go-yaml v2
/// behind `sigs.k8s.io/yaml`), unlike resources: a plain `yes`, `no`, `on`, `off`, `y` or `n` is
/// a boolean there, which a field that takes a string then refuses.
pub fn parse_kustomization(text: &str, file: &str) -> Result<Value, YamlError> {
    let mut opts = options();
    opts.strict_booleans = false;
    let mut v = parse_single(text, file, opts)?;
    fold_nel_everywhere(&mut v);
    Ok(v)
}

/// kustomize's YAML reading of a kustomization goes through a writer that leaves NEL (U+0085)
/// unescaped inside a quoted scalar and a reader that takes it for a line break there: each
/// string comes out folded as [`driftless_goyaml::fold_nel`] does.
fn fold_nel_everywhere(v: &mut Value) {
    match v {
        Value::String(s) if s.contains('\u{85}') => *s = driftless_goyaml::fold_nel(s),
        Value::Array(items) => items.iter_mut().for_each(fold_nel_everywhere),
        Value::Object(m) => m.values_mut().for_each(fold_nel_everywhere),
        _ => {}
    }
}

/// The source text of the plain scalar value of `key` in `text` (`key: 1.0 # note` gives
/// `1.0`, `key:` gives the empty string), for where kustomize keeps a scalar as it was written;
/// the first line that sets `key` is used.
pub fn scalar_spelling(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let rest = line.trim_start().trim_start_matches("- ");
        let after = [
            format!("{key}:"),
            format!("\"{key}\":"),
            format!("'{key}':"),
        ]
        .iter()
        .find_map(|k| rest.strip_prefix(k.as_str()))?;
        if !(after.is_empty() || after.starts_with([' ', '\t'])) {
            return None;
        }
        let value = match after.find(" #") {
            Some(i) => &after[..i],
            None => after,
        };
        Some(value.trim().to_string())
    })
}

/// Parses a patch: a strategic merge patch reads like resources, while a JSON 6902 patch (a
/// sequence) is converted to JSON by kustomize's YAML 1.1 reader, where a plain `off` or `yes` is
/// a boolean.
pub fn parse_patch(text: &str, file: &str) -> Result<Vec<Value>, YamlError> {
    let docs = parse_documents(text, file)?;
    if docs.len() == 1 && docs.first().is_some_and(Value::is_array) {
        let mut opts = options();
        opts.strict_booleans = false;
        return Ok(vec![parse_single(text, file, opts)?]);
    }
    Ok(docs)
}

fn parse_single(text: &str, file: &str, opts: serde_saphyr::Options) -> Result<Value, YamlError> {
    let mut opts = opts;
    opts.duplicate_keys = serde_saphyr::options::DuplicateKeyPolicy::LastWins;
    let rewritten = crate::folded::with_reference_breaks(text);
    let source = rewritten.as_deref().unwrap_or(text);
    let docs: Vec<Value> =
        serde_saphyr::from_multiple_with_options(source, opts).map_err(|e| yaml_error(file, &e))?;
    let mut docs: Vec<Value> = docs.into_iter().filter(|d| !d.is_null()).collect();
    drop_phantom_final_break(&mut docs, text);
    match docs.len() {
        0 => Ok(Value::Null),
        1 => Ok(docs.remove(0)),
        n => Err(YamlError {
            file: file.to_string(),
            message: format!("expected one document, found {n}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_like_kustomize() -> Result<(), YamlError> {
        let v = parse_one("a: yes\nb: 0644\nc: true\nd: ~\ne: 1.5\n", "x.yaml")?;
        assert_eq!(
            v,
            json!({"a": "yes", "b": 420, "c": true, "d": null, "e": 1.5})
        );
        Ok(())
    }

    #[test]
    fn converts_unquoted_timestamps_only() -> Result<(), YamlError> {
        let v = parse_documents(
            "a: 2020-01-01\nb: \"2020-01-02\"\nc: 2001-12-14t21:59:43.10-05:00\n",
            "x.yaml",
        )?;
        assert_eq!(
            v[0],
            json!({"a": "2020-01-01T00:00:00Z", "b": "2020-01-02", "c": "2001-12-14T21:59:43.1-05:00"})
        );
        Ok(())
    }

    #[test]
    fn reads_thousands_of_comment_lines() -> Result<(), YamlError> {
        // A kubebuilder scaffold's kustomization is mostly commented-out entries.
        let comments = |n: usize| -> String {
            (0..n)
                .map(|i| format!("#- x{i}.yaml\n  # indented {i}\n"))
                .collect()
        };
        let text = format!(
            "{}resources:\n{}- a.yaml\n{}namePrefix: p-\n{}",
            comments(3000),
            comments(3000),
            comments(3000),
            comments(3000)
        );
        let v = parse_one(&text, "kustomization.yaml")?;
        assert_eq!(v, json!({"resources": ["a.yaml"], "namePrefix": "p-"}));
        let docs = parse_documents(&text, "kustomization.yaml")?;
        assert_eq!(docs, vec![v]);
        Ok(())
    }

    #[test]
    fn a_block_scalar_at_the_end_of_the_text_has_no_final_break() -> Result<(), YamlError> {
        for (text, want) in [
            ("k: |\n  a\n  b", json!({"k": "a\nb"})),
            ("k: |+\n  a\n  b", json!({"k": "a\nb"})),
            ("k: >\n  a\n  b", json!({"k": "a b"})),
            ("k: |-\n  a\n  b", json!({"k": "a\nb"})),
            ("k: |\n  a\n  b\n", json!({"k": "a\nb\n"})),
            ("k: |\n  a\n    b", json!({"k": "a\n  b"})),
            ("k: | # note\n  a\n\n  b", json!({"k": "a\n\nb"})),
            ("- x\n- |2\n   a", json!(["x", " a"])),
            ("k: \"a\\n\"", json!({"k": "a\n"})),
        ] {
            assert_eq!(parse_one(text, "x.yaml")?, want, "{text:?}");
        }
        let docs = parse_documents("a: 1\n---\nm:\n  k: |\n    x\n  j: |\n    y", "x.yaml")?;
        assert_eq!(docs[1], json!({"m": {"k": "x\n", "j": "y"}}));
        let plain = parse_documents("m:\n  k: |\n    x\n  j: y\n  # c", "x.yaml")?;
        assert_eq!(plain[0], json!({"m": {"k": "x\n", "j": "y"}}));
        Ok(())
    }

    #[test]
    fn reads_kustomizations_with_yaml_1_1_booleans() -> Result<(), YamlError> {
        let text = "a: yes\nb: \"yes\"\nc: off\nd: y\ne: N\nf: true\ng: 0644\n";
        let v = parse_kustomization(text, "kustomization.yaml")?;
        assert_eq!(
            v,
            json!({"a": true, "b": "yes", "c": false, "d": true, "e": false, "f": true, "g": 420})
        );
        assert_eq!(parse_one(text, "r.yaml")?["a"], json!("yes"));
        Ok(())
    }

    #[test]
    fn reads_json_patches_with_yaml_1_1_booleans() -> Result<(), YamlError> {
        let ops = parse_patch("- op: add\n  path: /a\n  value: off\n", "p.yaml")?;
        assert_eq!(
            ops,
            vec![json!([{"op": "add", "path": "/a", "value": false}])]
        );
        let smp = parse_patch("kind: X\nvalue: off\n", "p.yaml")?;
        assert_eq!(smp, vec![json!({"kind": "X", "value": "off"})]);
        Ok(())
    }

    #[test]
    fn finds_the_spelling_of_a_scalar() {
        let text = "metadata:\n  annotations:\n    a: ~ # c\n    b:\n    \"c\": 1.0\n    d: Null\n";
        assert_eq!(scalar_spelling(text, "a").as_deref(), Some("~"));
        assert_eq!(scalar_spelling(text, "b").as_deref(), Some(""));
        assert_eq!(scalar_spelling(text, "c").as_deref(), Some("1.0"));
        assert_eq!(scalar_spelling(text, "d").as_deref(), Some("Null"));
        assert_eq!(scalar_spelling(text, "e"), None);
    }

    #[test]
    fn drops_empty_documents() -> Result<(), YamlError> {
        let v = parse_documents("---\na: 1\n---\n---\nb: 2\n", "x.yaml")?;
        assert_eq!(v, vec![json!({"a": 1}), json!({"b": 2})]);
        Ok(())
    }
}
