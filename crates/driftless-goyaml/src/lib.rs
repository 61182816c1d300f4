//! The YAML encoder of `sigs.k8s.io/yaml`, byte for byte: a value encoded as JSON, re-encoded as
//! YAML by go-yaml v2. It writes `kustomize build`'s output and Helm's `toYaml` /
//! `.Files.AsConfig`; `driftless-kustomize` and `driftless-helm` share it. Pure: only
//! `serde_json` values in, text out.

mod emit;
pub mod scalar;

pub use emit::{to_yaml, to_yaml_stream, unreadable_literal};

/// YAML's line folding of a quoted scalar, for NEL (U+0085) as the only line break: Go's JSON
/// leaves NEL unescaped, and the YAML reader of the round trip folds it (the spaces and tabs
/// around a run of breaks go, one break becomes a space, and n breaks n - 1 newlines).
pub fn fold_nel(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{85}' {
            out.push(c);
            continue;
        }
        while out.ends_with([' ', '\t']) {
            out.pop();
        }
        let mut breaks = 1;
        while let Some(&next) = chars.peek() {
            match next {
                '\u{85}' => breaks += 1,
                ' ' | '\t' => {}
                _ => break,
            }
            chars.next();
        }
        if breaks == 1 {
            out.push(' ');
        } else {
            out.extend(std::iter::repeat_n('\n', breaks - 1));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nel_folds_as_a_yaml_reader_folds_a_line_break() {
        assert_eq!(fold_nel("x\u{85}y"), "x y");
        assert_eq!(fold_nel("x \t\u{85} y"), "x y");
        assert_eq!(fold_nel("x\u{85}\u{85}\u{85}y"), "x\n\ny");
        assert_eq!(fold_nel("no break"), "no break");
    }

    #[test]
    fn a_multi_line_scalar_document_is_a_literal_block_indented_by_two() {
        let v = serde_json::Value::String("a\nb".into());
        assert_eq!(to_yaml(&v), "|-\n  a\n  b\n");
    }
}
