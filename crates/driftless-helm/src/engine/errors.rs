//! Helm's rewording of Go's template errors (`cleanupParseError`, `reformatExecErrorMsg`).

use super::funcs::{WARN_END, WARN_START};

/// A parse error of `file`: `parse error at (FILE:LINE): MESSAGE`.
pub(crate) fn parse_error(file: &str, err: &str) -> String {
    let tokens: Vec<&str> = err.split(": ").collect();
    if tokens.len() == 1 {
        return format!("parse error in ({file}): {err}");
    }
    format!(
        "parse error at ({}): {}",
        tokens[1],
        tokens.last().copied().unwrap_or_default()
    )
}

/// An execution error of `file`, as Helm rewords it: a `required`/`fail` message as
/// `execution error at (FILE:LINE:COL): MESSAGE`; other errors as the chain of template
/// locations, functions and messages; a function's own error as Go's message.
pub(crate) fn exec_error(file: &str, err: &str) -> String {
    if !err.starts_with("template: ") {
        return err.to_owned();
    }
    let tokens: Vec<&str> = err.splitn(3, ": ").collect();
    if tokens.len() != 3 {
        return format!("execution error in ({file}): {err}");
    }
    if let Some(start) = tokens[2].find(WARN_START) {
        let rest = &tokens[2][start + WARN_START.len()..];
        if let Some(end) = rest.rfind(WARN_END) {
            return format!("execution error at ({}): {}", tokens[1], &rest[..end]);
        }
    }
    let mut parts: Vec<Traced> = Vec::new();
    let mut current = err;
    loop {
        let Some(t) = parse_traced(current) else {
            return err.to_owned();
        };
        if parts.last() != Some(&t.0) {
            parts.push(t.0.clone());
        }
        match t.1 {
            Next::End => break,
            Next::Nested(rest) => current = rest,
            Next::Opaque => return err.to_owned(),
        }
    }
    let mut out = String::new();
    for p in parts {
        if !p.location.is_empty() {
            out.push_str(&format!("{}\n  ", p.location));
        }
        if !p.function.is_empty() {
            out.push_str(&format!("{}\n    ", p.function));
        }
        if !p.message.is_empty() {
            out.push_str(&format!("{}\n", p.message));
        }
    }
    out.trim().to_owned()
}

#[derive(Debug, Clone, PartialEq)]
struct Traced {
    location: String,
    function: String,
    message: String,
}

enum Next<'a> {
    End,
    Nested(&'a str),
    Opaque,
}

/// One link of Go's error chain as Helm's `parseTemplateExecErrorString` reads it, and what
/// the chain holds after it: the error a function returned (wrapped with `%w`) is the next
/// link; only a nested template error (from `include`) reads as a template error again.
fn parse_traced(s: &str) -> Option<(Traced, Next<'_>)> {
    let rest = s.strip_prefix("template: ")?;
    if rest.starts_with("no template ") {
        return Some((
            Traced {
                location: String::new(),
                function: String::new(),
                message: s.to_owned(),
            },
            Next::End,
        ));
    }
    if let Some((name, after)) = rest.split_once(": executing ")
        && let Some(after) = after.strip_prefix('"')
        && let Some(end) = after.find('"')
    {
        let function = &after[..end];
        let after_fn = after[end + 1..].strip_prefix(" at <")?;
        let (loc, msg) = after_fn.split_once(">: ")?;
        let cut = msg.find(" template:").map_or(msg, |i| &msg[..i]);
        let next = match msg.strip_prefix("error calling ") {
            Some(called) => match called.split_once(": ") {
                Some((_, inner)) if inner.starts_with("template: ") => Next::Nested(inner),
                _ => Next::Opaque,
            },
            None => Next::End,
        };
        return Some((
            Traced {
                location: name.to_owned(),
                function: format!("executing \"{function}\" at <{loc}>:"),
                message: cut.to_owned(),
            },
            next,
        ));
    }
    let sep = rest.rfind(": ")?;
    let msg = &rest[sep + 2..];
    let cut = msg.find(" template:").map_or(msg, |i| &msg[..i]);
    Some((
        Traced {
            location: rest[..sep].to_owned(),
            function: String::new(),
            message: cut.to_owned(),
        },
        Next::End,
    ))
}
