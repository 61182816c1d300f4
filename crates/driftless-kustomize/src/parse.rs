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

fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        legacy_octal_numbers: true,
        strict_booleans: true,
    }
}

/// Parses every document of a YAML stream; empty documents are dropped.
pub fn parse_documents(text: &str, file: &str) -> Result<Vec<Value>, YamlError> {
    let docs: Vec<Value> = serde_saphyr::from_multiple_with_options(text, options())
        .map_err(|e| yaml_error(file, &e))?;
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

/// The parser's message on one line (it adds a source snippet below the first line).
fn yaml_error(file: &str, e: &serde_saphyr::Error) -> YamlError {
    let text = e.to_string();
    let message = text
        .lines()
        .next()
        .unwrap_or("invalid YAML")
        .trim_start_matches("error: ")
        .to_string();
    YamlError {
        file: file.to_string(),
        message,
    }
}

/// Parses a single YAML document (an empty one reads as `null`); a repeated key keeps its last
/// value, as kustomize's reader of kustomization files does.
pub fn parse_one(text: &str, file: &str) -> Result<Value, YamlError> {
    let mut opts = options();
    opts.duplicate_keys = serde_saphyr::options::DuplicateKeyPolicy::LastWins;
    let docs: Vec<Value> =
        serde_saphyr::from_multiple_with_options(text, opts).map_err(|e| yaml_error(file, &e))?;
    let mut docs: Vec<Value> = docs.into_iter().filter(|d| !d.is_null()).collect();
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
    fn drops_empty_documents() -> Result<(), YamlError> {
        let v = parse_documents("---\na: 1\n---\n---\nb: 2\n", "x.yaml")?;
        assert_eq!(v, vec![json!({"a": 1}), json!({"b": 2})]);
        Ok(())
    }
}
