//! Folded block scalars (`>`) as kustomize's YAML reader (go-yaml v3) reads them, which departs
//! from the YAML specification: where a line of the scalar is followed by a more-indented one
//! (starting with a space or a tab after the scalar's indentation), the reader keeps one line
//! break more than the specification does (`>\n  a\n    b\n` reads as `"a\n\n  b\n"`). The
//! parser here follows the specification; [`with_reference_breaks`] rewrites the text so that
//! it reads as go-yaml reads the original: an empty line goes before each such line.

/// The text with an empty line before every more-indented line of a folded block scalar that
/// follows a line that is not; `None` when there is none.
pub fn with_reference_breaks(text: &str) -> Option<String> {
    if !text.contains('>') {
        return None;
    }
    let lines: Vec<&str> = text.split('\n').collect();
    let mut insert_before: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(explicit) = folded_header(lines[i]) else {
            i += 1;
            continue;
        };
        let header_indent = indent_of(lines[i]);
        let mut j = i + 1;
        // The content's indentation: explicit, or that of the first line holding something.
        let content = match explicit {
            Some(m) => header_indent + m,
            None => match lines[j..].iter().find(|l| !l.trim().is_empty()) {
                Some(l) => indent_of(l),
                None => break,
            },
        };
        if content <= header_indent && explicit.is_none() {
            i += 1;
            continue;
        }
        let mut previous_normal = false;
        while j < lines.len() {
            let line = lines[j].trim_end_matches('\r');
            if line.trim().is_empty() {
                j += 1;
                continue;
            }
            if indent_of(line) < content {
                break;
            }
            let more = matches!(line.as_bytes().get(content), Some(b' ' | b'\t'));
            if more && previous_normal {
                insert_before.push(j);
            }
            previous_normal = !more;
            j += 1;
        }
        i = j;
    }
    if insert_before.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len() + insert_before.len());
    let mut next = insert_before.iter().peekable();
    for (n, line) in lines.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        if next.peek() == Some(&&n) {
            next.next();
            out.push('\n');
        }
        out.push_str(line);
    }
    Some(out)
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// `Some(explicit indentation)` when `line` ends in a folded block scalar header (`key: >`,
/// `- >-`, `key: >2 # note`), `None` otherwise.
fn folded_header(line: &str) -> Option<Option<usize>> {
    let line = line.trim_end_matches('\r');
    let tokens: Vec<&str> = line
        .split_whitespace()
        .take_while(|t| !t.starts_with('#'))
        .collect();
    let (&header, before) = tokens.split_last()?;
    let rest = header.strip_prefix('>')?;
    if rest.len() > 2 || !rest.chars().all(|c| matches!(c, '+' | '-' | '1'..='9')) {
        return None;
    }
    let introduced = match before.last() {
        None => true,
        Some(t) => t.ends_with(':') || *t == "-" || *t == "---" || t.starts_with(['&', '!']),
    };
    if !introduced {
        return None;
    }
    let explicit = rest
        .chars()
        .find(char::is_ascii_digit)
        .and_then(|c| c.to_digit(10))
        .map(|d| d as usize);
    Some(explicit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_a_line_before_more_indented_lines_of_folded_scalars() {
        let text = "a: >\n  more\n    indented\n  x\n    y\nb: |\n  keep\n    as is\n";
        assert_eq!(
            with_reference_breaks(text).as_deref(),
            Some("a: >\n  more\n\n    indented\n  x\n\n    y\nb: |\n  keep\n    as is\n")
        );
        assert_eq!(
            with_reference_breaks("c: >2\n    lead\n  back\n  \tx\n").as_deref(),
            Some("c: >2\n    lead\n  back\n\n  \tx\n")
        );
        assert_eq!(
            with_reference_breaks("a: >\n  one\n  two\nb: a > b\n"),
            None
        );
    }
}
