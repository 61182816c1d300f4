//! The YAML encoder of `sigs.k8s.io/yaml` (what Helm's `toYaml` and `.Files.AsConfig` print).
//!
//! The same encoder writes `kustomize build`'s output; this module is the Helm renderer's own
//! copy of the writer that `driftless-kustomize` uses, so that neither crate depends on the
//! other.

mod emit;
mod scalar;

pub(crate) use emit::to_yaml;

/// YAML's line folding of a quoted scalar, for NEL (U+0085) as the only line break: Go's JSON
/// leaves NEL unescaped, and the YAML reader of the round trip folds it (the spaces and tabs
/// around a run of breaks go, one break becomes a space, and n breaks n - 1 newlines).
fn fold_nel(s: &str) -> String {
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
